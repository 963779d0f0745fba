// Melody Studio PWA: boot, session, hash routing (#/search, #/library, #/upload), offline state,
// service worker and install prompt.

import { hasSession, onSessionChange, logout, api } from './api.js';
import { clear, focusHeading, toast } from './ui.js';
import { loadLibrary, resetLibrary } from './store.js';
import { player } from './player.js';
import { renderLogin } from './views/login.js';
import { renderSearch } from './views/search.js';
import { renderLibrary } from './views/library.js';
import { renderUpload, resetUploads } from './views/upload.js';
import { resetHome, openLanguagePicker } from './views/home.js';
import { loadOffline, resetOffline } from './offline.js';

const VIEWS = { search: renderSearch, library: renderLibrary, upload: renderUpload };
const TITLES = { search: 'Home', library: 'Library', upload: 'Upload' };
// The developer page is loaded on demand: it is not part of the first load.
VIEWS.developer = (root) => {
  let teardownView = null;
  let left = false;
  import('./views/developer.js').then((view) => { if (!left) teardownView = view.renderDeveloper(root); })
    .catch(() => toast('The developer page could not be loaded. Check your connection.', 'error'));
  return () => { left = true; if (typeof teardownView === 'function') teardownView(); };
};
TITLES.developer = 'Developer';
// The melody of a song (issue 12): its lead sheet as a piano roll that follows the player; on demand.
VIEWS.melody = (root) => {
  let teardownView = null;
  let left = false;
  import('./views/melody.js').then((view) => { if (!left) teardownView = view.renderMelody(root); })
    .catch(() => toast('The melody page could not be loaded. Check your connection.', 'error'));
  return () => { left = true; if (typeof teardownView === 'function') teardownView(); };
};
TITLES.melody = 'Melody';
// Discover (issue 17): the feed of posts from followed blogs and artists; loaded on demand.
VIEWS.discover = (root) => {
  let teardownView = null;
  let left = false;
  import('./views/discover.js').then((view) => { if (!left) teardownView = view.renderDiscover(root); })
    .catch(() => toast('Discover could not be loaded. Check your connection.', 'error'));
  return () => { left = true; if (typeof teardownView === 'function') teardownView(); };
};
TITLES.discover = 'Discover';
// Scores (issue 12): upload MusicXML/MIDI/ABC, see it engraved (OSMD, loaded by that view only) and hear it.
VIEWS.scores = (root) => {
  let teardownView = null;
  let left = false;
  import('./views/score.js').then((view) => { if (!left) teardownView = view.renderScores(root); })
    .catch(() => toast('The scores page could not be loaded. Check your connection.', 'error'));
  return () => { left = true; if (typeof teardownView === 'function') teardownView(); };
};
TITLES.scores = 'Scores';
const main = document.getElementById('main');
const nav = document.getElementById('nav');
const account = document.getElementById('account');
let teardown = null;
let current = null;

function currentView() {
  const name = location.hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return VIEWS[name] ? name : 'search';
}

function show(name, { focus = false } = {}) {
  if (typeof teardown === 'function') teardown();
  teardown = null;
  const loggedIn = hasSession();
  nav.hidden = !loggedIn;
  account.hidden = !loggedIn;
  if (!loggedIn) {
    current = 'login';
    document.title = 'Log in · Melody Studio';
    teardown = renderLogin(main);
    if (focus) focusHeading(main);
    return;
  }
  current = name;
  document.title = `${TITLES[name]} · Melody Studio`;
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.view === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  teardown = VIEWS[name](main);
  if (focus) focusHeading(main);
}

window.addEventListener('hashchange', () => {
  // On a phone the expanded player (waveform, stems, sing-along) covers most of the screen: going
  // to another tab folds it back to the mini bar, so the page the listener asked for is usable.
  if (window.matchMedia('(max-width: 480px)').matches) player().setExpanded(false);
  show(currentView(), { focus: true });
});

onSessionChange((loggedIn, reason) => {
  if (loggedIn && reason === 'refreshed') return;
  if (loggedIn) {
    loadLibrary();
    if (current === 'login') show(currentView(), { focus: true });
    return;
  }
  resetLibrary();
  resetUploads();
  resetHome();
  resetOffline();
  player().stop();
  if (reason && reason !== 'logout') toast('Your session ended. Please log in again.', 'error');
  show('login', { focus: true });
});

async function logOut() {
  setMenu(false);
  await logout();
  toast('You are logged out.');
}
document.getElementById('logout-btn').addEventListener('click', logOut);
// Narrow screens: Scores and Log out live in the menu, so the tabs that matter most fit one row.
document.getElementById('logout-menu-btn').addEventListener('click', logOut);

// The header's "More options" menu: Languages, Install. Escape or a click elsewhere closes it.
const menuBtn = document.getElementById('menu-btn');
const menuList = document.getElementById('menu-list');
function setMenu(open, { focus = false } = {}) {
  menuList.hidden = !open;
  menuBtn.setAttribute('aria-expanded', String(open));
  if (open && focus) {
    const first = menuList.querySelector('button:not([hidden])');
    if (first) first.focus();
  }
}
menuBtn.addEventListener('click', () => setMenu(menuList.hidden, { focus: true }));
menuList.addEventListener('keydown', (event) => {
  const items = [...menuList.querySelectorAll('button:not([hidden])')];
  const at = items.indexOf(document.activeElement);
  if (event.key === 'Escape') { setMenu(false); menuBtn.focus(); }
  else if (event.key === 'ArrowDown') { event.preventDefault(); items[(at + 1) % items.length].focus(); }
  else if (event.key === 'ArrowUp') { event.preventDefault(); items[(at - 1 + items.length) % items.length].focus(); }
});
document.addEventListener('click', (event) => {
  if (!menuList.hidden && !event.target.closest('.menu')) setMenu(false);
});
document.getElementById('languages-btn').addEventListener('click', () => {
  setMenu(false);
  openLanguagePicker();
});
document.getElementById('developer-btn').addEventListener('click', () => {
  setMenu(false);
  location.hash = '#/developer';
});
document.getElementById('scores-btn').addEventListener('click', () => {
  setMenu(false);
  location.hash = '#/scores';
});

// Space plays or pauses, unless the user is typing or on a control that Space already works.
const TYPING = 'input, textarea, select, button, a[href], summary, [contenteditable=""], [contenteditable="true"], [role="slider"], [role="menuitem"], [role="radio"]';
document.addEventListener('keydown', (event) => {
  if (event.key !== ' ' && event.code !== 'Space') return;
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  const target = event.target instanceof Element ? event.target : null;
  if (target && (target.closest(TYPING) || target.isContentEditable)) return;
  const p = player();
  if (document.getElementById('player').hidden || document.getElementById('player-toggle').disabled) return;
  event.preventDefault(); // not a page scroll
  p.togglePlay();
});

// Offline banner.
const banner = document.getElementById('offline-banner');
const syncOnline = () => { banner.hidden = navigator.onLine !== false; };
window.addEventListener('online', () => { syncOnline(); if (hasSession()) loadLibrary(); });
window.addEventListener('offline', syncOnline);
syncOnline();

// Install prompt (Chromium): offer our own button.
let deferredPrompt = null;
const installBtn = document.getElementById('install-btn');
window.addEventListener('beforeinstallprompt', (event) => {
  event.preventDefault();
  deferredPrompt = event;
  installBtn.hidden = false;
});
installBtn.addEventListener('click', async () => {
  if (!deferredPrompt) return;
  deferredPrompt.prompt();
  await deferredPrompt.userChoice.catch(() => null);
  deferredPrompt = null;
  installBtn.hidden = true;
});
window.addEventListener('appinstalled', () => { installBtn.hidden = true; });

if ('serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {
      /* the app still works without offline support */
    });
  });
  // Once the worker controls the page, fetch the library through it so it is cached for offline.
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (hasSession() && navigator.onLine !== false) loadLibrary();
  });
}

// Boot.
player();
loadOffline();
show(currentView());
if (hasSession()) {
  loadLibrary();
  // Touch the session early so an expired refresh token sends the user to the login form.
  api('/users/me', { offlineFallback: true }).catch(() => {});
}
document.documentElement.classList.add('js-ready');
