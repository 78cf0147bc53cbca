# The decision cache when Redis is away, and its size limits: TTLs end
# entries, a full zone evicts the oldest, "smartlyq_fail_mode closed"
# (the default) answers 503 even with a cached grant, "stale=" serves a
# cached grant to reads only and never one revoked before the outage, and
# a silent Redis (SIGSTOP) stops the cache from being trusted.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(
    cache => 'tiny:64k ttl=1s negative_ttl=1s',
    locations => [SQTest::guarded('/v1/', 'echo'),
                  SQTest::guarded('/stale/', 'echo',
                                  'smartlyq_fail_mode stale=30s;')],
    metrics => 1), 1);

sub get    { return SQTest::cache_get($base, 'GET', @_) }
sub req    { return SQTest::cache_get($base, @_) }
sub metric { return SQTest::metric($base, @_) }
sub poll   { return SQTest::poll_request($base, @_) }

my $ws1 = "workspace_id=$T->{ws1}";
ok(poll("/v1/me?$ws1", $T->{alice_key}, sub { $_[1] eq 'HIT' }),
   'cache warm');

# TTL: after ttl=1s a hit becomes a miss
sleep 1.2;
my @r = get("/v1/me?$ws1", $T->{alice_key});
is($r[1], 'MISS', 'past its TTL an entry is not used');
ok(metric('smartlyq_cache_misses_total') >= 2, 'misses counted');

# a full zone: the oldest entries are evicted, answers stay right
my $ev0 = metric('smartlyq_cache_evictions_total');
my $bad = 0;
for my $ws (1000 .. 1600) {
    my ($s) = get("/v1/me?workspace_id=$ws", $T->{alice_key});
    $bad++ unless $s == 403;
}
is($bad, 0, '600 distinct workspaces: every one refused correctly');
ok(metric('smartlyq_cache_evictions_total') > $ev0,
   'the 64k zone evicted entries to make room');
my $entries = metric('smartlyq_cache_entries');
ok($entries > 50 && $entries < 600, "entries bounded by the zone ($entries)");
my $bytes = metric('smartlyq_cache_bytes_used');
ok($bytes <= 64 * 1024, "bytes used within the zone ($bytes)");
@r = get("/v1/me?$ws1", $T->{alice_key});
is($r[0], 200, 'still allowed after evictions');

# Redis down: closed mode refuses even with a fresh entry
ok(poll("/v1/me?$ws1", $T->{alice_key}, sub { $_[1] eq 'HIT' }),
   'closed location warm');
ok(poll("/stale/me?$ws1", $T->{alice_key}, sub { $_[1] eq 'HIT' }),
   'stale location warm');

# a grant revoked before the outage must not come back as stale
my $k2 = sqctl('key', 'create', '--user', $T->{alice}, '--name', 'st-rev');
my ($line) = grep { /\bst-rev\b/ } split /\n/,
             sqctl('key', 'list', '--user', $T->{alice});
my ($id2) = $line =~ /^\s*(\d+)/;
ok(poll("/stale/me?$ws1", $k2, sub { $_[1] eq 'HIT' }), 'second key warm');
sqctl('key', 'disable', '--id', $id2);
ok(poll("/stale/me?$ws1", $k2, sub { $_[0] == 401 }), 'second key revoked');

SQTest::redis_kill();
sleep 0.3;

@r = get("/v1/me?$ws1", $T->{alice_key});
is($r[0], 503, 'closed: 503 while Redis is down, cached grant or not');
like($r[2], qr/SERVICE_UNAVAILABLE/, 'closed: the 503 envelope');

@r = get("/stale/me?$ws1", $T->{alice_key});
is($r[0], 200, 'stale: a read goes on on the cached grant');
is($r[1], 'STALE', 'stale: marked STALE');
like($r[2], qr/^user=$T->{alice} key=\d+ ws=$T->{ws1} /,
     'stale: the cached identity goes upstream');

sleep 1.2;      # past the TTL, within stale=30s
@r = get("/stale/me?$ws1", $T->{alice_key});
is($r[0], 200, 'stale: still served past the TTL, within stale=');

@r = req('POST', "/stale/me?$ws1", $T->{alice_key});
is($r[0], 503, 'stale: writes always fail closed');

@r = req('DELETE', "/stale/me?$ws1", $T->{alice_key});
is($r[0], 503, 'stale: a DELETE fails closed too');

@r = get("/stale/me?workspace_id=$T->{ws2}", $T->{alice_key});
is($r[0], 503, 'stale: nothing cached for that workspace: 503');

@r = get("/stale/me?$ws1", $k2);
is($r[0], 503, 'stale: a grant revoked before the outage is not served');

ok(metric('smartlyq_cache_stale_hits_total') >= 2, 'stale hits counted');

SQTest::redis_start();
ok(poll("/v1/me?$ws1", $T->{alice_key}, sub { $_[0] == 200 }, 5),
   'Redis back: allowed again');
ok(poll("/v1/me?$ws1", $T->{alice_key}, sub { $_[1] eq 'HIT' }, 5),
   'Redis back: the cache is used again');

# a frozen Redis: the invalidation link goes silent, the cache is not
# trusted within a second, closed locations then answer 503
SQTest::redis_freeze();
sleep 1.3;
@r = get("/v1/me?$ws1", $T->{alice_key});
isnt($r[1], 'HIT', 'frozen Redis: the cache is not trusted');
is($r[0], 503, 'frozen Redis: closed location answers 503');
@r = get("/stale/me?$ws1", $T->{alice_key});
is($r[0], 200, 'frozen Redis: stale location serves the read');
SQTest::redis_thaw();
ok(poll("/v1/me?$ws1", $T->{alice_key}, sub { $_[1] eq 'HIT' }, 5),
   'thawed: trusted again');

my $log = SQTest::nginx_error_log();
unlike($log, qr/exited on signal|\[alert\]|\[emerg\]/, 'no crash, no alert');
like($log, qr/stale grant used/, 'stale grants are logged');

done_testing();
