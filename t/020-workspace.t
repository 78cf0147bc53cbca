# workspace_id from the query string: members pass, non-members get the
# seed's 403 envelope from the edge itself, ambiguity gets 400.

use lib 't/lib';
use SQTest;
use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();

our $T = $SQTest::T;

&add_block_preprocessor(SQTest::block_defaults(
    key => $T->{alice_key}, config => SQTest::guarded('/v1/', 'echo')));

our $forbidden = '{"success": false, "error": {"code": "FORBIDDEN", '
               . '"message": "You do not have access to this workspace."}}';

run_tests();

__DATA__

=== TEST 1: member of the workspace: allowed, workspace passed on
--- request eval
"GET /v1/social/accounts?workspace_id=$::T->{ws1}"
--- error_code: 200
--- response_body_like eval
qr/^user=$::T->{alice} key=\d+ ws=$::T->{ws1} mode=live /



=== TEST 2: member of her second workspace
--- request eval
"GET /v1/social/accounts?limit=5&workspace_id=$::T->{ws2}"
--- error_code: 200
--- response_body_like eval
qr/ ws=$::T->{ws2} /



=== TEST 3: someone else's workspace: the exact seed 403 envelope
--- request eval
"GET /v1/social/accounts?workspace_id=$::T->{wsb}"
--- error_code: 403
--- response_headers
Content-Type: application/json
--- response_body eval
$::forbidden



=== TEST 4: a workspace that does not exist: same 403
--- request
GET /v1/social/accounts?workspace_id=999999
--- error_code: 403
--- response_body eval
$::forbidden



=== TEST 5: Bob cannot reach Alice's workspace either
--- request eval
"GET /v1/me?workspace_id=$::T->{ws1}"
--- more_headers eval
"Authorization: Bearer $::T->{bob_key}"
--- error_code: 403
--- response_body eval
$::forbidden



=== TEST 6: POST with workspace_id in the query is checked too
--- request eval
"POST /v1/social/accounts?workspace_id=$::T->{wsb}
{}"
--- error_code: 403
--- response_body eval
$::forbidden



=== TEST 7: malformed: letters after digits
--- request
GET /v1/me?workspace_id=42abc
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body chomp
{"success": false, "error": {"code": "VALIDATION_ERROR", "message": "workspace_id must be a positive integer."}}



=== TEST 8: malformed: negative
--- request
GET /v1/me?workspace_id=-1
--- error_code: 400
--- response_body_like: VALIDATION_ERROR



=== TEST 9: malformed: overflow
--- request
GET /v1/me?workspace_id=99999999999999999999999
--- error_code: 400
--- response_body_like: VALIDATION_ERROR



=== TEST 10: malformed: empty
--- request
GET /v1/me?workspace_id=
--- error_code: 400
--- response_body_like: VALIDATION_ERROR



=== TEST 11: malformed: no value at all
--- request
GET /v1/me?workspace_id
--- error_code: 400
--- response_body_like: VALIDATION_ERROR



=== TEST 12: malformed: zero
--- request
GET /v1/me?workspace_id=0
--- error_code: 400
--- response_body_like: VALIDATION_ERROR



=== TEST 13: malformed: leading zero (would be another spelling of a member id)
--- request eval
"GET /v1/me?workspace_id=0$::T->{ws1}"
--- error_code: 400
--- response_body_like: VALIDATION_ERROR



=== TEST 14: malformed: plus sign and encoded space
--- request eval
"GET /v1/me?workspace_id=%2B$::T->{ws1}"
--- error_code: 400
--- response_body_like: VALIDATION_ERROR



=== TEST 15: malformed: fullwidth unicode digits
--- request
GET /v1/me?workspace_id=%EF%BC%94%EF%BC%92
--- error_code: 400
--- response_body_like: VALIDATION_ERROR



=== TEST 16: duplicated, same value
--- request eval
"GET /v1/me?workspace_id=$::T->{ws1}&workspace_id=$::T->{ws1}"
--- error_code: 400
--- response_body chomp
{"success": false, "error": {"code": "VALIDATION_ERROR", "message": "workspace_id must be given only once."}}



=== TEST 17: duplicated, member then non-member
--- request eval
"GET /v1/me?workspace_id=$::T->{ws1}&workspace_id=$::T->{wsb}"
--- error_code: 400
--- response_body_like: given only once



=== TEST 18: duplicated through percent-encoding of the name
--- request eval
"GET /v1/me?workspace_id=$::T->{ws1}&workspace%5Fid=$::T->{wsb}"
--- error_code: 400
--- response_body_like: given only once



=== TEST 19: percent-encoded digits of a member workspace are that workspace
--- request eval
my $enc = CORE::join '', map { sprintf '%%%02X', ord } split //, $::T->{ws1};
"GET /v1/me?workspace_id=$enc"
--- error_code: 200
--- response_body_like eval
qr/ ws=$::T->{ws1} /



=== TEST 20: without a key the workspace is never looked at: 401 first
--- request eval
"GET /v1/me?workspace_id=$::T->{wsb}"
--- more_headers
X-Nothing: 1
--- error_code: 401



=== TEST 21: removing Alice from a workspace takes effect on the next request
--- init
SQTest::sqctl('member', 'remove', '--workspace', $::T->{ws2}, '--user', $::T->{alice});
--- request eval
"GET /v1/me?workspace_id=$::T->{ws2}"
--- error_code: 403
--- response_body eval
$::forbidden
