# `make install` for systems without the Debian packages: PREFIX, DESTDIR,
# SYSCONFDIR and MODULESDIR land where asked, the unit and backend.conf
# name the installed paths, and an operator's backend.conf is kept.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use Test::More;

plan skip_all => 'make install is not a sanitizer build (make asan)'
    if $ENV{ASAN_OPTIONS};

my $root = abs_path(dirname(__FILE__) . '/..');
my $build = $ENV{SQ_BUILD} || "$root/build";
my $dest = tempdir('sqinstall-XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub install {
    my $out = `make -s -C '$root' BUILD='$build' install DESTDIR='$dest' \\
               PREFIX=/opt/sq SYSCONFDIR=/etc/sq \\
               MODULESDIR=/opt/nginx/modules 2>&1`;
    return ($?, $out);
}

sub slurp { open my $f, '<', $_[0] or return ''; local $/; return <$f> }

my ($rc, $out) = install();
is($rc, 0, 'make install') or diag($out);
like($out, qr{load_module /opt/nginx/modules/ngx_http_smartlyq_module\.so;},
     'it prints the load_module line');

for my $f (qw(/opt/sq/bin/smartlyq-backend /opt/sq/bin/sqctl)) {
    ok(-x "$dest$f", "$f is executable");
}
for my $f (qw(/opt/nginx/modules/ngx_http_smartlyq_module.so
              /opt/sq/share/smartlyq/smartlyq.lua
              /opt/sq/share/smartlyq/redis-smartlyq.conf
              /opt/sq/share/man/man1/sqctl.1
              /opt/sq/share/man/man1/smartlyq-backend.1
              /opt/sq/share/doc/smartlyq/smartlyq-routes.conf
              /opt/sq/share/doc/smartlyq/smartlyq-oauth.conf
              /opt/sq/share/doc/smartlyq/smartlyq-console.conf
              /opt/sq/lib/systemd/system/smartlyq-backend.service
              /etc/sq/smartlyq/backend.conf)) {
    ok(-s "$dest$f", "$f");
}

my $unit = slurp("$dest/opt/sq/lib/systemd/system/smartlyq-backend.service");
like($unit, qr{^ExecStart=/opt/sq/bin/smartlyq-backend }m,
     'the unit runs the installed backend');
like($unit, qr{^EnvironmentFile=/etc/sq/smartlyq/backend\.conf$}m,
     'and reads SYSCONFDIR/smartlyq/backend.conf');
unlike($unit . slurp("$dest/etc/sq/smartlyq/backend.conf"), qr/@\w+@/,
       'no placeholder left');
like(slurp("$dest/etc/sq/smartlyq/backend.conf"),
     qr{^SMARTLYQ_FUNCTIONS=/opt/sq/share/smartlyq/smartlyq\.lua$}m,
     'backend.conf names the installed function library');
like(slurp("$dest/opt/sq/share/man/man1/sqctl.1"), qr/key create/,
     'sqctl(1) has the commands');

# every ${NAME} and $NAME the unit uses is set in backend.conf
my %set = map { $_ => 1 }
          slurp("$dest/etc/sq/smartlyq/backend.conf") =~ /^(\w+)=/mg;
my ($exec) = $unit =~ /^ExecStart=(.*)$/m;
my @used = $exec =~ /\$\{?(\w+)/g;
ok(@used, 'ExecStart takes its values from the environment file');
ok($set{$_}, "backend.conf sets $_") for @used;
# the Redis arguments: one word-split $NAME (systemd splits $NAME on
# whitespace, not ${NAME}), "--redis HOST:PORT" by default
like($exec, qr/ \$SMARTLYQ_REDIS_ARGS /,
     'ExecStart takes the Redis arguments as $SMARTLYQ_REDIS_ARGS, split');
unlike($exec, qr/--redis\s/, '... and names no --redis of its own');
like(slurp("$dest/etc/sq/smartlyq/backend.conf"),
     qr/^SMARTLYQ_REDIS_ARGS="--redis 127\.0\.0\.1:6379"$/m,
     'backend.conf: one Redis by default');
like(slurp("$dest/etc/sq/smartlyq/backend.conf"),
     qr/^#SMARTLYQ_REDIS_ARGS="--redis-sentinel \S+ --redis-master \S+ /m,
     '... the Sentinel form documented there');

# an operator's settings survive a second install
open my $fh, '>>', "$dest/etc/sq/smartlyq/backend.conf" or die $!;
print $fh "SMARTLYQ_LISTEN=127.0.0.1:9999\n";
close $fh;
($rc, $out) = install();
is($rc, 0, 'make install again') or diag($out);
like(slurp("$dest/etc/sq/smartlyq/backend.conf"),
     qr/^SMARTLYQ_LISTEN=127\.0\.0\.1:9999$/m, 'backend.conf kept');

done_testing();
