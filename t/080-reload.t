# nginx -s reload under load: 10 reloads at 1/s while a client streams
# requests through the module, one client with Connection: close and one
# with keep-alive (retrying once, as RFC 9112 9.3.1 allows, when a reused
# connection closes before any byte of the response: t/lib/SQHttp.pm).
# No request fails or is cut short, old workers exit (module timers
# cancelable, Redis links closed), no "open socket left" alert, no crash.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use SQHttp;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
# about reloads, not timeouts: a new worker starved of CPU on a loaded
# machine must not turn a slow first reply into 503
my $base = SQTest::nginx_start(SQTest::server_conf(locations => [
    SQTest::guarded('/v1/', 'echo', 'smartlyq_redis_timeout 1s;')]), 2);

my $master = SQTest::pid_of('nginx');
my ($port) = $base =~ /:(\d+)$/;
# one client per kind: "close" sends Connection: close on a new
# connection each time; "keepalive" reuses its connection through
# SQHttp, which retries a request once when a reused connection is reset
# or closed before any byte of the response, as RFC 9112 9.3.1 allows
# for idempotent methods (nginx 1.22 closes idle keep-alive connections
# on reload, and a request written at that instant crosses the close).
# Those retries are counted apart and reported; they are not failures.
# A response counts only with its whole body.
my $expect = qr/^user=$T->{alice} key=\d+ ws=$T->{ws1} mode=live auth= sig=[0-9a-f]{64}\n\z/;
my $path = "/v1/me?workspace_id=$T->{ws1}";
my %child;
for my $kind (qw(close keepalive)) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $ka = $kind eq 'keepalive' ? 1 : 0;
        my $http = SQHttp->new(port => $port, timeout => 10);
        my %h = (Authorization => "Bearer $T->{alice_key}");
        $h{Connection} = 'close' unless $ka;
        my ($ok, $bad, $end) = (0, 0, time + 12);
        while (time < $end) {
            my ($status, undef, $body) = $http->request('GET', $path, \%h);
            if ($status == 200 && $body =~ $expect) {
                $ok++;
            } else {
                $bad++;
                print STDERR "bad ($kind): $status $body\n" if $bad < 5;
            }
        }
        open my $fh, '>', "$SQTest::DIR/reload-$kind.txt" or POSIX::_exit(1);
        printf $fh "%d %d %d %d\n", $ok, $bad, $http->retries,
            $http->connects;
        close $fh;
        POSIX::_exit(0);
    }
    $child{$kind} = $pid;
}

sleep 1;
for (1 .. 10) {
    SQTest::nginx_reload();
    sleep 1;
}
waitpid $_, 0 for values %child;

for my $kind (qw(close keepalive)) {
    open my $fh, '<', "$SQTest::DIR/reload-$kind.txt"
        or die "no $kind client result";
    my ($ok, $bad, $retries, $connects) = split ' ', scalar <$fh>;
    close $fh;
    ok($ok > 100, "$kind client: $ok successful requests during 10 reloads");
    is($bad, 0, "$kind client: no request failed or was cut short");
    diag("$kind client: $ok ok, $retries retried once on a reused "
         . "connection closed before the response, $connects connections")
        if $kind eq 'keepalive';
    if ($kind eq 'close') {
        is($retries, 0, 'close client: never retried (fresh connections)');
    }
}

# the old workers are gone: only the current two remain
my @workers;
for (1 .. 50) {
    @workers = grep { /\S/ } split /\n/, `pgrep -P $master`;
    last if @workers == 2;
    sleep 0.1;
}
is(scalar @workers, 2, 'old workers exited, two workers remain');

my $log = SQTest::nginx_error_log();
unlike($log, qr/open socket #\d+ left/, 'no open socket left by an old worker');
unlike($log, qr/exited on signal|\[alert\]|\[emerg\]/, 'no crash, no alert');
my $reloads = () = $log =~ /\d+#\d+: reconfiguring$/mg;
is($reloads, 10, 'ten reloads happened');

done_testing();
