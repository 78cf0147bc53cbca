# A module upgrade under load: five times, a new build of the module (a
# copy with one answer changed, "Invalid API key." made "Invalid API
# ke<n>.", written to a new file so dlopen maps it rather than reusing
# the loaded one) is put next to the configuration, load_module is pointed at it and
# nginx gets SIGHUP (nginx -s reload), 1.5 s apart, while three clients
# stream allowed and foreign-workspace requests through the edge and
# /v1/me through the backend: two on keep-alive connections, one with
# Connection: close.  Checked:
#   - 0 failures: every answer is the expected status with its whole,
#     expected body.  A keep-alive client retries a request once, on a
#     fresh connection, when its reused connection is reset or closed
#     before any byte of the response (RFC 9112 9.3.1 allows it for
#     idempotent methods: nginx 1.22 closes idle keep-alive connections
#     on reload); those retries are counted and reported, not failures;
#   - a foreign workspace never gets 2xx, from any module version;
#   - after the swaps, the decision cache (a new zone: its tag is the
#     module's address) gives hits and hears a key being disabled;
#   - after each swap the new workers map the new file and only it, and
#     its code answers (the changed message); at the end only two
#     workers remain, they and the master map only the last copy, and
#     the old workers are gone (no "open socket left", no crash).

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use SQLoad;
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
# smartlyq_redis_timeout 1s: about reloads, not timeouts: a new worker
# starved of CPU on a loaded machine must not turn a slow first reply into
# 503.  /c/: the decision cache, whose zone is a new one after each swap.
my $base = SQTest::nginx_start(
    SQTest::indent(SQTest::cache_zone('sqswap:1m ttl=60s'))
    . SQTest::server_conf(
        server => 'smartlyq_redis_timeout 1s;',
        locations => [
            SQTest::guarded('/e/', 'echo', 'smartlyq_cache off;'),
            SQTest::guarded('/v1/', 'backend', 'smartlyq_cache off;'),
            SQTest::guarded('/c/', 'echo',
                'add_header X-Cache $smartlyq_cache_status always;')],
        metrics => 1), 2);
my $master = SQTest::pid_of('nginx');
my $port = $SQTest::PORT{nginx};
my $conf = "$SQTest::DIR/nginx/nginx.conf";
my $orig = "$SQTest::BUILD/ngx_http_smartlyq_module.so";
my $swaps = 5;

my $good = qr/^user=$T->{alice} key=\d+ ws=$T->{ws1} mode=live auth= sig=[0-9a-f]{64}\n\z/;
my $forbidden = '{"success": false, "error": {"code": "FORBIDDEN", "message": '
              . '"You do not have access to this workspace."}}';
my @requests = (
    [ "/e/x?workspace_id=$T->{ws1}", sub { $_[0] == 200 && $_[1] =~ $good } ],
    [ "/e/x?workspace_id=$T->{wsb}", sub { $_[0] == 403 && $_[1] eq $forbidden } ],
    [ '/v1/me', sub { $_[0] == 200 && $_[1] =~ /^\{"success": true/
                      && $_[1] =~ /"id": $T->{alice}\b/ } ],
);

# --- a small keep-alive client -----------------------------------------------
# one request on $sock; returns (status, body, close, bytes received),
# status -1 when the connection ended or failed before a whole response,
# 0 when nothing came within 5 s
sub one {
    my ($sock, $path, $close) = @_;
    my $req = "GET $path HTTP/1.1\r\nHost: edge\r\n"
            . "Authorization: Bearer $T->{alice_key}\r\n"
            . ($close ? "Connection: close\r\n" : '') . "\r\n";
    return (-1, '', 1, 0) unless defined syswrite($sock, $req);
    my $sel = IO::Select->new($sock);
    my $buf = '';
    my $end = time + 5;
    while (1) {
        my $h = index($buf, "\r\n\r\n");
        if ($h >= 0) {
            my $head = substr($buf, 0, $h);
            my ($status) = $head =~ m{^HTTP/1\.1 (\d{3}) };
            my ($len) = $head =~ /^Content-Length:\s*(\d+)\r?$/mi;
            my $cl = $head =~ /^Connection:\s*close\r?$/mi ? 1 : 0;
            return (-1, $buf, 1, length $buf) unless defined $status;
            if ($head =~ /^Transfer-Encoding:\s*chunked\r?$/mi) {
                # the backend's answers: whole only with the last chunk
                my $rest = substr($buf, $h + 4);
                my $body = '';
                while ($rest =~ s/\A([0-9a-fA-F]+)\r\n//) {
                    my $n = hex $1;
                    return ($status, $body, $cl, length $buf)
                        if $n == 0 && $rest eq "\r\n";
                    last if $n == 0 || length $rest < $n + 2;
                    $body .= substr($rest, 0, $n);
                    $rest = substr($rest, $n + 2);
                }
            } else {
                return (-1, $buf, 1, length $buf) unless defined $len;
                return ($status, substr($buf, $h + 4, $len), $cl, length $buf)
                    if length($buf) - $h - 4 >= $len;
            }
        }
        my $left = $end - time;
        return (0, $buf, 1, length $buf) if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($sock, $buf, 65536, length $buf);
        return (-1, $buf, 1, length $buf) unless $n;
    }
}

sub client {
    my ($kind, $secs, $out, $offset) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $close = $kind eq 'close';
    my %n = (ok => 0, bad => 0, retries => 0, foreign2xx => 0);
    my @badlog;
    my ($sock, $reused);
    my $i = $offset;
    my $end = time + $secs;
    while (time < $end) {
        my ($path, $want) = @{ $requests[$i++ % @requests] };
        my ($status, $body, $cl, $got);
        for my $try (1, 2) {
            if (!$sock) {
                $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                              PeerPort => $port, Timeout => 2);
                $reused = 0;
                if (!$sock) { ($status, $body, $cl, $got) = (-2, 'connect', 1, 0); last }
            }
            ($status, $body, $cl, $got) = one($sock, $path, $close);
            my $was_reused = $reused;
            $reused = 1;
            if ($status <= 0 || $cl) { close $sock; undef $sock }
            # a reused connection closed under us before any byte: retry once
            if ($status == -1 && $got == 0 && $was_reused && $try == 1) {
                $n{retries}++;
                next;
            }
            last;
        }
        $n{foreign2xx}++ if $path =~ /=$T->{wsb}$/ && $status =~ /^2/;
        if ($want->($status, $body)) {
            $n{ok}++;
        } else {
            $n{bad}++;
            push @badlog, "$kind $path: $status " . substr($body, 0, 200) if @badlog < 5;
        }
    }
    open my $fh, '>', $out or POSIX::_exit(1);
    print $fh join(' ', map { "$_=$n{$_}" } sort keys %n), "\n";
    print $fh "$_\n" for @badlog;
    close $fh;
    POSIX::_exit(0);
}

# --- the swap ------------------------------------------------------------------
sub maps_of {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/maps" or return ();
    my %so;
    while (my $l = <$fh>) {
        $so{$1} = 1 if $l =~ m{(\S*ngx_http_smartlyq_module\S*\.so)\s*$};
    }
    return sort keys %so;
}

sub workers { return grep { /\S/ } split /\n/, `pgrep -P $master` }

# $pid maps $so and no other copy of the module.  (Without -Bsymbolic
# (config), a new copy's references to the module's own global symbols
# bound to the copy loaded first, through nginx's RTLD_GLOBAL: the old
# code kept running, and the first copy stayed mapped for good.)
sub runs_only {
    my ($pid, $so) = @_;
    my @m = maps_of($pid);
    return "@m" eq $so;
}

# the module's own answer to a well-formed unknown key, on a new
# connection: until it is $want (an old worker may still accept for a
# moment), for 2 s at most
my $unknown = 'sqk_live_' . ('Z' x 40);
sub unknown_key_message {
    my ($want) = @_;
    my $got = '';
    for (1 .. 40) {
        my $r = SQTest::http()->get("$base/e/x", { headers => SQTest::bearer($unknown) });
        $got = $r->{status} == 401 && $r->{content} =~ /"message": "([^"]*)"/
             ? $1 : $r->{status};
        last if $got eq $want;
        sleep 0.05;
    }
    return $got;
}

# copy n is a new build: the module with one answer changed, "Invalid API
# key." made "Invalid API ke<n>.", so the code that runs can be told apart
sub swap_to {
    my ($n) = @_;
    my $so = "$SQTest::DIR/nginx/ngx_http_smartlyq_module-v$n.so";
    open my $src, '<:raw', $orig or die "$orig: $!";
    my $bin = do { local $/; <$src> };
    close $src;
    $bin =~ s/Invalid API key\./Invalid API ke$n./ == 1 or die "no message to mark\n";
    open my $dst, '>:raw', $so or die "$so: $!";
    print {$dst} $bin;
    close $dst or die "$so: $!";
    chmod 0755, $so;
    open my $in, '<', $conf or die $!;
    my $text = do { local $/; <$in> };
    close $in;
    $text =~ s{^load_module \S+;$}{load_module $so;}m or die "no load_module line\n";
    open my $out, '>', "$conf.new" or die $!;
    print $out $text;
    close $out;
    rename "$conf.new", $conf or die $!;
    SQTest::nginx_reload();
    return $so;
}

my $secs = 1 + 1.5 * $swaps + 1.5;
my %child;
my @kinds = (['keepalive1', 0], ['keepalive2', 1], ['close', 2]);
for my $k (@kinds) {
    my $out = "$SQTest::DIR/swap-$k->[0].txt";
    my $pid = fork // die "fork: $!";
    client($k->[0] =~ /^keepalive/ ? 'keepalive' : 'close', $secs, $out, $k->[1])
        if $pid == 0;
    $child{$k->[0]} = [$pid, $out];
}

sleep 1;
# nginx reuses a shared zone across a reload only when its tag, the
# module's address, is the same: after a swap the metrics start afresh
# (reported, not checked)
is(unknown_key_message('Invalid API key.'), 'Invalid API key.', 'the module as built answers');
my $rt = 'smartlyq_redis_round_trips_total';
my @trips = (SQTest::metric($base, $rt) // -1);
my (@so, @took);
my $old = join ' ', workers();
for my $n (1 .. $swaps) {
    my $t0 = time;
    my $so = swap_to($n);
    push @so, $so;
    # the new workers (pids not seen before) map the new copy
    my $seen = 0;
    while (time - $t0 < 5) {
        my @new = grep { $old !~ /\b$_\b/ } workers();
        if (@new >= 2 && 2 == grep { runs_only($_, $so) } @new) {
            $seen = 1;
            $old .= " @new";
            last;
        }
        sleep 0.05;
    }
    push @took, time - $t0;
    push @trips, SQTest::metric($base, $rt) // -1;
    ok($seen, sprintf("swap $n: two new workers map copy v$n, and only it, within %.2f s",
                      $took[-1]));
    is(unknown_key_message("Invalid API ke$n."), "Invalid API ke$n.", "swap $n: the new copy's code answers");
    sleep 1.5 - (time - $t0) if time - $t0 < 1.5;
}
waitpid $_->[0], 0 for values %child;

# --- the clients ------------------------------------------------------------------
my (%sum, @badlog);
for my $k (map { $_->[0] } @kinds) {
    open my $fh, '<', $child{$k}[1] or die "no result from client $k\n";
    my ($line, @rest) = <$fh>;
    close $fh;
    my %n = map { split /=/ } split ' ', $line;
    $sum{$k} = \%n;
    push @badlog, @rest;
    cmp_ok($n{ok}, '>', 100, "$k client: $n{ok} requests answered as expected");
    is($n{bad}, 0, "$k client: 0 failures");
    is($n{foreign2xx}, 0, "$k client: no 2xx for a foreign workspace");
}
if (@badlog) {
    diag("failures:\n" . join '', @badlog);
    diag("backend log:\n" . `tail -n 20 $SQTest::DIR/backend.log`);
    my @err = grep { /\[(error|crit|alert|emerg)\]/ } split /\n/, SQTest::nginx_error_log();
    diag("nginx errors (" . scalar(@err) . "):\n" . join "\n", @err[0 .. ($#err < 19 ? $#err : 19)]);
}
is($sum{close}{retries}, 0, 'the Connection: close client never needed a retry');

# --- the cache after the swaps: hits, then a revocation heard --------------------
my $victim = sqctl('key', 'create', '--user', $T->{alice}, '--name', 'victim');
my ($vline) = grep { /victim/ } split /\n/, sqctl('key', 'list', '--user', $T->{alice});
my ($victim_id) = $vline =~ /^\s*(\d+)/;
my $cpath = "/c/x?workspace_id=$T->{ws1}";
ok(scalar SQTest::poll_request($base, $cpath, $victim, sub { $_[0] == 200 && $_[1] eq 'HIT' }, 3),
   'after the swaps the cache serves hits');
sqctl('key', 'disable', '--id', $victim_id);
my ($lag) = SQTest::poll_request($base, $cpath, $victim, sub { $_[0] == 401 }, 3);
ok(defined $lag, sprintf('... and a disabled key is refused %.0f ms after the change',
                         $lag // 0));
my $stays = 1;
for (1 .. 20) {
    my ($st) = SQTest::cache_get($base, 'GET', $cpath, $victim);
    $stays = 0 if $st != 401;
}
ok($stays, '... on every later request (20)');

# --- old workers gone, only the last copy mapped -------------------------------
my @w;
my $t_end = time;
for (1 .. 100) {
    @w = workers();
    last if @w == 2;
    sleep 0.05;
}
is(scalar @w, 2, sprintf('old workers exited: two workers remain (%.2f s after '
                         . 'the last wait)', time - $t_end));
my $last = $so[-1];
for my $pid (@w) {
    ok(runs_only($pid, $last), "worker $pid maps the last copy only")
        or diag("maps: @{[ maps_of($pid) ]}");
}
ok(runs_only($master, $last), 'the master maps the last copy only (the others, '
   . 'the one it started with too, were dlclosed)')
    or diag("master maps: @{[ maps_of($master) ]}");

my $log = SQTest::nginx_error_log();
my $reloads = () = $log =~ /\d+#\d+: reconfiguring$/mg;
is($reloads, $swaps, "$swaps reloads happened");
unlike($log, qr/open socket #\d+ left/, 'no open socket left by an old worker');
unlike($log, qr/exited on signal|\[alert\]|\[emerg\]/, 'no crash, no alert');

diag(sprintf("module swap: %d swaps under load (new workers on the new copy after "
             . "%s s; $rt before and after each, a drop where the zone started "
             . "afresh: @trips); %s", $swaps,
             join(' ', map { sprintf '%.2f', $_ } @took),
             join('; ', map { my $k = $_; "$k: " . join(', ', map { "$_ $sum{$k}{$_}" }
                  sort keys %{ $sum{$k} }) } sort keys %sum)));

done_testing();
