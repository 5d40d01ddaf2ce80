import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import ItemView from '../src/components/ItemView.svelte';
import { hexId, installFake, settle } from './fakeTauri';

const noop = () => undefined;
const position = { x: 10, y: 10 };

describe('attachments dropped on the item view', () => {
  it('shows the drop zone with the limit while dragging and attaches on drop', async () => {
    const fake = installFake();
    const id = hexId(4);
    fake.handle('attach_files', ({ paths }) => ({
      attachments: paths.map((p) => ({ name: p.split('/').pop() ?? p, size: 12 })),
      revision: 2,
    }));
    render(ItemView, { id, onedit: noop, ontrash: noop, onhistory: noop, onchanged: noop });
    await settle();
    expect(screen.getByTestId('attachment-limit').textContent).toContain('Up to 25 MiB each.');
    expect(screen.queryByTestId('attachment-drop-zone')).toBeNull();

    fake.emit('tauri://drag-enter', { paths: ['/home/me/report.pdf'], position });
    await settle();
    expect(screen.getByTestId('attachment-drop-zone').textContent).toContain('Drop to attach to “Item 000004”');
    expect(screen.getByTestId('attachment-drop-limit').textContent).toBe('Up to 25 MiB each.');

    fake.emit('tauri://drag-drop', { paths: ['/home/me/report.pdf'], position });
    await settle();
    expect(screen.queryByTestId('attachment-drop-zone')).toBeNull();
    expect(fake.callsTo('attach_files')).toEqual([{ id, paths: ['/home/me/report.pdf'] }]);
    expect(screen.getByTestId('item-attachment').dataset['name']).toBe('report.pdf');
  });

  it('hides the drop zone when the drag leaves', async () => {
    const fake = installFake();
    render(ItemView, { id: hexId(4), onedit: noop, ontrash: noop, onhistory: noop, onchanged: noop });
    await settle();
    fake.emit('tauri://drag-enter', { paths: ['/tmp/a.txt'], position });
    await settle();
    expect(screen.queryByTestId('attachment-drop-zone')).not.toBeNull();
    fake.emit('tauri://drag-leave', null);
    await settle();
    expect(screen.queryByTestId('attachment-drop-zone')).toBeNull();
    expect(fake.commandNames).not.toContain('attach_files');
  });
});
