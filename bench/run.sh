#!/usr/bin/env bash
# Benchmarks usher on loopback in one run: builds release, starts the server on a temporary data
# directory (127.0.0.1:$PORT), seeds $USERS users, then measures
#   1. GET /healthz                                   (no auth, no DB: the baseline)
#   2. GET /api/user                                  (basic auth admin:admin)
#   3. GET /api/users/search?query=user0123&perpage=10 (basic auth, over the seeded users)
#   4. GET /api/user                                  (session cookie from POST /login)
#   5. POST /login                                    (admin:admin; bounded by the password hash)
#   6. GET /api/org/users/search?query=user0123&perpage=10 (basic auth, the org of all seeded users)
#   7. GET /api/teams/search?query=team0123&perpage=10    (basic auth, over $TEAMS teams)
#   8. GET /api/teams/1/members?perpage=100               (basic auth, a team of 1,000 members)
#   9. GET /api/user                                  (service-account token, Bearer)
#  10. GET /api/user                                  (the same token with the token row read on
#      every request, [auth] api_key_cache_revalidate_interval = 0: what PostgreSQL/MySQL do)
#  11. GET /api/users/search?perpage=50&page=1        (session cookie: what the users page asks)
#  12. GET /admin/users                               (session cookie: the web interface's users
#      page, first of 2,000 pages, rendered)
#  13. GET /admin/users?query=user0123                (the page, searching)
#  14. GET /admin/users?page=1000&sort=login-desc     (the page, deep in the list, sorted)
#  15. GET /org/users?query=user0123                  (the org users page, searching)
# each for $DURATION at $CONCURRENCY after a $WARMUP warm-up, and prints a table plus the
# basic-auth/baseline, session/baseline and token/baseline throughput ratios. Targets: basic
# ratio >= 0.4, session ratio >= 0.5, token ratio >= 0.4, every search and listing p99 <= 50 ms;
# every web page p99 <= 50 ms (the web interface's target), and the users page's throughput
# as a ratio to the API search it is drawn from (11); POST /login and the uncached token row are
# reported only.
# STRICT=1 makes a missed target exit non-zero. The server is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-3999}
USERS=${USERS:-100000}
TEAMS=${TEAMS:-10000}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONCURRENCY=${CONCURRENCY:-32}
BASE="http://127.0.0.1:$PORT"
SEARCH_PATH="/api/users/search?query=user0123&perpage=10"

cargo build --release --bins
BIN="${CARGO_TARGET_DIR:-target}/release"

DATA=$(mktemp -d "${TMPDIR:-/tmp}/usher-bench.XXXXXX")
SERVER_PID=""
stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}
cleanup() {
    stop_server
    rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() {
    env "$@" GF_PATHS_DATA="$DATA" GF_SERVER_HTTP_ADDR=127.0.0.1 GF_SERVER_HTTP_PORT="$PORT" \
        GF_LOG_LEVEL=warn "$BIN/usher" >>"$DATA/server.log" 2>&1 &
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

if curl -s -o /dev/null --max-time 1 "$BASE/healthz"; then
    echo "something is already listening on $BASE; set PORT to a free port" >&2
    exit 1
fi

echo "== creating the schema, then seeding $USERS users"
start_server
stop_server
"$BIN/usher-bench" --seed-db "$DATA/grafana.db" --users "$USERS" --teams "$TEAMS"
start_server

found=$(curl -fsS -u admin:admin "$BASE$SEARCH_PATH" | sed -n 's/.*"totalCount":\([0-9]*\).*/\1/p')
echo "search sanity check: totalCount=${found:-?} for $SEARCH_PATH"
if [[ -z "$found" || "$found" -eq 0 ]]; then
    echo "the search found no seeded users" >&2
    exit 1
fi

# run NAME PATH [--basic CREDS]: prints the JSON summary line of one measurement.
run() {
    local path=$1
    shift
    "$BIN/usher-bench" --url "$BASE" --path "$path" --concurrency "$CONCURRENCY" \
        --warmup "$WARMUP" --duration "$DURATION" --json "$@"
}
field() { sed -n "s/.*\"$2\":\([0-9.eE+-]*\).*/\1/p" <<<"$1"; }

echo "== measuring ($CONCURRENCY connections, $WARMUP warm-up, $DURATION each)"
baseline=$(run /healthz)
basic=$(run /api/user --basic admin:admin)
search=$(run "$SEARCH_PATH" --basic admin:admin)
LOGIN_BODY='{"user":"admin","password":"admin"}'
token=$(curl -fsS -o /dev/null -D - -H 'Content-Type: application/json' -d "$LOGIN_BODY" \
    "$BASE/login" | sed -n 's/^[Ss]et-[Cc]ookie: grafana_session=\([0-9a-f]*\);.*/\1/p' | head -1)
if [[ -z "$token" ]]; then
    echo "POST /login gave no session cookie" >&2
    exit 1
fi
session=$(run /api/user --cookie "grafana_session=$token")
login=$(run /login --method POST --body "$LOGIN_BODY")
org_search=$(run "/api/org/users/search?query=user0123&perpage=10" --basic admin:admin)
team_search=$(run "/api/teams/search?query=team0123&perpage=10" --basic admin:admin)
team_members=$(run "/api/teams/1/members?perpage=100" --basic admin:admin)
cookie="grafana_session=$token"
page_api=$(run "/api/users/search?perpage=50&page=1" --cookie "$cookie")
page_users=$(run /admin/users --cookie "$cookie")
page_search=$(run "/admin/users?query=user0123" --cookie "$cookie")
page_deep=$(run "/admin/users?page=1000&sort=login-desc" --cookie "$cookie")
page_org_users=$(run "/org/users?query=user0123" --cookie "$cookie")
sa_id=$(curl -fsS -u admin:admin -H 'Content-Type: application/json' \
    -d '{"name":"bench","role":"Viewer"}' "$BASE/api/serviceaccounts" |
    sed -n 's/^{"id":\([0-9]*\),.*/\1/p')
sa_token=$(curl -fsS -u admin:admin -H 'Content-Type: application/json' \
    -d '{"name":"bench"}' "$BASE/api/serviceaccounts/$sa_id/tokens" |
    sed -n 's/.*"key":"\(glsa_[A-Za-z0-9_]*\)".*/\1/p')
if [[ -z "$sa_token" ]]; then
    echo "could not create a service-account token" >&2
    exit 1
fi
bearer=$(run /api/user --bearer "$sa_token")
stop_server
start_server GF_AUTH_API_KEY_CACHE_REVALIDATE_INTERVAL=0
bearer_uncached=$(run /api/user --bearer "$sa_token")

echo
printf '%-48s %10s %9s %9s %9s %7s %7s\n' endpoint req/s mean_ms p50_ms p99_ms non2xx errors
for pair in "GET /healthz|$baseline" "GET /api/user (basic auth)|$basic" \
    "GET /api/users/search (basic auth)|$search" "GET /api/user (session cookie)|$session" \
    "POST /login|$login" "GET /api/org/users/search (basic auth)|$org_search" \
    "GET /api/teams/search (basic auth)|$team_search" \
    "GET /api/teams/1/members?perpage=100 (1,000)|$team_members" \
    "GET /api/user (service-account token)|$bearer" \
    "GET /api/user (token, row read each request)|$bearer_uncached" \
    "GET /api/users/search?perpage=50 (session)|$page_api" \
    "GET /admin/users (page)|$page_users" \
    "GET /admin/users?query=user0123 (page)|$page_search" \
    "GET /admin/users?page=1000&sort=login-desc|$page_deep" \
    "GET /org/users?query=user0123 (page)|$page_org_users"; do
    name=${pair%%|*}
    json=${pair#*|}
    printf '%-48s %10s %9s %9s %9s %7s %7s\n' "$name" "$(field "$json" rps)" \
        "$(field "$json" mean_ms)" "$(field "$json" p50_ms)" "$(field "$json" p99_ms)" \
        "$(field "$json" non_2xx)" "$(field "$json" errors)"
done

ratio=$(awk -v a="$(field "$basic" rps)" -v b="$(field "$baseline" rps)" \
    'BEGIN { if (b > 0) printf "%.3f", a / b; else print "0" }')
session_ratio=$(awk -v a="$(field "$session" rps)" -v b="$(field "$baseline" rps)" \
    'BEGIN { if (b > 0) printf "%.3f", a / b; else print "0" }')
bearer_ratio=$(awk -v a="$(field "$bearer" rps)" -v b="$(field "$baseline" rps)" \
    'BEGIN { if (b > 0) printf "%.3f", a / b; else print "0" }')
bearer_uncached_ratio=$(awk -v a="$(field "$bearer_uncached" rps)" -v b="$(field "$baseline" rps)" \
    'BEGIN { if (b > 0) printf "%.3f", a / b; else print "0" }')
bearer_ok=$(awk -v r="$bearer_ratio" 'BEGIN { print (r >= 0.4) ? "ok" : "MISSED" }')
search_p99=$(field "$search" p99_ms)
ratio_ok=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.4) ? "ok" : "MISSED" }')
session_ok=$(awk -v r="$session_ratio" 'BEGIN { print (r >= 0.5) ? "ok" : "MISSED" }')
p99_ok=ok
for json in "$search" "$org_search" "$team_search" "$team_members"; do
    if ! awk -v p="$(field "$json" p99_ms)" 'BEGIN { exit !(p <= 50) }'; then
        p99_ok=MISSED
    fi
done
echo
echo "basic-auth rps / baseline rps = $ratio (target >= 0.4: $ratio_ok)"
echo "session-cookie rps / baseline rps = $session_ratio (target >= 0.5: $session_ok)"
echo "p99: user search ${search_p99} ms, org user search $(field "$org_search" p99_ms) ms," \
    "team search $(field "$team_search" p99_ms) ms, team members $(field "$team_members" p99_ms) ms" \
    "(target <= 50 ms each: $p99_ok)"
echo "service-account token rps / baseline rps = $bearer_ratio (target >= 0.4: $bearer_ok);" \
    "with the token row read on every request: $bearer_uncached_ratio"
echo "POST /login: $(field "$login" rps) logins/s (each one password hash)"
page_ratio=$(awk -v a="$(field "$page_users" rps)" -v b="$(field "$page_api" rps)" \
    'BEGIN { if (b > 0) printf "%.3f", a / b; else print "0" }')
pages_ok=ok
for json in "$page_users" "$page_search" "$page_deep" "$page_org_users"; do
    if ! awk -v p="$(field "$json" p99_ms)" 'BEGIN { exit !(p <= 50) }'; then
        pages_ok=MISSED
    fi
done
echo "web pages p99: users $(field "$page_users" p99_ms) ms, users search" \
    "$(field "$page_search" p99_ms) ms, users page 1000 $(field "$page_deep" p99_ms) ms," \
    "org users search $(field "$page_org_users" p99_ms) ms (target <= 50 ms each: $pages_ok);" \
    "users page rps / its API search rps = $page_ratio"

bad=0
for json in "$baseline" "$basic" "$search" "$session" "$login" "$org_search" "$team_search" \
    "$team_members" "$bearer" "$bearer_uncached" "$page_api" "$page_users" "$page_search" \
    "$page_deep" "$page_org_users"; do
    if [[ "$(field "$json" non_2xx)" != 0 || "$(field "$json" errors)" != 0 ]]; then
        bad=1
    fi
done
if [[ $bad -ne 0 ]]; then
    echo "some requests failed (non-2xx or transport errors)" >&2
    exit 1
fi
if [[ "${STRICT:-0}" == 1 && ("$ratio_ok" != ok || "$session_ok" != ok || "$bearer_ok" != ok ||
    "$p99_ok" != ok || "$pages_ok" != ok) ]]; then
    exit 1
fi
