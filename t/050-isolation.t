# The tenant-isolation matrix over every resource endpoint and method,
# against the live stack (edge + backend + Redis):
#   - Alice's key against Bob's workspace (query or body) -> the seed 403,
#     answered by the edge;
#   - Alice's key against Bob's record ids -> 404, with or without her own
#     workspace_id, and Bob's record is untouched afterwards;
#   - lists without workspace_id never show Bob's data.
# Plus the create rules, validation envelopes and pagination.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use JSON::PP;
use Test::More;

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(
    locations => [SQTest::guarded('/v1/', 'backend')]));

my $http = SQTest::http();
my $json = JSON::PP->new->canonical;
my $forbidden = '{"success": false, "error": {"code": "FORBIDDEN", '
              . '"message": "You do not have access to this workspace."}}';

sub call { return SQTest::api($base, @_) }

# one valid create body and one valid patch per resource
my %res = (
    'chatbots' => [sub { { name => 'bot', model => 'gpt-4o' } },
                   { name => 'renamed' }],
    'social/accounts' => [sub { { platform => 'twitter', handle => '@x' } },
                          { handle => '@y' }],
    'social/posts' => [sub { { account_id => $_[0]{account}, text => 'hi' } },
                       { text => 'edited' }],
    'urls' => [sub { { target => 'https://example.com/a' } },
               { target => 'https://example.com/b' }],
    'articles' => [sub { { title => 'T' } }, { title => 'U' }],
    'images' => [sub { { url => 'https://cdn.example.com/a.png',
                         mime_type => 'image/png', size => 123 } },
                 { alt_text => 'a cat' }],
    'media' => [sub { { url => 'https://cdn.example.com/a.mp4',
                        mime_type => 'video/mp4', size => 1000 } },
                { size => 2000 }],
);

my %who = (
    alice => { key => $T->{alice_key}, ws => $T->{ws1}, account => $T->{acc1} + 0 },
    bob   => { key => $T->{bob_key},   ws => $T->{wsb}, account => $T->{accb} + 0 },
);

for my $r (sort keys %res) {
    my ($mk, $patch) = @{ $res{$r} };
    my %id;

    # each tenant creates one record in its own workspace
    for my $u (qw(alice bob)) {
        my ($resp, $d) = call($who{$u}{key}, 'POST',
                              "/v1/$r?workspace_id=$who{$u}{ws}",
                              $mk->($who{$u}));
        is($resp->{status}, 201, "$r: $u creates in own workspace")
            or diag($resp->{content});
        $id{$u} = $d->{data}{id};
        is($d->{data}{workspace_id}, $who{$u}{ws}, "$r: record in ${u}'s ws");
    }
    my $bob_id = $id{bob};
    my ($snap) = (call($who{bob}{key}, 'GET', "/v1/$r/$bob_id"))[1];

    # Alice against Bob's workspace: the edge refuses every method
    my @ws_calls = (
        ['GET', "/v1/$r?workspace_id=$T->{wsb}"],
        ['POST', "/v1/$r?workspace_id=$T->{wsb}", $mk->($who{alice})],
        ['POST', "/v1/$r", { %{ $mk->($who{alice}) },
                             workspace_id => $T->{wsb} + 0 }],
        ['GET', "/v1/$r/$bob_id?workspace_id=$T->{wsb}"],
        ['PATCH', "/v1/$r/$bob_id?workspace_id=$T->{wsb}", $patch],
        ['PATCH', "/v1/$r/$bob_id", { %$patch, workspace_id => "$T->{wsb}" }],
        ['DELETE', "/v1/$r/$bob_id?workspace_id=$T->{wsb}"],
    );
    for my $c (@ws_calls) {
        my ($resp) = call($T->{alice_key}, @$c);
        is($resp->{status}, 403, "$r: $c->[0] $c->[1] with Bob's ws -> 403");
        is($resp->{content}, $forbidden, '... the seed envelope');
    }

    # Alice against Bob's record ids: 404, never the data
    for my $q ('', "?workspace_id=$T->{ws1}", "?workspace_id=$T->{ws2}") {
        for my $c (['GET'], ['PATCH', $patch], ['DELETE']) {
            my ($resp, $d) = call($T->{alice_key}, $c->[0],
                                  "/v1/$r/$bob_id$q", $c->[1]);
            is($resp->{status}, 404, "$r: $c->[0] Bob's id$q -> 404");
            is($d && $d->{error}{code}, 'NOT_FOUND', '... NOT_FOUND');
        }
    }

    # lists without workspace_id never show Bob's records
    my ($resp, $d) = call($T->{alice_key}, 'GET', "/v1/$r?limit=100");
    is($resp->{status}, 200, "$r: Alice lists across her workspaces");
    my @foreign = grep { $_->{workspace_id} == $T->{wsb}
                         || $_->{id} == $bob_id } @{ $d->{data} || [] };
    is(scalar @foreign, 0, "$r: no Bob record in Alice's list");
    ok((grep { $_->{id} == $id{alice} } @{ $d->{data} || [] }),
       "$r: Alice's own record is listed");

    # Bob's record is untouched by all of the above
    my ($after) = (call($who{bob}{key}, 'GET', "/v1/$r/$bob_id"))[1];
    is_deeply($after, $snap, "$r: Bob's record unchanged");

    # Alice can read, patch and delete her own
    ($resp) = call($T->{alice_key}, 'GET', "/v1/$r/$id{alice}");
    is($resp->{status}, 200, "$r: Alice reads her record");
    ($resp, $d) = call($T->{alice_key}, 'PATCH', "/v1/$r/$id{alice}", $patch);
    is($resp->{status}, 200, "$r: Alice patches her record")
        or diag($resp->{content});
    my ($k) = keys %$patch;
    is($d->{data}{$k}, $patch->{$k}, "$r: patch applied");

    # moving a record to another (own) workspace is refused
    ($resp) = call($T->{alice_key}, 'PATCH', "/v1/$r/$id{alice}",
                   { %$patch, workspace_id => $T->{ws2} + 0 });
    ok($resp->{status} == 400 || $resp->{status} == 404,
       "$r: PATCH moving to another workspace refused ($resp->{status})");
    ($resp, $d) = call($T->{alice_key}, 'GET', "/v1/$r/$id{alice}");
    is($d->{data}{workspace_id}, $T->{ws1}, "$r: still in its workspace");

    # validation: an unknown field, and an empty object where fields are due
    ($resp, $d) = call($T->{alice_key}, 'POST', "/v1/$r?workspace_id=$T->{ws1}",
                       { %{ $mk->($who{alice}) }, nonsense => 1 });
    is($resp->{status}, 400, "$r: unknown field -> 400");
    like($d->{error}{message} // '', qr/nonsense/, '... naming it');
    ($resp, $d) = call($T->{alice_key}, 'POST', "/v1/$r?workspace_id=$T->{ws1}",
                       {});
    is($resp->{status}, 400, "$r: missing required fields -> 400");
    is($d->{error}{code}, 'VALIDATION_ERROR', '... VALIDATION_ERROR');

    ($resp) = call($T->{alice_key}, 'DELETE', "/v1/$r/$id{alice}");
    is($resp->{status}, 200, "$r: Alice deletes her record");
    ($resp) = call($T->{alice_key}, 'GET', "/v1/$r/$id{alice}");
    is($resp->{status}, 404, "$r: deleted is gone");
}

# --- create rules -------------------------------------------------------
my ($resp, $d) = call($T->{alice_key}, 'POST', '/v1/chatbots',
                      { name => 'b', model => 'm' });
is($resp->{status}, 400, 'POST /v1/chatbots without workspace_id -> 400');
is($d->{error}{message}, 'workspace_id is required', '... exact message');

for my $r (grep { $_ ne 'chatbots' } sort keys %res) {
    ($resp, $d) = call($T->{alice_key}, 'POST', "/v1/$r",
                       $res{$r}[0]->($who{alice}));
    is($resp->{status}, 201, "$r: create without workspace_id")
        or diag($resp->{content});
    is($d->{data}{workspace_id}, $T->{ws1}, '... lands in the primary ws');
}

# a post must reference an account of its own workspace
($resp, $d) = call($T->{alice_key}, 'POST',
                   "/v1/social/posts?workspace_id=$T->{ws2}",
                   { account_id => $T->{acc1} + 0, text => 'x' });
is($resp->{status}, 400, 'post with an account of another workspace -> 400');
like($d->{error}{message} // '', qr/account_id/, '... naming account_id');
($resp) = call($T->{alice_key}, 'POST', "/v1/social/posts?workspace_id=$T->{ws1}",
               { account_id => $T->{accb} + 0, text => 'x' });
is($resp->{status}, 400, "post with Bob's account -> 400");

# --- pagination: nothing lost or repeated, across workspaces -----------
my %made;
for my $i (1 .. 45) {
    my $ws = $i % 2 ? $T->{ws1} : $T->{ws2};
    ($resp, $d) = call($T->{alice_key}, 'POST', "/v1/articles?workspace_id=$ws",
                       { title => "page $i" });
    $made{$d->{data}{id}} = 1 if $resp->{status} == 201;
}
is(scalar keys %made, 45, '45 articles made');

my (%seen, $dups, $cursor, $pages, $last);
$dups = 0;
my $inserted;
while (1) {
    my $q = '/v1/articles?limit=7' . (defined $cursor ? "&cursor=$cursor" : '');
    ($resp, $d) = call($T->{alice_key}, 'GET', $q);
    last unless $resp->{status} == 200;
    $pages++;
    ok(@{ $d->{data} } <= 7, "page $pages has at most 7 items");
    is($d->{pagination}{limit}, 7, "page $pages reports its limit");
    for my $a (@{ $d->{data} }) {
        $dups++ if $seen{ $a->{id} }++;
        ok(!defined $last || $a->{id} > $last, "ids ascend ($a->{id})")
            unless $dups;
        $last = $a->{id};
    }
    if ($pages == 2 && !$inserted) {
        # an insert and a delete between pages
        my ($r2, $d2) = call($T->{alice_key}, 'POST',
                             "/v1/articles?workspace_id=$T->{ws2}",
                             { title => 'late' });
        $made{ $d2->{data}{id} } = 1;
        my ($victim) = sort { $b <=> $a } keys %made;
        $victim = (grep { !$seen{$_} && $_ != $d2->{data}{id} }
                   sort { $b <=> $a } keys %made)[0];
        call($T->{alice_key}, 'DELETE', "/v1/articles/$victim");
        delete $made{$victim};
        $inserted = 1;
    }
    $cursor = $d->{pagination}{next_cursor};
    last unless defined $cursor;
    last if $pages > 30;
}
is($dups, 0, 'no article repeated across pages');
my @lost = grep { !$seen{$_} } keys %made;
is(scalar @lost, 0, 'no article lost across pages (insert and delete between)');

($resp) = call($T->{alice_key}, 'GET', '/v1/articles?limit=101');
is($resp->{status}, 400, 'limit over 100 -> 400');
($resp) = call($T->{alice_key}, 'GET', '/v1/articles?cursor=%%%');
is($resp->{status}, 400, 'malformed cursor -> 400');
($resp, $d) = call($T->{alice_key}, 'GET', '/v1/articles');
is($d->{pagination}{limit}, 20, 'default limit is 20');

# --- removing Alice from a workspace takes effect on the next request ----
SQTest::sqctl('member', 'remove', '--workspace', $T->{ws2},
              '--user', $T->{alice});
($resp) = call($T->{alice_key}, 'GET', "/v1/articles?workspace_id=$T->{ws2}");
is($resp->{status}, 403, 'removed from ws2: 403 on the next request');
($resp, $d) = call($T->{alice_key}, 'GET', '/v1/articles?limit=100');
my @ws2 = grep { $_->{workspace_id} == $T->{ws2} } @{ $d->{data} || [] };
is(scalar @ws2, 0, '... and ws2 no longer shows up in her lists');

# --- acknowledged writes survive kill -9 of Redis and of the backend ---
my %acked;
for my $r (sort keys %res) {
    for (1 .. 3) {
        my ($resp, $d) = call($T->{alice_key}, 'POST',
                              "/v1/$r?workspace_id=$T->{ws1}",
                              $res{$r}[0]->($who{alice}));
        $acked{"$r/$d->{data}{id}"} = $d->{data} if $resp->{status} == 201;
    }
}
is(scalar keys %acked, 3 * keys %res, 'creates acknowledged before the kill');

SQTest::redis_kill();
SQTest::backend_kill();
SQTest::redis_start();
SQTest::backend_start();

my $back = 0;
for (1 .. 100) {
    ($resp) = call($T->{alice_key}, 'GET', '/v1/me');
    last if $resp->{status} == 200 && ++$back;
    select undef, undef, undef, 0.05;
}
ok($back, 'the stack answers again after the restarts');

my $missing = 0;
for my $k (sort keys %acked) {
    ($resp, $d) = call($T->{alice_key}, 'GET', "/v1/$k");
    $missing++ unless $resp->{status} == 200
                      && $json->encode($d->{data}) eq $json->encode($acked{$k});
}
is($missing, 0, 'every acknowledged create is there, unchanged, after '
              . 'kill -9 of Redis and the backend');

done_testing();
