# One record, one rendering: the 201 of a create, a GET of the record and
# its entry in a list are the same bytes, before and after a PATCH, for
# records with their rendering stored by the API (in the workspace
# index's rendering hash, sq:ws:{w<wid>}:<plural>:json, that sq_res_insert
# and sq_res_modify write), with it in the record's `_json` field (the
# layout before that hash) and for records without one (written by other
# means: read back from their fields).  Text with
# quotes, backslashes, slashes, tabs, newlines and non-ASCII takes
# the escaping of both paths.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use IO::Socket::INET;
use Test::More;

my $T = $SQTest::T;
# a second server whose upstream is this test's own listener: the signed
# request as the edge sent it, to send the backend later (SQTest's
# capture_signed)
my $cap = IO::Socket::INET->new(Listen => 8, LocalAddr => '127.0.0.1',
                                LocalPort => 0, ReuseAddr => 1)
    or die "capture listen: $!";
my $cap_edge = SQTest::free_port();
my $base = SQTest::nginx_start(SQTest::server_conf(
    locations => [SQTest::guarded('/v1/', 'backend')])
  . SQTest::server_conf(port => $cap_edge, locations => [
    SQTest::guarded('/v1/', '127.0.0.1:' . $cap->sockport)]));
my $ws = $T->{ws1};
my $key = $T->{alice_key};

# the "data" member of an envelope, as the bytes the backend wrote
sub data_of {
    my ($content) = @_;
    my ($d) = $content =~ /^\{"success": true, "data": (.*)\}$/s;
    return $d;
}

# the entry of record $id in a list's "data" array, as bytes
sub entry_of {
    my ($content, $id) = @_;
    my ($list) = $content =~ /^\{"success": true, "data": \[(.*)\], "pagination"/s;
    return undef unless defined $list;
    for my $e (split /(?<=\}), (?=\{"id": )/, $list) {
        return $e if $e =~ /^\{"id": $id, /;
    }
    return undef;
}

sub same_everywhere {
    my ($what, $path, $id, $want) = @_;
    my ($one) = SQTest::api($base, $key, 'GET', "$path/$id?workspace_id=$ws");
    is($one->{status}, 200, "$what: GET one, 200");
    is(data_of($one->{content}), $want, "$what: GET one, the same bytes");
    my ($list) = SQTest::api($base, $key, 'GET',
                             "$path?workspace_id=$ws&limit=100");
    is($list->{status}, 200, "$what: list, 200");
    is(entry_of($list->{content}, $id), $want,
       "$what: its list entry, the same bytes");
}

my $tricky = "q\"uote b\\ack s/lash \x{e9}t\x{e9} \x{1F600} <&> \x{2028}";
my $lines = "$tricky\ttab\nnewline";      # fields that take \t and \n
my @cases = (
    ['article', '/v1/articles',
     { title => "T $tricky", body => "B $lines", status => 'draft' },
     { title => "T2 $tricky" }],
    ['url (generated slug)', '/v1/urls',
     { target => 'https://example.com/a?b=c&d=%2F' },
     { target => 'https://example.com/z' }],
    ['chatbot', '/v1/chatbots',
     { name => "bot $tricky", model => 'gpt-4o', instructions => $lines },
     { instructions => "changed $lines" }],
);

require JSON::PP;
my $json = JSON::PP->new->utf8->canonical;

for my $c (@cases) {
    my ($what, $path, $create, $patch) = @$c;
    my ($r) = SQTest::api($base, $key, 'POST', "$path?workspace_id=$ws",
                          $json->encode($create));
    is($r->{status}, 201, "$what: created") or diag($r->{content});
    my $made = data_of($r->{content});
    my ($id) = ($made // '') =~ /^\{"id": (\d+), /;
    ok($id, "$what: the 201 has the record") or next;
    my $rec = "sq:" . ($path =~ m{/v1/(\w+?)s$})[0] . ":$id";
    my $rh = "sq:ws:{w$ws}:" . ($path =~ m{/v1/(\w+)$})[0] . ':json';
    like(redis_cli('HEXISTS', $rh, $id), qr/^1$/,
         "$what: its rendering is stored, in the index's rendering hash");
    like(redis_cli('HEXISTS', $rec, '_json'), qr/^0$/,
         "$what: not in the record");
    same_everywhere("$what, as created", $path, $id, $made);

    ($r) = SQTest::api($base, $key, 'PATCH', "$path/$id?workspace_id=$ws",
                       $json->encode($patch));
    is($r->{status}, 200, "$what: patched");
    same_everywhere("$what, as patched", $path, $id, data_of($r->{content}));

    # a record of the layout before the rendering hash (its rendering in
    # the record's field _json) is read from there
    my $kept = redis_cli('HGET', $rh, $id);
    chomp $kept;
    redis_cli('HDEL', $rh, $id);
    redis_cli('HSET', $rec, '_json', $kept);
    same_everywhere("$what, its rendering in the record (older layout)",
                    $path, $id, data_of($r->{content}));

    # a record whose rendering is not stored is read from its fields
    redis_cli('HDEL', $rec, '_json');
    like(redis_cli('HEXISTS', $rh, $id), qr/^0$/,
         "$what: rendering removed");
    same_everywhere("$what, read from its fields", $path, $id,
                    data_of($r->{content}));
}

# A page whose records all hold their rendering goes back from Redis as
# one joined string (sq_res_page); one without goes record by record.
# Both give the same bytes.  A rendering that does not begin with its own
# id and workspace is corrupt data: the function will not join it, and
# the backend refuses it (500), never serving it.
{
    my @ids;
    for my $n (1 .. 3) {
        my ($r) = SQTest::api($base, $key, 'POST', "/v1/articles?workspace_id=$T->{ws2}",
                              $json->encode({ title => "page $n", body => 'b',
                                              status => 'draft' }));
        is($r->{status}, 201, "page article $n created");
        push @ids, data_of($r->{content}) =~ /^\{"id": (\d+), /;
    }
    my $list = sub {
        my ($r) = SQTest::api($base, $key, 'GET',
                              "/v1/articles?workspace_id=$T->{ws2}&limit=100");
        return ($r->{status}, $r->{content});
    };
    my ($e) = SQTest::api($base, $key, 'GET',
                          "/v1/media?workspace_id=$T->{ws2}&limit=100");
    is($e->{status}, 200, 'an empty page: 200');
    like($e->{content}, qr/^\{"success": true, "data": \[\], /,
         'an empty page: no records');
    my ($s1, $joined) = $list->();
    is($s1, 200, 'a fully rendered page: 200');
    my $rh = "sq:ws:{w$T->{ws2}}:articles:json";
    my $kept = redis_cli('HGET', $rh, $ids[1]);
    chomp $kept;
    redis_cli('HDEL', $rh, $ids[1]);
    my ($s2, $mixed) = $list->();
    is($s2, 200, 'a page with one record unrendered: 200');
    is($mixed, $joined, 'record by record: the very same bytes as joined');
    redis_cli('HSET', $rh, $ids[1], $kept);

    # two a page, the page of one workspace whose records all have their
    # rendering (checked and joined by the backend, sq_res_page_each) and
    # record by record: the same bytes, the next cursor too
    my $two = sub {
        my ($r) = SQTest::api($base, $key, 'GET',
                              "/v1/articles?workspace_id=$T->{ws2}&limit=2");
        return ($r->{status}, $r->{content});
    };
    my ($s3, $each) = $two->();
    is($s3, 200, 'two a page, every record rendered: 200');
    like($each, qr/^\{"success": true, "data": \[\{"id": $ids[0], .*\}, \{"id": $ids[1], [^\[]*\}\], "pagination": \{"limit": 2, "next_cursor": "[^"]+"\}\}$/s,
         '... the first two records, then a next cursor');
    my $kept0 = redis_cli('HGET', $rh, $ids[0]);
    chomp $kept0;
    redis_cli('HDEL', $rh, $ids[0]);
    my ($s4, $rec2) = $two->();
    is($s4, 200, 'two a page, the first record unrendered: 200');
    is($rec2, $each, '... the same bytes, cursor and all');
    redis_cli('HSET', $rh, $ids[0], $kept0);

    # a rendering cut short (no closing brace) is corrupt data too
    (my $cut = $kept) =~ s/\}\z//;
    redis_cli('HSET', $rh, $ids[1], $cut);
    my ($s5, $cutbody) = $list->();
    is($s5, 500, 'a rendering without its closing brace is refused (500)');
    unlike($cutbody, qr/"id": $ids[1]/, '... and not served');
    redis_cli('HSET', $rh, $ids[1], $kept);
    my ($s6, $again) = $list->();
    is($s6, 200, 'the rendering put back: 200');
    is($again, $joined, '... the page as before');

    # the backend re-reads the membership before the page: a request the
    # edge signed while Alice was a member of ws2, sent after she left it,
    # gets the 403 of a non-member, nothing of the page
    my $signed = SQTest::capture_signed($cap, $cap_edge, $key,
        "/v1/articles?workspace_id=$T->{ws2}&limit=2");
    my $members = "sq:ws:{w$T->{ws2}}:members";
    redis_cli('SREM', $members, $T->{alice});
    my $b = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $SQTest::PORT{backend},
                                  Timeout => 5) or die "connect: $!";
    my ($s7, undef, $nobody) = SQTest::raw_on($b, $signed);
    redis_cli('SADD', $members, $T->{alice});
    is($s7, 403, 'a list by a non-member, at the backend: 403');
    is($nobody, '{"success": false, "error": {"code": "FORBIDDEN", '
              . '"message": "You do not have access to this workspace."}}',
       '... the seed\'s envelope, nothing of the page');

    # a full page of 100 (more ids than one command of a record's fields
    # holds), read whole and record by record: the same bytes
    for my $n (4 .. 101) {
        my ($r) = SQTest::api($base, $key, 'POST', "/v1/articles?workspace_id=$T->{ws2}",
                              $json->encode({ title => "page $n", body => 'b',
                                              status => 'draft' }));
        die "create $n: $r->{status}\n" unless $r->{status} == 201;
    }
    my $hundred = sub {
        my ($r) = SQTest::api($base, $key, 'GET',
                              "/v1/articles?workspace_id=$T->{ws2}&limit=100");
        return ($r->{status}, $r->{content});
    };
    my ($s8, $full) = $hundred->();
    is($s8, 200, 'a page of 100, every record rendered: 200');
    is(scalar(() = $full =~ /\{"id": \d+, "workspace_id": /g), 100,
       '... 100 records');
    like($full, qr/"next_cursor": "[^"]+"\}\}$/, '... and a next cursor');
    redis_cli('HDEL', $rh, $ids[2]);
    my ($s9, $full2) = $hundred->();
    is($s9, 200, 'the same, one record unrendered: 200');
    is($full2, $full, '... the same bytes');

    my $bad = $kept;
    $bad =~ s/^\{"id": \d+/{"id": 999999/;
    for my $way ('all others rendered', 'record by record') {
        redis_cli('HSET', $rh, $ids[1], $bad);
        redis_cli('HDEL', $rh, $ids[0]) if $way eq 'record by record';
        my ($s, $body) = $list->();
        is($s, 500, "$way: a rendering of another id is refused (500)");
        unlike($body, qr/999999/, "$way: and not served");
        redis_cli('HSET', $rh, $ids[1], $kept);
    }
}

done_testing();
