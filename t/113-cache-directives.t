# The cache's directives as issue 12 made them, like limit_req's: a zone
# made in the http block (smartlyq_cache_zone), used where
# smartlyq_cache names it and nowhere else; the old spelling
# (smartlyq_cache zone=...) still works for one release with a warning at
# start-up; and smartlyq_log_level sets the level of the one error-log
# line each refusal gets (code, key id, workspace; never the key).

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $xcache = 'add_header X-Cache $smartlyq_cache_status always;';

sub logs {
    my $stderr = do {
        local (@ARGV, $/) = ("$SQTest::DIR/nginx/logs/stderr.log");
        -e $ARGV[0] ? <> : '';
    };
    return SQTest::nginx_error_log() . ($stderr // '');
}

# --- the new spelling ----------------------------------------------------
my $base = SQTest::nginx_start(<<"CONF", 1);
    smartlyq_cache_zone zone=sqdir:1m ttl=60s negative_ttl=60s;
    smartlyq_log_level warn;

    server {
        listen 127.0.0.1:\$PORT;
        location /named/ {
            smartlyq on;
            smartlyq_cache sqdir;
            $xcache
            proxy_pass http://echo;
        }
        location /unnamed/ {
            smartlyq on;
            $xcache
            proxy_pass http://echo;
        }
        location /quiet/ {
            smartlyq on;
            smartlyq_log_level info;
            proxy_pass http://echo;
        }
    }
CONF

my $path = "?workspace_id=$T->{ws1}";
ok(SQTest::poll_request($base, "/named/x$path", $T->{alice_key},
                        sub { $_[0] == 200 && $_[1] eq 'HIT' }),
   'smartlyq_cache <zone>: answers come from the cache');
my @x = map { (SQTest::cache_get($base, 'GET', "/unnamed/x$path",
                                 $T->{alice_key}))[1] } 1 .. 5;
is_deeply(\@x, [('') x 5],
          'a location that names no cache uses none (smartlyq_cache off '
          . 'is the default)');

# smartlyq_log_level warn: one line per refusal, at warn, no key in it
my ($st) = SQTest::cache_get($base, 'GET', "/named/x?workspace_id=$T->{wsb}",
                             $T->{alice_key});
is($st, 403, 'a foreign workspace: 403');
SQTest::wait_until('refusal logged', sub {
    logs() =~ /\[warn\].*smartlyq: access denied: 403 FORBIDDEN/ }, 5);
my @lines = grep { /smartlyq: access denied/ } split /\n/, logs();
is(scalar @lines, 1, 'one log line for the refusal');
like($lines[0], qr/\[warn\] .*403 FORBIDDEN \(forbidden\), key id "\d+", workspace "$T->{wsb}"/,
     '... at warn, with the code, the key id and the workspace');
unlike(logs(), qr/\Q$T->{alice_key}\E/, '... and never the key');

# smartlyq_log_level info in one location: below this error_log's level?
# no, the harness logs at info: the line is there, at info
($st) = SQTest::cache_get($base, 'GET', "/quiet/x?workspace_id=$T->{wsb}",
                          $T->{alice_key});
is($st, 403, 'the same refusal where smartlyq_log_level is info');
SQTest::wait_until('second refusal logged', sub {
    (() = logs() =~ /smartlyq: access denied/g) == 2 }, 5);
like(logs(), qr/\[info\].*smartlyq: access denied: 403 FORBIDDEN/,
     '... logged at info there');
unlike(logs(), qr/deprecated/, 'the new spelling: no deprecation warning');

# --- the old spelling, one release more ----------------------------------
SQTest::reap('nginx', 'QUIT');
unlink "$SQTest::DIR/nginx/logs/error.log", "$SQTest::DIR/nginx/logs/stderr.log";
$base = SQTest::nginx_start(<<"CONF", 1);
    smartlyq_cache zone=sqold:1m ttl=60s;

    server {
        listen 127.0.0.1:\$PORT;
        location /old/ {
            smartlyq on;
            $xcache
            proxy_pass http://echo;
        }
        location /old-off/ {
            smartlyq on;
            smartlyq_cache off;
            $xcache
            proxy_pass http://echo;
        }
    }
CONF

like(logs(), qr/"smartlyq_cache zone=" is deprecated, use "smartlyq_cache_zone zone=" instead/,
     'smartlyq_cache zone=: a warning at start-up');
ok(SQTest::poll_request($base, "/old/x$path", $T->{alice_key},
                        sub { $_[0] == 200 && $_[1] eq 'HIT' }),
   '... and every guarded location uses that cache, as before');
@x = map { (SQTest::cache_get($base, 'GET', "/old-off/x$path",
                              $T->{alice_key}))[1] } 1 .. 3;
is_deeply(\@x, [('') x 3], '... except where smartlyq_cache off says so');

done_testing();
