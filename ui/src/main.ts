// Entry point. The same bundle serves the main window and the Quick Access
// window (see lib/windowKind.ts).
import { mount } from 'svelte';
import App from './App.svelte';
import QuickAccess from './components/QuickAccess.svelte';
import { isQuickAccessWindow } from './lib/windowKind';
import './styles/app.css';

const target = document.getElementById('app');
if (target) {
  mount(isQuickAccessWindow(window.location) ? QuickAccess : App, { target });
}
