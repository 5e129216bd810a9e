#!/usr/bin/env bash
# Starts `BINARY demo` on free ports, waits for its API, runs dashboard.test.mjs against it and
# stops the demo. Usage: run_browser_test.sh BINARY [SCREENSHOT]
# (SCREENSHOT defaults to $SCREENSHOT or dashboard.png in the current directory.)
set -euo pipefail

binary=${1:?usage: run_browser_test.sh BINARY [SCREENSHOT]}
screenshot=${2:-${SCREENSHOT:-$PWD/dashboard.png}}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "run_browser_test: FAIL: $*" >&2; exit 1; }

[[ -x $binary ]] || die "binary '$binary' does not exist or is not executable"
command -v node >/dev/null || die "node is not installed"
command -v curl >/dev/null || die "curl is not installed"
[[ -x ${CHROMIUM:-/usr/bin/chromium} ]] || die "chromium not found at ${CHROMIUM:-/usr/bin/chromium}"
[[ -d $here/../../../web/node_modules/playwright-core ]] ||
  die "web/node_modules/playwright-core is missing: run 'npm ci --prefix web'"

# Ports: bind 0 and read what the kernel picked. The UDP one is for MQTT-SN.
free_port() { python3 -c "import socket,sys; s=socket.socket(socket.AF_INET, getattr(socket, sys.argv[1])); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])" "$1"; }
http_port=$(free_port SOCK_STREAM)
mqttsn_port=$(free_port SOCK_DGRAM)

work=$(mktemp -d "${TMPDIR:-/tmp}/resonance-browser-test.XXXXXX")
demo_pid=""
cleanup() {
  if [[ -n $demo_pid ]] && kill -0 "$demo_pid" 2>/dev/null; then
    kill "$demo_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$demo_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$demo_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$binary" demo --http-port "$http_port" --mqttsn-port "$mqttsn_port" --data-dir "$work/data" \
  --duration-s 120 >"$work/demo.log" 2>&1 &
demo_pid=$!

base="http://127.0.0.1:$http_port"
for i in $(seq 150); do
  if curl -fsS -o /dev/null --max-time 1 "$base/api/v1/health" 2>/dev/null; then break; fi
  if ! kill -0 "$demo_pid" 2>/dev/null; then
    cat "$work/demo.log" >&2
    die "the demo exited before its API answered (log above)"
  fi
  ((i == 150)) && { cat "$work/demo.log" >&2; die "no answer from $base/api/v1/health after 15 s"; }
  sleep 0.1
done

status=0
DASHBOARD_URL="$base/" SCREENSHOT="$screenshot" node "$here/dashboard.test.mjs" || status=$?
if ((status != 0)); then
  echo "--- demo log ---" >&2
  tail -n 50 "$work/demo.log" >&2
  die "dashboard test failed (exit $status)"
fi
kill -0 "$demo_pid" 2>/dev/null || die "the demo died during the test"
echo "run_browser_test: ok, screenshot $screenshot"
