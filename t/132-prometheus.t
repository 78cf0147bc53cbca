# What Prometheus makes of the module's /metrics and the backend's:
# `promtool check metrics` (Debian's prometheus package) on live pages
# with every family present (decision cache included), the loopback-only
# restrictions, the backend's counts by route and status, the alerting
# rules in contrib/prometheus (check + unit tests) and the Grafana
# dashboard in contrib/grafana, whose every query must name metrics the
# pages have.

use strict;
use warnings;

BEGIN {
    if (system('command -v promtool >/dev/null 2>&1') != 0) {
        require Test::More;
        Test::More::plan(skip_all =>
            'promtool is not installed (Debian package prometheus)');
    }
}

use lib 't/lib';
use SQTest;
use IO::Socket::INET;
use JSON::PP;
use Test::More;

my $T = $SQTest::T;
my $ROOT = $SQTest::ROOT;
my $base = SQTest::nginx_start(<<'CONF', 2);
    smartlyq_cache_zone zone=sqprom:1m ttl=30s negative_ttl=5s;
    smartlyq_cache sqprom;
    server {
        listen 127.0.0.1:$PORT;
        location /v1/ {
            smartlyq on;
            smartlyq_scope articles;
            proxy_pass http://echo;
        }
        location = /v1/me {
            smartlyq on;
            proxy_pass http://backend;
        }
        # as scripts/stack.sh serves it for `make run`
        location = /metrics {
            smartlyq off;
            allow 127.0.0.1;
            deny all;
            smartlyq_metrics;
        }
    }
CONF

my $http = SQTest::http();
my %with = (headers => SQTest::bearer($T->{alice_key}));
$http->get("$base/v1/articles?workspace_id=$T->{ws1}", \%with) for 1 .. 3;
$http->get("$base/v1/articles?workspace_id=$T->{wsb}", \%with);
$http->get("$base/v1/articles");
$http->get("$base/v1/articles", { headers => SQTest::bearer('sqk_live_x') });

my $r = $http->get("$base/metrics");
is($r->{status}, 200, '/metrics from 127.0.0.1');
like($r->{headers}{'content-type'} // '', qr{^text/plain}, 'as text/plain');
my $page = $r->{content};

# from another loopback address: refused
my ($port) = $base =~ /:(\d+)$/;
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                              LocalAddr => '127.0.0.2', Timeout => 5)
    or die "connect from 127.0.0.2: $!";
print $s "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n";
my $status = <$s> // '';
close $s;
like($status, qr{^HTTP/1\.\d 403 }, '/metrics from 127.0.0.2: 403');

my $file = "$SQTest::DIR/metrics.txt";
open my $fh, '>', $file or die $!;
print $fh $page;
close $fh;
my ($out, $rc) = SQTest::run_capture('sh', '-c',
    'exec promtool check metrics < "$0" 2>&1', $file);
is($rc, 0, 'promtool check metrics: exit 0');
is($out, '', 'promtool check metrics: no lint problem') or diag($out);

# every family the README lists is there
my %family = map { $_ => 1 } $page =~ /^# TYPE (\S+) /mg;
for my $m (qw(smartlyq_decisions_total smartlyq_refusals_total
              smartlyq_redis_round_trips_total smartlyq_redis_errors_total
              smartlyq_redis_timeouts_total smartlyq_redis_connects_total
              smartlyq_redis_link_failures_total
              smartlyq_check_duration_seconds smartlyq_cache_hits_total
              smartlyq_cache_misses_total smartlyq_cache_stale_hits_total
              smartlyq_cache_bypasses_total smartlyq_cache_inserts_total
              smartlyq_cache_evictions_total smartlyq_cache_expired_total
              smartlyq_cache_invalidations_total smartlyq_cache_flushes_total
              smartlyq_cache_entries smartlyq_cache_bytes_used
              smartlyq_cache_bytes)) {
    ok($family{$m}, "family $m");
}

# the backend's own page, on its listener, to loopback peers only
$http->get("$base/v1/me", \%with) for 1 .. 2;
$http->get("$base/v1/me", { headers => SQTest::bearer($T->{bob_key}) });
my $direct = "http://127.0.0.1:$SQTest::PORT{backend}";
is($http->get("$direct/v1/me")->{status}, 401,
   'an unsigned request to the backend: 401');
$r = $http->get("$direct/metrics");
is($r->{status}, 200, "the backend's /metrics from 127.0.0.1");
my $bpage = $r->{content};
like($bpage, qr{^smartlyq_backend_requests_total\{route="/v1/me",status="200"\} 3$}m,
     'three 200s on /v1/me');
like($bpage, qr{^smartlyq_backend_requests_total\{route="none",status="401"\} 1$}m,
     'one 401 before any route');
like($bpage, qr{^smartlyq_backend_request_duration_seconds_count 4$}m,
     'four requests in the latency histogram');
like($bpage, qr{^smartlyq_backend_redis_requests_total 3$}m,
     'three requests used Redis');
$s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                           PeerPort => $SQTest::PORT{backend},
                           LocalAddr => '127.0.0.2', Timeout => 5)
    or die "connect from 127.0.0.2: $!";
print $s "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n";
$status = <$s> // '';
close $s;
like($status, qr{^HTTP/1\.\d 401 }, "the backend's /metrics from 127.0.0.2: 401");
open $fh, '>', "$file.backend" or die $!;
print $fh $bpage;
close $fh;
($out, $rc) = SQTest::run_capture('sh', '-c',
    'exec promtool check metrics < "$0" 2>&1', "$file.backend");
is($rc, 0, "promtool check metrics on the backend's page: exit 0");
is($out, '', "promtool check metrics on the backend's page: no lint problem")
    or diag($out);

# the names a query may use: families, and histogram series
my %name = map { $_ => 1 }
           "$page$bpage" =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/mg;

sub unknown_metrics {
    my ($expr) = @_;
    my @m = $expr =~ /\b(smartlyq_[a-zA-Z0-9_:]+)/g;
    return (scalar @m, grep { !$name{$_} } @m);
}

# alerting rules: syntax, then each alert fired on made-up series
my $rules = "$ROOT/contrib/prometheus";
($out, $rc) = SQTest::run_capture('promtool', 'check', 'rules',
                                  "$rules/smartlyq-alerts.yml");
is($rc, 0, 'promtool check rules') or diag($out);
($out, $rc) = SQTest::run_capture('sh', '-c',
    'cd "$0" && exec promtool test rules smartlyq-alerts.test.yml 2>&1',
    $rules);
is($rc, 0, 'promtool test rules: every alert fires when it should')
    or diag($out);
open $fh, '<', "$rules/smartlyq-alerts.yml" or die $!;
my (@exprs, $cur);      # expr: |, then lines indented 10 spaces
while (<$fh>) {
    if (/^\s+expr: \|\s*$/) { push @exprs, ''; $cur = 1; next }
    if (/^\s+expr: (.+)$/) { push @exprs, $1; $cur = 0; next }
    if ($cur && /^\s{10}(.*)$/) { $exprs[-1] .= "$1\n"; next }
    $cur = 0;
}
close $fh;
is(scalar @exprs, 4, 'four alerting rules');
for my $e (@exprs) {
    my ($n, @bad) = unknown_metrics($e);
    ok($n > 0 && !@bad, "alert expression names only exported metrics")
        or diag("unknown: @bad in $e");
}

# the Grafana dashboard: every panel has queries, every query names only
# metrics the page has
my $dash = do {
    open my $d, '<', "$ROOT/contrib/grafana/smartlyq-edge.json" or die $!;
    local $/;
    JSON::PP->new->decode(<$d>);
};
my @panels = map { ($_, @{ $_->{panels} || [] }) } @{ $dash->{panels} };
ok(@panels >= 8, scalar(@panels) . ' panels');
for my $p (grep { $_->{type} ne 'row' } @panels) {
    my @t = @{ $p->{targets} || [] };
    ok(@t, "panel '$p->{title}' has queries");
    for my $t (@t) {
        my ($n, @bad) = unknown_metrics($t->{expr} // '');
        ok($n > 0 && !@bad, "panel '$p->{title}' $t->{refId}: exported metrics")
            or diag("unknown: @bad in $t->{expr}");
    }
}
for my $v (@{ $dash->{templating}{list} }) {
    next unless ref $v->{query};
    my ($n, @bad) = unknown_metrics($v->{query}{query});
    ok($n > 0 && !@bad, "variable \$$v->{name}: exported metrics");
}

done_testing();
