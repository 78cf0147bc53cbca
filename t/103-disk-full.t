# Disk full: Redis's directory moves to a 2 MB tmpfs (in a mount
# namespace this file makes for itself), and Alice creates 40 KB articles
# until it is full.  Every create is a 201 or an error envelope (502/503),
# never a hang; once the disk is full, creates stop being acknowledged.
# Then the disk grows, Redis is restarted from the same AOF, and every
# create that got a 201 is there: no false 201.  Creates work again.

use strict;
use warnings;

BEGIN {
    if (!$ENV{SQ_MNTNS}) {
        if ($> == 0 && system('unshare -m true >/dev/null 2>&1') == 0) {
            $ENV{SQ_MNTNS} = 1;
            exec('unshare', '-m', '--propagation', 'private', $^X, $0,
                 @ARGV);
        }
        print "1..0 # SKIP needs root and unshare -m\n";
        exit 0;
    }
}

use lib 't/lib';
use SQTest;
use File::Copy qw(copy);
use File::Path qw(make_path);
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(
    locations => [SQTest::guarded('/v1/', 'backend')]));

sub sh { system(@_) == 0 or die "@_ failed\n" }

my $tiny = "$SQTest::DIR/tiny";
END {
    SQTest::reap('redis', 'KILL');
    system('umount', '-l', $tiny) if -d $tiny;
}

# Redis, stopped cleanly, moves to the small disk with its AOF
make_path($tiny);
SQTest::reap('redis', 'TERM');
sh('mount', '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', $tiny);
sh('cp', '-a', "$SQTest::REDIS_DIR/.", $tiny);
$SQTest::REDIS_DIR = $tiny;
SQTest::redis_start();
SQTest::wait_until('the backend back on Redis', sub {
    my ($r) = SQTest::api($base, $T->{alice_key}, 'GET', '/v1/me');
    $r->{status} == 200;
});

my $body = 'x' x 40000;
my (%acked, %status, $first_fail, $fails_after);
my $t0 = time;
for my $i (1 .. 200) {
    my $t1 = time;
    my ($r, $d) = SQTest::api($base, $T->{alice_key}, 'POST',
                              "/v1/articles?workspace_id=$T->{ws1}",
                              { title => "full-$i", body => $body });
    my $dt = time - $t1;
    $status{$r->{status}}++;
    if ($r->{status} == 201) {
        $acked{"full-$i"} = $d->{data}{id};
    } else {
        like($r->{content}, qr/^\{"success": false, "error": \{"code": "(BAD_GATEWAY|SERVICE_UNAVAILABLE)"/,
             "create $i: $r->{status} envelope")
            unless $first_fail && $i > $first_fail + 3;
        cmp_ok($dt, '<', 3, "create $i answered in time")
            unless $first_fail && $i > $first_fail + 3;
        $first_fail //= $i;
        $fails_after++;
    }
    last if $fails_after && $fails_after >= 20;
}
ok($first_fail, "the disk filled up at create $first_fail");
cmp_ok(scalar keys %acked, '>', 10, scalar(keys %acked) . ' creates acknowledged before');
my $after = grep { /(\d+)/ && $1 > $first_fail } keys %acked;
is($after, 0, 'no 201 once the disk was full');
my $rlog = do { local (@ARGV, $/) = ("$SQTest::DIR/redis.log"); <> };
my ($why) = $rlog =~ /(Can't recover from AOF write error[^\n]*|Error writing to the AOF file[^\n]*|MISCONF[^\n]*)/;

# more room, and Redis restarted on the same files
sh('mount', '-o', 'remount,size=64m', $tiny);
SQTest::reap('redis', 'KILL');
SQTest::redis_start();
SQTest::wait_until('creates again', sub {
    my ($r) = SQTest::api($base, $T->{alice_key}, 'POST',
                          "/v1/articles?workspace_id=$T->{ws1}",
                          { title => 'after' });
    $r->{status} == 201;
}, 10);
pass('room again: creates get 201');

my $lost = 0;
for my $title (sort keys %acked) {
    my $got = SQTest::redis_cli('HGET', "sq:ws:{w$T->{ws1}}:rec:article:$acked{$title}", 'title');
    $lost++ unless $got eq $title;
}
is($lost, 0, 'no false 201: every acknowledged create survived');

diag("disk full: statuses " . join(', ', map { "$_: $status{$_}" } sort keys %status)
     . "; first refusal at create $first_fail, acked " . scalar(keys %acked)
     . ", $after after the first refusal, lost $lost; redis: "
     . ($why // 'no AOF error logged'));

my $log = SQTest::nginx_error_log();
diag(join "\n", grep { /\[(error|crit)\]/ } split /\n/, $log) if $ENV{SQ_DEBUG};
unlike($log, qr/exited on signal|\[alert\]|\[emerg\]/, 'no crashed worker');

done_testing();
