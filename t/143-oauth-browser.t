# The consent page in a real browser (issue 14): Debian's chromium,
# headless, driven by scripts/oauth-browser.py through selenium and
# chromedriver, against the whole stack (Redis, the backend, nginx with
# conf/smartlyq-routes.conf and the OAuth locations).  The redirect URI is
# the script's own listener on http://127.0.0.1:<port>/cb.  Screenshots
# are kept under build/screenshots/oauth-*.png (the script's prefix).

use strict;
use warnings;

use lib 't/lib';
use Test::More;

use SQBrowser;

BEGIN { SQBrowser::skip_unless_browser() }

use SQTest;
use Digest::SHA qw(sha256);
use JSON::PP;
use MIME::Base64 qw(encode_base64);

my $ROOT = $SQTest::ROOT;
my $SHOTS = "$SQTest::BUILD/screenshots";
my $json = JSON::PP->new->canonical;
# only this run's screenshots are kept, and only ours (t/166 writes its
# console-*.png in the same directory)
SQBrowser::clear_shots($SHOTS, 'oauth-');
my $T = $SQTest::T;
my $http = HTTP::Tiny->new(max_redirect => 0, timeout => 10,
                           keep_alive => 0);

# scripts/oauth-browser.py with @args; the password, when given, in its
# environment only.  Returns its JSON answer (and its exit status).
sub browse {
    my ($password, @args) = @_;
    local $ENV{SQ_OAUTH_PASSWORD} = $password // '';
    my ($out, $rc) = SQTest::run_capture('/usr/bin/python3',
        "$ROOT/scripts/oauth-browser.py", '--shots', $SHOTS, @args);
    my $d = eval { $json->decode($out) };
    diag("oauth-browser.py said: $out") unless $d;
    return ($d || {}, $rc);
}

sub png_ok {
    my ($name, $what) = @_;
    my $path = "$SHOTS/oauth-$name.png";
    my ($png, $w, $h) = SQBrowser::png_size($path);
    ok($png && $w >= 300 && $h >= 300,
       "$what: a PNG screenshot of the page (${w}x$h) in $path");
}

# --- the harness: chromium runs, the listener answers -------------------
my $cb_port = SQTest::free_port();
my $cb = "http://127.0.0.1:$cb_port/cb";
my ($d, $rc) = browse(undef, '--selftest', '--redirect-uri', $cb);
is($rc, 0, 'headless chromium starts under chromedriver')
    or diag($d->{error} // '');
is_deeply($d->{callback} && $d->{callback}{query},
          { state => ['selftest'], code => ['sqc_selftest0'] },
          'the listener on the redirect URI gets what the browser opened');
like($d->{pages}[0]{text} // '', qr/state selftest/,
     'the rendered page text is read back');
png_ok("selftest", 'selftest');

# --- the stack: routes + the OAuth locations, a password, two apps -----
my $base = SQTest::nginx_start(SQTest::server_conf(routes => 1));
my $PW = 'a long browser passphrase';
for my $u ($T->{alice}, $T->{bob}) {
    my (undef, $rc) = SQTest::run_capture('sh', '-c',
        'printf "%s\n" "$0" | SMARTLYQ_REDIS=$1 SMARTLYQ_PEPPER_FILE=$2 '
        . 'SMARTLYQ_REDIS_PASSWORD_FILE=$3 "$4" user password --id "$5"',
        $PW, "127.0.0.1:$SQTest::PORT{redis}", "$SQTest::DIR/pepper",
        $SQTest::PASS{backend}, "$SQTest::BUILD/sqctl", $u);
    die "sqctl user password failed\n" if $rc;
}

# Bob's workspace owns the apps; Alice (two workspaces: a chooser) and
# Bob (one: no chooser) grant them.  The name has markup in it: the page
# must show it as text.
my $NAME = q{Bob's <b>Scheduler</b> & Co};
my $SCOPES = 'social:read workspace:read chatbots:write';
my %WORDS = ('social:read' => 'See your social accounts and posts',
             'workspace:read' => 'See your profile and your workspaces',
             'chatbots:write' => 'Create, change and delete your chatbots');

sub app_create {
    my (@args) = @_;
    return $json->decode(SQTest::sqctl('app', 'create', '--workspace',
        $T->{wsb}, '--owner', $T->{bob}, '--redirect-uris', $cb,
        '--scopes', $SCOPES, @args));
}
my $app = app_create('--name', $NAME);
my $pub = app_create('--name', 'Bob Public SPA', '--type', 'public');
like($app->{client_id}, qr/^sqapp_[0-9a-f]{32}$/, 'sqctl app create: a client');

my @b62 = ('0' .. '9', 'A' .. 'Z', 'a' .. 'z');
sub rnd62 { return join '', map { $b62[int rand 62] } 1 .. $_[0] }

sub b64url {
    (my $s = encode_base64($_[0], '')) =~ tr{+/}{-_};
    $s =~ s/=+\z//;
    return $s;
}

sub authorize_url {
    my ($a, %o) = @_;
    my %q = (response_type => 'code', client_id => $a->{client_id},
             redirect_uri => $cb, scope => $SCOPES, %o);
    return "$base/oauth/authorize?" . $http->www_form_urlencode(\%q);
}

sub page { my ($d, $name) = @_; return (grep { $_->{name} eq $name } @{ $d->{pages} || [] })[0] || {} }

# what the page loaded besides itself: nothing (the browser's own
# /favicon.ico probe aside)
sub assets { my ($p) = @_; return [grep { !m{/favicon\.ico\z} } @{ $p->{resources} || [] }] }

sub redeem {
    my ($a, $code, $verifier, $secret) = @_;
    my %f = (grant_type => 'authorization_code', code => $code,
             redirect_uri => $cb, code_verifier => $verifier);
    my %h = ('Content-Type' => 'application/x-www-form-urlencoded');
    if (defined $secret) {
        $h{Authorization} = 'Basic '
            . encode_base64("$a->{client_id}:$secret", '');
    } else {
        $f{client_id} = $a->{client_id};
    }
    my $r = $http->request('POST', "$base/oauth/token",
        { headers => \%h, content => $http->www_form_urlencode(\%f) });
    return ($r, eval { $json->decode($r->{content}) } || {});
}

sub outcome_counts {
    my ($a) = @_;
    my $o = $json->decode(SQTest::sqctl('app', 'outcomes', '--id', $a->{id}));
    return $o->{counts} || {};
}

# --- Approve, in the browser ---------------------------------------------
my $verifier = rnd62(64);
my $state = 'st-' . rnd62(12);
($d, $rc) = browse($PW, '--authorize-url',
    authorize_url($app, state => $state,
                  code_challenge => b64url(sha256($verifier)),
                  code_challenge_method => 'S256'),
    '--redirect-uri', $cb, '--email', 'alice@example.com',
    '--decision', 'approve', '--workspace', 'Alice Two');
is($rc, 0, 'approve: the browser went through') or diag($d->{error} // '');
ok($d->{signin}, 'approve: the authorize URL asked the browser to sign in');
like(page($d, 'signin')->{text} // '', qr/Sign in/,
     'approve: the sign-in page rendered');
my $c = page($d, 'consent');
my $text = $c->{text} // '';
like($c->{url} // '', qr{^\Q$base\E/oauth/authorize\?},
     'after sign-in the browser is back on the authorize URL');
like($text, qr/\Q$NAME\E wants to access/,
     'consent: the app name, markup shown as text');
like($text, qr/owned by the workspace Bob Studio\b/,
     'consent: the owner workspace');
is_deeply($d->{workspaces}, ['Alice One', 'Alice Two'],
          'consent: a chooser with each of the user\'s workspaces');
for my $s (split ' ', $SCOPES) {
    like($text, qr/\Q$WORDS{$s}\E \(\Q$s\E\)/, "consent: $s in words");
}
like($text, qr/sent back to \Q$cb\E/, 'consent: where it will go');
like($text, qr/Approve\s*Deny/, 'consent: Approve and Deny');
is_deeply(assets($c), [], 'consent: no external assets loaded');
is_deeply(assets(page($d, 'signin')), [], 'sign-in: no external assets');

my $q = $d->{callback} && $d->{callback}{query} || {};
is($d->{callbacks}, 1, 'approve: one redirect to the client')
    or diag(explain($d->{console}));
like($q->{code} && $q->{code}[0], qr/^sqc_[0-9A-Za-z]{40}$/,
     'approve: the browser landed on the redirect URI with a code');
is_deeply($q->{state}, [$state], '... and the state');
ok(!exists $q->{error}, '... no error');
like($d->{final_url} // '', qr{^\Q$cb\E\?}, '... the browser is there');
png_ok($_, $_) for qw(signin consent approved);

my ($r, $tok) = redeem($app, $q->{code} && $q->{code}[0], $verifier,
                       $app->{client_secret});
is($r->{status}, 200, 'the browser\'s code redeems with the verifier')
    or diag($r->{content});
like($tok->{access_token} // '', qr/^sqo_/, '... for an sqo_ token');
is(join(' ', sort split ' ', $tok->{scope} // ''),
   join(' ', sort split ' ', $SCOPES), '... with the scopes consented');
# the workspace picked in the browser's chooser is the token's one
my ($ar, $ad) = SQTest::api($base, $tok->{access_token} // 'x', 'GET',
                            '/v1/social/accounts');
is($ar->{status}, 200, 'the token calls the API');
is_deeply([map { $_->{handle} } @{ $ad->{data} || [] }], ['alice-two'],
          '... in the workspace chosen in the browser (Alice Two) only');

# --- Deny, in the browser ------------------------------------------------
my $state2 = 'st-' . rnd62(12);
($d, $rc) = browse($PW, '--authorize-url',
    authorize_url($app, state => $state2,
                  code_challenge => b64url(sha256(rnd62(50))),
                  code_challenge_method => 'S256'),
    '--redirect-uri', $cb, '--email', 'alice@example.com',
    '--decision', 'deny', '--prefix', 'deny-consent',
    '--done-shot', 'denied');
is($rc, 0, 'deny: the browser went through') or diag($d->{error} // '');
$q = $d->{callback} && $d->{callback}{query} || {};
is_deeply($q, { error => ['access_denied'], state => [$state2] },
          'deny: the redirect URI gets error=access_denied and the state, '
          . 'no code');
like(page($d, 'denied')->{text} // '', qr/error access_denied/,
     'deny: the browser shows the client\'s page');
png_ok("denied", 'denied');

# --- a public client, a user with one workspace: no chooser -------------
my $v3 = rnd62(50);
my $state3 = 'st-' . rnd62(12);
($d, $rc) = browse($PW, '--authorize-url',
    authorize_url($pub, state => $state3, scope => 'workspace:read',
                  code_challenge => b64url(sha256($v3)),
                  code_challenge_method => 'S256'),
    '--redirect-uri', $cb, '--email', 'bob@example.com',
    '--decision', 'approve', '--prefix', 'public');
is($rc, 0, 'public: the browser went through') or diag($d->{error} // '');
$text = page($d, 'public')->{text} // '';
like($text, qr/Bob Public SPA wants to access/, 'public: the app name');
like($text, qr/Workspace to grant: Bob Studio\b/,
     'public: one workspace, named, no chooser');
is_deeply($d->{workspaces}, [], '... no chooser');
like($text, qr/\Q$WORDS{'workspace:read'}\E/, 'public: the one scope');
unlike($text, qr/\Q$WORDS{'social:read'}\E/, '... only the one asked for');
$q = $d->{callback} && $d->{callback}{query} || {};
is_deeply($q->{state}, [$state3], 'public: back with the state');
($r, $tok) = redeem($pub, $q->{code} && $q->{code}[0], $v3);
is($r->{status}, 200, 'public: the code redeems with client_id + verifier')
    or diag($r->{content});

# --- a redirect URI off by a trailing slash: an error page, no redirect --
($d, $rc) = browse($PW, '--authorize-url',
    authorize_url($app, state => 'st-x', redirect_uri => "$cb/",
                  code_challenge => b64url(sha256(rnd62(50))),
                  code_challenge_method => 'S256'),
    '--redirect-uri', $cb, '--email', 'alice@example.com',
    '--decision', 'none', '--prefix', 'mismatch', '--settle', 3);
is($d->{callback}, undef,
   'redirect URI + "/": the browser never reaches the client');
$text = page($d, 'mismatch')->{text} // '';
like($text, qr/redirect/i, '... an error page that says why');
unlike($text, qr/Approve/, '... no consent form');
png_ok("mismatch", 'mismatch');

# --- clickjacking: another origin framing the pages ---------------------
($d, $rc) = browse(undef, '--frame', authorize_url($app, state => 'st-f',
    code_challenge => b64url(sha256(rnd62(50))),
    code_challenge_method => 'S256'),
    '--redirect-uri', $cb, '--prefix', 'framed');
ok(grep({ /frame-ancestors/ } @{ $d->{console} || [] }),
   'framed: the browser refuses, citing CSP frame-ancestors')
    or diag(explain($d->{console}));
unlike($d->{framed_text} // '', qr/Sign in|wants to access/,
       '... and shows nothing of the page in the frame');

# --- CSRF as a browser lives it -----------------------------------------
# Signed in, the browser opens a page of another origin (the listener's
# /forge, same site: 127.0.0.1, so the SameSite=Lax cookie goes along)
# whose form posts the consent with decision=approve.  Without the csrf
# field, or with a wrong one, no code; the control, with the page's own
# csrf, gets one: the session did travel, the token alone stops it.
for my $case (['missing', 0], ['wrong', 0], ['right', 1]) {
    my ($csrf, $works) = @$case;
    my $st = 'st-forge-' . rnd62(8);
    ($d, $rc) = browse($PW, '--authorize-url',
        authorize_url($app, state => $st,
                      code_challenge => b64url(sha256(rnd62(50))),
                      code_challenge_method => 'S256'),
        '--redirect-uri', $cb, '--email', 'alice@example.com',
        '--decision', 'forge', '--csrf', $csrf, '--prefix', "forge-$csrf",
        '--settle', $works ? 15 : 3);
    is($rc, 0, "forged consent, csrf $csrf: the browser went through")
        or diag($d->{error} // '');
    $q = $d->{callback} && $d->{callback}{query} || {};
    if ($works) {
        like($q->{code} && $q->{code}[0], qr/^sqc_/,
             'forged consent with the page\'s own csrf (the control): a '
             . 'code, so the session cookie did go along');
    } else {
        is($d->{callback}, undef,
           "forged consent, csrf $csrf: nothing reaches the client");
        like(page($d, "forge-$csrf-forged")->{text} // '', qr/Form expired/,
             '... the browser shows the refusal');
    }
}

# --- what let the browser follow: form-action names the client's origin -
# (Chromium holds the redirect that answers the consent form to the page's
# form-action; 'self' alone kept Approve and Deny from ever arriving)
{
    my $far = 'https://partner.example:8443/oauth/cb?tenant=7';
    my $a2 = $json->decode(SQTest::sqctl('app', 'create', '--workspace',
        $T->{wsb}, '--owner', $T->{bob}, '--redirect-uris', $far,
        '--scopes', 'workspace:read', '--name', 'Far client'));
    my $sr = $http->request('POST', "$base/signin", {
        headers => { 'Content-Type' => 'application/x-www-form-urlencoded' },
        content => $http->www_form_urlencode({ email => 'alice@example.com',
                                               password => $PW }) });
    my ($cookie) = ($sr->{headers}{'set-cookie'} // '') =~ /(sq_session=[^;]*)/;
    my $page = $http->request('GET', authorize_url($a2, redirect_uri => $far,
        scope => 'workspace:read', state => 'st-csp',
        code_challenge => b64url(sha256(rnd62(50))),
        code_challenge_method => 'S256'),
        { headers => { Cookie => $cookie // '' } });
    is($page->{status}, 200, 'csp: a consent page for an https client');
    is($page->{headers}{'content-security-policy'},
       "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' "
       . "https://partner.example:8443; frame-ancestors 'none'",
       '... form-action adds its origin, scheme://host:port, no path or query');
    my $signin = $http->request('GET', "$base/signin");
    like($signin->{headers}{'content-security-policy'},
         qr/form-action 'self'; /, '... other pages: form-action self only');
}

# --- the outcome log saw what the browser did ---------------------------
my $oc = outcome_counts($app);
is($oc->{approved}, 2, 'outcomes: the approvals (the browser\'s, the '
   . 'forged control\'s), none for the forgeries');
is($oc->{denied}, 1, 'outcomes: the denial');

done_testing();
