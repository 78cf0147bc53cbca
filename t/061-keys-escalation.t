# Key management cannot escalate (issue 11), end to end through
# conf/smartlyq-routes.conf: a key with keys:manage creates only keys it
# could hold itself (scopes, workspaces, mode), rotates, enables and
# deletes only such keys (403 INSUFFICIENT_SCOPE saying why), may disable
# any key of its own user, never another user's; /v1/me with a
# workspace-limited key lists only that key's workspaces; `sqctl key
# create` gives no keys:manage unless asked.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use JSON::PP;
use Test::More;

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(routes => 1));

my $ALL = 'chatbots:read chatbots:write social:read social:write urls:read '
        . 'urls:write articles:read articles:write images:read images:write '
        . 'media:read media:write workspace:read keys:manage';

sub call { return SQTest::api($base, @_) }

sub code_of {
    my ($r, $d) = call(@_);
    return ($r->{status}, $d && $d->{error} ? $d->{error}{code} : 'OK', $d);
}

sub key { return SQTest::sqctl('key', 'create', '--user', $T->{alice}, @_) }

# the `sqctl key list` row of Alice's key named $name, split on tabs
sub row {
    my ($name) = @_;
    my ($line) = grep { (split /\t/)[2] eq $name }
                 split /\n/, SQTest::sqctl('key', 'list', '--user', $T->{alice});
    return $line ? split /\t/, $line : ();
}

sub kid { return (row($_[0]))[0] }

sub refused {
    my ($caller, $method, $path, $body, $msg, $name) = @_;
    my @c = code_of($caller, $method, $path, $body);
    is("@c[0,1]", '403 INSUFFICIENT_SCOPE', $name);
    like($c[2]{error}{message} // '', $msg, '... saying why')
        or diag($c[2]{error}{message});
}

my $admin = $T->{alice_key};
my $wide = key('--name', 'wide', '--scopes', $ALL);
my $wide_id = kid('wide');

# --- scopes --------------------------------------------------------------
my $mgr = key('--name', 'mgr', '--scopes', 'keys:manage articles:read');
my @c = code_of($mgr, 'POST', '/v1/keys',
                { name => 'narrow', scopes => ['articles:read'] });
is($c[0], 201, 'a manager creates a key with a subset of its scopes');
my $narrow_id = $c[2]{data}{id};

refused($mgr, 'POST', '/v1/keys',
        { name => 'x', scopes => ['articles:read', 'articles:write'] },
        qr/^This key cannot create a key with wider scopes than its own/,
        'create with a scope the caller lacks');
refused($mgr, 'POST', '/v1/keys', { name => 'x', scopes => ['keys:manage',
        'articles:read', 'workspace:read'] },
        qr/wider scopes/, '... workspace:read, which it lacks, too');

refused($mgr, 'POST', "/v1/keys/$wide_id/rotate", { grace_seconds => 0 },
        qr/^This key cannot rotate a key with wider scopes than its own/,
        'rotate a wider key of the same user');
is((call($wide, 'GET', '/v1/articles'))[0]{status}, 200,
   '... which keeps working, not rotated');
is((row('wide'))[4], 'active', '... and is still active');

is((call($admin, 'POST', "/v1/keys/$wide_id/disable"))[0]{status}, 200,
   '(the admin disables it)');
refused($mgr, 'POST', "/v1/keys/$wide_id/enable", undef,
        qr/^This key cannot enable a key with wider scopes/,
        'enable a wider key');
is((row('wide'))[4], 'disabled', '... it stays disabled');
is((call($admin, 'POST', "/v1/keys/$wide_id/enable"))[0]{status}, 200,
   '(the admin enables it)');
refused($mgr, 'DELETE', "/v1/keys/$wide_id", undef,
        qr/^This key cannot delete a key with wider scopes/,
        'delete a wider key');
is((call($wide, 'GET', '/v1/articles'))[0]{status}, 200, '... it survives');

@c = code_of($mgr, 'POST', "/v1/keys/$wide_id/disable");
is($c[0], 200, 'disable a wider key of the same user: allowed');
is((call($wide, 'GET', '/v1/articles'))[0]{status}, 401, '... it is off');
is((call($admin, 'POST', "/v1/keys/$wide_id/enable"))[0]{status}, 200,
   '(the admin enables it again)');

# same width is fine, and rotation copies no more than the caller holds
is((call($mgr, 'POST', "/v1/keys/$narrow_id/disable"))[0]{status}, 200,
   'disable a same-width key');
is((call($mgr, 'POST', "/v1/keys/$narrow_id/enable"))[0]{status}, 200,
   'enable a same-width key');
@c = code_of($mgr, 'POST', "/v1/keys/$narrow_id/rotate", { grace_seconds => 0 });
is($c[0], 201, 'rotate a same-width key');
is_deeply($c[2]{data}{scopes}, ['articles:read'], '... the new key has its scopes');
is((call($mgr, 'DELETE', "/v1/keys/$c[2]{data}{id}"))[0]{status}, 200,
   'delete a same-width key');
my $mgr_id = kid('mgr');
@c = code_of($mgr, 'POST', "/v1/keys/$mgr_id/rotate", { grace_seconds => 60 });
is($c[0], 201, 'a manager rotates itself');
is_deeply($c[2]{data}{scopes}, ['articles:read', 'keys:manage'],
          '... into exactly its own scopes');

# --- workspaces ----------------------------------------------------------
my $ws1mgr = key('--name', 'ws1mgr', '--scopes', $ALL,
                 '--workspaces', $T->{ws1});
refused($ws1mgr, 'POST', '/v1/keys', { name => 'x', scopes => ['urls:read'],
        workspaces => [$T->{ws2} + 0] },
        qr/^This key cannot create a key for workspaces outside its own/,
        'a ws1-limited key creates a key for ws2 (a workspace of the user)');
refused($ws1mgr, 'POST', '/v1/keys', { name => 'x', scopes => ['urls:read'],
        workspaces => [$T->{ws1} + 0, $T->{wsb} + 0] },
        qr/outside its own/, '... for a foreign workspace');
refused($ws1mgr, 'POST', '/v1/keys', { name => 'x', scopes => ['urls:read'],
        workspaces => [] },
        qr/^This key cannot create a key without a workspace limit/,
        '... with an explicit empty list (no limit)');
@c = code_of($ws1mgr, 'POST', '/v1/keys',
             { name => 'inherit', scopes => ['urls:read'] });
is($c[0], 201, 'workspaces omitted: allowed');
is_deeply($c[2]{data}{workspaces}, [$T->{ws1} + 0], "... inheriting the caller's limit");
@c = code_of($ws1mgr, 'POST', '/v1/keys', { name => 'ws1 too',
             scopes => ['urls:read'], workspaces => [$T->{ws1} + 0] });
is($c[0], 201, 'a list within the limit: allowed');
my $ws1key_id = $c[2]{data}{id};
@c = code_of($admin, 'POST', '/v1/keys', { name => 'ws2 only',
             scopes => ['urls:read'], workspaces => [$T->{ws2} + 0] });
is($c[0], 201, 'an unlimited caller may restrict freely');
my $ws2key_id = $c[2]{data}{id};

my $unl_id = (code_of($admin, 'POST', '/v1/keys',
              { name => 'unlimited', scopes => ['urls:read'] }))[2]{data}{id};
refused($ws1mgr, 'POST', "/v1/keys/$unl_id/rotate", { grace_seconds => 0 },
        qr/^This key cannot rotate a key without a workspace limit/,
        'a ws1-limited key rotates an unlimited key');
refused($ws1mgr, 'POST', "/v1/keys/$ws2key_id/rotate", { grace_seconds => 0 },
        qr/^This key cannot rotate a key for workspaces outside its own/,
        '... or a ws2 key');
refused($ws1mgr, 'DELETE', "/v1/keys/$ws2key_id", undef,
        qr/^This key cannot delete/, '... deletes a ws2 key');
is((call($ws1mgr, 'POST', "/v1/keys/$ws2key_id/disable"))[0]{status}, 200,
   '... but may disable it');
refused($ws1mgr, 'POST', "/v1/keys/$ws2key_id/enable", undef,
        qr/^This key cannot enable/, '... not enable it');
is((call($ws1mgr, 'POST', "/v1/keys/$ws1key_id/rotate",
         { grace_seconds => 0 }))[0]{status}, 201, 'rotates a ws1 key');

# --- /v1/me ---------------------------------------------------------------
my (undef, $me) = call($ws1mgr, 'GET', '/v1/me');
is_deeply([map { $_->{id} } @{ $me->{data}{workspaces} }], [$T->{ws1} + 0],
          '/v1/me with a ws1-limited key lists ws1 only');
(undef, $me) = call(key('--name', 'ws2me', '--scopes', 'workspace:read',
                        '--workspaces', $T->{ws2}), 'GET', '/v1/me');
is_deeply([map { $_->{id} } @{ $me->{data}{workspaces} }], [$T->{ws2} + 0],
          '... a ws2-limited key ws2 only');
is($me->{data}{primary_workspace_id}, undef,
   '... and no primary workspace it may not use');
(undef, $me) = call($admin, 'GET', '/v1/me');
is_deeply([sort { $a <=> $b } map { $_->{id} } @{ $me->{data}{workspaces} }],
          [sort { $a <=> $b } $T->{ws1} + 0, $T->{ws2} + 0],
          'an unlimited key lists all the user\'s workspaces');

# --- live and test ---------------------------------------------------------
my $testmgr = $T->{alice_test_key};
refused($testmgr, 'POST', '/v1/keys', { name => 'x', mode => 'live',
        scopes => ['urls:read'] },
        qr/^This key cannot create a live key: it is a test key\.$/,
        'a test key creates a live key');
@c = code_of($testmgr, 'POST', '/v1/keys', { name => 't', scopes => ['urls:read'] });
is($c[0], 201, 'a test key, mode omitted: allowed');
like($c[2]{data}{key} // '', qr/^sqk_test_/, '... the new key is a test key');
refused($admin, 'POST', '/v1/keys', { name => 'x', mode => 'test',
        scopes => ['urls:read'] },
        qr/^This key cannot create a test key: it is a live key\.$/,
        'a live key creates a test key: refused too (same mode)');
refused($testmgr, 'POST', "/v1/keys/$unl_id/rotate", { grace_seconds => 0 },
        qr/^This key cannot rotate a live key: it is a test key\.$/,
        'a test key rotates a live key');

# --- publishable and other users --------------------------------------------
my $pub = key('--name', 'pub', '--type', 'publishable');
@c = code_of($pub, 'POST', '/v1/keys', { name => 'x', scopes => ['urls:read'] });
is("@c[0,1]", '403 PUBLISHABLE_KEY_NOT_ALLOWED', 'a publishable key creates no key');
@c = code_of($pub, 'POST', "/v1/keys/$unl_id/disable");
is("@c[0,1]", '403 PUBLISHABLE_KEY_NOT_ALLOWED', '... nor disables one');
@c = code_of($T->{bob_key}, 'POST', "/v1/keys/$unl_id/disable");
is($c[0], 404, "Bob cannot disable Alice's key (404)");
is((row('unlimited'))[4], 'active', '... it stays active');

# --- sqctl defaults --------------------------------------------------------
my $default = key('--name', 'default');
unlike((row('default'))[6], qr/keys:manage/,
       '`sqctl key create` gives no keys:manage by default');
like((row('default'))[6], qr/articles:write/, '... but the other scopes');
eval { key('--name', 'explicit', '--scopes', 'all') };
like((row('explicit'))[6] // '', qr/keys:manage/, '`--scopes all` gives it');
@c = code_of($default, 'GET', '/v1/keys');
is("@c[0,1]", '403 INSUFFICIENT_SCOPE', 'a default key cannot manage keys');

my $log = SQTest::nginx_error_log();
unlike($log, qr/exited on signal|\[alert\]/, 'no worker crashed');

done_testing();
