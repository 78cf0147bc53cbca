#!/usr/bin/python3
"""The consent page in a real browser: headless Debian chromium driven
through selenium and chromedriver.

Runs a tiny HTTP listener on the redirect URI's loopback port (the
client's side of the flow), opens the authorize URL, signs in when the
server asks for it, reads the rendered consent page, picks a workspace,
clicks Approve or Deny and waits until the browser lands on the redirect
URI.  It prints one JSON object on stdout for the test to judge:

  {"signin": bool,          a sign-in form was shown and filled in
   "pages": [{"name", "url", "title", "text", "resources", "shot"}...],
   "workspaces": [...],     the chooser's options as rendered (text)
   "callback": {"path", "query"} or null,
   "final_url": "..."}

"query" holds every parameter the listener received (the code included:
the test redeems it).  The code is never printed anywhere else: the
callback page and its screenshot show only its first 8 characters.

The password comes from the environment (SQ_OAUTH_PASSWORD), never the
command line.  Usage:

  oauth-browser.py --authorize-url URL --redirect-uri http://127.0.0.1:P/cb
                   --email E --decision approve|deny [--workspace NAME]
                   [--shots DIR] [--prefix NAME]
  oauth-browser.py --selftest --redirect-uri http://127.0.0.1:P/cb --shots D
  oauth-browser.py --frame URL --redirect-uri ... --prefix framed
      (the listener's /frame page puts URL in an iframe; "console" and
      "framed_text" say whether the browser showed it)

--decision none stops at the page the authorize URL shows (an error
page, say) and waits --settle seconds for a redirect that must not come.
--decision forge reaches the consent page, then has a page of another
origin (the listener's /forge) post the consent's fields with
decision=approve and the csrf field as --csrf says (missing, wrong, or
right: the control that shows the browser does send the session there).
"""

import argparse
import html
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import (NoSuchElementException,
                                        TimeoutException, WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'


class Listener:
    """The redirect URI: records every request, answers with a small page
    that shows what arrived (the code cut to 8 characters)."""

    def __init__(self, port, path):
        self.hits = []
        self.path = path
        self.frame = None
        self.forge = None
        self.arrived = threading.Event()
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                if u.path == '/frame' and listener.frame:
                    self.page('<!doctype html><title>Framing</title>'
                              '<h1>A page that frames the consent page'
                              '</h1><iframe width="800" height="500" '
                              'src="%s"></iframe>'
                              % html.escape(listener.frame))
                    return
                if u.path == '/forge' and listener.forge:
                    action, fields = listener.forge
                    inputs = ''.join(
                        '<input type="hidden" name="%s" value="%s">'
                        % (html.escape(k), html.escape(v))
                        for k, v in fields)
                    self.page('<!doctype html><title>Another site</title>'
                              '<h1>Another site posts a consent</h1>'
                              '<form method="post" action="%s">%s'
                              '<button type="submit" id="go">Win a prize'
                              '</button></form>'
                              % (html.escape(action), inputs))
                    return
                if u.path != listener.path:
                    self.send_error(404)
                    return
                q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
                listener.hits.append({'path': u.path, 'query': q})
                listener.arrived.set()
                shown = []
                for k in sorted(q):
                    for v in q[k]:
                        if k == 'code':
                            v = v[:8] + '\u2026'
                        shown.append('<tr><th>%s</th><td>%s</td></tr>'
                                     % (html.escape(k), html.escape(v)))
                self.page('<!doctype html><html><head><meta '
                          'charset="utf-8"><title>Client callback</title>'
                          '</head><body><h1>Client callback %s</h1>'
                          '<table>%s</table></body></html>'
                          % (html.escape(u.path), ''.join(shown)))

            def page(self, body):
                data = body.encode()
                self.send_response(200)
                self.send_header('Content-Type', 'text/html; charset=utf-8')
                self.send_header('Content-Length', str(len(data)))
                self.send_header('Cache-Control', 'no-store')
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', port),
                                                      Handler)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def browser(timeout):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu',
              '--disable-dev-shm-usage', '--window-size=1000,900',
              '--no-first-run', '--disable-extensions',
              '--disable-background-networking', '--disable-sync',
              '--password-store=basic', '--lang=en-US'):
        opts.add_argument(a)
    # the console, for what the browser refused (CSP frame-ancestors)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(timeout)
    return drv


def snapshot(drv, name, shots):
    """What the page shows: its text as rendered, the sub-resources it
    loaded (none, for a page with no external assets) and a screenshot,
    shots/oauth-<name>.png: the directory is shared with the console's
    suite, which writes console-*.png there."""
    shot = None
    if shots:
        os.makedirs(shots, exist_ok=True)
        shot = os.path.join(shots, 'oauth-' + name + '.png')
        # the whole page, not just the window
        h = drv.execute_script(
            'return Math.max(document.body ? document.body.scrollHeight : 0,'
            ' document.documentElement.scrollHeight)')
        drv.set_window_size(1000, max(600, min(int(h or 0) + 40, 3000)))
        drv.save_screenshot(shot)
    res = drv.execute_script(
        "return performance.getEntriesByType('resource')"
        ".map(function (e) { return e.name; })")
    return {'name': name, 'url': drv.current_url, 'title': drv.title,
            'text': drv.find_element(By.TAG_NAME, 'body').text,
            'resources': res, 'shot': shot}


def visible(drv, css):
    return [e for e in drv.find_elements(By.CSS_SELECTOR, css)
            if e.is_displayed()]


def sign_in(drv, email, password):
    """Fills in the sign-in form when the page is one: an email (or
    text) field and a password field, then its submit button."""
    pw = visible(drv, 'input[type=password]')
    if not pw:
        return False
    form = pw[0].find_element(By.XPATH, './ancestor::form')
    user = form.find_elements(
        By.CSS_SELECTOR, 'input[type=email], input[name=email], '
        'input[name=username], input[type=text]')
    if not user:
        raise SystemExit('oauth-browser: a password field with no '
                         'email field')
    user[0].clear()
    user[0].send_keys(email)
    pw[0].clear()
    pw[0].send_keys(password)
    old = drv.current_url
    submit = form.find_elements(
        By.CSS_SELECTOR, 'button[type=submit], input[type=submit], button')
    if submit:
        submit[0].click()
    else:
        form.submit()
    WebDriverWait(drv, 15).until(
        lambda d: d.current_url != old
        or not visible(d, 'input[type=password]'))
    return True


def workspace_choices(drv):
    """The chooser's options as rendered: a <select>'s options or the
    labels of radio buttons."""
    out = []
    for sel in visible(drv, 'select'):
        out += [o.text.strip() for o in Select(sel).options]
    for r in drv.find_elements(By.CSS_SELECTOR, 'input[type=radio]'):
        lab = r.find_elements(By.XPATH, './ancestor::label')
        if not lab and r.get_attribute('id'):
            lab = drv.find_elements(
                By.CSS_SELECTOR, 'label[for="%s"]' % r.get_attribute('id'))
        out.append(lab[0].text.strip() if lab else r.get_attribute('value'))
    return out


def choose_workspace(drv, name):
    for sel in visible(drv, 'select'):
        for o in Select(sel).options:
            if o.text.strip() == name or name in o.text:
                Select(sel).select_by_visible_text(o.text)
                return True
    for r in drv.find_elements(By.CSS_SELECTOR, 'input[type=radio]'):
        lab = r.find_elements(By.XPATH, './ancestor::label')
        if not lab and r.get_attribute('id'):
            lab = drv.find_elements(
                By.CSS_SELECTOR, 'label[for="%s"]' % r.get_attribute('id'))
        if lab and name in lab[0].text:
            lab[0].click()
            return r.is_selected()
    return False


def decision_button(drv, word):
    for b in drv.find_elements(By.CSS_SELECTOR,
                               'button, input[type=submit]'):
        label = (b.text or b.get_attribute('value') or '').strip()
        if label.lower().startswith(word):
            return b
    raise SystemExit('oauth-browser: no %s button on the page' % word)


def shot_name(a, step):
    """consent, signin, approved, denied for the default prefix;
    <prefix>-<step> otherwise (snapshot() adds oauth- and .png)"""
    return step if a.prefix == 'consent' else a.prefix + '-' + step


def run_flow(drv, lst, a, out):
    drv.get(a.authorize_url)
    if visible(drv, 'input[type=password]'):
        out['pages'].append(snapshot(drv, shot_name(a, 'signin'), a.shots))
    if sign_in(drv, a.email, os.environ.get('SQ_OAUTH_PASSWORD', '')):
        out['signin'] = True
    if a.decision == 'none':
        out['pages'].append(snapshot(drv, a.prefix, a.shots))
        lst.arrived.wait(a.settle)
        return
    try:
        decision_button(drv, 'approve')
    except SystemExit:
        out['pages'].append(snapshot(drv, a.prefix + '-unexpected', a.shots))
        raise
    out['workspaces'] = workspace_choices(drv)
    if a.workspace and not choose_workspace(drv, a.workspace):
        raise SystemExit('oauth-browser: workspace %r not offered'
                         % a.workspace)
    out['pages'].append(snapshot(drv, a.prefix, a.shots))
    if a.decision == 'forge':
        forge(drv, lst, a, out)
        return
    decision_button(drv, a.decision).click()
    if not lst.arrived.wait(a.settle):
        out['pages'].append(snapshot(drv, a.prefix + '-stuck', a.shots))
        return
    WebDriverWait(drv, 10).until(
        lambda d: d.current_url.startswith(a.redirect_uri))
    out['pages'].append(snapshot(
        drv, a.done_shot or shot_name(a, 'approved' if a.decision == 'approve'
                                      else 'denied'), a.shots))


def forge(drv, lst, a, out):
    """Cross-site request forgery, as a browser lives it: the signed-in
    browser opens a page of another origin (the listener's /forge) whose
    form posts the consent's fields, with decision=approve, to the
    authorize endpoint; its csrf field is left out, changed, or (the
    control) kept as the consent page had it."""
    form = drv.find_element(By.CSS_SELECTOR, 'form')
    action = urllib.parse.urljoin(drv.current_url,
                                  form.get_attribute('action') or '')
    fields = drv.execute_script(
        'return Array.from(arguments[0].elements)'
        '.filter(function (e) { return e.name && e.type !== "submit"; })'
        '.map(function (e) { return [e.name, e.value]; })', form)
    fields = [(k, v) for k, v in fields if k != 'csrf' or a.csrf == 'right']
    if a.csrf == 'wrong':
        fields.append(('csrf', '0' * 32))
    fields.append(('decision', 'approve'))
    lst.forge = (action, fields)
    drv.get('http://127.0.0.1:%d/forge' % lst.server.server_address[1])
    drv.find_element(By.ID, 'go').click()
    lst.arrived.wait(a.settle)
    out['pages'].append(snapshot(drv, shot_name(a, 'forged'), a.shots))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--authorize-url')
    p.add_argument('--redirect-uri', required=True)
    p.add_argument('--email', default='')
    p.add_argument('--decision', choices=('approve', 'deny', 'none',
                                          'forge'), default='approve')
    p.add_argument('--csrf', choices=('missing', 'wrong', 'right'),
                   default='missing', help='--decision forge: the forged '
                   'form\'s csrf field')
    p.add_argument('--workspace')
    p.add_argument('--shots')
    p.add_argument('--prefix', default='consent')
    p.add_argument('--done-shot', help='the name of the redirect target\'s '
                   'screenshot (default approved/denied, prefixed)')
    p.add_argument('--settle', type=float, default=15.0)
    p.add_argument('--timeout', type=float, default=30.0)
    p.add_argument('--selftest', action='store_true')
    p.add_argument('--frame', help='a URL the listener\'s /frame page '
                   'puts in an iframe')
    a = p.parse_args()

    ru = urllib.parse.urlsplit(a.redirect_uri)
    if ru.hostname != '127.0.0.1' or not ru.port:
        p.error('--redirect-uri must be http://127.0.0.1:<port>/...')
    lst = Listener(ru.port, ru.path)
    out = {'signin': False, 'pages': [], 'workspaces': [],
           'callback': None, 'final_url': None}
    drv = None
    rc = 0
    try:
        drv = browser(a.timeout)
        if a.frame:
            # an origin of its own (the listener) frames the page: CSP
            # frame-ancestors 'none' must keep it out
            lst.frame = a.frame
            drv.get('http://127.0.0.1:%d/frame' % ru.port)
            time.sleep(1)
            out['pages'].append(snapshot(drv, a.prefix, a.shots))
            out['console'] = [e.get('message', '')
                              for e in drv.get_log('browser')]
            drv.switch_to.frame(drv.find_element(By.TAG_NAME, 'iframe'))
            out['framed_text'] = drv.find_element(By.TAG_NAME, 'body').text
            drv.switch_to.default_content()
        elif a.selftest:
            drv.get(a.redirect_uri + '?state=selftest&code=sqc_selftest0')
            lst.arrived.wait(5)
            out['pages'].append(snapshot(drv, 'selftest', a.shots))
        else:
            if not a.authorize_url:
                p.error('--authorize-url is needed')
            run_flow(drv, lst, a, out)
        out['final_url'] = drv.current_url
        if 'console' not in out:
            out['console'] = [e.get('message', '')
                              for e in drv.get_log('browser')]
    except (WebDriverException, TimeoutException,
            NoSuchElementException) as e:
        out['error'] = '%s: %s' % (type(e).__name__,
                                   (e.msg or '').splitlines()[0]
                                   if getattr(e, 'msg', None) else '')
        rc = 1
    except SystemExit as e:
        out['error'] = str(e)
        rc = 1
    finally:
        if drv is not None:
            try:
                drv.quit()
            except WebDriverException:
                pass
        lst.close()
    if lst.hits:
        out['callback'] = lst.hits[0]
        out['callbacks'] = len(lst.hits)
    json.dump(out, sys.stdout)
    sys.stdout.write('\n')
    return rc


if __name__ == '__main__':
    sys.exit(main())
