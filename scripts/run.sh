#!/usr/bin/env bash
# Runs the whole catalog on this machine, no Docker needed: two seeded redis-server instances
# and the three services, all on loopback. Ctrl-C stops everything. This is also the one way the
# tests and the benchmark start the catalog (with --bin).
#
# Usage: scripts/run.sh [--bin DIR] [--env SERVICE:NAME=VALUE]...
#   (no option)  install what is missing, build the release preset, run it
#   --bin DIR    run the executables DIR/<service>/<service> (build/<preset>/services);
#                nothing is installed or built
#   --env SERVICE:NAME=VALUE
#                a setting for one service only (videos-api, playlists-api or videos-web),
#                given after the launcher's own, so it may also replace the wiring
#                (REDIS_*, VIDEOS_API_URL, PLAYLISTS_API_URL, WEB_ROOT); repeatable.
#                PORT and ADMIN_PORT come from the port variables below.
#
# Settings pass through to every service: FLAKY=true scripts/run.sh turns on videos-api's failures.
# Ports (defaults): WEB_PORT 8080, PLAYLISTS_API_PORT 10010, VIDEOS_API_PORT 10011,
# PLAYLISTS_DB_PORT 16379, VIDEOS_DB_PORT 16380, ADMIN_PORT_BASE 9090 (videos-web; playlists-api
# base+1, videos-api base+2).
#
# Prints a line starting "The catalog is running" once every service's /readyz answers 200.
# SIGINT or SIGTERM stops every process it started (by PID), removes its temporary folder and
# exits 0 ("catalog stopped: NAME EXIT, ..."). A part that cannot start, stops while running or
# does not exit 0 when stopped ends the run with a message and exit 1.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
services=(videos-api playlists-api videos-web)

fail() {
    echo "run: $*" >&2
    exit 1
}

bin=
overrides=() # SERVICE:NAME=VALUE, in the order given
while [ $# -gt 0 ]; do
    case $1 in
    --bin)
        [ $# -ge 2 ] || fail "--bin needs a folder"
        bin=$(cd "$2" 2>/dev/null && pwd) || fail "--bin $2: no such folder"
        shift 2
        ;;
    --env)
        [ $# -ge 2 ] || fail "--env needs SERVICE:NAME=VALUE"
        [[ $2 =~ ^(videos-api|playlists-api|videos-web):([A-Za-z_][A-Za-z0-9_]*)= ]] ||
            fail "--env $2: expected SERVICE:NAME=VALUE with SERVICE one of ${services[*]}"
        case ${BASH_REMATCH[2]} in PORT | ADMIN_PORT)
            fail "--env $2: ports come from WEB_PORT, PLAYLISTS_API_PORT, VIDEOS_API_PORT, ADMIN_PORT_BASE" ;;
        esac
        overrides+=("$2")
        shift 2
        ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    *) fail "unknown option $1 (see --help)" ;;
    esac
done

web_port=${WEB_PORT:-8080}
playlists_api_port=${PLAYLISTS_API_PORT:-10010}
videos_api_port=${VIDEOS_API_PORT:-10011}
playlists_db_port=${PLAYLISTS_DB_PORT:-16379}
videos_db_port=${VIDEOS_DB_PORT:-16380}
admin_base=${ADMIN_PORT_BASE:-9090}
declare -A admin_port=([videos-web]=$admin_base [playlists-api]=$((admin_base + 1))
    [videos-api]=$((admin_base + 2)))

if [ -z "$bin" ]; then
    "$repo/scripts/install-deps.sh" run
    cmake --preset release -S "$repo" >/dev/null
    cmake --build "$repo/build/release" -j"$(nproc)" --target "${services[@]}"
    bin=$repo/build/release/services
fi
for service in "${services[@]}"; do
    [ -x "$bin/$service/$service" ] || fail "$bin/$service/$service is missing or not executable"
done

# A taken port would only show as a service's bind error among the others' output: say it first.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for check in "WEB_PORT $web_port" "PLAYLISTS_API_PORT $playlists_api_port" \
    "VIDEOS_API_PORT $videos_api_port" "PLAYLISTS_DB_PORT $playlists_db_port" \
    "VIDEOS_DB_PORT $videos_db_port" "ADMIN_PORT_BASE $admin_base" \
    "ADMIN_PORT_BASE+1 $((admin_base + 1))" "ADMIN_PORT_BASE+2 $((admin_base + 2))"; do
    if port_taken "${check#* }"; then fail "port ${check#* } (${check% *}) is already in use on 127.0.0.1"; fi
done

run_dir=$(mktemp -d /tmp/servicemesh-demo.XXXXXX)
declare -A pid_of=()
# shellcheck disable=SC2317 # run by the EXIT trap
stop_all() {
    local rc=$? name status summary=
    trap - INT TERM EXIT
    for name in "${!pid_of[@]}"; do kill -TERM "${pid_of[$name]}" 2>/dev/null || true; done
    for name in "${!pid_of[@]}"; do
        status=0
        wait "${pid_of[$name]}" 2>/dev/null || status=$?
        summary+="${summary:+, }$name $status"
        if [ "$status" -ne 0 ]; then
            echo "run: $name did not stop cleanly (exit $status)" >&2
            rc=1
        fi
    done
    rm -rf "$run_dir"
    echo "catalog stopped: $summary"
    exit "$rc"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

start() { # name, then the command; output prefixed with the name
    local name=$1
    shift
    "$@" > >(sed -u "s/^/[$name] /") 2>&1 &
    pid_of[$name]=$!
}

wait_until() { # name, then a command that succeeds once it is ready
    local name=$1 status=0
    shift
    for _ in $(seq 1 150); do
        if "$@"; then return 0; fi
        if ! kill -0 "${pid_of[$name]}" 2>/dev/null; then
            wait "${pid_of[$name]}" || status=$?
            unset "pid_of[$name]"
            fail "$name stopped while starting (exit $status); its output is above"
        fi
        sleep 0.1
    done
    fail "$name was not ready within 15 s"
}

# shellcheck disable=SC2317 # run by wait_until
redis_ready() { redis-cli -p "$1" ping 2>/dev/null | grep -q PONG; }
# shellcheck disable=SC2317 # run by wait_until
http_ready() { curl -fsS -o /dev/null "$1" 2>/dev/null; }

# A service's settings: the launcher's wiring, then the caller's --env for that service.
start_service() { # service, then the launcher's NAME=VALUE settings
    local service=$1 setting
    local settings=("${@:2}")
    for setting in "${overrides[@]}"; do
        if [[ $setting == "$service:"* ]]; then settings+=("${setting#"$service:"}"); fi
    done
    start "$service" env "${settings[@]}" "$bin/$service/$service"
}

export RUN_DIR=$run_dir BIND_ADDRESS=127.0.0.1
start playlists-db "$repo/deploy/seed/redis-seeded.sh" playlists-db "$playlists_db_port"
start videos-db "$repo/deploy/seed/redis-seeded.sh" videos-db "$videos_db_port"
wait_until playlists-db redis_ready "$playlists_db_port"
wait_until videos-db redis_ready "$videos_db_port"

start_service videos-api PORT="$videos_api_port" ADMIN_PORT="${admin_port[videos-api]}" \
    REDIS_HOST=127.0.0.1 REDIS_PORT="$videos_db_port"
start_service playlists-api PORT="$playlists_api_port" ADMIN_PORT="${admin_port[playlists-api]}" \
    REDIS_HOST=127.0.0.1 REDIS_PORT="$playlists_db_port" VIDEOS_API_URL="http://127.0.0.1:$videos_api_port"
start_service videos-web PORT="$web_port" ADMIN_PORT="${admin_port[videos-web]}" WEB_ROOT="$repo/web" \
    PLAYLISTS_API_URL="http://127.0.0.1:$playlists_api_port"
for service in "${services[@]}"; do
    wait_until "$service" http_ready "http://127.0.0.1:${admin_port[$service]}/readyz"
done

echo
echo "The catalog is running: open http://127.0.0.1:$web_port/   (FLAKY=${FLAKY:-false}; Ctrl-C stops it)"
echo

# Stop everything as soon as one part stops.
stopped=
status=0
wait -n -p stopped "${pid_of[@]}" || status=$?
for name in "${!pid_of[@]}"; do
    if [ "${pid_of[$name]}" = "$stopped" ]; then
        unset "pid_of[$name]"
        fail "$name stopped (exit $status); stopping the rest"
    fi
done
fail "a process stopped (exit $status); stopping the rest"
