# The backend's worker processes (--workers, backend/src/sq_procs.h):
# two workers listen on one port and both serve; a read captured between
# the edge and the backend and sent again is refused whichever worker
# gets it (the anti-replay window is shared memory), also by a worker
# started after the first use; both workers' /metrics show the same
# totals; a killed worker is replaced, and the connections waiting on its
# socket are answered by its replacement; SIGTERM to the supervisor answers
# a request in flight and stops every worker; a SIGKILL to it takes the
# workers with it.
#
# Which worker holds a connection is read from the kernel (ss -p): the
# process that owns the accepted socket.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $ws1 = $T->{ws1};
my $key = $T->{alice_key};
my $bport = $SQTest::PORT{backend};

# two workers, whatever the CPU count
SQTest::reap('backend', 'TERM');
SQTest::backend_start('--workers', 2);
my $sup = SQTest::pid_of('backend');

# the supervisor's children
sub workers {
    my ($out) = SQTest::run_capture('pgrep', '-P', $sup);
    return sort { $a <=> $b } grep { /^\d+$/ } split /\n/, $out;
}

# a pid that is gone, or dead and waiting to be reaped by someone
sub dead {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return 1;
    my $stat = <$fh> // '';
    close $fh;
    return $stat =~ /^\d+ \(.*\) Z /;
}

# the pid of the process that accepted the connection $s, or undef
sub owner {
    my ($s) = @_;
    my $lport = $s->sockport;
    my $pid;
    eval {
        SQTest::wait_until('the backend accepts', sub {
            my ($out) = SQTest::run_capture('ss', '-Htnp', 'state',
                'established', "( sport = :$bport and dport = :$lport )");
            ($pid) = $out =~ /pid=(\d+)/;
            defined $pid;
        }, 3);
    };
    return $pid;
}

# a connection to the backend accepted by worker $pid
sub conn_on {
    my ($pid) = @_;
    for (1 .. 100) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $bport, Timeout => 5)
            or die "connect: $!";
        my $owner = owner($s);
        return $s if defined $owner && $owner == $pid;
        close $s;
    }
    die "no connection reached worker $pid in 100 tries\n";
}

my @w = workers();
SQTest::wait_until('two workers', sub { @w = workers(); @w == 2 });
is(scalar @w, 2, 'two workers under the supervisor');

my ($ls) = SQTest::run_capture('ss', '-Hltnp', "( sport = :$bport )");
my %listening = map { $_ => 1 } $ls =~ /pid=(\d+)/g;
is(scalar(() = $ls =~ /^LISTEN/mg), 2, 'two listening sockets on the port');
ok($listening{$w[0]} && $listening{$w[1]}, '... one in each worker');

# --- a capture edge, as in t/032: what an attacker on the hop would see
my $cap = IO::Socket::INET->new(Listen => 8, LocalAddr => '127.0.0.1',
                                LocalPort => 0, ReuseAddr => 1)
    or die "capture listen: $!";
my $cap_port = $cap->sockport;
my $base = SQTest::nginx_start(SQTest::server_conf(
    locations => [SQTest::guarded('/v1/', "127.0.0.1:$cap_port")]));
my ($edge) = $base =~ /:(\d+)$/;

# a signed GET /v1/me as the edge sent it upstream (head only)
sub capture_read {
    return SQTest::capture_signed($cap, $edge, $key,
                                  "/v1/me?workspace_id=$ws1");
}

# --- both serve; a replay is refused on the other worker ----------------
my $read1 = capture_read();
my ($st, undef, $body) = SQTest::raw_on(conn_on($w[0]), $read1);
is($st, 200, "a captured read, first use, on worker A: 200");
like($body, qr/"success": true/, '... its envelope');
($st, undef, $body) = SQTest::raw_on(conn_on($w[1]), $read1);
is($st, 401, 'the same read replayed to worker B: 401');
like($body, qr/did not come through the SmartlyQ edge/, '... the envelope');

my $read2 = capture_read();
($st) = SQTest::raw_on(conn_on($w[1]), $read2);
is($st, 200, 'another captured read, first use, on worker B: 200');
($st) = SQTest::raw_on(conn_on($w[0]), $read2);
is($st, 401, '... replayed to worker A: 401');
($st) = SQTest::raw_on(conn_on($w[1]), $read2);
is($st, 401, '... replayed to worker B itself: 401');

# --- /metrics: the same totals from either worker ------------------------
sub metrics_on {
    my ($pid) = @_;
    my (undef, undef, $page) = SQTest::raw_on(conn_on($pid),
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    return $page;
}
my ($ma, $mb) = (metrics_on($w[0]), metrics_on($w[1]));
my ($ca) = $ma =~ /^smartlyq_backend_request_duration_seconds_count (\d+)$/m;
my ($cb) = $mb =~ /^smartlyq_backend_request_duration_seconds_count (\d+)$/m;
is($ca, 5, "worker A's /metrics counts the 5 requests of both workers");
is($cb, $ca, "worker B's /metrics the same");
like($mb, qr{^smartlyq_backend_requests_total\{route="/v1/me",status="200"\} 2$}m,
     '... two 200s on /v1/me, one from each worker');
like($ma, qr{^smartlyq_backend_requests_total\{route="/v1/me",status="401"\} 3$}m,
     '... and three replays refused');

# --- a killed worker is replaced, with the window ------------------------
my $read3 = capture_read();
($st) = SQTest::raw_on(conn_on($w[0]), $read3);
is($st, 200, 'a third captured read on worker A: 200');
kill 'KILL', $w[0];
my @after;
SQTest::wait_until('a new worker', sub {
    @after = workers();
    @after == 2 && !grep { $_ == $w[0] } @after;
}, 10);
ok(dead($w[0]), "worker A killed (SIGKILL)");
my ($new) = grep { $_ != $w[1] } @after;
ok(defined $new && $new != $w[0], "a new worker ($new) in its place");
ok(!dead($w[1]), 'worker B untouched');
($st) = SQTest::raw_on(conn_on($new), $read3);
is($st, 401, 'the read A accepted, replayed to the new worker: 401, not 503');
($st) = SQTest::raw_on(conn_on($new), capture_read());
is($st, 200, 'the new worker serves a fresh read: 200');
like(metrics_on($new),
     qr/^smartlyq_backend_request_duration_seconds_count 8$/m,
     "the new worker's /metrics still has the dead one's counts");

# --- connections queued on a dead worker's socket are not lost ---------
# the supervisor keeps every worker's socket: what waits in the backlog
# of a worker that dies is served by the one started in its place
# (restarted at once: it lived over 1 s)
kill 'STOP', $new;
my @q;
for (1 .. 20) {
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $bport,
                                  Timeout => 5) or die "connect: $!";
    print $c "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    push @q, $c;
}
sleep 0.5;
my @waiting = grep { !IO::Select->new($_)->can_read(0) } @q;
cmp_ok(scalar @waiting, '>', 0, scalar(@waiting) . ' of 20 connections wait '
       . 'on the stopped worker\'s socket (the others are answered)');
sleep 1.1;
kill 'KILL', $new;
SQTest::wait_until('another new worker', sub {
    my @n = workers(); @n == 2 && !grep { $_ == $new } @n }, 5);
my $answered = 0;
for my $c (@q) {
    local $/;
    my $raw = IO::Select->new($c)->can_read(5) ? (<$c> // '') : '';
    $answered++ if $raw =~ m{^HTTP/1\.\d 200 };
    close $c;
}
is($answered, 20, 'after the worker is killed and replaced, all 20 are '
   . 'answered 200, none reset');
@after = workers();
($new) = grep { $_ != $w[1] } @after;

# --- SIGTERM: a request in flight is answered, every worker stops -------
my $inflight = capture_read();
my $s = conn_on($w[1]);
SQTest::redis_freeze();
print $s $inflight;
sleep 0.05;
my $t0 = time;
SQTest::reap('backend', 'TERM');    # waits for the supervisor to exit
my $took = time - $t0;
is($? & 127, 0, 'SIGTERM: the supervisor exited, not killed');
cmp_ok($took, '<', 8, sprintf('... within %.2f s', $took));
SQTest::redis_thaw();
my ($code, $resp) = do {
    local $/;
    my $raw = <$s> // '';
    my ($c) = $raw =~ m{^HTTP/1\.\d (\d{3})};
    ($c, (split /\r\n\r\n/, $raw, 2)[1]);
};
close $s;
like($code // 0, qr/^(200|503)$/, 'a request in flight at SIGTERM was answered');
like($resp // '', qr/^\{"success": /, '... with an envelope');
my @left = grep { !dead($_) } ($new, $w[1]);
is(scalar @left, 0, 'no worker left after SIGTERM');
ok(!-e "/proc/$new" && !-e "/proc/$w[1]", '... both reaped by the supervisor');
ok(!SQTest::port_open($bport), 'nothing listens on the port');

# --- SIGKILL to the supervisor: the workers die with it -----------------
SQTest::backend_start('--workers', 2);
$sup = SQTest::pid_of('backend');
SQTest::wait_until('two workers', sub { @w = workers(); @w == 2 });
SQTest::backend_kill();
SQTest::wait_until('the workers die', sub { !grep { !dead($_) } @w }, 3);
ok(1, 'SIGKILL to the supervisor: both workers gone');
SQTest::wait_until('the port closes', sub { !SQTest::port_open($bport) }, 3);
ok(1, '... and the port closed');

# the harness's backend again, for its END
SQTest::backend_start();

done_testing();
