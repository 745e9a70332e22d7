#!/usr/bin/env bash
# Runs the benchmarks of bench/Cdc.Bench (default: all of them), each in a process of its own, against real servers
# started here on free loopback ports (PostgreSQL, etcd, librdkafka's mock Kafka), and stops those servers again
# (even on failure). Results go to bench/results/<name>.md. Example: scripts/bench.sh throughput lag
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib/common.sh"

ensure_dotnet
ensure_packages postgresql-15 postgresql-client-15
ensure_packages etcd-server etcd-client libsasl2-2 gcc libc6-dev curl

NAMES=("$@")
[ ${#NAMES[@]} -gt 0 ] || NAMES=(decode throughput lag api write-floor memory server-memory upsert drain pulsar-throughput)
[ "${NAMES[*]}" != all ] || NAMES=(decode throughput lag api write-floor memory server-memory upsert drain pulsar-throughput)

cd "$ROOT"
if ! out=$(dotnet build bench/Cdc.Bench/Cdc.Bench.csproj -c Release -nologo -v q 2>&1); then
  printf '%s\n' "$out" | grep -E 'error' >&2 || printf '%s\n' "$out" >&2
  log "bench/Cdc.Bench did not build"; exit 1
fi
start_test_servers_until_exit cdc-bench
DLL=$(ls bench/Cdc.Bench/bin/Release/*/Cdc.Bench.dll | head -1)
# The server runs with server GC (the Web SDK's default, in Cdc.Api.runtimeconfig.json): so do the benchmarks of the
# pipeline and the API; decode stays a single-threaded micro-benchmark on workstation GC.
for name in "${NAMES[@]}"; do
  log "benchmark $name (load average $(cut -d' ' -f1 /proc/loadavg))"
  if [ "$name" = decode ]; then dotnet "$DLL" "$name"; else DOTNET_gcServer=1 dotnet "$DLL" "$name"; fi
done
