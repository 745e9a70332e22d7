#!/usr/bin/env bash
# Runs every test against real servers started here on free loopback ports, stops them again
# (even on failure) and prints a closing line "N passed, N failed".
# Extra arguments go to `dotnet test`, e.g. scripts/test.sh --filter "FullyQualifiedName~Scenarios".
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib/common.sh"

ensure_dotnet
ensure_packages postgresql-15 postgresql-client-15
ensure_packages etcd-server etcd-client librdkafka1 librdkafka-dev gcc libc6-dev curl  # source transports
ensure_local_feed

RUN=$(mktemp -d /tmp/cdc-test.XXXXXX)
chmod 755 "$RUN"
cleanup() {
  local rc=$?
  pg_stop "$RUN/pg"
  stop_pidfile "$RUN/etcd"; stop_pidfile "$RUN/kafka"
  rm -rf "$RUN"
  exit $rc
}
trap cleanup EXIT INT TERM

# A port can be taken between the check and the bind: try another one before giving up, and show why.
for attempt in 1 2 3; do
  PG_PORT=$(free_port)
  if PG_EXTRA_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" pg_start "$RUN/pg" "$PG_PORT"; then break; fi
  if [ "$attempt" = 3 ]; then log "postgres did not start:"; tail -20 "$RUN/pg/log" >&2; exit 1; fi
  log "postgres did not start on port $PG_PORT, trying another"
done
log "postgres on 127.0.0.1:$PG_PORT"
export CDC_TEST_PG="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"

# Source transports: a real etcd and librdkafka's mock Kafka cluster (1 broker; topics auto-created on use).
for attempt in 1 2 3; do
  if etcd_start "$RUN/etcd.$attempt"; then ln -sfn "$RUN/etcd.$attempt" "$RUN/etcd"; break; fi
  stop_pidfile "$RUN/etcd.$attempt"
  [ "$attempt" = 3 ] && exit 1
  log "etcd did not start, trying other ports"
done
kafka_mock_start "$RUN/kafka" 1
log "etcd on $ETCD_ENDPOINT, mock kafka on $KAFKA_BOOTSTRAP"
export CDC_TEST_ETCD="$ETCD_ENDPOINT" CDC_TEST_KAFKA="$KAFKA_BOOTSTRAP"

cd "$ROOT"
dotnet build Cdc.Cqrs.sln -c Release -nologo -v q 2>&1 | grep -E 'error|Build succeeded' || true
set +e
dotnet test Cdc.Cqrs.sln -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$RUN/results" "$@" 2>&1 \
  | grep -vE '^\s*$'
test_rc=${PIPESTATUS[0]}
set -e

passed=0; failed=0
for trx in "$RUN"/results/*.trx; do
  [ -f "$trx" ] || continue
  c=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$c"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$c")
  passed=$(( passed + ${p:-0} )); failed=$(( failed + ${f:-0} ))
done
if [ "$test_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; log "the test run failed outside any test (build or host crash)"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
