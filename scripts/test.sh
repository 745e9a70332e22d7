#!/usr/bin/env bash
# Runs every test against real servers started here on free loopback ports, stops them again
# (even on failure) and prints a closing line "N passed, N failed".
# Extra arguments go to `dotnet test`, e.g. scripts/test.sh --filter "FullyQualifiedName~Scenarios".
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib/common.sh"

ensure_dotnet
ensure_packages postgresql-15 postgresql-client-15
# etcd for the source metadata; libsasl2-2 for librdkafka.redist's library; gcc builds the mock Kafka cluster.
ensure_packages etcd-server etcd-client libsasl2-2 gcc libc6-dev curl
# Debian's Chromium for the status page's browser tests (Playwright drives it; no browser is downloaded).
ensure_packages chromium

cd "$ROOT"
# Built first: the mock Kafka cluster is built against the restored librdkafka.redist.
dotnet build Cdc.Cqrs.sln -c Release -nologo -v q 2>&1 | grep -E 'error|Build succeeded' || true

start_test_servers_until_exit cdc-test
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
# The failed tests again, with the first lines of their messages, so the end of the output says what broke.
if [ "$failed" -gt 0 ]; then
  echo "failed tests:"
  for trx in "$RUN"/results/*.trx; do
    [ -f "$trx" ] || continue
    python3 - "$trx" <<'PY' || true
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for r in ET.parse(sys.argv[1]).getroot().iterfind(".//t:UnitTestResult", ns):
    if r.get("outcome") != "Failed":
        continue
    message = r.find(".//t:Message", ns)
    lines = (message.text or "").strip().splitlines() if message is not None else []
    print("  " + r.get("testName", "?"))
    for line in lines[:6]:
        print("      " + line[:300])
PY
  done
fi
if [ "$test_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; log "the test run failed outside any test (build or host crash)"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
