#!/usr/bin/env bash
# Runs the whole catalog on this machine, no Docker needed: two seeded redis-server instances
# and the three services, all on loopback. Ctrl-C stops everything.
#
# Settings pass through: FLAKY=true scripts/run.sh turns on videos-api's failures.
# Ports (defaults): WEB_PORT 8080, PLAYLISTS_API_PORT 10010, VIDEOS_API_PORT 10011,
# PLAYLISTS_DB_PORT 16379, VIDEOS_DB_PORT 16380, admin ports ADMIN_PORT_BASE 9090..9092.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
web_port=${WEB_PORT:-8080}
playlists_api_port=${PLAYLISTS_API_PORT:-10010}
videos_api_port=${VIDEOS_API_PORT:-10011}
playlists_db_port=${PLAYLISTS_DB_PORT:-16379}
videos_db_port=${VIDEOS_DB_PORT:-16380}
admin_base=${ADMIN_PORT_BASE:-9090}

"$repo/scripts/install-deps.sh" run
cmake --preset release -S "$repo" >/dev/null
cmake --build "$repo/build/release" -j"$(nproc)" --target videos-api playlists-api videos-web
bin=$repo/build/release/services

run_dir=$(mktemp -d /tmp/servicemesh-demo.XXXXXX)
pids=()
stop_all() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$run_dir"
    echo "catalog stopped"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

start() { # name, then the command; output prefixed with the name
    local name=$1
    shift
    "$@" > >(sed -u "s/^/[$name] /") 2>&1 &
    pids+=($!)
}

wait_until() { # what, url
    for _ in $(seq 1 100); do
        if curl -fsS -o /dev/null "$2" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "run: $1 did not come up ($2)" >&2
    exit 1
}

export RUN_DIR=$run_dir BIND_ADDRESS=127.0.0.1
start playlists-db "$repo/deploy/seed/redis-seeded.sh" playlists-db "$playlists_db_port"
start videos-db "$repo/deploy/seed/redis-seeded.sh" videos-db "$videos_db_port"
for port in "$playlists_db_port" "$videos_db_port"; do
    for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
done

start videos-api env PORT="$videos_api_port" ADMIN_PORT=$((admin_base + 2)) REDIS_HOST=127.0.0.1 \
    REDIS_PORT="$videos_db_port" "$bin/videos-api/videos-api"
start playlists-api env PORT="$playlists_api_port" ADMIN_PORT=$((admin_base + 1)) REDIS_HOST=127.0.0.1 \
    REDIS_PORT="$playlists_db_port" VIDEOS_API_URL="http://127.0.0.1:$videos_api_port" \
    "$bin/playlists-api/playlists-api"
start videos-web env PORT="$web_port" ADMIN_PORT="$admin_base" WEB_ROOT="$repo/web" \
    PLAYLISTS_API_URL="http://127.0.0.1:$playlists_api_port" "$bin/videos-web/videos-web"

wait_until videos-api "http://127.0.0.1:$((admin_base + 2))/readyz"
wait_until playlists-api "http://127.0.0.1:$((admin_base + 1))/readyz"
wait_until videos-web "http://127.0.0.1:$admin_base/readyz"
echo
echo "The catalog is running: open http://127.0.0.1:$web_port/   (FLAKY=${FLAKY:-false}; Ctrl-C stops it)"
echo

# Stop everything as soon as one part stops.
wait -n "${pids[@]}" || true
echo "run: a process stopped; stopping the rest" >&2
