#!/usr/bin/env bash
# The real servers the integration tests talk to, started on free loopback ports and torn
# down again: a throwaway PostgreSQL 15 cluster (initdb + pg_ctl, as user postgres when run
# as root; TLS on, with a throwaway CA so clients can test sslmode=verify-full), CongoDB
# (MongoDB wire protocol) and an S3 server that verifies SigV4, with the local STS /
# container-credentials / IMDS stand-in (tests/peers/aws-creds.js) in the same process.
#
#   scripts/peers.sh up      start them (or reuse the running set) and print the env
#                            contract as `export K=V` lines: eval "$(scripts/peers.sh up)"
#   scripts/peers.sh env     print the same lines for a running set
#   scripts/peers.sh down    stop whatever is running and remove the state dir (idempotent)
#
# State (data, logs, PIDs, the env file) lives in PEERS_DIR, by default a directory under
# /tmp named after the repository path, so two clones do not share peers. Logs go to stderr
# so stdout stays evaluable. Needs `scripts/deps.sh` to have run (node packages in .deps/).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO_ROOT=$(pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
RUN=${PEERS_DIR:-/tmp/smsx-peers-$(printf '%s' "$REPO_ROOT" | sha256sum | cut -c1-12)}
S3_BUCKET_NAME=smsx-test

log() { echo "peers: $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port nobody listens on now, below the kernel ephemeral range (32768-60999) so no outgoing
# connection takes it before the server binds.
free_port() {
    local p i
    for i in $(seq 100); do
        p=$((12000 + (RANDOM * 32768 + RANDOM) % 20000))
        port_open "$p" || {
            echo "$p"
            return 0
        }
    done
    log "no free port found"
    return 1
}

wait_port() {
    local i
    for i in $(seq 200); do
        port_open "$1" && return 0
        sleep 0.05
    done
    return 1
}

as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# A PID from a pidfile, only if that process is still the one we started (its command line
# names our script), so a recycled PID is never signalled.
our_pid() {
    local f=$1 pattern=$2 pid
    [ -f "$f" ] || return 1
    pid=$(cat "$f")
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$pattern" || return 1
    echo "$pid"
}

stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

alive() {
    [ -f "$RUN/env" ] && grep -q AWS_CREDS_ENDPOINT "$RUN/env" || return 1
    our_pid "$RUN/congo.pid" congo.mjs >/dev/null || return 1
    our_pid "$RUN/s3.pid" s3.js >/dev/null || return 1
    as_pg "$PGBIN/pg_ctl" -D "$RUN/pg" status >/dev/null 2>&1 || return 1
}

# A CA and a server certificate for localhost/127.0.0.1, so the cluster speaks TLS and a
# client with sslmode=verify-full and PGSSLROOTCERT=$RUN/pg-ca.pem can verify it.
make_pg_certs() {
    local d=$RUN/pg
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=peers test CA" \
        -keyout "$RUN/pg-ca.key" -out "$RUN/pg-ca.pem" >/dev/null 2>&1 &&
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/server.key" \
            -out "$RUN/pg-server.csr" >/dev/null 2>&1 &&
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$RUN/pg-san.ext" &&
        openssl x509 -req -in "$RUN/pg-server.csr" -CA "$RUN/pg-ca.pem" -CAkey "$RUN/pg-ca.key" \
            -CAcreateserial -days 2 -extfile "$RUN/pg-san.ext" -out "$d/server.crt" >/dev/null 2>&1 || {
        log "openssl could not make the test certificates"
        return 1
    }
    chmod 600 "$d/server.key"
    chmod 644 "$RUN/pg-ca.pem"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$d/server.key" "$d/server.crt"
    return 0
}

start_pg() {
    local port=$1
    as_pg "$PGBIN/initdb" -D "$RUN/pg" -U postgres -A trust -E UTF8 --no-locale --no-sync \
        >"$RUN/initdb.log" 2>&1 || {
        log "initdb failed:"
        tail -n 5 "$RUN/initdb.log" >&2
        return 1
    }
    # The options live in the cluster's own config so a test can restart it with plain pg_ctl.
    make_pg_certs || return 1
    cat >>"$RUN/pg/postgresql.conf" <<EOF
ssl = on
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$RUN'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    as_pg "$PGBIN/pg_ctl" -D "$RUN/pg" -l "$RUN/pg.log" -w -t 30 start >/dev/null || {
        log "postgres did not start:"
        tail -n 5 "$RUN/pg.log" >&2
        return 1
    }
}

start_node() {
    local name=$1
    shift
    # Plain `cmd &` in a script forks and execs node itself, so $! is node's PID; stdin and
    # stdout are redirected so a caller's $(...) does not wait for the server to exit.
    nohup "$@" </dev/null >"$RUN/$name.log" 2>&1 &
    echo $! >"$RUN/$name.pid"
}

write_env() {
    local pgport=$1 mport=$2 s3port=$3 key=$4 secret=$5 credport=$6
    cat >"$RUN/env" <<EOF
export PEERS_DIR='$RUN'
export PGBIN='$PGBIN'
export PGDATA_DIR='$RUN/pg'
export PGHOST='127.0.0.1'
export PGPORT='$pgport'
export PGUSER='postgres'
export PG_CONNINFO='host=127.0.0.1 port=$pgport user=postgres dbname=postgres'
export MONGO_PORT='$mport'
export MONGO_URI='mongodb://127.0.0.1:$mport/?serverSelectionTimeoutMS=10000'
export S3_ENDPOINT='http://127.0.0.1:$s3port'
export S3_BUCKET='$S3_BUCKET_NAME'
export S3_ACCESS_KEY='$key'
export S3_SECRET_KEY='$secret'
export AWS_CREDS_ENDPOINT='http://127.0.0.1:$credport'
export PG_SSL_CA='$RUN/pg-ca.pem'
EOF
}

up() {
    if alive; then
        cat "$RUN/env"
        return 0
    fi
    down
    [ -f .deps/peers/.stamp ] || {
        log "node test peers are not installed: run scripts/deps.sh"
        return 1
    }
    mkdir -p "$RUN"
    chmod 755 "$RUN"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$RUN"
    local pgport mport s3port key secret credport
    pgport=$(free_port)
    start_pg "$pgport"
    mport=$(free_port)
    PORT=$mport start_node congo node "$REPO_ROOT/tests/peers/congo.mjs"
    s3port=$(free_port)
    credport=$(free_port)
    while [ "$credport" = "$s3port" ]; do credport=$(free_port); done
    key=AKIASMSXTEST$((RANDOM % 9000 + 1000))
    secret=$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')
    S3_ACCESS_KEY=$key S3_SECRET_KEY=$secret AWS_CREDS_LISTEN=127.0.0.1:$credport start_node s3 \
        node "$REPO_ROOT/tests/peers/s3.js" "$s3port" "$RUN/s3data" "$S3_BUCKET_NAME"
    local ok=1
    wait_port "$mport" || {
        log "congodb did not come up:"
        tail -n 5 "$RUN/congo.log" >&2
        ok=0
    }
    wait_port "$s3port" && wait_port "$credport" || {
        log "s3 server did not come up:"
        tail -n 5 "$RUN/s3.log" >&2
        ok=0
    }
    if [ "$ok" = 0 ]; then
        down
        return 1
    fi
    write_env "$pgport" "$mport" "$s3port" "$key" "$secret" "$credport"
    log "up in $RUN (postgres :$pgport, congodb :$mport, s3 :$s3port, credentials :$credport)"
    cat "$RUN/env"
}

down() {
    [ -d "$RUN" ] || return 0
    local pid
    if pid=$(our_pid "$RUN/congo.pid" congo.mjs); then stop_pid "$pid"; fi
    if pid=$(our_pid "$RUN/s3.pid" s3.js); then stop_pid "$pid"; fi
    if [ -f "$RUN/pg/postmaster.pid" ]; then
        as_pg "$PGBIN/pg_ctl" -D "$RUN/pg" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$RUN"
}

case "${1:-}" in
up) up ;;
env)
    alive || {
        log "peers are not running"
        exit 1
    }
    cat "$RUN/env"
    ;;
down) down ;;
*)
    echo "usage: $0 up|env|down" >&2
    exit 2
    ;;
esac
