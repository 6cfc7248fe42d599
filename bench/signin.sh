#!/usr/bin/env bash
# Sign-in memory benchmark, on loopback. For each concurrency level in $LEVELS (default 64 256)
# it starts a fresh server (new SQLite data directory, 127.0.0.1:$PORT), creates one ordinary
# user (not the admin), measures
#   1. GET /healthz for $BASELINE_DURATION at that concurrency (the baseline of this run),
#   2. $SIGNINS POST /login with that user's correct password at that concurrency,
# samples the server's VmRSS every 100 ms during the sign-ins, waits $IDLE seconds, and prints
# peak RSS (VmHWM, the kernel's high-water mark), RSS after idling, answers/s, successful
# sign-ins/s, the sign-in to /healthz throughput ratio, and how many sign-ins were shed with 503.
# Target: peak RSS <= 150 MB at every level; sign-ins/s not lower than before.
#
#   bench/signin.sh                       # builds the release binaries of this checkout
#   USHER_BIN=/path/to/old/usher bench/signin.sh   # measures another server binary (the
#                                         # load generator is still this checkout's)
#   SKIP_BUILD=1 USHER_BENCH=... USHER_BIN=... bench/signin.sh   # prebuilt binaries
# Extra server settings can be passed as GF_ variables in the environment. STRICT=1 makes a
# missed RSS target exit non-zero. The server is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-3700}
LEVELS=${LEVELS:-64 256}
SIGNINS=${SIGNINS:-1000}
IDLE=${IDLE:-5}
BASELINE_DURATION=${BASELINE_DURATION:-5s}
TARGET_MB=150
BASE="http://127.0.0.1:$PORT"
USER_LOGIN=signin-bench
USER_PASSWORD=signin-bench-Pa55word

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release --bins
fi
BENCH="${USHER_BENCH:-target/release/usher-bench}"
SERVER="${USHER_BIN:-target/release/usher}"

DATA=""
SERVER_PID=""
SAMPLER_PID=""
stop_server() {
    if [[ -n "$SAMPLER_PID" ]]; then
        kill "$SAMPLER_PID" 2>/dev/null || true
        wait "$SAMPLER_PID" 2>/dev/null || true
        SAMPLER_PID=""
    fi
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}
cleanup() {
    stop_server
    if [[ -n "$DATA" ]]; then rm -rf "$DATA"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() {
    DATA=$(mktemp -d "${TMPDIR:-/tmp}/usher-signin.XXXXXX")
    GF_PATHS_DATA="$DATA" GF_SERVER_HTTP_ADDR=127.0.0.1 GF_SERVER_HTTP_PORT="$PORT" \
        GF_LOG_LEVEL=warn "$SERVER" >>"$DATA/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        if curl -fs -o /dev/null --max-time 1 "$BASE/api/health"; then
            return 0
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            break
        fi
        sleep 0.2
    done
    echo "usher did not become healthy on $BASE; server log:" >&2
    cat "$DATA/server.log" >&2
    exit 1
}

# status_kb FIELD: the server's VmRSS or VmHWM in kB.
status_kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$SERVER_PID/status"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
field() { sed -n "s/.*\"$2\":\([0-9.eE+-]*\).*/\1/p" <<<"$1"; }

if curl -s -o /dev/null --max-time 1 "$BASE/healthz"; then
    echo "something is already listening on $BASE; set PORT to a free port" >&2
    exit 1
fi

results=()
missed=0
for c in $LEVELS; do
    echo "== concurrency $c: fresh server ($SERVER)"
    start_server
    curl -fsS -o /dev/null -u admin:admin -H 'Content-Type: application/json' \
        -d "{\"name\":\"Sign-in bench\",\"login\":\"$USER_LOGIN\",\"password\":\"$USER_PASSWORD\"}" \
        "$BASE/api/admin/users"
    # The admin's basic-auth request above hashed once; start the sign-ins from what is resident.
    start_kb=$(status_kb VmRSS)
    baseline=$("$BENCH" --url "$BASE" --path /healthz --concurrency "$c" \
        --duration "$BASELINE_DURATION" --json)
    samples="$DATA/rss.samples"
    (while kill -0 "$SERVER_PID" 2>/dev/null; do
        status_kb VmRSS >>"$samples" || true
        sleep 0.1
    done) &
    SAMPLER_PID=$!
    signins=$("$BENCH" --url "$BASE" --path /login --method POST --concurrency "$c" \
        --requests "$SIGNINS" --json \
        --body "{\"user\":\"$USER_LOGIN\",\"password\":\"$USER_PASSWORD\"}")
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=""
    sampled_kb=$(sort -n "$samples" | tail -1)
    hwm_kb=$(status_kb VmHWM)
    sleep "$IDLE"
    idle_kb=$(status_kb VmRSS)
    stop_server
    rm -rf "$DATA"
    DATA=""

    rps=$(field "$signins" rps)
    ok_rps=$(awk -v n="$SIGNINS" -v bad="$(field "$signins" non_2xx)" \
        -v s="$(field "$signins" duration_s)" 'BEGIN { if (s > 0) printf "%.1f", (n - bad) / s; else print 0 }')
    base_rps=$(field "$baseline" rps)
    ratio=$(awk -v a="$ok_rps" -v b="$base_rps" 'BEGIN { if (b > 0) printf "%.5f", a / b; else print 0 }')
    ok=$(awk -v k="$hwm_kb" -v t="$TARGET_MB" 'BEGIN { print (k / 1024 <= t) ? "ok" : "MISSED" }')
    if [[ "$ok" != ok ]]; then missed=1; fi
    results+=("$(printf '%6s %10s %10s %10s %10s %10s %10s %10s %8s %8s %7s %s' "$c" \
        "$(mb "$start_kb")" "$(mb "$hwm_kb")" "$(mb "$sampled_kb")" "$(mb "$idle_kb")" "$rps" \
        "$ok_rps" "$base_rps" "$ratio" \
        "$(field "$signins" status_503)" "$(field "$signins" errors)" "$ok")")
    other=$(($(field "$signins" non_2xx) - $(field "$signins" status_503)))
    if [[ "$other" -ne 0 ]]; then
        echo "$other sign-ins failed with a status other than 503" >&2
        missed=1
    fi
done

echo
echo "$SIGNINS sign-ins (POST /login, correct password of an ordinary user) per level; RSS in MB"
printf '%6s %10s %10s %10s %10s %10s %10s %10s %8s %8s %7s %s\n' conc start_rss peak_hwm \
    peak_sampled idle_rss answers/s signins/s healthz/s ratio 503s errors "peak<=${TARGET_MB}MB"
printf '%s\n' "${results[@]}"
if [[ "${STRICT:-0}" == 1 && $missed -ne 0 ]]; then
    exit 1
fi
