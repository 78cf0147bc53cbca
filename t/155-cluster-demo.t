# issue 15: the bounded `make cluster-demo` (scripts/cluster-demo
# --bounded, under 2 minutes): a primary, two replicas, three Sentinels,
# two edges each reading its own replica, two backends through Sentinel;
# traffic, a key disabled (401 at both edges within 100 ms), a member
# removed (403 at both), kill -9 of the primary (reads stay authorized,
# writes get 503 envelopes and never a false 201, then 201 again without a
# restart), every acknowledged write on the new primary.  The script
# prints TAP itself; this file only runs it.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);

my $root = abs_path(dirname(__FILE__) . '/..');
exec($^X, "$root/scripts/cluster-demo", '--bounded')
    or die "scripts/cluster-demo: $!\n";
