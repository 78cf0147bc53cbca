package SQHttp;

# A small HTTP/1.1 client for tests that stream requests over one
# keep-alive connection while the server reloads.
#
# nginx closes idle keep-alive connections when an old worker shuts down
# (a reload, a module upgrade).  A request the client writes at that
# moment crosses the close: the client reads EOF, or ECONNRESET because
# the server closed with the request unread in its socket.  RFC 9112
# 9.3.1 lets a client retry an idempotent request once when a reused
# connection closes before any byte of the response arrived; this client
# does exactly that and nothing more:
#
#   - only on a reused connection (a fresh one that fails is a failure);
#   - only when not one byte of the response was read;
#   - only once per request, on a new connection.
#
# Every such retry is counted apart (retries()), so a test can report
# them; anything else (a reset mid-response, a short body, a second
# failure) is returned as status 599 and counts as a failure.

use strict;
use warnings;

use Errno qw(EINTR EAGAIN);
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);

sub new {
    my ($class, %o) = @_;
    die "SQHttp: port needed\n" unless $o{port};
    my $self = {
        host     => $o{host} || '127.0.0.1',
        port     => $o{port},
        timeout  => $o{timeout} || 10,
        sock     => undef,
        used     => 0,      # responses read on the current connection
        retries  => 0,      # retries made under the rule above
        connects => 0,
    };
    return bless $self, $class;
}

sub retries  { $_[0]{retries} }
sub connects { $_[0]{connects} }

sub _connect {
    my ($self) = @_;
    $self->_drop;
    my $s = IO::Socket::INET->new(PeerAddr => $self->{host},
                                  PeerPort => $self->{port},
                                  Proto    => 'tcp',
                                  Timeout  => $self->{timeout})
        or return "connect: $!";
    $s->autoflush(1);
    $self->{sock} = $s;
    $self->{used} = 0;
    $self->{connects}++;
    return undef;
}

sub _drop {
    my ($self) = @_;
    close $self->{sock} if $self->{sock};
    $self->{sock} = undef;
}

# reads at least one more byte into $$buf; returns the count, 0 at EOF,
# undef with $! on an error or timeout
sub _fill {
    my ($self, $buf, $deadline) = @_;
    my $sel = IO::Select->new($self->{sock});
    while (1) {
        my $left = $deadline - time;
        if ($left <= 0) { $! = EAGAIN; return undef }
        next unless $sel->can_read($left);
        my $n = sysread($self->{sock}, $$buf, 65536, length $$buf);
        next if !defined $n && $! == EINTR;
        return $n;
    }
}

# one attempt: (status, headers, body) or (undef, reason, bytes_read)
sub _attempt {
    my ($self, $req) = @_;
    my $deadline = time + $self->{timeout};
    local $SIG{PIPE} = 'IGNORE';
    my $w = syswrite($self->{sock}, $req);
    return (undef, "write: $!", 0) unless defined $w && $w == length $req;

    my $buf = '';
    while ($buf !~ /\r\n\r\n/) {
        my $n = $self->_fill(\$buf, $deadline);
        return (undef, "read: $!", length $buf) unless defined $n;
        return (undef, 'closed', length $buf) if $n == 0;
    }
    my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
    my ($status) = $head =~ m{^HTTP/1\.[01] (\d{3})}
        or return (undef, 'bad status line', length $buf);
    my %h;
    for my $line (split /\r\n/, $head) {
        $h{lc $1} = $2 if $line =~ /^([^:]+):\s*(.*)$/;
    }
    my $len = $h{'content-length'};
    return (undef, 'no content-length', length $buf) unless defined $len;
    while (length $rest < $len) {
        my $n = $self->_fill(\$rest, $deadline);
        return (undef, 'body cut short', length $buf) unless $n;
    }
    return (undef, 'extra bytes', length $buf) if length $rest > $len;
    return ($status, \%h, $rest);
}

# request($method, $path, \%headers): (status, headers, body); status 599
# with the reason as body when it failed
sub request {
    my ($self, $method, $path, $headers) = @_;
    my $req = "$method $path HTTP/1.1\r\nHost: $self->{host}\r\n";
    $req .= "$_: $headers->{$_}\r\n" for sort keys %{ $headers || {} };
    $req .= "\r\n";

    for my $try (0, 1) {
        if (!$self->{sock}) {
            my $err = $self->_connect;
            return (599, {}, $err) if $err;
        }
        my $reused = $self->{used} > 0;
        my ($status, $h, $body) = $self->_attempt($req);
        if (defined $status) {
            $self->{used}++;
            $self->_drop if lc($h->{connection} // '') eq 'close';
            return ($status, $h, $body);
        }
        $self->_drop;
        # $h is the reason, $body the bytes read
        if ($try == 0 && $reused && $body == 0
            && $method =~ /^(GET|HEAD|OPTIONS|PUT|DELETE)$/)
        {
            $self->{retries}++;
            next;
        }
        return (599, {}, "$h (reused: " . ($reused ? 'yes' : 'no')
                         . ", bytes read: $body)");
    }
}

1;
