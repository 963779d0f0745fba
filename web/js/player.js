// The bottom player: one <audio>, play/pause, a seekable waveform, the original/instrumental/vocals
// switch (keeping the position), the analysis (tempo, key with Camelot, loudness) and Save.

import { api, ApiError, describeError } from './api.js';
import { formatTime, h, clear, paintCover, toast } from './ui.js';
import { Waveform, parseWaveform } from './waveform.js';
import { isSaved, toggleSaved, recordPlay, onLibraryChange } from './store.js';

const $ = (id) => document.getElementById(id);

/** Find playable URLs in a track, library item, or job status, whatever its nesting. */
export function extractMedia(...sources) {
  const media = { original: null, instrumental: null, vocals: null, waveform: null, analysis: null };
  const visit = (obj) => {
    if (!obj || typeof obj !== 'object') return;
    media.original ||= obj.original_url || obj.audio_url || obj.stream_url || obj.preview_url || null;
    media.instrumental ||= obj.instrumental_url || null;
    media.vocals ||= obj.vocals_url || null;
    media.waveform ||= obj.waveform_url || null;
    media.analysis ||= obj.analysis || null;
    for (const key of ['results', 'media', 'stems', 'instrumental', 'job']) {
      if (obj[key] && typeof obj[key] === 'object') visit(obj[key]);
    }
  };
  sources.forEach(visit);
  return media;
}

function describeKey(key) {
  if (!key || !key.tonic) return null;
  const mode = key.mode ? ` ${key.mode}` : '';
  const camelot = key.camelot ? ` · ${key.camelot}` : '';
  return `${key.tonic}${mode}${camelot}`;
}

export function analysisChips(analysis) {
  if (!analysis) return [];
  const chips = [];
  const bpm = analysis.tempo && analysis.tempo.bpm;
  if (Number.isFinite(bpm)) chips.push(['Tempo', `${Math.round(bpm)} BPM`]);
  const key = describeKey(analysis.key);
  if (key) chips.push(['Key', key]);
  const lufs = analysis.loudness && analysis.loudness.integrated_lufs;
  if (Number.isFinite(lufs)) chips.push(['Loudness', `${lufs.toFixed(1)} LUFS`]);
  if (Number.isFinite(analysis.energy)) chips.push(['Energy', `${Math.round(analysis.energy * 100)}%`]);
  return chips;
}

export function renderChips(list, analysis) {
  clear(list);
  for (const [label, value] of analysisChips(analysis)) {
    list.append(h('li', { class: 'chip' }, h('span', { class: 'chip-label' }, `${label} `), value));
  }
}

class Player {
  constructor() {
    this.root = $('player');
    this.audio = $('audio');
    this.toggle = $('player-toggle');
    this.save = $('player-save');
    this.stems = $('stems');
    this.msg = $('player-msg');
    this.track = null;
    this.media = null;
    this.stem = 'original';
    this.countedPlay = false;
    this.loadToken = 0;
    this.waveform = new Waveform($('waveform'), { onSeek: (t) => this.seek(t) });

    this.toggle.addEventListener('click', () => this.togglePlay());
    this.save.addEventListener('click', () => this.toggleSave());
    this.stems.addEventListener('change', (event) => {
      if (event.target.name === 'stem') this.switchStem(event.target.value);
    });
    const a = this.audio;
    a.addEventListener('timeupdate', () => this.tick());
    a.addEventListener('durationchange', () => this.tick());
    a.addEventListener('loadedmetadata', () => this.tick());
    a.addEventListener('play', () => this.syncButton());
    a.addEventListener('pause', () => this.syncButton());
    a.addEventListener('ended', () => this.syncButton());
    a.addEventListener('playing', () => {
      this.message('');
      if (!this.countedPlay && this.track && this.track.id) {
        this.countedPlay = true;
        recordPlay(this.track.id);
      }
    });
    a.addEventListener('error', () => {
      if (a.getAttribute('src')) this.message('This audio could not be played.');
    });
    onLibraryChange(() => this.syncSave());
    // Keep page content and toasts clear of the fixed player, whatever its height (CSSOM, CSP-safe).
    if ('ResizeObserver' in window) {
      new ResizeObserver(() => {
        const height = this.root.hidden ? 0 : Math.ceil(this.root.getBoundingClientRect().height);
        document.body.style.setProperty('--player-h', `${height}px`);
      }).observe(this.root);
    }
    if ('mediaSession' in navigator) {
      const ms = navigator.mediaSession;
      try {
        ms.setActionHandler('play', () => this.audio.play());
        ms.setActionHandler('pause', () => this.audio.pause());
        ms.setActionHandler('seekto', (d) => this.seek(d.seekTime));
      } catch { /* unsupported action */ }
    }
  }

  message(text) {
    this.msg.textContent = text;
  }

  /**
   * Load something into the player. `track` has {id, title, artists, ...}; `extra` may be a job
   * status or library item carrying stems and analysis. Catalog tracks are looked up for media.
   */
  async load(track, extra = null, { autoplay = true, stem = 'original' } = {}) {
    const token = ++this.loadToken;
    if (this.restore) this.audio.removeEventListener('loadedmetadata', this.restore);
    this.restore = null;
    this.pendingPosition = null;
    this.track = track;
    this.countedPlay = false;
    this.root.hidden = false;
    document.body.classList.add('has-player');
    $('player-title').textContent = track.title || 'Untitled';
    $('player-sub').textContent = [(track.artists || []).join(', '), track.title_latin && track.title_latin !== track.title ? track.title_latin : null]
      .filter(Boolean).join(' · ');
    paintCover($('player-cover'), track.title || '');
    this.audio.pause();
    this.audio.removeAttribute('src');
    this.audio.load();
    this.toggle.disabled = true;
    this.waveform.setPeaks(null);
    this.waveform.setTime(0, 0);
    renderChips($('analysis'), null);
    this.stems.hidden = true;
    this.syncSave();
    this.message('Loading…');

    let media = extractMedia(track, extra);
    if (!media.original && !media.instrumental && track.id && !extra) {
      try {
        const detail = await api(`/music/track/${encodeURIComponent(track.id)}`);
        if (token !== this.loadToken) return;
        media = extractMedia(detail, track);
        Object.assign(track, { ...detail, title: detail.title || track.title });
      } catch (err) {
        if (token !== this.loadToken) return;
        if (!(err instanceof ApiError && err.routeMissing)) {
          this.message(describeError(err, 'Track details'));
          return;
        }
      }
    }
    this.media = media;
    renderChips($('analysis'), media.analysis);
    const available = ['original', 'instrumental', 'vocals'].filter((k) => media[k]);
    if (!available.length) {
      this.message('No audio for this song yet. Upload your copy to get the music and an instrumental.');
      this.tick();
      return;
    }
    const hasStems = Boolean(media.instrumental || media.vocals);
    this.stems.hidden = !hasStems;
    for (const input of this.stems.querySelectorAll('input')) {
      input.disabled = !media[input.value];
      input.closest('label').hidden = !media[input.value];
    }
    this.stem = media[stem] ? stem : available[0];
    const radio = this.stems.querySelector(`input[value="${this.stem}"]`);
    if (radio) radio.checked = true;
    this.audio.src = media[this.stem];
    this.toggle.disabled = false;
    this.message('');
    this.setMediaSession();
    if (media.waveform) this.loadWaveform(media.waveform, token);
    if (autoplay) this.play();
  }

  async loadWaveform(url, token) {
    try {
      const response = await fetch(url, { credentials: 'same-origin' });
      if (!response.ok) throw new Error(String(response.status));
      const { peaks } = parseWaveform(await response.json());
      if (token === this.loadToken) this.waveform.setPeaks(peaks);
    } catch {
      /* no waveform: the plain progress line stays */
    }
  }

  async play() {
    try {
      await this.audio.play();
    } catch (err) {
      if (err && err.name === 'NotAllowedError') this.message('Press play to start.');
      else if (err && err.name !== 'AbortError') this.message('This audio could not be played.');
    }
    this.syncButton();
  }

  togglePlay() {
    if (this.audio.paused) this.play();
    else this.audio.pause();
  }

  seek(seconds) {
    if (!Number.isFinite(seconds)) return;
    if (this.pendingPosition != null) { this.pendingPosition = seconds; this.tick(); return; }
    try { this.audio.currentTime = seconds; } catch { /* not seekable yet */ }
    this.tick();
  }

  /** Switch original/instrumental/vocals, keeping the position and the play state. */
  switchStem(stem) {
    if (!this.media || !this.media[stem] || stem === this.stem) return;
    // Mid-switch (a second click before the first loaded) keep the position we were restoring.
    const position = this.pendingPosition ?? (this.audio.currentTime || 0);
    const wasPlaying = this.pendingPosition != null ? this.pendingPlaying : !this.audio.paused;
    this.pendingPosition = position;
    this.pendingPlaying = wasPlaying;
    this.stem = stem;
    if (this.restore) this.audio.removeEventListener('loadedmetadata', this.restore);
    this.restore = () => {
      const target = this.pendingPosition ?? position; // a seek during the switch wins
      this.restore = null;
      this.pendingPosition = null;
      try { this.audio.currentTime = Math.min(target, this.audio.duration || target); } catch { /* ignore */ }
      if (wasPlaying) this.play();
    };
    this.audio.addEventListener('loadedmetadata', this.restore, { once: true });
    this.audio.src = this.media[stem];
    this.audio.load();
    toast(`Playing the ${stem} version`);
  }

  tick() {
    const { duration } = this.audio;
    const currentTime = this.pendingPosition ?? this.audio.currentTime;
    const fallback = this.media && this.media.analysis && this.media.analysis.duration_s;
    const total = Number.isFinite(duration) && duration > 0 ? duration : (fallback || (this.track && this.track.duration_s) || 0);
    $('player-time').textContent = formatTime(currentTime);
    $('player-duration').textContent = formatTime(total);
    this.waveform.setTime(currentTime, total);
  }

  syncButton() {
    const playing = !this.audio.paused && !this.audio.ended;
    this.toggle.setAttribute('aria-label', playing ? 'Pause' : 'Play');
    this.toggle.classList.toggle('is-playing', playing);
  }

  syncSave() {
    const id = this.track && this.track.id;
    this.save.hidden = !id;
    if (!id) return;
    const saved = isSaved(id);
    this.save.setAttribute('aria-pressed', String(saved));
    this.save.textContent = saved ? 'Saved' : 'Save';
    this.save.setAttribute('aria-label', saved ? 'Remove from library' : 'Save to library');
  }

  async toggleSave() {
    if (!this.track) return;
    try {
      const saved = await toggleSaved(this.track);
      toast(saved ? 'Saved to your library' : 'Removed from your library');
    } catch (err) {
      toast(describeError(err, 'The library'), 'error');
    }
  }

  setMediaSession() {
    if (!('mediaSession' in navigator) || !window.MediaMetadata) return;
    navigator.mediaSession.metadata = new MediaMetadata({
      title: this.track.title || '',
      artist: (this.track.artists || []).join(', '),
      album: this.track.album || '',
      artwork: [{ src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' }],
    });
  }

  stop() {
    this.loadToken += 1;
    this.audio.pause();
    this.audio.removeAttribute('src');
    this.audio.load();
    this.track = null;
    this.root.hidden = true;
    document.body.classList.remove('has-player');
  }
}

let instance = null;
export function player() {
  if (!instance) instance = new Player();
  return instance;
}
