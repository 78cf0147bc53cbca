# The Debian packages of `make deb`, installed, used and purged in a
# throw-away mount and network namespace: scripts/test-deb.sh, which
# prints TAP and skips unless run as root with dpkg-buildpackage and
# unshare.  It builds the packages first when a source is newer.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);

my $root = abs_path(dirname(__FILE__) . '/..');
exec 'bash', "$root/scripts/test-deb.sh" or die "bash: $!\n";
