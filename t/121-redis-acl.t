# Redis ACL users (redis/users.acl.in, the lines README's "Redis
# hardening" gives): the edge as sq-edge and the backend and sqctl as
# sq-backend can do all they do (sqctl init and the seeding ran as
# sq-backend before this file's first line), and nothing much else.

use strict;
use warnings;

use lib 't/lib';
use SQTest acl => 1;
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(
    cache => 'sqacl:1m ttl=60s negative_ttl=60s',
    locations => [SQTest::guarded('/e/', 'echo'),
                  SQTest::guarded('/v1/', 'backend')]), 2);

# redis-cli as one of the users
sub as {
    my ($who, @cmd) = @_;
    my $file = $SQTest::PASS{$who};
    open my $fh, '<', $file or die "$file: $!";
    my @l = grep { /\S/ } <$fh>;
    close $fh;
    s/\s+//g for @l;
    local $ENV{REDISCLI_AUTH} = $l[-1];
    my ($out) = SQTest::run_capture('sh', '-c',
        'u=$1; shift; exec redis-cli -p "$0" --user "$u" "$@" 2>&1',
        $SQTest::PORT{redis}, "sq-$who", @cmd);
    return $out;
}

like(SQTest::redis_cli('ACL', 'LIST'), qr/^user sq-edge on /m,
     'the users come from the aclfile');

# the edge: lookups, the invalidation link (CONFIG GET, PSUBSCRIBE) and
# the cache it makes trustworthy
my $ws1 = "/e/x?workspace_id=$T->{ws1}";
my $ws2 = "/e/x?workspace_id=$T->{ws2}";
ok(SQTest::poll_request($base, $ws1, $T->{alice_key},
                        sub { $_[0] == 200 && $_[1] eq 'HIT' }),
   'sq-edge: allowed, and cached (the invalidation link is subscribed)');
ok(SQTest::poll_request($base, $ws2, $T->{alice_key},
                        sub { $_[0] == 200 && $_[1] eq 'HIT' }),
   'a second workspace cached');
is((SQTest::cache_get($base, 'GET', "/e/x?workspace_id=$T->{wsb}",
                      $T->{alice_key}))[0], 403, 'a foreign workspace: 403');

# the backend and sqctl as sq-backend; the change reaches the edge
sqctl('member', 'remove', '--workspace', $T->{ws2}, '--user', $T->{alice});
ok(SQTest::poll_request($base, $ws2, $T->{alice_key},
                        sub { $_[0] == 403 }, 2),
   'sqctl as sq-backend: a removed member is refused at once');

my ($r, $d) = SQTest::api($base, $T->{alice_key}, 'GET', '/v1/me');
is($r->{status}, 200, 'sq-backend: GET /v1/me');
($r, $d) = SQTest::api($base, $T->{alice_key}, 'POST',
                       "/v1/social/accounts?workspace_id=$T->{ws1}",
                       { platform => 'twitter', handle => '@acl_test' });
is($r->{status}, 201, 'sq-backend: a create (FCALL of a write function)')
    or diag($r->{content}, "\n", SQTest::redis_cli(qw(ACL LOG)));
# a list of one workspace: MULTI SISMEMBER ZRANGEBYSCORE EXEC, then HMGET
# of the renderings (perf4; a refusal would fall back to the function
# call, so the ACL log below is what shows they were allowed)
($r) = SQTest::api($base, $T->{alice_key}, 'GET',
                   "/v1/social/accounts?workspace_id=$T->{ws1}");
is($r->{status}, 200, 'sq-backend: a list of one workspace');
like($r->{content}, qr/"handle": "\@acl_test"/, '... with the new account');
($r, $d) = SQTest::api($base, $T->{alice_key}, 'POST', '/v1/keys',
                       { name => 'acl', scopes => ['articles:read'] });
is($r->{status}, 201, 'sq-backend: POST /v1/keys') or diag($r->{content});

# the edge's usage writes land
my $usage = '';
for (1 .. 40) {
    $usage = SQTest::redis_cli('--scan', '--pattern', 'sq:usage:*');
    last if $usage ne '';
    sleep 0.1;
}
isnt($usage, '', 'sq-edge: usage counts written');
isnt(SQTest::redis_cli('--scan', '--pattern', 'sq:keyuse:*'), '',
     'sq-edge: last-used written');

# a backend restart: FUNCTION LOAD at start, as sq-backend
SQTest::backend_kill();
SQTest::backend_start();
($r) = SQTest::api($base, $T->{alice_key}, 'GET', '/v1/me');
is($r->{status}, 200, 'sq-backend: FUNCTION LOAD at start');

# nothing was refused along the way
my $log = SQTest::nginx_error_log();
unlike($log, qr/NOPERM|NOAUTH|WRONGPASS|refused/, 'no refusal in the edge log');
open my $fh, '<', "$SQTest::DIR/backend.log" or die $!;
my $blog = do { local $/; <$fh> };
close $fh;
unlike($blog, qr/NOPERM|NOAUTH|WRONGPASS|refused/,
       'no refusal in the backend log');
is(SQTest::redis_cli('ACL', 'LOG'), '', 'and none in the ACL log');

# least privilege
my $key = SQTest::redis_cli('--scan', '--pattern', 'sq:key:*');
($key) = split /\n/, $key;
like(as('edge', 'HSET', $key, 'status', 'active'), qr/NOPERM/,
     'sq-edge cannot write a key record');
like(as('edge', 'HGETALL', 'sq:user:{u1}'), qr/NOPERM/,
     'sq-edge cannot read outside sq:key:* and members');
like(as('edge', 'FCALL', 'sq_authz', '2', $key, '', '0', ''), qr/NOPERM/,
     'sq-edge cannot FCALL (only FCALL_RO)');
like(as('edge', 'CONFIG', 'SET', 'notify-keyspace-events', ''), qr/NOPERM/,
     'sq-edge cannot CONFIG SET');
like(as('edge', 'SUBSCRIBE', 'other'), qr/NOPERM/,
     'sq-edge cannot listen elsewhere');
for my $cmd (['FLUSHALL'], ['CONFIG', 'SET', 'appendonly', 'no'],
             ['DEBUG', 'SLEEP', '0'], ['KEYS', '*'], ['FUNCTION', 'FLUSH'],
             ['SET', 'other', '1']) {
    like(as('backend', @$cmd), qr/NOPERM|DEBUG command not allowed/,
         "sq-backend cannot $cmd->[0]");
}

done_testing();
