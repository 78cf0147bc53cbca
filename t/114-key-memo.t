# The key's digest remembered per client connection
# (ngx_smartlyq_handler.c): a keep-alive connection that changes keys
# gets each key's own identity, never the previous key's; a key that
# differs from the remembered one in its last character only, or only
# in its length, is looked up afresh.  The cache is off on /nc/, so
# every answer there comes from Redis under the digest the request's
# own key gave.

use strict;
use warnings;

use lib 't/lib';
use SQTest;
use SQHttp;
use Test::More;

my $T = $SQTest::T;
my $base = SQTest::nginx_start(SQTest::server_conf(
    cache => 'memo:4m ttl=60s',
    locations => [
        SQTest::guarded('/v1/', 'echo'),
        SQTest::guarded('/nc/', 'echo', 'smartlyq_cache off;'),
    ]), 1);
my ($port) = $base =~ /:(\d+)$/;

sub key_id_of {
    my ($name, $user) = @_;
    my ($line) = grep { /\b\Q$name\E\b/ } split /\n/,
                 sqctl('key', 'list', '--user', $user);
    my ($id) = $line =~ /^\s*(\d+)/;
    return $id;
}

my $alice_id = key_id_of('alice', $T->{alice});
my $bob_id = key_id_of('bob', $T->{bob});

# the same key, its last character changed: the same shape, unknown
my $near = $T->{alice_key};
substr($near, -1, 1) = substr($near, -1, 1) eq 'a' ? 'b' : 'a';
# and one character longer
my $longer = $T->{alice_key} . 'a';

my @steps = (
    [$T->{alice_key}, 200, "user=$T->{alice} key=$alice_id ", 'alice'],
    [$T->{alice_key}, 200, "user=$T->{alice} key=$alice_id ", 'alice again'],
    [$T->{bob_key}, 200, "user=$T->{bob} key=$bob_id ", 'then bob'],
    [$T->{alice_key}, 200, "user=$T->{alice} key=$alice_id ", 'alice back'],
    [$near, 401, undef, 'alice\'s key with its last character changed'],
    [$T->{alice_key}, 200, "user=$T->{alice} key=$alice_id ", 'alice back'],
    [$longer, 401, undef, 'alice\'s key one character longer'],
    [$T->{bob_key}, 200, "user=$T->{bob} key=$bob_id ", 'bob back'],
);

for my $path ('/v1/me', '/nc/me') {
    my $c = SQHttp->new(port => $port);
    for my $s (@steps) {
        my ($key, $want, $prefix, $what) = @$s;
        my ($st, undef, $body) = $c->request('GET', $path,
                                             { Authorization => "Bearer $key" });
        is($st, $want, "$path, one connection: $what: $want");
        if (defined $prefix) {
            is(substr($body, 0, length $prefix), $prefix,
               "$path, one connection: $what: that key's identity");
        }
    }
    is($c->connects, 1, "$path: all of it on one keep-alive connection");
}

unlike(SQTest::nginx_error_log(), qr/\[(alert|emerg|crit)\]|signal \d+/,
       'no crash, no alert');

done_testing();
