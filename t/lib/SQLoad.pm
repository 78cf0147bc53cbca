package SQLoad;

# Load for fault tests: forked clients that loop over a list of requests
# on keep-alive connections (reconnecting when nginx closes one) and log
# every request: when it started, how long it took, its status, and
# whether the answer was the one expected.  A request with no answer
# within `hang` seconds is logged with status 0.
#
#   my $load = SQLoad::start(port => $p, clients => 2, requests => [
#       { name => 'alice', path => '/v1/me', key => $k,
#         want => sub { my ($status, $body) = @_; ... 1 or 0 } }, ... ]);
#   ... inject faults ...
#   my @rec = SQLoad::stop($load);   # [start, secs, status, name, ok, tag]
#
# A request may have a `body` (a string or a sub making one, sent as
# JSON) and a `tag` sub: ($status, $content, $body) -> a word logged
# with it (the id of a create, say).

use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);

# wants shared by the fault tests: the 503 envelope the edge and the
# backend answer while Redis is out; the echo upstream's answer for
# $user in workspace $ws, or that 503; $status, or that 503
my $UNAVAILABLE = '{"success": false, "error": {"code": '
                . '"SERVICE_UNAVAILABLE"';

sub unavailable {
    my ($status, $body) = @_;
    return $status == 503 && index($body // '', $UNAVAILABLE) == 0;
}

sub echo_of {
    my ($user, $ws) = @_;
    return sub {
        my ($s, $b) = @_;
        return ($s == 200 && $b =~ /^user=$user key=\d+ ws=$ws /)
            || unavailable(@_);
    };
}

sub status_or_503 {
    my ($want) = @_;
    return sub { $_[0] == $want || unavailable(@_) };
}

# rows every fault test loops over, for the seeded tenants $T (each
# answer right, or the 503): Alice and Bob in their own workspaces
# through the edge's /e/ (the echo of their identity) and Alice in Bob's
# (403); and Alice's /v1/me through the backend
sub edge_requests {
    my ($T) = @_;
    return (
        { name => 'edge-alice', key => $T->{alice_key},
          path => "/e/x?workspace_id=$T->{ws1}",
          want => echo_of($T->{alice}, $T->{ws1}) },
        { name => 'edge-bob', key => $T->{bob_key},
          path => "/e/x?workspace_id=$T->{wsb}",
          want => echo_of($T->{bob}, $T->{wsb}) },
        { name => 'edge-foreign', key => $T->{alice_key},
          path => "/e/x?workspace_id=$T->{wsb}",
          want => status_or_503(403) },
    );
}

sub me_request {
    my ($T) = @_;
    return { name => 'backend-me', key => $T->{alice_key}, path => '/v1/me',
             want => sub { ($_[0] == 200 && $_[1] =~ /"success": true/
                            && $_[1] =~ /"id": $T->{alice}\b/)
                           || unavailable(@_) } };
}

sub _request {
    my ($sock, $req, $hang) = @_;
    my $sel = IO::Select->new($sock);
    my $buf = '';
    my $end = time + $hang;

    return (-1, '') unless print {$sock} $req;

    while (1) {
        my $head_end = index($buf, "\r\n\r\n");
        if ($head_end >= 0) {
            my $head = substr($buf, 0, $head_end);
            my ($status) = $head =~ m{^HTTP/1\.[01] (\d{3})};
            my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
            my $close = $head =~ /^Connection:\s*close/mi ? 1 : 0;
            if ($head =~ /^Transfer-Encoding:\s*chunked/mi) {
                my $rest = substr($buf, $head_end + 4);
                my $body = '';
                while ($rest =~ s/\A([0-9a-fA-F]+)\r\n//) {
                    my $n = hex $1;
                    if ($n == 0) {
                        return ($status // -1, $body, $close)
                            if $rest =~ /\A\r\n/;
                        last;
                    }
                    last if length $rest < $n + 2;
                    $body .= substr($rest, 0, $n);
                    $rest = substr($rest, $n + 2);
                }
                $len = undef;
            } else {
                $len //= 0;
            }
            if (defined $len && length($buf) - $head_end - 4 >= $len) {
                return ($status // -1, substr($buf, $head_end + 4, $len),
                        $close);
            }
        }
        my $left = $end - time;
        return (0, '') if $left <= 0;
        return (0, '') unless $sel->can_read($left);
        my $n = sysread($sock, $buf, 65536, length $buf);
        return (-1, '') unless $n;      # closed before a full answer
    }
}

sub _client {
    my (%o) = @_;
    my $out = $o{out};
    my $stop = 0;
    local $SIG{TERM} = sub { $stop = 1 };
    my ($sock, @log);
    my $i = $o{offset} || 0;
    my $reqs = $o{requests};

    while (!$stop) {
        my $q = $reqs->[$i++ % @$reqs];
        $sock ||= IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                        PeerPort => $o{port},
                                        Timeout => 2);
        my $t0 = time;
        if (!$sock) {
            push @log, [$t0, 0, -2, $q->{name}, 0, '-'];
            sleep 0.01;
            next;
        }
        my $method = $q->{method} || 'GET';
        my $body = ref $q->{body} eq 'CODE' ? $q->{body}->() : $q->{body};
        my $req = "$method $q->{path} HTTP/1.1\r\nHost: edge\r\n";
        $req .= "Authorization: Bearer $q->{key}\r\n" if $q->{key};
        if (defined $body) {
            $req .= "Content-Type: application/json\r\n"
                  . "Content-Length: " . length($body) . "\r\n";
        }
        $req .= "\r\n" . ($body // '');
        my ($status, $content, $close) = _request($sock, $req,
                                                  $o{hang} || 5);
        last if $stop && $status <= 0;     # cut short by stop()
        my $dt = time - $t0;
        my $ok = $status > 0 && $q->{want}
                 ? ($q->{want}->($status, $content, $body) ? 1 : 0) : 0;
        my $tag = $q->{tag} ? $q->{tag}->($status, $content, $body) : '-';
        push @log, [$t0, $dt, $status, $q->{name}, $ok, $tag];
        if ($status <= 0 || $close) {
            close $sock;
            undef $sock;
        }
        sleep $o{pause} if $o{pause};
    }

    open my $fh, '>', $out or POSIX::_exit(1);
    printf {$fh} "%.6f %.6f %d %s %d %s\n", @$_ for @log;
    close $fh;
    POSIX::_exit(0);
}

sub start {
    my (%o) = @_;
    my @kids;
    my $n = $o{clients} || 1;
    for my $c (1 .. $n) {
        my $out = "$SQTest::DIR/load-$$-" . scalar(@kids) . '-' . int(rand 1e9);
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            _client(%o, out => $out, offset => $c - 1);
        }
        push @kids, [$pid, $out];
    }
    return \@kids;
}

sub stop {
    my ($kids) = @_;
    my @rec;
    kill 'TERM', $_->[0] for @$kids;
    for my $k (@$kids) {
        waitpid $k->[0], 0;
        open my $fh, '<', $k->[1] or next;
        while (<$fh>) {
            chomp;
            push @rec, [split / /];
        }
        close $fh;
        unlink $k->[1];
    }
    return sort { $a->[0] <=> $b->[0] } @rec;
}

# the p-th percentile (0..100) of a list of numbers
sub pct {
    my ($p, @v) = @_;
    return 0 unless @v;
    @v = sort { $a <=> $b } @v;
    my $i = int($p / 100 * $#v + 0.5);
    return $v[$i];
}

# open file descriptors of a process
sub fds {
    my ($pid) = @_;
    opendir my $d, "/proc/$pid/fd" or return -1;
    my $n = grep { !/^\./ } readdir $d;
    closedir $d;
    return $n;
}

# the worker processes of an nginx master
sub workers {
    my ($master) = @_;
    my @w;
    # the master listens before it forks: the port may be open first
    for (1 .. 100) {
        @w = grep { /\S/ } split /\n/, `pgrep -P $master`;
        last if @w;
        select(undef, undef, undef, 0.05);
    }
    return @w;
}

1;
