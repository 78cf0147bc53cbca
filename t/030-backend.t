# End to end: edge -> backend with the signed identity.  Data is scoped by
# the verified workspace, spoofed X-SmartlyQ-* headers never reach the
# backend, and calling the backend without the edge gets nothing.

use lib 't/lib';
use SQTest;
use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();

our $T = $SQTest::T;

&add_block_preprocessor(SQTest::block_defaults(
    key => $T->{alice_key}, config => SQTest::guarded('/v1/', 'backend')
    . <<'CONF'
    # the backend reached without the module: nothing may come of it
    location /direct/ {
        proxy_pass http://backend/;
    }

    # the module in front of the echo upstream: what an upstream receives
CONF
    . SQTest::guarded('/echo/', 'echo')));

our $unauth = '{"success": false, "error": {"code": "UNAUTHORIZED", '
            . '"message": "Request did not come through the SmartlyQ edge."}}';

run_tests();

__DATA__

=== TEST 1: /v1/me: the key's user, primary workspace and workspaces
--- request
GET /v1/me
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body eval
qq({"success": true, "data": {"user": {"id": $::T->{alice}, "email": "alice\@example.com", "name": "Alice"}, "primary_workspace_id": $::T->{ws1}, "workspaces": [{"id": $::T->{ws1}, "name": "Alice One"}, {"id": $::T->{ws2}, "name": "Alice Two"}]}})



=== TEST 2: accounts scoped to one workspace
--- request eval
"GET /v1/social/accounts?workspace_id=$::T->{ws1}"
--- error_code: 200
--- response_body_like eval
qr/^\{"success": true, "data": \[\{"id": $::T->{acc1}, "workspace_id": $::T->{ws1}, "platform": "twitter", "handle": "\@alice_one", "created_at": "[0-9T:Z-]+", "updated_at": "[0-9T:Z-]+"\}\], "pagination": \{"limit": 20, "next_cursor": null\}\}$/



=== TEST 3: accounts across all of the user's workspaces, and no one else's
--- request
GET /v1/social/accounts
--- error_code: 200
--- response_body_like eval
qr/"id": $::T->{acc1}, .*"id": $::T->{acc2}, /
--- response_body_unlike: @bob



=== TEST 4: Bob sees only Bob's
--- request
GET /v1/social/accounts
--- more_headers eval
"Authorization: Bearer $::T->{bob_key}"
--- error_code: 200
--- response_body_like eval
qr/^\{"success": true, "data": \[\{"id": $::T->{accb}, "workspace_id": $::T->{wsb}, /
--- response_body_unlike: alice



=== TEST 5: spoofed identity headers in every case are stripped
--- request
GET /v1/social/accounts
--- more_headers eval
"Authorization: Bearer $::T->{alice_key}
X-SmartlyQ-User-Id: $::T->{bob}
x-smartlyq-workspace-id: $::T->{wsb}
X-SMARTLYQ-KEY-ID: 1
X-Smartlyq-Key-Mode: test
x-SmartlyQ-Timestamp: 1
X-SmartlyQ-Signature: 00"
--- error_code: 200
--- response_body_like eval
qr/"id": $::T->{acc1}, /
--- response_body_unlike: @bob



=== TEST 6: what the upstream receives: the edge's identity only, no key
--- request eval
"GET /echo/x?workspace_id=$::T->{ws2}"
--- more_headers eval
"Authorization: Bearer $::T->{alice_key}
X-SmartlyQ-User-Id: $::T->{bob}
X-SmartlyQ-Workspace-Id: $::T->{wsb}"
--- error_code: 200
--- response_body_like eval
qr/^user=$::T->{alice} key=\d+ ws=$::T->{ws2} mode=live auth= sig=[0-9a-f]{64}$/



=== TEST 7: the backend called directly refuses, headers forged or not
--- request
GET /direct/v1/me
--- more_headers eval
"X-SmartlyQ-User-Id: $::T->{alice}
X-SmartlyQ-Key-Id: 1
X-SmartlyQ-Workspace-Id: $::T->{ws1}
X-SmartlyQ-Key-Mode: live
X-SmartlyQ-Timestamp: " . time() . "
X-SmartlyQ-Signature: " . ('ab' x 32)
--- error_code: 401
--- response_body eval
$::unauth



=== TEST 8: the backend called directly with no headers at all
--- request
GET /direct/v1/social/accounts
--- more_headers
X-Nothing: 1
--- error_code: 401
--- response_body eval
$::unauth



=== TEST 9: a signed identity replayed on another path is refused
--- config
    location /v1/ {
        smartlyq on;
        # the identity is signed for /v1/me; the backend is sent /v1/social/accounts
        rewrite ^ /v1/social/accounts break;
        proxy_pass http://backend;
    }
--- request
GET /v1/me
--- error_code: 401
--- response_body eval
$::unauth



=== TEST 10: a signed identity replayed with another method is refused
--- config
    location /v1/ {
        smartlyq on;
        proxy_method POST;
        proxy_pass http://backend;
    }
--- request
GET /v1/social/accounts
--- error_code: 401
--- response_body eval
$::unauth



=== TEST 11: create in the query's workspace, then it lists there
--- request eval
["POST /v1/social/accounts?workspace_id=$::T->{ws2}
{\"platform\": \"tiktok\", \"handle\": \"\@alice_tt\"}",
"GET /v1/social/accounts?workspace_id=$::T->{ws2}"]
--- more_headers eval
"Authorization: Bearer $::T->{alice_key}
Content-Type: application/json"
--- error_code eval
[201, 200]
--- response_body_like eval
[qr/^\{"success": true, "data": \{"id": \d+, "workspace_id": $::T->{ws2}, "platform": "tiktok", "handle": "\@alice_tt", /,
 qr/"handle": "alice-two".*"handle": "\@alice_tt"/]



=== TEST 12: create without workspace_id goes to the primary workspace
--- request
POST /v1/social/accounts
{"platform": "youtube", "handle": "alice-yt"}
--- more_headers eval
"Authorization: Bearer $::T->{alice_key}
Content-Type: application/json"
--- error_code: 201
--- response_body_like eval
qr/"workspace_id": $::T->{ws1}, "platform": "youtube"/



=== TEST 13: creating in a foreign workspace never reaches the backend
--- request eval
"POST /v1/social/accounts?workspace_id=$::T->{wsb}
{\"platform\": \"tiktok\", \"handle\": \"\@intruder\"}"
--- more_headers eval
"Authorization: Bearer $::T->{alice_key}
Content-Type: application/json"
--- error_code: 403
--- response_body chomp
{"success": false, "error": {"code": "FORBIDDEN", "message": "You do not have access to this workspace."}}



=== TEST 14: the refused create left nothing behind in Bob's workspace
--- request
GET /v1/social/accounts
--- more_headers eval
"Authorization: Bearer $::T->{bob_key}"
--- error_code: 200
--- response_body_unlike: intruder



=== TEST 15: validation errors are envelopes naming the field
--- request
POST /v1/social/accounts
{"platform": "myspace", "handle": "x"}
--- more_headers eval
"Authorization: Bearer $::T->{alice_key}
Content-Type: application/json"
--- error_code: 400
--- response_body_like: ^\{"success": false, "error": \{"code": "VALIDATION_ERROR", "message": "[^"]*platform



=== TEST 16: unknown route: 404 envelope
--- request
GET /v1/nothing-here
--- error_code: 404
--- response_body chomp
{"success": false, "error": {"code": "NOT_FOUND", "message": "The requested resource does not exist."}}



=== TEST 17: known route, other method: 405 envelope, PUT included
--- request eval
["DELETE /v1/me", "PUT /v1/me"]
--- error_code eval
[405, 405]
--- response_body_like eval
[qr/"code": "METHOD_NOT_ALLOWED"/, qr/"code": "METHOD_NOT_ALLOWED"/]



=== TEST 18: variables for the access log
--- config
    location /v1/ {
        smartlyq on;
        proxy_pass http://backend;
        add_header X-Log "$smartlyq_decision u=$smartlyq_user_id k=$smartlyq_key_id w=$smartlyq_workspace_id" always;
    }
--- request eval
["GET /v1/me?workspace_id=$::T->{ws1}", "GET /v1/me?workspace_id=$::T->{wsb}"]
--- error_code eval
[200, 403]
--- response_headers_like eval
["X-Log: allow u=$::T->{alice} k=\\d+ w=$::T->{ws1}",
 "X-Log: forbidden u=$::T->{alice} k=\\d+ w=$::T->{wsb}"]



=== TEST 19: a body over the backend's 64 KiB limit: JSON 413, not HTML
--- request eval
"POST /v1/social/accounts\n" . '{"platform": "twitter", "handle": "' . ('x' x 70000) . '"}'
--- more_headers eval
"Authorization: Bearer $::T->{alice_key}
Content-Type: application/json"
--- error_code: 413
--- response_body_like: ^\{"success": false, "error": \{"code": "PAYLOAD_TOO_LARGE", 




=== TEST 20: an error_page redirect after the check does not check again
--- config
    location /v1/ {
        smartlyq on;
        error_page 502 = @fallback;
        proxy_pass http://127.0.0.1:1;
    }
    location @fallback {
        smartlyq on;
        proxy_pass http://echo;
    }
--- request eval
"GET /v1/me?workspace_id=$::T->{ws1}"
--- error_code: 200
--- response_body_like eval
qr/^user=$::T->{alice} key=\d+ ws=$::T->{ws1} mode=live auth= sig=[0-9a-f]{64}$/



=== TEST 21: variables survive a redirect into a location without smartlyq
--- config
    location /v1/ {
        smartlyq on;
        error_page 502 = @plain;
        proxy_pass http://127.0.0.1:1;
    }
    location @plain {
        add_header X-Log "$smartlyq_decision u=$smartlyq_user_id" always;
        return 200 "fallback";
    }
--- request
GET /v1/me
--- error_code: 200
--- response_headers_like eval
"X-Log: allow u=$::T->{alice}"
