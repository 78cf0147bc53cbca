# Key ownership, the monthly review and owner notices (issue 16, keyops),
# through the edge: owner_id (default the creating user) and purpose at
# creation and by PATCH /v1/keys/{id} and `sqctl key set`; GET
# /v1/keys/review and `sqctl key review` (no owner, unused, aging, broad);
# POST /v1/keys/{id}/notify into the owner's GET /v1/me/notifications
# (409 NO_OWNER when there is none), capped at 200, and `sqctl key
# notify` / `sqctl user notifications`.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use JSON::PP;
use Test::More;

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(routes => 1));

sub call { return SQTest::api($base, @_) }
sub err { my ($r, $d) = @_; return "$r->{status} " . ($d && $d->{error} ? $d->{error}{code} : 'OK') }

my $full = $T->{alice_key};
my $now = time;

# Carol shares ws1 with Alice; Bob shares nothing with her
my $carol = SQTest::sqctl(qw(user create --email carol@example.com --name Carol));
SQTest::sqctl('member', 'add', '--workspace', $T->{ws1}, '--user', $carol);
my $carol_key = SQTest::sqctl('key', 'create', '--user', $carol, '--name', 'carol',
                              '--scopes', 'workspace:read');

sub new_key {
    my (%b) = @_;
    my ($r, $d) = call($full, 'POST', '/v1/keys', { scopes => ['articles:read'], %b });
    is($r->{status}, 201, "create $b{name}") or diag($r->{content});
    return $d->{data};
}

sub digest_of { return SQTest::redis_cli('GET', "sq:keyid:$_[0]") }

# --- owner and purpose at creation ----------------------------------------
my $k = new_key(name => 'plain');
is($k->{owner_id}, $T->{alice}, 'owner_id defaults to the creating user');
is($k->{purpose}, '', '... and purpose to empty');
$k = new_key(name => 'ci', purpose => 'CI deploys of the blog');
is($k->{purpose}, 'CI deploys of the blog', 'purpose given at creation');
my $ci = $k->{id};
$k = new_key(name => 'for-carol', owner_id => $carol + 0);
is($k->{owner_id}, $carol, 'owner_id: a member of a shared workspace');
my ($r, $d) = call($full, 'POST', '/v1/keys',
                   { name => 'x', scopes => ['articles:read'], owner_id => $T->{bob} + 0 });
is(err($r, $d), '400 VALIDATION_ERROR', 'owner_id: a user sharing no workspace is refused');
($r, $d) = call($full, 'POST', '/v1/keys',
                { name => 'x', scopes => ['articles:read'], purpose => 'p' x 201 });
is(err($r, $d), '400 VALIDATION_ERROR', 'purpose over 200 bytes is refused');
($r, $d) = call($full, 'POST', '/v1/keys',
                { name => 'x', scopes => ['articles:read'], purpose => "a\x01b" });
is(err($r, $d), '400 VALIDATION_ERROR', 'purpose with a control character is refused');
my $sq_made = SQTest::sqctl('key', 'create', '--user', $T->{alice}, '--name', 'cli');
(undef, $d) = call($full, 'GET', '/v1/keys?limit=100');
my ($cli) = grep { $_->{name} eq 'cli' } @{ $d->{data} };
is($cli->{owner_id}, $T->{alice}, 'sqctl key create: the owner is the key\'s user');
my ($listed) = grep { $_->{id} == $ci } @{ $d->{data} };
is($listed->{purpose}, 'CI deploys of the blog', 'GET /v1/keys shows purpose');

# --- PATCH /v1/keys/{id} ---------------------------------------------------
($r, $d) = call($full, 'PATCH', "/v1/keys/$ci", { purpose => 'release builds' });
is($r->{status}, 200, 'PATCH purpose') or diag($r->{content});
is($d->{data}{purpose}, 'release builds', '... set');
is($d->{data}{owner_id}, $T->{alice}, '... the owner kept');
($r, $d) = call($full, 'PATCH', "/v1/keys/$ci", { owner_id => $carol + 0 });
is($d->{data}{owner_id}, $carol, 'PATCH owner_id to Carol');
is($d->{data}{purpose}, 'release builds', '... the purpose kept');
is(SQTest::redis_cli('HGET', 'sq:key:{' . digest_of($ci) . '}', 'owner_id'), $carol,
   '... stored on the key record');
for my $c ([{ owner_id => $T->{bob} + 0 }, 'a user sharing no workspace'],
           [{ owner_id => 987654 }, 'no such user'],
           [{ owner_id => 'x' }, 'not an id'],
           [{}, 'nothing to set'],
           [{ name => 'n' }, 'a field that is not owner_id or purpose'],
           [{ purpose => 'q' x 201 }, 'purpose too long']) {
    ($r, $d) = call($full, 'PATCH', "/v1/keys/$ci", $c->[0]);
    is(err($r, $d), '400 VALIDATION_ERROR', "PATCH refused: $c->[1]");
}
($r, $d) = call($T->{bob_key}, 'PATCH', "/v1/keys/$ci", { purpose => 'mine' });
is($r->{status}, 404, "Bob cannot PATCH Alice's key: 404");
($r) = call($full, 'PATCH', '/v1/keys/999999', { purpose => 'x' });
is($r->{status}, 404, 'PATCH an unknown key: 404');

# rotation keeps owner and purpose
($r, $d) = call($full, 'POST', "/v1/keys/$ci/rotate", { grace_seconds => 60 });
is($r->{status}, 201, 'rotate');
is($d->{data}{owner_id}, $carol, '... the new key keeps the owner');
is($d->{data}{purpose}, 'release builds', '... and the purpose');
my $ci2 = $d->{data}{id};

# sqctl key set
SQTest::sqctl('key', 'set', '--id', $ci2, '--owner', $T->{alice}, '--purpose', 'from the CLI');
(undef, $d) = call($full, 'GET', "/v1/keys/$ci2");
is($d->{data}{owner_id}, $T->{alice}, 'sqctl key set --owner');
is($d->{data}{purpose}, 'from the CLI', 'sqctl key set --purpose');
ok(!eval { SQTest::sqctl('key', 'set', '--id', $ci2, '--owner', 987654); 1 },
   'sqctl key set --owner of no user fails');

# --- the review -------------------------------------------------------------
my $day = 86400;
my %rk;
$rk{noowner} = new_key(name => 'no-owner')->{id};
SQTest::redis_cli('HDEL', 'sq:key:{' . digest_of($rk{noowner}) . '}', 'owner_id');
SQTest::redis_cli('HSET', 'sq:keyuse:{' . digest_of($rk{noowner}) . '}', 'last_used_at', int $now);
$rk{ghost} = new_key(name => 'ghost-owner')->{id};
SQTest::redis_cli('HSET', 'sq:key:{' . digest_of($rk{ghost}) . '}', 'owner_id', 987654);
SQTest::redis_cli('HSET', 'sq:keyuse:{' . digest_of($rk{ghost}) . '}', 'last_used_at', int $now);
$rk{unused} = new_key(name => 'unused')->{id};
SQTest::redis_cli('HSET', 'sq:key:{' . digest_of($rk{unused}) . '}', 'created_at', int($now - 60 * $day));
$rk{aging} = new_key(name => 'aging')->{id};
SQTest::redis_cli('HSET', 'sq:key:{' . digest_of($rk{aging}) . '}', 'created_at', int($now - 100 * $day));
SQTest::redis_cli('HSET', 'sq:keyuse:{' . digest_of($rk{aging}) . '}', 'last_used_at', int($now - $day));
$rk{rotated} = new_key(name => 'old-rotated')->{id};
SQTest::redis_cli('HSET', 'sq:key:{' . digest_of($rk{rotated}) . '}', 'created_at', int($now - 100 * $day));
SQTest::redis_cli('HSET', 'sq:keyuse:{' . digest_of($rk{rotated}) . '}', 'last_used_at', int $now);
call($full, 'POST', "/v1/keys/$rk{rotated}/rotate", { grace_seconds => 3600 });
$rk{disabled} = new_key(name => 'disabled-old')->{id};
SQTest::redis_cli('HSET', 'sq:key:{' . digest_of($rk{disabled}) . '}', 'created_at', int($now - 100 * $day));
call($full, 'POST', "/v1/keys/$rk{disabled}/disable");
$rk{dead} = new_key(name => 'rotated-away')->{id};
SQTest::redis_cli('HSET', 'sq:key:{' . digest_of($rk{dead}) . '}', 'created_at', int($now - 60 * $day));
call($full, 'POST', "/v1/keys/$rk{dead}/rotate", { grace_seconds => 0 });
$rk{fresh} = new_key(name => 'fresh')->{id};
SQTest::redis_cli('HSET', 'sq:keyuse:{' . digest_of($rk{fresh}) . '}', 'last_used_at', int $now);

sub ids { my ($d, $c) = @_; return { map { $_->{id} => 1 } @{ $d->{data}{$c} } } }

($r, $d) = call($full, 'GET', '/v1/keys/review');
is($r->{status}, 200, 'GET /v1/keys/review') or diag($r->{content});
is_deeply([sort keys %{ $d->{data} }], [qw(aging broad no_owner unused)], '... four lists');
my %no = %{ ids($d, 'no_owner') };
ok($no{$rk{noowner}}, 'no_owner: a key without owner_id');
ok($no{$rk{ghost}}, 'no_owner: a key whose owner is no user');
ok(!$no{$rk{fresh}}, '... not a key with an owner');
my %un = %{ ids($d, 'unused') };
ok($un{$rk{unused}}, 'unused: created 60 days ago, never used');
ok(!$un{$rk{aging}}, '... not one used yesterday');
ok(!$un{$rk{fresh}}, '... not one used today');
my %ag = %{ ids($d, 'aging') };
ok($ag{$rk{aging}}, 'aging: 100 days old, never rotated');
ok(!$ag{$rk{rotated}}, '... not one that was rotated');
ok(!$ag{$rk{unused}}, '... not one 60 days old');
ok(!grep({ $_->{id} == $rk{disabled} } map { @{ $d->{data}{$_} } } keys %{ $d->{data} }),
   'a disabled key is in no list');
ok(!grep({ $_->{id} == $rk{dead} } map { @{ $d->{data}{$_} } } keys %{ $d->{data} }),
   'nor one rotated past its grace');
my %br = %{ ids($d, 'broad') };
my $alice_kid = (grep { $_->{name} eq 'alice' } @{ (call($full, 'GET', '/v1/keys?limit=100'))[1]{data} })[0]{id};
ok($br{$alice_kid}, 'broad: the key holding every scope');
ok(!$br{$rk{fresh}}, '... not a narrow one');
my ($obj) = grep { $_->{id} == $rk{aging} } @{ $d->{data}{aging} };
like($obj->{masked} // '', qr/^sqk_live_/, 'each is the listing object: masked');
is_deeply($obj->{scopes}, ['articles:read'], '... scopes');
ok(exists $obj->{owner_id} && exists $obj->{purpose} && $obj->{last_used_at},
   '... with owner_id, purpose, last_used_at');
ok(!grep({ $_->{owner} != $T->{alice} } map { @{ $d->{data}{$_} } } keys %{ $d->{data} }),
   'only the caller\'s keys');

($r, $d) = call($full, 'GET', '/v1/keys/review?unused_days=90&age_days=50');
ok(!ids($d, 'unused')->{$rk{unused}}, 'unused_days=90: a 60-day-old key is not unused');
ok(ids($d, 'aging')->{$rk{unused}}, 'age_days=50: it is aging');
($r, $d) = call($full, 'GET', '/v1/keys/review?unused_days=0');
is(err($r, $d), '400 VALIDATION_ERROR', 'unused_days=0: 400');
($r, $d) = call($T->{bob_key}, 'GET', '/v1/keys/review');
ok(!grep({ $_->{owner} != $T->{bob} } map { @{ $d->{data}{$_} } } keys %{ $d->{data} }),
   "Bob's review holds only Bob's keys");

my $rev = SQTest::sqctl('key', 'review', '--user', $T->{alice});
like($rev, qr/^$rk{unused}\t$T->{alice}\t\S+\tunused\t-\tunused\t/m,
     'sqctl key review: a line per key with its lists');
like($rev, qr/^$rk{noowner}\t.*\tno_owner\t-\t/m, '... no owner shown as -');
unlike($rev, qr/^$rk{fresh}\t/m, '... a key in no list is not shown');
my $revj = JSON::PP->new->decode(SQTest::sqctl('key', 'review', '--json', '--age-days', 50));
ok(ids({ data => $revj->{$T->{alice}} }, 'aging')->{$rk{unused}},
   'sqctl key review --json --age-days 50: per user, the API\'s lists');

# --- notify the owner ---------------------------------------------------------
my $for_carol = new_key(name => 'shared', owner_id => $carol + 0)->{id};
($r, $d) = call($full, 'POST', "/v1/keys/$for_carol/notify",
                { message => "Stale since March.\nDisable it?" });
is($r->{status}, 201, 'POST /v1/keys/{id}/notify') or diag($r->{content});
is($d->{data}{kind}, 'key_notice', '... a key notice');
is($d->{data}{owner_id}, $carol, '... to the owner');
($r, $d) = call($carol_key, 'GET', '/v1/me/notifications');
is($r->{status}, 200, 'GET /v1/me/notifications') or diag($r->{content});
is(scalar @{ $d->{data} }, 1, '... the owner has one notice');
my $n = $d->{data}[0];
is($n->{key_id}, $for_carol, '... about the key');
is($n->{from_user_id}, $T->{alice}, '... from Alice');
is($n->{message}, "Stale since March.\nDisable it?", '... the message as sent');
ok($n->{id} && abs($n->{time} - time) < 60, '... with an id and a time');
(undef, $d) = call($full, 'GET', '/v1/me/notifications');
ok(!grep({ $_->{key_id} == $for_carol } @{ $d->{data} }), 'the sender does not get it');

($r, $d) = call($full, 'POST', "/v1/keys/$rk{noowner}/notify", { message => 'hi' });
is(err($r, $d), '409 NO_OWNER', 'notify a key with no owner: 409 NO_OWNER');
like($d->{error}{message}, qr/no owner/, '... saying so');
($r, $d) = call($full, 'POST', "/v1/keys/$rk{ghost}/notify", { message => 'hi' });
is(err($r, $d), '409 NO_OWNER', '... nor one whose owner is no user');
($r) = call($T->{bob_key}, 'POST', "/v1/keys/$for_carol/notify", { message => 'x' });
is($r->{status}, 404, "Bob cannot notify about Alice's key: 404");
for my $c ([{}, 'no message'], [{ message => '' }, 'empty'],
           [{ message => 'm' x 1001 }, 'over 1000 bytes'],
           [{ message => 'x', to => 1 }, 'another field'],
           [{ message => 5 }, 'not a string']) {
    ($r, $d) = call($full, 'POST', "/v1/keys/$for_carol/notify", $c->[0]);
    is(err($r, $d), '400 VALIDATION_ERROR', "notify refused: $c->[1]");
}

# newest first, capped at 200
SQTest::sqctl('key', 'notify', '--id', $for_carol, '--message', "n$_") for 1 .. 205;
is(SQTest::redis_cli('LLEN', "sq:user:{u$carol}:notifications"), 200, 'the list is capped at 200');
($r, $d) = call($carol_key, 'GET', '/v1/me/notifications?limit=200');
is(scalar @{ $d->{data} }, 200, 'limit=200 reads them all');
is($d->{data}[0]{message}, 'n205', '... newest first');
is($d->{data}[0]{from_user_id}, undef, '... from sqctl: no user');
is($d->{data}[199]{message}, 'n6', '... the oldest dropped');
($r, $d) = call($carol_key, 'GET', '/v1/me/notifications');
is(scalar @{ $d->{data} }, 50, 'by default 50');
($r, $d) = call($carol_key, 'GET', '/v1/me/notifications?limit=201');
is(err($r, $d), '400 VALIDATION_ERROR', 'limit over 200: 400');
my $un_lines = SQTest::sqctl('user', 'notifications', '--user', $carol, '--limit', 2);
like($un_lines, qr/^\S+\t$for_carol\t-\tn205\n\S+\t$for_carol\t-\tn204\n?$/,
     'sqctl user notifications: time, key, from, message');
($r) = call($carol_key, 'POST', '/v1/me/notifications');
is($r->{status}, 405, '/v1/me/notifications: GET only');

# --- apps: owner_id and purpose -------------------------------------------
($r, $d) = call($full, 'POST', '/v1/apps', {
    name => 'Blog sync', redirect_uris => ['https://example.com/cb'],
    scopes => ['articles:read'], workspace_id => $T->{ws1} + 0,
    purpose => 'syncs the blog' });
is($r->{status}, 201, 'an app with a purpose') or diag($r->{content});
my $app = $d->{data}{id};
is($d->{data}{owner_id}, $T->{alice}, '... owned by its creator');
is($d->{data}{purpose}, 'syncs the blog', '... the purpose kept');
($r, $d) = call($full, 'PATCH', "/v1/apps/$app", { owner_id => $carol + 0, purpose => 'sync' });
is($r->{status}, 200, 'PATCH /v1/apps/{id} owner_id and purpose') or diag($r->{content});
is($d->{data}{owner_id}, $carol, '... owner set');
is($d->{data}{purpose}, 'sync', '... purpose set');
is($d->{data}{name}, 'Blog sync', '... the rest kept');
($r, $d) = call($full, 'PATCH', "/v1/apps/$app", { owner_id => $T->{bob} + 0 });
is(err($r, $d), '400 VALIDATION_ERROR', 'an app owner sharing no workspace: 400');
($r, $d) = call($full, 'PATCH', "/v1/apps/$app", { purpose => 'z' x 201 });
is(err($r, $d), '400 VALIDATION_ERROR', 'an app purpose over 200 bytes: 400');
($r, $d) = call($full, 'POST', '/v1/apps', {
    name => 'x', redirect_uris => ['https://example.com/cb'],
    scopes => ['articles:read'], workspace_id => $T->{ws1} + 0, owner_id => $carol + 0 });
is(err($r, $d), '400 VALIDATION_ERROR', 'owner_id at app creation: refused (the creator owns it)');
SQTest::sqctl('app', 'set', '--id', $app, '--owner', $T->{alice}, '--purpose', 'cli');
(undef, $d) = call($full, 'GET', "/v1/apps/$app");
is("$d->{data}{owner_id} $d->{data}{purpose}", "$T->{alice} cli", 'sqctl app set');

my $log = SQTest::nginx_error_log();
unlike($log, qr/exited on signal|\[alert\]/, 'no worker crashed');

done_testing();
