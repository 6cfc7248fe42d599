#!/usr/bin/env bash
# Compatibility smoke test against the real `grafana-client` PyPI package.
# Builds the debug binary, starts it on 127.0.0.1:$PORT with a temporary data directory, waits
# for /api/health, runs smoke.py in a virtualenv (.venv-compat, reused between runs), and kills
# the server on exit. The last line is `N passed, M failed`; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${COMPAT_PORT:-3998}
BASE="http://127.0.0.1:$PORT"
VENV=${COMPAT_VENV:-.venv-compat}
PYTHON=${PYTHON:-python3}

cargo build --bin usher
BIN="${CARGO_TARGET_DIR:-target}/debug/usher"

if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import grafana_client' 2>/dev/null; then
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "grafana-client==${GRAFANA_CLIENT_VERSION:-5.1.4}"
fi

DATA=$(mktemp -d "${TMPDIR:-/tmp}/usher-compat.XXXXXX")
SERVER_PID=""
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if curl -s -o /dev/null --max-time 1 "$BASE/api/health"; then
    echo "something is already listening on $BASE; set COMPAT_PORT to a free port" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

GF_PATHS_DATA="$DATA" GF_SERVER_HTTP_ADDR=127.0.0.1 GF_SERVER_HTTP_PORT="$PORT" \
    GF_LOG_LEVEL=warn "$BIN" >"$DATA/server.log" 2>&1 &
SERVER_PID=$!
healthy=0
for _ in $(seq 1 150); do
    if curl -fs -o /dev/null --max-time 1 "$BASE/api/health"; then
        healthy=1
        break
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.2
done
if [[ $healthy -ne 1 ]]; then
    echo "usher did not become healthy on $BASE; server log:" >&2
    cat "$DATA/server.log" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

status=0
USHER_URL="http://admin:admin@127.0.0.1:$PORT" "$VENV/bin/python" tests/compat/smoke.py \
    >"$DATA/smoke.out" 2>&1 || status=$?
if [[ $status -ne 0 ]]; then
    echo "--- server log (last 50 lines)" >&2
    tail -n 50 "$DATA/server.log" >&2
fi
# The summary line stays the last line of output.
cat "$DATA/smoke.out"
exit "$status"
