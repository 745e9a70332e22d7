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

# free_port: a loopback port nobody listens on, from a random start.
free_port() {
  local p=$(( 20000 + RANDOM % 30000 ))
  while ! port_is_free "$p"; do p=$(( p + 1 )); done
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
