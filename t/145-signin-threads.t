# Sign-in's Argon2id verify (about 60 ms of CPU) runs in a thread, not on
# the backend worker's event loop (backend/src/sq_signin.c): with one
# worker, a request that needs no password is answered while sign-ins are
# verifying, and a sign-in beyond the worker's two verifies at once gets
# 503 with Retry-After instead of waiting.
#
# The requests go straight to the backend's port (its public paths are
# unsigned), each with its own X-Real-IP so that the per-IP sign-in limit
# of the other files is not touched; the emails are unknown ones, which
# are verified against the dummy hash at the same cost.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use IO::Socket::INET;
use Time::HiRes qw(time);
use Test::More;

SQTest::backend_kill();
SQTest::backend_start('--workers', 1);

my $port = $SQTest::PORT{backend};
my $ip = 0;

# a request on a new connection, not read yet
sub send_req {
    my ($method, $path, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 10)
        or die "connect: $!";
    $ip++;
    my $head = "$method $path HTTP/1.1\r\nHost: localhost\r\n"
             . "X-Real-IP: 10.45.0.$ip\r\nConnection: close\r\n";
    if (defined $body) {
        $head .= "Content-Type: application/x-www-form-urlencoded\r\n"
               . 'Content-Length: ' . length($body) . "\r\n";
    }
    print {$s} "$head\r\n" . ($body // '');
    return $s;
}

# its status line's code, once the whole response has come
sub status_of {
    my ($s) = @_;
    local $/;
    my $all = <$s> // '';
    close $s;
    return $all =~ m{^HTTP/1\.1 (\d{3})} ? ($1, $all) : (0, $all);
}

sub signin {
    my ($n) = @_;
    return send_req('POST', '/signin',
                    "email=nobody$n%40example.com&password=not-the-one-$n");
}

my $meta = '/.well-known/oauth-authorization-server';

# one sign-in alone: how long a verify takes here, now
my $t0 = time;
my ($st) = status_of(signin(0));
my $alone = time - $t0;
is($st, 401, 'a sign-in with a wrong password: 401');
diag(sprintf 'one sign-in alone: %.1f ms', 1000 * $alone);

for my $round (1 .. 3) {
    # two sign-ins verifying, then a request that needs no password
    my @s = (signin("a$round"), signin("b$round"));
    select(undef, undef, undef, 0.01);     # both read from Redis, verifying
    my $m0 = time;
    my ($ms, $mbody) = status_of(send_req('GET', $meta));
    my $took = time - $m0;
    is($ms, 200, "round $round: the metadata while two sign-ins verify: 200");
    ok($took < $alone / 2,
       sprintf("round $round: ... answered in %.1f ms, not after a verify "
               . "(%.1f ms alone)", 1000 * $took, 1000 * $alone));
    is_deeply([map { (status_of($_))[0] } @s], [401, 401],
              "round $round: both sign-ins answered 401 afterwards");
}

# three at once: the third finds two verifies running
{
    my @s = map { signin("c$_") } 1 .. 3;
    my @r = map { [status_of($_)] } @s;
    my @codes = sort map { $_->[0] } @r;
    is_deeply(\@codes, [401, 401, 503],
              'three sign-ins at once: two verified (401), one 503');
    my ($busy) = grep { $_->[0] == 503 } @r;
    like($busy ? $busy->[1] : '', qr/^Retry-After: 1\r$/mi,
         '... the 503 says when to retry');
}

# and the worker is whole afterwards
is((status_of(send_req('GET', $meta)))[0], 200, 'the worker still serves');
{
    open my $fh, '<', "$SQTest::DIR/backend.log" or die "backend.log: $!";
    local $/;
    my $log = <$fh>;
    unlike($log, qr/signal|abort|cannot (start|wait)/i,
           'no crash, no thread failure');
    like($log, qr/signin: 2 verifies running, one more refused/,
         'the 503 logged');
}

done_testing();
