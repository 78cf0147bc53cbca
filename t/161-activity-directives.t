# smartlyq_activity on | off [max=N] [days=D] (issue 16,
# ngx_smartlyq_activity.c): where it may be, what it takes, and every
# error refused at start-up.

use lib 't/lib';
use SQTest;
use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();

&add_block_preprocessor(SQTest::block_defaults());

run_tests();

__DATA__

=== TEST 1: in the http, server and location blocks, with both parameters
--- http_config eval
SQTest::http_config() . "    smartlyq_activity on max=500 days=7;\n"
--- config
    smartlyq_activity off;
    location /v1/ {
        smartlyq on;
        smartlyq_activity on max=1 days=3650;
        proxy_pass http://echo;
    }
    location /v2/ {
        smartlyq on;
        smartlyq_activity on days=1;
        proxy_pass http://echo;
    }
--- request
GET /v1/
--- error_code: 401
--- no_error_log
[emerg]



=== TEST 2: neither on nor off
--- config
    location /v1/ {
        smartlyq on;
        smartlyq_activity yes;
        proxy_pass http://echo;
    }
--- must_die
--- error_log
must be "on" or "off"



=== TEST 3: max=0
--- config
    location /v1/ {
        smartlyq on;
        smartlyq_activity on max=0;
        proxy_pass http://echo;
    }
--- must_die
--- error_log
invalid parameter "max=0"



=== TEST 4: max not a number
--- config
    location /v1/ {
        smartlyq on;
        smartlyq_activity on max=lots;
        proxy_pass http://echo;
    }
--- must_die
--- error_log
invalid parameter "max=lots"



=== TEST 5: max too large
--- config
    location /v1/ {
        smartlyq on;
        smartlyq_activity on max=10000001;
        proxy_pass http://echo;
    }
--- must_die
--- error_log
invalid parameter "max=10000001"



=== TEST 6: days=0
--- config
    location /v1/ {
        smartlyq on;
        smartlyq_activity on days=0;
        proxy_pass http://echo;
    }
--- must_die
--- error_log
invalid parameter "days=0"



=== TEST 7: days beyond ten years
--- config
    location /v1/ {
        smartlyq on;
        smartlyq_activity on days=3651;
        proxy_pass http://echo;
    }
--- must_die
--- error_log
invalid parameter "days=3651"



=== TEST 8: a parameter given twice
--- config
    location /v1/ {
        smartlyq on;
        smartlyq_activity on days=3 days=4;
        proxy_pass http://echo;
    }
--- must_die
--- error_log
invalid parameter "days=4"



=== TEST 9: an unknown parameter
--- config
    location /v1/ {
        smartlyq on;
        smartlyq_activity on size=10;
        proxy_pass http://echo;
    }
--- must_die
--- error_log
invalid parameter "size=10"



=== TEST 10: the directive twice in one block
--- config
    location /v1/ {
        smartlyq on;
        smartlyq_activity on;
        smartlyq_activity off;
        proxy_pass http://echo;
    }
--- must_die
--- error_log
"smartlyq_activity" directive is duplicate



=== TEST 11: no argument
--- config
    location /v1/ {
        smartlyq on;
        smartlyq_activity;
        proxy_pass http://echo;
    }
--- must_die
--- error_log
invalid number of arguments in "smartlyq_activity" directive
