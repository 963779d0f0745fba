// Log in: mobile number (+91 by default, a country picker) → 6-digit one-time code.

import { requestOtp, verifyOtp, describeError, ApiError } from '../api.js';
import { h, clear } from '../ui.js';

export const COUNTRIES = [
  ['+91', 'India'], ['+1', 'United States / Canada'], ['+44', 'United Kingdom'],
  ['+971', 'United Arab Emirates'], ['+966', 'Saudi Arabia'], ['+974', 'Qatar'], ['+965', 'Kuwait'],
  ['+968', 'Oman'], ['+973', 'Bahrain'], ['+65', 'Singapore'], ['+60', 'Malaysia'],
  ['+61', 'Australia'], ['+64', 'New Zealand'], ['+977', 'Nepal'], ['+880', 'Bangladesh'],
  ['+94', 'Sri Lanka'], ['+92', 'Pakistan'], ['+49', 'Germany'], ['+33', 'France'],
  ['+31', 'Netherlands'], ['+27', 'South Africa'], ['+254', 'Kenya'], ['+82', 'South Korea'],
  ['+81', 'Japan'],
];

export function renderLogin(root) {
  clear(root);
  let challenge = null;
  let countdown = 0;
  let webOtpAbort = null;

  const status = h('p', { class: 'form-msg', id: 'login-msg', role: 'alert' });
  const setError = (text) => { status.textContent = text; status.classList.toggle('is-error', Boolean(text)); };

  // Step 1: the number.
  const country = h('select', { id: 'country', name: 'country', autocomplete: 'tel-country-code' },
    COUNTRIES.map(([code, name]) => h('option', { value: code }, `${name} (${code})`)));
  const phone = h('input', {
    id: 'phone', name: 'phone', type: 'tel', inputmode: 'tel', autocomplete: 'tel-national',
    required: true, placeholder: '98765 43210', minlength: '4', maxlength: '20',
    'aria-describedby': 'phone-hint',
  });
  const sendBtn = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Send code');
  const phoneForm = h('form', { class: 'card form', novalidate: true, id: 'phone-form' },
    h('div', { class: 'field' }, h('label', { for: 'country' }, 'Country'), country),
    h('div', { class: 'field' },
      h('label', { for: 'phone' }, 'Mobile number'),
      phone,
      h('p', { class: 'hint', id: 'phone-hint' }, 'We will text you a 6-digit code.')),
    sendBtn);

  // Step 2: the code.
  const code = h('input', {
    id: 'otp', name: 'otp', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code',
    pattern: '[0-9]{6}', maxlength: '6', required: true, 'aria-describedby': 'otp-hint',
    class: 'otp-input',
  });
  const sentTo = h('p', { class: 'hint', id: 'otp-hint' });
  const verifyBtn = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Verify and log in');
  const resendBtn = h('button', { type: 'button', class: 'btn btn-ghost', disabled: true }, 'Resend code');
  const changeBtn = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Change number');
  // After the last wrong code (or an expired one): a fresh code, from the same number.
  const newCodeBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'new-code-btn', hidden: true }, 'Request a new code');
  const codeForm = h('form', { class: 'card form', novalidate: true, id: 'otp-form', hidden: true },
    h('div', { class: 'field' }, h('label', { for: 'otp' }, 'Code'), code, sentTo),
    verifyBtn, newCodeBtn,
    h('div', { class: 'row' }, resendBtn, changeBtn));

  root.append(h('section', { class: 'view view-login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Log in'),
    h('p', { class: 'lead' }, 'Search songs in any language, save them, and make karaoke versions of your own.'),
    phoneForm, codeForm, status));

  let timer = 0;
  const tickResend = () => {
    const left = Math.max(0, Math.ceil(countdown - Date.now() / 1000));
    resendBtn.disabled = left > 0;
    resendBtn.textContent = left > 0 ? `Resend code in ${left} s` : 'Resend code';
    newCodeBtn.disabled = left > 0;
    newCodeBtn.textContent = left > 0 ? `Request a new code in ${left} s` : 'Request a new code';
    if (left <= 0) clearInterval(timer);
  };

  const busy = (button, on, label) => {
    button.disabled = on;
    button.setAttribute('aria-busy', String(on));
    if (label) button.textContent = label;
  };

  async function send() {
    setError('');
    const number = phone.value.replace(/[\s()-]/g, '');
    if (!/^\+?[0-9]{4,15}$/.test(number)) {
      setError('Enter your mobile number, digits only.');
      phone.setAttribute('aria-invalid', 'true');
      phone.focus();
      return;
    }
    phone.removeAttribute('aria-invalid');
    busy(sendBtn, true, 'Sending…');
    try {
      challenge = await requestOtp(number, country.value);
      phoneForm.hidden = true;
      codeForm.hidden = false;
      // The server's hint is the number it will text (normalised: a leading 0 dropped), masked.
      const to = challenge.phone_hint || `${country.value} ${number}`;
      sentTo.textContent = `Enter the ${challenge.code_length || 6}-digit code sent to ${to}.`;
      code.maxLength = challenge.code_length || 6;
      code.value = '';
      code.disabled = false;
      verifyBtn.hidden = false;
      newCodeBtn.hidden = true;
      code.focus();
      countdown = challenge.resend_at || Date.now() / 1000 + 30;
      clearInterval(timer);
      timer = setInterval(tickResend, 1000);
      tickResend();
      listenWebOtp();
    } catch (err) {
      setError(describeError(err, 'Log in'));
      phone.focus();
    } finally {
      busy(sendBtn, false, 'Send code');
    }
  }

  async function verify() {
    setError('');
    const value = code.value.trim();
    if (!/^[0-9]{6}$/.test(value)) {
      setError('Enter the 6-digit code.');
      code.setAttribute('aria-invalid', 'true');
      code.focus();
      return;
    }
    code.removeAttribute('aria-invalid');
    busy(verifyBtn, true, 'Checking…');
    try {
      await verifyOtp(challenge.challenge_id, value);
      clearInterval(timer);
      if (webOtpAbort) webOtpAbort.abort();
      // app.js reacts to the session change and shows the app.
    } catch (err) {
      let text = describeError(err, 'Log in');
      const left = err instanceof ApiError && err.details ? Number(err.details.attempts_remaining) : NaN;
      // This code can no longer work: no attempts left, expired, used, or its challenge is gone.
      const spent = err instanceof ApiError && (left === 0
        || ['otp_attempts_exceeded', 'otp_expired', 'otp_already_used', 'otp_challenge_not_found'].includes(err.code));
      if (spent) {
        text = left === 0 || err.code === 'otp_attempts_exceeded'
          ? 'That code is not right, and there are no attempts left. Request a new code.'
          : text;
        setError(text);
        code.value = '';
        code.disabled = true;
        verifyBtn.hidden = true;
        newCodeBtn.hidden = false;
        tickResend();
        newCodeBtn.focus();
        busy(verifyBtn, false, 'Verify and log in');
        return;
      }
      if (Number.isFinite(left) && left > 0) text += ` ${left} ${left === 1 ? 'attempt' : 'attempts'} left.`;
      setError(text);
      code.select();
      code.focus();
      busy(verifyBtn, false, 'Verify and log in');
    }
  }

  // Android Chrome can read the SMS for the user (WebOTP); harmless elsewhere.
  function listenWebOtp() {
    if (!('OTPCredential' in window)) return;
    if (webOtpAbort) webOtpAbort.abort();
    webOtpAbort = new AbortController();
    navigator.credentials.get({ otp: { transport: ['sms'] }, signal: webOtpAbort.signal })
      .then((otp) => { if (otp && otp.code) { code.value = otp.code; verify(); } })
      .catch(() => {});
  }

  phoneForm.addEventListener('submit', (event) => { event.preventDefault(); send(); });
  codeForm.addEventListener('submit', (event) => { event.preventDefault(); verify(); });
  code.addEventListener('input', () => {
    code.value = code.value.replace(/\D/g, '').slice(0, 6);
    if (code.value.length === 6 && !verifyBtn.disabled) verify();
  });
  resendBtn.addEventListener('click', () => { phoneForm.hidden = false; codeForm.hidden = true; send(); });
  newCodeBtn.addEventListener('click', () => { phoneForm.hidden = false; codeForm.hidden = true; send(); });
  changeBtn.addEventListener('click', () => {
    clearInterval(timer);
    codeForm.hidden = true;
    phoneForm.hidden = false;
    setError('');
    phone.focus();
  });

  return () => { clearInterval(timer); if (webOtpAbort) webOtpAbort.abort(); };
}
