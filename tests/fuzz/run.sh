#!/usr/bin/env bash
# Schema-driven fuzz run: `schemathesis` (PyPI) reads the served OpenAPI document and sends
# generated requests to every operation, with every check (`--checks all`): no 5xx, statuses and
# response bodies as documented, bad input refused, good input accepted, auth not ignored.
#
# Builds the debug binary, starts it on 127.0.0.1:$FUZZ_PORT with a temporary data directory and
# brute-force protection off (the `ignored_auth` check and `POST /login` send wrong credentials on
# purpose; with the lockout on they would lock the fuzzer's own admin out), runs schemathesis from
# a virtualenv (.venv-fuzz, reused between runs) as admin:admin with a fixed seed and a bounded
# number of examples per operation, and kills the server on exit. Exits non-zero on any failure.
#
# Destructive operations: the run signs in as the server admin (id 1) with basic auth, so nothing
# it does may take that away. tests/fuzz/hooks.py keeps the run from locking itself out without
# excluding any operation: generated user ids of 1 are moved to another user on the routes that
# change or delete a user, membership or role, and `PUT /api/user` keeps the login `admin`.
# Everything else (sessions, /logout, tokens, other users) is fuzzed as generated: basic auth
# does not depend on sessions, and the last server admin cannot be deleted, disabled or demoted.
# The hooks also drop one kind of false report (a "schema-violating" query value that serialised
# to nothing), and tests/fuzz/schemathesis.toml names the operations whose server-side rules JSON
# Schema cannot state (old password, IANA timezones, names taken…), where 400 is a right answer
# to a schema-valid request. Strings with NUL bytes are generated: they must be refused, not 500.
#
# One check is left out: `unsupported_method` wants 405 for a method a path does not serve, but
# Grafana's router has no 405 (pkg/web/router.go `Router.ServeHTTP` falls through to its
# not-found handler) and Usher answers 404 {"message":"Not found"} as Grafana does
# (tests/api/errors.rs).
#
# Environment: FUZZ_PORT (default 3780), FUZZ_MAX_EXAMPLES (20), FUZZ_SEED (1), FUZZ_MAX_TIME
# (seconds, default 300), FUZZ_VENV (.venv-fuzz), SCHEMATHESIS_VERSION (4.32.5).
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${FUZZ_PORT:-3780}
BASE="http://127.0.0.1:$PORT"
VENV=${FUZZ_VENV:-.venv-fuzz}
PYTHON=${PYTHON:-python3}
VERSION=${SCHEMATHESIS_VERSION:-4.32.5}

cargo build --bin usher
BIN="${CARGO_TARGET_DIR:-target}/debug/usher"

if [[ ! -x "$VENV/bin/schemathesis" ]] || [[ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" != *"$VERSION"* ]]; then
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi

DATA=$(mktemp -d "${TMPDIR:-/tmp}/usher-fuzz.XXXXXX")
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
    echo "something is already listening on $BASE; set FUZZ_PORT to a free port" >&2
    exit 1
fi

GF_PATHS_DATA="$DATA" GF_SERVER_HTTP_ADDR=127.0.0.1 GF_SERVER_HTTP_PORT="$PORT" \
    GF_SECURITY_DISABLE_BRUTE_FORCE_LOGIN_PROTECTION=true \
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
    exit 1
fi

# A second user, so that routes taking a user id have someone other than the admin to act on.
curl -fs -o /dev/null -u admin:admin -H 'Content-Type: application/json' \
    -d '{"login":"fuzz-target","password":"fuzz-target-pw","email":"fuzz@example.com"}' \
    "$BASE/api/admin/users"

status=0
start=$(date +%s)
SCHEMATHESIS_HOOKS=hooks PYTHONPATH=tests/fuzz "$VENV/bin/schemathesis" --config-file tests/fuzz/schemathesis.toml run "$BASE/api/openapi.json" \
    --url "$BASE" \
    --auth admin:admin \
    --checks all \
    --exclude-checks unsupported_method \
    --phases examples,coverage,fuzzing \
    --max-examples "${FUZZ_MAX_EXAMPLES:-20}" \
    --seed "${FUZZ_SEED:-1}" \
    --generation-deterministic \
    --max-time "${FUZZ_MAX_TIME:-300}" \
    --request-timeout 10 \
    --max-redirects 0 \
    --workers 1 \
    --no-color \
    --report junit --report-dir "$DATA/report" \
    "$@" || status=$?
echo "fuzz run took $(($(date +%s) - start)) s"
if [[ $status -ne 0 ]]; then
    echo "--- server log (last 50 lines)" >&2
    tail -n 50 "$DATA/server.log" >&2
fi
exit "$status"
