# smartlyq_metrics: decisions by outcome and refusal code, Redis round
# trips, errors and timeouts, a latency histogram of the access check,
# summed across workers in shared memory and kept across reloads.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use Test::More;
use Time::HiRes qw(sleep);

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(
    locations => [SQTest::guarded('/v1/', 'echo', 'smartlyq_scope articles;')],
    metrics => 1), 2);

my $http = SQTest::http();

sub get {
    my ($path, $key) = @_;
    return $http->get("$base$path",
                      { headers => $key ? SQTest::bearer($key) : {} });
}

sub metrics {
    my $text = get('/metrics')->{content};
    my %m;
    for (split /\n/, $text) {
        next if /^#/;
        my ($k, $v) = /^(\S+) (\S+)$/ or next;
        $m{$k} = $v;
    }
    return (\%m, $text);
}

my ($m0, $text) = metrics();
like($text, qr/^# TYPE smartlyq_decisions_total counter$/m, 'Prometheus text');
like($text, qr/^# TYPE smartlyq_check_duration_seconds histogram$/m,
     'a histogram');

my $n = 40;
get("/v1/articles?workspace_id=$T->{ws1}", $T->{alice_key}) for 1 .. $n;
get("/v1/articles?workspace_id=$T->{wsb}", $T->{alice_key}) for 1 .. 7;
get('/v1/articles') for 1 .. 5;
get('/v1/articles', 'sqk_live_' . ('0' x 40)) for 1 .. 3;

my ($m) = metrics();
sub delta { my ($k) = @_; return ($m->{$k} // 0) - ($m0->{$k} // 0) }

is(delta('smartlyq_decisions_total{decision="allow"}'), $n,
   'allowed requests counted, across both workers');
is(delta('smartlyq_decisions_total{decision="forbidden"}'), 7, 'forbidden');
is(delta('smartlyq_decisions_total{decision="no_key"}'), 5, 'no key');
is(delta('smartlyq_decisions_total{decision="unknown_key"}'), 3, 'unknown key');
is(delta('smartlyq_refusals_total{code="UNAUTHORIZED"}'), 8,
   'refusals by code: UNAUTHORIZED');
is(delta('smartlyq_refusals_total{code="FORBIDDEN"}'), 7,
   'refusals by code: FORBIDDEN');
is(delta('smartlyq_redis_round_trips_total'), $n + 7 + 3,
   'one Redis round trip per keyed request, none for a missing key');
is(delta('smartlyq_check_duration_seconds_count'), $n + 7 + 5 + 3,
   'every check in the histogram');
is(delta('smartlyq_check_duration_seconds_bucket{le="+Inf"}'), $n + 15,
   '+Inf bucket equals the count');
ok(delta('smartlyq_check_duration_seconds_bucket{le="0.250000"}') <= $n + 15,
   'buckets are cumulative and bounded by the count');
ok($m->{'smartlyq_redis_connects_total'} >= 2, 'each worker connected');

# Redis down: errors, link failures, 503 decisions
SQTest::redis_kill();
get('/v1/articles', $T->{alice_key}) for 1 .. 4;
($m) = metrics();
is(delta('smartlyq_decisions_total{decision="unavailable"}'), 4,
   'unavailable decisions');
is(delta('smartlyq_refusals_total{code="SERVICE_UNAVAILABLE"}'), 4,
   'refusals: SERVICE_UNAVAILABLE');
ok(delta('smartlyq_redis_link_failures_total') >= 1, 'link failures counted');
SQTest::redis_start();

# Redis frozen: timeouts
my $ok = 0;
for (1 .. 200) { last if get('/v1/articles', $T->{alice_key})->{status} == 200 && ++$ok; sleep 0.02 }
ok($ok, 'Redis back');
my ($before) = metrics();
SQTest::redis_freeze();
get('/v1/articles', $T->{alice_key});
SQTest::redis_thaw();
($m) = metrics();
is(($m->{'smartlyq_redis_timeouts_total'} // 0)
   - ($before->{'smartlyq_redis_timeouts_total'} // 0), 1, 'a timeout counted');

# a reload keeps the zone, and so the counters
my $allowed = $m->{'smartlyq_decisions_total{decision="allow"}'};
SQTest::nginx_reload();
sleep 1;
my ($after) = metrics();
ok($after->{'smartlyq_decisions_total{decision="allow"}'} >= $allowed,
   'counters survive nginx -s reload');

is($http->request('POST', "$base/metrics")->{status}, 405,
   'the metrics location answers GET only');

unlike(SQTest::nginx_error_log(), qr/exited on signal|\[alert\]/,
       'no worker crashed');

done_testing();
