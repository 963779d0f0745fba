// Key/tempo renditions (server side: POST/GET /audio/jobs/{job_id}/renditions): request or reuse
// one, poll its status, and map a playback position between renditions of different tempo.

import { api, ApiError } from '../api.js';

export { isIdentity, mapPosition, shiftTonic } from './timeline.js';

const POLL_MS = 1500;
const known = new Map(); // `${jobId}|${semitones}|${tempo}` → a succeeded rendition (this page's life)

/**
 * A succeeded rendition of `jobId` at (semitones, tempo): reused when this page has one, else
 * requested (202 queued, or 200 when the server has it cached) and polled. `onProgress(body)` is
 * called with each status; `signal` abandons the wait (a newer request superseded it).
 */
export async function obtainRendition(jobId, semitones, tempo, { onProgress = () => {}, signal } = {}) {
  const key = `${jobId}|${semitones}|${tempo}`;
  if (known.has(key)) return known.get(key);
  const base = `/audio/jobs/${encodeURIComponent(jobId)}/renditions`;
  let body = await api(base, { method: 'POST', body: { semitones, tempo }, signal });
  const id = body.rendition_id;
  while (body.status !== 'succeeded') {
    if (body.status === 'failed') {
      const reason = (body.error && body.error.message) || 'the rendition failed';
      throw new ApiError(422, (body.error && body.error.code) || 'rendition_failed', reason);
    }
    onProgress(body);
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, POLL_MS);
      if (signal) signal.addEventListener('abort', () => { clearTimeout(timer); reject(new DOMException('superseded', 'AbortError')); }, { once: true });
    });
    body = await api(`${base}/${encodeURIComponent(id)}`, { signal });
  }
  known.set(key, body);
  return body;
}

/** The media of a succeeded rendition, in the player's shape. */
export function renditionMedia(body) {
  const stems = body.stems || {};
  const url = (stem) => (stem && (stem.url || stem.href)) || null;
  return { instrumental: url(stems.instrumental), vocals: url(stems.vocals), analysis: body.analysis || null };
}
