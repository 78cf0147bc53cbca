# Redis down, frozen or erroring: the edge fails closed with 503
# envelopes, never blocks its worker, survives clients that give up, and
# recovers by itself when Redis is back, with no nginx restart.
#
# Test::Nginx restarts nginx for every block, so this file drives one
# long-lived nginx itself (SQTest::nginx_start).

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use IO::Select;
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(locations => [
    SQTest::guarded('/v1/', 'echo', 'smartlyq_redis_timeout 100ms;'),
    SQTest::guarded('/slow/', 'echo', 'smartlyq_redis_timeout 1500ms;',
                    'smartlyq_retry_after 3s;'),
    qq{location = /free {\n    return 200 "free\\n";\n}},
]));

my $http = SQTest::http();
my $auth = SQTest::bearer($T->{alice_key});
my $port = $SQTest::PORT{nginx};
my $unavailable = '{"success": false, "error": {"code": '
    . '"SERVICE_UNAVAILABLE", "message": "Authorization is temporarily '
    . 'unavailable. Retry shortly."}}';

sub get { return $http->get("$base$_[0]", { headers => $auth }) }

sub raw_request {
    my ($path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
        or die "connect: $!";
    print $s "GET $path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
           . "Authorization: Bearer $T->{alice_key}\r\n\r\n";
    return $s;
}

sub eventually_200 {
    my $ok = 0;
    for (1 .. 250) {
        if (get('/v1/me')->{status} == 200) { $ok = 1; last }
        sleep 0.02;
    }
    return $ok;
}

my $r = get('/v1/me');
is($r->{status}, 200, 'baseline: allowed while Redis is up');

# --- Redis killed -----------------------------------------------------
SQTest::redis_kill();

my %seen;
for (1 .. 20) {
    $r = get("/v1/social/accounts?workspace_id=$T->{ws1}");
    $seen{$r->{status}}++;
}
is_deeply(\%seen, { 503 => 20 }, 'Redis down: every request 503, none 200');
is($r->{content}, $unavailable, '503 carries the JSON envelope');
is($r->{headers}{'retry-after'}, '1', 'Retry-After: 1 by default');
is($r->{headers}{'content-type'}, 'application/json', 'JSON content type');

$r = $http->get("$base/slow/me", { headers => $auth });
is($r->{headers}{'retry-after'}, '3', 'smartlyq_retry_after sets it');

# --- Redis back: recovery without touching nginx ----------------------
my $master = SQTest::pid_of('nginx');
SQTest::redis_start();
ok(eventually_200(), 'Redis back: the edge recovers by itself');
is(SQTest::pid_of('nginx'), $master, 'same nginx, no restart');
ok(kill(0, $master), 'nginx master still running');

# --- Redis frozen: the worker keeps serving other locations ------------
SQTest::redis_freeze();

my $pending = raw_request('/slow/me');
sleep 0.2;      # the check is now waiting on the frozen Redis
my $free = $http->get("$base/free");
my $still_waiting = !IO::Select->new($pending)->can_read(0);
is($free->{status}, 200, 'frozen Redis: a location without smartlyq answers');
ok($still_waiting,
   '... while the guarded request on the same worker is still pending');

my $reply = do { local $/; <$pending> };
like($reply, qr{^HTTP/1\.1 503 }, 'the pending request then fails closed');
like($reply, qr/SERVICE_UNAVAILABLE/, '... with the envelope');

$r = get('/v1/me');
is($r->{status}, 503, 'frozen: a 100ms-timeout location gets 503');

# --- clients that give up while their check is pending -----------------
for (1 .. 30) {
    my $s = raw_request('/slow/me');
    close $s;
}
for (1 .. 10) {
    my $s = raw_request('/v1/me');
    shutdown $s, 2;
}
sleep 0.3;
SQTest::redis_thaw();

ok(eventually_200(), 'thawed: allowed again');
is($http->get("$base/free")->{status}, 200, 'worker alive after aborts');

# --- Redis answers with an error (library gone): fail closed -------------
SQTest::redis_cli('FUNCTION', 'DELETE', 'smartlyq');
$r = get('/v1/me');
is($r->{status}, 503, 'a Redis error reply is a 503, not a pass');
SQTest::sqctl('init', '--functions', "$SQTest::ROOT/redis/smartlyq.lua");
ok(eventually_200(), 'function library back: allowed again');

# --- what the worker logged ---------------------------------------------
my $log = SQTest::nginx_error_log();
unlike($log, qr/exited on signal|\[alert\]|\[emerg\]/,
       'no crashed worker, no alert');
like($log, qr/smartlyq: redis (connect|link)/, 'link failures are logged');
like($log, qr/smartlyq: redis error: "ERR Function not found"/,
     'the Redis error is logged');
my $body = substr($T->{alice_key}, 9);
unlike($log, qr/\Q$body\E/, 'the key is not in the error log');

done_testing();
