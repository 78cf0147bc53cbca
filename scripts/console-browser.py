#!/usr/bin/python3
"""The operator's console (issue 16) in a real browser: headless Debian
chromium driven through selenium and chromedriver, the six steps of the
issue's test list, a screenshot of each page (console-*.png).

  1. sign in (from /console/, through /signin?next=...);
  2. create a key and see it once (and not on the list after);
  3. disable it from the list (its confirmation page), then call the API
     with it (from here, not the browser): 401;
  4. open its activity filtered on refused, and see that call (polled:
     the edge flushes once a second);
  5. the playground with a test key: a 403 for a foreign workspace;
  6. the playground refuses a live key, sending nothing.

Then (--owner-name) the disabled key's owner and purpose are set on its
page, and the checklist's one-click notify and the apps page are visited.

The password and the keys come from the environment (SQ_CONSOLE_PASSWORD,
SQ_CONSOLE_TEST_KEY, SQ_CONSOLE_LIVE_KEY), never the command line.  It
prints one JSON object on stdout for the test to judge.

  console-browser.py --base URL --email E --test-key-name N
                     --foreign-ws ID --shots DIR [--activity-secs S]
                     [--owner-name NAME --purpose TEXT]
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import (NoSuchElementException,
                                        TimeoutException, WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu',
              '--disable-dev-shm-usage', '--window-size=1280,900',
              '--no-first-run', '--disable-extensions',
              '--disable-background-networking', '--disable-sync',
              '--password-store=basic', '--lang=en-US'):
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(30)
    return drv


class Run:
    def __init__(self, drv, base, shots):
        self.drv = drv
        self.base = base
        self.shots = shots
        self.out = {'steps': {}, 'pages': [], 'csp_errors': [],
                    'foreign': []}

    def wait(self, cond, secs=10):
        return WebDriverWait(self.drv, secs, poll_frequency=0.05).until(cond)

    def el(self, css):
        return self.drv.find_element(By.CSS_SELECTOR, css)

    def has(self, css):
        return len(self.drv.find_elements(By.CSS_SELECTOR, css)) > 0

    def shot(self, name):
        d = self.drv
        path = None
        if self.shots:
            os.makedirs(self.shots, exist_ok=True)
            path = os.path.join(self.shots, 'console-' + name + '.png')
            h = d.execute_script(
                'return Math.max(document.body ? document.body.scrollHeight'
                ' : 0, document.documentElement.scrollHeight)')
            d.set_window_size(1280, max(700, min(int(h or 0) + 40, 3000)))
            d.save_screenshot(path)
        res = d.execute_script("return performance.getEntriesByType("
                               "'resource').map(function (e) "
                               "{ return e.name; })")
        for r in res:
            if not r.startswith(self.base + '/'):
                self.out['foreign'].append(r)
        for e in d.get_log('browser'):
            if 'Content Security Policy' in e.get('message', ''):
                self.out['csp_errors'].append(e['message'])
        self.out['pages'].append({'name': name, 'url': d.current_url,
                                  'title': d.title, 'shot': path,
                                  'resources': res})

    def go(self, path):
        self.drv.get(self.base + path)

    def api(self, key, path):
        req = urllib.request.Request(self.base + path, headers={
            'Authorization': 'Bearer ' + key})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()


def step_signin(r, email, password):
    s = {}
    r.go('/console/')
    r.wait(lambda d: r.has('#password'))
    s['signin_url'] = r.drv.current_url
    r.shot('signin')
    r.el('#email').send_keys(email)
    r.el('#password').send_keys(password)
    r.el('#signin').click()
    r.wait(lambda d: r.has('table#keys'))
    s['landed'] = r.drv.current_url
    s['keys_shown'] = len(r.drv.find_elements(By.CSS_SELECTOR,
                                              'table#keys tbody tr'))
    s['sparklines'] = len(r.drv.find_elements(By.CSS_SELECTOR, 'svg.spark'))
    r.shot('keys')
    return s


def step_create(r):
    s = {}
    r.el('#create').click()
    r.wait(lambda d: r.has('#create-form'))
    r.el('#name').send_keys('browser key')
    r.el('#purpose').send_keys('console browser test')
    Select(r.el('#mode')).select_by_value('test')
    for sc in ('urls:read', 'social:read', 'workspace:read'):
        r.el('#scope-' + sc.replace(':', '\\:')).click()
    r.shot('create')
    r.el('#submit').click()
    r.wait(lambda d: r.has('#new-key'))
    s['key'] = r.el('#new-key').text
    s['id'] = r.el('#new-id').text
    s['once_text'] = 'shown only this once' in r.el('main').text
    r.el('#copy').click()
    try:
        r.wait(lambda d: r.el('#copied').text != '', 5)
        s['copied'] = r.el('#copied').text
    except TimeoutException:
        s['copied'] = ''
    r.shot('created')
    r.el('#done').click()
    r.wait(lambda d: r.has('table#keys'))
    s['on_list_again'] = s['key'] in r.drv.page_source
    s['listed'] = r.has('#key-' + s['id'])
    s['status_before'] = r.api(s['key'], '/v1/urls')[0]
    return s


def step_disable(r, kid, key):
    s = {}
    r.el('#disable-' + kid).click()
    r.wait(lambda d: r.has('#confirm'))
    s['question'] = r.el('#question').text
    r.shot('confirm-disable')
    r.el('#confirm').click()
    r.wait(lambda d: r.has('#flash'))
    s['flash'] = r.el('#flash').text
    s['row_status'] = r.el('#key-' + kid).get_attribute('data-status')
    r.shot('disabled')
    s['api_status'], body = r.api(key, '/v1/urls')
    try:
        s['api_code'] = json.loads(body)['error']['code']
    except (ValueError, KeyError, TypeError):
        s['api_code'] = None
    return s


def step_activity(r, kid, secs):
    s = {'rows': []}
    end = time.time() + secs
    while True:
        r.go('/console/keys/%s?outcome=refused' % kid)
        r.wait(lambda d: r.has('#summary'))
        rows = r.drv.find_elements(By.CSS_SELECTOR,
                                   'table#activity tbody tr.refused')
        if rows or time.time() >= end:
            break
        time.sleep(0.25)
    s['rows'] = [x.text for x in rows]
    s['allowed_rows'] = len(r.drv.find_elements(
        By.CSS_SELECTOR, 'table#activity tbody tr.allowed'))
    s['summary'] = r.el('#summary').text
    r.shot('activity')
    return s


def step_ownership(r, kid, owner_name, purpose):
    """The disabled key's owner and purpose, set on its page (the stale /
    leaked key's "update credential inventory and ownership")."""
    s = {}
    r.go('/console/keys/%s' % kid)
    r.wait(lambda d: r.has('#own-form'))
    s['owner_before'] = r.el('#owner').text
    sel = Select(r.el('#owner_id'))
    s['options'] = [o.text for o in sel.options]
    sel.select_by_visible_text([t for t in s['options']
                                if t.startswith(owner_name + ' <')][0])
    r.el('#purpose').clear()
    r.el('#purpose').send_keys(purpose)
    r.el('#own').click()
    r.wait(lambda d: r.has('#flash'))
    s['flash'] = r.el('#flash').text
    s['owner'] = r.el('#owner').text
    s['purpose'] = r.el('#purpose-now').text
    s['url'] = r.drv.current_url
    r.drv.execute_script('window.scrollTo(0, 0)')
    r.shot('ownership')
    return s


def play(r, key_name, secret, endpoint, ws):
    r.go('/console/playground')
    r.wait(lambda d: r.drv.execute_script(
        "return document.body.getAttribute('data-ready')") == '1')
    if key_name:
        Select(r.el('#key')).select_by_visible_text(
            [o.text for o in Select(r.el('#key')).options
             if o.text.startswith(key_name + ' (')][0])
    r.el('#secret').send_keys(secret)
    Select(r.el('#endpoint')).select_by_visible_text(endpoint)
    r.el('#workspace').send_keys(ws)
    before = r.drv.execute_script(
        "return performance.getEntriesByType('resource').filter(function "
        "(e) { return e.name.indexOf('/v1/') >= 0; }).length")
    r.el('#send').click()
    return before


def step_play_403(r, key_name, secret, ws):
    s = {}
    play(r, key_name, secret, 'GET /v1/social/accounts', ws)
    r.wait(lambda d: r.el('#result').is_displayed())
    s['status'] = r.el('#status').text
    s['body'] = r.el('#resp-body').text
    s['headers'] = r.el('#headers').text
    r.shot('playground-403')
    return s


def step_play_live(r, key_name, secret):
    s = {}
    before = play(r, key_name, secret, 'GET /v1/urls', '')
    r.wait(lambda d: r.el('#refused').is_displayed())
    time.sleep(0)
    s['refused'] = r.el('#refused').text
    s['result_shown'] = r.el('#result').is_displayed()
    s['sent'] = r.drv.execute_script(
        "return performance.getEntriesByType('resource').filter(function "
        "(e) { return e.name.indexOf('/v1/') >= 0; }).length") - before
    r.shot('playground-live')
    return s


def step_checklist(r):
    """The monthly checklist: one-click notify on a flagged key, then the
    notice in the notifications; the apps page."""
    s = {}
    r.go('/console/checklist')
    r.wait(lambda d: r.has('section.check'))
    s['sections'] = len(r.drv.find_elements(By.CSS_SELECTOR,
                                            'section.check'))
    r.shot('checklist')
    btn = r.drv.find_elements(By.CSS_SELECTOR, 'table#broad button'
                              '[id^="broad-notify-"]')
    s['broad'] = len(btn)
    if btn:
        btn[0].click()
        r.wait(lambda d: r.has('#flash'))
        s['notified'] = r.el('#flash').text
    r.go('/console/notifications')
    r.wait(lambda d: r.has('table#notices'))
    s['notices'] = len(r.drv.find_elements(By.CSS_SELECTOR,
                                           'table#notices tbody tr'))
    r.shot('notifications')
    r.go('/console/apps')
    r.wait(lambda d: r.has('table#apps'))
    s['apps'] = len(r.drv.find_elements(By.CSS_SELECTOR,
                                        'table#apps tbody tr'))
    r.shot('apps')
    return s


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--base', required=True)
    p.add_argument('--email', required=True)
    p.add_argument('--test-key-name', required=True)
    p.add_argument('--foreign-ws', required=True)
    p.add_argument('--shots')
    p.add_argument('--activity-secs', type=float, default=5.0)
    p.add_argument('--owner-name')
    p.add_argument('--purpose', default='')
    a = p.parse_args()

    drv = None
    r = None
    try:
        drv = browser()
        r = Run(drv, a.base.rstrip('/'), a.shots)
        st = r.out['steps']
        st['signin'] = step_signin(r, a.email,
                                   os.environ.get('SQ_CONSOLE_PASSWORD', ''))
        st['create'] = step_create(r)
        kid, key = st['create']['id'], st['create']['key']
        st['disable'] = step_disable(r, kid, key)
        st['activity'] = step_activity(r, kid, a.activity_secs)
        if a.owner_name:
            st['ownership'] = step_ownership(r, kid, a.owner_name,
                                             a.purpose)
        st['play_403'] = step_play_403(
            r, a.test_key_name, os.environ.get('SQ_CONSOLE_TEST_KEY', ''),
            a.foreign_ws)
        st['play_live'] = step_play_live(
            r, a.test_key_name, os.environ.get('SQ_CONSOLE_LIVE_KEY', ''))
        st['checklist'] = step_checklist(r)
        # the new key is not printed whole: its prefix only
        st['create']['key'] = key[:9] + '...' if key else key
        rc = 0
    except (WebDriverException, NoSuchElementException, TimeoutException,
            IndexError, OSError) as e:
        out = r.out if r else {}
        out['error'] = '%s: %s' % (type(e).__name__, str(e)[:500])
        if r and 'create' in out.get('steps', {}):
            k = out['steps']['create'].get('key') or ''
            out['steps']['create']['key'] = k[:9] + '...'
        if drv is not None:
            try:
                r.shot('error')
            except WebDriverException:
                pass
        rc = 1
    finally:
        if drv is not None:
            drv.quit()

    print(json.dumps(r.out if r else {'error': 'no browser'}))
    return rc


if __name__ == '__main__':
    sys.exit(main())
