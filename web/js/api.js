// The API client: JSON in and out, one error type, and the session (tokens and silent refresh).
//
// Where the tokens live, and why:
// - The access token (15 min) is kept in memory only: a script injected into the page could
//   still use it while the page is open, but nothing persists it, and it dies with the tab.
// - The refresh token is kept in localStorage so the user stays logged in across visits and the
//   installed app can start offline. localStorage is readable by any script running on this
//   origin, so an XSS bug would leak it; we reduce that risk with a strict CSP (no inline script,
//   script-src 'self'), by never building HTML from data, and by refresh-token rotation with
//   reuse detection on the server (a stolen token that is used after the real client has
//   rotated it revokes the whole family). An HttpOnly cookie would be safer against XSS but needs
//   a same-site cookie endpoint the API does not offer (it is a bearer-token API shared with the
//   mobile apps). Tokens are never logged.

export const API_BASE = '/api/v1';
const REFRESH_KEY = 'melody.refresh_token';
const LOCK_NAME = 'melody-token-refresh';

export class ApiError extends Error {
  constructor(status, code, message, details = null, retryAfter = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }

  /** True when the route itself does not exist yet (the server answered its generic 404). */
  get routeMissing() {
    return this.status === 404 && this.code === 'not_found' && /^not found$/i.test(this.message);
  }

  get offline() {
    return this.status === 0;
  }
}

let accessToken = null;
let accessExpiresAt = 0;
let refreshInFlight = null;
const listeners = new Set();

/** Subscribe to session changes: fn(loggedIn: boolean, reason?: string). */
export function onSessionChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(loggedIn, reason) {
  for (const fn of listeners) {
    try { fn(loggedIn, reason); } catch (err) { console.error('session listener failed', err && err.message); }
  }
}

function readRefresh() {
  try { return localStorage.getItem(REFRESH_KEY); } catch { return null; }
}

function writeRefresh(value) {
  try {
    if (value) localStorage.setItem(REFRESH_KEY, value);
    else localStorage.removeItem(REFRESH_KEY);
  } catch { /* storage disabled: the session lasts as long as the tab */ }
}

export function hasSession() {
  return Boolean(accessToken || readRefresh());
}

function storeTokens(body) {
  accessToken = body.access_token;
  // Refresh a little early so a request never leaves with a token about to expire.
  accessExpiresAt = Date.now() + Math.max(30, (body.expires_in || 900) - 30) * 1000;
  if (body.refresh_token) writeRefresh(body.refresh_token);
}

// Bumped when the session ends, so a refresh that was in flight then cannot bring it back.
let sessionGeneration = 0;

export function clearSession(reason = 'logout') {
  sessionGeneration += 1;
  const had = hasSession();
  accessToken = null;
  accessExpiresAt = 0;
  writeRefresh(null);
  // Cached API answers belong to this user: drop them with the session.
  if ('caches' in self) {
    caches.delete('melody-api').catch(() => {});
    caches.delete('melody-audio').catch(() => {}); // songs saved for offline
  }
  if (had) emit(false, reason);
}

async function parseError(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  const err = (body && body.error) || {};
  const retry = Number(response.headers.get('Retry-After')) || null;
  return new ApiError(
    response.status,
    err.code || `http_${response.status}`,
    err.message || response.statusText || 'The request failed.',
    err.details || null,
    retry,
  );
}

async function rawFetch(url, init) {
  try {
    return await fetch(url, init);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', navigator.onLine === false
      ? 'You are offline.'
      : 'Could not reach Melody Studio. Check your connection.');
  }
}

async function doRefresh() {
  // Read the token inside the (cross-tab) lock: another tab may just have rotated it.
  const token = readRefresh();
  if (!token) throw new ApiError(401, 'not_logged_in', 'Please log in.');
  const generation = sessionGeneration;
  const send = () => rawFetch(`${API_BASE}/auth/refresh-token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ refresh_token: token }),
    cache: 'no-store',
  });
  let response;
  try {
    response = await send();
  } catch (err) {
    // The request may have reached the server, which rotated the token, while its answer was lost.
    // Within a short grace window the server answers one replay of the same token with the same
    // successor pair, so ask once more with the same token (never a third time: a second replay
    // revokes the session). Not when offline, nor when another tab has rotated the token meanwhile.
    if (!(err instanceof ApiError && err.offline) || navigator.onLine === false) throw err;
    await new Promise((resolve) => { setTimeout(resolve, 300); });
    if (generation !== sessionGeneration || readRefresh() !== token) throw err;
    response = await send();
  }
  if (!response.ok) {
    const err = await parseError(response);
    if (response.status === 401 || response.status === 400 || response.status === 422) {
      clearSession(err.code);
    }
    throw err;
  }
  const body = await response.json();
  if (generation !== sessionGeneration) {
    // Logged out while this refresh was in flight: revoke what it returned instead of keeping it.
    rawFetch(`${API_BASE}/auth/logout`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: body.refresh_token }),
    }).catch(() => {});
    throw new ApiError(401, 'not_logged_in', 'Please log in.');
  }
  storeTokens(body);
  emit(true, 'refreshed');
  return accessToken;
}

/**
 * Rotate the refresh token once, however many callers ask at the same time ("single flight"):
 * parallel refreshes would present the same refresh token twice and trip reuse detection,
 * which revokes the session. Across tabs the Web Locks API serialises the rotation.
 */
export function refreshSession() {
  if (!refreshInFlight) {
    const run = () => doRefresh();
    const locked = navigator.locks && navigator.locks.request
      ? navigator.locks.request(LOCK_NAME, run)
      : run();
    refreshInFlight = locked.finally(() => { refreshInFlight = null; });
  }
  return refreshInFlight;
}

async function validAccessToken() {
  if (accessToken && Date.now() < accessExpiresAt) return accessToken;
  if (!readRefresh()) return accessToken; // may be null: the server answers 401
  // Offline, a refresh cannot succeed; worse, a request that reaches the server while its answer
  // is lost would leave us holding a rotated (now reused) token. Wait until we are back online.
  if (navigator.onLine === false) throw new ApiError(0, 'network', 'You are offline.');
  return refreshSession();
}

/**
 * Call the API. `auth` (default true) adds the bearer token and retries once after a silent
 * refresh when the server says the token expired. Resolves with the parsed JSON (or null for 204).
 */
export async function api(path, { method = 'GET', body, auth = true, signal, offlineFallback = false } = {}) {
  const url = /^https?:|^\/api\//.test(path) ? path : `${API_BASE}${path}`;
  const send = async (token) => {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    return rawFetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  };

  let token = null;
  let withoutToken = false;
  if (auth) {
    try {
      token = await validAccessToken();
    } catch (err) {
      // Offline with only a refresh token: GETs may still be answered by the service worker's cache.
      if (!(err instanceof ApiError && err.offline && offlineFallback)) throw err;
      withoutToken = true;
    }
  }
  let response = await send(token);
  if (withoutToken && !response.ok) {
    // We could not refresh because we are offline: a 401 here says nothing about the session.
    throw new ApiError(0, 'network', 'You are offline.');
  }
  if (auth && response.status === 401) {
    const err = await parseError(response);
    if ((err.code === 'token_expired' || err.code === 'invalid_token') && readRefresh()) {
      token = await refreshSession();
      response = await send(token);
    } else {
      if (err.code !== 'not_logged_in') clearSession(err.code);
      throw err;
    }
  }
  if (!response.ok) {
    const err = await parseError(response);
    if (auth && response.status === 401) clearSession(err.code);
    throw err;
  }
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  return type.includes('json') ? response.json() : null;
}

// --- auth flows -------------------------------------------------------------------------------

export function requestOtp(phoneNumber, countryCode) {
  return api('/auth/request-otp', {
    method: 'POST',
    auth: false,
    body: { phone_number: phoneNumber, country_code: countryCode },
  });
}

export async function verifyOtp(challengeId, code) {
  const body = await api('/auth/verify-otp', {
    method: 'POST',
    auth: false,
    body: { challenge_id: challengeId, code },
  });
  storeTokens(body);
  emit(true, 'login');
  return body.user;
}

export async function logout() {
  const token = readRefresh();
  clearSession('logout');
  if (token) {
    try {
      await api('/auth/logout', { method: 'POST', auth: false, body: { refresh_token: token } });
    } catch { /* the local session is gone either way */ }
  }
}

// A human sentence for each error code the API documents (openapi.json). `{wait}` is the retry time.
const MESSAGES = {
  // login
  invalid_phone_number: 'That mobile number does not look right. Check the digits and the country.',
  invalid_country_code: 'Choose your country from the list.',
  sms_unavailable: 'We could not send the code by SMS just now. Please try again in a minute.',
  otp_resend_too_soon: 'A code was just sent. You can ask for another {wait}.',
  invalid_otp: 'That code is not right.',
  otp_attempts_exceeded: 'Too many wrong codes. Request a new code.',
  otp_expired: 'This code has expired. Request a new code.',
  otp_already_used: 'This code was already used. Request a new code.',
  otp_challenge_not_found: 'This login has expired. Request a new code.',
  // session
  missing_token: 'Please log in.',
  not_logged_in: 'Please log in.',
  invalid_token: 'Your session is no longer valid. Please log in again.',
  token_expired: 'Your session expired. Please log in again.',
  invalid_refresh_token: 'Your session is no longer valid. Please log in again.',
  refresh_token_expired: 'Your session expired. Please log in again.',
  refresh_token_reused: 'For your security you were logged out everywhere. Please log in again.',
  user_not_found: 'Your account could not be found. Please log in again.',
  // uploads and conversions
  file_too_large: 'This file is too large: files up to {max} are accepted.',
  unsupported_media_type: 'This is not an audio file we can read. Try an MP3, WAV, M4A, FLAC or OGG.',
  too_many_pending_uploads: 'You have several uploads waiting to be sent. Finish them or try again {wait}.',
  storage_quota_exceeded: 'Your storage is full{quota}. Delete some uploads to make room.',
  upload_not_found: 'This upload is no longer in your library.',
  invalid_title: 'Give the song a title (up to 200 characters).',
  job_in_progress: 'This song is still being processed. Try again when it is done.',
  job_not_ready: 'The stems are not ready yet.',
  job_not_failed: 'Only a conversion that failed can be retried.',
  not_retryable: 'This conversion cannot be retried: please upload the file again.',
  not_an_upload: 'Only your own uploads can be linked to a song.',
  stem_not_found: 'This version of the song is not available.',
  format_unavailable: 'This format is not offered: stems download as M4A.',
  admin_only: 'Only an operator can do this.',
  audio_not_uploaded: 'The audio file was not uploaded.',
  invalid_audio_key: 'The audio file is not in the right place.',
  job_not_found: 'This conversion could not be found.',
  track_audio_not_found: 'This song has no audio yet. Upload your copy to make an instrumental.',
  // catalog and library
  track_not_found: 'This song is no longer in the catalog.',
  not_in_library: 'This song is not in your library.',
  empty_query: 'Type something to search.',
  query_too_long: 'That search is too long. Try fewer words.',
  unknown_language: 'That language is not supported yet.',
  invalid_source: 'That source is not supported.',
  invalid_timeframe: 'That time range is not supported.',
  invalid_limit: 'The list could not be loaded. Please reload the page.',
  invalid_offset: 'The list could not be loaded. Please reload the page.',
  invalid_cursor: 'The list could not be loaded. Please reload the page.',
  invalid_updated_since: 'The list could not be loaded. Please reload the page.',
  // the service
  rate_limited: 'Too many requests. Try again {wait}.',
  catalog_unavailable: 'The song catalog is not reachable right now. Please try again in a moment.',
  catalog_not_configured: 'The song catalog is not available here yet.',
  jwks_unavailable: 'Melody Studio is busy. Please try again in a moment.',
  temporarily_unavailable: 'Melody Studio is busy. Please try again in a moment.',
  internal_error: 'The server had a problem. Please try again in a moment.',
  validation_error: 'Some details were not valid. Please check and try again.',
};

export function formatWait(seconds) {
  if (!Number.isFinite(seconds) || seconds <= 0) return 'in a moment';
  if (seconds < 90) return `in ${Math.ceil(seconds)} s`;
  if (seconds < 5400) return `in ${Math.ceil(seconds / 60)} min`;
  return `in ${Math.ceil(seconds / 3600)} h`;
}

function formatBytes(bytes) {
  if (!Number.isFinite(bytes) || bytes <= 0) return '100 MB';
  return `${Math.floor(bytes / 1048576)} MB`;
}

/** A friendly sentence for an error, for the UI. */
export function describeError(err, what = 'This') {
  if (!(err instanceof ApiError)) return 'Something went wrong. Please try again.';
  if (err.offline) return err.message;
  if (err.routeMissing) return `${what} is not available yet. Please try again later.`;
  const details = err.details && !Array.isArray(err.details) ? err.details : {};
  const retry = err.retryAfter || Number(details.retry_after_s) || null;
  const template = MESSAGES[err.code];
  if (template) {
    const quota = Number(details.limit_bytes) > 0 ? ` (${formatBytes(Number(details.used_bytes) || Number(details.limit_bytes))} of ${formatBytes(Number(details.limit_bytes))} used)` : '';
    return template.replace('{wait}', formatWait(retry)).replace('{max}', formatBytes(Number(details.max_bytes)))
      .replace('{quota}', quota);
  }
  if (err.status === 429) return `Too many attempts. Try again ${formatWait(retry)}.`;
  if (err.status >= 500) return 'The server had a problem. Please try again in a moment.';
  return err.message;
}
