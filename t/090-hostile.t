# Hostile input against the live stack (edge + backend + Redis), the gaps
# the other suites leave (010 bearer, 020/025 workspace_id, 030 identity,
# 050 isolation cover the basics):
#   - Authorization: odd schemes, two keys, lists, NUL, non-ASCII, huge,
#     keys in the URL;
#   - workspace_id in JSON: strings with signs, spaces, zeros and Unicode
#     digits, reals, overflow, escaped names, duplicates, deep nesting,
#     invalid UTF-8; wrong, missing and duplicated Content-Type; chunked
#     JSON and form bodies; the body limit;
#   - the edge/backend differential: for every hostile input the edge
#     lets through, the workspace it authorized is the one the backend
#     wrote to (read back from the response and from Redis), and nothing
#     ever lands in Bob's workspace;
#   - identity spoofing: X-SmartlyQ-* in every case, a captured identity
#     replayed to the backend on another path, method or workspace, or
#     as is (032 covers bodies and Content-Types);
#   - limits: body, header, JSON depth and array size, page size,
#     connections;
#   - no full key in the nginx error and access logs nor the backend log.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use IO::Socket::INET;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep);

my $T = $SQTest::T;
my $dump_port = SQTest::free_port();
my $dump_edge = SQTest::free_port();

# /v1/ proxies to the backend and answers with the workspace the edge
# authorized (X-Edge-Ws); a second server sends the identity to a dump
# that reflects every X-SmartlyQ-* header it receives.
# bodies stay in memory: the standalone nginx's workers cannot write the
# test's private temp dir (025 covers temp files)
my $base = SQTest::nginx_start(
    SQTest::server_conf(server => 'client_body_buffer_size 128k;',
                        locations => [SQTest::guarded('/v1/', 'backend',
                            'add_header X-Edge-Ws "ws=$smartlyq_workspace_id" always;')])
    . SQTest::server_conf(port => $dump_edge,
                          locations => [SQTest::guarded('/v1/',
                                                        "127.0.0.1:$dump_port")])
    . <<"CONF");
    server {
        listen 127.0.0.1:$dump_port;
        default_type text/plain;
        location / {
            return 200 "X-SmartlyQ-User-Id: \$http_x_smartlyq_user_id
X-SmartlyQ-Key-Id: \$http_x_smartlyq_key_id
X-SmartlyQ-Workspace-Id: \$http_x_smartlyq_workspace_id
X-SmartlyQ-Key-Mode: \$http_x_smartlyq_key_mode
X-SmartlyQ-Key-Type: \$http_x_smartlyq_key_type
X-SmartlyQ-Key-Scopes: \$http_x_smartlyq_key_scopes
X-SmartlyQ-Key-Workspaces: \$http_x_smartlyq_key_workspaces
X-SmartlyQ-Timestamp: \$http_x_smartlyq_timestamp
X-SmartlyQ-Nonce: \$http_x_smartlyq_nonce
X-SmartlyQ-Body-Digest: \$http_x_smartlyq_body_digest
X-SmartlyQ-Signature: \$http_x_smartlyq_signature
Authorization: \$http_authorization
Spoof: \$http_x_smartlyq_spoof
";
        }
    }
CONF

my ($port) = $base =~ /:(\d+)$/;
my $json = JSON::PP->new->canonical;
my $key = $T->{alice_key};
my $forbidden = '{"success": false, "error": {"code": "FORBIDDEN", '
              . '"message": "You do not have access to this workspace."}}';

# req($method, $target, \@headers, $body): an HTTP/1.1 request through
# the edge, Content-Length added when a body is given
sub req {
    my ($method, $target, $hdrs, $body, $p) = @_;
    my $r = "$method $target HTTP/1.1\r\nHost: localhost\r\n"
          . "Connection: close\r\n";
    $r .= "$_\r\n" for @{ $hdrs || [] };
    $r .= "Content-Length: " . length($body) . "\r\n"
        if defined $body && !grep { /^transfer-encoding:/i } @{ $hdrs || [] };
    $r .= "\r\n" . ($body // '');
    return SQTest::raw($p || $port, $r);
}

sub auth { return "Authorization: Bearer $_[0]" }

sub bob_articles {
    return redis_cli('zcard', "sq:ws:{w$T->{wsb}}:articles")
         + redis_cli('zcard', "sq:ws:{w$T->{wsb}}:test:articles");
}

# --- Authorization ------------------------------------------------------

my $fake = 'sqk_live_' . ('Q' x 40);       # key-shaped, never issued
my @auth = (
    ['no header', [], 401],
    ['empty', ['Authorization:'], 401],
    ['scheme only', ['Authorization: Bearer'], 401],
    ['no scheme', ["Authorization: $key"], 401],
    ['Basic', ['Authorization: Basic YWxpY2U6c2VjcmV0'], 401],
    ['Token scheme', ["Authorization: Token $key"], 401],
    ['Bearer: with a colon', ["Authorization: Bearer:$key"], 401],
    ['two keys in one header', ["Authorization: Bearer $key $key"], 401],
    ['a list of credentials', ["Authorization: Bearer $key, Basic eA=="],
     401],
    ['key then a comma', ["Authorization: Bearer $key,"], 401],
    ['NUL inside the key', ["Authorization: Bearer " . substr($key, 0, 20)
                            . "\0" . substr($key, 21)], qr/^40[01]$/],
    ['non-ASCII inside the key', ["Authorization: Bearer "
                                  . substr($key, 0, 20) . "\xc3\xa9"
                                  . substr($key, 22)], 401],
    ['huge key (6 KiB)', ["Authorization: Bearer sqk_live_" . ('a' x 6000)],
     401],
    ['huge header (20 KiB)', ["Authorization: Bearer " . ('a' x 20000)],
     qr/^(400|494)$/],
    ['duplicated, same key', [auth($key), auth($key)], 400],
    ['duplicated, other case', [auth($key), "authorization: Bearer $key"],
     400],
    ['unknown key', [auth($fake)], 401],
);

for my $c (@auth) {
    my ($name, $hdrs, $want) = @$c;
    my ($st, $h, $body) = req('GET', '/v1/me', $hdrs);
    if (ref $want) {
        like($st, $want, "Authorization $name: $st");
    } else {
        is($st, $want, "Authorization $name: $want");
    }
    unlike($body, qr/"email"/, "... no data");
    like($h->{'www-authenticate'} // '', qr/^Bearer realm="smartlyq"/,
         '... WWW-Authenticate') if $st == 401;
}

# keys in the URL are refused before anything else, even with a valid
# header (only never-issued keys here: URLs are in the access log)
for my $t ("/v1/me?api_key=$fake", "/v1/me?x=%73qk_live_" . ('Q' x 40),
           "/v1/me?SQK_LIVE_" . ('Q' x 40), "/v1/$fake/me",
           "/v1/me?a=b&key=sqp_test_" . ('Z' x 32))
{
    my ($st, undef, $body) = req('GET', $t, [auth($key)]);
    is($st, 400, "key in the URL refused: $t");
    like($body, qr/must not be sent in the URL/, '... saying why');
}

# --- workspace_id in JSON bodies: refused at the edge -------------------

my $ws1 = $T->{ws1};
my $ws2 = $T->{ws2};
my $wsb = $T->{wsb};
my $deep = ('[' x 3000) . (']' x 3000);
my @bad_json = (
    ['sign in a string', qq({"title": "t", "workspace_id": "+$ws2"})],
    ['minus', qq({"title": "t", "workspace_id": -$ws2})],
    ['leading zero in a string', qq({"title": "t", "workspace_id": "0$ws2"})],
    ['leading space in a string', qq({"title": "t", "workspace_id": " $ws2"})],
    ['trailing space in a string', qq({"title": "t", "workspace_id": "$ws2 "})],
    ['newline in a string', qq({"title": "t", "workspace_id": "$ws2\\n"})],
    ['NUL in a string', qq({"title": "t", "workspace_id": "$ws2\\u0000"})],
    ['fullwidth digits', qq({"title": "t", "workspace_id": "\xef\xbc\x91"})],
    ['Arabic-Indic digits', qq({"title": "t", "workspace_id": "\xd9\xa1"})],
    ['a real', qq({"title": "t", "workspace_id": $ws2.0})],
    ['an exponent', qq({"title": "t", "workspace_id": ${ws2}e0})],
    ['zero', qq({"title": "t", "workspace_id": 0})],
    ['2^53', qq({"title": "t", "workspace_id": 9007199254740992})],
    ['2^64 + 1', qq({"title": "t", "workspace_id": 18446744073709551617})],
    ['1e400', qq({"title": "t", "workspace_id": 1e400})],
    ['hex string', qq({"title": "t", "workspace_id": "0x$ws2"})],
    ['array', qq({"title": "t", "workspace_id": [$ws2]})],
    ['object', qq({"title": "t", "workspace_id": {"id": $ws2}})],
    ['true', qq({"title": "t", "workspace_id": true})],
    ['null', qq({"title": "t", "workspace_id": null})],
    ['duplicate key', qq({"workspace_id": $ws1, "workspace_id": $wsb})],
    ['duplicate key, same value', qq({"workspace_id": $ws1, )
                                  . qq("workspace_id": $ws1})],
    ['duplicate through an escape', qq({"workspace\\u005fid": $ws1, )
                                    . qq("workspace_id": $wsb})],
    ['duplicate elsewhere', qq({"workspace_id": $ws1, "x": {"a": 1, "a": 2}})],
    ['deep nesting (3000)', qq({"title": "t", "workspace_id": $ws1, )
                            . qq("x": $deep})],
    ['invalid UTF-8', qq({"title": "\xc3\x28", "workspace_id": $wsb})],
    ['overlong UTF-8', qq({"title": "\xc0\xaf", "workspace_id": $wsb})],
    ['UTF-16 surrogate half', qq({"title": "\\ud800", "workspace_id": $wsb})],
    ['trailing garbage', qq({"workspace_id": $ws1} {"workspace_id": $wsb})],
    ['byte-order mark', qq(\xef\xbb\xbf{"workspace_id": $wsb})],
    ['top-level array', qq([{"workspace_id": $wsb}])],
    ['top-level string', qq("workspace_id")],
    ['empty body', ''],
);

my $bob_before = bob_articles();

for my $c (@bad_json) {
    my ($name, $body) = @$c;
    for my $method ('POST', 'PUT', 'PATCH', 'DELETE') {
        my ($st, undef, $resp) = req($method, '/v1/articles',
            [auth($key), 'Content-Type: application/json'], $body);
        my $want = $name eq 'empty body' ? qr/^(201|400|405)$/ : qr/^400$/;
        like($st, $want, "JSON $name, $method: $st")
            or diag($resp);
    }
}

# workspace_id the edge refuses in the query, with a JSON body
for my $q ("workspace_id=%2B$ws2", "workspace_id=+$ws2",
           "workspace_id=%20$ws2", "workspace_id=$ws2%20",
           "workspace_id=0$ws2", "workspace_id=%EF%BC%91",
           "workspace_id=18446744073709551617",
           "workspace_id=$ws2&workspace_id=$ws2",
           "workspace_id=$ws2&workspace%5fid=$wsb",
           "workspace_id=$ws2;workspace_id=$wsb",
           "workspace_id=$ws2%00")
{
    my ($st) = req('POST', "/v1/articles?$q",
                   [auth($key), 'Content-Type: application/json'],
                   '{"title": "q"}');
    is($st, 400, "query $q: 400");
}

# --- Content-Type: what the edge skips, the backend refuses -------------

my @ctypes = (
    ['no Content-Type', []],
    ['text/plain', ['Content-Type: text/plain']],
    ['application/jsonx', ['Content-Type: application/jsonx']],
    ['application/json, text/plain', ['Content-Type: application/json, '
                                      . 'text/plain']],
    ['application/json-patch+json', ['Content-Type: '
                                     . 'application/json-patch+json']],
    ['multipart', ['Content-Type: multipart/form-data; boundary=x']],
    ['two Content-Types, JSON second', ['Content-Type: text/plain',
                                        'Content-Type: application/json']],
    ['two Content-Types, JSON first', ['Content-Type: application/json',
                                       'Content-Type: text/plain']],
    ['gzip-encoded', ['Content-Type: application/json',
                      'Content-Encoding: gzip']],
);

for my $c (@ctypes) {
    my ($name, $hdrs) = @$c;
    my ($st, undef, $body) = req('POST', '/v1/articles', [auth($key), @$hdrs],
        qq({"title": "ct", "workspace_id": $wsb}));
    like($st, qr/^(400|403)$/, "body for Bob's ws with $name: $st")
        or diag($body);
}

# a form body naming Bob's workspace, plain and chunked: the edge reads it
my $form = "title=f&workspace_id=$wsb";
my ($st, $h, $body) = req('POST', '/v1/articles',
    [auth($key), 'Content-Type: application/x-www-form-urlencoded'], $form);
is($st, 403, 'form body naming Bob\'s ws: 403');
is($body, $forbidden, '... the seed envelope');

($st) = req('POST', '/v1/articles',
    [auth($key), 'Content-Type: application/x-www-form-urlencoded',
     'Transfer-Encoding: chunked'],
    sprintf("%x\r\n%s\r\n0\r\n\r\n", length $form, $form));
is($st, 403, 'chunked form body naming Bob\'s ws: 403');

# chunked JSON split inside "workspace_id" and inside the value
my $cj = qq({"title": "c", "workspace_id": $wsb});
my $chunks = '';
for my $piece (substr($cj, 0, 20), substr($cj, 20, 5), substr($cj, 25)) {
    $chunks .= sprintf("%x\r\n%s\r\n", length $piece, $piece);
}
($st) = req('POST', '/v1/articles',
    [auth($key), 'Content-Type: application/json',
     'Transfer-Encoding: chunked'], "${chunks}0\r\n\r\n");
is($st, 403, 'chunked JSON split mid-name naming Bob\'s ws: 403');

# Content-Length and Transfer-Encoding together, and a bad length
($st) = SQTest::raw($port, "POST /v1/articles HTTP/1.1\r\nHost: x\r\n"
    . "Connection: close\r\n" . auth($key) . "\r\n"
    . "Content-Type: application/json\r\nContent-Length: 5\r\n"
    . "Transfer-Encoding: chunked\r\n\r\n"
    . sprintf("%x\r\n%s\r\n0\r\n\r\n", length $cj, $cj));
like($st, qr/^(400|403)$/, "Content-Length + chunked naming Bob's ws: $st");
($st) = SQTest::raw($port, "POST /v1/articles HTTP/1.1\r\nHost: x\r\n"
    . "Connection: close\r\n" . auth($key) . "\r\n"
    . "Content-Type: application/json\r\nContent-Length: -1\r\n\r\n$cj");
is($st, 400, 'negative Content-Length: 400');

is(bob_articles(), $bob_before, 'nothing of the above landed in Bob\'s ws');

# --- the differential: accepted hostile input, same workspace -----------
#
# For each request the edge lets through, X-Edge-Ws is the workspace it
# authorized ($smartlyq_workspace_id, empty for none); the record the
# backend created must be in that one (Alice's primary, ws1, for none),
# in the response and in Redis.

my $esc = join '', map { sprintf '\\u%04x', ord } split //, $ws2;
my @accepted = (
    ['JSON integer', '', ['Content-Type: application/json'],
     qq({"title": "d", "workspace_id": $ws2}), $ws2],
    ['JSON string', '', ['Content-Type: application/json'],
     qq({"title": "d", "workspace_id": "$ws2"}), $ws2],
    ['JSON string of escapes', '', ['Content-Type: application/json'],
     qq({"title": "d", "workspace_id": "$esc"}), $ws2],
    ['escaped member name', '', ['Content-Type: application/json'],
     qq({"title": "d", "workspace\\u005fid": $ws2}), $ws2],
    ['member last, after a big field', '', ['Content-Type: application/json'],
     qq({"title": "d", "body": ") . ('x' x 30000)
     . qq(", "workspace_id": $ws2}), $ws2],
    ['white space everywhere', '', ['Content-Type: application/json'],
     qq( \r\n\t{ "title" :"d" ,\n"workspace_id"\t:\r\n$ws2 } \n), $ws2],
    ['Content-Type in upper case with parameters', '',
     ['Content-Type: APPLICATION/JSON; charset=UTF-8'],
     qq({"title": "d", "workspace_id": $ws2}), $ws2],
    ['Content-Type with a space before ;', '',
     ['Content-Type: application/json ; charset=utf-8'],
     qq({"title": "d", "workspace_id": $ws2}), $ws2],
    ['query only', "?workspace_id=$ws2", ['Content-Type: application/json'],
     '{"title": "d"}', $ws2],
    ['query percent-encoded name and digits',
     '?workspace%5Fid=' . join('', map { sprintf '%%%02X', ord } split //,
                                   $ws2),
     ['Content-Type: application/json'], '{"title": "d"}', $ws2],
    ['query and body agree', "?workspace_id=$ws2",
     ['Content-Type: application/json'],
     qq({"title": "d", "workspace_id": "$ws2"}), $ws2],
    ['other parameters around it', "?a=1&workspace_id=$ws2&b=%26&c",
     ['Content-Type: application/json'], '{"title": "d"}', $ws2],
    ['chunked JSON', '', ['Content-Type: application/json',
                          'Transfer-Encoding: chunked'],
     do { my $b = qq({"title": "d", "workspace_id": $ws2});
          sprintf("%x\r\n%s\r\n0\r\n\r\n", length $b, $b) }, $ws2],
    ['no workspace anywhere', '', ['Content-Type: application/json'],
     '{"title": "d"}', ''],
    ['PHP-style workspace_id[] (not the parameter)', "?workspace_id[]=$wsb",
     ['Content-Type: application/json'], '{"title": "d"}', ''],
    ['title in Unicode', '', ['Content-Type: application/json'],
     qq({"title": "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80", "workspace_id": $ws2}),
     $ws2],
);

for my $c (@accepted) {
    my ($name, $q, $hdrs, $b, $want) = @$c;
    my ($st, $h, $resp) = req('POST', "/v1/articles$q", [auth($key), @$hdrs],
                              $b);
    is($st, 201, "accepted: $name") or diag($resp);
    my $d = eval { $json->decode($resp) } || {};
    my $edge = ($h->{'x-edge-ws'} // 'missing') =~ s/^ws=//r;
    is($edge, $want, "... the edge authorized '$want'");
    my $acted = $d->{data}{workspace_id} // 'none';
    is($acted, $edge eq '' ? $ws1 : $edge,
       '... the backend created it in that workspace');
    my $id = $d->{data}{id} // 0;
    is(redis_cli('hget', "sq:ws:{w$acted}:rec:article:$id", 'workspace_id'), $acted,
       '... and Redis agrees');
    is(redis_cli('zscore', "sq:ws:{w$acted}:articles", $id), $id,
       '... listed in that workspace only');
}

is(bob_articles(), $bob_before, 'nothing landed in Bob\'s ws at all');

# --- identity spoofing --------------------------------------------------

my @variants = map { my $n = $_; ($n, lc $n, uc $n,
                                  join('', map { rand() < 0.5 ? lc : uc }
                                       split //, $n)) }
               qw(X-SmartlyQ-User-Id X-SmartlyQ-Key-Id
                  X-SmartlyQ-Workspace-Id X-SmartlyQ-Key-Mode
                  X-SmartlyQ-Key-Type X-SmartlyQ-Key-Scopes
                  X-SmartlyQ-Key-Workspaces X-SmartlyQ-Timestamp
                  X-SmartlyQ-Signature X-SmartlyQ-Spoof);
my @spoof = map { "$_: $T->{wsb}" } @variants;

($st, $h, $body) = req('GET', "/v1/me?workspace_id=$ws2",
                       [auth($key), @spoof], undef, $dump_edge);
is($st, 200, 'spoofed X-SmartlyQ-* in every case: allowed');
my %got = $body =~ /^([\w-]+): ?(.*)$/mg;
is($got{'X-SmartlyQ-User-Id'}, $T->{alice}, '... user is the key\'s');
is($got{'X-SmartlyQ-Workspace-Id'}, $ws2, '... workspace is the query\'s');
is($got{'X-SmartlyQ-Key-Mode'}, 'live', '... mode from the key');
is($got{'X-SmartlyQ-Key-Type'}, 'secret', '... type from the key');
is($got{'Spoof'}, '', '... an unknown X-SmartlyQ-* header is dropped too');
is($got{'Authorization'}, '', '... and the key is not forwarded');
like($got{'X-SmartlyQ-Signature'}, qr/^[0-9a-f]{64}$/, '... signed');

# the same names with an underscore are not the identity's: nginx drops
# them (ignore_invalid_headers), and the backend would not match them
($st, $h, $body) = req('GET', "/v1/me", [auth($key),
                       "X_SmartlyQ_User_Id: $T->{bob}",
                       "X-SmartlyQ-User_Id: $T->{bob}"], undef, $dump_edge);
%got = $body =~ /^([\w-]+): ?(.*)$/mg;
is($got{'X-SmartlyQ-User-Id'}, $T->{alice}, 'underscore variants ignored');

# capture a signed identity for GET /v1/me, then replay it to the backend
($st, $h, $body) = req('GET', "/v1/me?workspace_id=$ws1", [auth($key)],
                       undef, $dump_edge);
my %id = $body =~ /^(X-SmartlyQ-[\w-]+): (.*)$/mg;
my @ident = map { "$_: $id{$_}" } sort keys %id;
my $bport = $ENV{TEST_NGINX_BACKEND_PORT};

($st) = req('GET', "/v1/me?workspace_id=$ws1", \@ident, undef, $bport);
is($st, 200, 'the captured identity is complete (same request: 200)');
($st) = req('GET', "/v1/me?workspace_id=$ws1", \@ident, undef, $bport);
is($st, 401, '... replayed as is: 401 (the nonce was seen)');

my @replays = (
    ['another path', 'GET', "/v1/articles?workspace_id=$ws1", \@ident],
    ['another method', 'DELETE', "/v1/me?workspace_id=$ws1", \@ident],
    ['another query', 'GET', "/v1/me?workspace_id=$ws2", \@ident],
    ['no query', 'GET', '/v1/me', \@ident],
    ['a changed workspace header', 'GET', "/v1/me?workspace_id=$ws1",
     [map { s/^(X-SmartlyQ-Workspace-Id): .*/$1: $wsb/r } @ident]],
    ['a changed user header', 'GET', "/v1/me?workspace_id=$ws1",
     [map { s/^(X-SmartlyQ-User-Id): .*/$1: $T->{bob}/r } @ident]],
    ['an identity header twice', 'GET', "/v1/me?workspace_id=$ws1",
     [@ident, "X-SmartlyQ-Workspace-Id: $wsb"]],
    ['a header in other case twice', 'GET', "/v1/me?workspace_id=$ws1",
     [@ident, "x-smartlyq-user-id: $T->{bob}"]],
    ['no identity at all', 'GET', "/v1/me?workspace_id=$ws1", []],
    ['the key instead', 'GET', "/v1/me?workspace_id=$ws1", [auth($key)]],
);
for my $r (@replays) {
    my ($name, $m, $t, $hd) = @$r;
    my ($s, undef, $b) = req($m, $t, $hd, undef, $bport);
    is($s, 401, "replay to the backend with $name: 401");
    unlike($b, qr/alice\@example/, '... no data');
}

# --- limits -------------------------------------------------------------

# body: smartlyq_body_limit (64k) at the edge, a 413 envelope either way
my $pad = sub { my $n = shift; my $b = qq({"title": "l", "body": ");
                $b .= 'x' x ($n - length($b) - 2); return "$b\"}" };
($st, undef, $body) = req('POST', "/v1/articles?workspace_id=$ws1",
    [auth($key), 'Content-Type: application/json'], $pad->(65536));
is($st, 400, 'a 64 KiB body passes the edge (backend: body over 60000)');
unlike($body, qr/PAYLOAD_TOO_LARGE/, '... not a 413');
($st, undef, $body) = req('POST', "/v1/articles?workspace_id=$ws1",
    [auth($key), 'Content-Type: application/json'], $pad->(65537));
is($st, 413, '64 KiB + 1: 413');
like($body, qr/"code": "PAYLOAD_TOO_LARGE"/, '... envelope');
($st, undef, $body) = req('POST', "/v1/articles?workspace_id=$ws1",
    [auth($key), 'Content-Type: application/json',
     'Transfer-Encoding: chunked'],
    do { my $b = $pad->(65537);
         join('', map { sprintf("%x\r\n%s\r\n", length, $_) }
                  unpack('(a4096)*', $b)) . "0\r\n\r\n" });
is($st, 413, 'chunked 64 KiB + 1: 413 after reading');
like($body, qr/PAYLOAD_TOO_LARGE/, '... envelope');

# the backend's own cap when called directly (identity checked first)
($st, undef, $body) = req('POST', '/v1/articles',
    ['Content-Type: application/json'], $pad->(70000), $bport);
is($st, 401, 'backend, direct, big body without identity: 401 first');

# headers: nginx's large_client_header_buffers (4 x 8k)
($st) = req('GET', '/v1/me', [auth($key), 'X-Big: ' . ('h' x 9000)]);
like($st, qr/^(400|431|494)$/, "a 9000-byte header: $st");
($st) = req('GET', '/v1/me', [auth($key),
    map { "X-H$_: " . ('h' x 7000) } 1 .. 5]);
like($st, qr/^(400|431|494)$/, "five 7000-byte headers: $st");
($st) = req('GET', '/v1/me?' . ('a' x 9000), [auth($key)]);
like($st, qr/^(400|414)$/, "a 9000-byte request line: $st");
# the backend's evhttp cap (16 KiB of headers), direct
($st) = req('GET', '/v1/me', [map { "X-H$_: " . ('h' x 6000) } 1 .. 4],
            undef, $bport);
like($st, qr/^(400|413|431)$/, "backend, 24 KiB of headers: $st");

# JSON depth: jansson's limit (2048), within the body limit
my $nest = sub { my $n = shift;
                 qq({"title": "n", "x": ) . ('[' x $n) . (']' x $n) . '}' };
($st, undef, $body) = req('POST', "/v1/articles?workspace_id=$ws1",
    [auth($key), 'Content-Type: application/json'], $nest->(2047));
is($st, 400, 'depth 2048 (object + 2047 arrays): read, 400 at the backend');
like($body, qr/known field/, '... refused by the schema, not the parser');
($st, undef, $body) = req('POST', "/v1/articles?workspace_id=$ws1",
    [auth($key), 'Content-Type: application/json'], $nest->(2048));
is($st, 400, 'depth 2049: 400 at the edge');
like($body, qr/not valid JSON/, '... as invalid JSON');

# array size: bounded by the body limit (a 64 KiB body holds < 33k items)
my $arr = qq({"title": "a", "x": [) . join(',', (0) x 32000) . ']}';
($st, undef, $body) = req('POST', "/v1/articles?workspace_id=$ws1",
    [auth($key), 'Content-Type: application/json'], $arr);
is($st, 400, '32000-element array: read and refused (400)');
$arr = qq({"title": "a", "x": [) . join(',', (0) x 40000) . ']}';
($st) = req('POST', "/v1/articles?workspace_id=$ws1",
    [auth($key), 'Content-Type: application/json'], $arr);
is($st, 413, '40000-element array: over the body limit (413)');

# page size: 1..100
for my $c (['limit=100', 200], ['limit=101', 400], ['limit=0', 400],
           ['limit=-1', 400], ['limit=1e2', 400], ['limit=99999999999999999999',
           400], ['limit=1&limit=2', 400])
{
    ($st, undef, $body) = req('GET', "/v1/articles?$c->[0]", [auth($key)]);
    is($st, $c->[1], "page $c->[0]: $c->[1]");
}
($st, undef, $body) = req('GET', '/v1/articles', [auth($key)]);
my $page = eval { $json->decode($body) } || {};
ok(@{ $page->{data} || [] } <= 20, 'default page: at most 20');

# connections: worker_connections (512 here) is the edge's cap; past it
# nginx drops new connections, and recovers once they close
my @conns;
for (1 .. 600) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 2) or last;
    push @conns, $s;
}
ok(@conns >= 400, 'opened ' . scalar(@conns) . ' idle connections');
close $_ for @conns;
@conns = ();
sleep 0.5;
($st) = req('GET', '/v1/me', [auth($key)]);
is($st, 200, 'after they close, the edge answers again');
like(SQTest::nginx_error_log(), qr/worker_connections are not enough/,
     '... nginx logged hitting its connection cap');

# --- secrets: no full key in any log ------------------------------------
#
# nginx's core quotes a refused header line in its client errors ("client
# sent duplicate header line: ...", "... too long header line", "invalid
# header line"), at info level, before any module runs.  Those lines are
# the only place a key may appear, so error_log must be at notice or
# above in production (README, Limits).

sleep 0.3;
my %logs;
for my $f ("$SQTest::DIR/nginx/logs/error.log",
           "$SQTest::DIR/nginx/logs/access.log",
           "$SQTest::DIR/backend.log")
{
    open my $fh, '<', $f or next;
    local $/;
    $logs{$f} = <$fh>;
}
is(scalar keys %logs, 3, 'read the three logs');
my $elog = "$SQTest::DIR/nginx/logs/error.log";
my @core = grep { /\[info\] .*client sent / } split /\n/, $logs{$elog};
$logs{$elog} = join "\n", grep { !/\[info\] .*client sent / }
                             split /\n/, $logs{$elog};
for my $k (grep { /^(alice_key|alice_test_key|bob_key|disabled_key)$/ }
           keys %$T)
{
    my $secret = substr($T->{$k}, 9);
    for my $f (sort keys %logs) {
        my $short = $f =~ s{.*/}{}r;
        unlike($logs{$f}, qr/\Q$secret\E/, "$k not in $short");
    }
}
ok((grep { /duplicate header line: "Authorization: Bearer \Q$key\E/ }
    @core), 'nginx core quotes a duplicated Authorization at info level');
unlike($logs{"$SQTest::DIR/nginx/logs/error.log"} // '',
       qr/\[(alert|emerg|crit)\]|signal \d+/, 'no alert or crash in nginx');

done_testing();
