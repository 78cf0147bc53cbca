# Keys as a product, end to end through conf/smartlyq-routes.conf:
# key types, scopes per route and method (type before scope before
# membership), key workspace limits, live/test separation, the /v1/keys
# lifecycle (disable, enable, delete, expiry, rotation with and without
# grace and its headers), usage and last-seen through the batched flush,
# tenant isolation of /v1/keys, and the monthly review command.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(routes => 1));

my $http = SQTest::http();
my $json = JSON::PP->new->canonical;
my $forbidden = '{"success": false, "error": {"code": "FORBIDDEN", '
              . '"message": "You do not have access to this workspace."}}';

sub call { return SQTest::api($base, @_) }

sub code_of { my ($r, $d) = call(@_); return ($r->{status}, $d && $d->{error} ? $d->{error}{code} : 'OK', $d) }

sub key { return SQTest::sqctl('key', 'create', '--user', $T->{alice}, @_) }

my $social_ro = key('--name', 'social-ro', '--scopes', 'social:read');
my $pub = key('--name', 'pub', '--type', 'publishable');
my $ws1only = key('--name', 'ws1', '--workspaces', $T->{ws1});
my $full = $T->{alice_key};
my $test = $T->{alice_test_key};

like($pub, qr/^sqp_live_[A-Za-z0-9]{40}$/, 'a publishable key has the sqp_ prefix');

# --- type before scope before membership --------------------------------
my @c = code_of($pub, 'POST', "/v1/social/accounts?workspace_id=$T->{wsb}",
                { platform => 'twitter', handle => 'x' });
is("@c[0,1]", '403 PUBLISHABLE_KEY_NOT_ALLOWED',
   'publishable write, foreign workspace: the type is checked first');
@c = code_of($pub, 'GET', '/v1/social/accounts');
is("@c[0,1]", '403 PUBLISHABLE_KEY_NOT_ALLOWED',
   'publishable read where publishable is off');
@c = code_of($pub, 'GET', '/v1/urls');
is("@c[0,1]", '200 OK', 'publishable read where publishable is on');
@c = code_of($pub, 'POST', '/v1/urls', { target => 'https://example.com' });
is("@c[0,1]", '403 PUBLISHABLE_KEY_NOT_ALLOWED', 'publishable write: never');
@c = code_of($pub, 'GET', '/v1/keys');
is("@c[0,1]", '403 PUBLISHABLE_KEY_NOT_ALLOWED', 'publishable: no key management');
my ($r) = call($pub, 'GET', "/v1/urls?workspace_id=$T->{wsb}");
is($r->{status}, 403, 'publishable read of a foreign workspace');
is($r->{content}, $forbidden, '... the seed envelope');

@c = code_of($social_ro, 'POST', "/v1/social/posts?workspace_id=$T->{wsb}",
             { account_id => $T->{accb} + 0, text => 'x' });
is("@c[0,1]", '403 INSUFFICIENT_SCOPE',
   'missing scope, foreign workspace: the scope is checked before membership');
is($c[2]{error}{message}, 'This key lacks the scope social:write.',
   '... naming the scope needed');
($r) = call($social_ro, 'GET', "/v1/social/accounts?workspace_id=$T->{wsb}");
is($r->{content}, $forbidden, 'scope held, foreign workspace: the seed 403');
@c = code_of($social_ro, 'GET', '/v1/social/accounts');
is("@c[0,1]", '200 OK', 'scope held: allowed');
@c = code_of($social_ro, 'GET', '/v1/me');
is("@c[0,1]", '403 INSUFFICIENT_SCOPE', '/v1/me needs workspace:read');

# --- the scope matrix per route and method ------------------------------
my %body = (
    chatbots => { name => 'b', model => 'm' },
    'social/accounts' => { platform => 'twitter', handle => 'x' },
    urls => { target => 'https://example.com/m' },
    articles => { title => 't' },
    images => { url => 'https://e.com/a.png', mime_type => 'image/png', size => 1 },
    media => { url => 'https://e.com/a.mp4', mime_type => 'video/mp4', size => 1 },
);
for my $route (sort keys %body) {
    (my $family = $route) =~ s{/.*}{};
    my $ro = key('--name', "$family-ro", '--scopes', "$family:read");
    my $rw = key('--name', "$family-rw", '--scopes', "$family:write");
    my $q = "?workspace_id=$T->{ws1}";

    is((code_of($ro, 'GET', "/v1/$route$q"))[0], 200, "$route GET with :read");
    @c = code_of($ro, 'POST', "/v1/$route$q", $body{$route});
    is("@c[0,1]", '403 INSUFFICIENT_SCOPE', "$route POST with :read only");
    like($c[2]{error}{message}, qr/\Q$family:write\E/, '... names :write');
    @c = code_of($rw, 'POST', "/v1/$route$q", $body{$route});
    is($c[0], 201, "$route POST with :write");
    my $id = $c[2]{data}{id};
    @c = code_of($rw, 'GET', "/v1/$route$q");
    is("@c[0,1]", '403 INSUFFICIENT_SCOPE', "$route GET with :write only");
    for my $m (qw(PATCH DELETE)) {
        @c = code_of($ro, $m, "/v1/$route/$id$q", $m eq 'PATCH' ? {} : undef);
        is("@c[0,1]", '403 INSUFFICIENT_SCOPE', "$route $m with :read only");
    }
    is((code_of($rw, 'DELETE', "/v1/$route/$id$q"))[0], 200,
       "$route DELETE with :write");
}

# --- a key limited to some workspaces -----------------------------------
($r) = call($ws1only, 'GET', "/v1/articles?workspace_id=$T->{ws2}");
is($r->{status}, 403, 'a key limited to ws1, asked for ws2 (a member): 403');
is($r->{content}, $forbidden, '... the seed envelope');
call($full, 'POST', "/v1/articles?workspace_id=$T->{ws2}", { title => 'in ws2' });
my ($r2, $d2) = call($ws1only, 'GET', '/v1/articles?limit=100');
is($r2->{status}, 200, 'the limited key lists without workspace_id');
is(scalar(grep { $_->{workspace_id} != $T->{ws1} } @{ $d2->{data} }), 0,
   '... and sees only ws1');

# --- live and test data are separate -----------------------------------
my (undef, $dt) = call($test, 'POST', "/v1/articles?workspace_id=$T->{ws1}",
                       { title => 'test mode' });
my $test_id = $dt->{data}{id};
ok($test_id, 'a test key creates an article');
is((call($full, 'GET', "/v1/articles/$test_id"))[0]{status}, 404,
   'the live key cannot read it');
(undef, $d2) = call($full, 'GET', '/v1/articles?limit=100');
is(scalar(grep { $_->{id} == $test_id } @{ $d2->{data} }), 0,
   'nor list it');
(undef, $d2) = call($test, 'GET', '/v1/articles?limit=100');
is(scalar(grep { $_->{title} ne 'test mode' } @{ $d2->{data} }), 0,
   'the test key sees only test data');

# --- lifecycle through /v1/keys -----------------------------------------
my ($rk, $dk) = call($full, 'POST', '/v1/keys',
                     { name => 'ci', scopes => ['articles:read'] });
is($rk->{status}, 201, 'POST /v1/keys creates a key');
my $new = $dk->{data}{key};
my $new_id = $dk->{data}{id};
like($new, qr/^sqk_live_[A-Za-z0-9]{40}$/, '... returned once, in full');
is((call($new, 'GET', '/v1/articles'))[0]{status}, 200, 'the new key works');

($rk, $dk) = call($full, 'GET', '/v1/keys?limit=100');
is($rk->{status}, 200, 'GET /v1/keys');
unlike($rk->{content}, qr/\Q$new\E/, 'the list never shows a full key');
my ($listed) = grep { $_->{id} == $new_id } @{ $dk->{data} };
like($listed->{masked} // '', qr/^sqk_live_\x{2026}|^sqk_live_.{1,3}[A-Za-z0-9]{4}$/,
     '... masked');
is_deeply($listed->{scopes}, ['articles:read'], '... with its scopes');

is((call($full, 'POST', "/v1/keys/$new_id/disable"))[0]{status}, 200, 'disable');
@c = code_of($new, 'GET', '/v1/articles');
is("@c[0,1]", '401 UNAUTHORIZED', 'disabled: refused on the very next request');
is($c[2]{error}{message}, 'This API key has been disabled.', '... saying so');
is((call($full, 'POST', "/v1/keys/$new_id/enable"))[0]{status}, 200, 'enable');
is((call($new, 'GET', '/v1/articles'))[0]{status}, 200, 'enabled: works again');

# usage and last-seen, through the edge's batched flush
my $n_ok = 3;
call($new, 'GET', '/v1/articles') for 1 .. $n_ok;
call($new, 'GET', '/v1/chatbots') for 1 .. 2;     # articles:read only: denied
my ($today, $usage);
for (1 .. 60) {
    (undef, $usage) = call($full, 'GET', "/v1/keys/$new_id/usage?days=1");
    $today = $usage && $usage->{data} ? $usage->{data}[-1] : undef;
    last if $today && $today->{allowed} >= 2 + $n_ok && $today->{denied} >= 3;
    sleep 0.1;
}
# allowed: 1 before disable + 1 after enable + 3; denied: 1 disabled + 2 scope
is($today->{allowed}, 5, 'usage: allowed requests counted (after the flush)');
is($today->{denied}, 3, 'usage: denied requests counted');
(undef, $dk) = call($full, 'GET', "/v1/keys/$new_id");
ok($dk->{data}{last_used_at}, 'last_used_at set');
is($dk->{data}{last_used_ip}, '127.0.0.1', 'last_used_ip set');

# rotation without grace: the old key dies at once
($rk, $dk) = call($full, 'POST', "/v1/keys/$new_id/rotate", { grace_seconds => 0 });
is($rk->{status}, 201, 'rotate with no grace');
my $rotated = $dk->{data}{key};
@c = code_of($new, 'GET', '/v1/articles');
is("@c[0,1]", '401 UNAUTHORIZED', 'the old key is refused at once');
like($c[2]{error}{message}, qr/rotated/, '... as rotated');
is((call($rotated, 'GET', '/v1/articles'))[0]{status}, 200, 'the new one works');

# rotation with grace: both work, the old one with Deprecation and Sunset
my $rot_id = $dk->{data}{id};
my $t0 = time;
($rk, $dk) = call($full, 'POST', "/v1/keys/$rot_id/rotate", { grace_seconds => 3 });
is($rk->{status}, 201, 'rotate with a 3 s grace');
my $third = $dk->{data}{key};
($r) = call($rotated, 'GET', '/v1/articles');
is($r->{status}, 200, 'during the grace the old key works');
like($r->{headers}{deprecation} // '', qr/^@\d+$/, '... with Deprecation: @<time>');
like($r->{headers}{sunset} // '', qr/^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/,
     '... and Sunset: <HTTP-date>');
($r) = call($rotated, 'GET', '/v1/nothing');
ok(defined $r->{headers}{sunset}, '... on every response, a 404 too');
($r) = call($third, 'GET', '/v1/articles');
is($r->{status}, 200, 'the new key works');
ok(!defined $r->{headers}{sunset}, '... without those headers');
sleep(3.2 - (time - $t0)) if time - $t0 < 3.2;
@c = code_of($rotated, 'GET', '/v1/articles');
is("@c[0,1]", '401 UNAUTHORIZED', 'after the grace the old key is refused');

# delete
(undef, $dk) = call($full, 'GET', '/v1/keys?limit=100');
my ($third_rec) = grep { $_->{masked} && substr($third, -4) eq substr($_->{masked}, -4) }
                  @{ $dk->{data} };
is((call($full, 'DELETE', "/v1/keys/$third_rec->{id}"))[0]{status}, 200, 'delete');
@c = code_of($third, 'GET', '/v1/articles');
is($c[2]{error}{message}, 'This API key has been deleted.', 'deleted: refused, saying so');

# expiry
my $soon = time + 2;
my @g = gmtime $soon;
my $iso = sprintf '%04d-%02d-%02dT%02d:%02d:%02dZ', $g[5] + 1900, $g[4] + 1, @g[3, 2, 1, 0];
($rk, $dk) = call($full, 'POST', '/v1/keys',
                  { name => 'short', scopes => ['articles:read'], expires_at => $iso });
is($rk->{status}, 201, 'a key that expires in 2 s') or diag($rk->{content});
my $short = $dk->{data}{key};
is((call($short, 'GET', '/v1/articles'))[0]{status}, 200, 'works before');
sleep($soon - time + 0.2) if $soon + 0.2 > time;
@c = code_of($short, 'GET', '/v1/articles');
is($c[2]{error}{message}, 'This API key has expired.', 'expired: refused, saying so');

# --- /v1/keys is per tenant ---------------------------------------------
my $alice_kid = (split /\t/, (grep { /\talice\t/ }
                 split /\n/, SQTest::sqctl('key', 'list', '--user', $T->{alice}))[0])[0];
ok($alice_kid, "Alice's key id");
for my $c (['GET', "/v1/keys/$alice_kid"], ['POST', "/v1/keys/$alice_kid/disable"],
           ['POST', "/v1/keys/$alice_kid/rotate", { grace_seconds => 0 }],
           ['DELETE', "/v1/keys/$alice_kid"], ['GET', "/v1/keys/$alice_kid/usage"]) {
    is((call($T->{bob_key}, @$c))[0]{status}, 404, "Bob: $c->[0] $c->[1] -> 404");
}
(undef, $dk) = call($T->{bob_key}, 'GET', '/v1/keys?limit=100');
is(scalar(grep { $_->{owner} != $T->{bob} } @{ $dk->{data} }), 0,
   "Bob's list holds only Bob's keys");
is((call($full, 'GET', '/v1/articles'))[0]{status}, 200,
   "Alice's key survived Bob's attempts");

# --- the monthly review ------------------------------------------------
key('--name', 'stale');
my ($row) = grep { /\tstale\t/ } split /\n/, SQTest::sqctl('key', 'list', '--user', $T->{alice});
my ($stale_id) = $row =~ /^(\d+)/;
my $digest = SQTest::redis_cli('GET', "sq:keyid:$stale_id");
SQTest::redis_cli('HSET', "sq:key:{$digest}", 'created_at', int(time) - 60 * 86400);
my $review = SQTest::sqctl('key', 'review', '--unused-days', 30);
like($review, qr/^$stale_id\t/m, 'review lists a key unused for 60 days');
unlike($review, qr/^$new_id\t/m, 'review skips a key used today');

# --- keys from before scopes existed: migrated by `sqctl init` ------------
my $legacy = key('--name', 'legacy');
my ($lrow) = grep { /\tlegacy\t/ } split /\n/, SQTest::sqctl('key', 'list', '--user', $T->{alice});
my ($legacy_id) = $lrow =~ /^(\d+)/;
my $ldigest = SQTest::redis_cli('GET', "sq:keyid:$legacy_id");
SQTest::redis_cli('HDEL', "sq:key:{$ldigest}", 'scopes', 'type');
@c = code_of($legacy, 'GET', '/v1/articles');
is("@c[0,1]", '403 INSUFFICIENT_SCOPE', 'a key record without scopes has none');
SQTest::sqctl('init', '--functions', "$SQTest::ROOT/redis/smartlyq.lua");
is((call($legacy, 'GET', '/v1/articles'))[0]{status}, 200,
   'sqctl init gives a pre-scope key the full access it had');
is((call($legacy, 'POST', '/v1/keys', { name => 'x', scopes => ['urls:read'] }))[0]{status},
   201, '... keys:manage included');

my $log = SQTest::nginx_error_log();
unlike($log, qr/exited on signal|\[alert\]/, 'no worker crashed');

done_testing();
