#!/usr/bin/env bash
# Starts the CDC server on 0.0.0.0:8444 with configs/cdc.yaml, on a local PostgreSQL whose data lives in
# the git-ignored .data/ folder and is reused on the next run. Ctrl-C stops the server and that PostgreSQL.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib/common.sh"

ensure_dotnet
ensure_packages postgresql-15 postgresql-client-15
ensure_packages libsasl2-2  # librdkafka.redist's library (the Kafka source reader) needs it

PG_PORT=${CDC_PG_PORT:-55432}
PG_DIR="$ROOT/.data/pg"
mkdir -p "$ROOT/.data"
# The postgres user must be able to reach its data folder; fall back to /var/lib when the checkout is private.
if ! runuser -u postgres -- test -x "$ROOT/.data" 2>/dev/null; then
  PG_DIR="/var/lib/cdc-pg/$(echo "$ROOT" | md5sum | cut -c1-12)"
  mkdir -p "$(dirname "$PG_DIR")"
fi

started_pg=0
if ( cd / && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1 ); then
  log "reusing the PostgreSQL already running from $PG_DIR"
else
  port_is_free "$PG_PORT" || { log "port $PG_PORT is taken by another program: set CDC_PG_PORT"; exit 1; }
  PG_EXTRA_OPTS="" pg_start "$PG_DIR" "$PG_PORT"
  started_pg=1
  log "postgres on 127.0.0.1:$PG_PORT (data in $PG_DIR)"
fi
stop_pg() { [ "$started_pg" = 1 ] && pg_stop "$PG_DIR"; return 0; }
trap stop_pg EXIT INT TERM
pg_create_db "$PG_PORT" cdc

cd "$ROOT"
export CDC_metaStoreConfig__postgres__connectionString="${CDC_metaStoreConfig__postgres__connectionString:-Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=cdc}"
export CDC_metaStoreConfig__secretKeyFile="${CDC_metaStoreConfig__secretKeyFile:-$ROOT/.data/secret.key}"
dotnet build src/Cdc.Api/Cdc.Api.csproj -c Release -nologo -v q 2>&1 | grep -E ' error |Build succeeded' || true
dotnet "src/Cdc.Api/bin/Release/net10.0/Cdc.Api.dll" --config "$ROOT/configs/cdc.yaml" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; stop_pg' EXIT INT TERM
wait $server
