# Late Redis replies: Redis stalls for longer than smartlyq_redis_timeout
# (DEBUG SLEEP 0.3 s and CLIENT PAUSE 300 ms against a 100 ms timeout)
# again and again, while four clients interleave requests for two users'
# keys, their own and each other's workspaces, and a test-mode key.  The
# replies of timed-out checks arrive late, on the same link as newer
# checks: none may ever be applied to another request.  Clients that give
# up while their check is pending cost nothing: no fd left behind, no
# error logged, no crash.

use strict;
use warnings;

use lib 't/lib';
use SQTest redis_args => ['--enable-debug-command', 'local'];
use SQLoad;
use IO::Socket::INET;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(locations => [
    SQTest::guarded('/e/', 'echo', 'smartlyq_redis_timeout 100ms;')]), 2);
my $master = SQTest::pid_of('nginx');
my $port = $SQTest::PORT{nginx};

my %mismatch;

# the right answer for this key and workspace, or a 503; anything else
# (another user's identity, a 200 where 403 is due) is a mismatch
sub want {
    my ($name, $status, $user, $ws, $mode) = @_;
    return sub {
        my ($s, $b) = @_;
        return 1 if SQLoad::unavailable($s, $b);
        my $ok = $s == $status
                 && ($status != 200
                     || $b =~ /^user=$user key=\d+ ws=$ws mode=$mode /);
        return $ok;
    };
}

my @requests;
for my $who (['alice', $T->{alice_key}, $T->{alice}, 'live'],
             ['bob', $T->{bob_key}, $T->{bob}, 'live'],
             ['alicetest', $T->{alice_test_key}, $T->{alice}, 'test']) {
    my ($name, $key, $user, $mode) = @$who;
    for my $ws ($T->{ws1}, $T->{ws2}, $T->{wsb}) {
        my $own = $name eq 'bob' ? $ws == $T->{wsb} : $ws != $T->{wsb};
        push @requests, {
            name => "$name-ws$ws", key => $key,
            path => "/e/x?workspace_id=$ws",
            want => want("$name-ws$ws", $own ? 200 : 403, $user, $ws, $mode),
        };
    }
}

my $load = SQLoad::start(port => $port, clients => 4, requests => \@requests,
                         hang => 3);

sub fd_total {
    my $n = 0;
    $n += SQLoad::fds($_) for SQLoad::workers($master);
    return $n;
}

sleep 0.5;
my $fds_before = fd_total();

# requests whose clients vanish while Redis is stalled
sub abort_some {
    my ($n) = @_;
    my @s;
    for my $i (1 .. $n) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port) or next;
        my $q = $requests[$i % @requests];
        print $s "GET $q->{path} HTTP/1.1\r\nHost: x\r\n"
               . "Authorization: Bearer $q->{key}\r\n\r\n";
        push @s, $s;
    }
    sleep 0.05;
    close $_ for @s;
}

my $stalls = 0;
for my $i (1 .. 8) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        if ($i % 2) {
            SQTest::redis_cli('DEBUG', 'SLEEP', '0.3');
        } else {
            SQTest::redis_cli('CLIENT', 'PAUSE', '300', 'ALL');
        }
        POSIX::_exit(0);
    }
    sleep 0.02;
    abort_some(50);
    waitpid $pid, 0;
    $stalls++;
    sleep 0.3;
}

sleep 1;
my @rec = SQLoad::stop($load);
sleep 0.5;
my $fds_after = fd_total();

my %by;
$by{$_->[2]}++ for @rec;
my @bad = grep { !$_->[4] } @rec;
my $n200 = grep { $_->[2] == 200 } @rec;
my $n403 = grep { $_->[2] == 403 } @rec;
my $n503 = grep { $_->[2] == 503 } @rec;

is(scalar @bad, 0, 'no reply applied to the wrong request: '
   . scalar(@rec) . " requests, 0 mismatches") or diag(join "\n",
   map { "@$_" } @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
cmp_ok($n503, '>', 0, "$n503 checks timed out (503) during $stalls stalls");
cmp_ok($n200, '>', 0, "$n200 allowed with the right identity");
cmp_ok($n403, '>', 0, "$n403 foreign workspaces refused");

my $m = SQTest::http()->get("$base/e/x?workspace_id=$T->{ws1}",
                            { headers => SQTest::bearer($T->{alice_key}) });
is($m->{status}, 200, 'Redis quiet again: allowed');

cmp_ok($fds_after, '<=', $fds_before + 2,
       "aborted clients left no fd behind (workers: $fds_before -> $fds_after)");

my $log = SQTest::nginx_error_log();
my $timeouts = () = $log =~ /redis reply timed out/g;
diag("late replies: " . scalar(@rec) . " requests (200: $n200, 403: $n403, "
     . "503: $n503), $timeouts timeouts logged, 400 aborted clients, "
     . "fds $fds_before -> $fds_after");
unlike($log, qr/\[(error|crit|alert|emerg)\]/, 'nothing logged above warn');
unlike($log, qr/exited on signal/, 'no crashed worker');

done_testing();
