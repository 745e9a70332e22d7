#!/usr/bin/env bash
# Shared helpers for the README's commands. Sourced, not run.

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ensure_packages PKG...: installs the Debian packages that are missing (one apt-get update at most).
ensure_packages() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
}

# ensure_dotnet: the machine image ships the SDK; say so clearly when it is not there.
ensure_dotnet() {
  command -v dotnet >/dev/null 2>&1 || { log "dotnet SDK 10 is required and not on PATH"; exit 1; }
}

# port_is_free PORT
port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port: a loopback port nobody listens on, from a random start below the kernel's ephemeral range (a port
# there can be the source of an outgoing connection: refused to a test connect, yet taken for a listener).
free_port() {
  local low; low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$low" -gt 11000 ] || low=32768
  local p=$(( 10000 + RANDOM % (low - 10000) ))
  while ! port_is_free "$p"; do p=$(( p + 1 )); [ "$p" -lt "$low" ] || p=10000; done
  echo "$p"
}

# pg_start DIR PORT: initialises DIR/data when new (owned by postgres) and starts the server on 127.0.0.1:PORT.
pg_start() {
  local dir=$1 port=$2
  install -d -o postgres -g postgres -m 700 "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    ( cd / && runuser -u postgres -- "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale --no-sync >/dev/null )
  fi
  ( cd / && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 $PG_EXTRA_OPTS" start >/dev/null )
}

# pg_stop DIR
pg_stop() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  ( cd / && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 ) || true
}

# pg_create_db PORT NAME: creates the database when it does not exist yet.
pg_create_db() {
  local port=$1 name=$2
  if ! psql -h 127.0.0.1 -p "$port" -U postgres -tAc "select 1 from pg_database where datname='$name'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$port" -U postgres -qc "create database \"$name\"" >/dev/null
  fi
}

# rdkafka_native_dir: the folder of librdkafka.redist's linux-x64 librdkafka.so in the NuGet package cache (the
# project's restore puts it there); the mock Kafka cluster (mockd) runs on that same library, so no system
# librdkafka is needed. The library needs Debian's libsasl2-2.
rdkafka_native_dir() {
  local root packages version
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  version=$(sed -n 's/.*Include="librdkafka.redist" Version="\([^"]*\)".*/\1/p' "$root/Directory.Packages.props")
  packages=${NUGET_PACKAGES:-$(dotnet nuget locals global-packages -l | sed 's/^global-packages: //')}
  echo "${packages%/}/librdkafka.redist/$version/runtimes/linux-x64/native"
}

# etcd_start DIR: starts a throwaway etcd on free loopback client and peer ports, with its data in DIR/data.
# Waits until /health answers from *this* process (it exits at once when a port is taken); sets ETCD_ENDPOINT.
etcd_start() {
  local dir=$1 client peer i
  mkdir -p "$dir"
  client=$(free_port); peer=$(free_port)
  while [ "$peer" = "$client" ]; do peer=$(free_port); done
  etcd --name cdc-test --data-dir "$dir/data" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "cdc-test=http://127.0.0.1:$peer" --log-level warn --logger zap >"$dir/log" 2>&1 &
  echo $! >"$dir/pid"
  for i in $(seq 1 100); do
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || { log "etcd exited at start-up:"; tail -5 "$dir/log" >&2; return 1; }
    if curl -sf "http://127.0.0.1:$client/health" >/dev/null 2>&1; then
      sleep 0.1
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || { log "etcd exited at start-up:"; tail -5 "$dir/log" >&2; return 1; }
      ETCD_ENDPOINT="http://127.0.0.1:$client"
      return 0
    fi
    sleep 0.1
  done
  log "etcd did not answer /health within 10 s:"; tail -5 "$dir/log" >&2
  return 1
}

# kafka_mock_start DIR BROKERS [TOPIC:PARTITIONS...]: builds scripts/lib/mockd.c into DIR against librdkafka.redist's
# library (restore the solution first) and starts librdkafka's mock Kafka cluster; sets KAFKA_BOOTSTRAP from the
# address mockd prints.
kafka_mock_start() {
  local dir=$1; shift
  local root i
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  mkdir -p "$dir"
  local lib so; lib=$(rdkafka_native_dir)
  [ -f "$lib/librdkafka.so" ] || { log "no librdkafka.so in $lib: restore the solution first"; return 1; }
  # The redist's main build links libsasl2.so.3, which Debian 12 does not have (its libsasl2-2 is libsasl2.so.2);
  # Confluent.Kafka then loads the package's centos8 build, which has no such dependency: so does mockd.
  so="$lib/librdkafka.so"
  # (ldd's whole output first: `ldd | grep -q` under pipefail fails when grep stops reading early and ldd gets SIGPIPE.)
  if [[ "$(ldd "$so" 2>/dev/null || true)" == *"not found"* ]]; then so="$lib/centos8-librdkafka.so"; fi
  cp "$so" "$dir/librdkafka.so.1"  # the library's soname
  gcc -O2 -o "$dir/mockd" "$root/scripts/lib/mockd.c" "$dir/librdkafka.so.1" -Wl,-rpath,'$ORIGIN' || { log "could not build mockd"; return 1; }
  "$dir/mockd" "$@" >"$dir/bootstrap" 2>"$dir/log" &
  echo $! >"$dir/pid"
  for i in $(seq 1 100); do
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || { log "mockd exited at start-up:"; tail -5 "$dir/log" >&2; return 1; }
    if [ -s "$dir/bootstrap" ]; then KAFKA_BOOTSTRAP=$(head -1 "$dir/bootstrap"); return 0; fi
    sleep 0.05
  done
  log "mockd printed no bootstrap address within 5 s"
  return 1
}

# stop_pidfile DIR: stops the process whose id is in DIR/pid (etcd, mockd) and waits a little for it.
stop_pidfile() {
  local dir=$1 pid i
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    # Zombies (the sandbox's PID 1 does not reap) count as stopped.
    [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ] && return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

# Starts what the tests and the benchmarks run against, in the fresh directory $1: a throwaway PostgreSQL (no fsync),
# a real etcd and librdkafka's mock Kafka cluster (1 broker; topics auto-created on use), on free loopback ports, and
# exports CDC_TEST_PG, CDC_TEST_ETCD and CDC_TEST_KAFKA. A port can be taken between the check and the bind, so
# PostgreSQL and etcd are tried on other ports before giving up, with the reason shown. Stop with stop_test_servers.
start_test_servers() {
  local run=$1 attempt
  for attempt in 1 2 3; do
    PG_PORT=$(free_port)
    if PG_EXTRA_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" pg_start "$run/pg" "$PG_PORT"; then break; fi
    if [ "$attempt" = 3 ]; then log "postgres did not start:"; tail -20 "$run/pg/log" >&2; exit 1; fi
    log "postgres did not start on port $PG_PORT, trying another"
  done
  export CDC_TEST_PG="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
  for attempt in 1 2 3; do
    if etcd_start "$run/etcd.$attempt"; then ln -sfn "$run/etcd.$attempt" "$run/etcd"; break; fi
    stop_pidfile "$run/etcd.$attempt"
    [ "$attempt" = 3 ] && exit 1
    log "etcd did not start, trying other ports"
  done
  kafka_mock_start "$run/kafka" 1
  export CDC_TEST_ETCD="$ETCD_ENDPOINT" CDC_TEST_KAFKA="$KAFKA_BOOTSTRAP"
  log "postgres on 127.0.0.1:$PG_PORT, etcd on $ETCD_ENDPOINT, mock kafka on $KAFKA_BOOTSTRAP"
}

stop_test_servers() {
  pg_stop "$1/pg"
  stop_pidfile "$1/etcd"; stop_pidfile "$1/kafka"
}

# start_test_servers_until_exit NAME: makes the run directory RUN (/tmp/NAME.XXXXXX), starts the test servers in it,
# and stops them and removes it when the calling script exits (normally, on failure or on a signal), with its status.
start_test_servers_until_exit() {
  RUN=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 755 "$RUN"
  trap 'rc=$?; stop_test_servers "$RUN"; rm -rf "$RUN"; exit $rc' EXIT INT TERM
  start_test_servers "$RUN"
}
