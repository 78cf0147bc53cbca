# Redis faults under load: frozen (SIGSTOP 2 s), killed (kill -9),
# unreachable (iptables DROP of its port, inside a network namespace this
# file makes for itself) and restarted, each twice, while four clients
# loop over allowed, foreign-workspace and disabled-key requests, through
# the edge alone and through the backend.  Checked for every round:
#   - no 200 for a request that started while Redis was out (no pass
#     without a check), and every answer is one of the expected ones;
#   - the edge's 503s come within the Redis timeout, and nothing hangs;
#   - the edge and the backend serve again < 1 s after Redis is back;
#   - no worker crashed, and the workers' fd counts do not grow.

use strict;
use warnings;

use lib 't/lib';
# in its own network namespace, where iptables may DROP
use SQTest netns => 1;
use SQLoad;
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $timeout = 0.1;                # smartlyq_redis_timeout below
# a connect attempt whose SYN was DROPped is abandoned after 200 ms and
# retried after the backoff (at most 500 ms): with the default 1 s, an
# attempt made just before the DROP is lifted waits for the kernel's 1 s
# SYN retransmission, and the recovery bound below becomes a coin toss
my $base = SQTest::nginx_start(SQTest::server_conf(
    http => 'smartlyq_redis_connect_timeout 200ms;',
    locations => [SQTest::guarded('/e/', 'echo'),
                  SQTest::guarded('/v1/', 'backend')]), 2);
my $master = SQTest::pid_of('nginx');
my $port = $SQTest::PORT{nginx};
my $rport = $SQTest::PORT{redis};
my $can_drop = $ENV{SQ_NETNS} ? 1 : 0;

my @requests = (
    SQLoad::edge_requests($T),
    { name => 'edge-disabled', key => $T->{disabled_key},
      path => "/e/x",
      want => SQLoad::status_or_503(401) },
    SQLoad::me_request($T),
);

my $load = SQLoad::start(port => $port, clients => 4, requests => \@requests,
                         hang => 3, pause => 0.0005);

sub fd_total {
    my $n = 0;
    $n += SQLoad::fds($_) for SQLoad::workers($master);
    return $n;
}

sleep 1;
my @fds = (fd_total());
my @rounds;

sub redis_up { return SQTest::redis_cli('ping') eq 'PONG' }

my %inject = (
    freeze => [sub { SQTest::redis_freeze() }, sub { SQTest::redis_thaw() }],
    kill => [sub { SQTest::redis_kill() }, sub { SQTest::redis_start() }],
    restart => [sub { SQTest::reap('redis', 'TERM') },
                sub { SQTest::redis_start() }],
    drop => [sub { system('iptables', '-I', 'INPUT', '-p', 'tcp',
                          '--dport', $rport, '-j', 'DROP') == 0
                       or die "iptables failed\n" },
             sub { system('iptables', '-D', 'INPUT', '-p', 'tcp',
                          '--dport', $rport, '-j', 'DROP') == 0
                       or die "iptables failed\n" }],
);
my @kinds = ('freeze', 'kill', ($can_drop ? 'drop' : ()), 'restart');

for my $pass (1, 2) {
    for my $kind (@kinds) {
        my ($out, $back) = @{ $inject{$kind} };
        $out->();
        my $t_out = time;
        sleep 2;
        # "out" ends when Redis starts coming back (a restarted Redis
        # answers before its PING loop below returns); recovery counts
        # from when it answers PING
        my $t_back0 = time;
        $back->();
        my $t_back = time;
        sleep 1.5;
        push @rounds, { kind => $kind, out => $t_out, back0 => $t_back0,
                        back => $t_back };
        push @fds, fd_total();
    }
}

my @rec = SQLoad::stop($load);

# --- per round --------------------------------------------------------------
my $eps = 0.02;     # a request started this soon after the fault may
                    # have been answered by Redis before it stopped
my $summary = '';
for my $r (@rounds) {
    my @in = grep { $_->[0] > $r->{out} + $eps
                    && $_->[0] + $_->[1] < $r->{back0} } @rec;
    my @pass = grep { $_->[2] == 200 } @in;
    is(scalar @pass, 0, "$r->{kind}: no 200 while Redis was out ("
       . scalar(@in) . " requests)")
        or diag(join "\n", map { sprintf("200 %s: started %+.3f s after "
                . "out, ended %+.3f s before back", $_->[3],
                $_->[0] - $r->{out}, $r->{back0} - $_->[0] - $_->[1]) }
                @pass[0 .. ($#pass < 4 ? $#pass : 4)]);

    my @edge503 = map { $_->[1] }
                  grep { $_->[2] == 503 && $_->[3] =~ /^edge/ } @in;
    my $max = @edge503 ? (sort { $a <=> $b } @edge503)[-1] : 0;
    cmp_ok(scalar @edge503, '>', 0, "$r->{kind}: the edge answered 503s");
    cmp_ok(SQLoad::pct(99, @edge503), '<', $timeout + 0.1, sprintf(
           "$r->{kind}: edge 503s within the timeout (p99 %.0f ms)",
           1000 * SQLoad::pct(99, @edge503)));
    cmp_ok($max, '<', 1, sprintf("$r->{kind}: ... and none hangs (max %.0f ms)",
                                 1000 * $max));

    for my $path ('edge', 'backend') {
        my ($first) = grep { $_->[0] >= $r->{back} && $_->[2] == 200
                             && $_->[3] =~ /^$path/ } @rec;
        my $rec = $first ? $first->[0] + $first->[1] - $r->{back} : 99;
        $r->{"rec_$path"} = $rec;
        cmp_ok($rec, '<', 1, sprintf("$r->{kind}: $path serves again %.0f ms "
               . "after Redis is back", 1000 * $rec));
    }
    $summary .= sprintf("  %-8s %5d requests while out, %d x 200, edge 503 "
                        . "p99 %3.0f ms max %3.0f ms, recovery edge %4.0f ms "
                        . "backend %4.0f ms\n", $r->{kind}, scalar @in,
                        scalar @pass,
                        1000 * SQLoad::pct(99, @edge503), 1000 * $max,
                        1000 * $r->{rec_edge}, 1000 * $r->{rec_backend});
}

# --- overall ----------------------------------------------------------------
my @bad = grep { !$_->[4] } @rec;
is(scalar @bad, 0, 'every answer was an expected one (' . scalar(@rec)
   . ' requests)') or diag(join "\n", map { "@$_" } @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
my @hung = grep { $_->[2] == 0 } @rec;
is(scalar @hung, 0, 'no request hung');

my %by;
$by{$_->[2]}++ for @rec;
diag("faults: " . scalar(@rec) . " requests, by status: "
     . join(', ', map { "$_: $by{$_}" } sort keys %by) . "\n" . $summary
     . "  worker fds after each round: @fds");

cmp_ok($fds[-1], '<=', $fds[1] + 4, "worker fds do not grow (@fds)");

my $log = SQTest::nginx_error_log();
unlike($log, qr/exited on signal|signal \d+|\[alert\]|\[emerg\]/,
       'no crashed worker, no alert');

done_testing();
