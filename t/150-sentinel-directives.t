# Issue 15: the directives of a replicated Redis, parsed (nginx -t):
# smartlyq_redis_sentinel host:port ... master=NAME [role=replica|master]
# [prefer=host:port], smartlyq_redis_sentinel_password_file, and
# smartlyq_redis_write; every error they give, and their conflicts with
# smartlyq_redis.  Then smartlyq_redis_write at work: lookups on one
# Redis, the usage flush on another.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use Test::More;
use File::Path qw(make_path);
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $dir = "$SQTest::DIR/conftest";
make_path("$dir/logs");

my $pass = $SQTest::PASS{edge};
my $spass = "$SQTest::DIR/sentinel-password";
SQTest::write_secret($spass, SQTest::new_secret() . "\n");
SQTest::write_secret("$SQTest::DIR/bad-password", "not hex\n");

# nginx -t on an http block holding $redis (the Redis directives) and a
# location with smartlyq on: (exit status, what it printed)
sub conftest {
    my ($redis, $extra) = @_;
    $extra //= '';
    open my $fh, '>', "$dir/nginx.conf" or die $!;
    print $fh <<"CONF";
load_module $SQTest::BUILD/ngx_http_smartlyq_module.so;
error_log $dir/logs/error.log;
pid $dir/logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    $redis
    $extra
    smartlyq_key_pepper_file $SQTest::DIR/pepper;
    smartlyq_signing_key_file $SQTest::DIR/signing;
    server {
        listen 127.0.0.1:1;
        location / { smartlyq on; return 204; }
    }
}
CONF
    close $fh;
    # the nginx the suite runs (make asan: scripts/nginx-asan, which
    # preloads the ASan runtime the module was built against)
    my ($out, $rc) = SQTest::run_capture('sh', '-c',
        'exec "$1" -t -q -p "$0" -c "$0/nginx.conf" 2>&1', $dir,
        $ENV{TEST_NGINX_BINARY} || 'nginx');
    return ($rc, $out);
}

sub conf_ok {
    my ($redis, $name, $extra) = @_;
    my ($rc, $out) = conftest($redis, $extra);
    is($rc, 0, "accepted: $name") or diag $out;
}

sub conf_err {
    my ($redis, $re, $name, $extra) = @_;
    my ($rc, $out) = conftest($redis, $extra);
    isnt($rc, 0, "refused: $name");
    like($out, $re, "... saying why: $name");
}

my $s3 = '127.0.0.1:26001 127.0.0.1:26002 127.0.0.1:26003';

# --- accepted -----------------------------------------------------------
conf_ok("smartlyq_redis_sentinel $s3 master=sqm;", 'three sentinels');
conf_ok("smartlyq_redis_sentinel 127.0.0.1 master=sqm role=master;",
        'role=master, the default port');
conf_ok("smartlyq_redis_sentinel $s3 master=sqm role=replica "
        . "prefer=127.0.0.1:7001;", 'role=replica, prefer=');
conf_ok("smartlyq_redis_sentinel $s3 master=sqm;\n"
        . "smartlyq_redis_sentinel_password_file $spass;\n"
        . "smartlyq_redis_password_file $pass;", 'both password files');
conf_ok("smartlyq_redis 127.0.0.1:7001;\n"
        . "smartlyq_redis_write 127.0.0.1:7002;", 'smartlyq_redis_write');
conf_ok("smartlyq_redis_write 127.0.0.1:7002;\n"
        . "smartlyq_redis 127.0.0.1:7001;",
        'smartlyq_redis_write before smartlyq_redis');

# --- smartlyq_redis_sentinel's errors -----------------------------------
conf_err("smartlyq_redis_sentinel $s3;", qr/needs master=NAME/,
         'no master=');
conf_err("smartlyq_redis_sentinel $s3 master=;", qr/empty master=/,
         'an empty master=');
conf_err("smartlyq_redis_sentinel $s3 master=a master=b;",
         qr/duplicate master=/, 'master= twice');
conf_err("smartlyq_redis_sentinel $s3 master=sqm role=leader;",
         qr/invalid role "leader", expected replica or master/, 'a bad role');
conf_err("smartlyq_redis_sentinel $s3 master=sqm role=;",
         qr/invalid role ""/, 'an empty role');
conf_err("smartlyq_redis_sentinel master=sqm;",
         qr/needs at least one sentinel address/, 'no sentinel');
conf_err("smartlyq_redis_sentinel 127.0.0.1:notaport master=sqm;",
         qr/invalid sentinel address "127.0.0.1:notaport"/, 'a bad address');
conf_err("smartlyq_redis_sentinel unix:/tmp/s.sock master=sqm;",
         qr/invalid sentinel address "unix:/, 'a unix socket');
conf_err("smartlyq_redis_sentinel $s3 master=sqm colour=blue;",
         qr/invalid parameter "colour=blue"/, 'an unknown parameter');
conf_err("smartlyq_redis_sentinel $s3 master=sqm prefer=127.0.0.1:x;",
         qr/invalid prefer= address/, 'a bad prefer=');
conf_err("smartlyq_redis_sentinel $s3 master=sqm prefer=127.0.0.1:7001 "
         . "prefer=127.0.0.1:7002;", qr/duplicate prefer=/, 'prefer= twice');
conf_err("smartlyq_redis_sentinel $s3 master=sqm role=master "
         . "prefer=127.0.0.1:7001;",
         qr/cannot have prefer= with role=master/, 'prefer= with a master');
conf_err("smartlyq_redis_sentinel $s3 master=sqm;\n"
         . "smartlyq_redis_sentinel $s3 master=sqm;",
         qr/"smartlyq_redis_sentinel" directive is duplicate/, 'twice');

# --- conflicts ----------------------------------------------------------
conf_err("smartlyq_redis 127.0.0.1:7001;\n"
         . "smartlyq_redis_sentinel $s3 master=sqm;",
         qr/"smartlyq_redis_sentinel" directive cannot be used with "smartlyq_redis"/,
         'smartlyq_redis, then smartlyq_redis_sentinel');
conf_err("smartlyq_redis_sentinel $s3 master=sqm;\n"
         . "smartlyq_redis 127.0.0.1:7001;",
         qr/"smartlyq_redis" directive cannot be used with "smartlyq_redis_sentinel"/,
         'smartlyq_redis_sentinel, then smartlyq_redis');
conf_err("smartlyq_redis_sentinel $s3 master=sqm;\n"
         . "smartlyq_redis_write 127.0.0.1:7002;",
         qr/"smartlyq_redis_write" cannot be used with "smartlyq_redis_sentinel"/,
         'smartlyq_redis_write with Sentinel');
conf_err('', qr/"smartlyq_redis" is not set in the http block \(nor "smartlyq_redis_sentinel"\)/,
         'smartlyq on with no Redis at all');

# --- the password file --------------------------------------------------
conf_err("smartlyq_redis_sentinel $s3 master=sqm;\n"
         . "smartlyq_redis_sentinel_password_file $SQTest::DIR/nope;",
         qr/nope/, 'a password file that is not there');
conf_err("smartlyq_redis_sentinel $s3 master=sqm;\n"
         . "smartlyq_redis_sentinel_password_file $SQTest::DIR/bad-password;",
         qr/bad-password/, 'a password file that holds no password');
conf_err("smartlyq_redis 127.0.0.1:7001;\n"
         . "smartlyq_redis_sentinel_password_file $spass;",
         qr/"smartlyq_redis_sentinel_password_file" needs "smartlyq_redis_sentinel"/,
         'a sentinel password file without Sentinel');
conf_err("smartlyq_redis_sentinel $s3 master=sqm;\n"
         . "smartlyq_redis_sentinel_password_file $spass;\n"
         . "smartlyq_redis_sentinel_password_file $spass;",
         qr/"smartlyq_redis_sentinel_password_file" directive is duplicate/,
         'the password file twice');

# --- smartlyq_redis_write's errors --------------------------------------
conf_err("smartlyq_redis 127.0.0.1:7001;\n"
         . "smartlyq_redis_write 127.0.0.1:7002;\n"
         . "smartlyq_redis_write 127.0.0.1:7003;",
         qr/"smartlyq_redis_write" directive is duplicate/,
         'smartlyq_redis_write twice');
conf_err("smartlyq_redis 127.0.0.1:7001;\n"
         . "smartlyq_redis_write 127.0.0.1:port;",
         qr/invalid redis write address/, 'a bad write address');
conf_err("smartlyq_redis_write 127.0.0.1:7002;",
         qr/"smartlyq_redis_write" needs "smartlyq_redis"/,
         'smartlyq_redis_write alone');

# --- smartlyq_redis_write at work ---------------------------------------
# lookups on SQTest's Redis; the usage flush on another one (its own
# dir, the same passwords)
my $wport = SQTest::free_port();
SQTest::redis_start_other('redis_w', $wport, "$SQTest::DIR/redis-w");

my $redis = "smartlyq_redis 127.0.0.1:$SQTest::PORT{redis};\n"
            . "    smartlyq_redis_write 127.0.0.1:$wport;";
my $base = SQTest::nginx_start(<<"CONF", 1, { redis => $redis });
    server {
        listen 127.0.0.1:\$PORT;
        location / {
            smartlyq on;
            proxy_pass http://echo;
        }
    }
CONF

my $http = SQTest::http();
my $r = $http->get("$base/v1/x?workspace_id=$T->{ws1}",
                   { headers => SQTest::bearer($T->{alice_key}) });
is($r->{status}, 200, 'a lookup on smartlyq_redis: allowed');

my $on_w = sub {
    local $SQTest::PORT{redis} = $wport;
    return redis_cli('--scan', '--pattern', 'sq:usage:*');
};
ok(eval { SQTest::wait_until('usage on the write Redis',
                             sub { $on_w->() ne '' }, 5) },
   'the usage flush went to smartlyq_redis_write');
is(redis_cli('--scan', '--pattern', 'sq:usage:*'), '',
   '... and not to smartlyq_redis');

SQTest::reap('redis_w', 'TERM');
done_testing;
