# The decision cache (smartlyq_cache): hits need no Redis trip, answers
# are shared by the workers, every change that narrows access reaches the
# edge through keyspace notifications long before the TTL (60 s here),
# negative answers are dropped when access widens, the key's own expiry
# and rotation sunset end an entry, losing the notifications bypasses the
# cache, and the zone survives a reload.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(
    cache => 'sqcache:4m ttl=60s negative_ttl=60s',
    locations => [
        SQTest::guarded('/v1/', 'echo'),
        SQTest::guarded('/off/', 'echo', 'smartlyq_cache off;'),
        SQTest::guarded('/scoped/', 'echo', 'smartlyq_scope social:read;'),
        SQTest::metrics_location(),
        SQTest::guarded('/sc/', '127.0.0.1:$PORT/scopes-echo'),
        <<'CONF']), 2);
location /scopes-echo {
    return 200 "scopes=[$http_x_smartlyq_key_scopes] wsl=[$http_x_smartlyq_key_workspaces]";
}
CONF

sub get    { return SQTest::cache_get($base, 'GET', @_) }
sub metric { return SQTest::metric($base, @_) }
sub poll   { return SQTest::poll_request($base, @_) }

# a new key of Alice's with a name to find its id by, and its digest
sub new_key {
    my ($name, @opts) = @_;
    my $key = sqctl('key', 'create', '--user', $T->{alice}, '--name', $name,
                    @opts);
    my ($line) = grep { /\b\Q$name\E\b/ } split /\n/,
                 sqctl('key', 'list', '--user', $T->{alice});
    my ($id) = $line =~ /^\s*(\d+)/;
    return ($key, $id, redis_cli('GET', "sq:keyid:$id"));
}

my $me1 = "/v1/me?workspace_id=$T->{ws1}";

# both workers subscribed: ten answers in a row from the cache
my $hits = 0;
my $t0 = time;
while ($hits < 10 && time - $t0 < 10) {
    my (undef, $x) = get($me1, $T->{alice_key});
    $hits = $x eq 'HIT' ? $hits + 1 : 0;
}
is($hits, 10, 'a repeated check is answered from the cache by either worker');

my $trips = metric('smartlyq_redis_round_trips_total');
my $h0 = metric('smartlyq_cache_hits_total');
my @st = map { (get($me1, $T->{alice_key}))[0] } 1 .. 20;
is_deeply(\@st, [(200) x 20], '20 more allowed requests');
is(metric('smartlyq_redis_round_trips_total'), $trips,
   'cache hits make no Redis round trip');
is(metric('smartlyq_cache_hits_total'), $h0 + 20, 'hits counted');
ok(metric('smartlyq_cache_entries') >= 1, 'entries gauge');
ok(metric('smartlyq_cache_bytes_used') > 0, 'bytes used gauge');

my ($s, $x, $body) = get("/off/me?workspace_id=$T->{ws1}", $T->{alice_key});
is($s, 200, 'smartlyq_cache off: allowed');
is($x, '', 'smartlyq_cache off: no cache status');
is(metric('smartlyq_redis_round_trips_total'), $trips + 1,
   'smartlyq_cache off: a Redis round trip per request');

# the identity comes from the cache intact
($s, $x, $body) = get($me1, $T->{alice_key});
like($body, qr/^user=$T->{alice} key=\d+ ws=$T->{ws1} mode=live /,
     'a hit carries the same identity upstream');

# scopes (kept as the bits of sq_scope.h) and the key's workspace list
# come back exact from the cache
{
    my ($k, $id, $digest) = new_key('c-pack', '--scopes', 'all',
                                    '--workspaces', "$T->{ws1},$T->{ws2}");
    like(redis_cli('HGET', "sq:key:{$digest}", 'scopes'),
         qr/^chatbots:read .* keys:manage$/, '(every scope, by name)');
    my $want = sprintf 'scopes=[7fff] wsl=[%s]',
               redis_cli('HGET', "sq:key:{$digest}", 'workspaces');
    my @miss = get("/sc/x?workspace_id=$T->{ws1}", $k);
    ok(poll("/sc/x?workspace_id=$T->{ws1}", $k, sub { $_[1] eq 'HIT' }),
       'every scope: cached');
    my @hit = get("/sc/x?workspace_id=$T->{ws1}", $k);
    is($miss[2], $want, 'from Redis: the scopes as bits and workspaces');
    is($hit[2], $want, 'from the cache: the very same strings');

    # one scope, and none: a scope-less key sends no scopes header
    my ($k1) = new_key('c-one', '--scopes', 'workspace:read');
    my ($k0, $id0, $d0) = new_key('c-none', '--scopes', 'workspace:read');
    redis_cli('HSET', "sq:key:{$d0}", 'scopes', '');     # sqctl makes none
    is((get("/sc/x?workspace_id=$T->{ws1}", $k1))[2],
       'scopes=[1000] wsl=[]', 'workspace:read alone: bit 12');
    is((get("/sc/x?workspace_id=$T->{ws1}", $k0))[2],
       'scopes=[] wsl=[]', 'no scope: no header');
}

# a workspace_id read from a JSON body is cached like one in the query
{
    my $post = sub {
        my ($ws) = @_;
        my $r = SQTest::http()->request('POST', "$base/v1/things", {
            headers => { %{ SQTest::bearer($T->{alice_key}) },
                         'Content-Type' => 'application/json' },
            content => qq({"workspace_id": $ws, "name": "x"}) });
        return ($r->{status}, $r->{headers}{'x-cache'} // '');
    };
    my @p1 = $post->($T->{ws2});
    my @p2 = $post->($T->{ws2});
    is_deeply([$p1[0], $p2[0], $p2[1]], [200, 200, 'HIT'],
              'POST with workspace_id in the body: allowed, then a hit');
    my @p3 = $post->($T->{wsb});
    my @p4 = $post->($T->{wsb});
    is_deeply([$p3[0], $p4[0], $p4[1]], [403, 403, 'HIT'],
              "POST naming Bob's workspace in the body: 403, then a hit");
}

# negative answers are cached too, and the exact 403
my $forbidden = '{"success": false, "error": {"code": "FORBIDDEN", '
              . '"message": "You do not have access to this workspace."}}';
my @r1 = get($me1, $T->{bob_key});
my @r2 = get($me1, $T->{bob_key});
is($r1[0], 403, "Bob on Alice's workspace: 403");
is($r2[2], $forbidden, 'the exact 403 envelope from the cache');
is($r2[1], 'HIT', 'the refusal is cached');

# widening: Bob made a member, the cached 403 is dropped
sqctl('member', 'add', '--workspace', $T->{ws1}, '--user', $T->{bob});
my ($ms) = poll($me1, $T->{bob_key}, sub { $_[0] == 200 });
ok(defined $ms, 'a new membership is seen through a cached refusal');
diag(sprintf 'membership added: allowed after %.1f ms', $ms) if defined $ms;

# every change that narrows access, with the cache warm
sub warm {
    my ($path, $key) = @_;
    my ($ms) = poll($path, $key, sub { $_[0] == 200 && $_[1] eq 'HIT' });
    return defined $ms;
}

sub revoked {
    my ($what, $path, $key, $change, $status, $msg) = @_;
    ok(warm($path, $key), "$what: cached grant before the change");
    $change->();
    my ($ms, $st, $xc, $b) = poll($path, $key, sub { $_[0] != 200 }, 5);
    ok(defined $ms, "$what: refused after the change");
    diag(sprintf '%s: refused %.1f ms after the change returned', $what,
                 $ms) if defined $ms;
    is($st, $status, "$what: status $status");
    like($b // '', $msg, "$what: message");
    # and it stays refused
    my @again = map { (get($path, $key))[0] } 1 .. 5;
    is_deeply(\@again, [($status) x 5], "$what: stays refused");
}

my ($k, $id, $digest) = new_key('c-disable');
revoked('disable', $me1, $k, sub { sqctl('key', 'disable', '--id', $id) },
        401, qr/disabled/);

($k, $id, $digest) = new_key('c-delete');
revoked('delete', $me1, $k, sub { sqctl('key', 'delete', '--id', $id) },
        401, qr/deleted/);

($k, $id, $digest) = new_key('c-rotate');
revoked('rotation without grace', $me1, $k,
        sub { sqctl('key', 'rotate', '--id', $id, '--grace', 0) },
        401, qr/rotated/);

($k, $id, $digest) = new_key('c-scopes', '--scopes',
                             'social:read social:write');
revoked('scopes reduced', "/scoped/x?workspace_id=$T->{ws1}", $k,
        sub { redis_cli('HSET', "sq:key:{$digest}", 'scopes', 'urls:read') },
        403, qr/INSUFFICIENT_SCOPE/);

($k, $id, $digest) = new_key('c-wslist', '--workspaces',
                             "$T->{ws1},$T->{ws2}");
revoked("key's workspace list narrowed", $me1, $k,
        sub { redis_cli('HSET', "sq:key:{$digest}", 'workspaces', $T->{ws2}) },
        403, qr/FORBIDDEN/);

revoked('membership removed', $me1, $T->{bob_key},
        sub { sqctl('member', 'remove', '--workspace', $T->{ws1},
                    '--user', $T->{bob}) },
        403, qr/FORBIDDEN/);

my $ws3 = sqctl('workspace', 'create', '--owner', $T->{alice},
                '--name', 'Doomed');
revoked('workspace deleted', "/v1/me?workspace_id=$ws3", $T->{alice_key},
        sub { redis_cli('DEL', "sq:ws:{w$ws3}:members") },
        403, qr/FORBIDDEN/);

# nothing is published when time passes: the entry ends by itself
($k, $id, $digest) = new_key('c-expiry', '--expires-at', int(time) + 3);
ok(warm($me1, $k), 'expiring key: cached grant');
my $inv = metric('smartlyq_cache_invalidations_total');
my ($ems, $est) = poll($me1, $k, sub { $_[0] != 200 }, 8);
is($est, 401, 'expiring key: 401 once expired, well before the TTL');
is(metric('smartlyq_cache_invalidations_total'), $inv,
   'expiring key: no notification was needed');

($k, $id, $digest) = new_key('c-grace');
ok(warm($me1, $k), 'rotated key: cached grant');
sqctl('key', 'rotate', '--id', $id, '--grace', 3);
ok(warm($me1, $k), 'rotated key: cached again during the grace period');
($ems, $est) = poll($me1, $k, sub { $_[0] != 200 }, 8);
is($est, 401, 'rotated key: 401 once the grace is over');

# the usage flush does not invalidate the cache any more
$inv = metric('smartlyq_cache_invalidations_total');
get($me1, $T->{alice_key}) for 1 .. 5;
sleep 2.2;      # two usage flushes
is(metric('smartlyq_cache_invalidations_total'), $inv,
   'usage writes (sq:keyuse) do not invalidate');
like(redis_cli('HGET', 'sq:keyuse:{' . redis_cli('GET', "sq:keyid:1") . '}',
               'last_used_at'), qr/^\d+$/, 'last_used_at is in sq:keyuse');

# losing the notifications: bypass, and no stale grant afterwards
($k, $id, $digest) = new_key('c-unsub');
ok(warm($me1, $k), 'before the subscription loss: cached grant');
redis_cli('CONFIG', 'SET', 'notify-keyspace-events', '');
redis_cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
my ($bms) = poll($me1, $k, sub { $_[1] eq 'BYPASS' }, 5);
ok(defined $bms, 'without keyspace events the cache is bypassed');
sqctl('key', 'disable', '--id', $id);       # nobody hears of this
my @during = map { (get($me1, $k))[0] } 1 .. 5;
is_deeply(\@during, [(401) x 5], 'bypassed: the change is seen at once');
ok(SQTest::error_log_soon(qr/does not publish the keyspace events/),
   'the misconfiguration is logged');
my $f0 = metric('smartlyq_cache_flushes_total');
redis_cli('CONFIG', 'SET', 'notify-keyspace-events', 'Kghsxe');
my ($rms) = poll($me1, $T->{alice_key}, sub { $_[1] eq 'HIT' }, 12);
ok(defined $rms, 'resubscribed after the setting is back');
ok(metric('smartlyq_cache_flushes_total') > $f0,
   'the resubscription dropped what was cached before');
my @after = map { (get($me1, $k))[0] } 1 .. 5;
is_deeply(\@after, [(401) x 5], 'the missed change is not hidden by the cache');

# a reload keeps the zone: counters go on, old workers hand over (each
# worker that saw the events off flushes when its heartbeat sees them
# back: let both have done so)
sleep 0.5;
my $hits_before = metric('smartlyq_cache_hits_total');
my $f1 = metric('smartlyq_cache_flushes_total');
SQTest::nginx_reload();
sleep 1.5;
my ($lms) = poll($me1, $T->{alice_key}, sub { $_[1] eq 'HIT' }, 5);
ok(defined $lms, 'hits after a reload');
ok(metric('smartlyq_cache_hits_total') > $hits_before,
   'the zone and its counters survive the reload');
is(metric('smartlyq_cache_flushes_total'), $f1,
   'old workers handed over: the entries survived the reload');

my $log = SQTest::nginx_error_log();
unlike($log, qr/exited on signal|\[alert\]|\[emerg\]/, 'no crash, no alert');

done_testing();
