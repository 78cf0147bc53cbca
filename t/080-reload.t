# nginx -s reload under load: 10 reloads at 1/s while a client streams
# requests (Connection: close) through the module.  No request fails or
# is cut short, old workers exit (module timers cancelable, Redis links
# closed), no "open socket left" alert, no crash.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use HTTP::Tiny;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $base = SQTest::nginx_start(<<'CONF', 2);
    server {
        listen 127.0.0.1:$PORT;
        location /v1/ {
            smartlyq on;
            # about reloads, not timeouts: a new worker starved of CPU on
            # a loaded machine must not turn a slow first reply into 503
            smartlyq_redis_timeout 1s;
            proxy_pass http://echo;
        }
    }
CONF

my $master = SQTest::pid_of('nginx');
my $out = "$SQTest::DIR/reload-client.txt";

my $child = fork // die "fork: $!";
if ($child == 0) {
    my $http = HTTP::Tiny->new(timeout => 10, keep_alive => 0);
    my ($ok, $bad, $end) = (0, 0, time + 12);
    my $expect = qr/^user=$T->{alice} key=\d+ ws=$T->{ws1} /;
    while (time < $end) {
        my $r = $http->get("$base/v1/me?workspace_id=$T->{ws1}",
                           { headers => { Authorization => "Bearer $T->{alice_key}",
                                          Connection => 'close' } });
        if ($r->{status} == 200 && $r->{content} =~ $expect) {
            $ok++;
        } else {
            $bad++;
            print STDERR "bad: $r->{status} $r->{content}\n" if $bad < 5;
        }
    }
    open my $fh, '>', $out or POSIX::_exit(1);
    print $fh "$ok $bad\n";
    close $fh;
    POSIX::_exit(0);
}

sleep 1;
for (1 .. 10) {
    SQTest::nginx_reload();
    sleep 1;
}
waitpid $child, 0;

open my $fh, '<', $out or die "no client result";
my ($ok, $bad) = split ' ', scalar <$fh>;
close $fh;

ok($ok > 100, "the client made $ok successful requests during 10 reloads");
is($bad, 0, 'no request failed or was cut short');

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
