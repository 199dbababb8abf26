#!/usr/bin/env bash
# Benchmark of the three services on loopback, with nginx serving the playlists answer as a static
# file as the ceiling to compare with. One command, from anywhere:
#
#     bench/run.sh
#
# It installs what is missing (wrk, nginx-light, redis, jq, curl, a profiler, and what the build
# needs, via scripts/install-deps.sh) with apt-get, builds the release binaries (cmake --preset
# release), starts its own Redis servers, services and nginx on free loopback ports, checks the
# answers, measures with wrk, profiles playlists-api, prints the
# report (markdown) and writes it to bench/RESULTS.md. Every process it starts is stopped by PID on
# exit, failure or Ctrl-C. About 40 wrk runs of BENCH_SECONDS each: ~8 minutes at the default.
#
# Environment (all optional):
#   BENCH_SECONDS=10        length of each measured wrk run (2 for a quick try)
#   BENCH_WAIT_QUIET=0      wait up to this many seconds for the 1-minute load to fall below
#                           BENCH_QUIET_LOAD (0.8) before measuring; polls every 30 s
#   BENCH_BUILD=1           0: use build/release as it is (no configure/build step)
#   BENCH_PROFILER=auto     perf | callgrind | none; auto: perf when `perf stat -e instructions`
#                           works (hardware counters), else callgrind
#   BENCH_PROFILE_SECONDS=15  load time of the profiling run
#   BENCH_RESULTS=<repo>/bench/RESULTS.md   where the report goes
#   BENCH_KEEP=0            1: keep the temporary directory (logs, wrk output, profiles)
#   THREADS=<nproc>         worker threads of the services, and nginx's worker_processes
#   FANOUT_LIMIT, VIDEOS_API_CONNECTIONS, VIDEOS_API_TIMEOUT_MS   passed to playlists-api if set
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
command_line=""
for var in BENCH_SECONDS BENCH_WAIT_QUIET BENCH_QUIET_LOAD BENCH_BUILD BENCH_PROFILER \
    BENCH_PROFILE_SECONDS THREADS FANOUT_LIMIT VIDEOS_API_CONNECTIONS VIDEOS_API_TIMEOUT_MS; do
    [ -z "${!var:-}" ] || command_line="$command_line$var=${!var} "
done
command_line="${command_line}bench/run.sh"

seconds=${BENCH_SECONDS:-10}
results_file=${BENCH_RESULTS:-$bench_dir/RESULTS.md}
profiler=${BENCH_PROFILER:-auto}
profile_seconds=${BENCH_PROFILE_SECONDS:-15}
cores=$(nproc)
threads=${THREADS:-$cores}
connection_counts=(1 16 128 1000)
growth_sizes=(1 10 100 1000)
growth_connections=(1 16)
clk_tck=$(getconf CLK_TCK)

say() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    say "FAILED: $*"
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Processes: every PID we start is remembered and stopped on exit, newest first.

run_dir=$(mktemp -d /tmp/meshbench.XXXXXX)
chmod 755 "$run_dir" # nginx workers may run as another user
started_pids=()

stop_pid() { # PID [seconds to wait before SIGKILL]
    local pid=$1 wait_tenths=$((${2:-5} * 10))
    kill -0 "$pid" 2>/dev/null || {
        wait "$pid" 2>/dev/null || true
        return 0
    }
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && [ "$wait_tenths" -gt 0 ]; do
        # A child that exited is a zombie until waited: reap it so that kill -0 sees it gone.
        if [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then break; fi
        sleep 0.1
        wait_tenths=$((wait_tenths - 1))
    done
    if kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
        say "PID $pid did not stop on SIGTERM: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

forget_pid() {
    local pid=$1 kept=() p
    for p in "${started_pids[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
    started_pids=("${kept[@]}")
}

cleanup() {
    local status=$? i
    trap - EXIT INT TERM
    for ((i = ${#started_pids[@]} - 1; i >= 0; i--)); do
        stop_pid "${started_pids[$i]}" 5
    done
    if [ "${BENCH_KEEP:-0}" = 1 ] || [ "$status" != 0 ]; then
        say "temporary files kept in $run_dir"
    else
        rm -rf "$run_dir"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

children_of() { cat "/proc/$1/task/$1/children" 2>/dev/null || true; }

# ---------------------------------------------------------------------------------------------
# Tools and binaries.

apt_updated=0
apt_install() {
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    if [ "$apt_updated" = 0 ]; then
        say "apt-get update"
        $sudo apt-get update -qq >&2
        apt_updated=1
    fi
    say "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2
}

ensure_tools() {
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v redis-cli >/dev/null || missing+=(redis-tools)
    command -v jq >/dev/null || missing+=(jq)
    command -v curl >/dev/null || missing+=(curl)
    command -v cmake >/dev/null || missing+=(cmake)
    [ ${#missing[@]} = 0 ] || apt_install "${missing[@]}"
    if [ "$profiler" = auto ]; then
        command -v perf >/dev/null || apt_install linux-perf || true
        if perf stat -e instructions true 2>&1 | grep -q 'instructions' &&
            ! perf stat -e instructions true 2>&1 | grep -q 'not supported'; then
            profiler=perf
        else
            profiler=callgrind
        fi
    fi
    case $profiler in
    perf) command -v perf >/dev/null || apt_install linux-perf ;;
    callgrind) command -v valgrind >/dev/null || apt_install valgrind ;;
    none) ;;
    *) die "BENCH_PROFILER must be auto, perf, callgrind or none" ;;
    esac
}

nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

build_services() {
    if [ "${BENCH_BUILD:-1}" != 0 ]; then
        # The build's own dependencies (compiler, -dev packages), as the README's run command
        # installs them: a machine that only ever ran the benchmark has them too.
        "$repo/scripts/install-deps.sh" run >&2 || die "could not install the build dependencies"
        say "building the release binaries"
        (cd "$repo" && { [ -f build/release/CMakeCache.txt ] || cmake --preset release >&2; } &&
            cmake --build build/release -j"$cores" >&2) || die "release build failed"
    fi
    mkdir -p "$run_dir/bin"
    local name
    for name in videos-api playlists-api videos-web; do
        local built=$repo/build/release/services/$name/$name
        [ -x "$built" ] || die "$built is missing (run without BENCH_BUILD=0)"
        # A copy: others rebuilding build/release during the run cannot swap binaries under us.
        cp -p "$built" "$run_dir/bin/$name"
    done
}

# ---------------------------------------------------------------------------------------------
# Ports: free loopback ports below the ephemeral range, so no outgoing connection can take them.

taken_ports=" "
free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 12000))
        case $taken_ports in *" $port "*) continue ;; esac
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            taken_ports="$taken_ports$port "
            echo "$port"
            return
        fi
    done
}

# ---------------------------------------------------------------------------------------------
# Redis.

declare -A redis_pid redis_port
start_redis() { # DATABASE
    local database=$1 port
    port=$(free_port)
    RUN_DIR=$run_dir "$repo/deploy/seed/redis-seeded.sh" "$database" "$port" \
        >"$run_dir/logs/redis-$database.log" 2>&1 &
    local script=$!
    started_pids+=("$script")
    redis_port[$database]=$port
    local tries=0
    until redis-cli -p "$port" ping >/dev/null 2>&1; do
        tries=$((tries + 1))
        [ "$tries" -lt 100 ] && kill -0 "$script" 2>/dev/null ||
            die "redis $database did not start: $(cat "$run_dir/logs/redis-$database.log")"
        sleep 0.1
    done
    local child
    child=$(children_of "$script")
    redis_pid[$database]=${child%% *}
    started_pids+=("${redis_pid[$database]}") # stopped before its script, which then exits
}

rcli() { redis-cli -p "${redis_port[$1]}" "${@:2}"; }

load_synthetic_videos() { # keys syn-0001 .. syn-1000 in videos-db, shaped like the seed's
    local i
    for ((i = 1; i <= 1000; i++)); do
        printf 'SET syn-%04d "{\\"id\\":\\"syn-%04d\\",\\"title\\":\\"Synthetic video %d\\",\\"imageurl\\":\\"https://i.ytimg.com/vi/syn-%04d/sddefault.jpg\\",\\"url\\":\\"https://youtu.be/syn-%04d\\",\\"description\\":\\"\\"}"\n' \
            "$i" "$i" "$i" "$i" "$i"
    done | rcli videos-db >/dev/null
    [ "$(rcli videos-db dbsize)" -ge 1009 ] || die "synthetic videos not loaded"
}

set_synthetic_playlist() { # N: one playlist of videos syn-0001 .. syn-N
    local n=$1 i
    {
        printf '[{"id":"1","name":"Synthetic %d","videos":[' "$n"
        for ((i = 1; i <= n; i++)); do
            [ "$i" = 1 ] || printf ','
            printf '{"id":"syn-%04d"}' "$i"
        done
        printf ']}]'
    } >"$run_dir/playlist-$n.json"
    rcli playlists-db -x SET playlists <"$run_dir/playlist-$n.json" >/dev/null
}

restore_seed_playlists() { rcli playlists-db -x SET playlists <"$run_dir/seed-playlists.json" >/dev/null; }

# ---------------------------------------------------------------------------------------------
# Services and nginx.

declare -A svc_pid svc_port svc_admin
for name in videos-api playlists-api videos-web; do
    svc_pid[$name]=""
done

passthrough_env() {
    local var
    for var in FANOUT_LIMIT VIDEOS_API_CONNECTIONS VIDEOS_API_TIMEOUT_MS; do
        [ -z "${!var:-}" ] || printf '%s=%s\n' "$var" "${!var}"
    done
}

start_service() { # NAME THREADS LOG_LEVEL TAG [VAR=VALUE ...] ; wraps with $service_wrapper if set
    local name=$1 n=$2 level=$3 tag=$4
    shift 4
    local common=(PATH="$PATH" HOME="${HOME:-/tmp}" PORT="${svc_port[$name]}"
        ADMIN_PORT="${svc_admin[$name]}" BIND_ADDRESS=127.0.0.1 THREADS="$n" LOG_LEVEL="$level"
        LOG_FORMAT=json SHUTDOWN_GRACE_MS=2000)
    local specific=()
    case $name in
    videos-api) specific=(REDIS_HOST=127.0.0.1 REDIS_PORT="${redis_port[videos-db]}") ;;
    playlists-api)
        specific=(REDIS_HOST=127.0.0.1 REDIS_PORT="${redis_port[playlists-db]}"
            VIDEOS_API_URL="http://127.0.0.1:${svc_port[videos-api]}")
        mapfile -t -O ${#specific[@]} specific < <(passthrough_env)
        ;;
    videos-web)
        specific=(PLAYLISTS_API_URL="http://127.0.0.1:${svc_port[playlists-api]}"
            WEB_ROOT="$repo/web")
        ;;
    esac
    # env -i: a FLAKY or LATENCY_MS left in the caller's shell must not skew the numbers.
    env -i "${common[@]}" "${specific[@]}" "$@" ${service_wrapper:-} "$run_dir/bin/$name" \
        >"$run_dir/logs/$name-$tag.log" 2>&1 &
    svc_pid[$name]=$!
    started_pids+=("${svc_pid[$name]}")
    local tries=0 limit=$((${ready_timeout:-15} * 10))
    until curl -fsS -o /dev/null "http://127.0.0.1:${svc_admin[$name]}/readyz" 2>/dev/null; do
        tries=$((tries + 1))
        if [ "$tries" -gt "$limit" ] || ! kill -0 "${svc_pid[$name]}" 2>/dev/null; then
            die "$name did not become ready: $(tail -5 "$run_dir/logs/$name-$tag.log")"
        fi
        sleep 0.1
    done
}

stop_service() { # NAME [seconds before SIGKILL]
    local name=$1
    [ -n "${svc_pid[$name]}" ] || return 0
    stop_pid "${svc_pid[$name]}" "${2:-10}"
    forget_pid "${svc_pid[$name]}"
    svc_pid[$name]=""
}

start_services() { # THREADS LOG_LEVEL TAG NAME...
    local n=$1 level=$2 tag=$3 name
    shift 3
    for name in "$@"; do start_service "$name" "$n" "$level" "$tag"; done
}

stop_services() {
    local name
    for name in videos-web playlists-api videos-api; do stop_service "$name"; done
}

nginx_pid=""
start_nginx() { # WORKERS
    mkdir -p "$run_dir/nginx-tmp"
    sed -e "s|@WORKERS@|$1|" -e "s|@RUN@|$run_dir|g" -e "s|@PORT@|$nginx_port|" \
        "$bench_dir/nginx.conf.in" >"$run_dir/nginx.conf"
    "$nginx_bin" -p "$run_dir" -c "$run_dir/nginx.conf" -e "$run_dir/nginx-error.log" \
        -g 'daemon off; master_process on;' >"$run_dir/logs/nginx.log" 2>&1 &
    nginx_pid=$!
    started_pids+=("$nginx_pid")
    local tries=0
    until curl -fsS -o /dev/null "http://127.0.0.1:$nginx_port/playlists.json" 2>/dev/null; do
        tries=$((tries + 1))
        [ "$tries" -lt 100 ] && kill -0 "$nginx_pid" 2>/dev/null ||
            die "nginx did not start: $(cat "$run_dir/nginx-error.log" "$run_dir/logs/nginx.log")"
        sleep 0.1
    done
}

stop_nginx() {
    [ -n "$nginx_pid" ] || return 0
    stop_pid "$nginx_pid" 5
    forget_pid "$nginx_pid"
    nginx_pid=""
}

# ---------------------------------------------------------------------------------------------
# Checking answers.

fetch() { # URL -> $run_dir/answer.body, $run_dir/answer.headers; prints the status code
    curl -sS -o "$run_dir/answer.body" -D "$run_dir/answer.headers" -w '%{http_code}' "$1"
}

header_value() { # NAME: from the last fetch
    tr -d '\r' <"$run_dir/answer.headers" | awk -v name="$(echo "$1" | tr 'A-Z' 'a-z')" \
        -F': ' 'tolower($1) == name { print $2 }'
}

check_catalog() { # URL PLAYLISTS VIDEOS: a 200 with that many playlists and complete videos
    local url=$1 playlists=$2 videos=$3 status
    status=$(fetch "$url")
    [ "$status" = 200 ] || die "$url answered $status"
    jq -e --argjson p "$playlists" --argjson v "$videos" \
        'length == $p and ([.[].videos[]] | length) == $v and
         all(.[].videos[]; (.title | type) == "string" and (.url | type) == "string")' \
        "$run_dir/answer.body" >/dev/null ||
        die "$url: expected $playlists playlists and $videos videos, got $(head -c 300 "$run_dir/answer.body")"
    [ "$(header_value X-Videos-Total)" = "$videos" ] && [ "$(header_value X-Videos-Omitted)" = 0 ] ||
        die "$url: X-Videos-Total/Omitted are $(header_value X-Videos-Total)/$(header_value X-Videos-Omitted)"
}

check_video() { # URL ID TITLE
    local status
    status=$(fetch "$1")
    [ "$status" = 200 ] || die "$1 answered $status"
    jq -e --arg id "$2" --arg title "$3" '.id == $id and .title == $title' \
        "$run_dir/answer.body" >/dev/null || die "$1: unexpected $(head -c 300 "$run_dir/answer.body")"
}

check_same_body() { # URL FILE
    local status
    status=$(fetch "$1")
    [ "$status" = 200 ] || die "$1 answered $status"
    cmp -s "$run_dir/answer.body" "$2" || die "$1 does not answer the content of $2"
}

# ---------------------------------------------------------------------------------------------
# Measuring.

declare -A R # R[key.field]: results of the run `key`

pids_of() { # LABEL: the processes behind one column
    case $1 in
    web) echo "${svc_pid[videos-web]}" ;;
    pl) echo "${svc_pid[playlists-api]}" ;;
    vid) echo "${svc_pid[videos-api]}" ;;
    rpl) echo "${redis_pid[playlists-db]}" ;;
    rvid) echo "${redis_pid[videos-db]}" ;;
    ngx) echo "$nginx_pid $(children_of "$nginx_pid")" ;;
    esac
}

cpu_ticks() { # PID... -> utime+stime, summed
    local total=0 pid t
    for pid in "$@"; do
        t=$(awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$pid/stat" 2>/dev/null || echo 0)
        total=$((total + t))
    done
    echo "$total"
}

peak_rss_kb() { # PID... -> VmHWM, summed
    local total=0 pid kb
    for pid in "$@"; do
        kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        total=$((total + ${kb:-0}))
    done
    echo "$total"
}

machine_busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }

children_cpu_ticks() { # -> $children_ticks: CPU of this shell's finished children (wrk)
    times >"$run_dir/times.txt" # here, not in a $(...) subshell, whose children are not ours
    children_ticks=$(awk -v hz="$clk_tck" 'NR == 2 {
        split($1, u, /[ms]/); split($2, s, /[ms]/);
        printf "%d\n", ((u[1] * 60 + u[2]) + (s[1] * 60 + s[2])) * hz + 0.5 }' "$run_dir/times.txt")
}

wrk_run() { # URL CONNECTIONS SECONDS OUTPUT [extra wrk options]
    local url=$1 c=$2 s=$3 out=$4
    shift 4
    local t=2
    [ "$c" -ge 2 ] || t=1
    wrk -t"$t" -c"$c" -d"${s}s" --latency -s "$bench_dir/report.lua" "$@" "$url" >"$out" 2>&1 ||
        die "wrk failed: $(cat "$out")"
}

# A 1 s run before measuring, at the first connection count to be measured: a busier warm-up
# would leave memory behind and raise the peak RSS of the quieter runs that follow.
warm_up() { wrk_run "$1" "${2:-1}" 1 "$run_dir/warmup.txt"; }

measure() { # KEY URL CONNECTIONS LABEL...
    local key=$1 url=$2 c=$3 label pid pids
    shift 3
    local labels=("$@")
    local -A before
    for label in "${labels[@]}"; do
        read -r -a pids <<<"$(pids_of "$label")"
        for pid in "${pids[@]}"; do echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true; done
        before[$label]=$(cpu_ticks "${pids[@]}")
    done
    local busy_before wrk_before
    busy_before=$(machine_busy_ticks)
    children_cpu_ticks
    wrk_before=$children_ticks
    say "measure $key: $c connections, ${seconds}s, $url"
    wrk_run "$url" "$c" "$seconds" "$run_dir/wrk-$key.txt"
    children_cpu_ticks
    local wrk_ticks=$((children_ticks - wrk_before))
    local busy=$(($(machine_busy_ticks) - busy_before))
    local ours=0 ticks
    for label in "${labels[@]}"; do
        read -r -a pids <<<"$(pids_of "$label")"
        ticks=$(($(cpu_ticks "${pids[@]}") - before[$label]))
        R[$key.cpu_$label]=$ticks
        ours=$((ours + ticks))
        R[$key.rss_$label]=$(peak_rss_kb "${pids[@]}")
    done
    R[$key.cpu_total]=$ours
    R[$key.cpu_wrk]=$wrk_ticks
    R[$key.cpu_other]=$((busy - ours - wrk_ticks))
    R[$key.labels]="${labels[*]}"
    R[$key.conns]=$c
    local line kv
    line=$(grep '^BENCH ' "$run_dir/wrk-$key.txt") || die "no result from wrk: $(cat "$run_dir/wrk-$key.txt")"
    for kv in ${line#BENCH }; do R[$key.${kv%%=*}]=${kv#*=}; done
    R[$key.errors]=$((R[$key.connect] + R[$key.read] + R[$key.write] + R[$key.timeout]))
    say "  $(printf '%.0f' "${R[$key.rps]}") req/s, p99 $((R[$key.p99_us] / 1000)) ms, socket errors ${R[$key.errors]}, non-2xx ${R[$key.non2xx]}, partial ${R[$key.partial]}"
}

# ---------------------------------------------------------------------------------------------
# Formatting.

num() { awk -v v="$2" "BEGIN { printf \"$1\", v }"; }
ms() { # microseconds -> milliseconds, 3 significant digits or so
    [ -n "${1:-}" ] || { printf '–'; return; }
    awk -v us="$1" 'BEGIN { m = us / 1000; if (m < 1) printf "%.3f", m; else if (m < 10) printf "%.2f", m;
        else if (m < 100) printf "%.1f", m; else printf "%.0f", m }'
}
ratio() { # A B -> A/B as "0.12×"
    [ -n "${1:-}" ] && [ -n "${2:-}" ] || { printf '–'; return; }
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) printf "–"; else if (a / b < 10) printf "%.2f×", a / b; else printf "%.0f×", a / b }'
}
percent() {
    [ -n "${1:-}" ] && [ -n "${2:-}" ] || { printf '–'; return; }
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) printf "–"; else printf "%.1f%%", 100 * a / b }'
}
mb() { [ -n "${1:-}" ] && awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }' || printf '–'; }
per_1k() { # TICKS REQUESTS -> CPU seconds per 1000 requests
    [ -n "${1:-}" ] && [ -n "${2:-}" ] || { printf '–'; return; }
    awk -v t="$1" -v n="$2" -v hz="$clk_tck" 'BEGIN { if (n == 0) printf "–"; else printf "%.3f", t / hz / n * 1000 }'
}
cpu_per_1k_value() { awk -v t="$1" -v n="$2" -v hz="$clk_tck" 'BEGIN { print (n == 0 ? 0 : t / hz / n * 1000) }'; }
get() { printf '%s' "${R[$1.$2]:-}"; }

# ---------------------------------------------------------------------------------------------
# The run.

mkdir -p "$run_dir/logs" "$run_dir/www"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 2200 ] || die "ulimit -n is $(ulimit -n): 1000 connections need more"

ensure_tools
# What was measured: the commit, and the C++ files changed in the working tree when it was built.
source_state=$(cd "$repo" && git describe --always --dirty 2>/dev/null || echo unknown)
changed=$(cd "$repo" && git status --porcelain -- common services CMakeLists.txt 2>/dev/null |
    awk '{print $2}' | tr '\n' ' ')
[ -z "$changed" ] || source_state="$source_state; working tree with uncommitted changes to: ${changed% }"
build_services
source_state="$source_state; binaries built $(date -u -r "$run_dir/bin/playlists-api" '+%Y-%m-%d %H:%M UTC' 2>/dev/null)$([ "${BENCH_BUILD:-1}" != 0 ] || echo ", taken as found (BENCH_BUILD=0)")"

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
quiet_limit=${BENCH_QUIET_LOAD:-0.8}
if [ "${BENCH_WAIT_QUIET:-0}" -gt 0 ]; then
    waited=0
    while awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v q="$quiet_limit" 'BEGIN { exit !(l >= q) }'; do
        if [ "$waited" -ge "$BENCH_WAIT_QUIET" ]; then
            say "the machine did not get quiet (load $(cut -d' ' -f1-3 /proc/loadavg)): measuring anyway"
            break
        fi
        say "waiting for a quiet machine: load $(cut -d' ' -f1-3 /proc/loadavg)"
        sleep 30
        waited=$((waited + 30))
    done
    load_start=$(cut -d' ' -f1-3 /proc/loadavg)
fi
started_at=$(date -u '+%Y-%m-%d %H:%M UTC')
start_seconds=$SECONDS

for name in videos-api playlists-api videos-web; do
    svc_port[$name]=$(free_port)
    svc_admin[$name]=$(free_port)
done
nginx_port=$(free_port)

say "starting redis (playlists-db, videos-db) in $run_dir"
start_redis playlists-db
start_redis videos-db
rcli playlists-db GET playlists >"$run_dir/seed-playlists.json"
truncate -s -1 "$run_dir/seed-playlists.json" # redis-cli adds a newline
load_synthetic_videos

vid_url="http://127.0.0.1:${svc_port[videos-api]}/jM36M39MA3I"
pl_url="http://127.0.0.1:${svc_port[playlists-api]}/"
web_url="http://127.0.0.1:${svc_port[videos-web]}/"
webapi_url="http://127.0.0.1:${svc_port[videos-web]}/api/playlists"
ngx_url="http://127.0.0.1:$nginx_port/playlists.json"
all_services=(videos-api playlists-api videos-web)

check_all_answers() {
    check_video "$vid_url" jM36M39MA3I "Kubernetes cluster autoscaling"
    check_catalog "$pl_url" 4 9
    check_catalog "$webapi_url" 4 9
    check_same_body "$web_url" "$repo/web/index.html"
}

# Phase 1: the ceiling and the four scenarios, THREADS=$threads, LOG_LEVEL=warn. Fresh services
# for each scenario, so that each peak RSS is that scenario's own.
say "phase 1: scenarios at THREADS=$threads"
start_services "$threads" warn main "${all_services[@]}"
check_all_answers
check_catalog "$pl_url" 4 9
cp "$run_dir/answer.body" "$run_dir/www/playlists.json"
chmod -R a+rX "$run_dir/www"
stop_services

start_nginx "$threads"
check_same_body "$ngx_url" "$run_dir/www/playlists.json"
warm_up "$ngx_url" "${connection_counts[0]}"
for c in "${connection_counts[@]}"; do measure "main.ngx.$c" "$ngx_url" "$c" ngx; done
stop_nginx

scenario_run() { # PREFIX SCENARIO THREADS LOG_LEVEL CONNECTIONS...
    local prefix=$1 scn=$2 n=$3 level=$4 url services labels c
    shift 4
    case $scn in
    vid) url=$vid_url services=(videos-api) labels=(vid rvid) ;;
    pl) url=$pl_url services=(videos-api playlists-api) labels=(pl vid rpl rvid) ;;
    web) url=$web_url services=(videos-web) labels=(web) ;;
    webapi) url=$webapi_url services=("${all_services[@]}") labels=(web pl vid rpl rvid) ;;
    esac
    start_services "$n" "$level" "$prefix-$scn" "${services[@]}"
    case $scn in
    vid) check_video "$url" jM36M39MA3I "Kubernetes cluster autoscaling" ;;
    pl | webapi) check_catalog "$url" 4 9 ;;
    web) check_same_body "$url" "$repo/web/index.html" ;;
    esac
    warm_up "$url" "$1"
    for c in "$@"; do measure "$prefix.$scn.$c" "$url" "$c" "${labels[@]}"; done
    stop_services
}

for scn in vid pl web webapi; do
    scenario_run main "$scn" "$threads" warn "${connection_counts[@]}"
done

# Phase 2: the cost of request logs: playlists-api GET / at 16 connections, LOG_LEVEL=info.
say "phase 2: LOG_LEVEL=info"
scenario_run info pl "$threads" info 16
log_bytes=$(cat "$run_dir/logs/playlists-api-info-pl.log" "$run_dir/logs/videos-api-info-pl.log" | wc -c)
R[info.pl.16.log_bytes]=$log_bytes

# Phase 3: worker threads, 1 vs 2, with nginx at as many workers.
say "phase 3: threads"
thread_counts=(1 2)
for n in "${thread_counts[@]}"; do
    [ "$n" != "$threads" ] || continue
    start_nginx "$n"
    warm_up "$ngx_url" 16
    for c in 16 128; do measure "t$n.ngx.$c" "$ngx_url" "$c" ngx; done
    stop_nginx
    scenario_run "t$n" vid "$n" warn 16 128
    scenario_run "t$n" pl "$n" warn 16 128
done
threads_key() { [ "$1" = "$threads" ] && echo main || echo "t$1"; }

# Phase 4: how cost grows with the playlist: one playlist of N synthetic videos.
say "phase 4: fan-out growth"
for n in "${growth_sizes[@]}"; do
    set_synthetic_playlist "$n"
    start_services "$threads" warn "grow-$n" videos-api playlists-api
    check_catalog "$pl_url" 1 "$n"
    warm_up "$pl_url" "${growth_connections[0]}"
    for c in "${growth_connections[@]}"; do
        measure "grow.$n.$c" "$pl_url" "$c" pl vid rpl rvid
    done
    stop_services
done
restore_seed_playlists

# Phase 5: what dominates playlists-api's time. callgrind counts user-space instructions exactly;
# perf samples (cpu-clock where the machine has no hardware counters) add the kernel's share.
perf_record_works() { perf record -e cpu-clock -o "$run_dir/perf-test.data" true >/dev/null 2>&1; }

profile_with_callgrind() {
    service_wrapper="valgrind --tool=callgrind --callgrind-out-file=$run_dir/callgrind.out --dump-instr=no" \
        ready_timeout=120 start_service playlists-api 1 warn callgrind \
        VIDEOS_API_TIMEOUT_MS=20000 READ_TIMEOUT_MS=60000
    check_catalog "$pl_url" 4 9
    # Zero the counters so that start-up is left out; harmless if callgrind_control cannot.
    callgrind_control -z "${svc_pid[playlists-api]}" >/dev/null 2>&1 || true
    wrk_run "$pl_url" 4 "$profile_seconds" "$run_dir/wrk-callgrind.txt" --timeout 20s
    stop_service playlists-api 120 # callgrind writes its profile on exit
    local outs=("$run_dir"/callgrind.out*)
    callgrind_annotate --inclusive=no --threshold=100 "${outs[0]}" >"$run_dir/callgrind-self.txt" 2>&1
    callgrind_annotate --inclusive=yes --threshold=100 "${outs[0]}" >"$run_dir/callgrind-inclusive.txt" 2>&1
    R[callgrind.total_ir]=$(awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }' "$run_dir/callgrind-self.txt")
    read_profile_load callgrind
}

profile_with_perf() { # EVENT...: empty for the default (cycles)
    start_service playlists-api "$threads" warn perf
    check_catalog "$pl_url" 4 9
    wrk_run "$pl_url" 16 "$profile_seconds" "$run_dir/wrk-perf.txt" &
    local load=$!
    started_pids+=("$load")
    sleep 1
    perf record "$@" -g -o "$run_dir/perf.data" -p "${svc_pid[playlists-api]}" -- \
        sleep $((profile_seconds - 2)) >"$run_dir/logs/perf-record.log" 2>&1 ||
        die "perf record failed: $(cat "$run_dir/logs/perf-record.log")"
    wait "$load" || die "load during profiling failed"
    forget_pid "$load"
    stop_service playlists-api
    perf report -i "$run_dir/perf.data" --stdio --no-children -g none --sort dso 2>/dev/null |
        awk '!/^#/ && NF && n++ < 8' >"$run_dir/perf-dso.txt"
    perf report -i "$run_dir/perf.data" --stdio --no-children -g none --sort dso,symbol 2>/dev/null |
        awk '!/^#/ && NF && n++ < 30 { sub(/[ \t]+$/, ""); print }' >"$run_dir/perf-symbols.txt"
    read_profile_load perf
}

read_profile_load() { # KEY: results of the load that ran during profiling
    local line kv
    line=$(grep '^BENCH ' "$run_dir/wrk-$1.txt") || die "no result from the profiling load"
    for kv in ${line#BENCH }; do R[$1.${kv%%=*}]=${kv#*=}; done
}

profiled=()
run_profile() {
    say "phase 5: profiling playlists-api ($profiler)"
    start_service videos-api "$threads" warn profile
    case $profiler in
    perf) profile_with_perf && profiled+=(perf) ;;
    callgrind)
        profile_with_callgrind && profiled+=(callgrind)
        if perf_record_works; then profile_with_perf -e cpu-clock && profiled+=(perf-clock); fi
        ;;
    esac
    stop_services
}
[ "$profiler" = none ] || run_profile

# Start-up: process start to the first 200 from /readyz, each service on its own.
say "start-up times"
python3 "$bench_dir/startup.py" "$run_dir/bin" "${redis_port[playlists-db]}" \
    "${redis_port[videos-db]}" >"$run_dir/startup.md"

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$((SECONDS - start_seconds))

# ---------------------------------------------------------------------------------------------
# The report.

service_name() {
    case $1 in web) echo videos-web ;; pl) echo playlists-api ;; vid) echo videos-api ;; esac
}

scenario_name() {
    case $1 in
    ngx) echo "nginx static file (ceiling)" ;;
    vid) echo "videos-api GET /{id}" ;;
    pl) echo "playlists-api GET / (9 videos)" ;;
    web) echo "videos-web GET /" ;;
    webapi) echo "videos-web GET /api/playlists" ;;
    esac
}

measured_rows() { # PREFIX CEILING_PREFIX SCENARIO... -> "scenario conns key ceiling_key" per run
    local prefix=$1 ceiling=$2 scn c
    shift 2
    for scn in "$@"; do
        for c in "${connection_counts[@]}"; do
            [ -z "$(get "$prefix.$scn.$c" rps)" ] || echo "$scn $c $prefix.$scn.$c $ceiling.ngx.$c"
        done
    done
}

throughput_table() { # PREFIX CEILING_PREFIX SCENARIO... (rows for each connection count present)
    local scn c k n
    echo "| scenario | conns | req/s | vs ceiling | p50 ms | p99 ms | p99.9 ms | p50 / p99 / p99.9 vs ceiling | socket errors | non-2xx | partial |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"
    while read -r scn c k n; do
        printf '| %s | %s | %s | %s | %s | %s | %s | %s / %s / %s | %s | %s | %s |\n' \
            "$(scenario_name "$scn")" "$c" "$(num '%.0f' "$(get "$k" rps)")" \
            "$(percent "$(get "$k" rps)" "$(get "$n" rps)")" \
            "$(ms "$(get "$k" p50_us)")" "$(ms "$(get "$k" p99_us)")" "$(ms "$(get "$k" p999_us)")" \
            "$(ratio "$(get "$k" p50_us)" "$(get "$n" p50_us)")" \
            "$(ratio "$(get "$k" p99_us)" "$(get "$n" p99_us)")" \
            "$(ratio "$(get "$k" p999_us)" "$(get "$n" p999_us)")" \
            "$(get "$k" errors)" "$(get "$k" non2xx)" "$(get "$k" partial)"
    done < <(measured_rows "$@")
}

rss_cell() { local v; v=$(get "$1" "rss_$2"); [ -n "$v" ] && mb "$v" || printf '–'; }
cpu_cell() { local v; v=$(get "$1" "cpu_$2"); [ -n "$v" ] && per_1k "$v" "$(get "$1" requests)" || printf '–'; }
others_cell() { # KEY: the rest of the machine's CPU during the run, in cores
    num '%.2f' "$(awk -v t="$(get "$1" cpu_other)" -v hz="$clk_tck" -v s="$(get "$1" seconds)" 'BEGIN { v = t / hz / s; print v < 0 ? 0 : v }')"
}

resource_table() { # PREFIX CEILING_PREFIX SCENARIO...
    local scn c k n redis_ticks
    echo "| scenario | conns | peak RSS MB web / playlists / videos | RSS sum vs nginx | CPU s per 1k req web / playlists / videos / redis | total | vs ceiling | wrk | others' CPU (cores) |"
    echo "|---|---:|---|---:|---|---:|---:|---:|---:|"
    while read -r scn c k n; do
        local rss_sum=0 label
        for label in web pl vid ngx; do rss_sum=$((rss_sum + ${R[$k.rss_$label]:-0})); done
        if [ "$scn" = ngx ]; then
            printf '| %s | %s | nginx %s (master + workers) | 1.00× | nginx %s | %s | 1.00× | %s | %s |\n' \
                "$(scenario_name "$scn")" "$c" "$(rss_cell "$k" ngx)" "$(cpu_cell "$k" ngx)" \
                "$(cpu_cell "$k" total)" "$(cpu_cell "$k" wrk)" "$(others_cell "$k")"
            continue
        fi
        redis_ticks=$((${R[$k.cpu_rpl]:-0} + ${R[$k.cpu_rvid]:-0}))
        printf '| %s | %s | %s / %s / %s | %s | %s / %s / %s / %s | %s | %s | %s | %s |\n' \
            "$(scenario_name "$scn")" "$c" "$(rss_cell "$k" web)" "$(rss_cell "$k" pl)" "$(rss_cell "$k" vid)" \
            "$(ratio "$rss_sum" "$(get "$n" rss_ngx)")" \
            "$(cpu_cell "$k" web)" "$(cpu_cell "$k" pl)" "$(cpu_cell "$k" vid)" \
            "$(per_1k "$redis_ticks" "$(get "$k" requests)")" "$(cpu_cell "$k" total)" \
            "$(ratio "$(cpu_per_1k_value "$(get "$k" cpu_total)" "$(get "$k" requests)")" \
                "$(cpu_per_1k_value "$(get "$n" cpu_total)" "$(get "$n" requests)")")" \
            "$(cpu_cell "$k" wrk)" "$(others_cell "$k")"
    done < <(measured_rows "$@")
}

logs_table() {
    local w=main.pl.16 i=info.pl.16
    echo "| LOG_LEVEL | req/s | p50 ms | p99 ms | CPU s per 1k req playlists / videos | total | log bytes per request |"
    echo "|---|---:|---:|---:|---|---:|---:|"
    printf '| warn | %s | %s | %s | %s / %s | %s | 0 |\n' "$(num '%.0f' "$(get $w rps)")" \
        "$(ms "$(get $w p50_us)")" "$(ms "$(get $w p99_us)")" "$(cpu_cell $w pl)" "$(cpu_cell $w vid)" "$(cpu_cell $w total)"
    printf '| info | %s (%s) | %s | %s | %s / %s | %s (%s) | %s |\n' "$(num '%.0f' "$(get $i rps)")" \
        "$(ratio "$(get $i rps)" "$(get $w rps)")" \
        "$(ms "$(get $i p50_us)")" "$(ms "$(get $i p99_us)")" "$(cpu_cell $i pl)" "$(cpu_cell $i vid)" "$(cpu_cell $i total)" \
        "$(ratio "$(cpu_per_1k_value "$(get $i cpu_total)" "$(get $i requests)")" "$(cpu_per_1k_value "$(get $w cpu_total)" "$(get $w requests)")")" \
        "$(awk -v b="${R[info.pl.16.log_bytes]:-0}" -v n="$(get $i requests)" 'BEGIN { printf "%.0f", n ? b / n : 0 }')"
}

threads_table() {
    echo "| scenario | THREADS | conns | req/s | vs THREADS=1 | vs nginx, same workers | p50 ms | p99 ms | peak RSS MB (service) | CPU s per 1k req (total) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    local scn n c k one label
    for scn in vid pl; do
        label=vid
        [ "$scn" = pl ] && label=pl
        for c in 16 128; do
            for n in "${thread_counts[@]}"; do
                k=$(threads_key "$n").$scn.$c
                one=$(threads_key 1).$scn.$c
                [ -n "$(get "$k" rps)" ] || continue
                printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(scenario_name "$scn")" "$n" "$c" \
                    "$(num '%.0f' "$(get "$k" rps)")" "$(ratio "$(get "$k" rps)" "$(get "$one" rps)")" \
                    "$(percent "$(get "$k" rps)" "$(get "$(threads_key "$n").ngx.$c" rps)")" \
                    "$(ms "$(get "$k" p50_us)")" "$(ms "$(get "$k" p99_us)")" "$(rss_cell "$k" "$label")" "$(cpu_cell "$k" total)"
            done
        done
    done
}

growth_table() {
    echo "| videos per playlist | conns | req/s | videos/s | p50 ms | p99 ms | p50 per video µs | p99 per video µs | CPU s per 1k videos (total) | socket errors | non-2xx | partial | peak RSS MB playlists / videos |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    local n c k
    for c in "${growth_connections[@]}"; do
        for n in "${growth_sizes[@]}"; do
            k=grow.$n.$c
            [ -n "$(get "$k" rps)" ] || continue
            printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s |\n' "$n" "$c" \
                "$(num '%.0f' "$(get "$k" rps)")" "$(awk -v r="$(get "$k" rps)" -v n="$n" 'BEGIN { printf "%.0f", r * n }')" \
                "$(ms "$(get "$k" p50_us)")" "$(ms "$(get "$k" p99_us)")" \
                "$(awk -v u="$(get "$k" p50_us)" -v n="$n" 'BEGIN { printf "%.0f", u / n }')" \
                "$(awk -v u="$(get "$k" p99_us)" -v n="$n" 'BEGIN { printf "%.0f", u / n }')" \
                "$(per_1k "$(get "$k" cpu_total)" "$(($(get "$k" requests) * n))")" \
                "$(get "$k" errors)" "$(get "$k" non2xx)" "$(get "$k" partial)" \
                "$(rss_cell "$k" pl)" "$(rss_cell "$k" vid)"
        done
    done
}

verdict() { [ "$1" = 1 ] && echo "**met**" || echo "**not met**"; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

targets_section() {
    local ok c k detail=""
    ok=1
    for c in 16 128; do
        k=main.pl.$c
        ge "$(get "$k" rps)" "$(awk -v n="$(get main.ngx.$c rps)" 'BEGIN { print n * 0.05 }')" || ok=0
        [ "$(get "$k" errors)" = 0 ] && [ "$(get "$k" non2xx)" = 0 ] && [ "$(get "$k" partial)" = 0 ] || ok=0
        detail="$detail $c conns: $(percent "$(get "$k" rps)" "$(get main.ngx.$c rps)") of the ceiling, $(get "$k" errors) socket errors, $(get "$k" non2xx) non-2xx, $(get "$k" partial) partial;"
    done
    awk -v p="$(get main.pl.128 p99_us)" 'BEGIN { exit !(p < 25000) }' || ok=0
    echo "- playlists-api GET / at 16 and 128 connections ≥ 5% of the ceiling, zero errors, p99 at 128 < 25 ms: $(verdict $ok) —$detail p99 at 128: $(ms "$(get main.pl.128 p99_us)") ms."
    for c in 16 128; do
        echo "  CPU per exchange at $c connections (all CPU per answer / 10 exchanges): $(awk -v a="$(cpu_per_1k_value "$(get main.pl.$c cpu_total)" "$(get main.pl.$c requests)")" 'BEGIN { printf "%.1f", a * 100 }') µs, $(ratio "$(cpu_per_1k_value "$(get main.pl.$c cpu_total)" "$(get main.pl.$c requests)")" "$(awk -v a="$(cpu_per_1k_value "$(get main.ngx.$c cpu_total)" "$(get main.ngx.$c requests)")" 'BEGIN { print a * 10 }')") nginx's CPU per request (the issue's budget: about 2×)."
    done
    ok=1 detail=""
    for c in 16 128; do
        ge "$(get main.vid.$c rps)" "$(awk -v n="$(get main.ngx.$c rps)" 'BEGIN { print n * 0.6 }')" || ok=0
        detail="$detail $c conns: $(percent "$(get main.vid.$c rps)" "$(get main.ngx.$c rps)");"
    done
    echo "- videos-api GET /{id} at 16 and 128 connections ≥ 60% of the ceiling: $(verdict $ok) —${detail%;}."
    ok=1 detail=""
    local scn
    for scn in vid pl web webapi; do
        k=main.$scn.1000
        [ "$(get "$k" errors)" = 0 ] && [ "$(get "$k" non2xx)" = 0 ] && [ "$(get "$k" partial)" = 0 ] || ok=0
        detail="$detail $(scenario_name "$scn"): $(get "$k" errors) socket errors ($(get "$k" connect) connect, $(get "$k" read) read, $(get "$k" write) write, $(get "$k" timeout) timeout), $(get "$k" non2xx) non-2xx, $(get "$k" partial) partial;"
    done
    echo "- 1000 connections, zero errors in every service: $(verdict $ok) —${detail%;}."
    ok=1 detail=""
    local label max=0 v where=""
    for scn in vid pl web webapi; do
        for label in web pl vid; do
            v=${R[main.$scn.128.rss_$label]:-}
            [ -n "$v" ] || continue
            [ "$v" -lt $((15 * 1024)) ] || ok=0
            if [ "$v" -gt "$max" ]; then
                max=$v
                where="$(service_name "$label") in $(scenario_name "$scn")"
            fi
        done
    done
    echo "- peak RSS of each service < 15 MB at 128 connections: $(verdict $ok) — largest: $(mb "$max") MB ($where)."
}

# C++ names without template arguments and parameter lists: "lexer<…>::scan(…)".
shorten_symbols() { # reads profile lines; PATTERN ends the prefix that is kept as it is
    awk -v prefix="$1" '
    function shorten(s,   out, i, c, angle, paren) {
        out = ""; angle = 0; paren = 0
        for (i = 1; i <= length(s); i++) {
            c = substr(s, i, 1)
            if (paren == 0 && c == "<") { if (angle == 0) out = out "<…>"; angle++; continue }
            if (paren == 0 && c == ">" && angle > 0) { angle--; continue }
            if (angle > 0) continue
            if (c == "(") { if (paren == 0) out = out "(…)"; paren++; continue }
            if (c == ")" && paren > 0) { paren--; continue }
            if (paren > 0) continue
            out = out c
        }
        gsub(/json_abi_v[0-9_]+::/, "", out); gsub(/std::__cxx11::/, "std::", out); sub(/^\?\?\?:/, "", out)
        return out
    }
    match($0, prefix) { print substr($0, 1, RSTART + RLENGTH - 1) shorten(substr($0, RSTART + RLENGTH)); next }
    { print }'
}

callgrind_rows() { # FILE COUNT: the top functions, leaving out the frames that hold everything
    awk -v max="$2" '/^-+$/ { dashes++; next }
        dashes >= 3 && /%\)/ { pct = $2; gsub(/[(%)]/, "", pct); if (pct + 0 < 95 && n++ < max) print }' "$1" |
        sed -E 's/\[[^]]*\/([^/]+)\]$/[\1]/' | shorten_symbols '%\\) +' | cut -c1-160
}

profile_section() {
    [ "$profiler" != none ] || { echo "Profiling skipped (BENCH_PROFILER=none)."; return; }
    local item
    for item in "${profiled[@]}"; do
        case $item in
        callgrind)
            echo "### callgrind: user-space instructions"
            echo
            echo "\`valgrind --tool=callgrind\` on playlists-api (THREADS=1), 4 connections for ${profile_seconds} s,"
            echo "videos-api and Redis native; counters zeroed after start-up. $(get callgrind requests) answers,"
            echo "$(awk -v t="$(get callgrind total_ir)" -v n="$(get callgrind requests)" 'BEGIN { printf "%.0f", n ? t / n : 0 }') instructions per answer (each answer: 1 Redis GET, 9 HTTP calls, 1 answer written)."
            echo "Inclusive figures of recursive functions (the JSON parser and serializer) count nested calls more than once."
            echo
            echo "Self cost, top functions:"
            echo
            echo '```'
            callgrind_rows "$run_dir/callgrind-self.txt" 30
            echo '```'
            echo
            echo "Inclusive cost, top functions below the event loop:"
            echo
            echo '```'
            callgrind_rows "$run_dir/callgrind-inclusive.txt" 45
            echo '```'
            echo
            ;;
        perf | perf-clock)
            echo "### perf: where the time goes, kernel included"
            echo
            echo "\`perf record -g$([ "$item" = perf-clock ] && echo " -e cpu-clock")\` on playlists-api (THREADS=$threads, native), 16 connections for ${profile_seconds} s ($(num '%.0f' "$(get perf rps)") req/s while sampled)$([ "$item" = perf-clock ] && echo "; this machine has no hardware counters, so samples are timer-based")."
            echo
            echo "By binary:"
            echo
            echo '```'
            sed 's/ *$//' "$run_dir/perf-dso.txt"
            echo '```'
            echo
            echo "By function (self):"
            echo
            echo '```'
            shorten_symbols '\\[[.k]\\] +' <"$run_dir/perf-symbols.txt" | cut -c1-160 | sed 's/ *$//'
            echo '```'
            echo
            ;;
        esac
    done
}

old_findings=""
if [ -f "$results_file" ]; then
    old_findings=$(awk '/^## Findings/ { on = 1; next } on && /^## / { exit } on' "$results_file")
fi

machine_section() {
    echo "- Date: $started_at; the run took $((elapsed / 60)) min $((elapsed % 60)) s."
    echo "- Machine: $cores cores (nproc), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)."
    echo "- Load average (1/5/15 min) before the run: $load_start; after: $load_end."
    if awk -v l="${load_start%% *}" -v q="$quiet_limit" 'BEGIN { exit !(l >= q) }'; then
        echo "- **The machine was loaded when the run began** (1-minute load ≥ $quiet_limit): other work shared the cores; see the \"others' CPU\" column."
    fi
    echo "- Tools: $(wrk -v 2>&1 | awk 'NR == 1 {print "wrk", $2}'), $("$nginx_bin" -v 2>&1 | sed 's|.*/||;s|^|nginx |'), $(redis-server --version | awk '{print "redis", $3}' | sed 's/v=//'), $(cmake --version | awk 'NR == 1')."
    echo "- Source: $source_state."
    echo "- Settings: THREADS=$threads (services) and worker_processes $threads (nginx), LOG_LEVEL=warn, LOG_FORMAT=json, $seconds s per run, wrk with 2 threads (1 for 1 connection), wrk's default 2 s timeout. $(passthrough_env | tr '\n' ' ')"
}

report() {
    cat <<EOF
# Benchmark results

Produced by \`$command_line\` (see the top of bench/run.sh). Everything runs on one machine over
loopback: wrk, nginx, the services and their Redis servers share the cores, so compare **ratios to
the ceiling from the same run**; absolute numbers move between machines.

## Machine and run

$(machine_section)

## How to read this

- The ceiling is Debian's nginx serving the playlists-api answer ($(wc -c <"$run_dir/www/playlists.json") bytes) as a static
  file, at the same connection counts. "vs ceiling" for req/s is a percentage of nginx's req/s; for
  latency, CPU and RSS it is a multiple of nginx's figure (above 1× means more).
- Latency is wrk's (no coordinated-omission correction); p99.9 comes from report.lua.
- Socket errors are wrk's connect + read + write + timeout errors; non-2xx and partial (answers with
  X-Videos-Omitted not 0) are counted by bench/report.lua.
- Peak RSS is VmHWM from /proc, reset before each run (\`clear_refs\` 5); each scenario starts fresh
  services. CPU is utime + stime from /proc/PID/stat over the run, per 1000 answered requests; redis
  is both Redis servers; "total" is services + redis (+ nginx for the ceiling); wrk is the load
  generator; "others' CPU" is what the rest of the machine used during the run (in cores).

## Targets

$(targets_section)

## Scenarios (THREADS=$threads, LOG_LEVEL=warn)

$(throughput_table main main ngx vid pl web webapi)

Resources:

$(resource_table main main ngx vid pl web webapi)

## The cost of request logs (playlists-api GET /, 16 connections, all services at LOG_LEVEL=info)

Each playlists answer writes 10 request lines (1 in playlists-api, 9 in videos-api) to a file.

$(logs_table)

## Worker threads: 1 vs 2

$(threads_table)

## Cost growth: one playlist of N synthetic videos (playlists-api GET /, FANOUT_LIMIT=${FANOUT_LIMIT:-32})

$(growth_table)

## Start-up: process start to the first 200 from /readyz

Each service started 20 times alone (Redis already up; bench/startup.py polls /readyz every ms).

$(cat "$run_dir/startup.md")

## Profile: what dominates playlists-api

$(profile_section)

## Findings
${old_findings:-
(None written yet: read the profile above and write here what is worth changing.)}
EOF
}

report >"$results_file.tmp"
mv "$results_file.tmp" "$results_file"
cat "$results_file"
say "report written to $results_file"
