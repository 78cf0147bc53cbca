#!/usr/bin/env bash
# The Debian packages of `make deb`, checked as an operator would use them
# (run by t/130-deb.t; prints TAP).  Needs root, dpkg-buildpackage and
# unshare; skips otherwise.
#
# 1. the .debs' contents and fields (dpkg-deb), nginx-abi from the
#    installed nginx;
# 2. in a private mount and network namespace (loopback only), with
#    overlays on /usr, /etc and /var (their changes stay in a tmpfs that
#    goes away with the namespace) and a policy-rc.d that forbids service
#    actions: dpkg -i of both packages with Redis down, then again with
#    Redis up; nginx -t with the module enabled and the example routes
#    included; the backend started from its unit's ExecStart line; one
#    request through nginx (`nginx -p`) that must get the exact 403
#    envelope; the backend again from the unit with a Sentinel line as
#    SMARTLYQ_REDIS_ARGS (a Sentinel watching that Redis); dpkg --purge,
#    then nothing left but the documented files.
#
# The machine's own nginx, dpkg database and /etc are never written.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SQ_BUILD:-$ROOT/build}
DEBS=${SQ_DEB_DIR:-$BUILD/deb}

if [ "${1:-}" != --inside ]; then
    if [ -n "${ASAN_OPTIONS:-}" ]; then
        echo "1..0 # SKIP packaging is built with Debian's flags, not under make asan"
        exit 0
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "1..0 # SKIP needs root (dpkg -i in a private namespace)"
        exit 0
    fi
    for t in dpkg-buildpackage unshare ip redis-server nginx curl setpriv; do
        if ! command -v "$t" >/dev/null; then
            echo "1..0 # SKIP $t is not installed"
            exit 0
        fi
    done
    # the packages of the tree as it is now: rebuilt when a file they are
    # built from is newer
    deb=$(ls "$DEBS"/smartlyq-backend_*.deb 2>/dev/null | head -n 1 || true)
    if [ -z "$deb" ] || [ -n "$(cd "$ROOT" && git ls-files -z -- Makefile \
           config ngx_smartlyq_module common backend redis conf packaging \
           README.md \
           | xargs -0 -r sh -c 'find "$@" -maxdepth 0 -newer "$0" 2>/dev/null' \
                 "$deb" | head -n 1)" ]
    then
        echo "# make deb (build log in $DEBS/build.log)"
        make -s -C "$ROOT" BUILD="$BUILD" deb >/dev/null
    fi
    T=$(mktemp -d /tmp/sqdeb-XXXXXX)
    rc=0
    unshare -m -n --propagation private "$0" --inside "$T" || rc=$?
    rmdir "$T" 2>/dev/null || true
    exit $rc
fi

T=$2
mount -t tmpfs -o mode=0700 sqdeb "$T"
MOD_DEB=$(ls "$DEBS"/libnginx-mod-http-smartlyq_*.deb)
BE_DEB=$(ls "$DEBS"/smartlyq-backend_*.deb)

n=0
fails=0
ok() {      # ok <description> <command...>
    local what=$1
    shift
    n=$((n + 1))
    if "$@"; then
        echo "ok $n - $what"
    else
        echo "not ok $n - $what"
        fails=$((fails + 1))
    fi
}
is() {      # is <got> <expected> <description>
    n=$((n + 1))
    if [ "$1" = "$2" ]; then
        echo "ok $n - $3"
    else
        echo "not ok $n - $3"
        printf '#   got:      %s\n#   expected: %s\n' "$1" "$2"
        fails=$((fails + 1))
    fi
}
has() {     # has <text> <regex> <description>
    n=$((n + 1))
    if grep -Eq -- "$2" <<<"$1"; then
        echo "ok $n - $3"
    else
        echo "not ok $n - $3"
        sed 's/^/#   /' <<<"$1"
        fails=$((fails + 1))
    fi
}

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap cleanup EXIT

# --- 1. what the packages hold ---------------------------------------

mod_files=$(dpkg-deb -c "$MOD_DEB" | awk '{print $6}')
for f in ./usr/lib/nginx/modules/ngx_http_smartlyq_module.so \
         ./usr/share/nginx/modules-available/mod-http-smartlyq.conf \
         ./usr/share/doc/libnginx-mod-http-smartlyq/examples/smartlyq-routes.conf \
         ./usr/share/doc/libnginx-mod-http-smartlyq/examples/smartlyq-oauth.conf \
         ./usr/share/doc/libnginx-mod-http-smartlyq/examples/smartlyq-console.conf \
         ./usr/share/doc/libnginx-mod-http-smartlyq/copyright
do
    has "$mod_files" "^${f//./\\.}\$" "module package holds $f"
done
abi=$(dpkg-query -W -f '${Provides}' nginx | grep -o 'nginx-abi-[^ ,]*')
has "$(dpkg-deb -f "$MOD_DEB" Depends)" "(^|, )$abi(,|\$)" \
    "module package depends on the installed nginx's $abi"

be_files=$(dpkg-deb -c "$BE_DEB" | awk '{print $1, $6}')
for f in "-rwxr-xr-x ./usr/bin/smartlyq-backend" "-rwxr-xr-x ./usr/bin/sqctl" \
         "-rw-r--r-- ./usr/share/smartlyq/smartlyq.lua" \
         "-rw-r--r-- ./usr/share/smartlyq/redis-smartlyq.conf" \
         "-rw-r--r-- ./usr/share/man/man1/sqctl.1.gz" \
         "-rw-r--r-- ./usr/share/man/man1/smartlyq-backend.1.gz" \
         "-rw-r--r-- ./lib/systemd/system/smartlyq-backend.service" \
         "-rw-r--r-- ./etc/smartlyq/backend.conf"
do
    has "$be_files" "^${f//./\\.}\$" "backend package holds $f"
done
ctl=$T/ctl
mkdir -p "$ctl"
dpkg-deb -e "$BE_DEB" "$ctl"
is "$(cat "$ctl/conffiles")" /etc/smartlyq/backend.conf \
   "backend.conf is the backend package's conffile"
has "$(dpkg-deb -f "$BE_DEB" Depends)" '(^|, )adduser(,|$)' \
    "backend package depends on adduser"
n=$((n + 1))
if ! dpkg-deb -c "$BE_DEB" | awk '{print $6}' | grep -q '^\./etc/smartlyq/secrets'
then
    echo "ok $n - no secret is shipped in the package"
else
    echo "not ok $n - no secret is shipped in the package"
    fails=$((fails + 1))
fi

# the fragment for a shared Redis and the project's redis.conf agree
frag=$(dpkg-deb --fsys-tarfile "$BE_DEB" \
       | tar -xOf - ./usr/share/smartlyq/redis-smartlyq.conf)
while read -r k v; do
    has "$(cat "$ROOT/redis/redis.conf")" "^$k $v\$" \
        "redis-smartlyq.conf's '$k $v' is in redis/redis.conf"
done < <(grep -Ev '^(#|$)' <<<"$frag")

# lintian, when installed: no error or warning
if command -v lintian >/dev/null; then
    out=$(lintian "$(ls "$DEBS"/smartlyq_*.changes | head -n 1)" 2>/dev/null \
          | grep -E '^[EW]: ' || true)
    is "$out" "" "lintian: no error or warning"
fi

# --- 2. the throw-away root ------------------------------------------

for d in usr etc var; do
    mkdir -p "$T/$d.up" "$T/$d.work"
    mount -t overlay overlay \
        -o "lowerdir=/$d,upperdir=$T/$d.up,workdir=$T/$d.work" "/$d"
done
mount -t tmpfs -o mode=0755 sqrun /run
mkdir -p /run/lock
ip link set lo up
printf '#!/bin/sh\n# no service actions in the test namespace\nexit 101\n' \
    > /usr/sbin/policy-rc.d
chmod 0755 /usr/sbin/policy-rc.d

# what was there before the packages: compared after the purge
snapshot() {
    (cd "$T" && find usr.up etc.up var.up \( -type f -o -type l \) | sort)
}
before=$(snapshot)

out=$(DEBIAN_FRONTEND=noninteractive dpkg -i "$MOD_DEB" "$BE_DEB" 2>&1) \
    || { echo "$out" | sed 's/^/# /'; echo "Bail out! dpkg -i failed"; exit 1; }
has "$out" 'sqctl init against Redis 127\.0\.0\.1:6379 failed \(.*\)\.  Next steps:' \
    "Redis down: the postinst prints the next steps"
is "$(readlink /etc/nginx/modules-enabled/50-mod-http-smartlyq.conf)" \
   /usr/share/nginx/modules-available/mod-http-smartlyq.conf \
   "the module is enabled: modules-enabled/50-mod-http-smartlyq.conf"
is "$(cat /usr/share/nginx/modules-available/mod-http-smartlyq.conf)" \
   "load_module modules/ngx_http_smartlyq_module.so;" "its load file"
for s in pepper signing redis-password; do
    is "$(stat -c '%a %U:%G' "/etc/smartlyq/secrets/$s")" "640 root:smartlyq" \
       "secrets/$s: 0640 root:smartlyq"
    has "$(cat "/etc/smartlyq/secrets/$s")" '^[0-9a-f]{64}$' \
        "secrets/$s holds 64 hex digits"
done
is "$(stat -c '%a %U:%G' /etc/smartlyq/secrets)" "750 root:smartlyq" \
   "secrets/: 0750 root:smartlyq"
ok "the unit is enabled (multi-user.target.wants)" \
   test -L /etc/systemd/system/multi-user.target.wants/smartlyq-backend.service
ok "man sqctl" test -s /usr/share/man/man1/sqctl.1.gz
if command -v systemd-analyze >/dev/null; then
    out=$(systemd-analyze verify /lib/systemd/system/smartlyq-backend.service 2>&1) \
        || true
    is "$out" "" "systemd-analyze verify: the unit is clean"
fi

# Redis on Debian's default port (this namespace's own loopback), set up
# as the postinst's next steps say: the package's fragment, and the
# password from /etc/smartlyq/secrets/redis-password in an included file
. /etc/smartlyq/backend.conf
is "$SMARTLYQ_REDIS_ARGS" "--redis 127.0.0.1:6379" \
   "backend.conf: SMARTLYQ_REDIS_ARGS is one Redis by default"
SMARTLYQ_REDIS=${SMARTLYQ_REDIS_ARGS#--redis }
mkdir -p "$T/redis"
(umask 077; echo "requirepass $(cat "$SMARTLYQ_REDIS_PASSWORD_FILE")" \
    > "$T/redis-auth.conf")
cat > "$T/redis.conf" <<EOF
bind 127.0.0.1
port ${SMARTLYQ_REDIS##*:}
dir $T/redis
include /usr/share/smartlyq/redis-smartlyq.conf
include $T/redis-auth.conf
EOF
redis-server "$T/redis.conf" > "$T/redis.log" 2>&1 &
PIDS+=($!)
rcli() {
    REDISCLI_AUTH=$(cat "$SMARTLYQ_REDIS_PASSWORD_FILE") \
        redis-cli -p "${SMARTLYQ_REDIS##*:}" "$@"
}
for _ in $(seq 100); do
    [ "$(rcli ping 2>/dev/null)" = PONG ] && break
    sleep 0.1
done

# an upgrade (the same version again) with Redis up
sums=$(sha256sum /etc/smartlyq/secrets/*)
out=$(DEBIAN_FRONTEND=noninteractive dpkg -i "$BE_DEB" 2>&1) \
    || { echo "$out" | sed 's/^/# /'; echo "Bail out! dpkg -i failed"; exit 1; }
has "$out" 'function library loaded into Redis' \
    "Redis up: the postinst runs sqctl init"
is "$(sha256sum /etc/smartlyq/secrets/*)" "$sums" \
   "an upgrade keeps the secrets"

# nginx -t: Debian's own nginx.conf, the module enabled, the example
# routes included in a server
EDGE_PORT=18080
cat > /etc/nginx/conf.d/smartlyq-test.conf <<EOF
smartlyq_redis $SMARTLYQ_REDIS;
smartlyq_redis_password_file $SMARTLYQ_REDIS_PASSWORD_FILE;
smartlyq_key_pepper_file $SMARTLYQ_PEPPER_FILE;
smartlyq_signing_key_file $SMARTLYQ_SIGNING_KEY_FILE;
upstream smartlyq_backend {
    server $SMARTLYQ_LISTEN;
    keepalive 8;
}
server {
    listen 127.0.0.1:$EDGE_PORT;
    include /usr/share/doc/libnginx-mod-http-smartlyq/examples/smartlyq-routes.conf;
}
EOF
out=$(nginx -t 2>&1) || true
has "$out" 'test is successful' "nginx -t: module enabled, example routes"

# the backend as systemd would start it: its unit's ExecStart, with
# ${NAME} (one word) and $NAME (split on whitespace, zero or more words)
# from its EnvironmentFile (or the file given second), as its User and
# Group; NAME="value" loses its quotes as systemd's parser does
unit=/lib/systemd/system/smartlyq-backend.service
unit_argv() {
    perl -e '
    my %env; my ($exec, $envfile, $user, $group);
    open my $u, "<", $ARGV[0] or die;
    while (<$u>) {
        chomp;
        $exec = $1 if /^ExecStart=(.*)/;
        $envfile = $1 if /^EnvironmentFile=-?(.*)/;
        $user = $1 if /^User=(.*)/;
        $group = $1 if /^Group=(.*)/;
    }
    $envfile = $ARGV[1] if defined $ARGV[1];
    open my $e, "<", $envfile or die "$envfile: $!";
    while (<$e>) {
        next unless /^\s*([A-Za-z_]\w*)=(.*?)\s*$/;
        my ($k, $v) = ($1, $2);
        $v = $1 if $v =~ /^"(.*)"$/ || $v =~ /^\x27(.*)\x27$/;
        $env{$k} = $v;
    }
    my @w;
    for (split " ", $exec) {
        if (/^\$(\w+)$/) {
            push @w, split " ", $env{$1} // "";
            next;
        }
        s/\$\{(\w+)\}/$env{$1} \/\/ die "unset $1\n"/ge;
        push @w, $_;
    }
    print join "\0", "--reuid=$user", "--regid=$group", "--init-groups", @w;
    ' "$@"
}
mapfile -d '' argv < <(unit_argv "$unit")
has "${argv[*]}" " --listen $SMARTLYQ_LISTEN --redis $SMARTLYQ_REDIS --signing-key-file " \
    "ExecStart carries backend.conf's Redis arguments as words"
setpriv "${argv[@]}" > "$T/backend.log" 2>&1 &
be_pid=$!
PIDS+=($be_pid)
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 100); do
    port_open "${SMARTLYQ_LISTEN##*:}" && break
    sleep 0.1
done
ok "the backend listens on $SMARTLYQ_LISTEN (ExecStart, as smartlyq)" \
   port_open "${SMARTLYQ_LISTEN##*:}"

# nginx with its own prefix, the enabled modules and the same server;
# the load files name modules/ relative to the prefix, as Debian's
# /usr/share/nginx/modules does
mkdir -p "$T/ngx/logs" "$T/ngx/tmp"
ln -s /usr/lib/nginx/modules "$T/ngx/modules"
cat > "$T/ngx/nginx.conf" <<EOF
include /etc/nginx/modules-enabled/*.conf;
daemon off;
worker_processes 1;
error_log $T/ngx/logs/error.log notice;
pid $T/ngx/logs/nginx.pid;
events {}
http {
    access_log off;
    client_body_temp_path $T/ngx/tmp/body;
    proxy_temp_path $T/ngx/tmp/proxy;
    include /etc/nginx/conf.d/smartlyq-test.conf;
}
EOF
chmod 0755 "$T" "$T/ngx"
nginx -p "$T/ngx" -c "$T/ngx/nginx.conf" > "$T/ngx/logs/stderr.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
    port_open "$EDGE_PORT" && break
    sleep 0.1
done

# a tenant each for Alice and Bob, with the installed sqctl
export SMARTLYQ_REDIS SMARTLYQ_PEPPER_FILE SMARTLYQ_REDIS_PASSWORD_FILE
exec 3>&2 2>>"$T/sqctl.log"
alice=$(sqctl user create --email alice@example.com --name Alice)
bob=$(sqctl user create --email bob@example.com --name Bob)
wsa=$(sqctl workspace create --owner "$alice" --name "Alice One")
wsb=$(sqctl workspace create --owner "$bob" --name "Bob Studio")
key=$(sqctl key create --user "$alice" --name alice)
exec 2>&3 3>&-
E=http://127.0.0.1:$EDGE_PORT
is "$(curl -s -o /dev/null -w '%{http_code}' "$E/v1/social/accounts?workspace_id=$wsa" \
      -H "Authorization: Bearer $key")" 200 \
   "her own workspace: 200 through the installed module and backend"
is "$(curl -s -w ' %{http_code}' "$E/v1/social/accounts?workspace_id=$wsb" \
      -H "Authorization: Bearer $key")" \
   '{"success": false, "error": {"code": "FORBIDDEN", "message": "You do not have access to this workspace."}} 403' \
   "Bob's workspace: the exact 403"
# the same backend.conf with the documented Sentinel line instead: a
# Sentinel watching this Redis; the backend from the unit finds the
# primary through it (no --redis) and answers through nginx again
SENT_PORT=26379
(umask 077; cat > "$T/sentinel.conf" <<EOF
bind 127.0.0.1
port $SENT_PORT
dir $T/redis
sentinel monitor sqm 127.0.0.1 ${SMARTLYQ_REDIS##*:} 1
sentinel auth-pass sqm $(cat "$SMARTLYQ_REDIS_PASSWORD_FILE")
EOF
)
redis-sentinel "$T/sentinel.conf" > "$T/sentinel.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
    port_open "$SENT_PORT" && break
    sleep 0.1
done
sargs="--redis-sentinel 127.0.0.1:1,127.0.0.1:$SENT_PORT --redis-master sqm"
sargs="$sargs --wait-replicas 0"
sed "s/^SMARTLYQ_REDIS_ARGS=.*/SMARTLYQ_REDIS_ARGS=\"$sargs\"/" \
    /etc/smartlyq/backend.conf > "$T/backend-sentinel.conf"
chmod 0644 "$T/backend-sentinel.conf"
kill "$be_pid" 2>/dev/null || true
wait "$be_pid" 2>/dev/null || true
mapfile -d '' argv < <(unit_argv "$unit" "$T/backend-sentinel.conf")
setpriv "${argv[@]}" > "$T/backend-sentinel.log" 2>&1 &
be_pid=$!
PIDS+=($be_pid)
for _ in $(seq 100); do
    port_open "${SMARTLYQ_LISTEN##*:}" && break
    sleep 0.1
done
is "$(tr '\0' ' ' < "/proc/$be_pid/cmdline")" \
   "/usr/bin/smartlyq-backend --listen $SMARTLYQ_LISTEN $sargs --signing-key-file $SMARTLYQ_SIGNING_KEY_FILE --pepper-file $SMARTLYQ_PEPPER_FILE --redis-password-file $SMARTLYQ_REDIS_PASSWORD_FILE --functions $SMARTLYQ_FUNCTIONS " \
   "a Sentinel SMARTLYQ_REDIS_ARGS reaches the backend's argv, split"
code=000
for _ in $(seq 50); do
    code=$(curl -s -o /dev/null -w '%{http_code}' \
           "$E/v1/social/accounts?workspace_id=$wsa" \
           -H "Authorization: Bearer $key")
    [ "$code" = 200 ] && break
    sleep 0.1
done
is "$code" 200 "the backend of the Sentinel conf answers through nginx"
has "$(cat "$T/backend-sentinel.log")" \
    "redis primary \\(sentinel, master sqm\\): 127\\.0\\.0\\.1:${SMARTLYQ_REDIS##*:}\$" \
    "... having asked the Sentinel for the primary (its log)"

# a backend.conf of the previous package: SMARTLYQ_REDIS=host:port and no
# SMARTLYQ_REDIS_ARGS.  The unit passes no Redis argument then, and the
# backend takes SMARTLYQ_REDIS from the environment systemd gives it
# (every NAME of the EnvironmentFile): the request is answered with it,
# and not with a SMARTLYQ_REDIS where no Redis listens (127.0.0.1:1, so
# that the built-in default 127.0.0.1:6379 cannot pass for it)
old_conf_backend() {     # old_conf_backend <SMARTLYQ_REDIS>: sets $code
    local oldenv
    code=000
    sed -e '/^SMARTLYQ_REDIS_ARGS=/d' /etc/smartlyq/backend.conf \
        > "$T/backend-old.conf"
    echo "SMARTLYQ_REDIS=$1" >> "$T/backend-old.conf"
    kill "$be_pid" 2>/dev/null || true
    wait "$be_pid" 2>/dev/null || true
    mapfile -d '' argv < <(unit_argv "$unit" "$T/backend-old.conf")
    mapfile -t oldenv < <(grep -E '^[A-Z_]+=' "$T/backend-old.conf")
    env -i "${oldenv[@]}" setpriv "${argv[@]}" >> "$T/backend-old.log" 2>&1 &
    be_pid=$!
    PIDS+=($be_pid)
    for _ in $(seq 30); do
        code=$(curl -s -o /dev/null -w '%{http_code}' \
               "$E/v1/social/accounts?workspace_id=$wsa" \
               -H "Authorization: Bearer $key")
        [ "$code" = 200 ] && break
        sleep 0.1
    done
}
old_conf_backend 127.0.0.1:1
has "${argv[*]}" " --listen $SMARTLYQ_LISTEN --signing-key-file " \
    "an old backend.conf: ExecStart passes no Redis argument"
has "$code" '^5' "... SMARTLYQ_REDIS=127.0.0.1:1 (no Redis there): $code"
old_conf_backend "$SMARTLYQ_REDIS"
is "$code" 200 \
   "... SMARTLYQ_REDIS=$SMARTLYQ_REDIS: 200, read from the environment"

if [ "$fails" != 0 ]; then
    for f in "$T/ngx/logs/error.log" "$T/ngx/logs/stderr.log" \
             "$T/backend.log" "$T/backend-sentinel.log" "$T/sentinel.log" \
             "$T/backend-old.log" "$T/sqctl.log" "$T/redis.log"; do
        echo "# --- $f"
        tail -n 20 "$f" 2>/dev/null | sed 's/^/# /'
    done
fi

cleanup
PIDS=()
rm -f /etc/nginx/conf.d/smartlyq-test.conf

out=$(dpkg --purge smartlyq-backend libnginx-mod-http-smartlyq 2>&1) \
    || { echo "$out" | sed 's/^/# /'; echo "Bail out! dpkg --purge failed"; exit 1; }
has "$out" 'kept /etc/smartlyq/secrets' "purge says it keeps the secrets"

# what is left: only the documented (the secrets, the system user) and
# dpkg's own records and logs
left=$(comm -13 <(echo "$before") <(snapshot) | grep -Ev \
    '^(var\.up/lib/dpkg/|var\.up/log/|var\.up/cache/(debconf|man)/|etc\.up/\.pwd\.lock$|etc\.up/(passwd|group|shadow|gshadow)-?$|etc\.up/smartlyq/secrets/(pepper|signing|redis-password)$)' \
    || true)
is "$left" "" "purge leaves nothing but the secrets and the smartlyq user"
ok "modules-enabled link removed" \
   test ! -e /etc/nginx/modules-enabled/50-mod-http-smartlyq.conf \
        -a ! -L /etc/nginx/modules-enabled/50-mod-http-smartlyq.conf
user_kept() { getent passwd smartlyq >/dev/null; }
ok "the smartlyq user is kept" user_kept

echo "1..$n"
[ "$fails" = 0 ]
