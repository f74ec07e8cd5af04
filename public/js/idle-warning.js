// Idle warning for signed-in pages. Loaded as a file (the CSP allows no inline script).
// It asks GET /api/auth/session, which does not count as activity, and then works from
// local timers: it warns shortly before the deadline, offers "Stay signed in", and when
// the deadline passes it navigates once to the login page. It never polls faster than
// every 15 s and makes no request after expiry.
(function () {
  'use strict';

  var MIN_POLL_MS = 15000;
  var MAX_WARNING_MS = 60000;
  var TICK_MS = 1000;

  var box = document.getElementById('idle-warning');
  var text = document.getElementById('idle-warning-text');
  var stay = document.getElementById('idle-warning-stay');
  var csrf = document.querySelector('meta[name="csrf-token"]');
  if (!box || !text || !stay || !csrf) return;

  var timers = [];
  var ticker = null;
  var ended = false;
  var lastCheck = 0;

  function clearTimers() {
    timers.forEach(clearTimeout);
    timers = [];
    if (ticker) clearInterval(ticker);
    ticker = null;
  }

  function later(fn, ms) {
    timers.push(setTimeout(fn, Math.max(0, ms)));
  }

  function expire(reason) {
    if (ended) return;
    ended = true;
    clearTimers();
    window.location.assign('/login?expired=' + encodeURIComponent(reason));
  }

  // Server clock minus ours, from the Date header, so deadlines hold on a skewed client.
  function skewOf(response) {
    var date = Date.parse(response.headers.get('Date') || '');
    return isNaN(date) ? 0 : date - Date.now();
  }

  function plan(session, skew) {
    clearTimers();
    box.hidden = true;
    var idle = Date.parse(session.idleExpiresAt) - skew;
    var absolute = Date.parse(session.absoluteExpiresAt) - skew;
    var deadline = Math.min(idle, absolute);
    var reason = absolute <= idle ? 'absolute' : 'inactivity';
    var windowMs = Date.parse(session.idleExpiresAt) - Date.parse(session.lastActivityAt);
    var warnBefore = Math.min(MAX_WARNING_MS, windowMs / 2);
    var now = Date.now();

    if (deadline <= now) return expire(reason);
    later(
      function () {
        warn(deadline, reason);
      },
      deadline - warnBefore - now,
    );
    later(function () {
      expire(reason);
    }, deadline - now);
    // Another tab may keep the session alive: look again just before warning, if that is far enough off.
    if (deadline - warnBefore - now > MIN_POLL_MS) later(check, deadline - warnBefore - now - TICK_MS);
  }

  function warn(deadline, reason) {
    box.hidden = false;
    stay.hidden = reason === 'absolute';
    function render() {
      var seconds = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      text.textContent =
        reason === 'absolute'
          ? 'Your session ends in ' + seconds + ' s. Sign in again to continue.'
          : 'You will be signed out in ' + seconds + ' s because of inactivity.';
    }
    render();
    ticker = setInterval(render, TICK_MS);
  }

  function check() {
    if (ended || Date.now() - lastCheck < MIN_POLL_MS) return;
    lastCheck = Date.now();
    fetch('/api/auth/session', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (response.status === 401) {
          return response.json().then(function (body) {
            var reason = body && body.error && body.error.details && body.error.details.reason;
            expire(reason === 'absolute' ? 'absolute' : 'inactivity');
          });
        }
        if (!response.ok) return later(check, MIN_POLL_MS);
        return response.json().then(function (session) {
          plan(session, skewOf(response));
        });
      })
      .catch(function () {
        later(check, MIN_POLL_MS);
      });
  }

  stay.addEventListener('click', function () {
    stay.disabled = true;
    fetch('/api/auth/session/refresh', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-CSRF-Token': csrf.getAttribute('content') },
    })
      .then(function (response) {
        if (!response.ok) return expire('inactivity');
        return response.json().then(function (session) {
          plan(session, skewOf(response));
        });
      })
      .catch(function () {
        /* keep the warning; the deadline timer still applies */
      })
      .then(function () {
        stay.disabled = false;
      });
  });

  check();
})();
