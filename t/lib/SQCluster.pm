package SQCluster;

# A replicated Redis for the issue 15 tests: SQTest's Redis (redis/redis.conf,
# the functions loaded, the tenants seeded) is the primary; start() adds N
# replicas (`replicaof` it, same config, same passwords: redis-auth.conf and
# a generated `masterauth` include) and M Sentinels (redis-sentinel, quorum
# 2, down-after-milliseconds 1000, failover-timeout 2000) on free ports, in
# $SQTest::DIR.  The Sentinels ask for a password of their own, in
# $SQCluster::SENTINEL_PASS (a password file, the secret on its last line,
# as the Redis ones), unless start(sentinel_password => 0).
#
#   use SQTest own_redis_conf => 1;     # first: it starts the primary
#   use SQCluster;
#   my $c = SQCluster::start(replicas => 2, sentinels => 3);
#   # $c->{primary}, $c->{replicas} = [p, p], $c->{sentinels} = [p, p, p],
#   # $c->{master} = 'sqm' (the name the Sentinels monitor)
#   SQCluster::kill_node($c->{primary});            # kill -9
#   my $new = SQCluster::wait_failover($c->{primary}, 30);
#   SQCluster::primary();       # the current primary's port
#   SQCluster::node_cli($port, 'ROLE');
#   SQCluster::sentinel_cli($port, 'SENTINEL', 'masters');
#   SQCluster::sqctl(...)       # sqctl against the current primary
#
# Everything started here is stopped in END (before SQTest's END, which
# stops the primary it started, if still alive).

use strict;
use warnings;

use File::Path qw(make_path);
use Time::HiRes qw(sleep time);

use SQTest ();

our $MASTER = 'sqm';
our $SENTINEL_PASS;     # the Sentinels' password file (undef: none)
our %NODE;              # port => { name, kind: primary|replica|sentinel }
our $PRIMARY;           # the primary's port, as last seen

sub secret_of {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!";
    my @l = grep { /\S/ } <$fh>;
    close $fh;
    (my $p = $l[-1]) =~ s/\s+//g;
    return $p;
}

# redis-cli on a Redis node, as the admin
sub node_cli {
    my ($port, @args) = @_;
    local %ENV = (%ENV, REDISCLI_AUTH => SQTest::redis_password());
    my ($out) = SQTest::run_capture('sh', '-c',
        'exec timeout 5 redis-cli -p "$0" "$@" 2>/dev/null', $port, @args);
    return $out;
}

# redis-cli on a Sentinel, with its password when it has one
sub sentinel_cli {
    my ($port, @args) = @_;
    local %ENV = %ENV;
    if ($SENTINEL_PASS) {
        $ENV{REDISCLI_AUTH} = secret_of($SENTINEL_PASS);
    } else {
        delete $ENV{REDISCLI_AUTH};
    }
    my ($out) = SQTest::run_capture('sh', '-c',
        'exec timeout 5 redis-cli -p "$0" "$@" 2>/dev/null', $port, @args);
    return $out;
}

sub alive {
    my ($port) = @_;
    return exists $NODE{$port} && $NODE{$port}{alive};
}

sub role_of {
    my ($port) = @_;
    my ($role) = split /\n/, node_cli($port, 'ROLE');
    return $role // '';
}

# A node's own copy of redis/redis.conf: the Sentinels send CONFIG REWRITE
# to the nodes they reconfigure, which rewrites the file a node was
# started with (passwords included): never the project's file.
sub node_conf {
    my ($dir) = @_;
    my $conf = "$dir/redis.conf";
    open my $in, '<', "$SQTest::ROOT/redis/redis.conf" or die $!;
    local $/;
    my $text = <$in>;
    close $in;
    SQTest::write_secret($conf, $text);
    return $conf;
}

# a new node's port, directory (made) and name: kind and number
sub new_node {
    my ($kind, $i) = @_;
    my $name = "$kind$i";
    my $dir = "$SQTest::DIR/$name";
    make_path($dir);
    return (SQTest::free_port(), $dir, $name);
}

# a spawned node known, once it answers PING (through $cli)
sub node_up {
    my ($port, $kind, $name, $dir, $cli) = @_;
    $NODE{$port} = { name => $name, kind => $kind, alive => 1,
                     dir => $dir };
    SQTest::wait_until("$name start",
                       sub { $cli->($port, 'PING') eq 'PONG' });
    return $port;
}

sub start_replica {
    my ($i, $primary) = @_;
    my ($port, $dir, $name) = new_node('replica', $i);
    SQTest::spawn($name, "$SQTest::DIR/$name.log", 'redis-server',
        node_conf($dir), '--port', $port, '--dir', $dir,
        '--include', "$SQTest::DIR/redis-auth.conf",
        '--include', "$SQTest::DIR/redis-replica.conf",
        '--replicaof', '127.0.0.1', $primary,
        @{ $SQTest::OPT{redis_args} || [] });
    return node_up($port, 'replica', $name, $dir, \&node_cli);
}

sub sentinel_conf {
    my ($port, $dir, $primary) = @_;
    my $admin = SQTest::redis_password();
    my $conf = "port $port\nbind 127.0.0.1\ndaemonize no\n"
        . "dir $dir\nlogfile \"\"\n"
        . "sentinel monitor $MASTER 127.0.0.1 $primary 2\n"
        . "sentinel down-after-milliseconds $MASTER 1000\n"
        . "sentinel failover-timeout $MASTER 2000\n"
        . "sentinel parallel-syncs $MASTER 1\n"
        . "sentinel auth-pass $MASTER $admin\n";
    if ($SENTINEL_PASS) {
        my $pw = secret_of($SENTINEL_PASS);
        $conf .= "requirepass $pw\nsentinel sentinel-pass $pw\n";
    }
    return $conf;
}

sub start_sentinel {
    my ($i, $primary) = @_;
    my ($port, $dir, $name) = new_node('sentinel', $i);
    # Sentinel rewrites its config file: one of its own, mode 0600
    SQTest::write_secret("$dir/sentinel.conf",
                         sentinel_conf($port, $dir, $primary));
    SQTest::spawn($name, "$SQTest::DIR/$name.log", 'redis-sentinel',
                  "$dir/sentinel.conf");
    return node_up($port, 'sentinel', $name, $dir, \&sentinel_cli);
}

sub replicas { return sort { $a <=> $b }
               grep { $NODE{$_}{kind} eq 'replica' } keys %NODE }
sub sentinels { return sort { $a <=> $b }
                grep { $NODE{$_}{kind} eq 'sentinel' } keys %NODE }

# the replicas the primary reports online
sub online_replicas {
    my ($primary) = @_;
    my $info = node_cli($primary, 'INFO', 'replication');
    return scalar(() = $info =~ /^slave\d+:.*state=online/mg);
}

# start(replicas => N, sentinels => M, sentinel_password => 1|0)
sub start {
    my (%o) = @_;
    my $nrep = $o{replicas} // 2;
    my $nsen = $o{sentinels} // 3;
    die "SQCluster: `use SQTest own_redis_conf => 1;` first (Sentinel's "
        . "CONFIG REWRITE must not touch redis/redis.conf)\n"
        unless $SQTest::OPT{own_redis_conf};
    $PRIMARY = $SQTest::PORT{redis};
    $NODE{$PRIMARY} = { name => 'redis', kind => 'primary', alive => 1,
                        dir => $SQTest::REDIS_DIR };

    SQTest::write_secret("$SQTest::DIR/redis-replica.conf",
                         'masterauth ' . SQTest::redis_password() . "\n");
    if ($o{sentinel_password} // 1) {
        $SENTINEL_PASS = "$SQTest::DIR/sentinel-password";
        SQTest::write_secret($SENTINEL_PASS, SQTest::new_secret() . "\n");
    }

    my @rep = map { start_replica($_, $PRIMARY) } 1 .. $nrep;
    SQTest::wait_until('replicas in sync',
        sub { online_replicas($PRIMARY) == $nrep }, 20);
    my @sen = map { start_sentinel($_, $PRIMARY) } 1 .. $nsen;
    # each Sentinel knows the replicas and the other Sentinels (hellos
    # every 2 s): only then can a quorum agree on a failover
    SQTest::wait_until('sentinels ready', sub {
        for my $s (@sen) {
            my %m = @{ sentinel_hash($s, 'SENTINEL', 'master', $MASTER) };
            return 0 unless ($m{'num-slaves'} // -1) == $nrep
                && ($m{'num-other-sentinels'} // -1) == $nsen - 1;
        }
        return 1;
    }, 30);
    return { primary => $PRIMARY, replicas => \@rep, sentinels => \@sen,
             master => $MASTER, sentinel_password_file => $SENTINEL_PASS };
}

# a flat reply (field\nvalue\n...) as a list ref
sub sentinel_hash {
    my ($port, @cmd) = @_;
    my @l = split /\n/, sentinel_cli($port, @cmd);
    pop @l if @l % 2;
    return \@l;
}

# the primary as the live Sentinels report it (the first that answers),
# else as last seen
sub primary {
    for my $s (grep { alive($_) } sentinels()) {
        my ($h, $p) = split /\n/, sentinel_cli($s, 'SENTINEL',
                                   'get-master-addr-by-name', $MASTER);
        if (defined $p && $p =~ /^\d+$/) {
            $PRIMARY = $p;
            return $p;
        }
    }
    return $PRIMARY;
}

# kill -9 a node (Redis or Sentinel) by its port
sub kill_node {
    my ($port) = @_;
    my $n = $NODE{$port} or die "no node on port $port\n";
    SQTest::reap($n->{name}, 'KILL');
    $n->{alive} = 0;
}

# restart a killed Redis node on its port and dir, as a replica of the
# current primary (the Sentinels would reconfigure it anyway)
sub restart_node {
    my ($port) = @_;
    my $n = $NODE{$port} or die "no node on port $port\n";
    die "$n->{name} is a sentinel\n" if $n->{kind} eq 'sentinel';
    my $p = primary();
    SQTest::spawn($n->{name}, "$SQTest::DIR/$n->{name}.log", 'redis-server',
        node_conf($n->{dir}), '--port', $port,
        '--dir', $n->{dir}, '--include', "$SQTest::DIR/redis-auth.conf",
        '--include', "$SQTest::DIR/redis-replica.conf",
        '--replicaof', '127.0.0.1', $p,
        @{ $SQTest::OPT{redis_args} || [] });
    $n->{alive} = 1;
    $n->{kind} = 'replica';
    SQTest::wait_until("$n->{name} restart",
                       sub { node_cli($port, 'PING') eq 'PONG' }, 10);
}

# wait_failover($old_port, $secs): polls the live Sentinels until they
# name another primary that says `ROLE` master; returns its port and the
# seconds it took (in list context).  Dies after $secs.
sub wait_failover {
    my ($old, $secs) = @_;
    $secs ||= 30;
    my $t0 = time;
    my $new;
    SQTest::wait_until("failover from $old", sub {
        for my $s (grep { alive($_) } sentinels()) {
            my ($h, $p) = split /\n/, sentinel_cli($s, 'SENTINEL',
                                       'get-master-addr-by-name', $MASTER);
            next unless defined $p && $p =~ /^\d+$/ && $p != $old;
            next unless role_of($p) eq 'master';
            $new = $p;
            return 1;
        }
        return 0;
    }, $secs);
    $PRIMARY = $new;
    for my $port (keys %NODE) {
        my $n = $NODE{$port};
        next if $n->{kind} eq 'sentinel';
        $n->{kind} = $port == $new ? 'primary' : 'replica';
    }
    return wantarray ? ($new, time - $t0) : $new;
}

# sqctl against the current primary
sub sqctl {
    local $SQTest::PORT{redis} = primary();
    return SQTest::sqctl(@_);
}

END {
    local $?;
    # nginx first (SQTest's END would stop it after the Sentinels: its
    # log would fill with their absence); SQTest's END stops 'redis' (the
    # first primary) when it is alive
    SQTest::reap('nginx', 'QUIT');
    for my $port (keys %NODE) {
        my $n = $NODE{$port};
        next if $n->{name} eq 'redis' || !$n->{alive};
        SQTest::reap($n->{name}, 'TERM');
    }
}

1;
