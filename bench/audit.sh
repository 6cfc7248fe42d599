#!/usr/bin/env bash
# What the audit log costs (issue 16's target: at most 15% of a state-changing route's
# throughput, nothing on read-only routes). In one run, on fresh SQLite databases, alternating
# two servers that differ only in `[audit] enabled`:
#   POST /api/admin/users   (a new user per request: one password hash, one audit record)
#   PUT  /api/users/2       (a new name per request: no hash, so the record's share shows)
#   GET  /api/user          (read-only: no record)
# ROUNDS rounds of each, $DURATION per measurement after a $WARMUP warm-up, $CONCURRENCY
# connections; prints req/s per round and the audited/unaudited throughput ratios of the sums.
# STRICT=1 fails when the write ratio is below 0.85.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-3998}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-1s}
CONCURRENCY=${CONCURRENCY:-16}
ROUNDS=${ROUNDS:-2}
BASE="http://127.0.0.1:$PORT"

cargo build --release --bins
BIN="${CARGO_TARGET_DIR:-target}/release"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/usher-audit-bench.XXXXXX")
SERVER_PID=""
stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}
trap 'stop_server; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

start_server() { # ENABLED DATA_DIR
    mkdir -p "$2"
    GF_AUDIT_ENABLED="$1" GF_PATHS_DATA="$2" GF_SERVER_HTTP_ADDR=127.0.0.1 \
        GF_SERVER_HTTP_PORT="$PORT" GF_LOG_LEVEL=warn "$BIN/usher" >>"$2/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        if curl -fs -o /dev/null --max-time 1 "$BASE/api/health"; then return 0; fi
        sleep 0.2
    done
    echo "usher did not start; log:" >&2
    cat "$2/server.log" >&2
    exit 1
}

field() { sed -n "s/.*\"$2\":\([0-9.eE+-]*\).*/\1/p" <<<"$1"; }
load() { # PATH METHOD BODY -> the JSON summary; a non-2xx answer stops the run
    local out
    out=$("$BIN/usher-bench" --url "$BASE" --path "$1" --method "$2" ${3:+--body "$3"} \
        --basic admin:admin --concurrency "$CONCURRENCY" --warmup "$WARMUP" --duration "$DURATION" --json)
    if [[ "$(field "$out" non_2xx)" != "0" ]]; then
        echo "$2 $1 answered non-2xx: $out" >&2
        exit 1
    fi
    echo "$out"
}
measure() { # PREFIX -> "create_rps update_rps read_rps"
    local c u r
    c=$(load /api/admin/users POST \
        "{\"login\":\"$1-{n}\",\"email\":\"$1-{n}@example.com\",\"password\":\"bench-password-1\"}")
    u=$(load /api/users/2 PUT \
        "{\"name\":\"$1 name {n}\",\"login\":\"target\",\"email\":\"target@example.com\"}")
    r=$(load /api/user GET "")
    echo "$(field "$c" rps) $(field "$u" rps) $(field "$r" rps)"
}

on_w=0 on_u=0 on_r=0 off_w=0 off_u=0 off_r=0
printf '%-7s %-10s %14s %14s %14s\n' round audit "POST req/s" "PUT req/s" "GET req/s"
for round in $(seq 1 "$ROUNDS"); do
    for enabled in true false; do
        start_server "$enabled" "$WORK/$enabled-$round"
        curl -fsS -o /dev/null -u admin:admin -H 'Content-Type: application/json' \
            -d '{"login":"target","email":"target@example.com","password":"bench-password-1"}' \
            "$BASE/api/admin/users"
        read -r w u r < <(measure "r$round-$enabled")
        stop_server
        printf '%-7s %-10s %14s %14s %14s\n' "$round" "$enabled" "$w" "$u" "$r"
        add() { awk -v a="$1" -v b="$2" 'BEGIN{print a+b}'; }
        if [[ "$enabled" == true ]]; then
            on_w=$(add "$on_w" "$w") on_u=$(add "$on_u" "$u") on_r=$(add "$on_r" "$r")
        else
            off_w=$(add "$off_w" "$w") off_u=$(add "$off_u" "$u") off_r=$(add "$off_r" "$r")
        fi
    done
done
write_ratio=$(awk -v a="$on_w" -v b="$off_w" 'BEGIN{printf "%.3f", a/b}')
update_ratio=$(awk -v a="$on_u" -v b="$off_u" 'BEGIN{printf "%.3f", a/b}')
read_ratio=$(awk -v a="$on_r" -v b="$off_r" 'BEGIN{printf "%.3f", a/b}')
ok=$(awk -v r="$write_ratio" 'BEGIN{print (r >= 0.85) ? "ok" : "MISSED"}')
echo
echo "POST /api/admin/users with audit / without = $write_ratio (target >= 0.85: $ok)"
echo "PUT /api/users/2 with audit / without = $update_ratio (the record's share without a hash)"
echo "GET /api/user with audit / without = $read_ratio (no record is written on a read)"
if [[ "${STRICT:-0}" == 1 && "$ok" != ok ]]; then exit 1; fi
