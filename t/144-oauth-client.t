# A standard OAuth 2 client (issue 14): scripts/oauth-client.py runs
# Debian's requests-oauthlib (OAuth2Session, oauthlib's
# WebApplicationClient), unchanged, through the authorization code flow
# with PKCE S256 against the whole stack, with the endpoints from the
# RFC 8414 metadata: token, API call, refresh (rotation), API call,
# revocation (RFC 7009), and the revoked family refused.  Confidential
# clients (client_secret_basic, client_secret_post) and a public one
# (client_id in the body).

use strict;
use warnings;

use lib 't/lib';
use Test::More;

BEGIN {
    if (system('/usr/bin/python3', '-c', 'import requests_oauthlib') != 0) {
        plan skip_all => 'python3-requests-oauthlib is missing (make deps)';
    }
}

use SQTest;
use JSON::PP;

my $T = $SQTest::T;
my $json = JSON::PP->new->canonical;
my $base = SQTest::nginx_start(SQTest::server_conf(routes => 1));
my $PW = 'the client test passphrase';
my $CB = 'http://127.0.0.1:' . SQTest::free_port() . '/cb';
my $SCOPES = 'social:read workspace:read';

my (undef, $prc) = SQTest::run_capture('sh', '-c',
    'printf "%s\n" "$0" | SMARTLYQ_REDIS=$1 SMARTLYQ_PEPPER_FILE=$2 '
    . 'SMARTLYQ_REDIS_PASSWORD_FILE=$3 "$4" user password --id "$5"',
    $PW, "127.0.0.1:$SQTest::PORT{redis}", "$SQTest::DIR/pepper",
    $SQTest::PASS{backend}, "$SQTest::BUILD/sqctl", $T->{alice});
die "sqctl user password failed\n" if $prc;

sub app_create {
    return $json->decode(SQTest::sqctl('app', 'create', '--workspace',
        $T->{wsb}, '--owner', $T->{bob}, '--redirect-uris', $CB,
        '--scopes', $SCOPES, @_));
}

# oauth-client.py; the secret and the password in its environment only.
# Its JSON summary, its exit status and what it said on stderr.
sub client {
    my ($app, @args) = @_;
    local $ENV{SQ_CLIENT_SECRET} = $app->{client_secret} // '';
    local $ENV{SQ_OAUTH_PASSWORD} = $PW;
    my $err = "$SQTest::DIR/oauth-client.err";
    my ($out, $rc) = SQTest::run_capture('sh', '-c',
        'exec /usr/bin/python3 "$@" 2>"$0"', $err,
        "$SQTest::ROOT/scripts/oauth-client.py", '--json',
        '--base', $base, '--client-id', $app->{client_id},
        '--redirect-uri', $CB, '--scope', $SCOPES,
        '--email', 'alice@example.com', @args);
    my $said = do { local (@ARGV, $/) = ($err); <> } // '';
    my $d = eval { $json->decode($out) } || {};
    return ($d, $rc, $said);
}

my %want = (metadata => 1, token => 1, api => 1, refresh => 1,
            api_after_refresh => 1, revoke => 1, revoked_refresh => 1,
            api_after_revoke => 1);

for my $case (['confidential', 'basic', 'client_secret_basic'],
              ['confidential', 'post', 'client_secret_post'],
              ['public', 'basic', 'none']) {
    my ($kind, $auth, $how) = @$case;
    my $type = "$kind ($how)";
    my $app = app_create('--name', "Std client $how", '--type', $kind);
    my ($d, $rc, $said) = client($app, '--workspace', 'Alice Two',
                                 '--api', '/v1/social/accounts',
                                 '--auth', $auth);
    is($rc, 0, "$type: requests-oauthlib completes the flow") or diag($said);
    is("$d->{client_type} $d->{client_auth}", "$kind $how",
       "$type: ... as that client");
    is_deeply({ map { $_ => $d->{$_} ? 1 : 0 } keys %want }, \%want,
              "$type: metadata, token, API, refresh, API, revoke, "
              . 'the family dead');
    is($d->{api_status}, 200, "$type: the API answers the access token");
    is($d->{refresh_after_revoke}, 'invalid_grant',
       "$type: the revoked refresh token: invalid_grant");
    is($d->{api_after_revoke_status}, 401,
       "$type: the family's access token after the revoke: 401");
    is($d->{expires_in}, 3600, "$type: the access token lives 1 h");
    unlike($said, qr/sq[orcs]_[0-9A-Za-z]{40}/,
           "$type: no full token or secret in what it printed");
    my $oc = $json->decode(SQTest::sqctl('app', 'outcomes', '--id',
                                         $app->{id}));
    is($oc->{counts}{approved}, 1, "$type: one approved outcome");
}

# a scope beyond the app's: the authorize step answers invalid_scope on
# the redirect URI, and the library raises it instead of asking for a token
{
    my $app = app_create('--name', 'Std client mismatch', '--type',
                         'public');
    my ($d, $rc, $said) = client($app, '--scope', 'keys:manage');
    isnt($rc, 0, 'a scope the app does not hold: the flow stops');
    like($said, qr/FAIL code \+ verifier -> token: invalid_scope/,
         '... oauthlib reports the server\'s invalid_scope');
}

done_testing();
