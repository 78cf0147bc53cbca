# The operator's console (issue 16) over HTTP, through the edge
# (conf/smartlyq-console.conf): sign-in required, the strict CSP on every
# page and static file, no inline script or style, CSRF refusals (no
# token, a wrong one, another origin, no session, another user), and the
# key actions (create shown once, disable, enable, rotate, delete) taking
# effect at the edge on the very next request.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use JSON::PP;
use Test::More;

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(routes => 1));
my $http = HTTP::Tiny->new(max_redirect => 0, timeout => 10,
                           keep_alive => 0);
my $PW = 'correct horse battery staple';
my $CSP = "default-src 'none'; script-src 'self'; style-src 'self'; "
        . "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
        . "frame-ancestors 'none'; base-uri 'none'";

for my $u ($T->{alice}, $T->{bob}) {
    SQTest::run_capture('sh', '-c', 'printf "%s\n" "$0" | SMARTLYQ_REDIS=$1 '
        . 'SMARTLYQ_PEPPER_FILE=$2 SMARTLYQ_REDIS_PASSWORD_FILE=$3 $4 user '
        . 'password --id $5', $PW, "127.0.0.1:$SQTest::PORT{redis}",
        "$SQTest::DIR/pepper", $SQTest::PASS{backend},
        "$SQTest::BUILD/sqctl", $u);
}

sub form { return $http->www_form_urlencode($_[0]) }

sub get {
    my ($path, $cookie) = @_;
    my %h;
    $h{Cookie} = "sq_session=$cookie" if $cookie;
    return $http->request('GET', "$base$path", { headers => \%h });
}

sub post {
    my ($path, $f, $cookie, $h) = @_;
    my %h = ('Content-Type' => 'application/x-www-form-urlencoded',
             %{ $h || {} });
    $h{Cookie} = "sq_session=$cookie" if $cookie;
    return $http->request('POST', "$base$path",
                          { headers => \%h, content => form($f) });
}

sub signin {
    my ($email) = @_;
    my $r = post('/signin', { email => $email, password => $PW,
                              next => '/console/' });
    my ($c) = ($r->{headers}{'set-cookie'} // '') =~ /sq_session=([^;]*)/;
    return ($r, $c);
}

sub csrf_of { my ($r) = @_; return ($r->{content} =~ /name="csrf" value="([0-9a-f]{32})"/)[0] }

sub edge {
    my ($key, $path) = @_;
    my ($r) = SQTest::api($base, $key, 'GET', $path || '/v1/urls');
    return $r->{status};
}

sub page_ok {
    my ($r, $status, $what) = @_;
    is($r->{status}, $status, "$what: $status");
    is($r->{headers}{'content-security-policy'}, $CSP, "$what: the strict CSP");
    unlike($r->{content}, qr/<script(?![^>]*\bsrc=)/i, "$what: no inline script");
    unlike($r->{content}, qr/\sstyle=|<style/i, "$what: no inline style");
}

# --- sign-in required ----------------------------------------------------
my $r = get('/console/');
is($r->{status}, 302, 'no session: redirected');
is($r->{headers}{location}, '/signin?next=%2Fconsole%2F', '... to the sign-in, back to the console');
$r = get('/console/playground');
is($r->{headers}{location}, '/signin?next=%2Fconsole%2Fplayground', '... back to the page asked for');
$r = get('/console/', 'sqx_' . ('A' x 40));
is($r->{status}, 302, 'an unknown session: redirected too');
$r = post("/console/keys/1/disable", { csrf => 'x' x 32 });
is($r->{status}, 403, 'a POST without a session: 403');

for my $f (['console.css', qr{^text/css}], ['console.js', qr{^text/javascript}]) {
    $r = get("/console/static/$f->[0]");
    is($r->{status}, 200, "static $f->[0]");
    like($r->{headers}{'content-type'}, $f->[1], '... its type');
    is($r->{headers}{'content-security-policy'}, $CSP, '... with the CSP');
}
like(get('/console/static/console.js')->{content}, qr/sqk_live_/, 'the script knows live keys');

my ($sr, $alice) = signin('alice@example.com');
is($sr->{status}, 303, 'sign-in with next=/console/');
is($sr->{headers}{location}, '/console/', '... goes back to the console');
ok($alice, '... with a session cookie');

# --- the pages -------------------------------------------------------------
$r = get('/console/', $alice);
page_ok($r, 200, 'the keys list');
like($r->{content}, qr/>alicetest</, '... lists the keys by name');
like($r->{content}, qr/<svg class="spark"/, '... with inline SVG sparklines');
unlike($r->{content}, qr/sqk_(live|test)_[A-Za-z0-9]{40}/, '... and no full key');
my $csrf = csrf_of(get('/console/keys/new', $alice));
ok($csrf, 'the create form carries a CSRF token');
page_ok(get('/console/keys/new', $alice), 200, 'the create form');
page_ok(get('/console/playground', $alice), 200, 'the playground');
like(get('/console/playground', $alice)->{content}, qr/>alicetest \(sqk_test_/,
     '... offers the test keys by name');
unlike(get('/console/playground', $alice)->{content}, qr/<option[^>]*>alice \(/,
       '... and no live key');
page_ok(get('/console/nope', $alice), 404, 'an unknown page');
page_ok(get('/console/keys', $alice), 405, 'GET of a form address');

# --- create: shown once, works at the edge ----------------------------------
$r = post('/console/keys', { csrf => $csrf, name => 'console <one>', mode => 'test',
                             type => 'secret', 'scope.urls:read' => 1,
                             'scope.urls:write' => 1, workspaces => '',
                             purpose => 'billing sync' }, $alice);
page_ok($r, 201, 'create');
my ($key) = $r->{content} =~ /<code id="new-key">(sqk_test_[A-Za-z0-9]{40})</;
my ($kid) = $r->{content} =~ /<span id="new-id">(\d+)</;
ok($key && $kid, 'the new key is shown, with its id');
like($r->{content}, qr/console &lt;one&gt;/, '... its name escaped');
like($r->{content}, qr/shown only this once/, '... once');
is(edge($key), 200, 'the new key works at the edge');
is(edge($key, '/v1/social/accounts'), 403, '... with the scopes picked only');
$r = get('/console/', $alice);
unlike($r->{content}, qr/\Q$key\E/, 'the list does not show it again');
like($r->{content}, qr/id="key-$kid" data-status="active"/, '... but lists it');
like($r->{content}, qr{<tr id="key-$kid".*?<td>Alice &lt;alice\@example\.com&gt;</td><td>billing sync</td>},
     '... with its owner (the creator) by name and email, and purpose');

# --- a key's page: its activity (entries as the edge writes them) ----------
# on a key the edge never sees, so that an edge recording activity (issue
# 16, act) adds nothing to what is read here
my ($qid) = post('/console/keys', { csrf => $csrf, name => 'quiet', mode => 'test',
                                   type => 'secret', 'scope.urls:read' => 1 },
                 $alice)->{content} =~ /<span id="new-id">(\d+)</;
my $now = time;
redis_cli('XADD', "sq:act:$qid", '*', t => $now - 5, ip => '203.0.113.7', m => 'GET',
          r => '/v1/urls', ws => $T->{ws1}, s => 200, c => '', n => 3);
redis_cli('XADD', "sq:act:$qid", '*', t => $now - 2, ip => '198.51.100.9', m => 'POST',
          r => '/v1/urls', ws => $T->{wsb}, s => 403, c => 'forbidden', n => 2);
$r = get("/console/keys/$qid", $alice);
page_ok($r, 200, 'the key page');
like($r->{content}, qr{<tr class="refused">.*?198\.51\.100\.9.*?forbidden}s, '... the refused entry');
like($r->{content}, qr{<tr class="allowed">.*?203\.0\.113\.7}s, '... the allowed one');
like($r->{content}, qr{id="s-requests">5<}, '... the summary counts requests');
like($r->{content}, qr{id="s-refused">2<}, '... and refusals');
like($r->{content}, qr{id="s-codes">forbidden: 2<}, '... by code');
like($r->{content}, qr{id="s-ips">[^<]*198\.51\.100\.9}, '... and the IPs');
$r = get("/console/keys/$qid?outcome=refused&workspace_id=", $alice);
unlike($r->{content}, qr{<tr class="allowed">}, 'filter refused: no allowed entry');
like($r->{content}, qr{<tr class="refused">}, '... the refused one');
$r = get("/console/keys/$qid?outcome=allowed&workspace_id=$T->{ws1}", $alice);
like($r->{content}, qr{<tr class="allowed">}, 'filter allowed in ws1');
unlike($r->{content}, qr{<tr class="refused">}, '... only');
$r = get("/console/keys/$qid?outcome=allowed&workspace_id=$T->{wsb}", $alice);
like($r->{content}, qr{id="no-activity"}, 'allowed in wsb: none');
is(get("/console/keys/$qid?outcome=maybe", $alice)->{status}, 400, 'a bad filter: 400');
my (undef, $bobs) = signin('bob@example.com');
is(get("/console/keys/$qid", $bobs)->{status}, 404, "another user's key page: 404");

# --- the checklist, notify owner, notifications ---------------------------
my ($admin_id) = get('/console/', $alice)->{content} =~ /<tr id="key-(\d+)"[^>]*><td><a [^>]*>alice</;
redis_cli("HDEL", "sq:key:{" . redis_cli("GET", "sq:keyid:$admin_id") . "}",
          "owner_id");
$r = get('/console/checklist', $alice);
page_ok($r, 200, 'the checklist');
like($r->{content}, qr{<table id="no-owner">.*?id="no-owner-$admin_id"}s, '... a key without owner');
like($r->{content}, qr{<table id="broad">.*?id="broad-$admin_id"}s, '... a key with every scope');
like($r->{content}, qr{id="no-owner-disable-$admin_id"}, '... with one-click disable');
# its times as on the keys list and the key's page (one formatter), not
# the API's ISO 8601
{
    my ($row) = $r->{content} =~ m{(<tr id="no-owner-$admin_id">.*?</tr>)}s;
    my ($created) = get("/console/keys/$admin_id", $alice)->{content}
        =~ /, created (\d{4}-\d\d-\d\d \d\d:\d\d UTC), last used /;
    ok($created, "the key's page shows its creation as YYYY-MM-DD HH:MM UTC");
    like($row // '', qr{</td><td>\Q${\($created // '?')}\E</td><td>(never|\d{4}-\d\d-\d\d \d\d:\d\d UTC)</td><td>active</td>},
         '... and the checklist the same creation time and the last use so');
    unlike($row // '', qr/\d\dT\d\d:\d\d|\d\dZ\b/, '... no ISO 8601 time there');
}
unlike($r->{content}, qr{id="no-owner-$kid"}, '... the owned key is not listed there');
$r = post("/console/keys/$admin_id/notify", { csrf => $csrf, message => 'x' }, $alice);
is($r->{status}, 409, 'notify a key without owner: 409');
$r = post("/console/keys/$kid/notify", { csrf => $csrf, message => 'Rotate <this> key' }, $alice);
is($r->{status}, 303, 'notify the owner');
$r = get('/console/notifications', $alice);
page_ok($r, 200, 'the notifications');
like($r->{content}, qr{Rotate &lt;this&gt; key}, '... the notice, escaped');
like(get('/console/notifications', $bobs)->{content}, qr/id="no-notices"/,
     "... not in another user's");
$r = post("/console/keys/$kid/notify", { message => 'x' }, $alice);
is($r->{status}, 403, 'notify without the token: 403');

# --- ownership: the owner among the users Alice may name, the purpose ------
# Carol shares ws1 with Alice; Bob shares none of her workspaces
my $carol = SQTest::sqctl(qw(user create --email carol@example.com --name Carol));
SQTest::sqctl('member', 'add', '--workspace', $T->{ws1}, '--user', $carol);
my $admin_rec = "sq:key:{" . redis_cli("GET", "sq:keyid:$admin_id") . "}";
$r = get("/console/keys/$admin_id", $alice);
page_ok($r, 200, 'the key page of a key without owner');
like($r->{content}, qr{id="owner"><span class="warn">no owner</span>}, '... says so');
my ($own_form) = $r->{content} =~ m{(<form[^>]*id="own-form".*?</form>)}s;
ok($own_form, '... an Ownership form');
like($own_form // '', qr{action="/console/keys/$admin_id/own"}, '... posting to the key');
like($own_form // '', qr{name="csrf" value="$csrf"}, '... with the CSRF token');
like($own_form // '', qr{<option value="$T->{alice}">Alice &lt;alice\@example\.com&gt;</option>},
     '... offering Alice herself by name and email');
like($own_form // '', qr{<option value="$carol">Carol &lt;carol\@example\.com&gt;</option>},
     '... and Carol, a member of her workspace');
unlike($own_form // '', qr{bob\@example\.com|value="$T->{bob}"}, '... not Bob');
like($own_form // '', qr{<input id="purpose" name="purpose" maxlength="200"}, '... a purpose of 200 bytes at most');

$r = post("/console/keys/$admin_id/own", { owner_id => $carol, purpose => 'x' }, $alice);
page_ok($r, 403, 'ownership without the CSRF token');
$r = post("/console/keys/$admin_id/own", { csrf => $csrf, owner_id => $carol, purpose => 'x' },
          $alice, { Origin => 'http://evil.example' });
is($r->{status}, 403, '... from another Origin: 403');
$r = post("/console/keys/$admin_id/own", { csrf => $csrf, owner_id => $T->{bob},
                                           purpose => 'stolen' }, $alice);
page_ok($r, 400, 'Bob (a stranger) as owner');
like($r->{content}, qr{That owner is neither you nor a member of one of your workspaces},
     '... says why');
$r = post("/console/keys/$admin_id/own", { csrf => $csrf, owner_id => $carol,
                                           purpose => 'y' x 201 }, $alice);
is($r->{status}, 400, 'a purpose of 201 bytes: 400');
$r = post("/console/keys/$admin_id/own", { csrf => $csrf, owner_id => 'carol',
                                           purpose => 'x' }, $alice);
is($r->{status}, 400, 'an owner that is no id: 400');
is(redis_cli('HGET', $admin_rec, 'owner_id'), '', '... none of them set an owner');
is(redis_cli('HGET', $admin_rec, 'purpose'), '', '... or a purpose');
like(get('/console/checklist', $alice)->{content}, qr{id="no-owner-$admin_id"},
     '... the checklist still lists it without owner');

$r = post("/console/keys/$admin_id/own", { csrf => $csrf, owner_id => $carol,
                                           purpose => 'CI deploys <prod>' }, $alice);
is($r->{status}, 303, 'set the owner (Carol) and purpose: 303');
is($r->{headers}{location}, "/console/keys/$admin_id?owned=1", '... back to the key page');
is(redis_cli('HGET', $admin_rec, 'owner_id'), $carol, '... the record names Carol');
is(redis_cli('HGET', $admin_rec, 'purpose'), 'CI deploys <prod>', '... with the purpose');
$r = get("/console/keys/$admin_id?owned=1", $alice);
like($r->{content}, qr{id="flash">The owner and purpose were saved}, '... said on the page');
like($r->{content}, qr{id="owner">Carol &lt;carol\@example\.com&gt;</span>}, '... the owner by name and email');
like($r->{content}, qr{id="purpose-now">CI deploys &lt;prod&gt;</span>}, '... the purpose, escaped');
like($r->{content}, qr{<option value="$carol" selected>}, '... Carol chosen in the form');
$r = get('/console/checklist', $alice);
unlike($r->{content}, qr{id="no-owner-$admin_id"}, "the checklist's no-owner entry is gone");
like($r->{content}, qr{<tr id="broad-$admin_id">.*?<td>Carol &lt;carol\@example\.com&gt;</td><td>CI deploys &lt;prod&gt;</td>}s,
     '... still broad, its owner by name and email');
like(get('/console/', $alice)->{content},
     qr{<tr id="key-$admin_id".*?<td>Carol &lt;carol\@example\.com&gt;</td>}, '... and so on the keys list');
$r = post("/console/keys/$admin_id/notify", { csrf => $csrf, message => 'yours now' }, $alice);
is($r->{status}, 303, 'notify its owner now works');
like(redis_cli('LRANGE', "sq:user:{u$carol}:notifications", 0, 0), qr/yours now/,
     '... into Carol\'s notifications');
$r = post("/console/keys/$admin_id/own", { csrf => $csrf, purpose => 'CI deploys' }, $alice);
is($r->{status}, 303, 'the purpose alone (no owner chosen keeps it)');
is(redis_cli('HGET', $admin_rec, 'owner_id'), $carol, '... the owner kept');
is(redis_cli('HGET', $admin_rec, 'purpose'), 'CI deploys', '... the purpose changed');
is(post("/console/keys/$admin_id/own", { csrf => $csrf, owner_id => $carol }, $bobs)->{status},
   403, "Bob with Alice's token: 403");
is(edge($T->{alice_key}), 200, 'the key still works at the edge');

$r = post('/console/keys', { csrf => $csrf, name => '', mode => 'test',
                             type => 'secret' }, $alice);
is($r->{status}, 400, 'create without a name or scopes: 400');
like($r->{content}, qr/id="error"/, '... saying why on the form');

# --- CSRF ----------------------------------------------------------------------
$r = post("/console/keys/$kid/disable", {}, $alice);
page_ok($r, 403, 'disable without the CSRF token');
$r = post("/console/keys/$kid/disable", { csrf => 'f' x 32 }, $alice);
is($r->{status}, 403, 'disable with a wrong token: 403');
$r = post("/console/keys/$kid/disable", { csrf => $csrf }, $alice,
          { Origin => 'http://evil.example' });
is($r->{status}, 403, 'a cross-site post (another Origin), even with the token: 403');
is(edge($key), 200, '... none of them disabled the key');
my (undef, $bob) = signin('bob@example.com');
my $bcsrf = csrf_of(get('/console/keys/new', $bob));
$r = post("/console/keys/$kid/disable", { csrf => $bcsrf }, $bob);
is($r->{status}, 404, "another user's key: 404");
$r = post("/console/keys/$kid/disable", { csrf => $bcsrf }, $alice);
is($r->{status}, 403, "another session's token: 403");
is(edge($key), 200, '... the key still works');

# --- the actions, confirmed, at the edge on the next request -----------------
$r = get("/console/keys/$kid/confirm?do=disable", $alice);
page_ok($r, 200, 'the disable confirmation');
like($r->{content}, qr{action="/console/keys/$kid/disable"}, '... posts the action');
$r = post("/console/keys/$kid/disable", { csrf => $csrf }, $alice,
          { Origin => $base });
is($r->{status}, 303, 'disable (same origin)');
is($r->{headers}{location}, "/console/?done=disable&id=$kid", '... back to the list');
is(edge($key), 401, 'disabled: 401 at the edge on the very next request');
like(get("/console/?done=disable&id=$kid", $alice)->{content},
     qr/id="key-$kid" data-status="disabled"/, 'the list shows it disabled');

$r = post("/console/keys/$kid/enable", { csrf => $csrf }, $alice);
is($r->{status}, 303, 'enable');
is(edge($key), 200, 'enabled: 200 on the next request');

page_ok(get("/console/keys/$kid/confirm?do=rotate", $alice), 200, 'the rotate confirmation');
$r = post("/console/keys/$kid/rotate", { csrf => $csrf, grace => 0 }, $alice);
page_ok($r, 201, 'rotate, no grace');
my ($key2) = $r->{content} =~ /<code id="new-key">(sqk_test_[A-Za-z0-9]{40})</;
my ($kid2) = $r->{content} =~ /<span id="new-id">(\d+)</;
ok($key2 && $key2 ne $key, 'the new key is shown once');
is(edge($key2), 200, 'the new key works');
is(edge($key), 401, 'the old one is refused');
$r = post("/console/keys/$kid/rotate", { csrf => $csrf, grace => 0 }, $alice);
is($r->{status}, 409, 'rotating it again: 409');
$r = post("/console/keys/$kid2/rotate", { csrf => $csrf, grace => 'x' }, $alice);
is($r->{status}, 400, 'a bad grace: 400');

$r = post("/console/keys/$kid2/delete", { csrf => $csrf }, $alice);
is($r->{status}, 303, 'delete');
is(edge($key2), 401, 'deleted: 401 on the next request');
unlike(get('/console/', $alice)->{content}, qr/id="key-$kid2"/, 'gone from the list');
is(get("/console/keys/$kid2/confirm?do=enable", $alice)->{status}, 404,
   'a deleted key: 404');
is(get("/console/keys/$kid/confirm?do=explode", $alice)->{status}, 400,
   'an unknown action: 400');

# --- apps: redirect URIs, outcomes, secret rotation ----------------------
my $app = JSON::PP->new->decode(SQTest::sqctl('app', 'create', '--workspace', $T->{ws1},
    '--owner', $T->{alice}, '--redirect-uris', 'https://client.example/cb',
    '--scopes', 'urls:read', '--name', 'Alice <App>'));
redis_cli('HINCRBY', "sq:app:{a$app->{id}}:outcome_counts", 'approved', 3);
redis_cli('HINCRBY', "sq:app:{a$app->{id}}:outcome_counts", 'denied', 2);
$r = get('/console/apps', $alice);
page_ok($r, 200, 'the apps page');
like($r->{content}, qr{<tr id="app-$app->{id}"><td>Alice &lt;App&gt;</td>}, '... the app, escaped');
like($r->{content}, qr{<code>https://client\.example/cb</code>}, '... its redirect URI');
like($r->{content}, qr{class="approved">3<.*?class="denied">2<}s, '... approved vs denied');
unlike(get('/console/apps', $bobs)->{content}, qr/id="app-$app->{id}"/, "... not in another user's");
page_ok(get("/console/apps/$app->{id}/confirm", $alice), 200, 'the app rotation confirmation');
$r = post("/console/apps/$app->{id}/rotate", { csrf => $csrf, grace => 0 }, $alice);
page_ok($r, 200, 'rotate the client secret');
my ($sec) = $r->{content} =~ /<code id="new-key">(sqs_[A-Za-z0-9]{40})</;
ok($sec, '... the new secret shown once');
my $last4 = substr($sec // 'none', -4);
$r = get('/console/apps', $alice);
like($r->{content}, qr/sqs_\x{e2}\x{80}\x{a6}\Q$last4\E</, '... the list shows its last 4');
my $whole = $sec // 'none';
unlike($r->{content}, qr/\Q$whole\E/, '... not the secret');
is(post("/console/apps/$app->{id}/rotate", { csrf => $bcsrf, grace => 0 }, $bob)->{status},
   404, "another user's app: 404");
is(post("/console/apps/$app->{id}/rotate", { grace => 0 }, $alice)->{status}, 403,
   'without the token: 403');

# --- sign out ------------------------------------------------------------------
$r = post('/signout', {}, $alice);
is($r->{status}, 303, 'sign out');
is(get('/console/', $alice)->{status}, 302, 'the session is over');

done_testing();
