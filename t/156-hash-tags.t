# Hash tags in the key names (issue 15, "Redis Cluster"): a tenant with
# every kind of data, seeded through the API, sqctl and the OAuth flow as
# a user would, then every sq:* name is checked against the layout of
# redis/SCHEMA.md ("Hash tags"): each name has one of the known forms
# (an unknown form fails), and the names of one group hash, by Redis
# Cluster's rule (CRC16/XMODEM of the tag, mod 16384), to the group's
# slot: one key's {<digest>}, one workspace's {w<id>} (records, indexes,
# renderings, members), one user's {u<id>}, one app's {a<id>}.
#
# Then the migration: a tenant written in the layout from before the tags
# (the names of main's common/sq_keys.h), `sqctl init`, and the edge and
# backend serve it again; nothing of the old layout is left; a second
# `sqctl init` changes nothing.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use Digest::SHA qw(sha256);
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use Test::More;
use Time::HiRes qw(sleep time);

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(routes => 1));
my $json = JSON::PP->new->canonical;
my $http = HTTP::Tiny->new(max_redirect => 0, timeout => 10,
                           keep_alive => 0);
my $forbidden = '{"success": false, "error": {"code": "FORBIDDEN", '
              . '"message": "You do not have access to this workspace."}}';

sub call { return SQTest::api($base, @_) }
sub status_of { my ($r) = call(@_); return $r->{status} }

# --- Redis Cluster's slot ---------------------------------------------------

sub crc16 {     # CRC16/XMODEM: poly 0x1021, init 0, no reflection
    my ($s) = @_;
    my $crc = 0;
    for my $b (unpack 'C*', $s) {
        $crc ^= $b << 8;
        for (1 .. 8) {
            $crc = $crc & 0x8000 ? (($crc << 1) ^ 0x1021) & 0xffff
                                 : ($crc << 1) & 0xffff;
        }
    }
    return $crc;
}

sub slot {      # the tag between the first { and the next }, if not empty
    my ($key) = @_;
    my $s = index $key, '{';
    if ($s >= 0) {
        my $e = index $key, '}', $s + 1;
        $key = substr($key, $s + 1, $e - $s - 1) if $e > $s + 1;
    }
    return crc16($key) % 16384;
}

is(sprintf('0x%04X', crc16('123456789')), '0x31C3',
   'CRC16/XMODEM of "123456789" is 0x31C3 (the check value)');
is(slot('{user1000}.following'), slot('{user1000}.followers'),
   'one tag, one slot');
is(slot('foo{}{bar}'), crc16('foo{}{bar}') % 16384,
   'an empty tag: the whole name is hashed');

# --- the layout ---------------------------------------------------------------

my $D = qr/[0-9a-f]{64}/;
my $RES = qr/(?:chatbot|social_account|social_post|url|article|image|media)/;
my $IDX = qr/(?:test:)?(?:chatbots|social_accounts|social_posts|urls|articles
                         |images|media|url_slugs)/x;

# name -> [group, tag] (group '' for the names that stand alone)
sub classify {
    my ($k) = @_;
    return ['key', $1] if $k =~ /^sq:key(?:use)?:\{($D)\}$/;
    return ['ws', "w$1"]
        if $k =~ /^sq:ws:\{w(\d+)\}(?::(?:members|apps|$IDX(?::json)?
                                        |rec:$RES:\d+))?$/x;
    return ['user', "u$1"]
        if $k =~ /^sq:user:\{u(\d+)\}(?::(?:workspaces|keys|grants
                                            |notifications))?$/x;
    return ['app', "a$1"]
        if $k =~ /^sq:app:\{a(\d+)\}(?::(?:grants|outcomes
                                          |outcome_counts))?$/x;
    return ['', '']
        if $k =~ /^sq:(?:keyid:\d+|usage:\d+:\d{8}|act:\d+
                        |act:unknown:\d{8}|seq:[a-z_]+|nonce:[0-9a-f]{32}
                        |epoch|schema|appclient:sqapp_[0-9a-f]{32}
                        |grant:\d+(?::access|:refresh)?|oauthcode:$D
                        |refresh:$D|useremail:[^\s{}]+|session:$D
                        |rl:signin:(?:acct|ip):[^\s{}]+|recws:$RES:\d+)$/x;
    return undef;
}

sub all_keys { return sort split /\n/, redis_cli('--scan', '--pattern', 'sq:*') }

# checks every name: known form, and in its group's slot; returns the
# names by group and tag
sub check_layout {
    my ($what) = @_;
    my (@unknown, @misplaced, %by);
    for my $k (all_keys()) {
        my $c = classify($k);
        if (!$c) {
            push @unknown, $k;
            next;
        }
        my ($g, $tag) = @$c;
        push @{ $by{$g}{$tag} }, $k;
        push @misplaced, $k if $g ne '' && slot($k) != slot("{$tag}");
        push @misplaced, $k if $g eq '' && $k =~ /[{}]/;
    }
    is_deeply(\@unknown, [], "$what: every name has a form of the layout")
        or diag explain \@unknown;
    is_deeply(\@misplaced, [], "$what: every name of a group is in the "
              . "slot of its tag, and no other name is tagged")
        or diag explain \@misplaced;
    return \%by;
}

# --- a tenant with every kind of data -----------------------------------

my $alice = $T->{alice_key};
my $ws1 = $T->{ws1};
my (%made, $r, $d);

for my $c (['chatbots', { name => 'Bot', model => 'gpt-x' }],
           ['urls', { target => 'https://a.example/', slug => 'tags' }],
           ['articles', { title => 'Tags' }],
           ['images', { url => 'https://a.example/i.png',
                        mime_type => 'image/png', size => 10 }],
           ['media', { url => 'https://a.example/m.mp3',
                       mime_type => 'audio/mpeg', size => 10 }],
           ['social/posts', { account_id => $T->{acc1} + 0, text => 'hi' }])
{
    ($r, $d) = call($alice, 'POST', "/v1/$c->[0]?workspace_id=$ws1", $c->[1]);
    is($r->{status}, 201, "seed: a $c->[0] record") or diag $r->{content};
    $made{$c->[0]} = $d->{data}{id};
}
($r) = call($T->{alice_test_key}, 'POST', "/v1/urls?workspace_id=$ws1",
            { target => 'https://a.example/t', slug => 'tags' });
is($r->{status}, 201, 'seed: a test-mode record (the test: indexes)');

($r, $d) = call($alice, 'POST', '/v1/keys',
                { name => 'tags', scopes => ['articles:read'] });
is($r->{status}, 201, 'seed: a key through the API');
my $carol = sqctl(qw(user create --email carol@example.com --name Carol));
sqctl('member', 'add', '--workspace', $ws1, '--user', $carol);
my $carol_key = sqctl('key', 'create', '--user', $carol, '--name', 'carol',
                      '--scopes', 'all');
is(status_of($carol_key, 'GET', "/v1/articles?workspace_id=$ws1"), 200,
   'seed: a member added with sqctl reads the workspace');
my ($line) = grep { /\bcarol\b/ } split /\n/,
             sqctl('key', 'list', '--user', $carol);
my ($carol_kid) = $line =~ /^\s*(\d+)/;
sqctl('key', 'notify', '--id', $carol_kid, '--message', 'tags');
is(status_of('sqk_live_' . ('x' x 40), 'GET', '/v1/me'), 401,
   'seed: an unknown key (its activity by day)');

# an app, a grant and its tokens, by the OAuth flow of t/141
($r, $d) = call($alice, 'POST', '/v1/apps',
                { name => 'Tags', type => 'confidential',
                  redirect_uris => ['https://client.example/cb'],
                  scopes => ['articles:read'], workspace_id => $ws1 });
is($r->{status}, 201, 'seed: an app through the API');
my $app = $d->{data};
my $PW = 'correct horse battery';
SQTest::run_capture('sh', '-c', 'printf "%s\n" "$0" | SMARTLYQ_REDIS=$1 '
    . 'SMARTLYQ_PEPPER_FILE=$2 SMARTLYQ_REDIS_PASSWORD_FILE=$3 $4 user '
    . 'password --id $5', $PW, "127.0.0.1:$SQTest::PORT{redis}",
    "$SQTest::DIR/pepper", $SQTest::PASS{backend}, "$SQTest::BUILD/sqctl",
    $T->{alice});
sub form { return $http->www_form_urlencode($_[0]) }
sub post {
    my ($path, $f, $cookie, $h) = @_;
    return $http->request('POST', "$base$path", { headers => {
        'Content-Type' => 'application/x-www-form-urlencoded',
        $cookie ? (Cookie => "sq_session=$cookie") : (), %{ $h || {} } },
        content => form($f) });
}
$r = post('/signin', { email => 'alice@example.com', password => $PW });
my ($cookie) = ($r->{headers}{'set-cookie'} // '') =~ /sq_session=([^;]*)/;
ok($cookie, 'seed: signed in (a session)');
(my $verifier = encode_base64(join('', map { chr rand 256 } 1 .. 48), ''))
    =~ tr{+/=}{-_}d;
(my $challenge = encode_base64(sha256($verifier), '')) =~ tr{+/=}{-_}d;
$r = $http->request('GET', "$base/oauth/authorize?" . form({
        response_type => 'code', client_id => $app->{client_id},
        redirect_uri => 'https://client.example/cb', scope => 'articles:read',
        state => 'st', code_challenge => $challenge,
        code_challenge_method => 'S256' }),
    { headers => { Cookie => "sq_session=$cookie" } });
my %f;
while ($r->{content} =~ /<input type="hidden" name="([^"]+)" value="([^"]*)">/g) {
    (my $v = $2) =~ s/&amp;/&/g;
    $f{$1} = $v;
}
$f{workspace_id} = $ws1;
$f{decision} = 'approve';
$r = post('/oauth/authorize', \%f, $cookie);
my ($code) = ($r->{headers}{location} // '') =~ /[?&]code=([^&]+)/;
ok($code, 'seed: an authorization code');
$r = post('/oauth/token', { grant_type => 'authorization_code', code => $code,
                            redirect_uri => 'https://client.example/cb',
                            code_verifier => $verifier },
          undef, { Authorization => 'Basic ' . encode_base64(
                   "$app->{client_id}:$app->{client_secret}", '') });
my $tok = eval { $json->decode($r->{content}) } || {};
like($tok->{access_token} // '', qr/^sqo_/, 'seed: an access token');
is(status_of($tok->{access_token}, 'GET', "/v1/articles?workspace_id=$ws1"),
   200, 'seed: the access token reads through the edge');

# the edge's usage, last use and activity flushes
ok(SQTest::wait_until('the edge flushed usage and activity', sub {
    my @k = all_keys();
    (grep { /^sq:usage:/ } @k) && (grep { /^sq:keyuse:/ } @k)
        && (grep { /^sq:act:\d/ } @k) && (grep { /^sq:act:unknown:/ } @k);
}, 10), 'seed: usage, last use and activity are in Redis');

# --- every name in its group's slot -----------------------------------------

my $by = check_layout('seeded');

my @wsk = @{ $by->{ws}{"w$ws1"} || [] };
for my $res (qw(chatbot url article image media social_post
                social_account))
{
    my @rec = grep { /^sq:ws:\{w$ws1\}:rec:$res:\d+$/ } @wsk;
    ok(@rec, "workspace $ws1 holds its $res records");
}
ok((grep { $_ eq "sq:ws:{w$ws1}:members" } @wsk)
   && (grep { $_ eq "sq:ws:{w$ws1}:apps" } @wsk)
   && (grep { $_ eq "sq:ws:{w$ws1}:articles:json" } @wsk)
   && (grep { $_ eq "sq:ws:{w$ws1}:url_slugs" } @wsk)
   && (grep { $_ eq "sq:ws:{w$ws1}:test:urls" } @wsk),
   "... and its members, apps, renderings, unique and test indexes");
my %slots = map { slot($_) => 1 } @wsk;
is_deeply([keys %slots], [slot("w$ws1")],
          "all of workspace $ws1 is one slot, slot(\"w$ws1\")");
my @bad = grep {
    my ($res, $id) = /:rec:(\w+):(\d+)$/;
    redis_cli('HGET', $_, 'workspace_id') ne $ws1
        || redis_cli('GET', "sq:recws:$res:$id") ne $ws1
} grep { /:rec:/ } @wsk;
is_deeply(\@bad, [], '... each record says so, and so does its directory');

my @uk = @{ $by->{user}{"u$T->{alice}"} || [] };
is(scalar(grep { /:(workspaces|keys|grants)$/ } @uk), 3,
   "alice's workspaces, keys and grants are in her group");
is(scalar(grep { /:notifications$/ } @{ $by->{user}{"u$carol"} || [] }), 1,
   "carol's notices are in hers");
is(scalar(grep { /:(grants|outcomes|outcome_counts)$/ }
          @{ $by->{app}{"a$app->{id}"} || [] }), 3,
   "the app's grants and outcomes are in its group");
my $kd = SQTest::token_digest($alice);
is_deeply($by->{key}{$kd}, ["sq:key:{$kd}", "sq:keyuse:{$kd}"],
          "a key's record and last use are in its group");
is(scalar(keys %{ $by->{key} }) >= 7, 1, 'every key record has its group');

# directory lookups: a record by id without a workspace
($r, $d) = call($alice, 'GET', "/v1/articles/$made{articles}");
is($r->{status}, 200, 'a record by id without workspace_id (sq:recws:)');
is($d->{data}{workspace_id}, $ws1, '... in its workspace');
($r) = call($alice, 'DELETE', "/v1/urls/$made{urls}");
is($r->{status}, 200, 'a delete by id without workspace_id')
    or diag $r->{content};
is(redis_cli('EXISTS', "sq:recws:url:$made{urls}",
             "sq:ws:{w$ws1}:rec:url:$made{urls}"), 0,
   '... removes the record and its directory entry');
is(status_of($T->{bob_key}, 'GET', "/v1/articles/$made{articles}"), 404,
   "another tenant's record by id: 404");

# --- the migration from the layout before the tags ---------------------------

# dora's tenant, made as usual, then renamed to the names of main's
# common/sq_keys.h: sq:key:<d>, sq:keyuse:<d>, sq:user:<u>[...],
# sq:ws:<w>[...], sq:<res>:<id>, sq:app:<a>[...]
my $dora = sqctl(qw(user create --email dora@example.com --name Dora));
my $wsd = sqctl('workspace', 'create', '--owner', $dora, '--name', 'Dora');
my $dora_key = sqctl('key', 'create', '--user', $dora, '--name', 'dora',
                     '--scopes', 'all');
my $dd = SQTest::token_digest($dora_key);
my %rec;
for my $c (['articles', { title => 'Old' }],
           ['urls', { target => 'https://d.example/', slug => 'old' }])
{
    ($r, $d) = call($dora_key, 'POST', "/v1/$c->[0]?workspace_id=$wsd",
                    $c->[1]);
    is($r->{status}, 201, "dora: a $c->[0] record") or diag $r->{content};
    $rec{$c->[0]} = $d->{data}{id};
}
($r, $d) = call($dora_key, 'POST', '/v1/apps',
                { name => 'Old', type => 'public',
                  redirect_uris => ['https://d.example/cb'],
                  scopes => ['articles:read'], workspace_id => $wsd });
is($r->{status}, 201, 'dora: an app');
my $dapp = $d->{data}{id};
ok(SQTest::wait_until('dora\'s last use', sub {
    redis_cli('EXISTS', "sq:keyuse:{$dd}") == 1 }, 5), 'dora: her last use');

my ($list_before) = call($dora_key, 'GET', "/v1/articles?workspace_id=$wsd");
sub key_ids {
    my ($r) = call($dora_key, 'GET', '/v1/keys');
    my $d = eval { $json->decode($r->{content}) } || {};
    return join ' ', $r->{status}, map { "$_->{id}:$_->{name}" }
                                   @{ $d->{data} || [] };
}
my $keys_before = key_ids();

sub old_name {
    my ($k) = @_;
    return "sq:$1:$2" if $k =~ /^sq:(key|keyuse):\{(\w+)\}$/;
    return "sq:$1:$2" if $k =~ /^sq:ws:\{w\d+\}:rec:(\w+):(\d+)$/;
    return "sq:$1:$2$3" if $k =~ /^sq:(ws|user|app):\{[wua](\d+)\}(.*)$/;
    return undef;
}
my @mine = grep {
    /^sq:(?:key|keyuse):\{$dd\}$/ || /^sq:ws:\{w$wsd\}/
        || /^sq:user:\{u$dora\}/ || /^sq:app:\{a$dapp\}/
} all_keys();
my %old;
for my $k (@mine) {
    $old{$k} = old_name($k);
    redis_cli('RENAME', $k, $old{$k});
}
redis_cli('DEL', "sq:recws:$_") for ("article:$rec{articles}",
                                      "url:$rec{urls}");
redis_cli('HDEL', 'sq:schema', 'names');
ok(exists $old{"sq:ws:{w$wsd}:members"} && exists $old{"sq:user:{u$dora}:keys"}
   && exists $old{"sq:ws:{w$wsd}:rec:article:$rec{articles}"}
   && exists $old{"sq:ws:{w$wsd}:articles:json"}
   && exists $old{"sq:app:{a$dapp}"} && exists $old{"sq:key:{$dd}"},
   'the old layout: members, keys set, records, renderings, app, key');
is(redis_cli('EXISTS', "sq:key:$dd", "sq:ws:$wsd:members",
             "sq:article:$rec{articles}", "sq:user:$dora:keys"), 4,
   '... under the old names');

# the edge of this version does not find the old names: it refuses
ok(SQTest::wait_until('the old layout refused', sub {
    status_of($dora_key, 'GET', "/v1/articles?workspace_id=$wsd") == 401
}, 5), 'before the migration, the key is unknown: 401 (fail closed)');

my $t0 = time;
sqctl('init', '--functions', "$SQTest::ROOT/redis/smartlyq.lua");
my $ms = int((time - $t0) * 1000);
note("sqctl init with the rename: $ms ms");
is(redis_cli('HGET', 'sq:schema', 'names'), '2', 'sqctl init: the marker');
my @left = grep { redis_cli('EXISTS', $_) } values %old;
is_deeply(\@left, [], 'no old name is left');
my @back = grep { !redis_cli('EXISTS', $_) } keys %old;
is_deeply(\@back, [], 'every name is back under its tagged name');
is(redis_cli('GET', "sq:recws:article:$rec{articles}"), $wsd,
   'the records\' directory is written');
check_layout('migrated');

# served again, by the edge and the backend
my ($lr, $ld) = call($dora_key, 'GET', "/v1/articles?workspace_id=$wsd");
is($lr->{status}, 200, 'after the migration the key authorizes: 200');
is($lr->{content}, $list_before->{content}, '... the same list as before');
($r, $d) = call($dora_key, 'GET', "/v1/articles/$rec{articles}?workspace_id=$wsd");
is($r->{status}, 200, 'a record by id with workspace_id');
($r, $d) = call($dora_key, 'GET', "/v1/articles/$rec{articles}");
is($r->{status}, 200, 'a record by id without workspace_id');
is($d->{data}{title}, 'Old', '... the record');
is(key_ids(), $keys_before, 'her keys (the user\'s keys set)');
is(status_of($dora_key, 'GET', "/v1/apps/$dapp"), 200, 'her app');
($r) = call($dora_key, 'POST', "/v1/urls?workspace_id=$wsd",
            { target => 'https://d.example/2', slug => 'old' });
is($r->{status}, 409, 'the unique index came along (the slug is taken)');
($r) = call($T->{bob_key}, 'GET', "/v1/articles?workspace_id=$wsd");
is($r->{status}, 403, 'a non-member: 403');
is($r->{content}, $forbidden, '... the seed envelope');

# a second sqctl init changes nothing: every sq:* name with the SHA-1 of
# its DUMP, in one call.  The names the edge writes on its own (usage,
# last use, activity: flushed once a second per worker, trimmed once a
# minute) may still move after the requests above, so their values are
# left out of the comparison; init must still keep every one of them
my $SNAP = q{local out, cur = {}, '0'
repeat
  local r = redis.call('SCAN', cur, 'MATCH', 'sq:*', 'COUNT', 1000)
  cur = r[1]
  for _, k in ipairs(r[2]) do
    out[#out + 1] = k .. ' ' .. redis.sha1hex(redis.call('DUMP', k))
  end
until cur == '0'
table.sort(out)
return out};
my $EDGE_OWN = qr/^sq:(?:usage|keyuse|act):/;
sub snapshot_all { return { map { split / /, $_, 2 } split /\n/,
                            redis_cli('EVAL', $SNAP, 0) } }
sub snapshot { my $all = snapshot_all();
               return { map { $_ => $all->{$_} }
                        grep { $_ !~ $EDGE_OWN } keys %$all } }
my @edge_own = grep { /$EDGE_OWN/ } keys %{ snapshot_all() };
my ($s0, $s1) = ({}, snapshot());
my $still = eval { SQTest::wait_until('a still database', sub {
    ($s0, $s1) = ($s1, snapshot());
    return 1 if $json->encode($s0) eq $json->encode($s1);
    sleep 0.5;
    return 0;
}, 15) };
ok($still, 'the database is still')
    or diag explain [grep { ($s0->{$_} // '') ne $s1->{$_} } keys %$s1];
my $n1 = redis_cli('DBSIZE');
sqctl('init', '--functions', "$SQTest::ROOT/redis/smartlyq.lua");
is(redis_cli('DBSIZE'), $n1, 'a second sqctl init: the same DBSIZE');
my $s2 = snapshot();
is_deeply($s2, $s1, '... and the same values');
my $after = snapshot_all();
is_deeply([grep { !exists $after->{$_} } @edge_own], [],
          '... and every usage, last-use and activity name kept');
ok(scalar(@edge_own) >= 3, '... of which there are some (' . @edge_own . ')');

# an old name whose new name exists already is never overwritten: init
# says so and fails, without the marker, until an operator merges
redis_cli('SADD', 'sq:ws:999:members', 1);
redis_cli('SADD', 'sq:ws:{w999}:members', 2);
redis_cli('HDEL', 'sq:schema', 'names');
my ($out, $rc) = do {
    local $ENV{SMARTLYQ_REDIS} = "127.0.0.1:$SQTest::PORT{redis}";
    local $ENV{SMARTLYQ_PEPPER_FILE} = "$SQTest::DIR/pepper";
    local $ENV{SMARTLYQ_REDIS_PASSWORD_FILE} = $SQTest::PASS{backend};
    SQTest::run_capture("$SQTest::BUILD/sqctl", 'init', '--functions',
                        "$SQTest::ROOT/redis/smartlyq.lua");
};
isnt($rc, 0, 'a name in both layouts: sqctl init fails');
is(redis_cli('SMEMBERS', 'sq:ws:999:members')
   . ' ' . redis_cli('SMEMBERS', 'sq:ws:{w999}:members'), '1 2',
   '... and overwrites neither');
is(redis_cli('HGET', 'sq:schema', 'names'), '', '... nor sets the marker');
redis_cli('DEL', 'sq:ws:999:members');
sqctl('init', '--functions', "$SQTest::ROOT/redis/smartlyq.lua");
is(redis_cli('HGET', 'sq:schema', 'names'), '2', 'once merged, it passes');

done_testing();
