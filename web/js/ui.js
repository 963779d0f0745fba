// Small DOM helpers. Everything is built with createElement/textContent: no HTML strings from data,
// no inline styles in markup (CSSOM is used where a computed colour is needed), so a strict CSP holds.

/** h('button', {class: 'btn', onclick: fn, 'aria-label': 'Play'}, 'text', childNode) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== 'string') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : value);
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let toastTimer = 0;
/** A short polite message in the live region. */
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  if (!box) return;
  clear(box);
  box.append(h('p', { class: `toast toast-${kind}` }, message));
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => clear(box), 5000);
}

export function formatTime(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const s = Math.floor(seconds);
  const m = Math.floor(s / 60);
  const hh = Math.floor(m / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(m % 60).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function debounce(fn, ms) {
  let timer = 0;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

function hash(text) {
  let x = 2166136261;
  for (const ch of text) {
    x ^= ch.codePointAt(0);
    x = Math.imul(x, 16777619);
  }
  return x >>> 0;
}

/** A generated cover: a two-colour gradient picked from the title, and its first letter. */
export function cover(title = '', size = '') {
  const el = h('div', { class: `cover ${size}`.trim(), 'aria-hidden': 'true' });
  paintCover(el, title);
  return el;
}

export function paintCover(el, title = '') {
  const n = hash(title || '?');
  const hue = n % 360;
  const hue2 = (hue + 40 + ((n >> 9) % 80)) % 360;
  el.style.backgroundImage = `linear-gradient(135deg, hsl(${hue} 55% 38%), hsl(${hue2} 60% 24%))`;
  // First grapheme (works for Devanagari, Tamil, Hangul...), when segmentation is available.
  let first = '♪';
  const trimmed = (title || '').trim();
  if (trimmed) {
    if (typeof Intl !== 'undefined' && Intl.Segmenter) {
      const seg = new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(trimmed);
      first = seg[Symbol.iterator]().next().value.segment;
    } else {
      first = Array.from(trimmed)[0];
    }
  }
  el.textContent = first.toLocaleUpperCase();
}

export const LANGUAGES = [
  ['', 'All languages'],
  ['hi', 'Hindi'], ['en', 'English'], ['ta', 'Tamil'], ['te', 'Telugu'], ['pa', 'Punjabi'],
  ['bn', 'Bengali'], ['mr', 'Marathi'], ['ml', 'Malayalam'], ['kn', 'Kannada'], ['gu', 'Gujarati'],
  ['ur', 'Urdu'], ['bho', 'Bhojpuri'], ['ko', 'Korean'], ['ja', 'Japanese'], ['es', 'Spanish'],
  ['ar', 'Arabic'], ['fr', 'French'], ['pt', 'Portuguese'], ['de', 'German'], ['it', 'Italian'],
  ['tr', 'Turkish'],
];

const LANGUAGE_NAMES = Object.fromEntries(LANGUAGES.filter(([code]) => code));

export function languageName(code) {
  if (!code) return '';
  if (LANGUAGE_NAMES[code]) return LANGUAGE_NAMES[code];
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' }).of(code) || code;
  } catch {
    return code;
  }
}

/** Focus the view's heading after a navigation, so screen readers announce the new view. */
export function focusHeading(root) {
  const heading = root.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: false });
  }
}

const STAGES = {
  awaiting_upload: 'Waiting for the upload',
  upload: 'Uploading',
  queued: 'Queued',
  probe: 'Checking the file',
  validate: 'Checking the file',
  decode: 'Decoding',
  separate: 'Separating vocals and music',
  separation: 'Separating vocals and music',
  encode: 'Encoding the stems',
  analyse: 'Analysing tempo, key and loudness',
  analyze: 'Analysing tempo, key and loudness',
  analysis: 'Analysing tempo, key and loudness',
  persist: 'Saving the results',
  notify: 'Finishing',
  done: 'Done',
};

/** A conversion job's stage in words (shared by the upload view and the player). */
export function stageLabel(job) {
  const stage = job.stage || job.status || '';
  return STAGES[stage] || (stage ? stage.replace(/[_-]+/g, ' ').replace(/^./, (c) => c.toUpperCase()) : '');
}
