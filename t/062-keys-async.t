# /v1/keys on the backend's asynchronous link: while key requests wait on
# a silent Redis (SIGSTOP), the same backend process answers others at
# once (no request waits for another's Redis reply), and each waiting key
# request gets exactly one 503 when its Redis timeout ends.  The requests
# are signed ones captured between the edge and the backend, sent to a
# backend running a single process.

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
my $key = $T->{alice_key};
my $bport = $SQTest::PORT{backend};

SQTest::reap('backend', 'TERM');
SQTest::backend_start('--workers', 1);

# a capture edge: the signed request as the edge sent it upstream
my $cap = IO::Socket::INET->new(Listen => 8, LocalAddr => '127.0.0.1',
                                LocalPort => 0, ReuseAddr => 1)
    or die "capture listen: $!";
my $cap_port = $cap->sockport;
my $base = SQTest::nginx_start(SQTest::server_conf(
    locations => [SQTest::guarded('/v1/', "127.0.0.1:$cap_port")]));
my ($edge) = $base =~ /:(\d+)$/;

sub capture { return SQTest::capture_signed($cap, $edge, $key, $_[0]) }

sub open_backend {
    my ($req) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $bport, Timeout => 5)
        or die "connect: $!";
    print $s $req;
    return $s;
}

# everything the backend sent on $s, to EOF
sub read_all {
    my ($s) = @_;
    local $/;
    my $resp = <$s> // '';
    close $s;
    return $resp;
}

my $ok = read_all(open_backend(capture('/v1/keys')));
like($ok, qr{^HTTP/1\.\d 200 }, 'baseline: a captured GET /v1/keys, 200');
like($ok, qr/"success": true/, '... with the list');

my @held = ((map { capture('/v1/keys') } 1 .. 3),
            capture('/v1/keys/1'), capture('/v1/keys/1/usage?days=7'));

SQTest::redis_freeze();
my $t0 = time;
my @socks = map { open_backend($_) } @held;
sleep 0.05;     # the backend read them and sent their calls to Redis

my $metrics = read_all(open_backend(
    "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
like($metrics, qr{^HTTP/1\.\d 200 }, 'Redis silent: /metrics answers');
# not a timing: the process answered /metrics while every key request
# was still waiting on Redis (a synchronous link answers them first,
# each after its 200 ms timeout, and only then /metrics)
my $sel = IO::Select->new(@socks);
is(scalar(my @ready = $sel->can_read(0)), 0,
   sprintf('... while the %d key requests still wait on Redis, none '
           . 'answered yet', scalar @socks));

my @answers = map { read_all($_) } @socks;
my $all = time - $t0;
SQTest::redis_thaw();

is(scalar(grep { m{^HTTP/1\.\d 503 } } @answers), scalar @socks,
   'every waiting key request: 503');
is(scalar(grep { /SERVICE_UNAVAILABLE/ } @answers), scalar @socks,
   '... with the envelope');
is(scalar(grep { (() = m{HTTP/1\.\d \d{3} }g) == 1 } @answers),
   scalar @socks, '... answered exactly once each');
cmp_ok($all, '<', 0.2 * @socks, sprintf('... all within %.3f s: they '
       . 'waited side by side, not one after another (1.04 s)', $all));

SQTest::wait_until('the backend back on Redis', sub {
    read_all(open_backend(capture('/v1/keys'))) =~ m{^HTTP/1\.\d 200 };
});
pass('Redis back: key requests served again');

done_testing();
