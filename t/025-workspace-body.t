# workspace_id in JSON and form bodies: the edge reads a bounded body in
# the access phase, checks membership before the backend sees anything,
# and refuses bodies it cannot read the way the backend will.

use lib 't/lib';
use SQTest;
use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();

our $T = $SQTest::T;

&add_block_preprocessor(SQTest::block_defaults(
    config => SQTest::guarded('/v1/', 'echo', 'smartlyq_body_limit 4k;',
                              'client_max_body_size 1m;')));

our $json = "Authorization: Bearer $T->{alice_key}\nContent-Type: application/json";
our $form = "Authorization: Bearer $T->{alice_key}\n"
          . "Content-Type: application/x-www-form-urlencoded";
our $forbidden = '{"success": false, "error": {"code": "FORBIDDEN", '
               . '"message": "You do not have access to this workspace."}}';

run_tests();

__DATA__

=== TEST 1: JSON body naming a member workspace
--- request eval
"POST /v1/chatbots
{\"name\": \"bot\", \"workspace_id\": $::T->{ws2}}"
--- more_headers eval: $::json
--- error_code: 200
--- response_body_like eval
qr/^user=$::T->{alice} key=\d+ ws=$::T->{ws2} /



=== TEST 2: JSON body naming someone else's workspace: 403 at the edge
--- request eval
"POST /v1/chatbots
{\"name\": \"bot\", \"workspace_id\": $::T->{wsb}}"
--- more_headers eval: $::json
--- error_code: 403
--- response_body eval: $::forbidden



=== TEST 3: workspace_id as a JSON string
--- request eval
"PATCH /v1/chatbots/1
{\"workspace_id\": \"$::T->{wsb}\"}"
--- more_headers eval: $::json
--- error_code: 403
--- response_body eval: $::forbidden



=== TEST 4: JSON content type with parameters and odd case
--- request eval
"POST /v1/urls
{\"workspace_id\": $::T->{wsb}}"
--- more_headers eval
"Authorization: Bearer $::T->{alice_key}\nContent-Type: Application/JSON; charset=utf-8"
--- error_code: 403



=== TEST 5: form body naming a member workspace
--- request eval
"POST /v1/urls
target=https%3A%2F%2Fexample.com&workspace_id=$::T->{ws1}"
--- more_headers eval: $::form
--- error_code: 200
--- response_body_like eval
qr/ ws=$::T->{ws1} /



=== TEST 6: form body naming a foreign workspace
--- request eval
"POST /v1/urls
workspace_id=$::T->{wsb}&target=x"
--- more_headers eval: $::form
--- error_code: 403
--- response_body eval: $::forbidden



=== TEST 7: query and body agree
--- request eval
"POST /v1/chatbots?workspace_id=$::T->{ws1}
{\"workspace_id\": $::T->{ws1}}"
--- more_headers eval: $::json
--- error_code: 200
--- response_body_like eval
qr/ ws=$::T->{ws1} /



=== TEST 8: query and body disagree: 400, even when both are hers
--- request eval
"POST /v1/chatbots?workspace_id=$::T->{ws1}
{\"workspace_id\": $::T->{ws2}}"
--- more_headers eval: $::json
--- error_code: 400
--- response_body chomp
{"success": false, "error": {"code": "VALIDATION_ERROR", "message": "workspace_id differs between the query string and the body."}}



=== TEST 9: query and form body disagree
--- request eval
"POST /v1/urls?workspace_id=$::T->{ws1}
workspace_id=$::T->{wsb}"
--- more_headers eval: $::form
--- error_code: 400
--- response_body_like: differs between



=== TEST 10: duplicate JSON keys are refused, not resolved to the last one
--- request eval
"POST /v1/chatbots
{\"workspace_id\": $::T->{ws1}, \"workspace_id\": $::T->{wsb}}"
--- more_headers eval: $::json
--- error_code: 400
--- response_body chomp
{"success": false, "error": {"code": "VALIDATION_ERROR", "message": "The request body is not valid JSON (or repeats a key)."}}



=== TEST 11: duplicate form fields
--- request eval
"POST /v1/urls
workspace_id=$::T->{ws1}&workspace_id=$::T->{ws1}"
--- more_headers eval: $::form
--- error_code: 400
--- response_body_like: given only once



=== TEST 12: workspace_id of the wrong JSON type
--- request eval
["POST /v1/chatbots\n{\"workspace_id\": [$::T->{ws1}]}",
 "POST /v1/chatbots\n{\"workspace_id\": {\"id\": $::T->{ws1}}}",
 "POST /v1/chatbots\n{\"workspace_id\": null}",
 "POST /v1/chatbots\n{\"workspace_id\": $::T->{ws1}.0}",
 "POST /v1/chatbots\n{\"workspace_id\": true}",
 "POST /v1/chatbots\n{\"workspace_id\": \"0$::T->{ws1}\"}"]
--- more_headers eval: $::json
--- error_code eval
[400, 400, 400, 400, 400, 400]
--- response_body_like eval
[(qr/workspace_id must be a positive integer/) x 6]



=== TEST 13: broken JSON and non-object JSON
--- request eval
["POST /v1/chatbots\n{\"workspace_id\": ", "POST /v1/chatbots\n[1, 2]",
 "POST /v1/chatbots\n{\"a\": \"\xff\"}"]
--- more_headers eval: $::json
--- error_code eval
[400, 400, 400]
--- response_body_like eval
[qr/not valid JSON/, qr/must be a JSON object/, qr/not valid JSON/]



=== TEST 14: a body over smartlyq_body_limit: 413 envelope before reading it
--- request eval
"POST /v1/chatbots\n{\"name\": \"" . ('x' x 5000) . "\"}"
--- more_headers eval: $::json
--- error_code: 413
--- response_body chomp
{"success": false, "error": {"code": "PAYLOAD_TOO_LARGE", "message": "The request body is too large."}}



=== TEST 15: a chunked body naming a foreign workspace
--- raw_request eval
my $b = "{\"workspace_id\": $::T->{wsb}}";
"POST /v1/chatbots HTTP/1.1\r
Host: localhost\r
Connection: close\r
Authorization: Bearer $::T->{alice_key}\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
" . sprintf("%x", length $b) . "\r\n$b\r\n0\r\n\r\n"
--- error_code: 403
--- response_body eval: $::forbidden



=== TEST 16: a chunked body over the limit: 413 envelope after reading
--- raw_request eval
my $b = '{"name": "' . ('y' x 5000) . '"}';
"POST /v1/chatbots HTTP/1.1\r
Host: localhost\r
Connection: close\r
Authorization: Bearer $::T->{alice_key}\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
" . sprintf("%x", length $b) . "\r\n$b\r\n0\r\n\r\n"
--- error_code: 413
--- response_body_like: PAYLOAD_TOO_LARGE



=== TEST 17: a body that arrives slowly (read asynchronously) is still checked
--- raw_request eval
my @part = ('{"name": "slow",', " \"workspace_id\": $::T->{wsb}}");
["POST /v1/chatbots HTTP/1.1\r
Host: localhost\r
Connection: close\r
Authorization: Bearer $::T->{alice_key}\r
Content-Type: application/json\r
Content-Length: " . length(CORE::join '', @part) . "\r
\r
$part[0]", $part[1]]
--- raw_request_middle_delay: 0.3
--- log_level: debug
--- error_code: 403
--- response_body eval: $::forbidden
--- error_log
smartlyq: request body in, resuming



=== TEST 18: a slow body naming a member workspace goes through
--- raw_request eval
my @part = ('{"name": "slow",', " \"workspace_id\": $::T->{ws1}}");
["POST /v1/chatbots HTTP/1.1\r
Host: localhost\r
Connection: close\r
Authorization: Bearer $::T->{alice_key}\r
Content-Type: application/json\r
Content-Length: " . length(CORE::join '', @part) . "\r
\r
$part[0]", $part[1]]
--- raw_request_middle_delay: 0.3
--- error_code: 200
--- response_body_like eval
qr/ ws=$::T->{ws1} /



=== TEST 19: a body buffered to a temporary file is read from it
--- config
    location /v1/ {
        smartlyq on;
        client_body_buffer_size 1k;
        proxy_pass http://echo;
    }
--- request eval
"POST /v1/chatbots\n{\"pad\": \"" . ('z' x 3000) . "\", \"workspace_id\": $::T->{wsb}}"
--- more_headers eval: $::json
--- error_code: 403
--- response_body eval: $::forbidden



=== TEST 20: another content type is not read by the edge
--- request eval
"POST /v1/chatbots
{\"workspace_id\": $::T->{wsb}}"
--- more_headers eval
"Authorization: Bearer $::T->{alice_key}\nContent-Type: text/plain"
--- error_code: 200
--- response_body_like: ^user=\d+ key=\d+ ws= mode



=== TEST 21: no key: 401 before the body is looked at
--- request eval
"POST /v1/chatbots
{\"workspace_id\": $::T->{wsb}}"
--- more_headers
Content-Type: application/json
--- error_code: 401



=== TEST 22: GET bodies are not read
--- request eval
"GET /v1/chatbots
{\"workspace_id\": $::T->{wsb}}"
--- more_headers eval: $::json
--- error_code: 200




=== TEST 23: a refused request with a broken chunked body still gets an answer
--- raw_request
POST /v1/chatbots HTTP/1.1
Host: localhost
Connection: close
Content-Type: application/json
Transfer-Encoding: chunked

zz
{}
0

--- error_code: 400



=== TEST 24: a body read that fails halfway leaks no request or socket
--- raw_request eval
["POST /v1/chatbots HTTP/1.1\r
Host: localhost\r
Connection: close\r
Authorization: Bearer $::T->{alice_key}\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
2\r
{}\r
", "zz\r\nbroken\r\n0\r\n\r\n"]
--- raw_request_middle_delay: 0.3
--- error_code: 400
--- no_shutdown_error_log
open socket



=== TEST 25: (the previous block's shutdown is checked here)
--- request
GET /v1/me
--- error_code: 401
