// Upload a song: ask for a presigned POST, send the file with XMLHttpRequest (upload progress),
// then poll the conversion status (stage + percent) until it succeeds or fails.

import { api, describeError, ApiError } from '../api.js';
import { h, clear, toast, formatTime, stageLabel } from '../ui.js';
import { player, renderChips } from '../player.js';
import { loadLibrary, pendingUpload } from '../store.js';

export { stageLabel }; // it lives in ui.js, shared with the player

const TYPES = {
  mp3: 'audio/mpeg', wav: 'audio/wav', m4a: 'audio/mp4', mp4: 'audio/mp4', aac: 'audio/aac',
  flac: 'audio/flac', ogg: 'audio/ogg', oga: 'audio/ogg', opus: 'audio/ogg', webm: 'audio/webm',
};

function contentTypeOf(file) {
  if (file.type && file.type.startsWith('audio/')) return file.type;
  const ext = (file.name.split('.').pop() || '').toLowerCase();
  return TYPES[ext] || file.type || 'application/octet-stream';
}

// The upload in progress survives navigation between views.
const state = { phase: 'idle', file: null, job: null, uploadPct: 0, error: null };
const watchers = new Set();
const notify = () => watchers.forEach((fn) => fn(state));
let pollTimer = 0;

function sendFile(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [key, value] of Object.entries(upload.fields || {})) form.append(key, value);
    form.append('file', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', upload.url);
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(Math.round((event.loaded / event.total) * 100));
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else {
        let message = `The storage refused the upload (HTTP ${xhr.status}).`;
        const text = xhr.responseText || '';
        const xmlMessage = text.match(/<Message>([^<]+)<\/Message>/);
        if (xmlMessage) message = `The upload was refused: ${xmlMessage[1]}`;
        else {
          try {
            const body = JSON.parse(text);
            if (body && body.error && body.error.message) message = `The upload was refused: ${body.error.message}`;
          } catch { /* not JSON */ }
        }
        reject(new Error(message));
      }
    });
    xhr.addEventListener('error', () => reject(new Error('The upload failed: the connection dropped.')));
    xhr.addEventListener('abort', () => reject(new Error('The upload was cancelled.')));
    xhr.send(form);
  });
}

/**
 * Ask for an upload form. With `trackId` the upload is the user's copy of that catalog song; a server
 * that does not know `track_id` yet answers 422 (its body is strict), and the upload goes on without it.
 */
async function createUpload(file, trackId) {
  const body = { filename: file.name, content_type: contentTypeOf(file), size_bytes: file.size };
  if (trackId) {
    try {
      return await api('/audio/uploads', { method: 'POST', body: { ...body, track_id: trackId } });
    } catch (err) {
      // Only a body the server does not accept (it has no track_id field yet) is retried without it.
      if (!(err instanceof ApiError && err.status === 422 && err.code === 'validation_error')) throw err;
    }
  }
  return api('/audio/uploads', { method: 'POST', body });
}

export async function startUpload(file, track = null) {
  clearTimeout(pollTimer);
  Object.assign(state, { phase: 'preparing', file, job: null, uploadPct: 0, error: null, track });
  notify();
  try {
    const created = await createUpload(file, track && track.id);
    if (created.max_bytes && file.size > created.max_bytes) {
      throw new Error(`This file is too large: files up to ${Math.floor(created.max_bytes / 1048576)} MB are accepted.`);
    }
    state.job = { job_id: created.job_id, status: created.status || 'awaiting_upload', progress: 0 };
    state.phase = 'uploading';
    notify();
    await sendFile(created.upload, file, (pct) => { state.uploadPct = pct; notify(); });
    state.uploadPct = 100;
    state.phase = 'converting';
    state.job.status = 'queued';
    notify();
    poll(created.job_id, 0);
  } catch (err) {
    state.phase = 'failed';
    state.error = err instanceof ApiError ? describeError(err, 'Uploading') : err.message;
    notify();
  }
}

function poll(jobId, attempt) {
  clearTimeout(pollTimer);
  const delay = attempt === 0 ? 500 : Math.min(3000, 800 + attempt * 200);
  pollTimer = setTimeout(async () => {
    try {
      const job = await api(`/audio/conversion-status/${encodeURIComponent(jobId)}`);
      if (!state.job || state.job.job_id !== jobId) return;
      state.job = job;
      if (job.status === 'succeeded') {
        state.phase = 'succeeded';
        notify();
        loadLibrary();
        return;
      }
      if (job.status === 'failed') {
        state.phase = 'failed';
        state.error = (job.error && job.error.message) || 'The conversion failed.';
        notify();
        return;
      }
      notify();
      poll(jobId, attempt + 1);
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) {
        pollTimer = setTimeout(() => poll(jobId, attempt + 1), (err.retryAfter || 5) * 1000);
      } else if (err instanceof ApiError && (err.offline || err.status >= 500)) {
        poll(jobId, attempt + 5); // keep trying, more slowly
      } else {
        state.phase = 'failed';
        state.error = describeError(err, 'Conversion status');
        notify();
      }
    }
  }, delay);
}

function jobTrack(job, fallbackName) {
  if (!job.track && state.track && state.job && state.job.job_id === job.job_id) job = { ...job, track: state.track, track_id: state.track.id };
  const name = job.filename || job.title || (job.track && job.track.title) || fallbackName || 'Your upload';
  return {
    ...(job.track || {}),
    id: job.track_id || (job.track && job.track.id) || null,
    title: (job.track && job.track.title) || name.replace(/\.[a-z0-9]+$/i, ''),
    artists: (job.track && job.track.artists) || [],
  };
}

export function playJob(job, fallbackName, stem = 'instrumental') {
  return player().load(jobTrack(job, fallbackName), job, { stem });
}

export function renderUpload(root) {
  clear(root);
  const fileInput = h('input', { id: 'file', name: 'file', type: 'file', accept: 'audio/*,.mp3,.wav,.m4a,.flac,.ogg', required: true, 'aria-describedby': 'file-hint' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Upload and convert');
  const form = h('form', { class: 'card form', id: 'upload-form' },
    h('div', { class: 'field' },
      h('label', { for: 'file' }, 'Song file'),
      fileInput,
      h('p', { class: 'hint', id: 'file-hint' }, 'MP3, WAV, M4A, FLAC or OGG. We separate the vocals from the music and analyse tempo, key and loudness.')),
    submit);

  const uploadBar = h('progress', { id: 'upload-progress', max: '100', value: '0', 'aria-labelledby': 'upload-label' });
  const uploadLabel = h('p', { id: 'upload-label', class: 'progress-label' }, 'Upload');
  const convertBar = h('progress', { id: 'convert-progress', max: '100', value: '0', 'aria-labelledby': 'convert-label' });
  const convertLabel = h('p', { id: 'convert-label', class: 'progress-label' }, 'Conversion');
  const stageText = h('p', { class: 'status', id: 'job-stage', role: 'status', 'aria-live': 'polite' });
  const error = h('p', { class: 'form-msg is-error', id: 'job-error', role: 'alert' });
  const result = h('div', { class: 'result', id: 'job-result', hidden: true });
  const progressCard = h('div', { class: 'card progress-card', id: 'job-card', hidden: true },
    h('h2', { class: 'list-title', id: 'job-title' }, ''),
    uploadLabel, uploadBar, convertLabel, convertBar, stageText, error, result);

  const jobsList = h('ul', { class: 'jobs', id: 'jobs', 'aria-labelledby': 'jobs-title' });
  const jobsStatus = h('p', { class: 'status' });
  const jobsSection = h('section', { class: 'sub', 'aria-labelledby': 'jobs-title' },
    h('h2', { id: 'jobs-title', class: 'list-title' }, 'Your uploads'), jobsStatus, jobsList);

  // "Upload your copy" from the player: this upload is the user's copy of a catalog song.
  const forTrack = pendingUpload.track;
  const copyOf = h('div', { class: 'copy-of', id: 'upload-for', hidden: !forTrack });
  if (forTrack) {
    const name = [forTrack.title, (forTrack.artists || []).join(', ')].filter(Boolean).join(' — ');
    const cancel = h('button', { type: 'button', class: 'btn btn-small btn-ghost' }, 'Not this song');
    cancel.addEventListener('click', () => { pendingUpload.track = null; copyOf.hidden = true; });
    copyOf.append(h('p', {}, 'Your copy of ', h('strong', { dir: 'auto' }, name)), cancel);
  }
  form.prepend(copyOf);

  root.append(h('section', { class: 'view', 'aria-labelledby': 'upload-title' },
    h('h1', { id: 'upload-title' }, forTrack ? 'Upload your copy' : 'Make an instrumental'),
    form, progressCard, jobsSection));
  if (forTrack) fileInput.focus();

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const file = fileInput.files && fileInput.files[0];
    if (!file) {
      error.textContent = '';
      toast('Choose a song file first.', 'error');
      fileInput.focus();
      return;
    }
    const track = pendingUpload.track;
    pendingUpload.track = null;
    copyOf.hidden = true;
    startUpload(file, track);
  });

  const draw = () => {
    const busy = state.phase === 'preparing' || state.phase === 'uploading' || state.phase === 'converting';
    submit.disabled = busy;
    submit.textContent = busy ? 'Working…' : 'Upload and convert';
    progressCard.hidden = state.phase === 'idle';
    if (state.phase === 'idle') return;
    progressCard.querySelector('#job-title').textContent = state.file ? state.file.name : 'Your upload';
    uploadBar.value = state.uploadPct;
    uploadLabel.textContent = `Upload: ${state.uploadPct}%`;
    const job = state.job || {};
    const pct = state.phase === 'succeeded' ? 100 : Math.max(0, Math.min(100, Math.round(job.progress || 0)));
    convertBar.value = pct;
    const converting = state.phase === 'converting' || state.phase === 'succeeded' || (state.phase === 'failed' && job.status === 'failed');
    convertLabel.textContent = converting ? `Conversion: ${pct}%` : 'Conversion: waiting for the upload';
    if (state.phase === 'preparing') stageText.textContent = 'Preparing the upload…';
    else if (state.phase === 'uploading') stageText.textContent = `Uploading… ${state.uploadPct}%`;
    else if (state.phase === 'converting') stageText.textContent = `${stageLabel(job) || 'Queued'} — ${pct}%`;
    else if (state.phase === 'succeeded') stageText.textContent = 'Done: your instrumental is ready.';
    else stageText.textContent = '';
    error.textContent = state.phase === 'failed' ? `${state.error}${job.error && job.error.code ? ` (${job.error.code})` : ''}` : '';
    clear(result);
    result.hidden = state.phase !== 'succeeded';
    if (state.phase === 'succeeded') {
      const chips = h('ul', { class: 'chips', 'aria-label': 'Analysis' });
      renderChips(chips, job.results && job.results.analysis);
      const play = h('button', { type: 'button', class: 'btn btn-primary', id: 'play-instrumental' }, 'Play instrumental');
      play.addEventListener('click', () => playJob(job, state.file && state.file.name, 'instrumental'));
      const original = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Play original');
      original.addEventListener('click', () => playJob(job, state.file && state.file.name, 'original'));
      const duration = job.results && job.results.analysis && job.results.analysis.duration_s;
      result.append(chips, duration ? h('p', { class: 'hint' }, `Length ${formatTime(duration)}`) : null,
        h('div', { class: 'row' }, play, original));
    }
  };

  async function loadJobs() {
    try {
      const body = await api('/audio/jobs?limit=20');
      clear(jobsList);
      const items = body.items || [];
      jobsStatus.textContent = items.length ? '' : 'No uploads yet.';
      for (const job of items) {
        const name = job.filename || job.title || job.job_id;
        const label = job.status === 'succeeded' ? 'Ready'
          : job.status === 'failed' ? `Failed: ${(job.error && job.error.message) || 'unknown error'}`
            : `${stageLabel(job)} ${Math.round(job.progress || 0)}%`;
        const actions = [];
        if (job.status === 'succeeded') {
          const play = h('button', { type: 'button', class: 'btn btn-small btn-primary', 'aria-label': `Play ${name}` }, 'Play');
          play.addEventListener('click', async () => {
            // The list may omit the results: fetch the full status.
            const full = job.results ? job : await api(`/audio/conversion-status/${encodeURIComponent(job.job_id)}`);
            playJob(full, name, 'instrumental');
          });
          actions.push(play);
        }
        jobsList.append(h('li', { class: `job job-${job.status}` },
          h('div', { class: 'track-text' },
            h('p', { class: 'track-title', dir: 'auto' }, name),
            h('p', { class: 'track-meta' }, label)),
          h('div', { class: 'track-actions' }, actions)));
      }
    } catch (err) {
      jobsStatus.textContent = describeError(err, 'The uploads list');
    }
  }

  watchers.add(draw);
  let lastPhase = state.phase;
  const refreshJobs = () => {
    if (state.phase !== lastPhase && ['converting', 'succeeded', 'failed'].includes(state.phase)) loadJobs();
    lastPhase = state.phase;
  };
  watchers.add(refreshJobs);
  draw();
  loadJobs();
  return () => { watchers.delete(draw); watchers.delete(refreshJobs); };
}

export function resetUploads() {
  clearTimeout(pollTimer);
  Object.assign(state, { phase: 'idle', file: null, job: null, uploadPct: 0, error: null, track: null });
  pendingUpload.track = null;
}
