# What the identity signature binds (smartlyq-v5, sq_identity.h): the
# body and the Content-Type, and a nonce the backend accepts once.
#
# A capture server stands where an attacker watching the edge->backend
# hop would: the edge proxies to it, it keeps the exact bytes (headers and
# body) and answers 200.  The capture is then replayed to the backend:
# as is (accepted once, then refused), with another body, another
# Content-Type, or a body where the edge signed none (refused).  Genuine
# requests with JSON, form, chunked, other-type and temp-file bodies go
# through the edge to the backend and are accepted, their bodies intact.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Test::More;

my $T = $SQTest::T;
my $ws1 = $T->{ws1};
my $key = $T->{alice_key};
my $bport = $ENV{TEST_NGINX_BACKEND_PORT};
my $cap_edge = SQTest::free_port();

my $cap = IO::Socket::INET->new(Listen => 8, LocalAddr => '127.0.0.1',
                                LocalPort => 0, ReuseAddr => 1)
    or die "capture listen: $!";
my $cap_port = $cap->sockport;

# /v1/ on $PORT goes to the backend; on $cap_edge to the capture server.
# Bodies over 1k are spilled to a temporary file by nginx.
my $base = SQTest::nginx_start(
    SQTest::server_conf(server => 'client_body_buffer_size 1k;',
                        locations => [SQTest::guarded('/v1/', 'backend')])
    . SQTest::server_conf(port => $cap_edge,
                          server => 'client_body_buffer_size 1k;',
                          locations => [SQTest::guarded('/v1/',
                                                        "127.0.0.1:$cap_port")]));
my ($port) = $base =~ /:(\d+)$/;

# the request bytes, Connection: close; Content-Length added for a body
# unless chunked
sub request_bytes {
    my ($method, $target, $hdrs, $body) = @_;
    my $r = "$method $target HTTP/1.1\r\nHost: localhost\r\n"
          . "Connection: close\r\n";
    $r .= "$_\r\n" for @{ $hdrs || [] };
    $r .= "Content-Length: " . length($body) . "\r\n"
        if defined $body && !grep { /^transfer-encoding:/i } @{ $hdrs || [] };
    return $r . "\r\n" . ($body // '');
}

sub auth { return "Authorization: Bearer $_[0]" }

# capture($method, $target, \@headers, $body): the request sent through
# the capture edge; returns the upstream request as (head, body), head
# ending in its blank line, or () when nothing reached the upstream, and
# the client's status
sub capture {
    my $req = request_bytes(@_);
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my ($st) = SQTest::raw($cap_edge, $req);
        POSIX::_exit($st == 200 ? 0 : 1);
    }
    my ($head, $body) = ('', '');
    if (IO::Select->new($cap)->can_read(10)) {
        my $c = $cap->accept;
        my $buf = '';
        until ($buf =~ /\r\n\r\n/) {
            my $n = sysread($c, $buf, 65536, length $buf) or last;
        }
        ($head, $body) = split /(?<=\r\n\r\n)/, $buf, 2;
        $body //= '';
        my ($len) = $head =~ /^Content-Length: (\d+)\r$/mi;
        while (defined $len && length($body) < $len) {
            sysread($c, $body, $len - length($body), length $body) or last;
        }
        print $c "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
        close $c;
    }
    waitpid $pid, 0;
    return ($head, $body, $? == 0 ? 200 : 0);
}

# a captured head with another body: Content-Length set to match
sub with_body {
    my ($head, $body) = @_;
    $head =~ s/^Content-Length: \d+\r\n//mi;
    $head =~ s/\r\n\r\n\z/\r\nContent-Length: @{[length $body]}\r\n\r\n/;
    return $head . $body;
}

sub header_of {
    my ($head, $name) = @_;
    return $head =~ /^\Q$name\E: ?(.*?)\r$/mi ? $1 : undef;
}

sub blake2b_hex {
    my ($data) = @_;
    my $pid = open(my $py, '-|') // die "fork: $!";
    if ($pid == 0) {
        open my $in, '|-', 'python3', '-c',
            'import hashlib,sys;'
            . 'print(hashlib.blake2b(sys.stdin.buffer.read(),'
            . 'digest_size=32).hexdigest())' or POSIX::_exit(1);
        binmode $in;
        print $in $data;
        close $in;
        POSIX::_exit(0);
    }
    my $out = <$py> // '';
    close $py;
    chomp $out;
    return $out;
}

sub backend_log {
    open my $fh, '<', "$SQTest::DIR/backend.log" or return '';
    local $/;
    return scalar <$fh>;
}

# how many times the backend logged a reason since the last look
my $log_seen = 0;
sub new_log {
    my $log = backend_log();
    my $new = substr($log, $log_seen);
    $log_seen = length $log;
    return $new;
}

my $json_ct = 'Content-Type: application/json';
my $article = '{"title": "signed", "body": "the body the edge saw"}';
my $evil = '{"title": "evil!!", "body": "the body the edge saw"}';
my $target = "/v1/articles?workspace_id=$ws1";

# --- a captured write --------------------------------------------------

my ($head, $body, $cst) = capture('POST', $target, [auth($key), $json_ct],
                                  $article);
is($cst, 200, 'the capture edge let the write through');
is($body, $article, 'the upstream got the body as sent');
like(header_of($head, 'X-SmartlyQ-Nonce'), qr/^[0-9a-f]{32}$/,
     'a 16-byte hex nonce');
my $digest = header_of($head, 'X-SmartlyQ-Body-Digest');
like($digest, qr/^[0-9a-f]{64}$/, 'a body digest');
SKIP: {
    skip 'no python3 for BLAKE2b', 1 unless -x '/usr/bin/python3';
    is($digest, blake2b_hex($article), '... BLAKE2b-256 of the body');
}
new_log();

# (1) the same headers with another body: refused, same and other length
my ($st, undef, $resp) = SQTest::raw($bport, with_body($head, $evil));
is($st, 401, 'replayed with another body of the same length: 401');
like($resp, qr/did not come through the SmartlyQ edge/, '... the envelope');
($st) = SQTest::raw($bport, with_body($head, "$article "));
is($st, 401, 'replayed with one byte more: 401');
($st) = SQTest::raw($bport, with_body($head, ''));
is($st, 401, 'replayed with no body: 401');
is(scalar(() = new_log() =~ /identity body digest mismatch/g), 3,
   '... each logged as a body digest mismatch');

# (3) another Content-Type, or none
(my $ct_head = $head) =~ s{^Content-Type: application/json\r$}
                          {Content-Type: application/json; charset=latin1\r}mi;
isnt($ct_head, $head, 'the Content-Type was rewritten');
($st) = SQTest::raw($bport, $ct_head . $body);
is($st, 401, 'replayed with another Content-Type: 401');
($ct_head = $head) =~ s/^Content-Type: .*\r\n//mi;
($st) = SQTest::raw($bport, $ct_head . $body);
is($st, 401, 'replayed without its Content-Type: 401');
($st) = SQTest::raw($bport, $head =~ s/\r\n\r\n\z/\r\nContent-Type: text\/plain\r\n\r\n/r
                    . $body);
is($st, 401, 'replayed with a second Content-Type: 401');
like(new_log(), qr/identity signature mismatch/, '... signature mismatch');

# the capture itself, once: accepted (it never reached the backend)
($st, undef, $resp) = SQTest::raw($bport, $head . $body);
is($st, 201, 'the exact capture, first use at the backend: 201');
like($resp, qr/"title": "signed"/, '... created from the signed body');

# (2) the exact bytes again
($st, undef, $resp) = SQTest::raw($bport, $head . $body);
is($st, 401, 'the exact capture replayed: 401');
like($resp, qr/did not come through the SmartlyQ edge/, '... the envelope');
like(new_log(), qr/identity nonce already used/, '... logged as a replay');
like(SQTest::redis_cli('ttl', 'sq:nonce:' . header_of($head,
                                                      'X-SmartlyQ-Nonce')),
     qr/^(29\d|30[01])$/, 'the nonce is kept for the signature window');

# (5) a body where the edge signed none
($head, $body) = capture('GET', "/v1/me?workspace_id=$ws1", [auth($key)]);
is(header_of($head, 'X-SmartlyQ-Body-Digest'), undef,
   'a request without a body: no body digest header (the backend reads '
   . 'an absent one as empty)');
($st) = SQTest::raw($bport, with_body($head, '{"workspace_id": 1}'));
is($st, 401, 'a body added to a request signed without one: 401');
($st) = SQTest::raw($bport, $head);
is($st, 200, '... while the capture as is was still good');
like(new_log(), qr/identity body digest mismatch/, '... body mismatch');

# (2') a read's exact replay: refused too, by the backend process's
# anti-replay window (no Redis write for a read)
($head, $body) = capture('GET', "/v1/me?workspace_id=$ws1", [auth($key)]);
($st) = SQTest::raw($bport, $head);
is($st, 200, 'a captured read, first use at the backend: 200');
($st, undef, $resp) = SQTest::raw($bport, $head);
is($st, 401, 'the same read replayed: 401');
like($resp, qr/did not come through the SmartlyQ edge/, '... the envelope');
like(new_log(), qr/identity nonce already used/, '... logged as a replay');
is(SQTest::redis_cli('exists', 'sq:nonce:' . header_of($head,
                                                       'X-SmartlyQ-Nonce')),
   '0', '... without a write to Redis');

# reads signed before the backend process started may have been seen by
# the process before it: 503 (retry), never a pass; writes are still
# refused by their Redis claim
my ($rhead) = capture('GET', "/v1/me?workspace_id=$ws1", [auth($key)]);
($st) = SQTest::raw($bport, $rhead);
is($st, 200, 'another captured read: 200');
my ($whead, $wbody) = capture('POST', $target, [auth($key), $json_ct],
                              '{"title": "before restart"}');
($st) = SQTest::raw($bport, $whead . $wbody);
is($st, 201, 'a captured write: 201');
sleep 1.1;
SQTest::reap('backend', 'TERM');
SQTest::backend_start();
new_log();
($st, undef, $resp) = SQTest::raw($bport, $rhead);
is($st, 503, 'the read replayed to a restarted backend: 503');
like($resp, qr/SERVICE_UNAVAILABLE/, '... envelope');
($st) = SQTest::raw($bport, $whead . $wbody);
is($st, 401, 'the write replayed to a restarted backend: 401 (Redis)');
($st) = SQTest::raw($port, request_bytes('GET', "/v1/me?workspace_id=$ws1",
                                 [auth($key)]));
is($st, 200, 'a new read through the edge after the restart: 200');

# a body of a type the edge does not parse is signed all the same
my $plain = "just text\n" x 10;
($head, $body) = capture('PUT', "/v1/articles/1?workspace_id=$ws1",
                         [auth($key), 'Content-Type: text/plain'], $plain);
is($body, $plain, 'a text/plain body reaches the upstream intact');
like(header_of($head, 'X-SmartlyQ-Body-Digest'), qr/^[0-9a-f]{64}$/,
     '... and is digested');
($st) = SQTest::raw($bport, with_body($head, "other text\n"));
is($st, 401, '... another text under its headers: 401');

# --- genuine requests through the edge ---------------------------------

sub edge { return SQTest::raw($port, request_bytes(@_)) }

($st, undef, $resp) = edge('POST', $target, [auth($key), $json_ct], $article);
is($st, 201, 'JSON body: 201');

($st, undef, $resp) = edge('POST', $target, [auth($key),
                    'Content-Type: application/x-www-form-urlencoded'],
                    "title=form&workspace_id=$ws1");
is($st, 400, 'form body: reaches the backend');
like($resp, qr/Content-Type must be application\/json/,
     '... which refuses the type, not the identity');

my $chunked = join '', map { sprintf("%x\r\n%s\r\n", length, $_) }
                       ('{"title": "chunked", ', '"body": "in parts"}'), '';
$chunked .= "0\r\n\r\n";
($st, undef, $resp) = edge('POST', $target, [auth($key), $json_ct,
                    'Transfer-Encoding: chunked'], $chunked);
is($st, 201, 'chunked JSON body: 201');
like($resp, qr/"body": "in parts"/, '... all of it');

# 20 KB: past client_body_buffer_size, so read back from the temp file
my $big = '{"title": "spilled", "body": "' . ('z' x 20000) . '"}';
($st, undef, $resp) = edge('POST', $target, [auth($key), $json_ct], $big);
is($st, 201, 'a 20 KB JSON body spilled to a temp file: 201');
like($resp, qr/"body": "z{20000}"/, '... intact');
($head, $body) = capture('POST', $target, [auth($key), $json_ct], $big);
is($body, $big, '... and intact at the upstream');
SKIP: {
    skip 'no python3 for BLAKE2b', 1 unless -x '/usr/bin/python3';
    is(header_of($head, 'X-SmartlyQ-Body-Digest'), blake2b_hex($big),
       '... with the digest of all of it');
}

my $bigplain = 'p' x 5000;
($head, $body) = capture('POST', $target, [auth($key),
                         'Content-Type: application/octet-stream',
                         'Transfer-Encoding: chunked'],
                         sprintf("%x\r\n%s\r\n0\r\n\r\n", 5000, $bigplain));
is($body, $bigplain, 'a chunked octet-stream body, spilled: intact');
SKIP: {
    skip 'no python3 for BLAKE2b', 1 unless -x '/usr/bin/python3';
    is(header_of($head, 'X-SmartlyQ-Body-Digest'), blake2b_hex($bigplain),
       '... digested from the temp file');
}
($st, undef, $resp) = edge('POST', $target, [auth($key),
                    'Content-Type: application/octet-stream'], $bigplain);
is($st, 400, '... through to the backend: its own 400, not a 401');

($st, undef, $resp) = edge('GET', "/v1/me?workspace_id=$ws1", [auth($key)],
                            '{}');
is($st, 200, 'a GET with a body: read, signed, accepted');

($st, undef, $resp) = edge('GET', "/v1/me?workspace_id=$ws1", [auth($key)]);
is($st, 200, 'a GET without one');

# two Content-Types: which one was signed is not left to the reader
($st, undef, $resp) = edge('POST', $target, [auth($key), $json_ct,
                    'Content-Type: text/plain'], $article);
is($st, 400, 'two Content-Types: 400 at the edge');
like($resp, qr/at most one Content-Type/, '... saying so');

# every body is bounded by smartlyq_body_limit (64k), whatever its type
($st, undef, $resp) = edge('POST', $target, [auth($key),
                    'Content-Type: text/plain'], 'x' x 65537);
is($st, 413, 'a text/plain body over the limit: 413');
like($resp, qr/PAYLOAD_TOO_LARGE/, '... envelope');
($st, undef, $resp) = edge('PUT', $target, [auth($key),
                    'Content-Type: text/plain',
                    'Transfer-Encoding: chunked'],
                    sprintf("%x\r\n%s\r\n0\r\n\r\n", 65537, 'x' x 65537));
is($st, 413, '... chunked too');

unlike(SQTest::nginx_error_log(), qr/\[(alert|emerg|crit)\]|signal \d+/,
       'no alert or crash in nginx');

done_testing();
