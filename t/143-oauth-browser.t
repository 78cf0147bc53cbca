# The consent page in a real browser (issue 14): Debian's chromium,
# headless, driven by scripts/oauth-browser.py through selenium and
# chromedriver, against the whole stack (Redis, the backend, nginx with
# conf/smartlyq-routes.conf and the OAuth locations).  The redirect URI is
# the script's own listener on http://127.0.0.1:<port>/cb.  Screenshots
# are kept under build/screenshots/.

use strict;
use warnings;

use lib 't/lib';
use Test::More;

BEGIN {
    for my $f ('/usr/bin/chromium', '/usr/bin/chromedriver') {
        next if -x $f;
        plan skip_all => "$f is missing (make deps installs chromium "
                       . 'and chromium-driver)';
    }
    if (system('/usr/bin/python3', '-c', 'import selenium') != 0) {
        plan skip_all => 'python3-selenium is missing (make deps)';
    }
}

use SQTest;
use JSON::PP;

my $ROOT = $SQTest::ROOT;
my $SHOTS = "$SQTest::BUILD/screenshots";
my $json = JSON::PP->new->canonical;

# scripts/oauth-browser.py with @args; the password, when given, in its
# environment only.  Returns its JSON answer (and its exit status).
sub browse {
    my ($password, @args) = @_;
    local $ENV{SQ_OAUTH_PASSWORD} = $password // '';
    my ($out, $rc) = SQTest::run_capture('/usr/bin/python3',
        "$ROOT/scripts/oauth-browser.py", '--shots', $SHOTS, @args);
    my $d = eval { $json->decode($out) };
    diag("oauth-browser.py said: $out") unless $d;
    return ($d || {}, $rc);
}

sub png_ok {
    my ($path, $what) = @_;
    my $head = '';
    if (open my $fh, '<:raw', $path) {
        read $fh, $head, 24;
        close $fh;
    }
    my ($w, $h) = length $head == 24 ? unpack('NN', substr($head, 16, 8))
                                     : (0, 0);
    ok(substr($head, 0, 8) eq "\x89PNG\r\n\x1a\n" && $w >= 300 && $h >= 300,
       "$what: a PNG screenshot of the page (${w}x$h) in $path");
}

# --- the harness: chromium runs, the listener answers -------------------
my $cb_port = SQTest::free_port();
my $cb = "http://127.0.0.1:$cb_port/cb";
my ($d, $rc) = browse(undef, '--selftest', '--redirect-uri', $cb);
is($rc, 0, 'headless chromium starts under chromedriver')
    or diag($d->{error} // '');
is_deeply($d->{callback} && $d->{callback}{query},
          { state => ['selftest'], code => ['sqc_selftest0'] },
          'the listener on the redirect URI gets what the browser opened');
like($d->{pages}[0]{text} // '', qr/state selftest/,
     'the rendered page text is read back');
png_ok("$SHOTS/selftest.png", 'selftest');

done_testing();
