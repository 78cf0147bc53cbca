/* SmartlyQ console: the copy button and the API playground.  Served as
 * a file (the CSP allows no inline script).  The playground sends with
 * fetch() to the edge, never with a live key. */
(function () {
  'use strict';

  function $(id) { return document.getElementById(id); }

  function copyFrom(btn) {
    var el = $(btn.getAttribute('data-copy'));
    var text = el ? el.textContent : '';
    var done = function () { var c = $('copied'); if (c) { c.textContent = 'Copied.'; } };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () {
        fallback(el); done();
      });
    } else {
      fallback(el); done();
    }
  }

  function fallback(el) {
    var r = document.createRange();
    r.selectNodeContents(el);
    var s = window.getSelection();
    s.removeAllRanges();
    s.addRange(r);
    try { document.execCommand('copy'); } catch (e) { /* selected */ }
  }

  /* a live key is refused before anything is sent */
  function refusal(secret) {
    if (/^sq[kp]_live_/.test(secret)) {
      return 'Refused: this is a live key (sqk_live_). The playground ' +
             'only sends with test keys (sqk_test_), so that nothing here ' +
             'touches production workspaces.';
    }
    if (!/^sq[kp]_test_[A-Za-z0-9]+$/.test(secret)) {
      return 'Paste the secret of a test key (it starts with sqk_test_).';
    }
    return null;
  }

  function setBody() {
    var o = $('endpoint').selectedOptions[0];
    $('body').value = o ? o.getAttribute('data-body') : '';
  }

  function show(status, headers, body) {
    $('status').textContent = status;
    $('headers').textContent = headers;
    $('resp-body').textContent = body;
    $('result').hidden = false;
  }

  function send(ev) {
    ev.preventDefault();
    var secret = $('secret').value.trim();
    var why = refusal(secret);
    $('result').hidden = true;
    if (why) {
      $('refused').textContent = why;
      $('refused').hidden = false;
      return;
    }
    var k = $('key').selectedOptions[0];
    if (k && secret.slice(-4) !== k.getAttribute('data-last4')) {
      $('refused').textContent = 'Note: this secret does not end like ' +
        'the key picked; sending it anyway.';
      $('refused').hidden = false;
    } else {
      $('refused').hidden = true;
    }
    var o = $('endpoint').selectedOptions[0];
    var method = o.getAttribute('data-method');
    var path = o.getAttribute('data-path');
    var ws = $('workspace').value.trim();
    if (ws !== '') {
      path += (path.indexOf('?') < 0 ? '?' : '&') +
              'workspace_id=' + encodeURIComponent(ws);
    }
    var init = {
      method: method,
      credentials: 'omit',
      cache: 'no-store',
      headers: { 'Authorization': 'Bearer ' + secret }
    };
    if (method !== 'GET' && method !== 'HEAD') {
      init.headers['Content-Type'] = 'application/json';
      init.body = $('body').value;
    }
    fetch(path, init).then(function (r) {
      var h = [];
      r.headers.forEach(function (v, n) { h.push(n + ': ' + v); });
      return r.text().then(function (t) {
        var body = t;
        try { body = JSON.stringify(JSON.parse(t), null, 2); } catch (e) { /* raw */ }
        show(r.status + ' ' + r.statusText, h.sort().join('\n'), body);
      });
    }, function (e) {
      show('network error', '', String(e));
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var b = document.querySelectorAll('[data-copy]');
    for (var i = 0; i < b.length; i++) {
      b[i].addEventListener('click', function (e) { copyFrom(e.currentTarget); });
    }
    if ($('play')) {
      $('endpoint').addEventListener('change', setBody);
      setBody();
      $('play').addEventListener('submit', send);
      document.body.setAttribute('data-ready', '1');
    }
  });
}());
