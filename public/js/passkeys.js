// Passkey forms: registering one, and proving one (sign-in, second step, re-authentication).
// Loaded as a file after /js/vendor/simplewebauthn-browser.js (the CSP allows no inline script).
// Each form[data-passkey] names its two endpoints: `data-options` gives the options with a
// challenge, `data-verify` takes the authenticator's answer (as `response`, or the field `data-field`
// names), and the page goes to `data-done`. The form stays hidden where the
// browser has no WebAuthn, so nobody is offered a button that cannot work.
(function () {
  'use strict';

  var webauthn = window.SimpleWebAuthnBrowser;
  var forms = document.querySelectorAll('form[data-passkey]');
  if (!webauthn || !webauthn.browserSupportsWebAuthn() || forms.length === 0) return;

  var MESSAGES = {
    cancelled: 'The passkey request was cancelled or timed out. Try again when you are ready.',
    notVerified:
      'Your passkey did not ask for your PIN, fingerprint or face, so it cannot sign you in on its own. ' +
      'Sign in with your password, then use the passkey as the second step.',
    refused: 'That passkey could not be verified. Try again.',
    failed: 'Something went wrong. Try again.',
  };

  function csrfToken(form) {
    var field = form.querySelector('input[name="_csrf"]');
    var meta = document.querySelector('meta[name="csrf-token"]');
    return field ? field.value : meta ? meta.getAttribute('content') : '';
  }

  function post(form, url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken(form) },
      body: JSON.stringify(body),
    }).then(function (response) {
      if (response.status === 204) return {};
      return response.json().then(function (json) {
        if (!response.ok) throw { api: (json && json.error) || {} };
        return json;
      });
    });
  }

  function messageFor(error) {
    if (error && error.api) {
      if (error.api.details && error.api.details.reason === 'user_not_verified') return MESSAGES.notVerified;
      if (error.api.code === 'AUTH_1013') return MESSAGES.refused;
      return error.api.message || MESSAGES.failed;
    }
    if (error && (error.name === 'NotAllowedError' || error.name === 'AbortError')) return MESSAGES.cancelled;
    return (error && error.message) || MESSAGES.failed;
  }

  function showRecoveryCodes(form, codes) {
    var box = document.querySelector(form.getAttribute('data-codes-box'));
    if (!box) return false;
    var list = box.querySelector('.codes');
    codes.forEach(function (code) {
      var item = document.createElement('li');
      var text = document.createElement('code');
      text.textContent = code;
      item.appendChild(text);
      list.appendChild(item);
    });
    box.hidden = false;
    form.hidden = true;
    return true;
  }

  function run(form) {
    var status = form.querySelector('[data-passkey-status]');
    var button = form.querySelector('button');
    var registering = form.getAttribute('data-passkey') === 'register';
    var nameField = form.querySelector('input[name="name"]');
    status.hidden = true;
    button.disabled = true;
    post(form, form.getAttribute('data-options'), {})
      .then(function (optionsJSON) {
        return registering
          ? webauthn.startRegistration({ optionsJSON: optionsJSON })
          : webauthn.startAuthentication({ optionsJSON: optionsJSON });
      })
      .then(function (response) {
        var body = {};
        body[form.getAttribute('data-field') || 'response'] = response;
        if (registering) body.name = nameField.value;
        return post(form, form.getAttribute('data-verify'), body);
      })
      .then(function (result) {
        if (registering && result.recoveryCodes && result.recoveryCodes.length > 0 && showRecoveryCodes(form, result.recoveryCodes)) return;
        window.location.assign(form.getAttribute('data-done') || window.location.pathname);
      })
      .catch(function (error) {
        var reauth = error && error.api && error.api.code === 'AUTH_1009' && error.api.details && error.api.details.reauthUrl;
        if (reauth) return window.location.assign(reauth + '?next=' + encodeURIComponent(window.location.pathname));
        status.textContent = messageFor(error);
        status.hidden = false;
        button.disabled = false;
      });
  }

  Array.prototype.forEach.call(forms, function (form) {
    form.hidden = false;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      run(form);
    });
  });
})();
