# Acknowledged writes survive kill -9: two clients stream creates through
# the edge and the backend while Redis (rounds 1, 3, 5), the backend
# (rounds 2, 4) and both (round 5) are killed with SIGKILL and restarted,
# five rounds.  Afterwards every create that got a 201 is in Redis with
# its title in its workspace, no title is stored twice, and every answer
# was a 201 or an error envelope (502/503/504), never a hang.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use SQLoad;
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(
    locations => [SQTest::guarded('/v1/', 'backend')]), 2);
my $port = $SQTest::PORT{nginx};
my $ws = $T->{ws1};

my $n = 0;
my @requests = ({
    name => 'create', key => $T->{alice_key}, method => 'POST',
    path => "/v1/articles?workspace_id=$ws",
    body => sub { $n++; qq({"title": "d-$$-$n"}) },
    want => sub {
        my ($s, $b) = @_;
        return ($s == 201 && $b =~ /"id": \d+/)
            || ($s =~ /^50[234]$/ && $b =~ /^\{"success": false, "error"/);
    },
    tag => sub {
        my ($s, $b, $body) = @_;
        my ($title) = $body =~ /"title": "([^"]+)"/;
        my ($id) = $s == 201 ? $b =~ /"id": (\d+)/ : ();
        return "$title:" . ($id // '-');
    },
});

my $load = SQLoad::start(port => $port, clients => 2, requests => \@requests,
                         hang => 5);

sub wait_serving {
    my $t0 = time;
    SQTest::wait_until('the stack serves again', sub {
        my ($r) = SQTest::api($base, $T->{alice_key}, 'GET', '/v1/me');
        $r->{status} == 200;
    }, 10);
    return time - $t0;
}

my (@kills, @waits);
for my $round (1 .. 5) {
    sleep 0.8;
    my @what = $round == 5 ? ('redis', 'backend')
             : $round % 2 ? ('redis') : ('backend');
    SQTest::redis_kill() if grep { $_ eq 'redis' } @what;
    SQTest::backend_kill() if grep { $_ eq 'backend' } @what;
    sleep 0.3;
    SQTest::redis_start() if grep { $_ eq 'redis' } @what;
    SQTest::backend_start() if grep { $_ eq 'backend' } @what;
    push @kills, join('+', @what);
    push @waits, sprintf("%.2f", wait_serving());
}
sleep 0.5;
my @rec = SQLoad::stop($load);

my %acked;
my %status;
for my $r (@rec) {
    $status{$r->[2]}++;
    my ($title, $id) = split /:/, $r->[5];
    $acked{$title} = $id if $r->[2] == 201;
}

# what Redis holds now, after the restarts
my %stored;
my $dupes = 0;
my @ids = split /\n/, SQTest::redis_cli('ZRANGE', "sq:ws:{w$ws}:articles", 0, -1);
my $cmds = "$SQTest::DIR/hget.txt";
open my $fh, '>', $cmds or die $!;
print {$fh} "HGET sq:ws:{w$ws}:rec:article:$_ title\n" for @ids;
close $fh;
my ($titles) = do {
    local %ENV = (%ENV, SQTest::redis_cli_env());
    SQTest::run_capture('sh', '-c', 'exec redis-cli -p "$0" < "$1"',
                        $SQTest::PORT{redis}, $cmds);
};
my @titles = split /\n/, $titles;
is(scalar @titles, scalar @ids, 'one title per stored id');
for my $i (0 .. $#ids) {
    $dupes++ if exists $stored{$titles[$i]};
    $stored{$titles[$i]} = $ids[$i];
}

my $lost = grep { !defined $stored{$_} || $stored{$_} ne $acked{$_} }
           keys %acked;
my $extra = grep { /^d-/ && !exists $acked{$_} } keys %stored;

cmp_ok(scalar keys %acked, '>', 100, scalar(keys %acked)
       . ' creates acknowledged across 5 kill -9 rounds (' . join(', ', @kills)
       . ')');
is($lost, 0, 'every acknowledged create is stored, with its id');
is($dupes, 0, 'no create stored twice');
my @bad = grep { !$_->[4] } @rec;
is(scalar @bad, 0, 'every answer a 201 or an error envelope') or diag(join "\n",
   map { "@$_" } @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
is(scalar(grep { $_->[2] == 0 } @rec), 0, 'no request hung');

diag('kill -9 writes: ' . scalar(@rec) . ' creates sent, by status: '
     . join(', ', map { "$_: $status{$_}" } sort keys %status)
     . "; acked " . scalar(keys %acked) . ", lost $lost, duplicates $dupes, "
     . "stored without an ack $extra; back after @waits s");

my $log = SQTest::nginx_error_log();
unlike($log, qr/exited on signal|\[alert\]|\[emerg\]/, 'no crashed worker');

done_testing();
