#!/bin/sh
# Runs redis-server holding one database's section of seed.redis, reloaded on every start.
#
# Usage: redis-seeded.sh DATABASE [PORT]    (DATABASE: playlists-db or videos-db)
# Environment: REDIS_BIND (default 127.0.0.1; containers use 0.0.0.0), RUN_DIR (default /tmp),
#              SEED_FILE (default: seed.redis beside this script).
#
# Redis first listens only on a unix socket, is seeded there, and only then opens its TCP port,
# so no client can ever see an empty database: no seeding race, no separate seeding job.
set -eu

database=${1:?usage: redis-seeded.sh DATABASE [PORT]}
port=${2:-6379}
bind=${REDIS_BIND:-127.0.0.1}
run_dir=${RUN_DIR:-/tmp}
seed_file=${SEED_FILE:-$(dirname "$0")/seed.redis}
socket=$run_dir/redis-$database-$port.sock

if ! grep -q "^#@ $database\$" "$seed_file"; then
    echo "redis-seeded: no section '#@ $database' in $seed_file" >&2
    exit 2
fi

redis-server --port 0 --unixsocket "$socket" --unixsocketperm 700 --bind "$bind" \
    --protected-mode no --save '' --appendonly no --dir "$run_dir" &
redis_pid=$!
trap 'kill -TERM "$redis_pid" 2>/dev/null' TERM INT

tries=0
until redis-cli -s "$socket" ping >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ] || ! kill -0 "$redis_pid" 2>/dev/null; then
        echo "redis-seeded: redis-server did not start" >&2
        kill -TERM "$redis_pid" 2>/dev/null || true
        exit 1
    fi
    sleep 0.1
done

awk -v section="#@ $database" '
    /^#@ / { in_section = ($0 == section); next }
    in_section && /^SET / { print }
' "$seed_file" | redis-cli -s "$socket" >/dev/null
redis-cli -s "$socket" config set port "$port" >/dev/null
echo "redis-seeded: $database seeded from $seed_file, listening on $bind:$port"

# A trapped signal interrupts wait (status 128+n) while redis-server is still shutting down:
# keep waiting until it has exited, then report its own exit status.
while :; do
    status=0
    wait "$redis_pid" || status=$?
    kill -0 "$redis_pid" 2>/dev/null || break
done
if [ "$status" -gt 128 ]; then
    status=0
    wait "$redis_pid" 2>/dev/null || status=$?
fi
exit "$status"
