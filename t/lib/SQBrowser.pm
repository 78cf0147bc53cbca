package SQBrowser;

# What the headless-browser suites (t/143 OAuth consent, t/166 console)
# share: the skip when Debian's chromium, chromedriver or selenium is
# missing, and their screenshots in build/screenshots/.
#
# The screenshots directory is shared: each suite writes and deletes only
# the names under its own prefix (t/143 "oauth-", t/166 "console-"), so
# running one suite never removes another's pictures.
#
#   use lib 't/lib';
#   use Test::More;
#   use SQBrowser;
#   BEGIN { SQBrowser::skip_unless_browser() }   # before "use SQTest"
#   ...
#   SQBrowser::clear_shots($dir, 'oauth-');
#   my ($ok, $w, $h) = SQBrowser::png_size("$dir/oauth-consent.png");

use strict;
use warnings;

use Test::More ();

# Skips the whole file (plan skip_all) unless chromium, chromedriver and
# python3-selenium are installed; call it in a BEGIN block so that the
# stack (SQTest) is never started for nothing.
sub skip_unless_browser {
    for my $f ('/usr/bin/chromium', '/usr/bin/chromedriver') {
        next if -x $f;
        Test::More::plan(skip_all => "$f is missing (make deps installs "
                                     . 'chromium and chromium-driver)');
    }
    if (system('/usr/bin/python3', '-c', 'import selenium') != 0) {
        Test::More::plan(skip_all => 'python3-selenium is missing '
                                     . '(make deps)');
    }
}

# Removes $dir/$prefix*.png, only those: the other suites' screenshots
# stay.  The prefix must be a plain word ending in "-".
sub clear_shots {
    my ($dir, $prefix) = @_;
    die "SQBrowser: bad screenshot prefix\n"
        unless defined $prefix && $prefix =~ /\A[a-z0-9]+-\z/;
    unlink glob("$dir/$prefix*.png");
}

# (is a PNG, width, height) of the file at $path; (0, 0, 0) when it is
# missing or not a PNG.
sub png_size {
    my ($path) = @_;
    my $head = '';
    if (open my $fh, '<:raw', $path) {
        read $fh, $head, 24;
        close $fh;
    }
    return (0, 0, 0) unless length $head == 24
                            && substr($head, 0, 8) eq "\x89PNG\r\n\x1a\n";
    return (1, unpack('NN', substr($head, 16, 8)));
}

1;
