# nginx's own error pages as JSON envelopes, with no configuration, in
# locations with `smartlyq on`: the backend down (502), too slow (504), a
# body over client_max_body_size (413).  The backend's own responses,
# 4xx and 5xx, pass through untouched, and an operator's error_page
# still wins.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use IO::Socket::INET;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $dead = SQTest::free_port();     # nothing listens there
my $slow = SQTest::free_port();     # accepts, reads, never answers
my $aux = SQTest::free_port();      # an upstream with its own errors
my $srv = SQTest::free_port();      # `smartlyq on` for a whole server

# the slow upstream: holds every connection it accepts
my $slow_pid = fork // die "fork: $!";
if ($slow_pid == 0) {
    my $l = IO::Socket::INET->new(Listen => 128, LocalAddr => '127.0.0.1',
                                  LocalPort => $slow, ReuseAddr => 1)
        or POSIX::_exit(1);
    my @held;
    while (my $c = $l->accept) {
        push @held, $c;
    }
    POSIX::_exit(0);
}
END { kill 'KILL', $slow_pid if $slow_pid; }

my $conf = <<'CONF';
    server {
        listen 127.0.0.1:AUX;
        default_type application/json;
        location = /json500 {
            return 500 '{"success": false, "error": {"code": "INTERNAL_ERROR", "message": "from the backend"}}';
        }
        location = /html502 {
            default_type text/html;
            return 502 '<html>upstream page</html>';
        }
        location = /json404 {
            return 404 '{"success": false, "error": {"code": "NOT_FOUND", "message": "from the backend"}}';
        }
    }

    server {
        listen 127.0.0.1:$PORT;

        location /v1/ {
            smartlyq on;
            proxy_pass http://backend;
        }

        location /dead/ {
            smartlyq on;
            proxy_pass http://127.0.0.1:DEAD;
        }

        location /slow/ {
            smartlyq on;
            proxy_read_timeout 300ms;
            proxy_pass http://127.0.0.1:SLOW;
        }

        location /aux/ {
            smartlyq on;
            proxy_pass http://127.0.0.1:AUX/;
        }

        location /small/ {
            smartlyq on;
            client_max_body_size 10;
            proxy_pass http://echo;
        }

        # the operator's own pages win, to a URI or a named location
        location /op-uri/ {
            smartlyq on;
            error_page 502 /oops;
            proxy_pass http://127.0.0.1:DEAD;
        }

        location = /oops {
            smartlyq on;
            return 502 "operator page\n";
        }

        location /op-named/ {
            smartlyq on;
            error_page 502 504 = @down;
            proxy_pass http://127.0.0.1:DEAD;
        }

        location @down {
            return 503 "operator named page\n";
        }

        # and without the module, nginx's HTML as usual
        location /off/ {
            proxy_pass http://127.0.0.1:DEAD;
        }
    }

    # on for the whole server: errors raised before any location is
    # chosen (a request nginx cannot parse) get envelopes too, and a
    # server-wide error_page still wins
    server {
        listen 127.0.0.1:SRV;
        smartlyq on;
        error_page 504 @late;

        location /dead/ {
            proxy_pass http://127.0.0.1:DEAD;
        }

        location /slow/ {
            proxy_read_timeout 300ms;
            proxy_pass http://127.0.0.1:SLOW;
        }

        location @late {
            return 504 "operator late page\n";
        }
    }
CONF
$conf =~ s/DEAD/$dead/g;
$conf =~ s/SLOW/$slow/g;
$conf =~ s/AUX/$aux/g;
$conf =~ s/SRV/$srv/g;

my $base = SQTest::nginx_start($conf);
my $http = SQTest::http();
my $auth = SQTest::bearer($T->{alice_key});

sub envelope {
    my ($code, $message) = @_;
    return qq({"success": false, "error": {"code": "$code", )
         . qq("message": "$message"}});
}

sub get { return $http->get("$base$_[0]", { headers => $auth }) }

sub is_envelope {
    my ($r, $status, $code, $message, $name) = @_;
    my $want = envelope($code, $message);
    is($r->{status}, $status, "$name: status $status");
    is($r->{content}, $want, "$name: the $code envelope");
    is($r->{headers}{'content-type'}, 'application/json',
       "$name: application/json");
    is($r->{headers}{'content-length'}, length $want,
       "$name: Content-Length matches the envelope");
    is($r->{headers}{'cache-control'}, 'no-store', "$name: no-store");
}

# --- nothing listening: 502 -------------------------------------------------
my $t0 = time;
my $r = get('/dead/x');
my $dt = time - $t0;
is_envelope($r, 502, 'BAD_GATEWAY', 'The API is unavailable. Retry shortly.',
            'upstream refused');
cmp_ok($dt, '<', 0.5, sprintf('... answered in %.0f ms', $dt * 1000));

$r = $http->request('HEAD', "$base/dead/x", { headers => $auth });
is($r->{status}, 502, 'HEAD: 502');
is($r->{content} // '', '', 'HEAD: no body');
is($r->{headers}{'content-type'}, 'application/json', 'HEAD: JSON type');

# --- the real backend killed, then back -------------------------------------
is(get('/v1/me')->{status}, 200, 'backend up: 200');
SQTest::backend_kill();
is_envelope(get('/v1/me'), 502, 'BAD_GATEWAY',
            'The API is unavailable. Retry shortly.', 'backend killed');
SQTest::backend_start();
is(get('/v1/me')->{status}, 200, 'backend restarted: 200 again');

# --- an upstream slower than proxy_read_timeout: 504 ------------------------
$t0 = time;
$r = get('/slow/x');
$dt = time - $t0;
is_envelope($r, 504, 'GATEWAY_TIMEOUT',
            'The API did not answer in time. Retry shortly.', 'slow upstream');
cmp_ok($dt, '>=', 0.25, '... after proxy_read_timeout');
cmp_ok($dt, '<', 1.5, sprintf('... within %.0f ms', $dt * 1000));

# --- a body over client_max_body_size: 413 ----------------------------------
$r = $http->post("$base/small/x", { headers => { %$auth,
                  'Content-Type' => 'text/plain' }, content => 'x' x 100 });
is_envelope($r, 413, 'PAYLOAD_TOO_LARGE', 'The request body is too large.',
            'body too large');

# --- the upstream's own errors are its business -----------------------------
$r = get('/aux/json500');
is($r->{status}, 500, "upstream's JSON 500: status kept");
is($r->{content}, '{"success": false, "error": {"code": "INTERNAL_ERROR", '
   . '"message": "from the backend"}}', '... body untouched');
$r = get('/aux/json404');
is($r->{status}, 404, "upstream's JSON 404: status kept");
like($r->{content}, qr/from the backend/, '... body untouched');
$r = get('/aux/html502');
is($r->{status}, 502, "upstream's own 502 page: status kept");
is($r->{content}, '<html>upstream page</html>', '... body untouched');
is($r->{headers}{'content-type'}, 'text/html', '... type untouched');

# the real backend's 404 for a record that does not exist
$r = get("/v1/chatbots/999999?workspace_id=$T->{ws1}");
is($r->{status}, 404, "backend's 404 passes through");
like($r->{content}, qr/"code": "NOT_FOUND"/, '... as its own envelope');

# --- the operator's error_page wins -----------------------------------------
$r = get('/op-uri/x');
is($r->{status}, 502, 'error_page to a URI: status');
is($r->{content}, "operator page\n", "... the operator's body");
$r = get('/op-named/x');
is($r->{status}, 503, 'error_page = @named: status');
is($r->{content}, "operator named page\n", "... the operator's body");

# --- no module, no change ---------------------------------------------------
$r = get('/off/x');
is($r->{status}, 502, 'without smartlyq: 502');
like($r->{content}, qr/<html>/, "... nginx's HTML page");

# --- a whole server with the module on --------------------------------------
my $srv_base = "http://127.0.0.1:$srv";
is_envelope($http->get("$srv_base/dead/x", { headers => $auth }), 502,
            'BAD_GATEWAY', 'The API is unavailable. Retry shortly.',
            'server-wide: upstream refused');
$r = $http->get("$srv_base/slow/x", { headers => $auth });
is($r->{status}, 504, 'server-wide error_page 504 @late: status');
is($r->{content}, "operator late page\n", "... the operator's body");

my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $srv)
    or die "connect: $!";
print $s "GET /dead/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n";
my $raw = do { local $/; <$s> };
like($raw, qr{^HTTP/1\.1 400 }, 'two Host headers: 400 from nginx');
like($raw, qr{\r\n\r\n\Q${\ envelope('BAD_REQUEST', 'The request is malformed.')}\E\z},
     '... as an envelope');

my $log = SQTest::nginx_error_log();
unlike($log, qr/exited on signal|\[alert\]|\[emerg\]/, 'no crash, no alert');

done_testing();
