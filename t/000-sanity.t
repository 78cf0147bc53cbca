# The module loads, its directives parse, and a bad configuration is
# refused at start-up rather than failing open at run time.

use lib 't/lib';
use SQTest;
use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();

&add_block_preprocessor(SQTest::block_defaults());

our $dir = $SQTest::DIR;

# a password file that is not one: its content must never be logged
SQTest::write_secret("$dir/bad-password", "hunter2-is-not-hex\n");

run_tests();

__DATA__

=== TEST 1: module loaded, smartlyq off by default
--- config
    location /x/ {
        proxy_pass http://echo;
    }
--- request
GET /x/
--- error_code: 200
--- response_body_like: ^user= key= ws=
--- no_error_log
[error]



=== TEST 2: all directives in their contexts
--- http_config eval
SQTest::http_config() . <<'CONF';
    smartlyq_redis_connect_timeout 500ms;
    smartlyq_redis_timeout 50ms;
    smartlyq_retry_after 2s;
    smartlyq off;
CONF
--- config
    smartlyq_redis_timeout 80ms;
    location /v1/ {
        smartlyq on;
        smartlyq_redis_timeout 200ms;
        smartlyq_retry_after 5s;
        proxy_pass http://echo;
    }
--- request
GET /v1/me
--- error_code: 401
--- no_error_log
[error]



=== TEST 3: smartlyq on without smartlyq_redis is refused
--- http_config eval
"smartlyq_key_pepper_file $::dir/pepper;\nsmartlyq_signing_key_file $::dir/signing;"
--- config
    location /v1/ {
        smartlyq on;
    }
--- must_die
--- error_log
"smartlyq" is on but "smartlyq_redis" is not set



=== TEST 4: smartlyq on without the secrets is refused
--- http_config
    smartlyq_redis 127.0.0.1:6379;
--- config
    location /v1/ {
        smartlyq on;
    }
--- must_die
--- error_log
are not both set



=== TEST 5: a bad Redis address
--- http_config
    smartlyq_redis 127.0.0.1:6379/db;
--- config
--- must_die
--- error_log
invalid redis address "127.0.0.1:6379/db"



=== TEST 6: a bad Redis port
--- http_config
    smartlyq_redis 127.0.0.1:99999;
--- config
--- must_die
--- error_log
invalid redis address "127.0.0.1:99999": invalid port



=== TEST 7: a secret file that is not 64 hex digits
--- http_config eval
"smartlyq_key_pepper_file $::dir/redis.log;"
--- config
--- must_die
--- error_log
must hold exactly 64 hex digits



=== TEST 8: a missing secret file
--- http_config
    smartlyq_signing_key_file /nonexistent/smartlyq/signing;
--- config
--- must_die
--- error_log
cannot open "/nonexistent/smartlyq/signing"



=== TEST 9: smartlyq_redis given twice
--- http_config
    smartlyq_redis 127.0.0.1:6379;
    smartlyq_redis 127.0.0.1:6380;
--- config
--- must_die
--- error_log
"smartlyq_redis" directive is duplicate



=== TEST 10: smartlyq_redis is http-level only
--- http_config eval
"smartlyq_key_pepper_file $::dir/pepper;"
--- config
    location /v1/ {
        smartlyq_redis 127.0.0.1:6379;
    }
--- must_die
--- error_log
"smartlyq_redis" directive is not allowed here



=== TEST 11: a unix socket address is accepted
--- http_config eval
"smartlyq_redis unix:$::dir/none.sock;\nsmartlyq_key_pepper_file $::dir/pepper;\nsmartlyq_signing_key_file $::dir/signing;"
--- config
    location /v1/ {
        smartlyq on;
        proxy_pass http://127.0.0.1:1/;
    }
--- request
GET /v1/me
--- more_headers eval
"Authorization: Bearer $SQTest::T->{alice_key}"
--- error_code: 503
--- response_body_like: SERVICE_UNAVAILABLE




=== TEST 12: an IPv6 Redis address
--- http_config eval
"smartlyq_redis [::1]:$ENV{TEST_NGINX_REDIS_PORT};\nsmartlyq_redis_password_file $::dir/redis-password;\nsmartlyq_key_pepper_file $::dir/pepper;\nsmartlyq_signing_key_file $::dir/signing;"
--- config
    location = /t {
        smartlyq on;
        proxy_pass http://127.0.0.1:1;
    }
--- request
GET /t?workspace_id=999999
--- more_headers eval
"Authorization: Bearer $SQTest::T->{alice_key}"
--- error_code: 403
--- response_body_like: FORBIDDEN



=== TEST 13: a host name is resolved once, at start-up
--- http_config eval
"smartlyq_redis localhost:$ENV{TEST_NGINX_REDIS_PORT};\nsmartlyq_redis_password_file $::dir/redis-password;\nsmartlyq_key_pepper_file $::dir/pepper;\nsmartlyq_signing_key_file $::dir/signing;"
--- config
    location /t {
        smartlyq on;
        proxy_pass http://127.0.0.1:1;
    }
--- request
GET /t?workspace_id=999999
--- more_headers eval
"Authorization: Bearer $SQTest::T->{alice_key}"
--- error_code: 403



=== TEST 14: satisfy any would let another module skip the key check
--- config
    location /v1/ {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        smartlyq on;
    }
--- must_die
--- error_log
"smartlyq" cannot be used with "satisfy any"



=== TEST 15: the Redis password file must exist
--- http_config eval
"smartlyq_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT};\nsmartlyq_redis_password_file $::dir/no-such-password;"
--- config
--- must_die
--- error_log eval
qr/cannot open "\Q$::dir\E\/no-such-password"/



=== TEST 16: a malformed Redis password file is refused, its content not logged
--- http_config eval
"smartlyq_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT};\nsmartlyq_redis_password_file $::dir/bad-password;"
--- config
--- must_die
--- error_log eval
qr/"\Q$::dir\E\/bad-password" must hold 64 hex digits/
--- no_error_log
hunter2



=== TEST 17: smartlyq_redis_password_file given twice
--- http_config eval
"smartlyq_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT};\nsmartlyq_redis_password_file $::dir/redis-password;\nsmartlyq_redis_password_file $::dir/redis-password;"
--- config
--- must_die
--- error_log
"smartlyq_redis_password_file" directive is duplicate



=== TEST 18: without the password, Redis refuses every command: 503
--- http_config eval
"smartlyq_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT};\nsmartlyq_key_pepper_file $::dir/pepper;\nsmartlyq_signing_key_file $::dir/signing;"
--- config
    location = /t {
        smartlyq on;
        proxy_pass http://127.0.0.1:1;
    }
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $SQTest::T->{alice_key}"
--- error_code: 503
--- response_body_like: SERVICE_UNAVAILABLE
--- error_log
NOAUTH



=== TEST 19: smartlyq_cache naming a zone that does not exist is refused
--- http_config eval
SQTest::http_config() . "smartlyq_cache_zone zone=sqz:1m;\n"
--- config
    location /v1/ {
        smartlyq on;
        smartlyq_cache nosuchzone;
        proxy_pass http://echo;
    }
--- must_die
--- error_log
nosuchzone



=== TEST 20: smartlyq_cache_zone is for the http block only
--- http_config eval
SQTest::http_config()
--- config
    smartlyq_cache_zone zone=sqz:1m;
    location /v1/ {
        smartlyq on;
        proxy_pass http://echo;
    }
--- must_die
--- error_log
"smartlyq_cache_zone" directive is not allowed here



=== TEST 21: smartlyq_log_level takes a level nginx knows
--- http_config eval
SQTest::http_config()
--- config
    smartlyq_log_level debug;
    location /v1/ {
        smartlyq on;
        proxy_pass http://echo;
    }
--- must_die
--- error_log
invalid value "debug"



=== TEST 22: smartlyq_scope must name a scope the edge knows
--- http_config eval
SQTest::http_config()
--- config
    location /v1/ {
        smartlyq on;
        smartlyq_scope keys:read;
        proxy_pass http://echo;
    }
--- must_die
--- error_log
unknown scope "keys:read"



=== TEST 23: a family needs both its read and its write scope
--- http_config eval
SQTest::http_config()
--- config
    location /v1/ {
        smartlyq on;
        smartlyq_scope workspace;
        proxy_pass http://echo;
    }
--- must_die
--- error_log
unknown scope "workspace:write"
