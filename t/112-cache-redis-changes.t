# The decision cache notices the ways Redis changes without publishing a
# keyspace event: notify-keyspace-events turned off at runtime (bypass
# within 1 s, flush when they come back), SWAPDB, FLUSHDB and FLUSHALL
# (the sq:epoch marker goes: bypass, then a flush), a reload onto another
# Redis holding the same marker, and a Redis restarted from an older AOF.
# Each scenario warms a grant that the change takes away, and checks that
# it is not served from the cache (TTL 60 s here) afterwards.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(
    cache => 'sqcache:4m ttl=60s negative_ttl=60s',
    locations => [SQTest::guarded('/v1/', 'echo')], metrics => 1), 2);

my $redis2;     # a second Redis, for the reload

END { SQTest::reap('redis2') if $redis2 }

sub get    { return SQTest::cache_get($base, 'GET', @_) }
sub metric { return SQTest::metric($base, @_) }
sub poll   { return SQTest::poll_request($base, @_) }

sub me { return "/v1/me?workspace_id=$_[0]" }

# a new key of Alice's and its id
sub new_key {
    my ($name) = @_;
    my $key = sqctl('key', 'create', '--user', $T->{alice}, '--name', $name);
    my ($line) = grep { /\b\Q$name\E\b/ } split /\n/,
                 sqctl('key', 'list', '--user', $T->{alice});
    my ($id) = $line =~ /^\s*(\d+)/;
    return ($key, $id);
}

sub warm {
    my ($path, $key, $secs) = @_;
    return defined scalar poll($path, $key,
                               sub { $_[0] == 200 && $_[1] eq 'HIT' },
                               $secs || 5);
}

# $change takes a cached grant away: refused within 1 s, and stays so
my $t_change;   # when the last change was made

# the flush counter passed $f0 within 1 s of the change (a worker notices
# with its next heartbeat, every 200 ms; a refusal can come sooner, from
# a worker that bypassed the cache for its own reasons)
sub flushed_within_1s {
    my ($f0, $what) = @_;
    while (1) {
        if (metric('smartlyq_cache_flushes_total') > $f0) {
            diag(sprintf '%s: flushed after %.0f ms', $what,
                 1000 * (time - $t_change));
            return ok(1, "$what: flushed within 1 s");
        }
        last if time - $t_change > 1;
        sleep 0.02;
    }
    return ok(0, "$what: flushed within 1 s");
}

sub refused_within_1s {
    my ($what, $path, $key, $change, $status) = @_;
    ok(warm($path, $key), "$what: cached grant before");
    $t_change = time;
    $change->();
    my ($ms, $st) = poll($path, $key, sub { $_[0] != 200 }, 1);
    ok(defined $ms, "$what: refused within 1 s");
    diag(sprintf '%s: refused after %.0f ms', $what, $ms) if defined $ms;
    my @again = map { (get($path, $key))[0] } 1 .. 5;
    is_deeply(\@again, [($status) x 5], "$what: stays $status");
}

my $f0;

# 1. keyspace events turned off at runtime, no reconnect
{
    my ($k1, $id1) = new_key('e-off-1');
    my ($k2, $id2) = new_key('e-off-2');
    ok(warm(me($T->{ws1}), $k1), 'events: cached grant');
    my $b0 = metric('smartlyq_cache_bypasses_total');
    redis_cli('CONFIG', 'SET', 'notify-keyspace-events', '');
    my ($ms) = poll(me($T->{ws1}), $k1, sub { $_[1] eq 'BYPASS' }, 1);
    ok(defined $ms, 'events off: the cache is bypassed within 1 s');
    diag(sprintf 'events off: bypassed after %.0f ms', $ms) if defined $ms;
    ok(metric('smartlyq_cache_bypasses_total') > $b0, 'bypasses counted');

    # unheard changes while they are off
    sqctl('key', 'disable', '--id', $id1);
    my @st = map { (get(me($T->{ws1}), $k1))[0] } 1 .. 5;
    is_deeply(\@st, [(401) x 5], 'events off: a change is seen at once');
    my @k2 = get(me($T->{ws1}), $k2);
    is_deeply([@k2[0, 1]], [200, 'BYPASS'],
              'events off: an answer fetched (and stored) meanwhile');
    sqctl('key', 'disable', '--id', $id2);      # nobody hears of this

    ok(SQTest::error_log_soon(qr/does not publish the keyspace events/,
                              2.5), 'events off: logged');

    $f0 = metric('smartlyq_cache_flushes_total');
    redis_cli('CONFIG', 'SET', 'notify-keyspace-events', 'Kghsxe');
    ok(warm(me($T->{ws1}), $T->{alice_key}, 3),
       'events back: the cache is used again');
    ok(metric('smartlyq_cache_flushes_total') > $f0,
       'events back: the cache was flushed');
    @st = map { (get(me($T->{ws1}), $k2))[0] } 1 .. 5;
    is_deeply(\@st, [(401) x 5],
              'events back: what was stored while they were off is gone');
}

# 2. SWAPDB: db 0 becomes another data set, and back
$f0 = metric('smartlyq_cache_flushes_total');
refused_within_1s('SWAPDB 0 1', me($T->{ws1}), $T->{alice_key},
                  sub { redis_cli('SWAPDB', 0, 1) }, 401);
flushed_within_1s($f0, 'SWAPDB');
redis_cli('SWAPDB', 0, 1);
ok(warm(me($T->{ws1}), $T->{alice_key}), 'swapped back: cached grant again');

# 3. the state Bob is not a member of ws1 in, on disk: a snapshot
my $old = "$SQTest::DIR/redis-old";
system('cp', '-a', $SQTest::REDIS_DIR, $old) == 0 or die "cp: $?";
sqctl('member', 'add', '--workspace', $T->{ws1}, '--user', $T->{bob});
ok(warm(me($T->{ws1}), $T->{bob_key}), 'Bob made a member: cached grant');

# 3a. a reload onto another Redis: a copy of the snapshot, same marker
{
    my $port2 = SQTest::free_port();
    system('cp', '-a', $old, "$SQTest::DIR/redis2") == 0 or die "cp: $?";
    SQTest::redis_start_other('redis2', $port2, "$SQTest::DIR/redis2");
    $redis2 = 1;
    my $marker = redis_cli('GET', 'sq:epoch');
    {
        local $SQTest::PORT{redis} = $port2;
        is(redis_cli('GET', 'sq:epoch'), $marker,
           'the other Redis holds the same sq:epoch marker');
    }
    like($marker, qr/^[0-9a-f]{32}$/, '(a random marker)');
    my $conf = "$SQTest::DIR/nginx/nginx.conf";
    my $text = do { local (@ARGV, $/) = ($conf); <> };
    my $p1 = $SQTest::PORT{redis};
    (my $text2 = $text) =~ s/smartlyq_redis 127\.0\.0\.1:$p1;/smartlyq_redis 127.0.0.1:$port2;/
        or die 'smartlyq_redis not found';
    my $write = sub {
        open my $fh, '>', $conf or die $!;
        print $fh $_[0];
        close $fh;
    };

    $f0 = metric('smartlyq_cache_flushes_total');
    $write->($text2);
    SQTest::nginx_reload();
    sleep 3;    # the old workers hand over and exit
    my @st = map { (get(me($T->{ws1}), $T->{bob_key}))[0] } 1 .. 5;
    is_deeply(\@st, [(403) x 5],
              'reload onto another Redis: its answer, not the cached one');
    ok(metric('smartlyq_cache_flushes_total') > $f0,
       'reload onto another Redis: flushed');
    ok(warm(me($T->{ws1}), $T->{alice_key}),
       'reload onto another Redis: the cache is used');

    $write->($text);
    SQTest::nginx_reload();
    sleep 3;
    @st = map { (get(me($T->{ws1}), $T->{bob_key}))[0] } 1 .. 5;
    is_deeply(\@st, [(200) x 5], 'reload back: the first Redis answers');
    ok(warm(me($T->{ws1}), $T->{bob_key}), 'reload back: cached grant');
    SQTest::reap('redis2');
    $redis2 = 0;
}

# 3b. Redis restarted from the older AOF: same marker, older data
{
    my ($k, $id) = new_key('newer-than-aof');
    ok(warm(me($T->{ws1}), $k), 'a key newer than the snapshot: cached');
    $f0 = metric('smartlyq_cache_flushes_total');
    my $c0 = metric('smartlyq_redis_connects_total');
    SQTest::redis_kill();
    system('rm', '-rf', $SQTest::REDIS_DIR) == 0 or die "rm: $?";
    system('cp', '-a', $old, $SQTest::REDIS_DIR) == 0 or die "cp: $?";
    SQTest::redis_start();
    my ($ms, $st) = poll(me($T->{ws1}), $T->{bob_key},
                         sub { $_[0] != 503 && $_[0] != 200 }, 5);
    is($st, 403, 'older AOF: Bob is not a member there');
    # every link of both workers is back (lookup, usage, invalidation:
    # 3 each): a worker still waiting out its reconnect backoff (up to
    # 500 ms, longer under ASan) answers 503, fail closed, and the 5 in a
    # row below would meet it
    my $t0 = time;
    sleep 0.02 while metric('smartlyq_redis_connects_total') < $c0 + 6
                     && time - $t0 < 10;
    ok(metric('smartlyq_redis_connects_total') >= $c0 + 6,
       'older AOF: both workers linked again');
    my @st = map { (get(me($T->{ws1}), $T->{bob_key}))[0] } 1 .. 5;
    is_deeply(\@st, [(403) x 5], 'older AOF: no cached grant for Bob');
    @st = map { (get(me($T->{ws1}), $k))[0] } 1 .. 5;
    is_deeply(\@st, [(401) x 5], 'older AOF: the newer key is unknown');
    ok(metric('smartlyq_cache_flushes_total') > $f0,
       'older AOF: flushed once subscribed again');
    ok(warm(me($T->{ws1}), $T->{alice_key}), 'older AOF: cached again');
}

# 4. FLUSHDB and FLUSHALL: the data goes, and the marker with it
sub marker { return redis_cli('GET', 'sq:epoch') }

{
    my $m0 = marker();
    $f0 = metric('smartlyq_cache_flushes_total');
    refused_within_1s('FLUSHDB', me($T->{ws1}), $T->{alice_key},
                      sub { redis_cli('FLUSHDB') }, 401);
    flushed_within_1s($f0, 'FLUSHDB');
    my $t0 = time;
    sleep 0.05 until marker() ne '' || time - $t0 > 3;
    like(marker(), qr/^[0-9a-f]{32}$/,
         'FLUSHDB: the backend puts a marker back');
    isnt(marker(), $m0, 'FLUSHDB: a new one');
    sqctl('init', '--functions', "$SQTest::ROOT/redis/smartlyq.lua");
    $T = SQTest::seed();
    ok(warm(me($T->{ws1}), $T->{alice_key}), 'FLUSHDB: new data, cached');
}

{
    # without the backend, nothing puts the marker back
    SQTest::backend_kill();
    $f0 = metric('smartlyq_cache_flushes_total');
    refused_within_1s('FLUSHALL', me($T->{ws1}), $T->{alice_key},
                      sub { redis_cli('FLUSHALL') }, 401);
    flushed_within_1s($f0, 'FLUSHALL');
    is(marker(), '', 'FLUSHALL: no marker');
    my @x = map { (get(me($T->{ws1}), $T->{alice_key}))[1] } 1 .. 5;
    is_deeply(\@x, [('BYPASS') x 5], 'no marker: the cache is bypassed');
    ok(SQTest::error_log_soon(qr/redis has no "sq:epoch"/, 2.5),
       'no marker: logged');
    SQTest::backend_start();
    sqctl('init', '--functions', "$SQTest::ROOT/redis/smartlyq.lua");
    $T = SQTest::seed();
    ok(warm(me($T->{ws1}), $T->{alice_key}), 'FLUSHALL: new data, cached');
}

my $log = SQTest::nginx_error_log();
unlike($log, qr/exited on signal|\[alert\]|\[emerg\]/, 'no crash, no alert');

done_testing();
