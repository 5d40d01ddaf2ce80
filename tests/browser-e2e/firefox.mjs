#!/usr/bin/env node
// Firefox ESR + KeePassXC-Browser driver for Tessera's end-to-end tests.
//
// Starts Debian's Firefox ESR headless through puppeteer-core over WebDriver
// BiDi, in a fresh temporary profile, installs the KeePassXC-Browser extension
// (Debian's webext-keepassxc-browser, 1.8.4, Manifest V2) under a fixed
// moz-extension UUID, then reads JSON commands from stdin, one per line, and
// answers each with exactly one JSON line on stdout. Logs go to stderr.
//
// ENVIRONMENT (all optional except where the test needs them)
//   HOME                        passed to Firefox unchanged: Firefox reads the
//                               native-messaging manifest from
//                               $HOME/.mozilla/native-messaging-hosts/org.keepassxc.keepassxc_browser.json
//   TESSERA_E2E_HOSTS           comma-separated host names that resolve to
//                               127.0.0.1 (Firefox pref network.dns.localDomains)
//   TESSERA_E2E_FIREFOX         Firefox binary            (default /usr/bin/firefox-esr)
//   TESSERA_E2E_EXTENSION       unpacked extension dir    (default /usr/share/webext/keepassxc-browser)
//   TESSERA_E2E_EXTENSION_UUID  moz-extension:// UUID     (default 7e55e4a0-0000-4000-8000-00000000e2e0)
//   TESSERA_E2E_SETTINGS        JSON object merged over the extension settings the
//                               driver sets at start-up (see "EXTENSION SETTINGS")
//   TESSERA_E2E_VIEWPORT        WIDTHxHEIGHT of the page tab (default 1024x768)
//   TESSERA_E2E_DEBUG=1         verbose driver log, Firefox's own output and the
//                               extension's console on stderr
//
// START-UP
//   Before reading commands the driver prints one line:
//     {"ready":true,"firefox":"firefox/153.8.0","extension_id":"keepassxc-browser@keepassxc.org",
//      "uuid":"...","startup_ms":5200,"settings":{...}}
//   or {"ready":false,"error":"..."} and exits with status 1.
//
// PROTOCOL
//   Request:  {"cmd":"NAME", ...args, "id":ANY}     ("id" is optional and echoed back)
//   Reply:    {"id":ANY,"ok":true, ...results}  or  {"id":ANY,"ok":false,"error":"..."}
//   A line that is not JSON, an unknown command or a failing command gives an
//   ok:false reply; the driver keeps going. Commands run one at a time, in order.
//   EOF on stdin and SIGTERM are the same as {"cmd":"quit"}. If Firefox dies, the driver
//   prints {"ok":false,"error":"Firefox exited","event":"browser-disconnected"} and exits 2.
//
// COMMANDS (timeouts are in milliseconds)
//   ping                                    -> {}
//   popup_status  {timeout_ms=10000}        open the extension popup
//                                           (moz-extension://UUID/popups/popup.html, in its own tab,
//                                           closed again afterwards), wait until it left
//                                           "Checking status..." and report
//                                           -> {state, visible:[ids], texts:{id:text}, message, identifier}
//                                           state is the visible status block: "not-configured",
//                                           "error-encountered", "database-not-opened",
//                                           "configured-and-associated", "need-reconfigure",
//                                           "configured-not-associated" or "initial-state" (no answer yet);
//                                           message is the error text of that block (#error-message,
//                                           #database-error-message, #need-reconfigure-message) or null;
//                                           identifier is the association id shown when associated.
//   popup_connect {timeout_ms=10000}        open the popup and click "Connect" (#connect-button; in the
//                                           "need-reconfigure" state its "Reconnect" button, which does the
//                                           same). The extension sends `associate` and waits for the user's
//                                           approval in the app: the driver does not wait for that.
//                                           -> {clicked:"connect-button"|"reconnect-button", state_before}
//   popup_reload  {timeout_ms=10000}        open the popup and click "Reload" (#reload-status-button, in
//                                           "error-encountered") or the "Reopen database" button
//                                           (#reopen-database-button, "database-not-opened"), whichever is
//                                           shown, then wait for the status to be redrawn
//                                           -> {clicked:ID|null, state_before, ...status after (as popup_status)}
//   popup_lock    {timeout_ms=10000}        open the popup and click its "Lock database" button
//                                           -> {clicked, ...status after}
//   ext_status    {poll=false}              ask the extension's background for its state directly (what the
//                                           popup shows, as data). poll:true lets the extension ask the
//                                           backend first (get-databasehash/test-associate); poll:false
//                                           only reads the cached state
//                                           -> {status:{configured, associated, databaseClosed,
//                                               keePassXCAvailable, encryptionKeyUnrecognized, error, identifier}}
//   wait_associated {timeout_ms=30000}      poll the extension's cached state (no backend traffic) until it
//                                           is associated, e.g. after popup_connect once the user approved
//                                           -> {status, waited_ms}
//   reconnect                               what the popup's Reload button / the "reload_extension"
//                                           shortcut do: restart the native host (the extension closes the
//                                           port, Firefox starts a new host process) and send
//                                           change-public-keys again  -> {status}
//   settings      {set:{...}}               merge `set` into the extension's settings (as its options page
//                                           would) and return them -> {settings}
//   keyring       {set?:{...}}              read (and with `set`, replace) the extension's stored
//                                           associations, browser.storage.local "keyRing":
//                                           {DBHASH: {id, key, hash, created, lastUsed}}. With it a test can
//                                           carry an association into a new driver (a browser restart: the
//                                           profile is temporary) -> {keyring}
//   goto          {url, timeout_ms=15000}   open URL in the page tab (there is one page tab) -> {url, title}
//   reload        {timeout_ms=15000}        reload the page tab -> {url, title}. Firefox restores form
//                                           values on reload: use goto (e.g. with a new query string) to
//                                           see a fresh fill
//   url                                     -> {url, title}
//   wait_value    {selector, timeout_ms=10000, equals?}
//                                           poll the value of an input until it is non-empty (or equals
//                                           `equals`) -> {value, waited_ms}
//   values        {selectors:[...]}         -> {values:{selector: value|null}}
//   wait_selector {selector, timeout_ms=10000} -> {}
//   text          {selector="body"}         -> {text}   (innerText)
//   type          {selector, text, clear=true}  click the field and type with real key events
//   click         {selector}                real (trusted) mouse click on the element's centre
//   submit        {selector, timeout_ms=15000}  submit a form like a user: real click on the submit
//                                           button of the form `selector` (or of the form containing it,
//                                           or on `selector` itself when it is a button); presses Enter in
//                                           the form's last text/password field when it has no button.
//                                           Waits for the navigation when one happens -> {navigated, url}
//   save_banner   {action="new", timeout_ms=10000}
//                                           wait for KeePassXC-Browser's "save credentials" banner (shown
//                                           after submitting credentials it does not know) and click its
//                                           button: action "new" | "update" | "dismiss" | "none" (only look)
//                                           -> {appeared, username, buttons:{new,update,dismiss: enabled},
//                                               clicked, notification: {type, text}|null}
//                                           With a single-entry list "update" updates that entry; with more
//                                           entries it opens a list and the driver clicks the entry given by
//                                           `entry` (index, default 0). With "new", when the extension shows
//                                           its group chooser (setting defaultGroupAlwaysAsk) the driver
//                                           clicks the group named `group` (default: the first one).
//   fill          {selector?, method="icon"}
//                                           make the extension fill username+password:
//                                           "icon": real click on the KeePassXC icon the extension draws in
//                                           the username field `selector` (default: first field with an icon);
//                                           "shortcut": focus `selector` and send the extension's
//                                           fill_username_password command (its Alt+Shift+U shortcut /
//                                           context-menu entry); "autocomplete": click the field, ArrowDown,
//                                           Enter (picks the first entry of the extension's drop-down list).
//                                           Returns as soon as triggered (use wait_value) -> {method}
//   fill_totp     {selector, method="icon"} same for a TOTP field: "icon" clicks the extension's TOTP icon
//                                           in the field, "shortcut" focuses the field and sends fill_totp
//                                           (Alt+Shift+O / context menu). -> {method}
//   shortcut      {name, selector?}         focus `selector` and send one of the extension's keyboard-
//                                           shortcut / context-menu commands to the page: fill_username_password,
//                                           fill_password, fill_totp, show_password_generator (asks the backend
//                                           generate-password and fills the focused field), save_credentials,
//                                           redetect_fields, choose_credential_fields,
//                                           retrive_credentials_forced (sic), request_autotype,
//                                           reload_extension -> {}
//   page_state                              what the extension's content script sees in the page tab:
//                                           {database_state, credentials:[{login,name,uuid,has_totp}],
//                                            combinations, username_icons, totp_icons, banner}
//   screenshot    {path, target="page", full_page=false}
//                                           PNG of the page tab, or of the popup (target "popup": opens
//                                           it, waits for its status, clips to its content) -> {path}
//   quit                                    close Firefox and exit -> {} (then the process exits 0)
//
// EXTENSION SETTINGS
//   The driver saves these extension settings at start-up (TESSERA_E2E_SETTINGS or the `settings`
//   command can change them), each something a user can switch in the extension's options page:
//   - autoFillSingleEntry: true   "Automatically fill in single-credential entries": when the backend
//                                 returns exactly one entry for the page, the extension fills username
//                                 and password on page load. Off by default; without it a page with
//                                 credentials only gets the drop-down list / field icon.
//   - showGettingStartedGuideAlert: false, showTroubleshootingGuideAlert: false
//                                 hide the popup's help banners (links to keepassxc.org) so that the
//                                 popup shows just its status.
//   - checkUpdateKeePassXC: 0     never fetch api.github.com for the latest KeePassXC version
//                                 (already the default; set explicitly).
//   Everything else keeps the extension's defaults (autoRetrieveCredentials, showLoginNotifications,
//   showNotifications, showLoginFormIcon, showOTPIcon, autoCompleteUsernames: true;
//   autoSubmit, autoFillAndSend: false; saveDomainOnly: true).
//
// HOW IT REACHES THE EXTENSION
//   Besides the page tab the driver keeps one background tab on an inert extension page
//   (moz-extension://UUID/options/shortcuts.html). From there it uses the extension APIs a popup
//   uses: runtime.sendMessage to the background script (ext_status, reconnect, settings, and the
//   "shortcut" fill methods via tabs.sendMessage), and tabs.executeScript into the page tab, which
//   runs in the extension's content-script scope: that is how it finds the banner, icons and
//   notifications the extension draws in closed shadow roots. Every click on them is a real
//   (trusted) mouse click at their position: the extension ignores synthetic events.

import puppeteer from 'puppeteer-core';
import readline from 'node:readline';
import fs from 'node:fs';
import path from 'node:path';

const env = process.env;
const DEBUG = env.TESSERA_E2E_DEBUG === '1';
const FIREFOX = env.TESSERA_E2E_FIREFOX || '/usr/bin/firefox-esr';
const EXTENSION_DIR = env.TESSERA_E2E_EXTENSION || '/usr/share/webext/keepassxc-browser';
const EXTENSION_ID = 'keepassxc-browser@keepassxc.org';
const UUID = env.TESSERA_E2E_EXTENSION_UUID || '7e55e4a0-0000-4000-8000-00000000e2e0';
const HOSTS = (env.TESSERA_E2E_HOSTS || '').split(',').map(s => s.trim()).filter(Boolean);
const [VW, VH] = (env.TESSERA_E2E_VIEWPORT || '1024x768').split('x').map(Number);
const EXT_BASE = `moz-extension://${UUID}`;
const POPUP_URL = `${EXT_BASE}/popups/popup.html`;
const HELPER_URL = `${EXT_BASE}/options/shortcuts.html`;

const DEFAULT_SETTINGS = {
    autoFillSingleEntry: true,
    showGettingStartedGuideAlert: false,
    showTroubleshootingGuideAlert: false,
    checkUpdateKeePassXC: 0,
};

const T0 = Date.now();
const log = (...a) => console.error(`[firefox.mjs ${((Date.now() - T0) / 1000).toFixed(2)}s]`, ...a);
const debug = (...a) => { if (DEBUG) log(...a); };
const sleep = ms => new Promise(r => setTimeout(r, ms));

function out(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

class CmdError extends Error {}
const fail = msg => { throw new CmdError(msg); };

// Firefox preferences: resolve the test host names locally and keep Firefox
// from talking to anything but 127.0.0.1 (puppeteer already turns off
// telemetry, safe browsing, updates, new-tab feeds and the like; these are on top).
function firefoxPrefs() {
    const prefs = {
        'extensions.webextensions.uuids': JSON.stringify({ [EXTENSION_ID]: UUID }),
        'network.dns.localDomains': HOSTS.join(','),
        // Plain http on the test hosts, no https upgrade attempts.
        'dom.security.https_first': false,
        'dom.security.https_first_pbm': false,
        'dom.security.https_first_schemeless': false,
        'dom.security.https_only_mode': false,
        // No DNS-over-HTTPS, prefetching or speculative connections.
        'network.trr.mode': 5,
        'network.dns.disablePrefetch': true,
        'network.prefetch-next': false,
        'network.predictor.enabled': false,
        'network.http.speculative-parallel-limit': 0,
        'browser.urlbar.speculativeConnect.enabled': false,
        'network.captive-portal-service.enabled': false,
        'network.connectivity-service.enabled': false,
        // Telemetry / studies / remote settings / pings.
        'toolkit.telemetry.enabled': false,
        'toolkit.telemetry.unified': false,
        'toolkit.telemetry.archive.enabled': false,
        'toolkit.telemetry.server': 'http://127.0.0.1:9/',
        'datareporting.healthreport.uploadEnabled': false,
        'datareporting.policy.dataSubmissionEnabled': false,
        'app.shield.optoutstudies.enabled': false,
        'app.normandy.enabled': false,
        'app.update.enabled': false,
        'app.update.auto': false,
        'browser.ping-centre.telemetry': false,
        'browser.discovery.enabled': false,
        'browser.newtabpage.activity-stream.feeds.telemetry': false,
        'browser.newtabpage.activity-stream.telemetry': false,
        'browser.newtabpage.activity-stream.feeds.section.topstories': false,
        'browser.newtabpage.activity-stream.feeds.snippets': false,
        'browser.newtabpage.activity-stream.showSponsored': false,
        'browser.newtabpage.activity-stream.showSponsoredTopSites': false,
        'browser.safebrowsing.provider.google.updateURL': '',
        'browser.safebrowsing.provider.google4.updateURL': '',
        'browser.safebrowsing.provider.mozilla.updateURL': '',
        'services.settings.server': 'http://127.0.0.1:9/',
        'extensions.blocklist.enabled': false,
        'extensions.getAddons.showPane': false,
        'extensions.htmlaboutaddons.recommendations.enabled': false,
        'media.gmp-gmpopenh264.enabled': false,
        'media.gmp-widevinecdm.enabled': false,
        'browser.region.network.url': '',
        'browser.region.update.enabled': false,
        'geo.provider.network.url': '',
        'browser.contentblocking.report.lockwise.enabled': false,
        'identity.fxaccounts.enabled': false,
        'browser.aboutwelcome.enabled': false,
        'trailhead.firstrun.branches': 'nofirstrun-empty',
        'browser.startup.firstrunSkipsHomepage': true,
        'startup.homepage_welcome_url': '',
        'startup.homepage_welcome_url.additional': '',
        'browser.messaging-system.whatsNewPanel.enabled': false,
        'messaging-system.rsexperimentloader.enabled': false,
        'nimbus.telemetry.targetingContextEnabled': false,
        // Firefox's own password manager must not compete with the extension.
        'signon.rememberSignons': false,
        'signon.autofillForms': false,
        'signon.generation.enabled': false,
        'signon.management.page.breach-alerts.enabled': false,
        'signon.firefoxRelay.feature': 'disabled',
        'extensions.formautofill.addresses.enabled': false,
        'extensions.formautofill.creditCards.enabled': false,
        // Let the extension's notification / popup behaviour be plain.
        'browser.tabs.warnOnClose': false,
        'ui.prefersReducedMotion': 1,
    };
    if (DEBUG) {
        prefs['devtools.console.stdout.content'] = true;
        prefs['devtools.console.stdout.chrome'] = true;
        prefs['extensions.logging.enabled'] = true;
    }
    return prefs;
}

// ---------------------------------------------------------------------------
// Browser state

let browser;
let pageTab;     // puppeteer Page: the one page tab
let helperTab;   // puppeteer Page: background tab on an inert extension page

async function withTimeout(promise, ms, what) {
    let timer;
    try {
        return await Promise.race([
            promise,
            new Promise((_, reject) => { timer = setTimeout(() => reject(new CmdError(`timeout after ${ms} ms: ${what}`)), ms); }),
        ]);
    } finally {
        clearTimeout(timer);
    }
}

// Navigations to moz-extension:// pages may never report completion over
// BiDi (seen: goto times out while the page is usable). Start it, give it a
// moment, and go on once the document is there.
async function openExtensionPage(tab, url, readySelector, timeoutMs = 10000) {
    const started = Date.now();
    tab.goto(url, { waitUntil: 'domcontentloaded', timeout: timeoutMs }).catch(e => debug('goto', url, e.message));
    for (;;) {
        try {
            const ok = await withTimeout(tab.evaluate((u, sel) => location.href === u && document.readyState !== 'loading'
                && (!sel || !!document.querySelector(sel)) && typeof browser !== 'undefined', url, readySelector),
            2000, 'extension page poll');
            if (ok) {
                return;
            }
        } catch (e) {
            debug('openExtensionPage poll:', e.message);
        }
        if (Date.now() - started > timeoutMs) {
            fail(`extension page ${url} did not load within ${timeoutMs} ms`);
        }
        await sleep(100);
    }
}

async function ensureHelper() {
    if (helperTab && !helperTab.isClosed()) {
        const ok = await withTimeout(helperTab.evaluate(() => typeof browser !== 'undefined' && !!browser.runtime), 5000, 'helper check')
            .catch(() => false);
        if (ok) {
            return helperTab;
        }
    } else {
        helperTab = await browser.newPage({ background: true });
    }
    await openExtensionPage(helperTab, HELPER_URL, 'body');
    return helperTab;
}

// Run fn(...args) in the helper extension page (has the `browser` WebExtension API).
async function ext(fn, ...args) {
    const tab = await ensureHelper();
    return tab.evaluate(fn, ...args);
}

async function extMessage(message, timeoutMs = 15000) {
    return withTimeout(ext(m => browser.runtime.sendMessage(m), message), timeoutMs, `runtime message ${message.action}`);
}

// The WebExtension tab id of the page tab.
async function pageTabId() {
    const url = pageTab.url();
    const helperUrl = HELPER_URL;
    const id = await ext(async (u, h) => {
        const tabs = await browser.tabs.query({});
        const cands = tabs.filter(t => !t.url.startsWith('moz-extension:') && t.url !== h);
        const exact = cands.filter(t => t.url === u);
        const pick = exact.length ? exact : cands.filter(t => t.active);
        return pick.length ? pick[0].id : (cands.length ? cands[0].id : null);
    }, url, helperUrl);
    if (id === null || id === undefined) {
        fail('cannot find the page tab among the extension\'s tabs');
    }
    return id;
}

// Run `code` (a JS expression, as a string) in the extension's content-script
// scope of the page tab's top frame. The content scripts' globals (kpxc,
// kpxcBanner, kpxcUsernameIcons, ...) are visible there.
async function contentEval(code) {
    const tabId = await pageTabId();
    const res = await ext(async (id, c) => {
        try {
            const r = await browser.tabs.executeScript(id, { code: c, frameId: 0, runAt: 'document_idle' });
            return { ok: true, value: r ? r[0] : undefined };
        } catch (e) {
            return { ok: false, error: String(e && e.message || e) };
        }
    }, tabId, code);
    if (!res.ok) {
        fail(`content script evaluation failed: ${res.error}`);
    }
    return res.value;
}

async function settingsSet(values) {
    return ext(async v => {
        const item = await browser.storage.local.get({ settings: {} });
        const settings = Object.assign({}, item.settings, v);
        await browser.storage.local.set({ settings });
        // Make the background reload page.settings from storage.
        return browser.runtime.sendMessage({ action: 'load_settings' });
    }, values);
}

// ---------------------------------------------------------------------------
// Popup

const POPUP_BLOCKS = ['initial-state', 'not-configured', 'need-reconfigure', 'configured-not-associated',
    'configured-and-associated', 'error-encountered', 'database-not-opened', 'username-field-detected',
    'getting-started-guide', 'troubleshooting-guide', 'update-available'];
const STATE_BLOCKS = ['not-configured', 'error-encountered', 'database-not-opened', 'configured-and-associated',
    'need-reconfigure', 'configured-not-associated'];

async function readPopup(tab) {
    return tab.evaluate((blocks, states) => {
        const vis = el => !!el && getComputedStyle(el).display !== 'none';
        const txt = el => (el ? el.innerText.replace(/\s+/g, ' ').trim() : null);
        const visible = blocks.filter(id => vis(document.getElementById(id)));
        const texts = {};
        for (const id of visible) {
            texts[id] = txt(document.getElementById(id));
        }
        const state = states.find(s => visible.includes(s)) || (visible.includes('initial-state') ? 'initial-state' : null);
        const msgId = { 'error-encountered': 'error-message', 'database-not-opened': 'database-error-message',
            'need-reconfigure': 'need-reconfigure-message' }[state];
        const message = msgId ? txt(document.getElementById(msgId)) : null;
        const identifier = state === 'configured-and-associated' ? txt(document.getElementById('associated-identifier')) : null;
        const buttons = {};
        for (const b of document.querySelectorAll('button[id]')) {
            if (b.offsetParent !== null) {
                buttons[b.id] = !b.disabled;
            }
        }
        return { state, visible, texts, message, identifier, buttons };
    }, POPUP_BLOCKS, STATE_BLOCKS);
}

async function waitPopupStatus(tab, timeoutMs) {
    const started = Date.now();
    let st;
    for (;;) {
        st = await readPopup(tab).catch(e => ({ state: null, error: e.message }));
        if (st.state && st.state !== 'initial-state') {
            return st;
        }
        if (Date.now() - started > timeoutMs) {
            return st.state ? st : { ...st, state: 'initial-state' };
        }
        await sleep(100);
    }
}

// Open the popup in its own tab (in the foreground, as the real popup has the
// focus), run fn(tab), close it and give the page tab the focus back.
async function withPopup(timeoutMs, fn) {
    const tab = await browser.newPage();
    try {
        await tab.setViewport({ width: 500, height: 520 }).catch(() => {});
        await openExtensionPage(tab, POPUP_URL, '#initial-state', timeoutMs);
        return await fn(tab);
    } finally {
        await tab.close().catch(e => debug('popup close', e.message));
        await pageTab.bringToFront().catch(e => debug('bringToFront', e.message));
    }
}

async function popupStatus({ timeout_ms = 10000 }) {
    return withPopup(timeout_ms, tab => waitPopupStatus(tab, timeout_ms));
}

async function popupClick(ids, { timeout_ms = 10000, waitAfter = true }) {
    return withPopup(timeout_ms, async tab => {
        const before = await waitPopupStatus(tab, timeout_ms);
        const id = ids.find(i => before.buttons && before.buttons[i]);
        if (!id) {
            return { clicked: null, state_before: before.state, ...before };
        }
        // The popup's buttons take synthetic clicks.
        await tab.evaluate(i => document.getElementById(i).click(), id);
        if (!waitAfter) {
            await sleep(300);
            return { clicked: id, state_before: before.state };
        }
        // The popup redraws its status when the background answers.
        const started = Date.now();
        let after;
        await sleep(300);
        for (;;) {
            after = await readPopup(tab).catch(() => null);
            const done = after && after.state && after.state !== 'initial-state';
            if (done && (JSON.stringify(after) !== JSON.stringify(before) || Date.now() - started > 2500)) {
                break;
            }
            if (Date.now() - started > timeout_ms) {
                break;
            }
            await sleep(100);
        }
        return { clicked: id, state_before: before.state, ...after };
    });
}

// ---------------------------------------------------------------------------
// Page helpers

async function pageInfo() {
    return { url: pageTab.url(), title: await pageTab.title().catch(() => null) };
}

async function elementCentre(selector) {
    const r = await pageTab.evaluate(sel => {
        const el = document.querySelector(sel);
        if (!el) {
            return null;
        }
        el.scrollIntoView({ block: 'center', inline: 'center' });
        const b = el.getBoundingClientRect();
        return { x: b.left + b.width / 2, y: b.top + b.height / 2, w: b.width, h: b.height };
    }, selector);
    if (!r) {
        fail(`no element matches ${selector}`);
    }
    if (r.w === 0 || r.h === 0) {
        fail(`element ${selector} is not visible`);
    }
    return r;
}

async function trustedClick(x, y) {
    await pageTab.mouse.click(Math.round(x), Math.round(y));
}

async function clickSelector(selector) {
    const c = await elementCentre(selector);
    await trustedClick(c.x, c.y);
}

async function typeInto(selector, text, clear) {
    await clickSelector(selector);
    if (clear) {
        await pageTab.evaluate(sel => { const el = document.querySelector(sel); el.focus(); el.select && el.select(); }, selector);
        await pageTab.keyboard.press('Backspace');
    }
    await pageTab.keyboard.type(String(text));
}

// Waits for a navigation started by `action`, if any.
async function maybeNavigation(action, timeoutMs) {
    const before = pageTab.url();
    const nav = pageTab.waitForNavigation({ timeout: timeoutMs, waitUntil: 'load' }).then(() => true, () => false);
    await action();
    // Give a navigation a moment to start; then wait for it only if it did.
    const quick = await Promise.race([nav, sleep(1500).then(() => null)]);
    if (quick !== null) {
        return quick;
    }
    const started = await pageTab.evaluate(() => document.readyState).then(s => s !== 'complete', () => true);
    if (started || pageTab.url() !== before) {
        return nav;
    }
    return false;
}

// Content-script side snippets (run through contentEval).
const CS_RECT = `(el) => { if (!el) return null; const b = el.getBoundingClientRect();
    return { x: b.left + b.width / 2, y: b.top + b.height / 2, w: b.width, h: b.height }; }`;

async function bannerInfo() {
    return contentEval(`(() => {
        const rect = ${CS_RECT};
        if (typeof kpxcBanner === 'undefined') return { loaded: false };
        const root = kpxcBanner.created ? kpxcBanner.shadowRoot : null;
        if (!root) return { loaded: true, created: false };
        const q = s => root.querySelector(s);
        const btn = id => { const b = q(id); return b ? { enabled: !b.disabled, hidden: b.hidden, rect: rect(b) } : null; };
        const dialog = q('.kpxc-banner-dialog');
        const items = dialog ? Array.from(dialog.querySelectorAll('ul#list a')).map(a => ({ text: a.textContent, rect: rect(a) })) : [];
        const uname = q('.information-username');
        return { loaded: true, created: true, shown: kpxcBanner.wrapper && kpxcBanner.wrapper.style.display !== 'none',
            username: uname ? uname.textContent : null,
            new: btn('#kpxc-banner-btn-new'), update: btn('#kpxc-banner-btn-update'), dismiss: btn('#kpxc-banner-btn-dismiss'),
            dialog: !!dialog, items };
    })()`);
}

async function notificationInfo() {
    return contentEval(`(() => {
        if (typeof kpxcUI === 'undefined' || !kpxcUI.shadowRoot) return null;
        const n = kpxcUI.shadowRoot.querySelector('.kpxc-notification');
        if (!n || !n.isConnected) return null;
        const type = (Array.from(n.classList).find(c => c.startsWith('kpxc-notification-') ) || '').replace('kpxc-notification-', '');
        const spans = n.querySelectorAll('span');
        return { type, text: spans.length ? spans[spans.length - 1].textContent : n.textContent };
    })()`).catch(() => null);
}

async function iconRect(kind, selector) {
    const list = kind === 'totp' ? 'kpxcTOTPIcons' : 'kpxcUsernameIcons';
    return contentEval(`(() => {
        const rect = ${CS_RECT};
        if (typeof ${list} === 'undefined') return { error: 'content script not loaded' };
        const sel = ${JSON.stringify(selector || null)};
        const field = sel ? document.querySelector(sel) : null;
        if (sel && !field) return { error: 'no element matches ' + sel };
        const icons = ${list}.icons.filter(i => i.icon && (!field || i.inputField === field));
        if (!icons.length) return { error: 'the extension has drawn no ${kind} icon' + (sel ? ' in ' + sel : '') };
        const icon = icons[0];
        icon.inputField.scrollIntoView({ block: 'center' });
        kpxcUI.setIconPosition(icon.icon, icon.inputField, icon.rtl, icon.segmented);
        return { rect: rect(icon.icon), display: icon.icon.style.display,
                 wrapperShown: icon.icon.getRootNode().host.style.display !== 'none',
                 className: icon.icon.className };
    })()`);
}

// The extension's keyboard-shortcut / context-menu commands: the background
// forwards them to the active tab's content script as {action: NAME}; this
// sends the same message to the page tab (after focusing `selector`, since the
// content script works on document.activeElement).
const SHORTCUTS = ['fill_username_password', 'fill_password', 'fill_totp', 'show_password_generator',
    'save_credentials', 'redetect_fields', 'choose_credential_fields', 'retrive_credentials_forced',
    'request_autotype', 'reload_extension'];

async function sendShortcut(name, selector) {
    if (!SHORTCUTS.includes(name)) {
        fail(`unknown shortcut ${JSON.stringify(name)}; one of ${SHORTCUTS.join(', ')}`);
    }
    if (selector) {
        await pageTab.focus(selector);
    }
    const tabId = await pageTabId();
    // The content script answers only after its handler ran (it awaits
    // reconnect and credential retrieval); do not wait for that forever.
    const r = await withTimeout(ext((id, a) => browser.tabs.sendMessage(id, { action: a }, { frameId: 0 })
        .then(() => null, e => String(e && e.message || e)), tabId, name), 15000, `shortcut ${name}`).catch(e => e.message);
    if (r) {
        debug(`shortcut ${name}: ${r}`);
    }
}

async function waitFor(fn, timeoutMs, intervalMs = 100) {
    const started = Date.now();
    for (;;) {
        const v = await fn();
        if (v) {
            return v;
        }
        if (Date.now() - started > timeoutMs) {
            return null;
        }
        await sleep(intervalMs);
    }
}

// ---------------------------------------------------------------------------
// Commands

const commands = {
    async ping() {
        return {};
    },

    popup_status: popupStatus,

    async popup_connect(a) {
        const r = await popupClick(['connect-button', 'reconnect-button'], { ...a, waitAfter: false });
        if (!r.clicked) {
            fail(`no Connect button in the popup (state ${r.state}${r.message ? ': ' + r.message : ''})`);
        }
        return r;
    },

    async popup_reload(a) {
        return popupClick(['reload-status-button', 'reopen-database-button'], a);
    },

    async popup_lock(a) {
        return popupClick(['lock-database-button'], a);
    },

    async ext_status({ poll = false }) {
        const status = await extMessage({ action: 'get_status', args: [!poll, false] });
        return { status };
    },

    async wait_associated({ timeout_ms = 30000 }) {
        const started = Date.now();
        let status = null;
        for (;;) {
            status = await extMessage({ action: 'get_status', args: [true, false] }).catch(() => null);
            if (status && status.associated) {
                return { status, waited_ms: Date.now() - started };
            }
            if (Date.now() - started > timeout_ms) {
                fail(`not associated after ${timeout_ms} ms (status: ${JSON.stringify(status)})`);
            }
            await sleep(200);
        }
    },

    async reconnect() {
        const status = await extMessage({ action: 'reconnect' }, 20000);
        return { status };
    },

    async settings({ set = {} }) {
        if (typeof set !== 'object' || Array.isArray(set) || set === null) {
            fail('`set` must be an object');
        }
        return { settings: await settingsSet(set) };
    },

    async keyring({ set }) {
        if (set !== undefined && (typeof set !== 'object' || Array.isArray(set) || set === null)) {
            fail('`set` must be an object (database hash -> {id, key, hash, created, lastUsed})');
        }
        const keyring = await ext(async v => {
            if (v !== undefined) {
                await browser.storage.local.set({ keyRing: v });
                await browser.runtime.sendMessage({ action: 'load_keyring' });
            }
            return (await browser.storage.local.get({ keyRing: {} })).keyRing;
        }, set);
        return { keyring };
    },

    async goto({ url, timeout_ms = 15000 }) {
        if (!url) {
            fail('missing url');
        }
        await pageTab.goto(url, { waitUntil: 'load', timeout: timeout_ms });
        return pageInfo();
    },

    async reload({ timeout_ms = 15000 }) {
        await pageTab.reload({ waitUntil: 'load', timeout: timeout_ms });
        return pageInfo();
    },

    async url() {
        return pageInfo();
    },

    async wait_value({ selector, timeout_ms = 10000, equals }) {
        if (!selector) {
            fail('missing selector');
        }
        const started = Date.now();
        let last = null;
        for (;;) {
            last = await pageTab.evaluate(sel => { const el = document.querySelector(sel); return el ? el.value : null; }, selector)
                .catch(() => null);
            if (last !== null && (equals === undefined ? last !== '' : last === equals)) {
                return { value: last, waited_ms: Date.now() - started };
            }
            if (Date.now() - started > timeout_ms) {
                fail(`timeout after ${timeout_ms} ms waiting for ${equals === undefined ? 'a value in' : JSON.stringify(equals) + ' in'} ${selector} (last value: ${JSON.stringify(last)})`);
            }
            await sleep(100);
        }
    },

    async values({ selectors }) {
        if (!Array.isArray(selectors)) {
            fail('`selectors` must be an array');
        }
        const values = await pageTab.evaluate(sels => {
            const o = {};
            for (const s of sels) {
                const el = document.querySelector(s);
                o[s] = el ? el.value : null;
            }
            return o;
        }, selectors);
        return { values };
    },

    async wait_selector({ selector, timeout_ms = 10000 }) {
        if (!selector) {
            fail('missing selector');
        }
        await pageTab.waitForSelector(selector, { timeout: timeout_ms });
        return {};
    },

    async text({ selector = 'body' }) {
        const text = await pageTab.evaluate(sel => { const el = document.querySelector(sel); return el ? el.innerText : null; }, selector);
        if (text === null) {
            fail(`no element matches ${selector}`);
        }
        return { text };
    },

    async type({ selector, text, clear = true }) {
        if (!selector || text === undefined) {
            fail('missing selector or text');
        }
        await typeInto(selector, text, clear);
        return {};
    },

    async click({ selector }) {
        if (!selector) {
            fail('missing selector');
        }
        await clickSelector(selector);
        return {};
    },

    async submit({ selector, timeout_ms = 15000 }) {
        if (!selector) {
            fail('missing selector');
        }
        const target = await pageTab.evaluate(sel => {
            const el = document.querySelector(sel);
            if (!el) {
                return { error: `no element matches ${sel}` };
            }
            const isButton = e => (e.nodeName === 'BUTTON' && (e.type === 'submit' || !e.getAttribute('type')))
                || (e.nodeName === 'INPUT' && (e.type === 'submit' || e.type === 'image'));
            const form = el.nodeName === 'FORM' ? el : (el.form || el.closest('form'));
            let button = isButton(el) ? el : null;
            if (!button && form) {
                button = Array.from(form.elements).find(isButton) || null;
            }
            const mark = (e, v) => { e.setAttribute('data-e2e-submit', v); return `[data-e2e-submit="${v}"]`; };
            if (button) {
                return { button: mark(button, 'button') };
            }
            if (form) {
                const fields = Array.from(form.elements).filter(e => e.nodeName === 'INPUT' && ['text', 'password', 'email', ''].includes(e.type));
                if (fields.length) {
                    return { enter: mark(fields[fields.length - 1], 'field') };
                }
            }
            return { error: `no submit button or text field for ${sel}` };
        }, selector);
        if (target.error) {
            fail(target.error);
        }
        const navigated = await maybeNavigation(async () => {
            if (target.button) {
                await clickSelector(target.button);
            } else {
                await clickSelector(target.enter);
                await pageTab.keyboard.press('Enter');
            }
        }, timeout_ms);
        return { navigated, ...(await pageInfo()) };
    },

    async save_banner({ action = 'new', timeout_ms = 10000, group, entry = 0 }) {
        if (!['new', 'update', 'dismiss', 'none'].includes(action)) {
            fail('action must be new, update, dismiss or none');
        }
        const info = await waitFor(async () => {
            const b = await bannerInfo().catch(e => { debug('bannerInfo', e.message); return null; });
            return b && b.created && b.shown && b.new && b.new.rect && b.new.rect.w > 0 ? b : null;
        }, timeout_ms, 200);
        if (!info) {
            return { appeared: false, clicked: null, notification: await notificationInfo() };
        }
        const result = {
            appeared: true,
            username: info.username,
            buttons: { new: info.new.enabled, update: info.update ? info.update.enabled : false, dismiss: !!info.dismiss },
            clicked: null,
            notification: null,
        };
        if (action === 'none') {
            return result;
        }
        const button = info[action];
        if (!button || !button.enabled) {
            fail(`the banner's ${action} button is not enabled`);
        }
        await trustedClick(button.rect.x, button.rect.y);
        result.clicked = action;
        // "new" may open the group chooser, "update" the entry chooser.
        if (action !== 'dismiss') {
            const after = await waitFor(async () => {
                const n = await notificationInfo();
                if (n) {
                    return { notification: n };
                }
                const b = await bannerInfo().catch(() => null);
                if (b && b.created && b.dialog && b.items.length) {
                    return { dialog: b };
                }
                return null;
            }, timeout_ms, 150);
            if (after && after.dialog) {
                const items = after.dialog.items;
                let item;
                if (action === 'new') {
                    item = group ? items.find(i => i.text.replace(/^\u25BE /, '') === group) : items[0];
                    if (!item) {
                        fail(`no group ${JSON.stringify(group)} in the banner's list: ${items.map(i => i.text).join(', ')}`);
                    }
                } else {
                    item = items[entry];
                    if (!item) {
                        fail(`no entry ${entry} in the banner's list: ${items.map(i => i.text).join(', ')}`);
                    }
                }
                result.chose = item.text;
                await trustedClick(item.rect.x, item.rect.y);
                result.notification = await waitFor(notificationInfo, timeout_ms, 150);
            } else if (after) {
                result.notification = after.notification;
            }
        }
        return result;
    },

    async fill({ selector, method = 'icon' }) {
        if (method === 'icon') {
            const r = await waitFor(async () => {
                const i = await iconRect('username', selector).catch(e => ({ error: e.message }));
                return i && i.rect && i.rect.w > 0 && i.wrapperShown && i.display !== 'none' ? i : null;
            }, 5000, 150) || await iconRect('username', selector);
            if (!r || !r.rect) {
                fail(r && r.error ? r.error : 'no visible username icon');
            }
            await trustedClick(r.rect.x, r.rect.y);
            return { method, icon: r.className };
        }
        if (method === 'shortcut') {
            await sendShortcut('fill_username_password', selector);
            return { method };
        }
        if (method === 'autocomplete') {
            if (!selector) {
                fail('method autocomplete needs a selector');
            }
            await clickSelector(selector);
            await sleep(200);
            await pageTab.keyboard.press('ArrowDown');
            await sleep(300);
            await pageTab.keyboard.press('Enter');
            return { method };
        }
        fail('method must be icon, shortcut or autocomplete');
    },

    async fill_totp({ selector, method = 'icon' }) {
        if (method === 'icon') {
            const r = await waitFor(async () => {
                const i = await iconRect('totp', selector).catch(e => ({ error: e.message }));
                return i && i.rect && i.rect.w > 0 && i.wrapperShown && i.display !== 'none' ? i : null;
            }, 5000, 150) || await iconRect('totp', selector);
            if (!r || !r.rect) {
                fail(r && r.error ? r.error : 'no visible TOTP icon');
            }
            await trustedClick(r.rect.x, r.rect.y);
            return { method };
        }
        if (method === 'shortcut') {
            if (!selector) {
                fail('method shortcut needs a selector');
            }
            await sendShortcut('fill_totp', selector);
            return { method };
        }
        fail('method must be icon or shortcut');
    },

    async shortcut({ name, selector }) {
        if (!name) {
            fail('missing name');
        }
        await sendShortcut(name, selector);
        return {};
    },

    async page_state() {
        const st = await contentEval(`(() => {
            if (typeof kpxc === 'undefined') return { loaded: false };
            const desc = el => el ? (el.id ? '#' + el.id : (el.name ? el.nodeName.toLowerCase() + '[name=' + el.name + ']' : el.nodeName.toLowerCase())) : null;
            return {
                loaded: true,
                database_state: ['disconnected', 'locked', 'unlocked'][kpxc.databaseState],
                credentials: kpxc.credentials.map(c => ({ login: c.login, name: c.name, uuid: c.uuid, has_totp: !!c.totp })),
                combinations: kpxc.combinations.map(c => ({ username: desc(c.username), password: desc(c.password), totp: desc(c.totp) })),
                username_icons: kpxcUsernameIcons.icons.map(i => desc(i.inputField)),
                totp_icons: kpxcTOTPIcons.icons.map(i => desc(i.inputField)),
                banner: typeof kpxcBanner !== 'undefined' && kpxcBanner.created,
            };
        })()`);
        return { ...st, notification: await notificationInfo() };
    },

    async screenshot({ path: file, target = 'page', full_page = false }) {
        if (!file) {
            fail('missing path');
        }
        fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
        if (target === 'page') {
            await pageTab.bringToFront().catch(() => {});
            await pageTab.screenshot({ path: file, fullPage: !!full_page });
            return { path: file };
        }
        if (target === 'popup') {
            const status = await withPopup(10000, async tab => {
                const st = await waitPopupStatus(tab, 10000);
                await sleep(300); // fonts / icons
                const box = await tab.evaluate(() => {
                    const b = document.querySelector('.container').getBoundingClientRect();
                    const w = Math.max(document.body.getBoundingClientRect().width, b.right);
                    return { x: 0, y: 0, width: Math.ceil(w), height: Math.ceil(b.bottom + 8) };
                });
                await tab.screenshot({ path: file, clip: box });
                return st;
            });
            return { path: file, state: status.state };
        }
        fail('target must be page or popup');
    },
};

// ---------------------------------------------------------------------------
// Start-up and the command loop

async function start() {
    const started = Date.now();
    browser = await puppeteer.launch({
        browser: 'firefox',
        executablePath: FIREFOX,
        headless: true,
        env: { ...env, MOZ_CRASHREPORTER_DISABLE: '1' },
        args: ['--remote-allow-system-access'],
        extraPrefsFirefox: firefoxPrefs(),
        defaultViewport: { width: VW, height: VH },
        protocolTimeout: 60000,
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
    });
    const proc = browser.process();
    if (DEBUG && proc) {
        proc.stdout && proc.stdout.on('data', d => process.stderr.write(`[firefox] ${d}`));
        proc.stderr && proc.stderr.on('data', d => process.stderr.write(`[firefox] ${d}`));
    }
    browser.on('disconnected', () => {
        if (!quitting) {
            log('Firefox went away');
            out({ ok: false, error: 'Firefox exited', event: 'browser-disconnected' });
            process.exit(2);
        }
    });
    const version = await browser.version();
    log(`started ${version} in ${Date.now() - started} ms`);
    const extensionId = await browser.installExtension(EXTENSION_DIR);
    log(`installed ${extensionId} as moz-extension://${UUID}`);
    const pages = await browser.pages();
    pageTab = pages[0] || await browser.newPage();
    await pageTab.setViewport({ width: VW, height: VH }).catch(e => log('setViewport:', e.message));
    await ensureHelper();
    // Wait for the background script to answer (its init has run then).
    const settingsOk = await waitFor(() => ext(() => browser.runtime.sendMessage({ action: 'load_settings' })
        .then(s => !!s, () => false)).catch(() => false), 15000, 200);
    if (!settingsOk) {
        throw new Error('the extension\'s background script does not answer');
    }
    let extra = {};
    if (env.TESSERA_E2E_SETTINGS) {
        extra = JSON.parse(env.TESSERA_E2E_SETTINGS);
    }
    const settings = await settingsSet({ ...DEFAULT_SETTINGS, ...extra });
    await pageTab.bringToFront().catch(() => {});
    return { firefox: version, extension_id: extensionId, uuid: UUID, startup_ms: Date.now() - started, settings };
}

let quitting = false;

async function quit(code = 0) {
    if (quitting) {
        return;
    }
    quitting = true;
    try {
        await withTimeout(browser.close(), 15000, 'browser.close');
    } catch (e) {
        log('close failed:', e.message);
        try {
            browser.process() && browser.process().kill('SIGKILL');
        } catch (e2) { /* gone */ }
    }
    process.exit(code);
}

async function handle(line) {
    let req;
    try {
        req = JSON.parse(line);
    } catch (e) {
        return { ok: false, error: `not JSON: ${e.message}` };
    }
    if (!req || typeof req !== 'object' || Array.isArray(req)) {
        return { ok: false, error: 'a command must be a JSON object' };
    }
    const id = req.id;
    const name = req.cmd;
    const reply = r => (id === undefined ? r : { id, ...r });
    if (name === 'quit') {
        out(reply({ ok: true }));
        await quit(0);
        return null;
    }
    const fn = Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : null;
    if (!fn) {
        return reply({ ok: false, error: `unknown command ${JSON.stringify(name)}` });
    }
    const t = Date.now();
    try {
        const res = await fn({ ...req });
        debug(`${name} ok in ${Date.now() - t} ms`);
        return reply({ ok: true, ...res });
    } catch (e) {
        log(`${name} failed after ${Date.now() - t} ms: ${e && e.stack || e}`);
        // Protocol errors carry Firefox's stack trace; the first line is the message.
        return reply({ ok: false, error: String(e && e.message || e).split('\n')[0] });
    }
}

async function main() {
    let ready;
    try {
        ready = await start();
    } catch (e) {
        log('start-up failed:', e && e.stack || e);
        out({ ready: false, error: String(e && e.message || e) });
        try {
            quitting = true;
            browser && await withTimeout(browser.close(), 10000, 'close');
        } catch (e2) { /* ignore */ }
        process.exit(1);
    }
    out({ ready: true, ...ready });

    const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    const queue = [];
    let busy = false;
    let eof = false;
    const pump = async () => {
        if (busy) {
            return;
        }
        busy = true;
        while (queue.length) {
            const line = queue.shift();
            if (!line.trim()) {
                continue;
            }
            const r = await handle(line);
            if (r) {
                out(r);
            }
        }
        busy = false;
        if (eof) {
            await quit(0);
        }
    };
    rl.on('line', line => { queue.push(line); pump(); });
    rl.on('close', () => { eof = true; pump(); });
}

process.on('unhandledRejection', e => log('unhandled rejection:', e && e.stack || e));
process.on('SIGTERM', () => quit(143));
process.on('SIGINT', () => quit(130));

main();
