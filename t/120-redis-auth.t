# Redis hardening: Redis runs with protected-mode and a password, without
# DEBUG; a wrong password fails closed in the edge (503, logged without
# the password) and fails clearly in sqctl and the backend.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use Test::More;
use Time::HiRes qw(sleep);

my $T = $SQTest::T;
my $dir = $SQTest::DIR;
my $right = SQTest::redis_password();
my $wrong = SQTest::new_secret();
SQTest::write_secret("$dir/wrong-password", "$wrong\n");

# the configuration in effect
is(SQTest::redis_cli('CONFIG', 'GET', 'protected-mode'),
   "protected-mode\nyes", 'protected-mode yes');
like(SQTest::redis_cli('CONFIG', 'GET', 'requirepass'),
     qr/^requirepass\n[0-9a-f]{64}$/, 'requirepass in effect');

my ($out) = SQTest::run_capture('sh', '-c',
    'REDISCLI_AUTH= exec redis-cli -p "$0" ping 2>&1', $SQTest::PORT{redis});
like($out, qr/NOAUTH/, 'no password: refused');

like(SQTest::redis_cli('DEBUG', 'SLEEP', '0'), qr/DEBUG command not allowed/,
     'DEBUG is refused under redis/redis.conf');

# sqctl: a clear error, never the password
{
    local $ENV{SMARTLYQ_REDIS} = "127.0.0.1:$SQTest::PORT{redis}";
    local $ENV{SMARTLYQ_REDIS_PASSWORD_FILE} = "$dir/wrong-password";
    my ($err, $rc) = SQTest::run_capture('sh', '-c',
        'exec "$0" user create --email eve@example.com --name Eve 2>&1',
        "$SQTest::BUILD/sqctl");
    isnt($rc, 0, 'sqctl with a wrong password fails');
    like($err, qr/^sqctl: redis: AUTH refused: WRONGPASS/m,
         'sqctl says AUTH was refused');
    unlike($err, qr/\Q$wrong\E|\Q$right\E/, 'sqctl prints no password');

    local $ENV{SMARTLYQ_REDIS_PASSWORD_FILE} = "$dir/pepper.none";
    ($err, $rc) = SQTest::run_capture('sh', '-c',
        'exec "$0" user create --email eve@example.com --name Eve 2>&1',
        "$SQTest::BUILD/sqctl");
    like($err, qr/--redis-password-file: cannot open/,
         'sqctl names a missing password file');
}

# the edge: every link refused, requests fail closed, the log says why
my $base;
{
    local $SQTest::PASS{edge} = "$dir/wrong-password";
    $base = SQTest::nginx_start(
        SQTest::indent(SQTest::cache_zone('sq:1m'))
        . SQTest::server_conf(locations => [SQTest::guarded('/e/', 'echo')]),
        2);
}

my $r;
for (1 .. 3) {
    $r = SQTest::http()->get("$base/e/x",
                             { headers => SQTest::bearer($T->{alice_key}) });
    last if $r->{status} == 503;
    sleep 0.1;
}
is($r->{status}, 503, 'wrong password: 503');
like($r->{content}, qr/"code": "SERVICE_UNAVAILABLE"/, 'an envelope');

my $log = SQTest::nginx_error_log();
like($log, qr/redis AUTH as user "default" refused: WRONGPASS/,
     'the refused AUTH is logged');
unlike($log, qr/\Q$wrong\E|\Q$right\E/, 'no password in the error log');
SQTest::reap('nginx', 'QUIT');

# the backend: logs the refusal, answers 503 behind a working edge
my $bport = SQTest::free_port();
SQTest::spawn('backend2', "$dir/backend2.log", "$SQTest::BUILD/smartlyq-backend",
              '--listen', "127.0.0.1:$bport",
              '--redis', "127.0.0.1:$SQTest::PORT{redis}",
              '--signing-key-file', "$dir/signing",
              '--redis-password-file', "$dir/wrong-password",
              '--functions', "$SQTest::ROOT/redis/smartlyq.lua");
SQTest::wait_until('backend2 start', sub { SQTest::port_open($bport) });

$base = SQTest::nginx_start(SQTest::server_conf(
    http => "upstream backend2 {\n    server 127.0.0.1:$bport;\n}",
    locations => [SQTest::guarded('/v1/', 'backend2'),
                  SQTest::guarded('/e/', 'echo')]));
$r = SQTest::http()->get("$base/v1/me",
                         { headers => SQTest::bearer($T->{alice_key}) });
is($r->{status}, 503, 'backend with a wrong password: 503');

open my $fh, '<', "$dir/backend2.log" or die $!;
my $blog = do { local $/; <$fh> };
close $fh;
like($blog, qr/redis connect: AUTH refused: WRONGPASS/,
     'the backend logs the refused AUTH');
unlike($blog, qr/\Q$wrong\E|\Q$right\E/, 'no password in the backend log');
SQTest::reap('backend2', 'TERM');

# and with the right password all of it works
$r = SQTest::http()->get("$base/e/x",
                         { headers => SQTest::bearer($T->{alice_key}) });
is($r->{status}, 200, 'the edge itself authenticates');
like($r->{content}, qr/^user=$T->{alice} /, 'as Alice');

done_testing();
