# The kernel's OOM killer, in a memory cgroup this file makes (cgroup v2
# memory.max when the memory controller is on the unified hierarchy, else
# cgroup v1 memory.limit_in_bytes), while two clients stream creates
# through the edge and the backend, and one GETs /v1/me:
#   1. the nginx worker (one, the decision cache on) is moved into the
#      cgroup, limited to 32 MB more than it holds, and sent unfinished
#      4 MB request bodies until the kernel kills it (oom_kill counted
#      by the cgroup).  The master respawns a worker: service is back
#      within 2 s, the only crash logged is that SIGKILL;
#   2. one of the backend's two worker processes likewise, with
#      unfinished 1 MB bodies sent straight to its port (the kernel spreads
#      them over both workers).  The backend's supervisor, outside the
#      cgroup, starts a new worker in its place, outside it too: service
#      is back within 2 s of the kill.
# Then every create that got a 201 is stored with its id, none twice,
# and every answer was a 201/200 or an error envelope, except requests
# in flight on the worker's connections when it was killed.  The cgroup
# is removed at the end.

use strict;
use warnings;

use lib 't/lib';
use Test::More;

# --- the memory cgroup ---------------------------------------------------------
my ($CG_ROOT, $CG, $CG_KIND, %CG_FILE, $CG_ORIG, @CG_MADE);
BEGIN {
    my @mounts = do { open my $fh, '<', '/proc/mounts' or (); <$fh> };
    my $reason = 'no writable memory cgroup (v2 or v1) under /sys/fs/cgroup';
    if ($> != 0) {
        $reason = 'needs root to make a memory cgroup';
    } else {
        for my $m (@mounts) {
            my (undef, $dir, $type, $opts) = split ' ', $m;
            next unless $dir =~ m{^/sys/fs/cgroup};
            my $try;
            if ($type eq 'cgroup2' && -r "$dir/cgroup.controllers") {
                my $c = do { local (@ARGV, $/) = ("$dir/cgroup.controllers"); <> };
                next unless $c =~ /\bmemory\b/;
                # children of the root get the controller only when it is
                # enabled in the root's subtree_control
                system("echo +memory > $dir/cgroup.subtree_control 2>/dev/null");
                $try = ['v2', $dir, 'memory.max', 'memory.current', 'memory.events'];
            } elsif ($type eq 'cgroup' && $opts =~ /(^|,)memory(,|$)/) {
                $try = ['v1', $dir, 'memory.limit_in_bytes', 'memory.usage_in_bytes',
                        'memory.oom_control'];
            }
            next unless $try;
            my $cg = "$try->[1]/sqtest-oom-$$-probe";
            if (mkdir($cg) && -w "$cg/$try->[2]") {
                rmdir $cg;
                ($CG_KIND, $CG_ROOT) = ($try->[0], $try->[1]);
                @CG_FILE{qw(max current events)} = @$try[2 .. 4];
                # where processes go back to: this process's own cgroup
                my ($own) = grep { $try->[0] eq 'v2' ? /^0::/ : /:(?:[^:]*,)?memory(?:,[^:]*)?:/ }
                            do { open my $fh, '<', '/proc/self/cgroup' or (); <$fh> };
                ($CG_ORIG) = ($own // '') =~ /:([^:\n]*)$/;
                $CG_ORIG = "$try->[1]$CG_ORIG";
                last;
            }
            rmdir $cg;
            $reason = "cannot make a memory cgroup under $dir ($!)";
        }
    }
    plan skip_all => $reason unless $CG_ROOT;
}

# a new cgroup for each process it will hold: limits and counts start afresh
sub cg_make {
    my ($tag) = @_;
    $CG = "$CG_ROOT/sqtest-oom-$$-$tag";
    mkdir $CG or die "mkdir $CG: $!\n";
    push @CG_MADE, $CG;
    return $CG;
}

sub cg_write {
    my ($file, $v) = @_;
    open my $fh, '>', "$CG/$file" or die "open $CG/$file: $!";
    my $ok = print {$fh} "$v\n";
    return close($fh) && $ok;
}
sub cg_read { my $f = "$CG/$_[0]"; return do { local (@ARGV, $/) = ($f); <> } }
sub cg_usage { my $v = cg_read($CG_FILE{current}); chomp $v; return $v }
sub cg_ooms { return cg_read($CG_FILE{events}) =~ /^oom_kill (\d+)/m ? $1 : 0 }
sub cg_limit {
    my ($bytes) = @_;
    cg_write($CG_FILE{max}, $bytes) or die "cannot set $CG_FILE{max}\n";
    # no swap to escape into
    cg_write($CG_KIND eq 'v2' ? 'memory.swap.max' : 'memory.memsw.limit_in_bytes',
             $CG_KIND eq 'v2' ? 0 : $bytes)
        if -e "$CG/" . ($CG_KIND eq 'v2' ? 'memory.swap.max' : 'memory.memsw.limit_in_bytes');
}
sub cg_add { cg_write('cgroup.procs', $_[0]) or die "cannot move $_[0] into $CG: $!\n" }
sub cg_remove {
    for my $cg (@CG_MADE) {
        next unless -d $cg;
        # anything still in it goes back where the test runs, then it goes
        my $procs = do { local (@ARGV, $/) = ("$cg/cgroup.procs"); <> } // '';
        for my $pid (split /\n/, $procs) {
            open my $fh, '>', "$CG_ORIG/cgroup.procs" or last;
            print {$fh} "$pid\n";
            close $fh;
        }
        for (1 .. 50) {
            last if rmdir $cg;
            select(undef, undef, undef, 0.05);
        }
    }
}
my $LOAD;       # the clients, stopped whatever happens
END { my $rc = $?; SQLoad::stop($LOAD) if $LOAD; cg_remove(); $? = $rc }

use SQTest;
use SQLoad;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $slack = 32 << 20;             # the cgroup's room above what it holds

# two backend workers, whatever the CPU count
SQTest::reap('backend', 'TERM');
SQTest::backend_start('--workers', 2);
my $base = SQTest::nginx_start(
    SQTest::indent(SQTest::cache_zone('sqoom:1m'))
    . SQTest::server_conf(
        server => ['client_max_body_size 8m;', 'client_body_buffer_size 8m;',
                   'client_body_timeout 30s;'],
        locations => [SQTest::guarded('/v1/', 'backend',
                                      'smartlyq_body_limit 8m;')]), 1);
my $master = SQTest::pid_of('nginx');
my $port = $SQTest::PORT{nginx};
my $ws = $T->{ws1};
diag("memory cgroups $CG_KIND, under $CG_ROOT");

my $envelope = qr/^\{"success": false, "error": \{"code": "[A-Z_]+"/;
my $n = 0;
my @creates = ({
    name => 'create', key => $T->{alice_key}, method => 'POST',
    path => "/v1/articles?workspace_id=$ws",
    body => sub { $n++; qq({"title": "o-$$-$n"}) },
    want => sub { ($_[0] == 201 && $_[1] =~ /"id": \d+/)
                  || ($_[0] =~ /^50[0-4]$/ && $_[1] =~ $envelope) },
    tag => sub {
        my ($s, $b, $body) = @_;
        my ($title) = $body =~ /"title": "([^"]+)"/;
        my ($id) = $s == 201 ? $b =~ /"id": (\d+)/ : ();
        return "$title:" . ($id // '-');
    },
}, {
    name => 'me', key => $T->{alice_key}, path => '/v1/me',
    want => sub { ($_[0] == 200 && $_[1] =~ /"id": $T->{alice}\b/)
                  || ($_[0] =~ /^50[0-4]$/ && $_[1] =~ $envelope) },
});
my $load = $LOAD = SQLoad::start(port => $port, clients => 3,
                                 requests => \@creates, hang => 5, pause => 0.001);

sub gone {      # a process that is no more, or a zombie not yet reaped
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return 1;
    my $st = do { local $/; <$fh> } // return 1;
    return $st =~ /^\d+ \(.*\) [ZX] /s ? 1 : 0;
}

# holders: connections sending unfinished bodies of $len bytes to $p, in a
# child; they stop when the peer goes away or the child is told to
sub holders {
    my ($p, $count, $len, $path, $key) = @_;
    my $pid = fork // die "fork: $!";
    return $pid if $pid;
    $SIG{PIPE} = 'IGNORE';
    my $stop = 0;
    $SIG{TERM} = sub { $stop = 1 };
    my @s;
    my $chunk = 'x' x 65536;
    for my $i (1 .. $count) {
        last if $stop;
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $p,
                                      Timeout => 1) or last;
        my $head = "POST $path HTTP/1.1\r\nHost: edge\r\n"
                 . ($key ? "Authorization: Bearer $key\r\n" : '')
                 . "Content-Type: application/json\r\nContent-Length: $len\r\n\r\n"
                 . '{"title": "';
        last unless defined syswrite($s, $head);
        my $left = $len - 12;       # one byte short of the whole body
        while ($left > 0 && !$stop) {
            my $w = syswrite($s, $chunk, $left < 65536 ? $left : 65536);
            last unless $w;
            $left -= $w;
        }
        push @s, $s;
    }
    sleep 0.1 until $stop;
    POSIX::_exit(0);
}

sub first_ok_after {    # secs from $t to the first good answer of $name after it
    my ($t, $name, @rec) = @_;
    my ($r) = grep { $_->[0] >= $t && $_->[4] && $_->[2] =~ /^20/ && $_->[3] eq $name } @rec;
    return $r ? $r->[0] + $r->[1] - $t : 99;
}

sleep 1;
my %kill;       # when each was killed

# --- 1. the nginx worker ------------------------------------------------------------
{
    my ($worker) = SQLoad::workers($master);
    cg_make('worker');
    my $ooms = cg_ooms();
    cg_add($worker);
    cg_limit(cg_usage() + $slack);
    my $h = holders($port, 40, 4 << 20, "/v1/articles?workspace_id=$ws",
                    $T->{alice_key});
    my $t0 = time;
    sleep 0.005 until gone($worker) || time - $t0 > 15;
    $kill{worker} = time;
    kill 'TERM', $h;
    waitpid $h, 0;
    ok(gone($worker), sprintf('the worker was killed %.2f s into the bodies', $kill{worker} - $t0));
    is(cg_ooms() - $ooms, 1, '... by the OOM killer of its cgroup (oom_kill 1)');
    my @w;
    SQTest::wait_until('a new worker', sub {
        @w = grep { $_ != $worker } SQLoad::workers($master); @w == 1 }, 2);
    my $where = do { local (@ARGV, $/) = ("/proc/$w[0]/cgroup"); <> };
    unlike($where, qr/sqtest-oom/, "the master respawned worker $w[0], outside the cgroup");
}

# --- 2. a backend worker -------------------------------------------------------------
sleep 1.5;
{
    my $sup = SQTest::pid_of('backend');
    my @before = SQTest::backend_workers();
    my $bw = $before[0];
    cg_make('backend');
    my $ooms = cg_ooms();
    cg_add($bw);
    cg_limit(cg_usage() + $slack);
    my $h = holders($SQTest::PORT{backend}, 100, 1_000_000,
                    "/v1/articles?workspace_id=$ws");
    my $t0 = time;
    sleep 0.005 until gone($bw) || time - $t0 > 15;
    $kill{backend} = time;
    kill 'TERM', $h;
    waitpid $h, 0;
    ok(gone($bw), sprintf('backend worker %d was killed %.2f s into the bodies',
                          $bw, $kill{backend} - $t0));
    is(cg_ooms() - $ooms, 1, '... by the OOM killer of its cgroup (oom_kill 1)');
    my @w;
    SQTest::wait_until('a new backend worker', sub {
        @w = grep { $_ != $bw } SQTest::backend_workers(); @w == 2 }, 3);
    ok(kill(0, $sup), 'the supervisor is still running');
    my ($new) = grep { $_ != $before[1] } @w;
    my $where = do { local (@ARGV, $/) = ("/proc/$new/cgroup"); <> } // '';
    unlike($where, qr/sqtest-oom/, "the supervisor started worker $new in its place, outside the cgroup");
}

sleep 1.5;
my @rec = SQLoad::stop($load);
undef $LOAD;

# --- recovery ---------------------------------------------------------------------------
for my $what (qw(worker backend)) {
    my $t = $kill{$what};
    my $c = first_ok_after($t, 'create', @rec);
    my $m = first_ok_after($t, 'me', @rec);
    cmp_ok($c > $m ? $c : $m, '<', 2, sprintf("$what killed: creates back after %.0f ms, "
           . "/v1/me after %.0f ms", 1000 * $c, 1000 * $m));
    $kill{"$what-back"} = sprintf('%.0f/%.0f ms', 1000 * $c, 1000 * $m);
}

# --- acknowledged writes ------------------------------------------------------------
my (%acked, %status);
for my $r (@rec) {
    $status{$r->[2]}++;
    next unless $r->[3] eq 'create';
    my ($title, $id) = split /:/, $r->[5];
    $acked{$title} = $id if $r->[2] == 201;
}
# every stored article of the workspace, "id title" a line, in one call
my $lua = q{local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  out[#out + 1] = id .. ' ' .. (redis.call('HGET', ARGV[1] .. id, 'title') or '')
end
return out};
my (%stored, $dupes);
$dupes = 0;
for (split /\n/, redis_cli('EVAL', $lua, 1, "sq:ws:{w$ws}:articles",
                            "sq:ws:{w$ws}:rec:article:")) {
    my ($id, $title) = split ' ', $_, 2;
    next unless defined $title;
    $dupes++ if exists $stored{$title};
    $stored{$title} = $id;
}
my $lost = grep { !defined $stored{$_} || $stored{$_} ne $acked{$_} } keys %acked;
my $extra = grep { /^o-/ && !exists $acked{$_} } keys %stored;
cmp_ok(scalar keys %acked, '>', 50, scalar(keys %acked) . ' creates acknowledged');
is($lost, 0, 'every acknowledged create is stored, with its id');
is($dupes, 0, 'no create stored twice');

# only requests in flight on the worker's connections when it died were cut
my @cut = grep { $_->[2] <= 0 } @rec;
my @late_cut = grep { $_->[0] > $kill{worker} + 0.05 } @cut;
is(scalar @late_cut, 0, scalar(@cut) . ' requests cut off, all in flight when the worker was killed')
    or diag(join "\n", map { "@$_" } @late_cut[0 .. ($#late_cut < 9 ? $#late_cut : 9)]);
my @bad = grep { $_->[2] > 0 && !$_->[4] } @rec;
is(scalar @bad, 0, 'every answer a 200/201 or an error envelope (' . scalar(@rec)
   . ' requests)') or diag(join "\n", map { "@$_" } @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

my $log = SQTest::nginx_error_log();
my @signals = $log =~ /exited on signal (\d+)/g;
is("@signals", '9', 'the one worker crash logged is the SIGKILL');
unlike($log, qr/\[alert\](?!.*exited on signal 9)/, 'no other alert');

diag(sprintf("OOM kill (%s, %d MB above usage): %d requests, by status: %s; "
             . "acked %d, lost %d, duplicates %d, stored without an ack %d; "
             . "back (creates/me) after worker kill %s, after backend kill %s",
             $CG_KIND, $slack >> 20, scalar @rec,
             join(', ', map { "$_: $status{$_}" } sort keys %status),
             scalar keys %acked, $lost, $dupes, $extra,
             $kill{'worker-back'}, $kill{'backend-back'}));

cg_remove();
is(scalar(grep { -d } @CG_MADE), 0, 'the cgroups are removed');

done_testing();
