# Key activity (issue 16, ngx_smartlyq_activity.c; redis/SCHEMA.md "Key
# activity"): the edge records every request that presents a key, allowed
# or refused, in sq:act:<key id> (one entry per second and tuple, with a
# count), and refusals of keys no record matches per IP in
# sq:act:unknown:<yyyymmdd>; nothing per request, no key material;
# trimmed by max= and days=; not at all where smartlyq_activity is off.
# Runs under the ACL users: the edge's user may write exactly this.

use strict;
use warnings;

use lib 't/lib';
use SQTest acl => 1;
use SQHttp;
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX qw(strftime);

my $T = $SQTest::T;

my $base = SQTest::nginx_start(SQTest::server_conf(
    locations => [
        SQTest::guarded('/v1/articles', 'echo', 'smartlyq_scope articles;'),
        SQTest::guarded('/quiet/', 'echo', 'smartlyq_activity off;'),
        SQTest::guarded('/small/', 'echo', 'smartlyq_activity on max=10;'),
        SQTest::guarded('/brief/', 'echo', 'smartlyq_activity on days=1;'),
    ]), 1);
my ($port) = $base =~ /:(\d+)$/;

# smaller stream nodes, so that the approximate trims (~) come close
SQTest::redis_cli('CONFIG', 'SET', 'stream-node-max-entries', '10');

sub key_id_of {
    my ($name, $user) = @_;
    my ($line) = grep { /\b\Q$name\E\b/ } split /\n/,
                 sqctl('key', 'list', '--user', $user);
    my ($id) = $line =~ /^\s*(\d+)/;
    return $id;
}

sub new_key {
    my ($name, @o) = @_;
    my $k = sqctl('key', 'create', '--user', $T->{alice}, '--name', $name,
                  @o);
    return ($k, key_id_of($name, $T->{alice}));
}

sub get {
    my ($key, $path) = @_;
    my $r = SQTest::http()->get("$base$path",
                                { headers => SQTest::bearer($key) });
    return $r->{status};
}

# the entries of a key's stream, oldest first: [id, {field => value}]
sub entries {
    my ($id) = @_;
    require JSON::PP;
    my $out = SQTest::redis_cli('-2', '--json', 'XRANGE', "sq:act:$id", '-',
                                '+');
    my $d = eval { JSON::PP->new->decode($out) } || [];
    return map { [$_->[0], { @{ $_->[1] } }] } @$d;
}

sub wait_entries {
    my ($id, $what, $cond) = @_;
    my @e;
    SQTest::wait_until($what, sub { @e = entries($id); $cond->(@e) }, 5);
    return @e;
}

sub sum_n { my $n = 0; $n += $_->[1]{n} for @_; return $n }

my $alice_id = key_id_of('alice', $T->{alice});

# --- allowed, with and without a workspace; what an entry holds
is(get($T->{alice_key}, "/v1/articles"), 200, 'allowed, no workspace');
is(get($T->{alice_key}, "/v1/articles?workspace_id=$T->{ws1}"), 200,
   'allowed in ws1');

my @e = wait_entries($alice_id, 'alice\'s two entries',
                     sub { sum_n(@_) >= 2 });
my ($plain) = grep { $_->[1]{ws} eq '' } @e;
my ($inws) = grep { $_->[1]{ws} eq $T->{ws1} } @e;
ok($plain && $inws, 'one entry without a workspace, one in ws1');
is_deeply([sort keys %{ $plain->[1] }], [qw(c ip m n r s t ws)],
          'an entry has exactly t ip m r ws s c n');
is($plain->[1]{ip}, '127.0.0.1', 'ip');
is($plain->[1]{m}, 'GET', 'method');
is($plain->[1]{r}, '/v1/articles', 'route: the location\'s name');
is($plain->[1]{s}, '200', 'status: the upstream\'s');
is($plain->[1]{c}, '', 'no refusal code when allowed');
is($plain->[1]{n}, '1', 'count');
ok(abs($plain->[1]{t} - time) < 10, 'time: the request\'s second');

my $ttl = SQTest::redis_cli('TTL', "sq:act:$alice_id");
ok($ttl > 29 * 86400 && $ttl <= 30 * 86400,
   "the stream expires after the default 30 days ($ttl s)");

# --- refused, with their codes
is(get($T->{alice_key}, "/v1/articles?workspace_id=$T->{wsb}"), 403,
   'a foreign workspace: 403');
is(get($T->{disabled_key}, "/v1/articles"), 401, 'a disabled key: 401');
my ($social, $social_id) = new_key('social-only', '--scopes', 'social:read');
is(get($social, "/v1/articles?workspace_id=$T->{ws1}"), 403,
   'a key without the scope: 403');

@e = wait_entries($alice_id, 'the foreign-workspace refusal',
                  sub { grep { $_->[1]{c} ne '' } @_ });
my ($ref) = grep { $_->[1]{c} ne '' } @e;
is_deeply([@{ $ref->[1] }{qw(ws s c r)}],
          [$T->{wsb}, 403, 'forbidden', '/v1/articles'],
          'foreign workspace: ws, 403, forbidden');

@e = wait_entries($T->{disabled_key_id}, 'the disabled key\'s entry',
                  sub { @_ >= 1 });
is_deeply([@{ $e[0][1] }{qw(s c n)}], [401, 'disabled_key', 1],
          'disabled key: 401, disabled_key, under its key id');

@e = wait_entries($social_id, 'the scope refusal', sub { @_ >= 1 });
is_deeply([@{ $e[0][1] }{qw(ws s c)}],
          [$T->{ws1}, 403, 'insufficient_scope'],
          'missing scope: 403, insufficient_scope');

# --- unknown keys: per IP and day, no key material
my $unknown = 'sqk_live_' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 40);
my $day = strftime('%Y%m%d', gmtime);
my $before = SQTest::redis_cli('HGET', "sq:act:unknown:$day", '127.0.0.1')
             || 0;
is(get($unknown, '/v1/articles'), 401, 'an unknown key: 401');
is(get('not-a-key', '/v1/articles'), 401, 'a malformed key: 401');
is(SQTest::http()->get("$base/v1/articles")->{status}, 401,
   'no key: 401 (not recorded)');
# a witness after it: once the witness is counted, so would it have been
is(get($unknown, '/v1/articles'), 401, 'the unknown key again: 401');
SQTest::wait_until('the unknown keys counted', sub {
    (SQTest::redis_cli('HGET', "sq:act:unknown:$day", '127.0.0.1') || 0)
        >= $before + 3
}, 5);
is(SQTest::redis_cli('HGET', "sq:act:unknown:$day", '127.0.0.1'),
   $before + 3, 'unknown and malformed keys counted by IP, no key: not');
is(SQTest::redis_cli('HKEYS', "sq:act:unknown:$day"), '127.0.0.1',
   'the unknown-key hash holds IPs only');
$ttl = SQTest::redis_cli('TTL', "sq:act:unknown:$day");
ok($ttl > 29 * 86400 && $ttl <= 30 * 86400, "and expires ($ttl s)");

my @all = split /\n/, SQTest::redis_cli('--scan', '--pattern', 'sq:act:*');
my $dump = '';
for my $k (@all) {
    my $type = SQTest::redis_cli('TYPE', $k);
    $dump .= SQTest::redis_cli($type eq 'stream' ? ('XRANGE', $k, '-', '+')
                                                 : ('HGETALL', $k)) . "\n";
}
my $digest = SQTest::token_digest($unknown);
my $alice_digest = SQTest::token_digest($T->{alice_key});
unlike($dump, qr/sqk_|\Q$digest\E|\Q$alice_digest\E/,
       'no key, no digest in any sq:act:*');
ok(@all >= 4, 'sq:act:* keys were there to look at (' . @all . ')');

# --- aggregation: 50 requests in one second, two tuples -> two entries
my ($agg, $agg_id) = new_key('agg', '--scopes', 'all');
my $c = SQHttp->new(port => $port);
# start just after a second begins (a bounded poll, not a sleep)
SQTest::wait_until('a fresh second', sub { time - int(time) < 0.1 }, 2);
my $t0 = time;
my %st;
for my $i (1 .. 50) {
    my $ws = $i % 2 ? $T->{ws1} : $T->{ws2};
    my ($s) = $c->request('GET', "/v1/articles?workspace_id=$ws",
                          SQTest::bearer($agg));
    $st{$s}++;
}
my $took = time - $t0;
is_deeply(\%st, { 200 => 50 }, '50 requests allowed');
@e = wait_entries($agg_id, 'the 50 counted', sub { sum_n(@_) >= 50 });
for my $ws ($T->{ws1}, $T->{ws2}) {
    my @w = grep { $_->[1]{ws} eq $ws } @e;
    my %sec = map { $_->[1]{t} => 1 } @w;
    is(sum_n(@w), 25, "ws $ws: 25 requests counted");
    is(scalar @w, scalar keys %sec,
       "ws $ws: one entry per second (" . @w . " entries)");
}
ok(@e <= 4, 'at most 4 entries for 50 requests (' . @e . ')');
if ($took < 0.85) {
    is(scalar @e, 2, sprintf('all in one second (%.2fs): exactly two '
                             . 'entries, n=25 each', $took));
}

# --- off: nothing recorded there
my ($quiet, $quiet_id) = new_key('quiet', '--scopes', 'all');
is(get($quiet, '/quiet/x'), 200, 'allowed where activity is off');
is(get($quiet, '/quiet/x?workspace_id=' . $T->{wsb}), 403,
   'refused where activity is off');
# a witness after it: once the witness is written, so would it have been
is(get($quiet, '/v1/articles'), 200, 'the same key where it is on');
@e = wait_entries($quiet_id, 'the witness', sub { @_ >= 1 });
is(scalar @e, 1, 'one entry for that key');
is($e[0][1]{r}, '/v1/articles', 'and it is the one where activity is on');

# --- retention: max=N trims by count
my ($small, $small_id) = new_key('small', '--scopes', 'all');

sub xadd_many {
    my ($key, $ms, $count) = @_;
    local %ENV = (%ENV, SQTest::redis_cli_env());
    open my $fh, '|-', 'sh', '-c', 'exec redis-cli -p "$0" >/dev/null',
        $SQTest::PORT{redis} or die "redis-cli: $!";
    for my $i (1 .. $count) {
        print $fh "XADD $key $ms-$i t " . int($ms / 1000)
            . " ip 10.0.0.1 m GET r /old ws \"\" s 200 c \"\" n 1\n";
    }
    close $fh;
}

xadd_many("sq:act:$small_id", int((time - 3600) * 1000), 300);
is(SQTest::redis_cli('XLEN', "sq:act:$small_id"), 300, '300 entries');
is(get($small, '/small/x'), 200, 'one more request where max=10');
@e = wait_entries($small_id, 'the trim to ~10',
                  sub { grep { $_->[1]{r} eq '/small/' } @_ });
my $len = SQTest::redis_cli('XLEN', "sq:act:$small_id");
ok($len >= 10 && $len <= 20, "max=10 keeps ~10 entries ($len)");
is($e[-1][1]{r}, '/small/', 'the newest is the request\'s');

# --- retention: days=D trims by age, and sets the expiry
my ($brief, $brief_id) = new_key('brief', '--scopes', 'all');
my $old_ms = int((time - 2 * 86400) * 1000);
xadd_many("sq:act:$brief_id", $old_ms, 300);
is(get($brief, '/brief/x'), 200, 'one more request where days=1');
@e = wait_entries($brief_id, 'the trim by age',
                  sub { grep { $_->[1]{r} eq '/brief/' } @_ });
my $old = grep { ($_->[0] =~ /^(\d+)/)[0] < (time - 86400) * 1000 } @e;
ok($old <= 10, "days=1: entries older than a day trimmed ($old left of 300)");
$ttl = SQTest::redis_cli('TTL', "sq:act:$brief_id");
ok($ttl > 0 && $ttl <= 86400, "days=1: expires within a day ($ttl s)");

# --- nothing logged against the ACL, no crash
unlike(SQTest::nginx_error_log(), qr/activity flush refused|NOPERM/,
       'the edge\'s ACL user may write all of it');
unlike(SQTest::nginx_error_log(), qr/\[(alert|emerg|crit)\]|signal \d+/,
       'no crash, no alert');

done_testing();
