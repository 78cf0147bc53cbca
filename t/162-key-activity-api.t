# Reading a key's activity (issue 16, keyops): entries written straight
# into sq:act:<key id> with redis-cli XADD in the edge's layout (fields t
# ip m r ws s c n), then read through the edge with GET
# /v1/keys/{id}/activity: newest first, the filters (outcome, workspace,
# since/until), the cursor, the summary over the window, refusals of bad
# parameters, tenant isolation; `sqctl key activity`.  When the module
# records activity (act's smartlyq_activity), one real request is read
# back end to end.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(routes => 1));

sub call { return SQTest::api($base, @_) }

my $full = $T->{alice_key};

my ($r, $d) = call($full, 'POST', '/v1/keys',
                   { name => 'audited', scopes => ['articles:read'] });
is($r->{status}, 201, 'a key to audit') or diag($r->{content});
my $kid = $d->{data}{id};
my $now = int(time);

# the edge's layout: one entry per (worker, second, tuple) with a count
my @rows = (
    # t, ip, method, route, ws, status, code, n
    [$now - 3 * 86400, '10.0.0.3', 'GET', '/v1/articles', $T->{ws2}, 200, '', 4],
    [$now - 100, '10.0.0.1', 'GET', '/v1/articles', $T->{ws1}, 200, '', 50],
    [$now - 90, '10.0.0.2', 'POST', '/v1/articles', $T->{wsb}, 403,
     'forbidden', 2],
    [$now - 80, '10.0.0.2', 'GET', '/v1/chatbots', '', 403,
     'insufficient_scope', 1],
);
for my $x (@rows) {
    my %f;
    @f{qw(t ip m r ws s c n)} = @$x;
    SQTest::redis_cli('XADD', "sq:act:$kid", '*',
                      map { ($_, $f{$_}) } qw(t ip m r ws s c n));
}

sub activity {
    my ($q, $key) = @_;
    my ($res, $body) = call($key // $full, 'GET',
                            "/v1/keys/$kid/activity" . ($q // ''));
    return ($res, $body);
}

# --- everything, newest first -------------------------------------------
($r, $d) = activity();
is($r->{status}, 200, 'GET /v1/keys/{id}/activity') or diag($r->{content});
ok($d->{success}, '... a success envelope');
is(scalar @{ $d->{data} }, 4, '... every entry');
is_deeply([map { $_->{time} } @{ $d->{data} }],
          [$now - 80, $now - 90, $now - 100, $now - 3 * 86400],
          '... newest first');
is_deeply($d->{data}[1], {
    time => $now - 90, ip => '10.0.0.2', method => 'POST',
    route => '/v1/articles', workspace_id => $T->{wsb} + 0, status => 403,
    code => 'forbidden', count => 2 }, '... an entry in the contract\'s form');
is($d->{data}[0]{workspace_id}, undef, '... no workspace: null');
is($d->{data}[2]{code}, undef, '... allowed: code null');
is($d->{next_cursor}, undef, '... no next page');
my $s = $d->{summary};
is($s->{entries}, 4, 'summary: entries');
is($s->{requests}, 57, 'summary: requests (the counts summed)');
is($s->{refused}, 3, 'summary: refused requests');
is_deeply($s->{ips}, ['10.0.0.1', '10.0.0.2', '10.0.0.3'], 'summary: distinct IPs');
is_deeply($s->{routes}, ['/v1/articles', '/v1/chatbots'], 'summary: routes');
is_deeply($s->{workspaces}, [sort { $a <=> $b } $T->{ws1} + 0, $T->{ws2} + 0, $T->{wsb} + 0],
          'summary: workspaces');
is_deeply($s->{refusals_by_code}, { forbidden => 2, insufficient_scope => 1 },
          'summary: refusals by code');

# --- filters --------------------------------------------------------------
($r, $d) = activity('?outcome=refused');
is_deeply([map { $_->{code} } @{ $d->{data} }], ['insufficient_scope', 'forbidden'],
          'outcome=refused: the refusals only');
is($d->{summary}{requests}, 3, '... the summary over the filter');
is_deeply($d->{summary}{ips}, ['10.0.0.2'], '... its IPs');
($r, $d) = activity('?outcome=allowed');
is_deeply([map { $_->{count} } @{ $d->{data} }], [50, 4], 'outcome=allowed');
is($d->{summary}{refused}, 0, '... none refused');
($r, $d) = activity("?workspace=$T->{wsb}");
is(scalar @{ $d->{data} }, 1, 'workspace: that workspace\'s entries');
is($d->{data}[0]{workspace_id}, $T->{wsb}, '... a foreign one too');
($r, $d) = activity("?workspace_id=$T->{ws1}");
is_deeply([map { $_->{count} } @{ $d->{data} }], [50],
          'workspace_id (a workspace of the user\'s): its entries');
($r, $d) = activity("?workspace_id=$T->{wsb}");
is("$r->{status} $d->{error}{code}", '403 FORBIDDEN',
   'workspace_id is the identity\'s workspace at the edge: a foreign one is 403');
($r, $d) = activity('?since=' . ($now - 95) . '&until=' . ($now - 85));
is_deeply([map { $_->{time} } @{ $d->{data} }], [$now - 90], 'since/until in unix seconds');
($r, $d) = activity('?since=' . ($now - 86400));
is(scalar @{ $d->{data} }, 3, 'since one day ago: not the three-day-old entry');
is($d->{summary}{requests}, 53, '... nor in the summary');
my @g = gmtime($now - 2 * 86400);
my $ymd = sprintf '%04d-%02d-%02d', $g[5] + 1900, $g[4] + 1, $g[3];
($r, $d) = activity("?since=$ymd");
is($r->{status}, 200, 'since as YYYY-MM-DD');
is(scalar @{ $d->{data} }, 3, '... from that day\'s midnight');
($r, $d) = activity('?outcome=refused&workspace_id=' . $T->{ws1});
is_deeply($d->{data}, [], 'filters combine: none refused in ws1');
is_deeply($d->{summary}{ips}, [], '... an empty summary keeps its arrays');
is_deeply($d->{summary}{refusals_by_code}, {}, '... and its object');

# --- the cursor -------------------------------------------------------------
my (@seen, $cursor, $pages);
do {
    ($r, $d) = activity('?limit=1' . (defined $cursor ? "&cursor=$cursor" : ''));
    is($r->{status}, 200, 'a page of one') or last;
    push @seen, map { $_->{time} } @{ $d->{data} };
    is($d->{summary}{requests}, 57, '... the summary covers the window, not the page');
    $cursor = $d->{next_cursor};
    $pages++;
} while (defined $cursor && $pages < 10);
is($pages, 4, 'four pages of one');
is_deeply(\@seen, [$now - 80, $now - 90, $now - 100, $now - 3 * 86400],
          '... each entry once, newest first');
($r, $d) = activity('?limit=2&outcome=refused');
is(scalar @{ $d->{data} }, 2, 'a full page of the filter');
is($d->{next_cursor}, undef, '... and no next cursor when nothing more matches');

# --- refused parameters -----------------------------------------------------
for my $q ('?outcome=denied', '?cursor=abc', '?cursor=1-2-3', '?since=yesterday',
           '?since=2026-13-01', '?limit=0', '?limit=501', '?workspace_id=x',
           '?outcome=allowed&outcome=refused', "?workspace=999&workspace_id=$T->{ws1}",
           '?since=' . ($now - 10) . '&until=' . ($now - 20)) {
    ($r, $d) = activity($q);
    is("$r->{status} " . ($d->{error}{code} // ''), '400 VALIDATION_ERROR', "400 for $q");
}

# --- whose activity ---------------------------------------------------------
($r, $d) = call($T->{bob_key}, 'GET', "/v1/keys/$kid/activity");
is($r->{status}, 404, "Bob cannot read Alice's key's activity: 404");
($r) = call($full, 'GET', '/v1/keys/999999/activity');
is($r->{status}, 404, 'an unknown key: 404');
my $narrow = SQTest::sqctl('key', 'create', '--user', $T->{alice}, '--name', 'ro',
                           '--scopes', 'articles:read');
($r, $d) = call($narrow, 'GET', "/v1/keys/$kid/activity");
is("$r->{status} $d->{error}{code}", '403 INSUFFICIENT_SCOPE', 'keys:manage is needed');
($r) = call($full, 'POST', "/v1/keys/$kid/activity");
is($r->{status}, 405, 'only GET');

# --- sqctl key activity -----------------------------------------------------
my $out = SQTest::sqctl('key', 'activity', '--id', $kid, '--outcome', 'refused');
my @lines = grep { /\S/ && !/^#/ } split /\n/, $out;
is(scalar @lines, 2, 'sqctl key activity --outcome refused: two lines');
like($lines[0], qr/\t10\.0\.0\.2\tGET\t\/v1\/chatbots\t-\t403\tinsufficient_scope\t1$/,
     '... newest first, tab-separated');
my $js = JSON::PP->new->decode(SQTest::sqctl('key', 'activity', '--id', $kid, '--json'));
is($js->{summary}{requests}, 57, 'sqctl key activity --json: the API\'s data and summary');

# --- deleting the key hides its activity like the key itself ---------------
is((call($full, 'DELETE', "/v1/keys/$kid"))[0]{status}, 200, 'delete the key');
($r) = activity();
is($r->{status}, 404, 'a deleted key\'s activity: 404, like the key');

# --- end to end, when the edge records activity (act) ----------------------
SKIP: {
    my $so = "$SQTest::BUILD/ngx_http_smartlyq_module.so";
    my $has = do { local $/; open my $f, '<', $so or die $!; binmode $f;
                   my $b = <$f>; index($b, 'smartlyq_activity') >= 0 };
    skip 'the module does not record activity (act\'s branch not merged)', 4
        unless $has;
    ($r, $d) = call($full, 'POST', '/v1/keys',
                    { name => 'e2e', scopes => ['articles:read'] });
    my ($k2, $id2) = ($d->{data}{key}, $d->{data}{id});
    call($k2, 'GET', '/v1/articles');
    call($k2, 'GET', "/v1/articles?workspace_id=$T->{wsb}");
    my $got;
    for (1 .. 50) {
        ($r, $d) = call($full, 'GET', "/v1/keys/$id2/activity");
        $got = $d;
        last if $d && $d->{summary} && $d->{summary}{requests} >= 2;
        sleep 0.1;
    }
    is($got->{summary}{requests}, 2, 'e2e: both requests recorded');
    is_deeply($got->{summary}{refusals_by_code}, { forbidden => 1 },
              'e2e: the foreign workspace refused as forbidden');
    is_deeply($got->{summary}{ips}, ['127.0.0.1'], 'e2e: the client IP');
    is_deeply($got->{summary}{routes}, ['/v1/articles'], 'e2e: the route');
}

my $log = SQTest::nginx_error_log();
unlike($log, qr/exited on signal|\[alert\]/, 'no worker crashed');

done_testing();
