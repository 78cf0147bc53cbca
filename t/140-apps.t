# API Applications (issue 14), /v1/apps end to end through
# conf/smartlyq-routes.conf and `sqctl app`: create (confidential with a
# secret shown once and stored as a keyed digest, public without one),
# the redirect URI and scope rules, apps:manage at the edge, the
# no-escalation rule, tenant isolation, list/get/update, disable, enable,
# delete and secret rotation (grace, revoke_tokens) ending every token
# family of the app in Redis, authorizations (a member sees all, a user
# only their own, and revokes them), the authorize-outcome log.
#
# Grants and token records are written here straight into Redis as
# redis/SCHEMA.md lays them out (the token endpoint is the "oauth"
# engineer's); that an sqo_ token is then refused at the edge on the
# next request needs the "edge" engineer's bearer support and is tested
# in t/142-oauth-edge.t.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use Test::More;
use Time::HiRes ();
use JSON::PP ();

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(routes => 1));

sub call { return SQTest::api($base, @_) }

sub code_of {
    my ($r, $d) = call(@_);
    return ($r->{status}, $d && $d->{error} ? $d->{error}{code} : 'OK', $d);
}

sub key { return SQTest::sqctl('key', 'create', '--user', $T->{alice}, @_) }

my $alice = $T->{alice_key};
my $bob = $T->{bob_key};
my ($ws1, $ws2, $wsb) = @$T{qw(ws1 ws2 wsb)};

my %good = (name => 'Partner CRM', type => 'confidential',
            redirect_uris => ['https://crm.example.com/oauth/cb',
                              'http://127.0.0.1:8765/cb'],
            scopes => ['urls:read', 'articles:read'], workspace_id => $ws1);

# --- create: a confidential app --------------------------------------------
my @c = code_of($alice, 'POST', '/v1/apps', \%good);
is($c[0], 201, 'a confidential app is created') or diag explain $c[2];
my $app = $c[2]{data};
like($app->{client_id}, qr/^sqapp_[0-9a-f]{32}$/, 'client_id: sqapp_ + 32 hex');
like($app->{client_secret}, qr/^sqs_[0-9A-Za-z]{40}$/,
     'client_secret: sqs_ + 40 base62, in the 201');
is($app->{secret_last4}, substr($app->{client_secret}, -4), 'secret_last4');
is_deeply($app->{redirect_uris}, $good{redirect_uris}, 'redirect URIs as given, in order');
is_deeply($app->{scopes}, ['urls:read', 'articles:read'], 'scopes');
is($app->{workspace_id}, $ws1, 'owning workspace');
is($app->{owner_id}, $T->{alice}, 'owner: the caller');
is($app->{status}, 'active', 'status active');
is($app->{type}, 'confidential', 'type');
ok(defined $app->{created_at} && !defined $app->{last_used_at},
   'created_at set, last_used_at null');
my $id = $app->{id};
my $secret = $app->{client_secret};

my $all = SQTest::redis_cli('HGETALL', "sq:app:{a$id}");
like(SQTest::redis_cli('HGET', "sq:app:{a$id}", 'secret_hash'), qr/^[0-9a-f]{64}$/,
     'the secret is stored as a digest');
is(index($all, substr($secret, 4)), -1, '... and nowhere in clear');
is(SQTest::redis_cli('HGET', "sq:app:{a$id}", 'redirect_uris'),
   join("\n", @{ $good{redirect_uris} }), 'redirect_uris stored one per line');
is(SQTest::redis_cli('GET', "sq:appclient:$app->{client_id}"), $id,
   'sq:appclient: maps the client_id to the app');
is(SQTest::redis_cli('ZSCORE', "sq:ws:{w$ws1}:apps", $id), $id,
   'the app is in its workspace index');

@c = code_of($alice, 'GET', "/v1/apps/$id");
is($c[0], 200, 'GET the app');
ok(!exists $c[2]{data}{client_secret}, '... the secret is never shown again');
ok(!grep({ /secret_hash/ } keys %{ $c[2]{data} }), '... nor its digest');

# --- a public app ------------------------------------------------------------
@c = code_of($alice, 'POST', '/v1/apps', { %good, name => 'CLI', type => 'public',
                                           workspace_id => $ws2 });
is($c[0], 201, 'a public app is created');
my $pub = $c[2]{data};
ok(!exists $pub->{client_secret}, '... without a client secret');
ok(!defined $pub->{secret_last4}, '... secret_last4 null');
is(SQTest::redis_cli('HGET', "sq:app:{a$pub->{id}}", 'secret_hash'), '',
   '... no digest stored');

# --- validation --------------------------------------------------------------
my @bad = (
    [{ redirect_uris => ['http://crm.example.com/cb'] }, 'http to a non-loopback host'],
    [{ redirect_uris => ['https://crm.example.com/cb#x'] }, 'a fragment'],
    [{ redirect_uris => ['https://*.example.com/cb'] }, 'a wildcard'],
    [{ redirect_uris => ['https://u@crm.example.com/cb'] }, 'userinfo'],
    [{ redirect_uris => ['crm.example.com/cb'] }, 'a relative URI'],
    [{ redirect_uris => ['https://a.example/' . ('x' x 600)] }, 'a URI over 512 bytes'],
    [{ redirect_uris => [] }, 'no redirect URI'],
    [{ redirect_uris => [map { "https://a.example/$_" } 1 .. 11] }, '11 redirect URIs'],
    [{ redirect_uris => ['https://a.example/', 'https://a.example/'] }, 'a URI twice'],
    [{ scopes => ['keys:manage'] }, 'keys:manage on an app'],
    [{ scopes => ['apps:manage'] }, 'apps:manage on an app'],
    [{ scopes => [] }, 'no scope'],
    [{ scopes => ['urls:read', 'urls:read'] }, 'a scope twice'],
    [{ scopes => ['nope:read'] }, 'an unknown scope'],
    [{ type => 'other' }, 'an unknown type'],
    [{ name => '' }, 'an empty name'],
    [{ extra => 1 }, 'an unknown field'],
);
for my $b (@bad) {
    @c = code_of($alice, 'POST', '/v1/apps', { %good, %{ $b->[0] } });
    is("@c[0,1]", '400 VALIDATION_ERROR', "refused: $b->[1]");
}
my %nows = %good;
delete $nows{workspace_id};
@c = code_of($alice, 'POST', '/v1/apps', \%nows);
is("@c[0,1]", '400 VALIDATION_ERROR', 'refused: no workspace_id');
like($c[2]{error}{message}, qr/workspace_id/, '... naming it');
@c = code_of($alice, 'POST', '/v1/apps', { %good, redirect_uris => ['https://a.example/cb#f'] });
like($c[2]{error}{message}, qr/fragment/, 'the message says why a URI is refused');

# --- apps:manage at the edge, no escalation ----------------------------------
my $plain = key('--name', 'no-apps');        # the default: no apps:manage
@c = code_of($plain, 'GET', '/v1/apps');
is("@c[0,1]", '403 INSUFFICIENT_SCOPE', 'a key without apps:manage: 403 at the edge');
my $pk = key('--name', 'pub', '--type', 'publishable');
@c = code_of($pk, 'GET', '/v1/apps');
is("@c[0,1]", '403 PUBLISHABLE_KEY_NOT_ALLOWED', 'a publishable key: never');

my $mgr = key('--name', 'app-mgr', '--scopes', 'apps:manage urls:read');
@c = code_of($mgr, 'POST', '/v1/apps', { %good, scopes => ['urls:read', 'articles:read'] });
is("@c[0,1]", '403 INSUFFICIENT_SCOPE', 'an app cannot get a scope its creator lacks');
like($c[2]{error}{message}, qr/articles:read/, '... naming it');
@c = code_of($mgr, 'POST', '/v1/apps', { %good, scopes => ['urls:read'] });
is($c[0], 201, '... its own scopes it can give');
my $mgr_app = $c[2]{data}{id};
@c = code_of($mgr, 'PATCH', "/v1/apps/$mgr_app", { scopes => ['urls:read', 'media:read'] });
is("@c[0,1]", '403 INSUFFICIENT_SCOPE', 'nor widen one by PATCH');
my $ws2only = key('--name', 'ws2-mgr', '--scopes', 'apps:manage urls:read',
                  '--workspaces', $ws2);
@c = code_of($ws2only, 'GET', "/v1/apps/$mgr_app");
is($c[0], 404, "a key limited to ws2 does not see ws1's app");
@c = code_of($ws2only, 'POST', '/v1/apps', { %good, scopes => ['urls:read'] });
is($c[0], 403, '... nor creates one in ws1');

# --- tenant isolation -------------------------------------------------------
for my $m (['GET', ''], ['PATCH', '', { name => 'x' }], ['DELETE', ''],
           ['POST', '/disable'], ['POST', '/enable'],
           ['POST', '/secret/rotate', {}], ['GET', '/outcomes'],
           ['GET', '/authorizations'])
{
    @c = code_of($bob, $m->[0], "/v1/apps/$id$m->[1]", $m->[2]);
    is($c[0], 404, "Bob: $m->[0] /v1/apps/{id}$m->[1] of Alice's app is 404");
}
@c = code_of($bob, 'POST', '/v1/apps', \%good);
is($c[0], 403, "Bob cannot create an app in Alice's workspace");
is($c[2]{error}{code}, 'FORBIDDEN', '... the seed 403');
@c = code_of($bob, 'GET', "/v1/apps?workspace_id=$ws1");
is($c[0], 403, "Bob cannot list Alice's workspace");
@c = code_of($bob, 'GET', '/v1/apps');
is("@c[0,1]", '200 OK', 'Bob lists his apps');
is(scalar(@{ $c[2]{data} }), 0, '... and sees none of Alice\'s');
is(SQTest::redis_cli('HGET', "sq:app:{a$id}", 'status'), 'active',
   "Alice's app is untouched");
for my $path ("/v1/apps/abc", "/v1/apps/0", "/v1/apps/01", "/v1/apps/99999") {
    is((code_of($alice, 'GET', $path))[0], 404, "$path: 404");
}
is((code_of($alice, 'PUT', "/v1/apps/$id", {}))[0], 405, 'PUT: 405');
is((code_of($alice, 'GET', "/v1/apps/$id/disable"))[0], 405, 'GET disable: 405');

# --- list ---------------------------------------------------------------------
@c = code_of($alice, 'GET', '/v1/apps');
my %ids = map { $_->{id} => $_->{workspace_id} } @{ $c[2]{data} };
ok(exists $ids{$id} && exists $ids{$pub->{id}},
   'without workspace_id: the apps of every workspace of the caller');
@c = code_of($alice, 'GET', "/v1/apps?workspace_id=$ws2");
is_deeply([map { $_->{id} } @{ $c[2]{data} }], [$pub->{id}],
          'with workspace_id: that workspace only');
@c = code_of($alice, 'GET', '/v1/apps?limit=1');
is(scalar(@{ $c[2]{data} }), 1, 'limit 1: one app');
my $cursor = $c[2]{pagination}{next_cursor};
ok($cursor, '... and a cursor');
@c = code_of($alice, 'GET', "/v1/apps?limit=1&cursor=$cursor");
ok($c[2]{data}[0]{id} > (code_of($alice, 'GET', '/v1/apps?limit=1'))[2]{data}[0]{id},
   '... the next page follows');

# --- update -------------------------------------------------------------------
@c = code_of($alice, 'PATCH', "/v1/apps/$id",
             { name => 'CRM v2', redirect_uris => ['https://crm.example.com/cb2'] });
is($c[0], 200, 'PATCH name and redirect URIs');
is($c[2]{data}{name}, 'CRM v2', '... name');
is_deeply($c[2]{data}{redirect_uris}, ['https://crm.example.com/cb2'], '... URIs replaced');
is_deeply($c[2]{data}{scopes}, ['urls:read', 'articles:read'], '... scopes kept');
@c = code_of($alice, 'PATCH', "/v1/apps/$id", { redirect_uris => ['https://x.example/#a'] });
is("@c[0,1]", '400 VALIDATION_ERROR', 'PATCH with a bad URI: 422');
@c = code_of($alice, 'PATCH', "/v1/apps/$id", { type => 'public' });
is("@c[0,1]", '400 VALIDATION_ERROR', 'PATCH cannot change the type');
@c = code_of($alice, 'PATCH', "/v1/apps/$id", {});
is("@c[0,1]", '400 VALIDATION_ERROR', 'an empty PATCH: 422');

# --- token families, written as SCHEMA.md lays them out ----------------------
# With the "edge" engineer's SQTest::mint_oauth_token (i14-edge merged), the
# access token is a real sqo_ token the edge accepts, and the section "at
# the edge" below runs; on this branch alone it is skipped.
our $EDGE = SQTest->can('mint_oauth_token') ? 1 : 0;
sub hex64 { return join '', map { sprintf '%08x', int rand 2**32 } 1 .. 8 }
sub grant {
    my ($app_id, $uid, $wid, $scopes) = @_;
    my $now = time;
    my $gid = SQTest::redis_cli('INCR', 'sq:seq:grant');
    SQTest::redis_cli('HSET', "sq:grant:$gid", id => $gid, app_id => $app_id,
                      user_id => $uid, workspace_id => $wid, scopes => $scopes,
                      status => 'active', created_at => $now, revoked_at => 0,
                      revoke_reason => '');
    SQTest::redis_cli('ZADD', "sq:app:{a$app_id}:grants", $now, $gid);
    SQTest::redis_cli('ZADD', "sq:user:{u$uid}:grants", $now, $gid);
    my ($ad, $rd, $token) = (hex64(), hex64(), undef);
    if ($EDGE) {
        ($token, $ad) = SQTest::mint_oauth_token(user => $uid, workspace => $wid,
                                                 scopes => $scopes, app_id => $app_id,
                                                 grant_id => $gid);
    } else {
        my $kid = SQTest::redis_cli('INCR', 'sq:seq:key');
        SQTest::redis_cli('HSET', "sq:key:{$ad}", id => $kid, user_id => $uid,
                          type => 'oauth', mode => 'live', status => 'active',
                          scopes => $scopes, workspaces => $wid,
                          expires_at => $now + 3600, rotated_at => 0,
                          sunset_at => 0, replaced_by => 0, name => 'oauth',
                          created_at => $now, last4 => 'abcd',
                          app_id => $app_id, grant_id => $gid);
        SQTest::redis_cli('SADD', "sq:grant:$gid:access", $ad);
    }
    SQTest::redis_cli('HSET', "sq:refresh:$rd", grant_id => $gid, app_id => $app_id,
                      user_id => $uid, workspace_id => $wid, scopes => $scopes,
                      status => 'active', created_at => $now,
                      expires_at => $now + 30 * 86400);
    SQTest::redis_cli('SADD', "sq:grant:$gid:refresh", $rd);
    return { id => $gid, access => $ad, refresh => $rd, token => $token };
}
sub family_status {
    my ($g) = @_;
    return join ' ', SQTest::redis_cli('HGET', "sq:grant:$g->{id}", 'status'),
                     SQTest::redis_cli('HGET', "sq:key:{$g->{access}}", 'status'),
                     SQTest::redis_cli('HGET', "sq:refresh:$g->{refresh}", 'status');
}
sub reason { return SQTest::redis_cli('HGET', "sq:grant:$_[0]{id}", 'revoke_reason') }

# --- authorizations: a member sees all, a user their own -------------------
my $ga = grant($id, $T->{alice}, $ws1, 'urls:read');
my $gb = grant($id, $T->{bob}, $wsb, 'urls:read articles:read');
@c = code_of($alice, 'GET', "/v1/apps/$id/authorizations");
is($c[0], 200, 'a member lists the authorizations');
is_deeply([sort map { $_->{id} } @{ $c[2]{data} }], [sort $ga->{id}, $gb->{id}],
          '... all of them');
my ($one) = grep { $_->{id} == $gb->{id} } @{ $c[2]{data} };
is_deeply([@$one{qw(app_id user_id workspace_id status)}],
          [$id, $T->{bob}, $wsb, 'active'], '... with app, user, workspace, status');
is_deeply($one->{scopes}, ['urls:read', 'articles:read'], '... and scopes');
@c = code_of($bob, 'GET', "/v1/apps/$id/authorizations");
is($c[0], 200, 'a user who approved the app lists the authorizations');
is_deeply([map { $_->{id} } @{ $c[2]{data} }], [$gb->{id}], '... only their own');
@c = code_of($bob, 'DELETE', "/v1/apps/$id/authorizations/$ga->{id}");
is($c[0], 404, "Bob cannot revoke Alice's authorization");
is(family_status($ga), 'active active active', '... it stays active');
@c = code_of($bob, 'DELETE', "/v1/apps/$id/authorizations/$gb->{id}");
is($c[0], 200, 'Bob revokes his own');
is($c[2]{data}{status}, 'revoked', '... the grant is revoked');
is(family_status($gb), 'revoked revoked revoked',
   '... with its access token (a write the edge cache sees) and refresh token');
is(reason($gb), 'user', '... reason user');
@c = code_of($bob, 'DELETE', "/v1/apps/$id/authorizations/$gb->{id}");
is($c[0], 200, 'revoking again: the same answer');
@c = code_of($alice, 'DELETE', "/v1/apps/$mgr_app/authorizations/$ga->{id}");
is($c[0], 404, "a grant of another app: 404");
@c = code_of($alice, 'DELETE', "/v1/apps/$id/authorizations/abc");
is($c[0], 404, 'a malformed grant id: 404');

# --- narrowing scopes ends the grants that hold more --------------------------
my $wide = grant($id, $T->{alice}, $ws1, 'urls:read articles:read');
my $narrow = grant($id, $T->{alice}, $ws1, 'urls:read');
@c = code_of($alice, 'PATCH', "/v1/apps/$id", { scopes => ['urls:read'] });
is($c[0], 200, 'PATCH narrows the scopes');
is(family_status($wide), 'revoked revoked revoked', '... a grant holding more ends');
is(family_status($narrow), 'active active active', '... one within them stays');

# --- disable, enable ------------------------------------------------------------
@c = code_of($alice, 'POST', "/v1/apps/$id/disable");
is("$c[0] $c[2]{data}{status}", '200 disabled', 'disable');
is(family_status($ga), 'revoked revoked revoked', "... every token family ends");
is(family_status($narrow), 'revoked revoked revoked', '... all of them');
is(reason($ga), 'app_disabled', '... reason app_disabled');
@c = code_of($alice, 'POST', "/v1/apps/$id/enable");
is("$c[0] $c[2]{data}{status}", '200 active', 'enable');
is(family_status($ga), 'revoked revoked revoked', '... ended families stay ended');

# --- secret rotation ------------------------------------------------------------
my $old_hash = SQTest::redis_cli('HGET', "sq:app:{a$id}", 'secret_hash');
my $gr = grant($id, $T->{alice}, $ws1, 'urls:read');
@c = code_of($alice, 'POST', "/v1/apps/$id/secret/rotate", { grace_seconds => 600 });
is($c[0], 200, 'rotate with a grace');
like($c[2]{data}{client_secret}, qr/^sqs_[0-9A-Za-z]{40}$/, '... a new secret, shown once');
isnt($c[2]{data}{client_secret}, $secret, '... a different one');
ok($c[2]{data}{previous_secret_valid_until}, '... the old one valid until a time');
is(SQTest::redis_cli('HGET', "sq:app:{a$id}", 'prev_secret_hash'), $old_hash,
   '... the old digest kept for the grace');
my $until = SQTest::redis_cli('HGET', "sq:app:{a$id}", 'prev_secret_until');
ok(abs($until - (time + 600)) <= 5, '... until now + 600');
isnt(SQTest::redis_cli('HGET', "sq:app:{a$id}", 'secret_hash'), $old_hash, '... a new digest');
is(family_status($gr), 'active active active', '... tokens kept without revoke_tokens');
@c = code_of($alice, 'POST', "/v1/apps/$id/secret/rotate", { revoke_tokens => JSON::PP::true() });
is($c[0], 200, 'rotate with revoke_tokens');
is($c[2]{data}{tokens_revoked}, 1, '... one token revoked');
is(family_status($gr), 'revoked revoked revoked', '... the family ends');
is(reason($gr), 'secret_rotated', '... reason secret_rotated');
is(SQTest::redis_cli('HGET', "sq:app:{a$id}", 'prev_secret_until'), '0',
   '... no grace: the old secret ends now');
@c = code_of($alice, 'POST', "/v1/apps/$id/secret/rotate", { grace_seconds => -1 });
is("@c[0,1]", '400 VALIDATION_ERROR', 'a negative grace: 422');
@c = code_of($alice, 'POST', "/v1/apps/$pub->{id}/secret/rotate", {});
is("@c[0,1]", '409 CONFLICT', 'a public app has no secret to rotate');

# --- the authorize-outcome log -------------------------------------------------
my $now = time;
for my $o (['approved', '', $T->{alice}], ['denied', '', $T->{alice}],
           ['error', 'invalid_scope', ''], ['approved', '', $T->{alice}])
{
    SQTest::redis_cli('XADD', "sq:app:{a$id}:outcomes", 'MAXLEN', '~', 1000, '*',
                      outcome => $o->[0], reason => $o->[1], user_id => $o->[2],
                      workspace_id => $o->[0] eq 'error' ? '' : $ws1,
                      scopes => 'urls:read', at => $now);
    SQTest::redis_cli('HINCRBY', "sq:app:{a$id}:outcome_counts", $o->[0], 1);
}
@c = code_of($alice, 'GET', "/v1/apps/$id/outcomes");
is($c[0], 200, 'outcomes');
is_deeply($c[2]{data}{counts}, { approved => 2, denied => 1, error => 1 },
          '... counts per outcome');
is(scalar(@{ $c[2]{data}{recent} }), 4, '... the recent list');
is_deeply([map { $_->{outcome} } @{ $c[2]{data}{recent} }],
          ['approved', 'error', 'denied', 'approved'], '... newest first');
my $err = $c[2]{data}{recent}[1];
is_deeply([$err->{reason}, $err->{user_id}, $err->{workspace_id}],
          ['invalid_scope', undef, undef], '... an error with its reason, before sign-in');
is_deeply($c[2]{data}{recent}[0]{scopes}, ['urls:read'], '... scopes');
is($c[2]{data}{recent}[0]{user_id}, $T->{alice}, '... the user');
@c = code_of($alice, 'GET', "/v1/apps/$id/outcomes?limit=2");
is(scalar(@{ $c[2]{data}{recent} }), 2, 'limit=2: two');
@c = code_of($alice, 'GET', "/v1/apps/$id/outcomes?limit=0");
is($c[0], 400, 'limit=0: 400');

# --- delete ----------------------------------------------------------------------
my $gd = grant($id, $T->{alice}, $ws1, 'urls:read');
@c = code_of($alice, 'DELETE', "/v1/apps/$id");
is($c[0], 200, 'delete');
is(family_status($gd), 'revoked revoked revoked', '... every token family ends');
is(reason($gd), 'app_deleted', '... reason app_deleted');
is((code_of($alice, 'GET', "/v1/apps/$id"))[0], 404, '... then GET is 404');
is((code_of($alice, 'POST', "/v1/apps/$id/enable"))[0], 404, '... and it cannot come back');
is(SQTest::redis_cli('HGET', "sq:app:{a$id}", 'status'), 'deleted', '... a tombstone');
is(SQTest::redis_cli('ZSCORE', "sq:ws:{w$ws1}:apps", $id), '', '... out of the index');

# --- at the edge: every token of the app cut off on the very next request ---
SKIP: {
    skip 'sqo_ tokens at the edge need i14-edge (SQTest::mint_oauth_token)', 18
        unless $EDGE;

    my $path = "/v1/urls?workspace_id=$ws1";
    my $fresh = sub {
        my (undef, undef, $d) = code_of($alice, 'POST', '/v1/apps',
                                        { %good, scopes => ['urls:read'] });
        return $d->{data}{id};
    };
    # warm: the token is allowed, twice (the second from the edge's cache)
    my $warm = sub {
        my ($g) = @_;
        my @s = map { (call($g->{token}, 'GET', $path))[0]{status} } 1 .. 2;
        return "@s";
    };
    # the action, then requests until one is refused: [status, ms, tries]
    my $cut = sub {
        my ($g, @action) = @_;
        my @a = code_of($alice, @action);
        my $t0 = Time::HiRes::time();
        my ($r, $n) = (undef, 0);
        while (++$n <= 200) {
            ($r) = call($g->{token}, 'GET', $path);
            last if $r->{status} != 200;
            Time::HiRes::sleep(0.005);
        }
        return ($a[0], $r, 1000 * (Time::HiRes::time() - $t0), $n);
    };

    my @lat;
    for my $case (['disable', 'POST', '/disable'],
                  ['delete', 'DELETE', ''],
                  ['rotate with revoke_tokens', 'POST', '/secret/rotate',
                   { revoke_tokens => JSON::PP::true() }],
                  ['an authorization revoked', 'DELETE', '/authorizations/%g'],
                  ['scopes narrowed', 'PATCH', '', { scopes => ['urls:read'] }])
    {
        my ($what, $m, $sub, $body) = @$case;
        my $aid = $fresh->();
        my $scopes = $what eq 'scopes narrowed' ? 'urls:read articles:read'
                                                : 'urls:read';
        code_of($alice, 'PATCH', "/v1/apps/$aid",
                { scopes => ['urls:read', 'articles:read'] })
            if $what eq 'scopes narrowed';
        my $g = grant($aid, $T->{alice}, $ws1, $scopes);
        (my $p = "/v1/apps/$aid$sub") =~ s/%g/$g->{id}/;
        is($warm->($g), '200 200', "$what: the app's token works before");
        my ($st, $r, $ms, $n) = $cut->($g, $m, $p, $body);
        is($st, 200, "$what: done");
        is("$r->{status} $n", '401 1', "$what: the very next request is 401");
        like($r->{headers}{'www-authenticate'} // '', qr/invalid_token/,
             '... WWW-Authenticate invalid_token') if $what eq 'disable';
        push @lat, $ms;
    }
    diag(sprintf 'token refused %s ms after the app change returned',
         join ' ', map { sprintf '%.1f', $_ } @lat);
    ok((grep { $_ <= 100 } @lat) == @lat, 'every one within 100 ms');

    # a token is never good for /v1/apps
    my $aid = $fresh->();
    my $g = grant($aid, $T->{alice}, $ws1, 'urls:read');
    is((call($g->{token}, 'GET', '/v1/apps'))[0]{status}, 403,
       'an OAuth token cannot manage apps');
}

# --- sqctl app ---------------------------------------------------------------------
my $out = SQTest::sqctl('app', 'create', '--workspace', $ws2, '--owner', $T->{alice},
                        '--name', 'Ops tool', '--redirect-uris',
                        'https://ops.example.com/cb http://localhost:9000/cb',
                        '--scopes', 'media:read urls:write');
my $s = JSON::PP->new->decode($out);
like($s->{client_secret}, qr/^sqs_[0-9A-Za-z]{40}$/, 'sqctl app create: the secret, once');
is_deeply($s->{redirect_uris}, ['https://ops.example.com/cb', 'http://localhost:9000/cb'],
          '... redirect URIs');
is_deeply($s->{scopes}, ['urls:write', 'media:read'], '... scopes');
my $sid = $s->{id};
like(SQTest::sqctl('app', 'list'), qr/^$sid\tsqapp_[0-9a-f]{32}\t$ws2\tconfidential\tactive\tOps tool$/m,
     'sqctl app list');
like(SQTest::sqctl('app', 'list', '--workspace', $ws2), qr/^$sid\t/m, '... --workspace');
unlike(SQTest::sqctl('app', 'list', '--workspace', $ws1), qr/^$sid\t/m, '... only that one');
is(JSON::PP->new->decode(SQTest::sqctl('app', 'get', '--id', $sid))->{name}, 'Ops tool',
   'sqctl app get');
is(JSON::PP->new->decode(SQTest::sqctl('app', 'update', '--id', $sid, '--name', 'Ops'))->{name},
   'Ops', 'sqctl app update');
my $gs = grant($sid, $T->{alice}, $ws2, 'media:read');
like(SQTest::sqctl('app', 'authorizations', '--id', $sid),
     qr/^$gs->{id}\t$T->{alice}\t$ws2\tactive\tmedia:read$/m, 'sqctl app authorizations');
is(JSON::PP->new->decode(SQTest::sqctl('app', 'revoke', '--id', $sid, '--grant', $gs->{id}))->{status},
   'revoked', 'sqctl app revoke');
is(family_status($gs), 'revoked revoked revoked', '... the family ends');
$s = JSON::PP->new->decode(SQTest::sqctl('app', 'rotate-secret', '--id', $sid, '--grace', 60));
like($s->{client_secret}, qr/^sqs_/, 'sqctl app rotate-secret');
is(JSON::PP->new->decode(SQTest::sqctl('app', 'disable', '--id', $sid))->{status}, 'disabled',
   'sqctl app disable');
is(JSON::PP->new->decode(SQTest::sqctl('app', 'enable', '--id', $sid))->{status}, 'active',
   'sqctl app enable');
is_deeply(JSON::PP->new->decode(SQTest::sqctl('app', 'outcomes', '--id', $sid))->{counts},
          { approved => 0, denied => 0, error => 0 }, 'sqctl app outcomes');
is(JSON::PP->new->decode(SQTest::sqctl('app', 'delete', '--id', $sid))->{status}, 'deleted',
   'sqctl app delete');
ok(!eval { SQTest::sqctl('app', 'get', '--id', $sid); 1 }, '... then get fails');
ok(!eval { SQTest::sqctl('app', 'create', '--workspace', $wsb, '--owner', $T->{alice},
                         '--name', 'x', '--redirect-uris', 'https://a.example/',
                         '--scopes', 'urls:read'); 1 },
   'sqctl: the owner must be a member of the workspace');
ok(!eval { SQTest::sqctl('app', 'create', '--workspace', $ws1, '--owner', $T->{alice},
                         '--name', 'x', '--redirect-uris', 'http://a.example/',
                         '--scopes', 'urls:read'); 1 },
   'sqctl: the same redirect URI rules');

my $log = SQTest::nginx_error_log();
unlike($log, qr/exited on signal|\[alert\]/, 'no worker crashed');
my $blog = do { local (@ARGV, $/) = ("$SQTest::DIR/backend.log"); <> } // '';
like($blog, qr/app $id \(sqapp_/, 'the backend logs what it did');
unlike($log . $blog, qr/\Q$secret\E/, 'no client secret in any log');

done_testing();
