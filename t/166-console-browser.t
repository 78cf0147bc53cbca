# The operator's console (issue 16) in a real browser: Debian's chromium,
# headless, driven by scripts/console-browser.py through selenium and
# chromedriver, against the whole stack (Redis, the backend, nginx with
# the routes, the OAuth and the console locations).  The six steps of the
# issue's test list; a screenshot of each page is kept under
# build/screenshots/console-*.png.

use strict;
use warnings;

use lib 't/lib';
use Test::More;

use SQBrowser;

BEGIN { SQBrowser::skip_unless_browser() }

use SQTest;
use JSON::PP;

my $ROOT = $SQTest::ROOT;
my $SHOTS = "$SQTest::BUILD/screenshots";
my $json = JSON::PP->new->canonical;
my $T = $SQTest::T;
SQBrowser::clear_shots($SHOTS, 'console-');

my $base = SQTest::nginx_start(SQTest::server_conf(routes => 1));
my $PW = 'a long console passphrase';
{
    my (undef, $rc) = SQTest::run_capture('sh', '-c',
        'printf "%s\n" "$0" | SMARTLYQ_REDIS=$1 SMARTLYQ_PEPPER_FILE=$2 '
        . 'SMARTLYQ_REDIS_PASSWORD_FILE=$3 "$4" user password --id "$5"',
        $PW, "127.0.0.1:$SQTest::PORT{redis}", "$SQTest::DIR/pepper",
        $SQTest::PASS{backend}, "$SQTest::BUILD/sqctl", $T->{alice});
    die "sqctl user password failed\n" if $rc;
}

# an app of Alice's, for the apps page
SQTest::sqctl('app', 'create', '--workspace', $T->{ws1}, '--owner', $T->{alice},
              '--redirect-uris', 'https://client.example/cb', '--scopes',
              'urls:read', '--name', 'Alice App');

# Carol shares ws1 with Alice: an owner Alice may name; Bob may not be
my $carol = SQTest::sqctl(qw(user create --email carol@example.com --name Carol));
SQTest::sqctl('member', 'add', '--workspace', $T->{ws1}, '--user', $carol);

my ($out, $rc);
{
    local $ENV{SQ_CONSOLE_PASSWORD} = $PW;
    local $ENV{SQ_CONSOLE_TEST_KEY} = $T->{alice_test_key};
    local $ENV{SQ_CONSOLE_LIVE_KEY} = $T->{alice_key};
    ($out, $rc) = SQTest::run_capture('/usr/bin/python3',
        "$ROOT/scripts/console-browser.py", '--base', $base,
        '--email', 'alice@example.com', '--test-key-name', 'alicetest',
        '--foreign-ws', $T->{wsb}, '--shots', $SHOTS,
        '--activity-secs', 5, '--owner-name', 'Carol',
        '--purpose', 'Leaked in CI logs; replaced. Carol owns the cleanup');
}
my $d = eval { $json->decode($out) } || {};
is($rc, 0, 'the browser ran the six steps') or diag($d->{error} // $out);
my $s = $d->{steps} || {};

# 1. sign in
like($s->{signin}{signin_url} // '', qr{/signin\?next=%2Fconsole%2F$},
     '1. the console sends an unsigned browser to the sign-in');
is($s->{signin}{landed}, "$base/console/", '1. signed in, back on the console');
cmp_ok($s->{signin}{keys_shown} // 0, '>=', 3, '1. the keys are listed');
is($s->{signin}{sparklines}, $s->{signin}{keys_shown}, '1. each with its sparkline');

# 2. create, shown once
like($s->{create}{key} // '', qr/^sqk_test_\.\.\.$/, '2. a new test key is shown');
ok($s->{create}{once_text}, '2. ... once, saying so');
is($s->{create}{copied}, 'Copied.', '2. the copy button copies');
ok(!$s->{create}{on_list_again} && $s->{create}{listed},
   '2. the list has the key but not its secret');
is($s->{create}{status_before}, 200, '2. the new key works at the edge');

# 3. disable from the list, then 401
like($s->{disable}{question} // '', qr/^Disable the key browser key/, '3. the disable is confirmed first');
is($s->{disable}{row_status}, 'disabled', '3. the list shows it disabled');
is($s->{disable}{api_status}, 401, '3. the next API call with it: 401');
is($s->{disable}{api_code}, 'UNAUTHORIZED', '3. ... the envelope');

# 4. its activity shows that refused call (the edge flushes once a second;
# the script polls the page for 5 s at most)
{
    ok(scalar(grep { /401/ && /disabled_key/ && m{/v1/urls} } @{ $s->{activity}{rows} || [] }),
       '4. the key page (refused) shows the refused call: 401 disabled_key on /v1/urls')
        or diag(explain($s->{activity}));
    like($s->{activity}{summary} // '', qr/disabled_key: 1/, '4. ... and its summary counts it');
}
is($s->{activity}{allowed_rows}, 0, '4. the refused filter shows no allowed entry');

# after the leak: the disabled key's owner and purpose, from its page
{
    my $o = $s->{ownership} || {};
    is($o->{owner_before}, 'Alice <alice@example.com>',
       'ownership: the key page shows its owner (the creator) by name and email');
    ok((grep { $_ eq 'Carol <carol@example.com>' } @{ $o->{options} || [] })
       && !(grep { /bob\@/ } @{ $o->{options} || [] }),
       'ownership: the owners offered are Alice\'s workspace members, not Bob')
        or diag(explain($o->{options}));
    is($o->{flash}, 'The owner and purpose were saved.', 'ownership: saved');
    is($o->{owner}, 'Carol <carol@example.com>', 'ownership: the new owner shown');
    is($o->{purpose}, 'Leaked in CI logs; replaced. Carol owns the cleanup',
       'ownership: the new purpose shown');
    my $kid = $s->{create}{id} // 0;
    my $rec = 'sq:key:{' . SQTest::redis_cli('GET', "sq:keyid:$kid") . '}';
    is(SQTest::redis_cli('HGET', $rec, 'owner_id'), $carol, 'ownership: the record names Carol');
}

# 5. the playground: a foreign workspace, 403 as a client sees it
like($s->{play_403}{status} // '', qr/^403\b/, '5. the playground shows 403 for a foreign workspace');
like($s->{play_403}{body} // '', qr/"code": "FORBIDDEN"/, '5. ... with the envelope');
like($s->{play_403}{headers} // '', qr/^content-type: application\/json/m, '5. ... and the headers');

# 6. a live key is refused, nothing sent
like($s->{play_live}{refused} // '', qr/Refused: this is a live key/, '6. the playground refuses a live key');
ok(!$s->{play_live}{result_shown}, '6. ... shows no response');
is($s->{play_live}{sent}, 0, '6. ... and sent no request');

# the checklist's one-click notify, the notice, the apps
is($s->{checklist}{sections}, 5, "the checklist has the seed's five steps");
cmp_ok($s->{checklist}{broad} // 0, '>=', 1, '... the keys with every scope, each with notify');
is($s->{checklist}{notified}, 'The owner was notified.', '... one click notifies the owner');
cmp_ok($s->{checklist}{notices} // 0, '>=', 1, '... whose notifications show it');
is($s->{checklist}{apps}, 1, 'the apps page lists the app');

is_deeply($d->{foreign} || ['?'], [], 'no page loaded anything from another origin');
is_deeply($d->{csp_errors} || ['?'], [], 'the CSP refused nothing the pages use');

for my $n (qw(signin keys create created confirm-disable disabled activity
              playground-403 playground-live ownership checklist
              notifications apps)) {
    my ($png, $w, $h) = SQBrowser::png_size("$SHOTS/console-$n.png");
    ok($png && $w >= 600 && $h >= 500,
       "screenshot console-$n.png (${w}x$h)");
}

done_testing();
