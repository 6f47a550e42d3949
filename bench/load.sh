#!/usr/bin/env bash
# Load benchmark of `capmatch serve` (release build), beside a bare actix-web endpoint.
#
# Starts `capmatch serve` on a free loopback port with a temporary data directory and the
# gateway's rate limit off, and `bare-endpoint` (tests/bin/bare_endpoint.rs) serving the same
# need body; then measures with wrk, one after the other on the same machine:
#   - GET /need on the bare endpoint (the yardstick),
#   - GET /v1/needs/{id} through the gateway (gateway -> needs, called in-process),
#   - GET /v1/needs/{id}/matches through the gateway (gateway -> matcher), as the owning state,
#   - POST /v1/needs through the gateway (durable; every request creates a need),
# each as requests/s and p50/p99 latency, with the ratios to the bare endpoint; the time from a
# need's 201 to its suggestions being readable (latency-probe, tests/bin/latency_probe.rs); and the
# capmatch process's resident memory before and after the load. With LOAD_SOAK_SECONDS > 0 it then
# keeps a read load on the gateway that long and samples the memory every LOAD_SOAK_INTERVAL s.
#
# Targets (reported, never asserted): gateway GET >= 0.5x bare req/s; suggestions readable within
# 100 ms p99 of the 201; memory flat over a 5-minute soak.
#
# Settings (environment):
#   LOAD_SECONDS=10        duration of each wrk run
#   LOAD_THREADS=2         wrk threads
#   LOAD_CONNECTIONS=32    wrk connections
#   LOAD_SEED=30           needs and offers posted before the load
#   LOAD_PROBES=100        needs timed from 201 to readable suggestions
#   LOAD_SOAK_SECONDS=0    soak duration (e.g. 300); 0 skips the soak
#   LOAD_SOAK_INTERVAL=30  seconds between memory samples during the soak
#
# Traffic goes to 127.0.0.1 only; everything started here is stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOAD_SECONDS=${LOAD_SECONDS:-10}
LOAD_THREADS=${LOAD_THREADS:-2}
LOAD_CONNECTIONS=${LOAD_CONNECTIONS:-32}
LOAD_SEED=${LOAD_SEED:-30}
LOAD_PROBES=${LOAD_PROBES:-100}
LOAD_SOAK_SECONDS=${LOAD_SOAK_SECONDS:-0}
LOAD_SOAK_INTERVAL=${LOAD_SOAK_INTERVAL:-30}

say() { printf '==> %s\n' "$*" >&2; }
die() {
    printf 'load.sh: %s\n' "$*" >&2
    exit 1
}

# --- wrk ----------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
    say "installing wrk"
    SUDO=""
    if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=sudo; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y wrk >/dev/null ||
        { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y wrk >/dev/null; } ||
        die "could not install wrk (apt-get install -y wrk)"
fi
command -v curl >/dev/null 2>&1 || die "curl is required"

# --- build --------------------------------------------------------------------------------------
say "building capmatch and the benchmark helpers (release)"
(cd "$ROOT" && cargo build --release -p capmatch -p capmatch-tests --bins)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
[ -x "$BIN/capmatch" ] || die "$BIN/capmatch is missing"

# --- start --------------------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/capmatch-load.XXXXXX")
DATA="$WORK/data"
CAPMATCH_PID=""
BARE_PID=""
SOAK_PID=""
cleanup() {
    local status=$?
    for pid in $SOAK_PID $BARE_PID; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "$CAPMATCH_PID" ] && kill -TERM "$CAPMATCH_PID" 2>/dev/null; then
        # A graceful stop flushes the stores; after 30 s it is killed.
        for _ in $(seq 300); do
            kill -0 "$CAPMATCH_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$CAPMATCH_PID" 2>/dev/null || true
        wait "$CAPMATCH_PID" 2>/dev/null || true
    fi
    if [ "$status" != 0 ] && [ -f "$WORK/capmatch.log" ]; then
        echo "--- capmatch.log (tail) ---" >&2
        tail -n 40 "$WORK/capmatch.log" >&2
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$("$BIN/latency-probe" free-port)
GATEWAY="http://127.0.0.1:$PORT"
say "starting capmatch serve on $GATEWAY (data in $WORK)"
mkdir -p "$DATA"
(
    cd "$WORK"
    unset CAPMATCH_CONFIG
    export CAPMATCH_GATEWAY__BIND="127.0.0.1:$PORT"
    export CAPMATCH_GATEWAY__RATE_LIMIT__ENABLED=false
    exec "$BIN/capmatch" serve --data-dir "$DATA"
) >"$WORK/capmatch.log" 2>&1 &
CAPMATCH_PID=$!

ready=""
for _ in $(seq 600); do
    kill -0 "$CAPMATCH_PID" 2>/dev/null || die "capmatch serve exited"
    if curl -fsS -o /dev/null "$GATEWAY/readyz" 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.1
done
[ -n "$ready" ] || die "capmatch serve was not ready within 60 s"

token() { (cd "$WORK" && env -u CAPMATCH_CONFIG "$BIN/capmatch" token --data-dir "$DATA" "$@"); }
STATE_TOKEN=$(token --role state --country SN | tail -n 1)
PROVIDER_TOKEN=$(token --role provider --org cyberaid --org-type ngo | tail -n 1)
export GATEWAY STATE_TOKEN PROVIDER_TOKEN

say "posting $LOAD_SEED offers and $LOAD_SEED needs"
SEED=$("$BIN/latency-probe" seed "$LOAD_SEED" "$WORK/need.json")
NEED_ID=$(sed -n 's/^need_id=//p' <<<"$SEED")
NEED_BYTES=$(sed -n 's/^need_bytes=//p' <<<"$SEED")
[ -n "$NEED_ID" ] || die "seeding gave no need id"

BARE_BODY_FILE="$WORK/need.json" "$BIN/bare-endpoint" 127.0.0.1:0 >"$WORK/bare.out" 2>&1 &
BARE_PID=$!
BARE_PORT=""
for _ in $(seq 100); do
    BARE_PORT=$(sed -n 's/^port=//p' "$WORK/bare.out")
    [ -n "$BARE_PORT" ] && break
    kill -0 "$BARE_PID" 2>/dev/null || die "bare-endpoint exited: $(cat "$WORK/bare.out")"
    sleep 0.1
done
[ -n "$BARE_PORT" ] || die "bare-endpoint did not start"
BARE="http://127.0.0.1:$BARE_PORT/need"

AUTH="Authorization: Bearer $STATE_TOKEN"
for url in "$BARE" "$GATEWAY/v1/needs/$NEED_ID" "$GATEWAY/v1/needs/$NEED_ID/matches"; do
    code=$(curl -sS -o /dev/null -w '%{http_code}' -H "$AUTH" "$url")
    [ "$code" = 200 ] || die "GET $url answered $code"
done
MATCHES_BYTES=$(curl -sS -H "$AUTH" "$GATEWAY/v1/needs/$NEED_ID/matches" | wc -c)

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$CAPMATCH_PID/status"; }
mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

# --- wrk runs -----------------------------------------------------------------------------------
# The POST body: a valid need, posted as the state; each request creates a need.
cat >"$WORK/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $STATE_TOKEN"
wrk.body = [[{"title":"Establishing a national CSIRT (load)","description":"Senegal asks for help to establish its national computer security incident response team: governance, staffing plan, playbooks and first exercises.","themes":["incident_management_cip"],"topics":["incident_management_cip.csirt_establishment"],"support_types":["technical_assistance","training"],"languages":["fr"],"visibility":"public"}]]
EOF
# The soak: reads only (the need and its suggestions, alternately), so the store does not grow.
cat >"$WORK/soak.lua" <<EOF
local paths = { "/v1/needs/$NEED_ID", "/v1/needs/$NEED_ID/matches" }
local n = 0
request = function()
    n = n + 1
    return wrk.format("GET", paths[n % 2 + 1])
end
EOF

WRK=(wrk -t"$LOAD_THREADS" -c"$LOAD_CONNECTIONS" --timeout 10s)

# Runs wrk; prints "rps p50_ms p99_ms requests errors" (errors: non-2xx/3xx answers and socket
# errors).
measure() {
    local out="$WORK/wrk.out"
    "${WRK[@]}" -d"${LOAD_SECONDS}s" --latency "$@" >"$out" 2>&1 || {
        cat "$out" >&2
        die "wrk failed"
    }
    awk '
        function ms(v) {
            if (v ~ /us$/) return v / 1000
            if (v ~ /ms$/) return v + 0
            if (v ~ /m$/) return v * 60000
            if (v ~ /s$/) return v * 1000
            return v + 0
        }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        /requests in/ { total = $1 }
        /^Requests\/sec:/ { rps = $2 }
        /Non-2xx or 3xx responses:/ { errors += $NF }
        /Socket errors:/ {
            for (i = 3; i <= NF; i++) { gsub(",", "", $i); if ($i ~ /^[0-9]+$/) errors += $i }
        }
        END { printf "%.1f %.2f %.2f %d %d\n", rps, p50, p99, total, errors + 0 }
    ' "$out"
}

say "warming up (2 s each)"
"${WRK[@]}" -d2s "$BARE" >/dev/null
"${WRK[@]}" -d2s -H "$AUTH" "$GATEWAY/v1/needs/$NEED_ID" >/dev/null

RSS_BEFORE=$(rss_kb)
say "bare GET /need (${LOAD_SECONDS}s)"
r=$(measure "$BARE")
read -r BARE_RPS BARE_P50 BARE_P99 BARE_N BARE_ERR <<<"$r"
say "gateway GET /v1/needs/{id} (${LOAD_SECONDS}s)"
r=$(measure -H "$AUTH" "$GATEWAY/v1/needs/$NEED_ID")
read -r GET_RPS GET_P50 GET_P99 GET_N GET_ERR <<<"$r"
say "gateway GET /v1/needs/{id}/matches (${LOAD_SECONDS}s)"
r=$(measure -H "$AUTH" "$GATEWAY/v1/needs/$NEED_ID/matches")
read -r SUG_RPS SUG_P50 SUG_P99 SUG_N SUG_ERR <<<"$r"
RSS_AFTER_READS=$(rss_kb)
say "gateway POST /v1/needs (${LOAD_SECONDS}s)"
r=$(measure -s "$WORK/post.lua" "$GATEWAY/v1/needs")
read -r POST_RPS POST_P50 POST_P99 POST_N POST_ERR <<<"$r"
RSS_AFTER=$(rss_kb)

say "timing $LOAD_PROBES needs from 201 to readable suggestions"
PROBE=$("$BIN/latency-probe" latency "$LOAD_PROBES")
probe() { sed -n "s/^$1=//p" <<<"$PROBE"; }
RSS_AFTER_PROBE=$(rss_kb)

# --- soak ---------------------------------------------------------------------------------------
SOAK_ROWS=""
if [ "$LOAD_SOAK_SECONDS" -gt 0 ]; then
    say "soak: ${LOAD_SOAK_SECONDS}s of reads, memory every ${LOAD_SOAK_INTERVAL}s"
    "${WRK[@]}" -d"${LOAD_SOAK_SECONDS}s" -H "$AUTH" -s "$WORK/soak.lua" "$GATEWAY" \
        >"$WORK/soak.out" 2>&1 &
    SOAK_PID=$!
    start=$(date +%s)
    SOAK_FIRST=$(rss_kb)
    SOAK_ROWS=$(printf '  %6ss  %8s MB\n' 0 "$(mb "$SOAK_FIRST")")
    SOAK_MIN=$SOAK_FIRST
    SOAK_MAX=$SOAK_FIRST
    next=$LOAD_SOAK_INTERVAL
    while [ "$next" -le "$LOAD_SOAK_SECONDS" ]; do
        wait_s=$((start + next - $(date +%s)))
        [ "$wait_s" -gt 0 ] && sleep "$wait_s"
        kb=$(rss_kb)
        SOAK_ROWS+=$'\n'$(printf '  %6ss  %8s MB\n' "$next" "$(mb "$kb")")
        [ "$kb" -lt "$SOAK_MIN" ] && SOAK_MIN=$kb
        [ "$kb" -gt "$SOAK_MAX" ] && SOAK_MAX=$kb
        SOAK_LAST=$kb
        next=$((next + LOAD_SOAK_INTERVAL))
    done
    wait "$SOAK_PID" || true
    SOAK_PID=""
    SOAK_RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$WORK/soak.out")
    SOAK_LAST=${SOAK_LAST:-$(rss_kb)}
fi

# --- report -------------------------------------------------------------------------------------
mb_delta() { awk -v a="${SOAK_LAST:-0}" -v b="${SOAK_FIRST:-0}" 'BEGIN { printf "%+.1f", (a - b) / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
verdict() { if [ "$1" = 1 ]; then echo "met"; else echo "NOT met"; fi; }
NEEDS_TOTAL=$((LOAD_SEED + POST_N + LOAD_PROBES))

echo
echo "capmatch load benchmark"
echo "  $(nproc) cores, $(uname -m); capmatch serve (release, rate limit off) and wrk on the same machine"
echo "  wrk -t$LOAD_THREADS -c$LOAD_CONNECTIONS -d${LOAD_SECONDS}s, one run after another; GETs as the owning state (JWT)"
echo "  log filter: ${RUST_LOG:-${CAPMATCH_LOG__FILTER:-the default (info: one 'request completed' line per request, at the gateway)}}"
echo "  need body ${NEED_BYTES} B (the bare endpoint serves the same bytes); suggestions page ${MATCHES_BYTES} B"
echo
printf '  %-40s %10s %9s %9s %9s %7s\n' "" "req/s" "p50 ms" "p99 ms" "requests" "errors"
row() { printf '  %-40s %10s %9s %9s %9s %7s\n' "$@"; }
row "bare actix-web GET /need" "$BARE_RPS" "$BARE_P50" "$BARE_P99" "$BARE_N" "$BARE_ERR"
row "gateway GET /v1/needs/{id}" "$GET_RPS" "$GET_P50" "$GET_P99" "$GET_N" "$GET_ERR"
row "gateway GET /v1/needs/{id}/matches" "$SUG_RPS" "$SUG_P50" "$SUG_P99" "$SUG_N" "$SUG_ERR"
row "gateway POST /v1/needs (durable)" "$POST_RPS" "$POST_P50" "$POST_P99" "$POST_N" "$POST_ERR"
echo
echo "  ratios to the bare endpoint            req/s   p50 latency   p99 latency"
rrow() { printf '  %-36s %8sx %12sx %12sx\n' "$1" "$(ratio "$2" "$BARE_RPS")" "$(ratio "$3" "$BARE_P50")" "$(ratio "$4" "$BARE_P99")"; }
rrow "gateway GET need / bare" "$GET_RPS" "$GET_P50" "$GET_P99"
rrow "gateway GET suggestions / bare" "$SUG_RPS" "$SUG_P50" "$SUG_P99"
rrow "gateway POST need / bare" "$POST_RPS" "$POST_P50" "$POST_P99"
echo
echo "  201 -> suggestions readable ($(probe samples) needs, polled every 1 ms, ~${NEEDS_TOTAL} needs stored)"
printf '    p50 %s ms   p90 %s ms   p99 %s ms   max %s ms   mean %s ms   (%s polls per need)\n' \
    "$(probe p50_ms)" "$(probe p90_ms)" "$(probe p99_ms)" "$(probe max_ms)" "$(probe mean_ms)" "$(probe polls)"
echo
echo "  capmatch resident memory (VmRSS)"
printf '    before the load                       %8s MB\n' "$(mb "$RSS_BEFORE")"
printf '    after the GET runs                    %8s MB\n' "$(mb "$RSS_AFTER_READS")"
printf '    after the POST run                    %8s MB   (%s new needs)\n' "$(mb "$RSS_AFTER")" "$POST_N"
printf '    after the latency probe               %8s MB\n' "$(mb "$RSS_AFTER_PROBE")"
if [ "$LOAD_SOAK_SECONDS" -gt 0 ]; then
    echo
    echo "  soak: ${LOAD_SOAK_SECONDS}s of GET need / GET suggestions (${SOAK_RPS:-?} req/s), VmRSS every ${LOAD_SOAK_INTERVAL}s"
    echo "$SOAK_ROWS"
    printf '    first %s MB, last %s MB (%s MB), range %s MB\n' "$(mb "$SOAK_FIRST")" "$(mb "$SOAK_LAST")" \
        "$(mb_delta)" \
        "$(mb $((SOAK_MAX - SOAK_MIN)))"
fi
echo
echo "  targets (reported, not asserted)"
printf '    gateway GET >= 0.5x bare req/s           %8sx     %s\n' "$(ratio "$GET_RPS" "$BARE_RPS")" \
    "$(verdict "$(awk -v a="$GET_RPS" -v b="$BARE_RPS" 'BEGIN { print (b > 0 && a / b >= 0.5) ? 1 : 0 }')")"
printf '    suggestions readable <= 100 ms p99       %8s ms   %s\n' "$(probe p99_ms)" \
    "$(verdict "$(awk -v p="$(probe p99_ms)" 'BEGIN { print (p <= 100) ? 1 : 0 }')")"
if [ "$LOAD_SOAK_SECONDS" -gt 0 ]; then
    # Flat: the last sample within 5% (or 2 MB) of the first.
    flat=$(awk -v a="$SOAK_LAST" -v b="$SOAK_FIRST" 'BEGIN { d = a - b; print (d <= 2048 || d <= b * 0.05) ? 1 : 0 }')
    printf '    memory flat over %-23s %8s MB   %s\n' "${LOAD_SOAK_SECONDS}s (<= +5%/2 MB)" "$(mb_delta)" "$(verdict "$flat")"
else
    echo "    memory flat over 5 minutes               not measured (LOAD_SOAK_SECONDS=300 runs the soak)"
fi
