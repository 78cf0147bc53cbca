# Authorization: Bearer <key> at the edge: 401s with WWW-Authenticate,
# key shape checked before Redis, unknown and disabled keys refused.

use lib 't/lib';
use SQTest;
use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();

&add_block_preprocessor(SQTest::block_defaults(
    config => SQTest::guarded('/v1/', 'echo')));

our $key = $SQTest::T->{alice_key};
our $off = 'sqk_live_' . ('0' x 40);

run_tests();

__DATA__

=== TEST 1: no Authorization header: 401, realm only, JSON envelope
--- request
GET /v1/me
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="smartlyq"
Content-Type: application/json
--- response_body chomp
{"success": false, "error": {"code": "UNAUTHORIZED", "message": "Missing API key. Send it as Authorization: Bearer <key>."}}



=== TEST 2: a valid key is allowed, scheme matched in any case
--- request
GET /v1/me
--- more_headers eval
"Authorization: bEaReR $::key"
--- error_code: 200
--- response_body_like: ^user=\d+ key=\d+ ws= mode=live auth= sig=[0-9a-f]{64}$



=== TEST 3: another scheme is no key
--- request
GET /v1/me
--- more_headers
Authorization: Basic dXNlcjpwYXNz
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="smartlyq"



=== TEST 4: malformed key (short): 401 invalid_token, decided before Redis
--- request
GET /v1/me
--- more_headers
Authorization: Bearer sqk_live_abc
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="smartlyq", error="invalid_token"
--- response_body chomp
{"success": false, "error": {"code": "UNAUTHORIZED", "message": "Malformed API key."}}



=== TEST 5: malformed key (wrong prefix)
--- request
GET /v1/me
--- more_headers eval
"Authorization: Bearer sqk_prod_" . ('a' x 40)
--- error_code: 401
--- response_body_like: Malformed API key



=== TEST 6: malformed key (bad character)
--- request
GET /v1/me
--- more_headers eval
"Authorization: Bearer sqk_live_" . ('a' x 20) . '-' . ('a' x 19)
--- error_code: 401
--- response_body_like: Malformed API key



=== TEST 7: malformed key (non-ASCII byte)
--- request
GET /v1/me
--- more_headers eval
"Authorization: Bearer sqk_live_" . ('a' x 20) . "\xc3\xa9" . ('a' x 18)
--- error_code: 401
--- response_body_like: Malformed API key



=== TEST 8: malformed key (huge)
--- request
GET /v1/me
--- more_headers eval
"Authorization: Bearer sqk_live_" . ('a' x 4000)
--- error_code: 401
--- response_body_like: Malformed API key



=== TEST 9: unknown key of the right shape
--- request
GET /v1/me
--- more_headers eval
"Authorization: Bearer $::off"
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="smartlyq", error="invalid_token"
--- response_body chomp
{"success": false, "error": {"code": "UNAUTHORIZED", "message": "Invalid API key."}}



=== TEST 10: disabled key
--- request
GET /v1/me
--- more_headers eval
"Authorization: Bearer $SQTest::T->{disabled_key}"
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="smartlyq", error="invalid_token"
--- response_body chomp
{"success": false, "error": {"code": "UNAUTHORIZED", "message": "This API key has been disabled."}}



=== TEST 11: a test-mode key is a key of its own mode
--- request
GET /v1/me
--- more_headers eval
"Authorization: Bearer $SQTest::T->{alice_test_key}"
--- error_code: 200
--- response_body_like: mode=test



=== TEST 12: a live key's body presented with the test prefix is unknown
--- request
GET /v1/me
--- more_headers eval
my $k = $::key; $k =~ s/^sqk_live_/sqk_test_/; "Authorization: Bearer $k"
--- error_code: 401
--- response_body_like: Invalid API key



=== TEST 13: two Authorization headers are refused
--- request
GET /v1/me
--- more_headers eval
"Authorization: Bearer $::key\r\nAuthorization: Bearer $::key"
--- error_code_like: ^(400|401)$
--- response_body_unlike: ^user=



=== TEST 14: empty Authorization header
--- request
GET /v1/me
--- more_headers
Authorization:
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="smartlyq"



=== TEST 15: smartlyq off needs no key
--- config
    location /open/ {
        smartlyq off;
        proxy_pass http://echo;
    }
--- request
GET /open/x
--- error_code: 200
--- response_body_like: ^user= key= ws=



=== TEST 16: the module never logs the key, even at debug level
--- log_level: debug
--- request
GET /v1/me
--- more_headers eval
"Authorization: Bearer $::key"
--- error_code: 200
--- error_log
smartlyq: redis lookup sent
--- no_error_log eval
[qr/smartlyq[^\n]*\Q@{[substr($::key, 9)]}\E/]



=== TEST 17: nor does anything at info level (refusals included)
--- log_level: info
--- request
GET /v1/me?workspace_id=999999
--- more_headers eval
"Authorization: Bearer $::key"
--- error_code: 403
--- no_error_log eval
[substr($::key, 9)]



=== TEST 18: a key in the query string is refused, not used
--- request eval
"GET /v1/me?api_key=$::key"
--- error_code: 400
--- response_body chomp
{"success": false, "error": {"code": "VALIDATION_ERROR", "message": "API keys must not be sent in the URL; send them as Authorization: Bearer <key>, and rotate this one."}}



=== TEST 19: ... even percent-encoded, and even with a valid header too
--- request eval
my $k = $::key; $k =~ s/_/%5F/g; "GET /v1/me?x=1&token=$k"
--- more_headers eval
"Authorization: Bearer $::key"
--- error_code: 400
--- response_body_like: must not be sent in the URL



=== TEST 20: a key in the path is refused too
--- request eval
"GET /v1/$::key/me"
--- error_code: 400
--- response_body_like: must not be sent in the URL



=== TEST 21: Authorization with a NUL byte, non-ASCII bytes or huge: refused
--- request eval
["GET /v1/me", "GET /v1/me", "GET /v1/me"]
--- more_headers eval
["Authorization: Bearer sqk_live_" . ('a' x 20) . "\0" . ('a' x 19),
 "Authorization: Bearer sqk_live_" . ("\xff" x 40),
 "Authorization: Bearer sqk_live_" . ('a' x 7000)]
--- error_code_like eval
[qr/^(400|401)$/, qr/^401$/, qr/^(400|401|494)$/]
--- response_body_unlike eval
[qr/^user=/, qr/^user=/, qr/^user=/]
