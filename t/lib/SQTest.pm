package SQTest;

# Test harness for SmartlyQ edge: every .t file that uses it gets its own
# Redis (redis/redis.conf, AOF on, free port, throw-away dir), the backend
# on a free port, fresh secrets and a seeded pair of tenants; all of it is
# stopped when the file ends.  Test::Nginx picks the values up from the
# TEST_NGINX_* variables set here.
#
# Redis runs with a password (requirepass, from a generated include:
# $DIR/redis-auth.conf) that the module, the backend, sqctl and redis_cli
# read from $DIR/redis-password.  Options, given on the first `use`:
#   use SQTest redis_args => ['--enable-debug-command', 'local'];
#       extra redis-server arguments (DEBUG is off in redis/redis.conf)
#   use SQTest acl => 1;
#       Redis users from redis/users.acl.in instead of requirepass: the
#       edge runs as sq-edge ($DIR/redis-password-edge), the backend and
#       sqctl as sq-backend ($DIR/redis-password-backend), redis_cli as
#       the default user ($DIR/redis-password).  SQ_REDIS_ACL=1 in the
#       environment turns it on for every file: `SQ_REDIS_ACL=1 prove -r t/`
#       runs the whole suite under the ACL users
#   use SQTest netns => 1;
#       re-runs the file in a network namespace of its own (unshare -n,
#       lo up), where iptables may DROP, when it can (root, unshare,
#       iptables): $ENV{SQ_NETNS} is 1 there
#   use SQTest netns => 'needed';
#       the same, and skips the file when it cannot

use strict;
use warnings;

use Cwd qw(abs_path);
use Digest::SHA qw(sha256_hex);
use Exporter ();
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep time);

our @ISA = ('Exporter');
our @EXPORT = qw(sqctl redis_cli $T);

our $ROOT  = abs_path(dirname(__FILE__) . '/../..');
our $BUILD = $ENV{SQ_BUILD} || "$ROOT/build";
our $DIR   = tempdir('sqtest-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{SQ_KEEP_DIR});
our %PORT;
our $T;         # the seeded tenants
our %OPT;       # from `use SQTest ...`
our %PASS;      # password files: admin, edge, backend

my $parent = $$;
my %pid;

# A port for a server of the test: below the kernel's ephemeral range, so
# that no outgoing connection (a client, nginx to its upstream) can hold
# it as its source port while the server is down between a kill and a
# restart, and never the same twice in one file (two binds to port 0 in a
# row may get the same port back).
my %given;
sub free_port {
    my $low = 32768;
    if (open my $fh, '<', '/proc/sys/net/ipv4/ip_local_port_range') {
        ($low) = split ' ', scalar <$fh>;
        close $fh;
    }
    for (1 .. 200) {
        my $p = 10000 + int(rand($low - 10000 > 1000 ? $low - 10000 : 1000));
        next if $given{$p};
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                      LocalPort => $p, ReuseAddr => 1)
            or next;
        close $s;
        $given{$p} = 1;
        return $p;
    }
    die "no free port below $low\n";
}

sub port_open {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $port, Timeout => 0.2);
    return 0 unless $s;
    close $s;
    return 1;
}

sub wait_until {
    my ($what, $cond, $secs) = @_;
    $secs ||= 5;
    my $end = time + $secs;
    while (time < $end) {
        return 1 if $cond->();
        sleep 0.02;
    }
    die "$what did not happen within ${secs}s\n";
}

sub spawn {
    my ($name, $log, @cmd) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log;
        open STDERR, '>>', $log;
        exec @cmd or POSIX::_exit(127);
    }
    $pid{$name} = $pid;
    return $pid;
}

sub reap {
    my ($name, $sig) = @_;
    my $pid = delete $pid{$name} or return;
    kill $sig || 'TERM', $pid;
    waitpid $pid, 0;
}

sub pid_of { return $pid{$_[0]} }

sub run_capture {
    my @cmd = @_;
    open my $fh, '-|', @cmd or die "$cmd[0]: $!";
    local $/;
    my $out = <$fh> // '';
    close $fh;
    my $rc = $?;
    $out =~ s/\s+\z//;
    return ($out, $rc);
}

sub sqctl {
    my @args = @_;
    local $ENV{SMARTLYQ_REDIS} = "127.0.0.1:$PORT{redis}";
    local $ENV{SMARTLYQ_PEPPER_FILE} = "$DIR/pepper";
    local $ENV{SMARTLYQ_REDIS_PASSWORD_FILE} = $PASS{backend};
    my ($out, $rc) = run_capture("$BUILD/sqctl", @args);
    die "sqctl @args failed ($rc)\n" if $rc;
    return $out;
}

# the admin password (the last line of its file), for redis-cli
sub redis_password {
    open my $fh, '<', $PASS{admin} or die "$PASS{admin}: $!";
    my @l = grep { /\S/ } <$fh>;
    close $fh;
    (my $p = $l[-1]) =~ s/\s+//g;
    return $p;
}

# redis-cli as the admin; redis_cli_env() for a redis-cli run another way
sub redis_cli_env { return (REDISCLI_AUTH => redis_password()) }

sub redis_cli {
    local %ENV = (%ENV, redis_cli_env());
    my ($out) = run_capture('sh', '-c', 'exec redis-cli -p "$0" "$@" 2>/dev/null',
                            $PORT{redis}, @_);
    return $out;
}

# Redis: started, killed, restarted (same dir: AOF brings the data and the
# function library back), frozen and thawed, for fault tests.
our $REDIS_DIR = "$DIR/redis";     # a fault test may move it
sub redis_start {
    make_path($REDIS_DIR);
    spawn('redis', "$DIR/redis.log", 'redis-server',
          redis_conf_path(), '--port', $PORT{redis},
          '--dir', $REDIS_DIR, '--include', "$DIR/redis-auth.conf",
          @{ $OPT{redis_args} || [] });
    wait_until("redis start", sub { my $o = redis_cli("ping"); warn "ping: [$o]\n" if $ENV{SQ_DEBUG}; $o eq "PONG" });
}

# === issue 15, "sedge": `use SQTest own_redis_conf => 1` starts Redis
# from a copy of redis/redis.conf in $DIR (t/lib/SQCluster.pm needs it:
# Sentinel's CONFIG REWRITE rewrites the file a node was started with) ===
sub redis_conf_path {
    return "$ROOT/redis/redis.conf" unless $OPT{own_redis_conf};
    my $copy = "$DIR/redis-primary.conf";
    if (!-e $copy) {
        open my $in, '<', "$ROOT/redis/redis.conf" or die $!;
        local $/;
        my $text = <$in>;
        close $in;
        write_secret($copy, $text);
    }
    return $copy;
}
# === end of issue 15, "sedge" ===

# another Redis, as redis_start's, under its own name, port and dir
sub redis_start_other {
    my ($name, $port, $dir) = @_;
    make_path($dir);
    spawn($name, "$DIR/$name.log", 'redis-server',
          "$ROOT/redis/redis.conf", '--port', $port, '--dir', $dir,
          '--include', "$DIR/redis-auth.conf", @{ $OPT{redis_args} || [] });
    wait_until("$name start", sub {
        local $PORT{redis} = $port;
        redis_cli('ping') eq 'PONG';
    });
}

sub redis_kill   { reap('redis', 'KILL') }
sub backend_kill { reap('backend', 'KILL') }
sub redis_freeze { kill 'STOP', $pid{redis} }
sub redis_thaw   { kill 'CONT', $pid{redis} if $pid{redis} }

# The backend: its supervisor and --workers processes (the CPU count,
# unless @args says otherwise: backend_start('--workers', 1)).  Its pid
# (pid_of('backend')) is the supervisor's: the workers die with it, even
# of a SIGKILL.
sub backend_start {
    my (@args) = @_;
    spawn('backend', "$DIR/backend.log", "$BUILD/smartlyq-backend",
          '--listen', "127.0.0.1:$PORT{backend}",
          '--redis', "127.0.0.1:$PORT{redis}",
          '--signing-key-file', "$DIR/signing",
          '--pepper-file', "$DIR/pepper",
          '--redis-password-file', $PASS{backend},
          '--functions', "$ROOT/redis/smartlyq.lua", @args);
    wait_until('backend start', sub { port_open($PORT{backend}) });
}

# the processes that serve the backend's port: the supervisor's workers,
# or the backend itself when it runs alone (--workers 1)
sub backend_workers {
    my $sup = $pid{backend} or return ();
    my ($out) = run_capture('pgrep', '-P', $sup);
    my @w = grep { /^\d+$/ } split /\n/, $out;
    return @w ? sort { $a <=> $b } @w : ($sup);
}

# Two tenants: Alice (workspaces ws1 primary, ws2) and Bob (wsb), a social
# account in each workspace, live keys, a test-mode key, a disabled key.
# alice_key, alice_test_key and bob_key are admin keys (--scopes all, so
# keys:manage too, which `sqctl key create` no longer gives by default).
sub seed {
    my %t;
    $t{alice} = sqctl(qw(user create --email alice@example.com
                         --name Alice));
    $t{bob} = sqctl(qw(user create --email bob@example.com --name Bob));
    $t{ws1} = sqctl('workspace', 'create', '--owner', $t{alice},
                    '--name', 'Alice One');
    $t{ws2} = sqctl('workspace', 'create', '--owner', $t{alice},
                    '--name', 'Alice Two');
    $t{wsb} = sqctl('workspace', 'create', '--owner', $t{bob},
                    '--name', 'Bob Studio');
    $t{acc1} = sqctl('account', 'create', '--workspace', $t{ws1},
                     '--platform', 'twitter', '--handle', '@alice_one');
    $t{acc2} = sqctl('account', 'create', '--workspace', $t{ws2},
                     '--platform', 'linkedin', '--handle', 'alice-two');
    $t{accb} = sqctl('account', 'create', '--workspace', $t{wsb},
                     '--platform', 'instagram', '--handle', '@bob');
    $t{alice_key} = sqctl('key', 'create', '--user', $t{alice},
                          '--name', 'alice', '--scopes', 'all');
    $t{alice_test_key} = sqctl('key', 'create', '--user', $t{alice},
                               '--mode', 'test', '--name', 'alicetest',
                               '--scopes', 'all');
    $t{bob_key} = sqctl('key', 'create', '--user', $t{bob}, '--name', 'bob',
                        '--scopes', 'all');
    $t{disabled_key} = sqctl('key', 'create', '--user', $t{alice},
                             '--name', 'retired');
    my ($line) = grep { /retired/ } split /\n/,
                 sqctl('key', 'list', '--user', $t{alice});
    ($t{disabled_key_id}) = $line =~ /^\s*(\d+)/;
    sqctl('key', 'disable', '--id', $t{disabled_key_id});
    return \%t;
}

# (issue 15, "sedge": nginx_start's $opt->{redis} replaces the
# smartlyq_redis line, e.g. with smartlyq_redis_sentinel ...;)
sub http_config {
    my ($redis) = @_;
    $redis //= "smartlyq_redis 127.0.0.1:$PORT{redis};";
    return <<"CONF";
    $redis
    smartlyq_redis_password_file $PASS{edge};
    smartlyq_key_pepper_file $DIR/pepper;
    smartlyq_signing_key_file $DIR/signing;

    upstream backend {
        server 127.0.0.1:$PORT{backend};
    }

    # the name conf/smartlyq-routes.conf proxies to
    upstream smartlyq_backend {
        server 127.0.0.1:$PORT{backend};
    }

    # reflects what an upstream receives from the edge
    upstream echo {
        server 127.0.0.1:$PORT{echo};
    }

    server {
        listen 127.0.0.1:$PORT{echo};
        default_type text/plain;
        location / {
            return 200 "user=\$http_x_smartlyq_user_id key=\$http_x_smartlyq_key_id ws=\$http_x_smartlyq_workspace_id mode=\$http_x_smartlyq_key_mode auth=\$http_authorization sig=\$http_x_smartlyq_signature\\n";
        }
    }
CONF
}

# Test::Nginx block defaults: our http_config, a default location config
# and, when key is given, a default Authorization header.  Use as
# &add_block_preprocessor(SQTest::block_defaults(config => ..., key => ...))
sub block_defaults {
    my (%o) = @_;
    return sub {
        my $block = shift;
        $block->set_value('http_config', http_config())
            unless defined $block->http_config;
        $block->set_value('config', $o{config})
            if defined $o{config} && !defined $block->config;
        $block->set_value('more_headers', "Authorization: Bearer $o{key}")
            if defined $o{key} && !defined $block->more_headers;
    };
}

# Configuration snippets, for block_defaults(config => ...) and for
# nginx_start.  guarded($path, $upstream, @lines): a location with the
# check on, any other directives, and proxy_pass to http://$upstream (the
# upstreams of http_config: echo, backend, smartlyq_backend; or a
# host:port)
sub guarded {
    my ($path, $upstream, @lines) = @_;
    return "location $path {\n"
         . join('', map { "    $_\n" } 'smartlyq on;', @lines,
                "proxy_pass http://$upstream;")
         . "}\n";
}

# the Prometheus page at /metrics
sub metrics_location {
    return "location = /metrics {\n    smartlyq_metrics;\n}\n";
}

# The decision cache: a zone ("name:size [ttl=...] [negative_ttl=...]")
# that every guarded location uses unless it says smartlyq_cache off.
# The one place that writes the directives.
sub cache_zone {
    my ($zone) = @_;
    my ($name) = $zone =~ /^([^:]+):/;
    return "smartlyq_cache_zone zone=$zone;\nsmartlyq_cache $name;\n";
}

sub indent {
    my ($text) = @_;
    $text =~ s/^(?=.)/    /mg;
    return $text;
}

# server_conf(%o): http-level text for nginx_start, a server block on the
# standalone nginx's port ($PORT, which nginx_start fills in) with:
#   port      => another port to listen on
#   http      => text before the server block (http level)
#   cache     => cache_zone($cache) before it, and the server adds
#                X-Cache: $smartlyq_cache_status to every response
#   listen    => more listen parameters ("backlog=4096")
#   server    => server-level directives (text or a list of them)
#   routes    => 1: include conf/smartlyq-routes.conf
#   locations => location snippets (guarded(...) or any text), in order
#   metrics   => 1: metrics_location() last
sub server_conf {
    my (%o) = @_;
    my @body = ('listen 127.0.0.1:' . ($o{port} // '$PORT')
                . (defined $o{listen} ? " $o{listen}" : '') . ';');

    if (defined $o{server}) {
        push @body, ref $o{server} ? @{ $o{server} } : $o{server};
    }
    push @body, 'add_header X-Cache $smartlyq_cache_status always;'
        if $o{cache};
    push @body, "include $ROOT/conf/smartlyq-routes.conf;" if $o{routes};
    # issue 14, oauth: the authorization server's public endpoints
    push @body, "include $ROOT/conf/smartlyq-oauth.conf;" if $o{routes};
    push @body, "include $ROOT/conf/smartlyq-console.conf;" if $o{routes};
    push @body, @{ $o{locations} || [] };
    push @body, metrics_location() if $o{metrics};

    my $conf = '';
    $conf .= indent($o{http} =~ s/\n?\z/\n/r) if defined $o{http};
    $conf .= indent(cache_zone($o{cache})) if $o{cache};
    $conf .= indent("server {\n"
                    . indent(join('', map { s/\n?\z/\n/r } @body))
                    . "}\n");
    return $conf;
}

# a standalone nginx, for tests that must act between requests without
# restarting it (Test::Nginx restarts nginx for every block)
sub nginx_start {
    my ($http, $workers, $opt) = @_;
    $workers ||= 1;
    $opt ||= {};
    my $conns = $opt->{worker_connections} || 512;
    my $main = $opt->{main} || '';
    my $prefix = "$DIR/nginx";
    make_path("$prefix/logs", "$prefix/tmp");
    # workers (nobody, when started as root) spill large bodies there
    chmod 0711, $DIR;
    chmod 01777, "$prefix/tmp";
    $PORT{nginx} ||= free_port();
    my $common = http_config($opt->{redis});
    my $module = "$BUILD/ngx_http_smartlyq_module.so";
    $http =~ s/\$PORT/$PORT{nginx}/g;
    open my $fh, '>', "$prefix/nginx.conf" or die $!;
    print $fh <<"CONF";
load_module $module;
daemon off;
master_process on;
worker_processes $workers;
error_log $prefix/logs/error.log info;
pid $prefix/logs/nginx.pid;
$main
events { worker_connections $conns; }
http {
    client_body_temp_path $prefix/tmp;
    proxy_temp_path $prefix/tmp;
    fastcgi_temp_path $prefix/tmp;
    uwsgi_temp_path $prefix/tmp;
    scgi_temp_path $prefix/tmp;
    access_log $prefix/logs/access.log;
$common
$http
}
CONF
    close $fh;
    spawn('nginx', "$prefix/logs/stderr.log", @{ $opt->{wrap} || [] },
          $ENV{TEST_NGINX_BINARY} || 'nginx', '-p', $prefix,
          '-c', "$prefix/nginx.conf");
    wait_until('nginx start', sub { port_open($PORT{nginx}) });
    return "http://127.0.0.1:$PORT{nginx}";
}

sub nginx_reload {
    kill 'HUP', $pid{nginx};
}

sub nginx_error_log {
    open my $fh, '<', "$DIR/nginx/logs/error.log" or return '';
    local $/;
    return scalar <$fh>;
}

# error_log_soon($re, $secs): whether nginx's error log matches $re within
# $secs (5) seconds
sub error_log_soon {
    my ($re, $secs) = @_;
    my $end = time + ($secs || 5);
    while (1) {
        return 1 if nginx_error_log() =~ $re;
        return 0 if time >= $end;
        sleep 0.05;
    }
}

sub http { return HTTP::Tiny->new(timeout => 10, keep_alive => 0) }

# api($base, $key, $method, $path, $body): a JSON call; returns the
# HTTP::Tiny response and the decoded body (undef if not JSON)
my $api_http;
sub api {
    my ($base, $key, $method, $path, $body) = @_;
    require JSON::PP;
    my $json = JSON::PP->new->canonical;
    my %h = (Authorization => "Bearer $key");
    my %o = (headers => \%h);
    if (defined $body) {
        $h{'Content-Type'} = 'application/json';
        $o{content} = ref $body ? $json->encode($body) : $body;
    }
    $api_http ||= http();
    my $r = $api_http->request($method, "$base$path", \%o);
    my $d = eval { $json->decode($r->{content}) };
    return ($r, $d);
}

sub bearer { return { Authorization => "Bearer $_[0]" } }

# capture_signed($listener, $edge_port, $key, $path): GET $path with $key
# through the edge at $edge_port, whose upstream is $listener (a listening
# IO::Socket::INET of the test's own); returns the request head the edge
# sent upstream, signed identity and all, after answering it 200
sub capture_signed {
    my ($cap, $edge, $key, $path) = @_;
    require IO::Select;
    require POSIX;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $edge, Timeout => 10)
            or POSIX::_exit(1);
        print $s "GET $path HTTP/1.1\r\nHost: localhost\r\n"
               . "Connection: close\r\nAuthorization: Bearer $key\r\n\r\n";
        local $/;
        my $resp = <$s> // '';
        POSIX::_exit($resp =~ m{^HTTP/1\.\d 200 } ? 0 : 1);
    }
    my $head = '';
    if (IO::Select->new($cap)->can_read(10)) {
        my $c = $cap->accept;
        until ($head =~ /\r\n\r\n/) {
            sysread($c, $head, 65536, length $head) or last;
        }
        print $c "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
        close $c;
    }
    waitpid $pid, 0;
    die "no capture\n" unless $? == 0 && $head =~ /X-SmartlyQ-Nonce/i;
    return $head;
}

# raw_on($sock, $bytes): writes the exact bytes on a connected socket,
# reads to EOF and closes it; returns (status or 0, headers lower-cased,
# body, de-chunked when sent chunked)
sub raw_on {
    my ($s, $req) = @_;
    print $s $req;
    local $/;
    my $resp = <$s> // '';
    close $s;
    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d{3})};
    my %h;
    for (split /\r\n/, $head // '') {
        $h{lc $1} = $2 if /^([^:]+):\s*(.*)$/;
    }
    $body //= '';
    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        my $plain = '';
        while ($body =~ s/^([0-9a-fA-F]+)\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $plain .= substr($body, 0, $n, '');
            $body =~ s/^\r\n//;
        }
        $body = $plain;
    }
    return ($status // 0, \%h, $body);
}

# raw($port, $bytes): raw_on over a new connection to 127.0.0.1:$port
sub raw {
    my ($p, $req) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $p,
                                  Timeout => 10) or die "connect: $!";
    return raw_on($s, $req);
}

# cache_get($base, $method, $path, $key): status, $smartlyq_cache_status
# (sent by the test's config as X-Cache) and body of one request
my $cache_http;
sub cache_get {
    my ($base, $method, $path, $key) = @_;
    $cache_http ||= http();
    my $r = $cache_http->request($method, "$base$path",
                                 { headers => bearer($key) });
    return ($r->{status}, $r->{headers}{'x-cache'} // '', $r->{content});
}

# one counter or gauge from a smartlyq_metrics location at $base/metrics
sub metric {
    my ($base, $name) = @_;
    $cache_http ||= http();
    my $r = $cache_http->get("$base/metrics");
    return $r->{content} =~ /^\Q$name\E (\d+)$/m ? $1 : undef;
}

# poll_request($base, $path, $key, $cond, $secs): GETs until $cond->(status,
# cache status, body) holds or $secs (5) pass; the ms it took and the last
# response, or () when it never held (in scalar context: true or false)
sub poll_request {
    my ($base, $path, $key, $cond, $secs) = @_;
    my $t0 = time;
    while (time - $t0 < ($secs || 5)) {
        my @r = cache_get($base, 'GET', $path, $key);
        if ($cond->(@r)) {
            return wantarray ? (1000 * (time - $t0), @r) : 1;
        }
        sleep 0.005;
    }
    return wantarray ? () : 0;
}

sub write_secret {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $text;
    close $fh;
    chmod 0600, $path;
}

sub new_secret {
    my ($hex, $rc) = run_capture("$BUILD/sqctl", 'secret');
    die "sqctl secret failed\n" if $rc || $hex !~ /^[0-9a-f]{64}$/;
    return $hex;
}

# Redis's side of the passwords: requirepass, or users from
# redis/users.acl.in with the passwords' SHA-256 in place of @ADMIN@,
# @EDGE@ and @BACKEND@; and the clients' password files
sub redis_auth_setup {
    my %pw = map { $_ => new_secret() } qw(admin edge backend);
    $PASS{admin} = "$DIR/redis-password";
    write_secret($PASS{admin}, "$pw{admin}\n");

    if (!$OPT{acl}) {
        $PASS{edge} = $PASS{backend} = $PASS{admin};
        write_secret("$DIR/redis-auth.conf", "requirepass $pw{admin}\n");
        return;
    }

    for my $who (qw(edge backend)) {
        $PASS{$who} = "$DIR/redis-password-$who";
        write_secret($PASS{$who}, "user sq-$who\n$pw{$who}\n");
    }

    open my $in, '<', "$ROOT/redis/users.acl.in" or die $!;
    local $/;
    my $acl = <$in>;
    close $in;
    $acl =~ s/\@(ADMIN|EDGE|BACKEND)\@/'#' . sha256_hex($pw{lc $1})/ge;
    write_secret("$DIR/users.acl", $acl);
    write_secret("$DIR/redis-auth.conf", "aclfile $DIR/users.acl\n");
}

sub setup {
    for my $bin ("$BUILD/sqctl", "$BUILD/smartlyq-backend",
                 "$BUILD/ngx_http_smartlyq_module.so") {
        die "missing $bin: run make first\n" unless -e $bin;
    }

    $PORT{$_} = free_port() for qw(redis backend echo);
    $ENV{TEST_NGINX_SERVER_PORT} ||= free_port();

    write_secret("$DIR/$_", new_secret() . "\n") for qw(pepper signing);
    redis_auth_setup();

    redis_start();
    sqctl('init', '--functions', "$ROOT/redis/smartlyq.lua");
    backend_start();
    $T = seed();

    $ENV{TEST_NGINX_LOAD_MODULES} = "$BUILD/ngx_http_smartlyq_module.so";
    $ENV{TEST_NGINX_REDIS_PORT} = $PORT{redis};
    $ENV{TEST_NGINX_BACKEND_PORT} = $PORT{backend};
    $ENV{TEST_NGINX_SQ_DIR} = $DIR;
}

# the netns option: exec()s this file again inside a new network
# namespace, before anything is started; the copy that execs leaves no
# temporary directory behind (its END blocks do not run)
sub netns {
    my ($need) = @_;
    if (!$ENV{SQ_NETNS} && $> == 0
        && system('unshare -n true >/dev/null 2>&1') == 0
        && system('command -v iptables >/dev/null 2>&1') == 0)
    {
        $ENV{SQ_NETNS} = 1;
        File::Path::remove_tree($DIR);
        exec('unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$@"',
             'sh', $^X, $0, @ARGV);
    }
    if ($need && $need eq 'needed' && !$ENV{SQ_NETNS}) {
        require Test::More;
        Test::More::plan(skip_all => 'needs root, unshare -n and iptables '
            . '(a network namespace of its own to drop packets in)');
    }
}

# setup runs once, on the first `use SQTest` (with its options)
my $set_up;
sub import {
    my ($class, %o) = @_;
    if (!$set_up++) {
        netns($o{netns}) if $o{netns};
        %OPT = %o;
        $OPT{acl} //= $ENV{SQ_REDIS_ACL};
        setup();
    }
    $class->export_to_level(1, $class);
}

# === issue 14, "edge": OAuth access tokens written straight into Redis ===

# token_digest($token): hex BLAKE2b-256 keyed with the pepper, as
# sq_key_digest_hex (Debian's python3: hashlib has keyed BLAKE2b)
sub token_digest {
    my ($token) = @_;
    my ($hex, $rc) = run_capture('/usr/bin/python3', '-c',
        'import hashlib,sys; p=bytes.fromhex(open(sys.argv[1]).read().strip());'
        . ' print(hashlib.blake2b(sys.argv[2].encode(), key=p,'
        . ' digest_size=32).hexdigest())', "$DIR/pepper", $token);
    die "token digest failed\n" if $rc || $hex !~ /^[0-9a-f]{64}$/;
    return $hex;
}

# mint_oauth_token(user => U, workspace => W, scopes => 'a:read b:write',
#   app_id => A, grant_id => G, expires_in => 3600): an access token
# "sqo_" + 40 base62 and its key record as redis/SCHEMA.md ("API
# Applications") has the token endpoint write it: type oauth, mode live,
# id from sq:seq:key, no sq:keyid: and not in the user's keys; its digest
# in sq:grant:<G>:access.  Returns ($token, $digest, $id).
sub mint_oauth_token {
    my (%o) = @_;
    my @c = ('0' .. '9', 'A' .. 'Z', 'a' .. 'z');
    my $token = 'sqo_' . join('', map { $c[int rand 62] } 1 .. 40);
    my $digest = token_digest($token);
    my $id = redis_cli('INCR', 'sq:seq:key');
    my $now = int time;
    my $app = $o{app_id} // 1;
    my $gid = $o{grant_id} // 1;
    redis_cli('HSET', "sq:key:{$digest}", 'id', $id, 'type', 'oauth',
              'mode', 'live', 'status', 'active', 'user_id', $o{user},
              'scopes', $o{scopes} // '', 'workspaces', $o{workspace},
              'expires_at', $now + ($o{expires_in} // 3600),
              'rotated_at', 0, 'sunset_at', 0, 'replaced_by', 0,
              'name', 'oauth', 'created_at', $now,
              'last4', substr($token, -4), 'app_id', $app,
              'grant_id', $gid);
    redis_cli('SADD', "sq:grant:$gid:access", $digest);
    return ($token, $digest, $id);
}

# === end of issue 14, "edge" ===

END {
    if ($$ == $parent) {
        my $rc = $?;
        reap('nginx', 'QUIT');
        reap('backend', 'TERM');
        redis_thaw();
        reap('redis', 'TERM');
        $? = $rc;
    }
}

1;
