#!/usr/bin/python3
"""A standard OAuth 2 client against SmartlyQ: Debian's requests-oauthlib
(OAuth2Session over oauthlib's WebApplicationClient), used unchanged, runs
the authorization code flow with PKCE (S256), calls the API with the
access token, refreshes it, calls the API again and revokes the refresh
token (RFC 7009), then checks that the revoked family is dead.

The endpoints come from the server's RFC 8414 metadata
(/.well-known/oauth-authorization-server).  oauthlib refuses plain http
unless OAUTHLIB_INSECURE_TRANSPORT is set: the script sets it for a
loopback base URL only (the stack of `make run` listens on 127.0.0.1).

The user's part (sign in, consent) is done one of two ways:
  --email E   as a user agent would, with plain HTTP form posts (the
              password in SQ_OAUTH_PASSWORD): GET the authorize URL, sign
              in, read the consent form, pick --workspace, press Approve,
              and take the redirect's Location: what a test runs;
  otherwise   it prints the authorize URL and waits (--wait seconds) on
              a listener at the redirect URI (http://127.0.0.1:<port>/...)
              for you to approve in a browser.

The client secret comes from SQ_CLIENT_SECRET (none: a public client,
which sends client_id in the body); a confidential client authenticates
with client_secret_basic, or client_secret_post with --auth post.  Progress goes to stderr, tokens cut
to their first 8 characters; with --json one JSON summary (statuses and
facts, no secrets) goes to stdout.  Exit status 0 when every step did
what RFC 6749/7009 say it should.
"""

import argparse
import html.parser
import http.server
import json
import os
import sys
import threading
import urllib.parse

import requests
from oauthlib.oauth2 import WebApplicationClient
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from requests_oauthlib import OAuth2Session


def short(tok):
    return (tok or '')[:8] + '\u2026' if tok else '-'


def say(msg):
    sys.stderr.write('oauth-client: %s\n' % msg)
    sys.stderr.flush()


class Forms(html.parser.HTMLParser):
    """The forms of a page: action, method, fields (inputs, selects with
    their options, submit buttons)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.form = None
        self.select = None
        self.option = None
        self.button = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'form':
            self.form = {'action': a.get('action') or '',
                         'method': (a.get('method') or 'get').lower(),
                         'inputs': [], 'selects': [], 'buttons': []}
            self.forms.append(self.form)
        elif self.form is None:
            return
        elif tag == 'input':
            t = (a.get('type') or 'text').lower()
            if t == 'submit':
                self.form['buttons'].append({'name': a.get('name'),
                                             'value': a.get('value') or '',
                                             'text': a.get('value') or ''})
            else:
                self.form['inputs'].append({'type': t,
                                            'name': a.get('name'),
                                            'value': a.get('value') or '',
                                            'checked': 'checked' in a,
                                            'label': ''})
        elif tag == 'select':
            self.select = {'name': a.get('name'), 'options': []}
            self.form['selects'].append(self.select)
        elif tag == 'option' and self.select is not None:
            self.option = {'value': a.get('value'), 'text': '',
                           'selected': 'selected' in a}
            self.select['options'].append(self.option)
        elif tag == 'button':
            self.button = {'name': a.get('name'), 'value': a.get('value'),
                           'text': '',
                           'type': (a.get('type') or 'submit').lower()}
            self.form['buttons'].append(self.button)

    def handle_endtag(self, tag):
        if tag == 'form':
            self.form = None
        elif tag == 'select':
            self.select = None
        elif tag == 'option':
            self.option = None
        elif tag == 'button':
            self.button = None

    def handle_data(self, data):
        if self.option is not None:
            self.option['text'] += data
        elif self.button is not None:
            self.button['text'] += data
        elif self.form is not None and self.form['inputs']:
            last = self.form['inputs'][-1]
            if last['type'] == 'radio':
                last['label'] += data


def forms_of(text):
    f = Forms()
    f.feed(text)
    return f.forms


def fields(form, workspace=None):
    """The form's successful controls, with the workspace chosen by the
    text shown for it when one is named."""
    out = []
    radios = {}
    for i in form['inputs']:
        if not i['name']:
            continue
        if i['type'] == 'radio':
            radios.setdefault(i['name'], []).append(i)
        elif i['type'] == 'checkbox':
            if i['checked']:
                out.append((i['name'], i['value'] or 'on'))
        else:
            out.append((i['name'], i['value']))
    for name, group in radios.items():
        pick = [r for r in group if workspace and workspace in r['label']]
        pick = pick or [r for r in group if r['checked']] or group[:1]
        out.append((name, pick[0]['value']))
    for s in form['selects']:
        opts = s['options']
        pick = [o for o in opts if workspace and workspace in o['text']]
        pick = pick or [o for o in opts if o['selected']] or opts[:1]
        if pick:
            v = pick[0]['value']
            out.append((s['name'], v if v is not None
                        else pick[0]['text'].strip()))
    return out


def user_agent_consent(auth_url, base, redirect_uri, email, password,
                       workspace):
    """Signs in and approves as a browser without scripts would; returns
    the URL the server redirected to (the redirect URI with the code)."""
    ua = requests.Session()
    url, method, data = auth_url, 'GET', None
    for _ in range(10):
        r = ua.request(method, url, data=data, allow_redirects=False,
                       timeout=10)
        if r.status_code in (301, 302, 303, 307):
            loc = urllib.parse.urljoin(url, r.headers['Location'])
            if loc.startswith(redirect_uri):
                return loc
            url, method, data = loc, 'GET', None
            continue
        if r.status_code != 200:
            raise SystemExit('user agent: %s %s answered %d'
                             % (method, url.split('?')[0], r.status_code))
        forms = [f for f in forms_of(r.text) if f['method'] == 'post']
        login = [f for f in forms
                 if any(i['type'] == 'password' for i in f['inputs'])]
        if login:
            f = login[0]
            data = [(n, v) for n, v in fields(f)
                    if n not in ('email', 'password')]
            data += [('email', email), ('password', password)]
            say('signing in as %s' % email)
        else:
            consent = [f for f in forms if any(
                (b['text'] or b['value'] or '').strip().lower()
                .startswith('approve') for b in f['buttons'])]
            if not consent:
                raise SystemExit('user agent: neither a sign-in nor a '
                                 'consent form at %s' % url.split('?')[0])
            f = consent[0]
            b = [b for b in f['buttons'] if (b['text'] or b['value'] or '')
                 .strip().lower().startswith('approve')][0]
            data = fields(f, workspace)
            if b['name']:
                data.append((b['name'], b['value'] or ''))
            say('approving on the consent page%s'
                % (' for ' + workspace if workspace else ''))
        url = urllib.parse.urljoin(r.url, f['action'] or r.url)
        method = 'POST'
    raise SystemExit('user agent: too many steps')


def wait_for_redirect(auth_url, redirect_uri, secs):
    """Prints the URL; the listener on the redirect URI takes the one
    request that comes back."""
    ru = urllib.parse.urlsplit(redirect_uri)
    got = {}
    done = threading.Event()

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if urllib.parse.urlsplit(self.path).path != ru.path:
                self.send_error(404)
                return
            got['url'] = '%s://%s%s' % (ru.scheme, ru.netloc, self.path)
            body = (b'<!doctype html><title>Done</title><p>The client got '
                    b'its answer; you can close this tab.</p>')
            self.send_response(200)
            self.send_header('Content-Type', 'text/html')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            done.set()

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer((ru.hostname, ru.port), H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    say('open this in a browser, sign in and approve:\n\n  %s\n' % auth_url)
    say('waiting up to %ds on %s' % (secs, redirect_uri))
    ok = done.wait(secs)
    srv.shutdown()
    srv.server_close()
    if not ok:
        raise SystemExit('no redirect came back')
    return got['url']


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--base', required=True)
    p.add_argument('--client-id', required=True)
    p.add_argument('--redirect-uri', required=True)
    p.add_argument('--scope', required=True)
    p.add_argument('--email')
    p.add_argument('--workspace')
    p.add_argument('--api', default='/v1/me')
    p.add_argument('--wait', type=int, default=300)
    p.add_argument('--json', action='store_true')
    p.add_argument('--auth', choices=('basic', 'post'), default='basic',
                   help='a confidential client\'s authentication')
    a = p.parse_args()

    host = urllib.parse.urlsplit(a.base).hostname
    if host in ('127.0.0.1', 'localhost', '::1'):
        os.environ['OAUTHLIB_INSECURE_TRANSPORT'] = '1'
    secret = os.environ.get('SQ_CLIENT_SECRET') or None
    res = {'client_type': 'confidential' if secret else 'public'}
    ok = True

    def check(name, cond, what):
        nonlocal ok
        res[name] = bool(cond)
        say('%s %s' % ('ok  ' if cond else 'FAIL', what))
        ok = ok and bool(cond)

    meta = requests.get(a.base + '/.well-known/oauth-authorization-server',
                        timeout=10)
    md = meta.json()
    res['metadata_status'] = meta.status_code
    check('metadata', meta.status_code == 200
          and 'S256' in md.get('code_challenge_methods_supported', []),
          'RFC 8414 metadata, S256 offered')

    client = WebApplicationClient(a.client_id)
    verifier = client.create_code_verifier(64)
    challenge = client.create_code_challenge(verifier, 'S256')
    sess = OAuth2Session(a.client_id, client=client,
                         redirect_uri=a.redirect_uri, scope=a.scope.split())
    auth_url, state = sess.authorization_url(
        md['authorization_endpoint'], code_challenge=challenge,
        code_challenge_method='S256')

    if a.email:
        back = user_agent_consent(auth_url, a.base, a.redirect_uri, a.email,
                                  os.environ.get('SQ_OAUTH_PASSWORD', ''),
                                  a.workspace)
    else:
        back = wait_for_redirect(auth_url, a.redirect_uri, a.wait)

    # the client's auth: client_secret_basic for a confidential client
    # (requests-oauthlib's default) or, with --auth post, client_secret_post
    # (include_client_id + client_secret); client_id in the body for a
    # public one
    post = bool(secret) and a.auth == 'post'
    res['client_auth'] = ('none' if not secret else
                          'client_secret_post' if post
                          else 'client_secret_basic')
    tok_auth = (requests.auth.HTTPBasicAuth(a.client_id, secret)
                if secret and not post else None)
    extra = ({} if tok_auth else
             {'include_client_id': True, 'client_secret': secret})
    body_auth = {} if tok_auth else {'client_id': a.client_id}
    if post:
        body_auth['client_secret'] = secret
    try:
        tok = sess.fetch_token(md['token_endpoint'],
                               authorization_response=back,
                               code_verifier=verifier, auth=tok_auth,
                               **extra)
    except OAuth2Error as e:
        check('token', False, 'code + verifier -> token: %s' % e.error)
        return finish(a, res, False)
    access1, refresh1 = tok.get('access_token'), tok.get('refresh_token')
    check('token', access1 and access1.startswith('sqo_')
          and refresh1 and refresh1.startswith('sqr_')
          and tok.get('token_type', '').lower() == 'bearer',
          'code + verifier -> access %s, refresh %s, expires_in %s'
          % (short(access1), short(refresh1), tok.get('expires_in')))
    res['expires_in'] = tok.get('expires_in')
    res['scope'] = tok.get('scope')

    r = sess.get(a.base + a.api, timeout=10)
    res['api_status'] = r.status_code
    check('api', r.status_code == 200,
          'GET %s with the access token: %d' % (a.api, r.status_code))

    # refresh: requests-oauthlib's refresh_token, the same client auth
    rkw = dict(body_auth)
    try:
        tok2 = sess.refresh_token(md['token_endpoint'], auth=tok_auth,
                                  **rkw)
    except OAuth2Error as e:
        check('refresh', False, 'refresh: %s' % e.error)
        return finish(a, res, False)
    access2, refresh2 = tok2.get('access_token'), tok2.get('refresh_token')
    check('refresh', access2 and access2 != access1
          and refresh2 and refresh2 != refresh1,
          'refresh -> a new access %s and a rotated refresh %s'
          % (short(access2), short(refresh2)))
    r = sess.get(a.base + a.api, timeout=10)
    res['api_after_refresh_status'] = r.status_code
    check('api_after_refresh', r.status_code == 200,
          'GET %s with the refreshed token: %d' % (a.api, r.status_code))

    # RFC 7009: revoke the refresh token, with the same client auth
    rv = dict(body_auth, token=refresh2, token_type_hint='refresh_token')
    r = requests.post(md['revocation_endpoint'], data=rv, auth=tok_auth,
                      timeout=10)
    res['revoke_status'] = r.status_code
    check('revoke', r.status_code == 200,
          'revoke the refresh token: %d' % r.status_code)
    try:
        sess.refresh_token(md['token_endpoint'], refresh_token=refresh2,
                           auth=tok_auth, **rkw)
        dead = None
    except OAuth2Error as e:
        dead = e.error
    res['refresh_after_revoke'] = dead
    check('revoked_refresh', dead == 'invalid_grant',
          'the revoked refresh token: %s' % (dead or 'accepted'))
    r = requests.get(a.base + a.api, timeout=10,
                     headers={'Authorization': 'Bearer ' + access2})
    res['api_after_revoke_status'] = r.status_code
    check('api_after_revoke', r.status_code == 401,
          'GET %s with the family\'s access token after the revoke: %d'
          % (a.api, r.status_code))
    return finish(a, res, ok)


def finish(a, res, ok):
    res['ok'] = ok
    if a.json:
        json.dump(res, sys.stdout, sort_keys=True)
        sys.stdout.write('\n')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
