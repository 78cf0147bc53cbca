# Issue 15: an edge on a replicated Redis, found through Sentinel.  A
# primary (SQTest's), two replicas and three Sentinels (t/lib/SQCluster.pm,
# with a Sentinel password); nginx with
#   smartlyq_redis_sentinel s1 s2 s3 master=sqm prefer=<replica 2>
# and the decision cache.  It reads from the preferred replica; a key
# disabled on the primary is refused at the edge (the replica publishes
# the keyspace notification of the write it replays: asserted first,
# straight on a replica); a member removed is refused; kill -9 of the
# primary: reads go on being authorized from the replica and the cache,
# Sentinel promotes a replica, the usage writes resume on it without any
# reload, and the cache is flushed on the change; two Sentinels die and
# the edge asks the third.  Then four workers (a reload): worker 0 asks
# Sentinel for the edge and the others follow its answer through a shared
# zone; with worker 0 stopped they ask for themselves.  The location has
# smartlyq_fail_mode stale=: the reads that meet a link killed under
# them go on on their cached grant.

use strict;
use warnings;

use lib 't/lib';
use SQTest own_redis_conf => 1;
use SQCluster;
use Test::More;
use IO::Socket::INET;
use POSIX qw(strftime);
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $c = SQCluster::start(replicas => 2, sentinels => 3);
my ($r1, $r2) = @{ $c->{replicas} };
my $old = $c->{primary};

# --- do replicas publish keyspace notifications of replayed writes? -----
{
    my $out = "$SQTest::DIR/replica-sub.out";
    local %ENV = (%ENV, SQTest::redis_cli_env());
    my $pid = fork // die;
    if ($pid == 0) {
        open STDOUT, '>', $out;
        open STDERR, '>', '/dev/null';
        exec('timeout', '5', 'redis-cli', '-p', $r1, '--csv', 'PSUBSCRIBE',
             '__keyspace@0__:sq:*') or POSIX::_exit(127);
    }
    my $slurp = sub { local (@ARGV, $/) = ($out); -e $out ? <> // '' : '' };
    SQTest::wait_until('replica subscription', sub {
        $slurp->() =~ /psubscribe/ }, 5);
    SQCluster::node_cli($old, 'HSET', 'sq:key:probe', 'status', 'x');
    SQCluster::node_cli($old, 'DEL', 'sq:key:probe');
    my $seen = eval {
        SQTest::wait_until('notification on the replica', sub {
            $slurp->() =~ /sq:key:probe","del"/ }, 3);
    };
    ok($seen, 'a replica publishes keyspace notifications for the writes '
              . 'it replays (hset, del)') or diag $slurp->();
    like($slurp->(), qr/sq:key:probe","hset"/, '... the hset too');
    kill 'TERM', $pid;
    waitpid $pid, 0;
}

# --- the edge -----------------------------------------------------------
my $sentinels = join ' ', map { "127.0.0.1:$_" } @{ $c->{sentinels} };
my $redis = "smartlyq_redis_sentinel $sentinels master=$c->{master} "
          . "prefer=127.0.0.1:$r2;\n"
          . "    smartlyq_redis_sentinel_password_file "
          . "$c->{sentinel_password_file};";
my $cache = SQTest::cache_zone('sqc:1m ttl=60s negative_ttl=60s');
my $base = SQTest::nginx_start(<<"CONF", 1, { redis => $redis });
    $cache
    server {
        listen 127.0.0.1:\$PORT;
        location / {
            smartlyq on;
            # a lookup in flight when Sentinel kills the node's clients
            # (CLIENT KILL on each node it reconfigures) or the edge
            # moves its link fails closed; a read goes on on its grant
            smartlyq_fail_mode stale=30s;
            add_header X-Cache \$smartlyq_cache_status always;
            proxy_pass http://echo;
        }
        location = /metrics {
            smartlyq_metrics;
        }
    }
CONF

sub logs { return SQTest::nginx_error_log() }

ok(eval { SQTest::wait_until('reading from the preferred replica', sub {
        logs() =~ /sentinel: reading from 127\.0\.0\.1:$r2 \(a replica\)/ },
        10) }, 'Sentinel named the preferred replica: the edge reads from it')
    or diag logs();

sub fcall_ro_calls {
    my ($port) = @_;
    my $s = SQCluster::node_cli($port, 'INFO', 'commandstats');
    return $s =~ /^cmdstat_fcall_ro:calls=(\d+)/m ? $1 : 0;
}

my $q = "?workspace_id=$T->{ws1}";
my ($on_r1, $on_r2) = (fcall_ro_calls($r1), fcall_ro_calls($r2));
ok(SQTest::poll_request($base, "/v1/a$q", $T->{alice_key},
                        sub { $_[0] == 200 }, 10),
   'a key is authorized through the Sentinel-found link');
cmp_ok(fcall_ro_calls($r2), '>', $on_r2,
       '... its lookup ran on the preferred replica');
is(fcall_ro_calls($r1), $on_r1, '... not on the other one');
ok(SQTest::poll_request($base, "/v1/a$q", $T->{alice_key},
                        sub { $_[0] == 200 && $_[1] eq 'HIT' }, 5),
   'the cache fills (subscribed on the replica)');

# --- revocation through the replica ------------------------------------
# A subscriber of the test's own on the edge's replica writes down when
# each keyspace message of a record write (hset, hdel, del, srem) reaches a
# client: it tells the replica's share of the delay from the edge's.
sub replica_listener {
    my ($port, $out) = @_;
    my $pid = fork // die;
    return $pid if $pid;
    open STDERR, '>', '/dev/null';
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")
        or POSIX::_exit(1);
    my $cmd = sub {
        join '', "*" . @_ . "\r\n", map { '$' . length($_) . "\r\n$_\r\n" } @_;
    };
    print $s $cmd->('AUTH', SQTest::redis_password()),
             $cmd->('PSUBSCRIBE', '__keyspace@0__:*');
    open my $fh, '>', $out or POSIX::_exit(1);
    $fh->autoflush(1);
    while (defined(my $line = <$s>)) {
        next unless $line =~ /^\*(\d+)/;
        my @e;
        for (1 .. $1) {
            my $len = <$s> // last;
            my $v = <$s> // last;
            $v =~ s/\r\n\z//;
            push @e, $v;
        }
        printf $fh "%.6f %s %s\n", time, $e[2], $e[3]
            if @e == 4 && $e[0] eq 'pmessage'
               && $e[3] =~ /^(?:hset|hdel|del|srem)$/;
    }
    POSIX::_exit(0);
}

my $heard = "$SQTest::DIR/replica-heard.out";
my $listener = replica_listener($r2, $heard);
# the first record write the replica published at or after $since,
# in ms after $from (undef: none seen)
sub replica_heard_ms {
    my ($since, $from) = @_;
    open my $fh, '<', $heard or return undef;
    while (<$fh>) {
        my ($t) = /^(\d+\.\d+) / or next;
        return 1000 * ($t - $from) if $t >= $since;
    }
    return undef;
}
my $key = SQCluster::sqctl('key', 'create', '--user', $T->{alice},
                           '--name', 'revoked-soon');
my ($line) = grep { /revoked-soon/ } split /\n/,
             SQCluster::sqctl('key', 'list', '--user', $T->{alice});
my ($kid) = $line =~ /^\s*(\d+)/;
ok(SQTest::poll_request($base, "/v1/b$q", $key,
                        sub { $_[0] == 200 && $_[1] eq 'HIT' }, 5),
   'a new key, allowed and cached');
my $t_sent = time;
SQCluster::sqctl('key', 'disable', '--id', $kid);
my $t_back = time;
my ($ms, $st) = SQTest::poll_request($base, "/v1/b$q", $key,
                                     sub { $_[0] == 401 }, 2);
ok(defined $ms, 'disabled on the primary: refused at the edge');
sleep 0.05;
my $rep_ms = replica_heard_ms($t_sent, $t_back);
diag(sprintf 'key disable -> first 401 at the edge (via replica): %.1f ms; '
     . 'the replica published the write %s ms after sqctl returned '
     . '(sqctl took %.1f ms)', $ms // -1,
     defined $rep_ms ? sprintf('%.1f', $rep_ms) : 'never',
     1000 * ($t_back - $t_sent));

# a member removed: a workspace of Bob's that Alice joins, then leaves
my $wsx = SQCluster::sqctl('workspace', 'create', '--owner', $T->{bob},
                           '--name', 'Shared');
SQCluster::sqctl('member', 'add', '--workspace', $wsx, '--user',
                 $T->{alice});
ok(SQTest::poll_request($base, "/v1/c?workspace_id=$wsx", $T->{alice_key},
                        sub { $_[0] == 200 && $_[1] eq 'HIT' }, 5),
   'a member of the workspace: allowed and cached');
$t_sent = time;
SQCluster::sqctl('member', 'remove', '--workspace', $wsx, '--user',
                 $T->{alice});
$t_back = time;
($ms) = SQTest::poll_request($base, "/v1/c?workspace_id=$wsx",
                             $T->{alice_key}, sub { $_[0] == 403 }, 2);
ok(defined $ms, 'removed on the primary: refused at the edge');
sleep 0.05;
$rep_ms = replica_heard_ms($t_sent, $t_back);
diag(sprintf 'member remove -> first 403 at the edge: %.1f ms; the replica '
     . 'published the write %s ms after sqctl returned', $ms // -1,
     defined $rep_ms ? sprintf('%.1f', $rep_ms) : 'never');
kill 'TERM', $listener;
waitpid $listener, 0;

# --- kill -9 the primary ------------------------------------------------
my $day = strftime('%Y%m%d', gmtime);
my ($alice_id) = grep { /\balice\b/ } split /\n/,
                 SQCluster::sqctl('key', 'list', '--user', $T->{alice});
($alice_id) = $alice_id =~ /^\s*(\d+)/;
my $usage = sub {
    my ($port) = @_;
    my $v = SQCluster::node_cli($port, 'HGET', "sq:usage:$alice_id:$day",
                                'allowed');
    return $v =~ /^\d+$/ ? $v : 0;
};
ok(eval { SQTest::wait_until('usage flushed to the primary', sub {
        $usage->($old) > 0 }, 5) }, 'usage writes reach the primary');

my $flushes = SQTest::metric($base, 'smartlyq_cache_flushes_total') // 0;
SQCluster::kill_node($old);
my $t_kill = time;

# reads during the failover: a cached key and a lookup on the replica
my %during;
my $n = 0;
my $http = SQTest::http();
my $failed_over;
while (time - $t_kill < 30) {
    for my $path ("/v1/a$q", "/v1/d$n$q") {
        my $r = $http->get("$base$path",
                           { headers => SQTest::bearer($T->{alice_key}) });
        $during{$r->{status}}++;
    }
    $n++;
    my $p = SQCluster::primary();
    if ($p != $old && SQCluster::role_of($p) eq 'master') {
        $failed_over = $p;
        last;
    }
    sleep 0.05;
}
ok($failed_over, 'Sentinel promoted a replica');
diag(sprintf 'kill -9 of the primary -> promotion: %.1f s', time - $t_kill);
is_deeply([sort keys %during], [200],
          "reads kept being authorized while the primary was down "
          . "($n rounds, a cached key and a lookup each)")
    or diag explain \%during;

my $new = $failed_over;
my $before = $usage->($new);
ok(eval { SQTest::wait_until('usage on the new primary', sub {
        my $r = $http->get("$base/v1/e$q",
                           { headers => SQTest::bearer($T->{alice_key}) });
        $r->{status} == 200 && $usage->($new) > $before;
    }, 15) }, 'usage writes resume on the new primary, no reload')
    or diag logs();

ok(eval { SQTest::wait_until('cache flushed', sub {
        (SQTest::metric($base, 'smartlyq_cache_flushes_total') // 0)
            > $flushes }, 10) },
   'the cache was flushed on the change (smartlyq_cache_flushes_total)');
like(logs(), qr/smartlyq: (?:replica 127\.0\.0\.1:\d+ synced with 127\.0\.0\.1:$new|redis 127\.0\.0\.1:$new is now a primary|sentinel: reading from 127\.0\.0\.1:\d+ \(.*\)): cache flushed/,
     '... by the edge, on the role change of the node it reads from '
     . '(promoted, or following the new primary) or on reading another');
like(logs(), qr/sentinel: primary of "sqm" is 127\.0\.0\.1:$new/,
     'the edge follows the new primary');

# a key disabled on the new primary: refused at the edge
SQCluster::sqctl('key', 'disable', '--id', $alice_id);
ok(SQTest::poll_request($base, "/v1/f$q", $T->{alice_key},
                        sub { $_[0] == 401 }, 5),
   'after the failover, a key disabled on the new primary is refused');

# --- the Sentinels the edge asks die ------------------------------------
# two of three killed: whichever it asked, it ends on the third (a link
# of its own there, its last command SENTINEL replicas or
# get-master-addr-by-name; redis-cli's are gone as soon as they answer)
my ($s0, $s1, $s2) = @{ $c->{sentinels} };
SQCluster::kill_node($s0);
SQCluster::kill_node($s1);
ok(eval { SQTest::wait_until('the edge asks the third Sentinel', sub {
        SQCluster::sentinel_cli($s2, 'CLIENT', 'LIST')
            =~ /cmd=sentinel\|(?:replicas|get-master-addr-by-name)/ }, 10) },
   'two Sentinels killed: the edge asks the one left');
my $still = SQCluster::sqctl('key', 'create', '--user', $T->{bob},
                             '--name', 'late');
ok(SQTest::poll_request($base, "/v1/g?workspace_id=$T->{wsb}", $still,
                        sub { $_[0] == 200 }, 5),
   '... and a key created now is authorized');

# --- one worker asks Sentinel for the whole edge ------------------------
# Four workers (a reload, so the shared zone carries over).  Worker 0 asks
# every 250 ms (SENTINEL get-master-addr-by-name, then replicas: 8
# commands a second); the others read its answer from the shared zone
# and ask nothing while it is fresh.  The Sentinel left is asked by
# nobody else here, so its commands per second are the edge's.
sub sentinel_rate {
    my ($port, $secs) = @_;
    my $count = sub {
        SQCluster::sentinel_cli($port, 'INFO', 'stats')
            =~ /^total_commands_processed:(\d+)/m ? $1 : 0;
    };
    my ($n0, $t0) = ($count->(), time);
    sleep $secs;
    return ($count->() - $n0) / (time - $t0);
}
my $conf = "$SQTest::DIR/nginx/nginx.conf";
{
    local @ARGV = ($conf);
    local $^I = '';
    while (<>) {
        s/^worker_processes 1;/worker_processes 4;/;
        print;
    }
}
my $started = () = logs() =~ /start worker process \d+/g;
SQTest::nginx_reload();
ok(eval { SQTest::wait_until('four new workers', sub {
        (() = logs() =~ /start worker process \d+/g) >= $started + 4 },
        10) },
   'reloaded with four workers');
my ($w0) = (logs() =~ /start worker process (\d+)/g)[$started];
sleep 1.5;
my $rate = sentinel_rate($s2, 3);
diag(sprintf 'four workers, worker 0 answering: %.1f commands/s on the '
     . 'Sentinel', $rate);
ok($rate >= 4 && $rate <= 16,
   'four workers ask the Sentinel as one does (4..16 commands/s, four '
   . 'asking would be about 32)') or diag $rate;
my %codes;
for my $i (1 .. 20) {
    my $r = $http->get("$base/v1/h$i?workspace_id=$T->{wsb}",
                       { headers => SQTest::bearer($still) });
    $codes{$r->{status}}++;
}
is_deeply(\%codes, { 200 => 20 }, '... and every worker authorizes');

# worker 0 stuck: after its answer is 1 s old the others ask for
# themselves (three asking: about 24 a second), then follow it again
kill 'STOP', $w0;
sleep 2;
my $alone = sentinel_rate($s2, 2);
kill 'CONT', $w0;
diag(sprintf 'worker 0 stopped: %.1f commands/s', $alone);
ok($alone >= 12, 'worker 0 stopped: the other workers ask for themselves')
    or diag $alone;
sleep 1;
$rate = sentinel_rate($s2, 2);
diag(sprintf 'worker 0 back: %.1f commands/s', $rate);
ok($rate <= 16, '... and follow it again once it answers') or diag $rate;

unlike(logs(), qr/\Q$T->{alice_key}\E|\Q$key\E|\Q$still\E/,
       'no key in the error log');

done_testing;
