// The bottom player: one <audio>, play/pause, a seekable waveform, the original/instrumental/vocals
// switch (keeping the position), the analysis (tempo, key with Camelot, loudness) and Save.
// The sing-along panel (key/tempo, vocal guide, A–B loop, count-in, lyrics: js/singalong/) is
// loaded on demand when a song opens, so it costs nothing on the first load of the app.

import { api, ApiError, describeError } from './api.js';
import { formatTime, h, clear, paintCover, stageLabel, toast } from './ui.js';
import { Waveform, parseWaveform } from './waveform.js';
import { isSaved, toggleSaved, recordPlay, onLibraryChange, loadLibrary, pendingUpload } from './store.js';
import {
  offlineKey, offlineUrl, isOffline, loadOffline, saveOffline, removeOffline, onOfflineChange,
  offlineSupported, AUDIO_CACHE,
} from './offline.js';

const $ = (id) => document.getElementById(id);

/** Find playable URLs in a track, library item, or job status, whatever its nesting. */
export function extractMedia(...sources) {
  // drums/bass/other: the extra stems of a multi-stem engine (neural), when the job has them
  const media = { original: null, instrumental: null, vocals: null, drums: null, bass: null, other: null, waveform: null, analysis: null };
  const visit = (obj) => {
    if (!obj || typeof obj !== 'object') return;
    media.original ||= obj.original_url || obj.audio_url || obj.stream_url || obj.preview_url || null;
    media.instrumental ||= obj.instrumental_url || null;
    media.vocals ||= obj.vocals_url || null;
    media.drums ||= obj.drums_url || null;
    media.bass ||= obj.bass_url || null;
    media.other ||= obj.other_url || null;
    media.waveform ||= obj.waveform_url || null;
    media.analysis ||= obj.analysis || null;
    for (const key of ['results', 'media', 'stems', 'instrumental', 'job']) {
      if (obj[key] && typeof obj[key] === 'object') visit(obj[key]);
    }
  };
  sources.forEach(visit);
  return media;
}

const hasMedia = (media) => Boolean(media.original || media.instrumental || media.vocals);

/**
 * The caller's instrumental of a catalog track, from a library item or track details:
 * {status: none|pending|processing|completed|failed, jobId} (the API only ever names the caller's own job).
 */
export function instrumentalOf(...sources) {
  const linked = sources.find((s) => s && s.instrumental_job_id);
  if (linked) return { status: linked.instrumental_status || 'pending', jobId: linked.instrumental_job_id };
  const known = sources.find((s) => s && s.instrumental_status);
  return { status: (known && known.instrumental_status) || 'none', jobId: null };
}

function percent(probability) {
  return Number.isFinite(probability) ? ` (${Math.round(probability * 100)}%)` : '';
}

function describeKey(key) {
  if (!key || !key.tonic) return null;
  const mode = key.mode ? ` ${key.mode}` : '';
  const camelot = key.camelot ? ` · ${key.camelot}` : '';
  return `${key.tonic}${mode}${camelot}${percent(key.confidence)}`;
}

export function analysisChips(analysis) {
  if (!analysis) return [];
  const chips = [];
  const tempo = analysis.tempo || {};
  if (Number.isFinite(tempo.bpm)) chips.push(['Tempo', `${Math.round(tempo.bpm)} BPM`]);
  if (tempo.time_signature) chips.push(['Time', tempo.time_signature]);
  const key = describeKey(analysis.key);
  if (key) chips.push(['Key', key]);
  const lufs = analysis.loudness && analysis.loudness.integrated_lufs;
  if (Number.isFinite(lufs)) chips.push(['Loudness', `${lufs.toFixed(1)} LUFS`]);
  if (Number.isFinite(analysis.energy)) chips.push(['Energy', `${Math.round(analysis.energy * 100)}%`]);
  return chips;
}

const PROVIDERS = { spotify: 'Spotify', youtube: 'YouTube', youtube_music: 'YouTube Music', apple_music: 'Apple Music', jiosaavn: 'JioSaavn', gaana: 'Gaana' };

/** "Listen on Spotify / YouTube": plain links from a track's external_links (https only). */
export function externalLinks(track) {
  const seen = new Set();
  const links = [];
  for (const link of (track && track.external_links) || []) {
    if (!link || typeof link.url !== 'string' || !/^https:\/\//i.test(link.url)) continue;
    const provider = String(link.provider || '').toLowerCase();
    const name = PROVIDERS[provider] || (provider ? provider.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()) : 'the web');
    if (seen.has(name)) continue;
    seen.add(name);
    links.push(h('a', {
      class: `ext-link ext-${provider.replace(/[^a-z0-9]/g, '') || 'web'}`, href: link.url, target: '_blank',
      rel: 'noopener noreferrer', 'aria-label': `Listen on ${name} (opens in a new tab)`,
    }, `Listen on ${name}`));
  }
  return links;
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
    // The caller's instrumental of the current catalog song ({status, jobId}; see instrumentalOf).
    this.link = { status: 'none', jobId: null };
    // What the message line says about the song (kept while it plays; 'Loading…' and the like are not).
    this.note = '';
    this.countedPlay = false;
    this.loadToken = 0;
    this.pollTimer = 0;
    // One action under the message: make (or retry) the instrumental of a catalog song with audio.
    this.action = h('button', { type: 'button', class: 'btn btn-small btn-primary', id: 'player-convert' }, 'Make instrumental');
    this.actionRow = h('div', { class: 'row', hidden: true }, this.action);
    this.msg.after(this.actionRow);
    this.action.addEventListener('click', () => this.convert());
    // A catalog song without audio: upload the user's own copy of it.
    this.uploadBtn = h('button', { type: 'button', class: 'btn btn-small btn-primary', id: 'player-upload', hidden: true }, 'Upload your copy');
    this.actionRow.append(this.uploadBtn);
    this.uploadBtn.addEventListener('click', () => this.uploadCopy());
    this.links = $('player-links');
    this.offlineBtn = $('player-offline');
    this.offlineBtn.addEventListener('click', () => this.toggleOffline());
    onOfflineChange(() => this.syncOffline());
    this.expand = $('player-expand');
    this.expand.addEventListener('click', () => {
      this.userSized = true; // the user's choice wins over the automatic expand below
      this.setExpanded(!this.root.classList.contains('is-expanded'));
    });
    // Wide screens show everything; a narrow one starts as a mini bar (expand for waveform and stems).
    this.setExpanded(!window.matchMedia('(max-width: 480px)').matches);
    this.waveform = new Waveform($('waveform'), { onSeek: (t) => this.seek(t) });
    this.singalong = null;
    this.singalongLoading = null;

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
      this.message(this.note);
      // An upload's play counts on its own library entry (`play_id`, its job id).
      const playId = this.track && (this.track.play_id || this.track.id);
      if (!this.countedPlay && playId) {
        this.countedPlay = true;
        recordPlay(playId);
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

  /** A passing message (loading, press play): playback brings back the song's status line. */
  message(text) {
    this.msg.textContent = text;
  }

  /** The song's status line (no instrumental yet, its progress, why it failed): kept while it plays. */
  status(text) {
    this.note = text;
    this.message(text);
  }

  /**
   * Load something into the player. `track` has {id, title, artists, ...}; `extra` may be a job
   * status carrying stems and analysis, or a library item. A catalog track is looked up for details:
   * they carry a short-lived URL of its original audio (`audio_url`, when it has audio), which plays;
   * when the user has an instrumental job for it, that job's status adds the instrumental and vocals.
   * `stem` is the version to start with when there is a choice (the library asks for the instrumental).
   */
  async load(track, extra = null, { autoplay = true, stem = 'original' } = {}) {
    const token = ++this.loadToken;
    clearTimeout(this.pollTimer);
    this.actionRow.hidden = true;
    this.uploadBtn.hidden = true;
    this.action.hidden = false;
    clear(this.links);
    this.offlineBtn.hidden = true;
    this.extra = extra;
    if (this.restore) this.audio.removeEventListener('loadedmetadata', this.restore);
    this.restore = null;
    this.pendingPosition = null;
    this.track = track;
    this.media = null;
    this.baseMedia = null; // the original stems while a key/tempo rendition plays
    if (this.singalong) this.singalong.reset();
    this.link = { status: 'none', jobId: null };
    this.note = '';
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

    await loadOffline();
    if (token !== this.loadToken) return;
    const key = offlineKey(track, extra);
    const saved = isOffline(key);
    let media = extractMedia(track, extra);
    let link = instrumentalOf(extra, track);
    if (saved && navigator.onLine === false) {
      // Saved on this device and no network: play the copy in Cache Storage.
      this.start({ ...media, original: await this.offlineSource(key) }, token, { autoplay, stem: 'original' });
      return;
    }
    if (!hasMedia(media) && track.id) {
      // A catalog song: its details say whether it has audio (and sign a URL of the original) and
      // link the caller's newest instrumental of it.
      try {
        const detail = await api(`/music/track/${encodeURIComponent(track.id)}`);
        if (token !== this.loadToken) return;
        media = extractMedia(detail, track);
        link = instrumentalOf(detail);
        Object.assign(track, { ...detail, title: detail.title || track.title });
      } catch (err) {
        if (token !== this.loadToken) return;
        if (saved) {
          this.start({ ...media, original: await this.offlineSource(key) }, token, { autoplay, stem: 'original' });
          return;
        }
        // Without details a linked instrumental still plays from its job.
        if (!(err instanceof ApiError && err.routeMissing) && !link.jobId) {
          this.status(describeError(err, 'Track details'));
          return;
        }
      }
    }
    this.link = link;
    this.renderLinks();
    // A song kept on this device plays from there (no data used), whatever the network says.
    if (saved && (media.original || !hasMedia(media))) media = { ...media, original: await this.offlineSource(key) };
    if (token !== this.loadToken) return;
    if (link.jobId && !media.instrumental && !media.vocals) {
      // The user's instrumental of a catalog song: its stems come from the job's (owner-only)
      // status. Until it is ready, or when it failed, the original plays.
      if (media.original && link.status !== 'completed') this.start(media, token, { autoplay, stem: 'original' });
      await this.loadJob(link.jobId, token, { autoplay, stem, base: media });
      return;
    }
    this.start(media, token, { autoplay, stem });
  }

  /** Show the job behind an instrumental: play its stems, follow its progress, or say why it failed. */
  async loadJob(jobId, token, options) {
    clearTimeout(this.pollTimer);
    let job;
    try {
      job = await api(`/audio/conversion-status/${encodeURIComponent(jobId)}`);
    } catch (err) {
      if (token !== this.loadToken) return;
      if (err instanceof ApiError && (err.offline || err.status >= 500 || err.status === 429) && !this.root.hidden) {
        this.status(`${describeError(err, 'The instrumental')} Retrying…`);
        this.pollTimer = setTimeout(() => this.loadJob(jobId, token, options), ((err.retryAfter || 5) * 1000));
        return;
      }
      // No stems after all: the original (if the song has one) still plays.
      const { base } = options;
      if (base && base.original && !this.audio.getAttribute('src')) this.start(base, token, { ...options, stem: 'original' });
      this.status(describeError(err, 'The instrumental'));
      return;
    }
    if (token !== this.loadToken) return;
    if (options.polled && (job.status === 'succeeded' || job.status === 'failed')) loadLibrary(); // fresh badges
    if (job.status === 'succeeded') {
      const media = extractMedia(job, options.base);
      if (media.instrumental || media.vocals) {
        this.link = { status: 'completed', jobId };
        this.present(media, token, options);
        return;
      }
      this.status('The instrumental is ready, but its files could not be found.');
      return;
    }
    if (job.status === 'failed') {
      const reason = (job.error && job.error.message) || 'unknown error';
      this.link = { status: 'failed', jobId };
      this.status(`The instrumental could not be made: ${reason}`);
      this.offerConvert('Try again');
      return;
    }
    const pct = Math.max(0, Math.min(100, Math.round(job.progress || 0)));
    this.status(`Making the instrumental: ${stageLabel(job) || 'Queued'} — ${pct}%`);
    this.pollTimer = setTimeout(() => this.loadJob(jobId, token, { ...options, polled: true }), 1500);
  }

  /** For a catalog song with audio (and no instrumental of this user's yet): offer to make one. */
  offerConvert(label = 'Make instrumental') {
    if (!this.track || !this.track.id || !this.track.has_audio) return;
    this.action.textContent = label;
    this.action.disabled = false;
    this.action.setAttribute('aria-label', `${label}: ${this.track.title || 'this song'}`);
    this.actionRow.hidden = false;
  }

  /** For a catalog song without audio: a button to the upload flow, for this song. */
  offerUpload() {
    if (!this.track || !this.track.id) return;
    this.action.hidden = true;
    this.uploadBtn.hidden = false;
    this.uploadBtn.setAttribute('aria-label', `Upload your copy of ${this.track.title || 'this song'}`);
    this.actionRow.hidden = false;
  }

  uploadCopy() {
    if (!this.track) return;
    const { id, title, title_latin: latin, artists } = this.track;
    pendingUpload.track = { id, title, title_latin: latin, artists };
    if (location.hash === '#/upload') window.dispatchEvent(new Event('hashchange'));
    else location.hash = '#/upload';
  }

  /** Where the saved copy plays from: the service worker's URL (Range-capable), or a blob without it. */
  async offlineSource(key) {
    if (navigator.serviceWorker && navigator.serviceWorker.controller) return offlineUrl(key);
    try {
      const response = await (await caches.open(AUDIO_CACHE)).match(offlineUrl(key));
      if (response) {
        if (this.blobUrl) URL.revokeObjectURL(this.blobUrl);
        this.blobUrl = URL.createObjectURL(await response.blob());
        return this.blobUrl;
      }
    } catch { /* fall through */ }
    return offlineUrl(key);
  }

  renderLinks() {
    clear(this.links);
    const links = externalLinks(this.track);
    this.links.hidden = !links.length;
    this.links.append(...links);
  }

  syncOffline() {
    const key = offlineKey(this.track, this.extra);
    const playable = Boolean(this.media && this.media[this.stem]);
    this.offlineBtn.hidden = !key || !playable || !offlineSupported();
    if (this.offlineBtn.hidden) return;
    const saved = isOffline(key);
    this.offlineBtn.setAttribute('aria-pressed', String(saved));
    this.offlineBtn.textContent = saved ? 'Offline ✓' : 'Save offline';
    this.offlineBtn.setAttribute('aria-label', saved ? 'Saved for offline: remove from this device' : 'Save for offline');
  }

  async toggleOffline() {
    const key = offlineKey(this.track, this.extra);
    if (!key || !this.media) return;
    const btn = this.offlineBtn;
    btn.disabled = true;
    try {
      if (isOffline(key)) {
        await removeOffline(key);
        toast('Removed from this device');
      } else {
        btn.textContent = 'Saving…';
        const url = this.media.original || this.media[this.stem];
        await saveOffline(key, url, this.track);
        toast(`“${this.track.title || 'This song'}” is saved for offline`);
      }
    } catch (err) {
      toast(err instanceof ApiError ? describeError(err, 'Saving offline')
        : (err && err.name === 'QuotaExceededError' ? 'There is no room left on this device.' : 'This song could not be saved for offline.'), 'error');
    } finally {
      btn.disabled = false;
      this.syncOffline();
    }
  }

  setExpanded(expanded) {
    this.root.classList.toggle('is-expanded', expanded);
    this.expand.setAttribute('aria-expanded', String(expanded));
    this.expand.setAttribute('aria-label', expanded ? 'Collapse player' : 'Expand player');
  }

  async convert() {
    const { track } = this;
    if (!track || !track.id) return;
    const token = this.loadToken;
    this.action.disabled = true;
    this.status('Starting the instrumental…');
    try {
      const job = await api('/audio/convert-to-instrumental', { method: 'POST', body: { track_id: track.id } });
      if (token !== this.loadToken) return;
      this.actionRow.hidden = true;
      this.link = { status: 'pending', jobId: job.job_id };
      loadLibrary(); // its badge now says queued
      // The original keeps playing meanwhile; when the stems are ready the player moves to the instrumental.
      const base = this.media ? { original: this.media.original } : null;
      await this.loadJob(job.job_id, token, { autoplay: true, stem: 'instrumental', base });
    } catch (err) {
      if (token !== this.loadToken) return;
      this.action.disabled = false;
      this.status(describeError(err, 'Making the instrumental'));
    }
  }

  /** Put resolved media in the player: the stem switch, the analysis, the waveform. */
  start(media, token, { autoplay = true, stem = 'original' } = {}) {
    this.media = media;
    renderChips($('analysis'), media.analysis);
    const available = ['original', 'instrumental', 'vocals'].filter((k) => media[k]);
    // A catalog song with audio that this user has not converted (or whose job failed): offer it.
    const canConvert = Boolean(this.track && this.track.has_audio && !this.link.jobId);
    if (!available.length) {
      if (this.track && this.track.has_audio) {
        this.status('No instrumental of this song yet.');
        if (canConvert) this.offerConvert();
      } else {
        this.status('No audio for this song yet. Upload your copy to get the music and an instrumental.');
        this.offerUpload();
      }
      this.tick();
      return;
    }
    this.stem = media[stem] ? stem : available[0];
    this.showStems();
    this.audio.src = media[this.stem];
    this.toggle.disabled = false;
    this.syncOffline();
    if (canConvert && !media.instrumental && !media.vocals) {
      this.status('No instrumental of this song yet.');
      this.offerConvert();
    } else {
      this.status('');
    }
    this.setMediaSession();
    if (media.waveform) this.loadWaveform(media.waveform, token);
    this.openSingAlong(token);
    if (autoplay) this.play();
  }

  /** The original/instrumental/vocals switch for `this.media`, with `this.stem` selected. */
  showStems() {
    const { media } = this;
    this.stems.hidden = !(media.instrumental || media.vocals);
    // The original/instrumental/vocals switch is what a karaoke song is for: a mini bar opens for it
    // (unless the user has chosen the player's size).
    if (!this.stems.hidden && !this.userSized) this.setExpanded(true);
    for (const input of this.stems.querySelectorAll('input')) {
      input.disabled = !media[input.value];
      input.closest('label').hidden = !media[input.value];
    }
    const radio = this.stems.querySelector(`input[value="${this.stem}"]`);
    if (radio) radio.checked = true;
  }

  /**
   * Stems that became ready for the song in the player: when its original is already playing, keep
   * it going (same URL, same position), offer the switch and move to `stem` keeping the position;
   * otherwise start afresh.
   */
  present(media, token, options) {
    const current = this.media && this.audio.getAttribute('src') ? this.media[this.stem] : null;
    if (!current) {
      this.start(media, token, options);
      return;
    }
    this.media = { ...media, [this.stem]: current };
    renderChips($('analysis'), media.analysis);
    this.showStems();
    this.status('');
    if (media.waveform) this.loadWaveform(media.waveform, token);
    if (options.stem && this.media[options.stem] && options.stem !== this.stem) {
      this.switchStem(options.stem);
      this.showStems();
    }
    this.openSingAlong(token);
  }

  /** The conversion job behind the stems (an upload's status, or the user's job for a catalog song). */
  jobId() {
    return (this.extra && this.extra.job_id) || this.link.jobId || null;
  }

  /** "Melody": a link to the lead sheet of the converted song being played (issue 12; #/melody). */
  syncMelody() {
    const jobId = this.media && (this.media.instrumental || this.media.vocals) ? this.jobId() : null;
    if (!this.melodyLink) {
      this.melodyLink = h('a', { class: 'btn btn-small', id: 'player-melody', hidden: true }, 'Melody');
      this.offlineBtn.after(this.melodyLink); // beside "Save offline": the external links row is rebuilt per song
    }
    this.melodyLink.hidden = !jobId;
    if (jobId) this.melodyLink.href = `#/melody?job=${encodeURIComponent(jobId)}`;
  }

  /** Load the sing-along panel (once) and give it the song: its stems and job, its lyrics id. */
  async openSingAlong(token) {
    this.syncMelody();
    const songId = (this.track && this.track.id) || this.jobId();
    const media = this.media;
    if (!media || (!songId && !media.instrumental)) return;
    try {
      if (!this.singalong) {
        this.singalongLoading ||= import('./singalong/panel.js');
        const { SingAlong } = await this.singalongLoading;
        if (!this.singalong) {
          this.singalong = new SingAlong(this);
          this.singalong.mount(this.root.querySelector('.player-extra'));
        }
      }
    } catch {
      this.singalongLoading = null; // offline before it was cached: the player works without it
      return;
    }
    if (token !== this.loadToken) return;
    if (media.instrumental || media.vocals) {
      this.singalong.attach(media, { jobId: this.jobId(), songId });
    } else {
      this.singalong.attachLyrics(songId);
    }
  }

  /**
   * Play other stems of the same song (a key/tempo rendition, or back to the original stems) from
   * `position`, keeping the play state. The original recording has no rendition: while one plays,
   * the switch offers the instrumental and vocals only.
   */
  useStems({ instrumental, vocals, analysis }, position) {
    if (!this.media) return;
    if (!this.baseMedia) this.baseMedia = { ...this.media };
    const back = this.baseMedia.instrumental === instrumental;
    this.media = back ? { ...this.baseMedia } : { ...this.media, original: null, instrumental, vocals, analysis };
    if (back) this.baseMedia = null;
    if (!this.media[this.stem] || this.stem === 'original') this.stem = this.media.instrumental ? 'instrumental' : 'vocals';
    renderChips($('analysis'), this.media.analysis);
    this.showStems();
    const wasPlaying = this.pendingPosition != null ? this.pendingPlaying : !this.audio.paused;
    this.replaceSource(this.media[this.stem], position, wasPlaying);
    if (this.singalong) this.singalong.setGuide();
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
    if (this.audio.paused && this.singalong && this.singalong.wantsCountIn()) this.singalong.countInThenPlay();
    else if (this.audio.paused) this.play();
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
    this.stem = stem;
    this.replaceSource(this.media[stem], position, wasPlaying);
    if (this.singalong) this.singalong.setGuide();
    toast(`Playing the ${stem} version`);
  }

  /** Load `url` into the element and restore `position` and the play state once it is loaded. */
  replaceSource(url, position, wasPlaying) {
    this.pendingPosition = position;
    this.pendingPlaying = wasPlaying;
    if (this.restore) this.audio.removeEventListener('loadedmetadata', this.restore);
    this.restore = () => {
      const target = this.pendingPosition ?? position; // a seek during the switch wins
      this.restore = null;
      this.pendingPosition = null;
      try { this.audio.currentTime = Math.min(target, this.audio.duration || target); } catch { /* ignore */ }
      if (wasPlaying) this.play();
    };
    this.audio.addEventListener('loadedmetadata', this.restore, { once: true });
    this.audio.src = url;
    this.audio.load();
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
    clearTimeout(this.pollTimer);
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
