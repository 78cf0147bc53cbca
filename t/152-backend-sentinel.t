# issue 15: the backend and sqctl find the Redis primary through Sentinel
# and answer a write only once WAIT says a replica has it.
#
# A primary, two replicas and three Sentinels (t/lib/SQCluster.pm); the
# backend runs with --redis-sentinel and no --redis; the edge reads from
# replica 1, which stays up throughout (whichever node Sentinel promotes,
# replica 1 keeps answering the edge's lookups).  Then:
#   - flags: --redis and --redis-sentinel together, no --redis-master,
#     a bad list: refused at start;
#   - creates answer 201 and the record is on both replicas (WAIT 1);
#   - a second backend asking WAIT 3 of two replicas answers 503
#     WRITE_NOT_REPLICATED with Retry-After, and the write is on the primary
#     anyway (the documented "may still have been applied");
#   - sqctl through Sentinel (no --redis) writes, WAITs, and fails when
#     too few replicas confirm;
#   - kill -9 the primary: until Sentinel promotes a replica, every create
#     gets a 503 envelope (never a 201), then creates get 201 again with
#     no restart; every acknowledged create is on the new primary.

use strict;
use warnings;

use lib 't/lib';
use SQTest own_redis_conf => 1;
use SQCluster;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $c = SQCluster::start(replicas => 2, sentinels => 3);
my $sentinels = join ',', map { "127.0.0.1:$_" } @{ $c->{sentinels} };
my ($rep1, $rep2) = @{ $c->{replicas} };
my $old = $c->{primary};
my $DIR = $SQTest::DIR;
my $BUILD = $SQTest::BUILD;

sub backend_args {
    my ($port, @more) = @_;
    return ("$BUILD/smartlyq-backend", '--listen', "127.0.0.1:$port",
            '--signing-key-file', "$DIR/signing",
            '--pepper-file', "$DIR/pepper",
            '--redis-password-file', $SQTest::PASS{backend},
            '--functions', "$SQTest::ROOT/redis/smartlyq.lua", @more);
}

my @sentinel_flags = ('--redis-sentinel', $sentinels, '--redis-master',
                      $c->{master}, '--sentinel-password-file',
                      $c->{sentinel_password_file});

# --- flags refused at start -------------------------------------------

for my $case (
    [ 'with --redis', '--redis', "127.0.0.1:$old", @sentinel_flags ],
    [ 'without --redis-master', '--redis-sentinel', $sentinels ],
    [ 'an empty item', '--redis-sentinel', "$sentinels,",
      '--redis-master', 'sqm' ],
    [ 'a bad master name', '--redis-sentinel', $sentinels,
      '--redis-master', 'a b' ],
    [ '--wait-replicas out of range', @sentinel_flags,
      '--wait-replicas', '17' ],
    [ '--redis-master alone', '--redis', "127.0.0.1:$old",
      '--redis-master', 'sqm' ])
{
    my ($what, @flags) = @$case;
    my $port = SQTest::free_port();
    my (undef, $rc) = SQTest::run_capture('sh', '-c',
        'exec timeout 5 "$@" 2>/dev/null', 'sh',
        backend_args($port, '--workers', '1', @flags));
    isnt($rc, 0, "backend refuses --redis-sentinel $what");
}

# --- the backend through Sentinel --------------------------------------

SQTest::reap('backend', 'TERM');
SQTest::spawn('backend', "$DIR/backend.log",
              backend_args($SQTest::PORT{backend}, '--workers', '1',
                           @sentinel_flags));
SQTest::wait_until('backend start',
                   sub { SQTest::port_open($SQTest::PORT{backend}) });

# a second one that asks more replicas than there are
my $b3 = SQTest::free_port();
SQTest::spawn('backend3', "$DIR/backend3.log",
              backend_args($b3, '--workers', '1', @sentinel_flags,
                           '--wait-replicas', '3', '--wait-timeout-ms',
                           '100'));
SQTest::wait_until('backend3 start', sub { SQTest::port_open($b3) });

# the edge reads from replica 1 (its own writes, usage, fail there: not
# what this file tests)
my $edge3 = SQTest::free_port();
my $base = do {
    local $SQTest::PORT{redis} = $rep1;
    SQTest::nginx_start(
        SQTest::server_conf(locations => [SQTest::guarded('/v1/',
                                                          'backend')])
        . SQTest::server_conf(port => $edge3, locations => [
              SQTest::guarded('/v1/', "127.0.0.1:$b3")]));
};
my $base3 = "http://127.0.0.1:$edge3";

my $n = 0;
sub create {
    my ($b) = @_;
    my $title = 'sen-' . ++$n;
    my ($r, $d) = SQTest::api($b // $base, $T->{alice_key}, 'POST',
                              "/v1/articles?workspace_id=$T->{ws1}",
                              { title => $title });
    return ($r, $d, $title);
}

ok(SQTest::wait_until('a create through Sentinel', sub {
    my ($r) = create();
    $r->{status} == 201;
}, 15), 'the backend found the primary through Sentinel: 201');

my $blog = sub { do { local (@ARGV, $/) = ("$DIR/backend.log"); <> } };
like($blog->(), qr/redis primary \(sentinel, master sqm\): 127\.0\.0\.1:$old\b/,
     'the backend logs the primary Sentinel named');

my ($r, $d, $title) = create();
is($r->{status}, 201, 'a create: 201');
my $id = $d->{data}{id};
# WAIT 1 answered before the 201: at least one replica has it now
my @have = grep { SQCluster::node_cli($_, 'HGET', "sq:ws:{w$T->{ws1}}:rec:article:$id",
                                      'title') eq $title } ($rep1, $rep2);
cmp_ok(scalar @have, '>=', 1,
       'the acknowledged create is on a replica already (WAIT 1)');

# --- WAIT falls short: 503 WRITE_NOT_REPLICATED --------------------------

($r, $d, $title) = create($base3);
is($r->{status}, 503, 'WAIT 3 of 2 replicas: 503');
is($d->{success}, JSON::PP::false(), '... an envelope');
is($d->{error}{code}, 'WRITE_NOT_REPLICATED', '... WRITE_NOT_REPLICATED');
is($r->{headers}{'retry-after'}, '1', '... with Retry-After');
my ($found) = grep { SQCluster::node_cli($old, 'HGET', $_, 'title') eq $title }
              split /\n/, SQCluster::node_cli($old, 'KEYS', 'sq:ws:*:rec:article:*');
ok($found, '... and the write is on the primary all the same (it may '
           . 'have been applied, as the message says)');

# the public (OAuth) endpoints' writes as well: a sign-in with a wrong
# password (its FCALLs count the failure) answers 401 after WAIT 1, and
# 503 when WAIT 3 of 2 falls short
sub signin_on {
    my ($port) = @_;
    my $body = 'email=nobody%40example.com&password=not-the-one';
    return SQTest::raw($port, "POST /signin HTTP/1.1\r\nHost: localhost\r\n"
        . "X-Real-IP: 10.45.0.1\r\nConnection: close\r\n"
        . "Content-Type: application/x-www-form-urlencoded\r\n"
        . 'Content-Length: ' . length($body) . "\r\n\r\n$body");
}
my ($st) = signin_on($SQTest::PORT{backend});
is($st, 401, 'a wrong sign-in through Sentinel, WAIT 1: 401');
my ($st3, $h3) = signin_on($b3);
is($st3, 503, '... through the WAIT 3 backend: 503');
is($h3->{'retry-after'}, '1', '... with Retry-After');

# --- sqctl through Sentinel -----------------------------------------------

sub sqctl_sentinel {
    my (@args) = @_;
    local $ENV{SMARTLYQ_REDIS} = '127.0.0.1:1';     # never used
    local $ENV{SMARTLYQ_REDIS_SENTINEL} = $sentinels;
    local $ENV{SMARTLYQ_REDIS_MASTER} = $c->{master};
    local $ENV{SMARTLYQ_PEPPER_FILE} = "$DIR/pepper";
    local $ENV{SMARTLYQ_REDIS_PASSWORD_FILE} = $SQTest::PASS{backend};
    return SQTest::run_capture('sh', '-c', 'exec "$@" 2>&1', 'sh',
        "$BUILD/sqctl", '--sentinel-password-file',
        $c->{sentinel_password_file}, @args);
}

my ($out, $rc) = sqctl_sentinel('workspace', 'create', '--owner',
                                $T->{alice}, '--name', 'Through Sentinel');
is($rc, 0, 'sqctl through Sentinel (env, no --redis): a write, WAIT 1');
like($out, qr/^\d+$/, '... the new workspace id');
my $wsid = $out;
my @on = grep { SQCluster::node_cli($_, 'HGET', "sq:ws:{w$wsid}", 'name')
                eq 'Through Sentinel' } ($rep1, $rep2);
cmp_ok(scalar @on, '>=', 1, '... on a replica when sqctl returns');

($out, $rc) = sqctl_sentinel('--wait-replicas', '3', '--wait-timeout-ms',
                             '100', 'workspace', 'create', '--owner',
                             $T->{alice}, '--name', 'Too few');
isnt($rc, 0, 'sqctl --wait-replicas 3 of 2: fails');
like($out, qr/WRITE_NOT_REPLICATED/, '... saying the write was not '
     . 'replicated');

($out, $rc) = sqctl_sentinel('key', 'list', '--user', $T->{alice});
is($rc, 0, 'sqctl key list through Sentinel');
like($out, qr/alice/, '... lists the keys');

# --- failover: 503s, never a false 201, then 201s without a restart ------

my (%acked, %codes, @bad);
($r, $d, $title) = create();
$acked{$title} = $d->{data}{id} if $r->{status} == 201;

SQCluster::kill_node($old);
my $t0 = time;
my ($first_ok, $fails);
while (time - $t0 < 40) {
    ($r, $d, $title) = create();
    if ($r->{status} == 201) {
        $acked{$title} = $d->{data}{id};
        $first_ok //= time - $t0 if $fails;
        last if $fails && keys(%acked) >= 5 && time - $t0 > 1;
    } else {
        $fails++;
        my $code = ref $d ? $d->{error}{code} // '?' : 'not json';
        $codes{"$r->{status} $code"}++;
        push @bad, "$r->{status} $code"
            unless $r->{status} == 503
                && $code =~ /^(SERVICE_UNAVAILABLE|WRITE_NOT_REPLICATED)$/;
    }
    sleep 0.05;
}
diag('during the failover: '
     . join(', ', map { "$_ x$codes{$_}" } sort keys %codes));
ok($fails, "the primary killed: creates refused ($fails)");
is_deeply(\@bad, [], '... every refusal a 503 envelope (SERVICE_UNAVAILABLE'
          . ' or WRITE_NOT_REPLICATED)');
ok(defined $first_ok, sprintf('creates get 201 again without a restart, '
                              . '%.1f s after the kill', $first_ok // -1));

my $new = SQCluster::primary();
isnt($new, $old, "Sentinel promoted $new");
like($blog->(), qr/redis primary \(sentinel, master sqm\): 127\.0\.0\.1:$new\b/,
     '... and the backend follows it');

my @lost = grep {
    SQCluster::node_cli($new, 'HGET', "sq:ws:{w$T->{ws1}}:rec:article:$acked{$_}", 'title') ne $_
} sort keys %acked;
is_deeply(\@lost, [], scalar(keys %acked) . ' acknowledged creates, all on '
          . 'the new primary');

done_testing();

END { SQTest::reap('backend3', 'TERM') }
