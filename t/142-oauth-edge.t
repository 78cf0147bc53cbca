# OAuth access tokens at the edge (issue 14): an sqo_ token is a key
# record of type oauth (redis/SCHEMA.md, "API Applications"), written here
# straight into Redis by SQTest::mint_oauth_token as the token endpoint
# writes it, and checked through conf/smartlyq-routes.conf with the
# decision cache on:
#   - allowed in its one workspace; another workspace_id, even one the
#     user belongs to, gets the seed's exact 403; with no workspace_id it
#     acts on its workspace only (lists, creates, /v1/me);
#   - it holds its consented scopes only: 403 INSUFFICIENT_SCOPE with
#     WWW-Authenticate error="insufficient_scope";
#   - never on /v1/keys (the edge's 403 OAUTH_TOKEN_NOT_ALLOWED) nor, past
#     an edge that would let it through, on /v1/keys or /v1/apps (the
#     backend's 403);
#   - expired, revoked (HSET status revoked, as sq_grant_revoke does) or
#     unknown: 401 with WWW-Authenticate error="invalid_token"; the
#     revocation reaches a warm cache within the 100 ms target (measured);
#   - the flow's other strings (sqr_, sqc_, sqs_) are no bearers, and none
#     of them may sit in a query string;
#   - the backend sees the app's id in the signed identity, from Redis
#     and from the cache alike.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $direct = SQTest::free_port();

# two workers; the routes with a cache; /v1/x-ident echoes the identity
# headers; a second server lets tokens through to the backend everywhere,
# to see the backend's own refusal
my $base = SQTest::nginx_start(
    SQTest::server_conf(
        routes => 1, cache => 'sqcache:4m ttl=60s negative_ttl=60s',
        server => 'add_header X-App $smartlyq_app_id always;',
        locations => [
            SQTest::guarded('/v1/x-ident', '127.0.0.1:$PORT/ident-echo'),
            <<'CONF'])
location = /metrics {
    smartlyq off;
    smartlyq_metrics;
}
location = /ident-echo {
    return 200 "type=$http_x_smartlyq_key_type app=$http_x_smartlyq_app_id ws=$http_x_smartlyq_workspace_id wsl=$http_x_smartlyq_key_workspaces scopes=$http_x_smartlyq_key_scopes";
}
CONF
    . SQTest::server_conf(
        port => $direct,
        server => ['smartlyq on;', 'smartlyq_oauth on;'],
        locations => ["location /v1/ {\n    proxy_pass http://smartlyq_backend;\n}\n"]),
    2);

my $json = JSON::PP->new->canonical;
my $forbidden = '{"success": false, "error": {"code": "FORBIDDEN", '
              . '"message": "You do not have access to this workspace."}}';

sub call { return SQTest::api($base, @_) }

# status, the envelope's code (or OK), the decoded body, WWW-Authenticate
sub code_of {
    my ($r, $d) = call(@_);
    return ($r->{status}, $d && $d->{error} ? $d->{error}{code} : 'OK', $d,
            $r->{headers}{'www-authenticate'} // '');
}

sub mint {
    my (%o) = @_;
    return SQTest::mint_oauth_token(user => $T->{alice},
                                    workspace => $T->{ws1}, app_id => 7,
                                    grant_id => 70, %o);
}

my $unknown_early = 'sqo_' . ('Z' x 40);
my ($tok, $digest, $kid) = mint(scopes => 'social:read workspace:read');
# for Alice's second workspace: not her primary one
my ($wtok) = mint(scopes => 'social:read social:write workspace:read',
                  workspace => $T->{ws2});
like($tok, qr/^sqo_[A-Za-z0-9]{40}$/, 'an access token: sqo_ + 40 base62');
is(redis_cli('HGET', "sq:key:{$digest}", 'type'), 'oauth',
   '... its record is a key record of type oauth');

# --- its workspace, and only it --------------------------------------------
my @c = code_of($tok, 'GET', "/v1/social/accounts?workspace_id=$T->{ws1}");
is("@c[0,1]", '200 OK', 'allowed in its workspace');
is_deeply([map { $_->{id} } @{ $c[2]{data} }], [$T->{acc1} + 0],
          "... that workspace's account");

my ($r) = call($tok, 'GET', "/v1/social/accounts?workspace_id=$T->{ws2}");
is($r->{status}, 403,
   "another of the user's workspaces: 403 (the token holds one)");
is($r->{content}, $forbidden, "... the seed's exact envelope");
($r) = call($tok, 'GET', "/v1/social/accounts?workspace_id=$T->{wsb}");
is($r->{status}, 403, "someone else's workspace: 403");
is($r->{content}, $forbidden, "... the seed's exact envelope");
($r) = call($tok, 'POST', '/v1/social/accounts',
            { workspace_id => $T->{ws2} + 0, platform => 'x', handle => 'y' });
is($r->{status}, 403, 'another workspace named in the body: 403');

# no workspace_id: the token's workspace, where an API key of the same
# user reaches every workspace of hers
@c = code_of($T->{alice_key}, 'GET', '/v1/social/accounts');
is_deeply([sort { $a <=> $b } map { $_->{id} } @{ $c[2]{data} }],
          [sort { $a <=> $b } $T->{acc1}, $T->{acc2}],
          '(an API key without workspace_id lists both workspaces)');
@c = code_of($tok, 'GET', '/v1/social/accounts');
is("@c[0,1]", '200 OK', 'no workspace_id: allowed');
is_deeply([map { $_->{id} } @{ $c[2]{data} }], [$T->{acc1} + 0],
          '... and lists the token\'s workspace only');

@c = code_of($wtok, 'POST', '/v1/social/accounts',
             { platform => 'twitter', handle => '@via_oauth' });
is("@c[0,1]", '201 OK', 'no workspace_id: a create is allowed');
my $new = $c[2]{data}{id};
is($c[2]{data}{workspace_id}, $T->{ws2},
   '... in the token\'s workspace (not the user\'s primary one)');
@c = code_of($T->{alice_key}, 'GET',
             "/v1/social/accounts/$new?workspace_id=$T->{ws2}");
is("@c[0,1]", '200 OK', '... where an API key finds it');

@c = code_of($tok, 'GET', "/v1/social/accounts/$T->{acc2}");
is("@c[0,1]", '404 NOT_FOUND',
   "no workspace_id: another workspace's record is not there");

@c = code_of($wtok, 'GET', '/v1/social/accounts');
is_deeply([sort { $a <=> $b } map { $_->{id} } @{ $c[2]{data} }],
          [sort { $a <=> $b } $T->{acc2}, $new],
          '... and lists that workspace\'s accounts only');

@c = code_of($tok, 'GET', '/v1/me');
is("@c[0,1]", '200 OK', '/v1/me');
is_deeply([map { $_->{id} } @{ $c[2]{data}{workspaces} }], [$T->{ws1} + 0],
          '... lists the token\'s workspace only');
is($c[2]{data}{app_id}, 7, '... and names the app (the backend read it)');
@c = code_of($T->{alice_key}, 'GET', '/v1/me');
ok(!exists $c[2]{data}{app_id}, '(an API key\'s /v1/me names no app)');

# a token whose user is not (or no longer) a member of its workspace:
# refused with or without workspace_id (the backend checks membership on
# the pinned workspace)
my ($btok) = SQTest::mint_oauth_token(user => $T->{bob},
                                      workspace => $T->{ws1},
                                      scopes => 'social:read',
                                      app_id => 7, grant_id => 71);
@c = code_of($btok, 'GET', "/v1/social/accounts?workspace_id=$T->{ws1}");
is("@c[0,1]", '403 FORBIDDEN', 'user not a member: 403 at the edge');
@c = code_of($btok, 'GET', '/v1/social/accounts');
is("@c[0,1]", '403 FORBIDDEN',
   '... and with no workspace_id, 403 from the backend');

# --- scopes -------------------------------------------------------------------
@c = code_of($tok, 'POST', "/v1/social/accounts?workspace_id=$T->{ws1}",
             { platform => 'twitter', handle => 'x' });
is("@c[0,1]", '403 INSUFFICIENT_SCOPE', 'a scope not consented: 403');
is($c[2]{error}{message}, 'This key lacks the scope social:write.',
   '... naming the scope');
is($c[3], 'Bearer realm="smartlyq", error="insufficient_scope", '
        . 'scope="social:write"', '... WWW-Authenticate insufficient_scope');
@c = code_of($tok, 'GET', "/v1/chatbots?workspace_id=$T->{ws1}");
is("@c[0,1]", '403 INSUFFICIENT_SCOPE', 'another family: 403');

# --- never keys or apps -----------------------------------------------------
for my $path ('/v1/keys', '/v1/keys/1', "/v1/keys?workspace_id=$T->{ws1}",
              '/v1/apps', '/v1/apps/1/authorizations')
{
    @c = code_of($tok, 'GET', $path);
    is("@c[0,1]", '403 OAUTH_TOKEN_NOT_ALLOWED', "GET $path: 403 at the edge");
}
@c = code_of($tok, 'POST', '/v1/keys', { name => 'x' });
is("@c[0,1]", '403 OAUTH_TOKEN_NOT_ALLOWED', 'POST /v1/keys: 403');
is($c[3], '', '... no WWW-Authenticate (the token is fine, not here)');
@c = code_of($unknown_early, 'GET', '/v1/keys');
is("@c[0,1]", '403 OAUTH_TOKEN_NOT_ALLOWED',
   '... decided before any lookup: even an unknown token');

# through an edge that lets tokens everywhere, the backend refuses them
for my $path ('/v1/keys', '/v1/keys/1/rotate', '/v1/apps', '/v1/apps/1') {
    my $x = SQTest::http()->request('GET', "http://127.0.0.1:$direct$path",
                                    { headers => SQTest::bearer($tok) });
    my $d = eval { $json->decode($x->{content}) } || {};
    is("$x->{status} " . ($d->{error}{code} // ''),
       '403 OAUTH_TOKEN_NOT_ALLOWED', "$path past the edge: the backend's 403");
}
{
    my $x = SQTest::http()->request('GET',
        "http://127.0.0.1:$direct/v1/social/accounts",
        { headers => SQTest::bearer($tok) });
    is($x->{status}, 200, '(that edge serves the token elsewhere)');
}

# --- 401s -------------------------------------------------------------------
my ($etok) = mint(scopes => 'social:read', expires_in => -5);
@c = code_of($etok, 'GET', "/v1/social/accounts?workspace_id=$T->{ws1}");
is("@c[0,1]", '401 UNAUTHORIZED', 'expired: 401');
is($c[3], 'Bearer realm="smartlyq", error="invalid_token"',
   '... WWW-Authenticate invalid_token');

my $unknown = 'sqo_' . ('A' x 40);
@c = code_of($unknown, 'GET', '/v1/me');
is("@c[0,1]", '401 UNAUTHORIZED', 'unknown token: 401');
is($c[3], 'Bearer realm="smartlyq", error="invalid_token"',
   '... invalid_token');

for my $p (qw(sqr_ sqc_ sqs_)) {
    @c = code_of($p . ('b' x 40), 'GET', '/v1/me');
    is("@c[0,1] $c[3]",
       '401 UNAUTHORIZED Bearer realm="smartlyq", error="invalid_token"',
       "$p... as a bearer: malformed, 401 invalid_token");
}
@c = code_of('sqo_' . ('c' x 39), 'GET', '/v1/me');
is("@c[0,1]", '401 UNAUTHORIZED', 'sqo_ + 39: malformed');

{
    my $x = SQTest::http()->get("$base/v1/me");
    is("$x->{status} $x->{headers}{'www-authenticate'}",
       '401 Bearer realm="smartlyq"', 'no credential: 401, the realm alone');
}

for my $q ("access_token=$tok", 'refresh_token=sqr_x', 'code=sqc_x',
           'client_secret=sqs_x')
{
    my ($x, $d) = call($T->{alice_key}, 'GET', "/v1/me?$q");
    is($x->{status}, 400, "$q in the query string: 400");
}

# --- the identity the backend gets, from Redis and from the cache -----------
{
    my $path = "/v1/x-ident?workspace_id=$T->{ws1}";
    my $want = "type=oauth app=7 ws=$T->{ws1} wsl=$T->{ws1} "
             . 'scopes=1004';   # social:read, workspace:read as bits
    my ($ms, $st, $xc, $b) = SQTest::poll_request($base, $path, $tok,
        sub { $_[0] == 200 && $_[1] eq 'HIT' });
    ok(defined $ms, 'the token is cached');
    is($b, $want, 'from the cache: type oauth, the app id, its workspace');
    my $x = SQTest::http()->request('GET', "$base$path",
                                    { headers => SQTest::bearer($tok) });
    is($x->{headers}{'x-app'}, '7', '$smartlyq_app_id: the app');
    $x = SQTest::http()->request('GET', "$base$path",
                                 { headers => SQTest::bearer($T->{alice_key}) });
    is($x->{headers}{'x-app'}, undef, '... empty (no header) for an API key');
    my ($st2, $xc2, $b2) = SQTest::cache_get($base, 'GET',
        "/v1/x-ident?workspace_id=$T->{ws2}", $T->{alice_key});
    like("$st2 $b2", qr/^200 type=secret app= ws=$T->{ws2} wsl= scopes=\S/,
         'an API key: no app id header');
}

# --- revocation through a warm cache ----------------------------------------
{
    my $path = "/v1/social/accounts?workspace_id=$T->{ws1}";
    my @ms;
    my $first_refused = 0;
    for my $i (1 .. 5) {
        my ($rt, $rd) = mint(scopes => 'social:read', grant_id => 100 + $i);
        ok(SQTest::poll_request($base, $path, $rt,
                                sub { $_[0] == 200 && $_[1] eq 'HIT' }),
           "token $i: a cached grant");
        redis_cli('HSET', "sq:key:{$rd}", 'status', 'revoked');
        # from the moment the write returned: requests until refused
        my ($t0, $stale, $st, $ms) = (time, 0, 200, undef);
        while (time - $t0 < 5) {
            ($st) = SQTest::cache_get($base, 'GET', $path, $rt);
            if ($st != 200) {
                $ms = 1000 * (time - $t0);
                last;
            }
            $stale++;
        }
        $first_refused++ if $stale == 0;
        ok(defined $ms, "token $i: refused after HSET status revoked");
        is($st, 401, "token $i: 401");
        push @ms, $ms if defined $ms;
        my @again = map { (SQTest::cache_get($base, 'GET', $path, $rt))[0] }
                    1 .. 3;
        is_deeply(\@again, [401, 401, 401], "token $i: stays refused");
    }
    # the keyspace event is published before HSET's reply is sent: the
    # edge has dropped the entry before redis-cli has even exited
    my @sorted = sort { $a <=> $b } @ms;
    is($first_refused, 5,
       'the very next request after the write is refused, every time');
    diag(sprintf 'revoked token: first refusal %s ms after the write '
                 . 'returned (the duration of that one request); the very '
                 . 'next request already refused %d/5',
                 join(' ', map { sprintf '%.1f', $_ } @sorted),
                 $first_refused);

}

{
    my $m = SQTest::http()->get("$base/metrics")->{content};
    like($m, qr/^smartlyq_refusals_total\{code="OAUTH_TOKEN_NOT_ALLOWED"\} [1-9]/m,
         'refusals counted under OAUTH_TOKEN_NOT_ALLOWED');
    like($m, qr/^smartlyq_decisions_total\{decision="oauth_not_allowed"\} [1-9]/m,
         '... and the decision oauth_not_allowed');
}

done_testing();
