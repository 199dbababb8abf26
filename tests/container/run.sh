#!/usr/bin/env bash
# Container test: builds the three images from the Dockerfile exactly as a user would, runs
# docker-compose.yaml with podman-compose, and checks the demo through its published ports:
# the page, the catalog through every hop, a database restart, FLAKY mode; then brings it all down.
# Bash drives podman; what the stack answers is checked in Node (tests/container/check.js).
#
# Usage (as root, Debian 12):  bash tests/container/run.sh
# Environment:
#   CONTAINER_TEST_CACHE   cache kept between runs (default /var/cache/servicemesh-demo-test):
#                          containers.conf, the debootstrapped base rootfs, the last run's logs
#   WEB_PORT, PLAYLISTS_API_PORT, VIDEOS_API_PORT   host ports (default 80, 81, 82), as in compose
#   WAIT_SECONDS           how long the stack may take to answer (default 90)
#
# With no registry reachable, base images are made locally and only when absent:
# debian:bookworm-slim from debootstrap, and a clearly labelled TEST-ONLY redis:7-alpine stand-in.
# See docs/containers.md.
set -euo pipefail

# shellcheck source=tests/lib/debian-rootfs.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/debian-rootfs.sh"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache_dir=${CONTAINER_TEST_CACHE:-/var/cache/servicemesh-demo-test}
log_dir=$cache_dir/last-run
version=1.0.0
services=(videos-api playlists-api videos-web)
# What podman reports as an image's size (MB = 1,000,000 bytes), for each service image.
max_image_bytes=12000000
debian_image=docker.io/library/debian:bookworm-slim
redis_image=docker.io/library/redis:7-alpine
prometheus_image=docker.io/prom/prometheus:v2.53.0
standin_label=io.servicemesh-demo.test-standin
project=smdemo-test-$$
export WEB_PORT=${WEB_PORT:-80}
export PLAYLISTS_API_PORT=${PLAYLISTS_API_PORT:-81}
export VIDEOS_API_PORT=${VIDEOS_API_PORT:-82}
export PROMETHEUS_PORT=${PROMETHEUS_PORT:-9099}
wait_seconds=${WAIT_SECONDS:-90}
# The compose file reads these from the shell: the checks expect the defaults unless said otherwise.
unset FLAKY FLAKY_RATE FLAKY_STATUS FLAKY_MODE FLAKY_SEED LATENCY_MS LATENCY_JITTER_MS ENVIRONMENT \
    VIDEOS_API_TIMEOUT_MS WEB_VERSION LOG_LEVEL LOG_FORMAT
# A video of the seed, asked for by name (tests/container/check.js reads it too).
export KNOWN_VIDEO=jM36M39MA3I
stack_started=false
volumes_before=
networks_before=
image_sizes=()
phase_names=()
phase_seconds=()
phase_name=
phase_start=

# ---------------------------------------------------------------- helpers

log() { printf '[container-test] %s\n' "$*"; }
fail() {
    printf '[container-test] FAIL: %s\n' "$*" >&2
    exit 1
}

now() { date +%s.%N; }

begin_phase() {
    phase_name=$1
    phase_start=$(now)
    log "== $phase_name"
}

end_phase() {
    local took
    took=$(awk -v a="$phase_start" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
    phase_names+=("$phase_name")
    phase_seconds+=("$took")
    log "   $phase_name took ${took}s"
    phase_name=
}

print_timings() {
    local i
    [[ ${#phase_names[@]} -gt 0 ]] || return 0
    log "phase timings:"
    for i in "${!phase_names[@]}"; do
        printf '[container-test]   %-40s %7ss\n' "${phase_names[$i]}" "${phase_seconds[$i]}"
    done
}

print_sizes() {
    local line
    [[ ${#image_sizes[@]} -gt 0 ]] || return 0
    log "image sizes:"
    for line in "${image_sizes[@]}"; do
        printf '[container-test]   %-40s %9s\n' "${line%% *}" "${line#* }"
    done
}

# Runs a command with its output in a log file; on failure shows the log's tail.
logged() {
    local name=$1
    shift
    if ! "$@" >"$log_dir/$name.log" 2>&1; then
        log "command failed: $*"
        tail -n 40 "$log_dir/$name.log" | sed 's/^/    | /' >&2
        fail "see $log_dir/$name.log"
    fi
}

compose_files=(-f docker-compose.yaml)
compose() { (cd "$repo" && podman-compose -p "$project" "${compose_files[@]}" "$@"); }

# podman-compose 1.0.3 goes on (and exits 0) when podman cannot create or start a container:
# find each podman command that failed in its log and print it with podman's error.
compose_errors() {
    awk '/^podman / { command = $0 }
         /^Error: / { print "    command: " command; print "    " $0; found = 1 }
         END { exit found ? 0 : 1 }' "$1"
}

# compose up -d with its output in NAME.log; fails at once, naming the failed podman command
# and its error, when a container could not be created.
compose_up() {
    local name=$1 errors
    logged "$name" compose up -d
    if errors=$(compose_errors "$log_dir/$name.log"); then
        printf '%s\n' "$errors" >&2
        fail "podman-compose could not create or start every container (see $log_dir/$name.log)"
    fi
}

project_containers() {
    podman ps -a -q --filter "label=io.podman.compose.project=$project"
}

service_container() {
    podman ps -a -q --filter "label=io.podman.compose.project=$project" \
        --filter "label=com.docker.compose.service=$1"
}

# Checks of the running stack, in Node (tests/container/check.js, which says what each checks):
# check runs an assertion, which ends the test when it fails; holds asks a condition quietly.
check() { node "$repo/tests/container/check.js" "$@" || exit 1; }
holds() { node "$repo/tests/container/check.js" "$@" >/dev/null 2>&1; }

wait_until() {
    local seconds=$1 what=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        if ((SECONDS >= deadline)); then
            fail "$what: not within ${seconds}s"
        fi
        sleep 1
    done
}

# ---------------------------------------------------------------- clean-up

remove_stack() {
    local ids volumes
    ids=$(project_containers)
    volumes=
    if [[ -n $ids ]]; then
        # Anonymous volumes (redis:7-alpine declares VOLUME /data) outlive podman-compose down.
        # shellcheck disable=SC2086
        volumes=$(podman inspect --format '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}' $ids 2>/dev/null || true)
    fi
    compose down >"$log_dir/compose-down.log" 2>&1 || true
    ids=$(project_containers)
    # shellcheck disable=SC2086
    [[ -z $ids ]] || podman rm -f -v $ids >/dev/null 2>&1 || true
    for volume in $volumes; do
        podman volume rm -f "$volume" >/dev/null 2>&1 || true
    done
    # podman-compose down leaves the project's network behind.
    podman network rm -f "${project}_default" >/dev/null 2>&1 || true
}

dump_stack() {
    local id name
    for id in $(project_containers); do
        name=$(podman inspect --format '{{.Name}}' "$id" 2>/dev/null || echo "$id")
        log "--- last log lines of $name ($(podman inspect --format '{{.State.Status}}' "$id" 2>/dev/null))"
        podman logs --tail 15 "$id" 2>&1 | sed 's/^/    | /' || true
    done
}

cleanup() {
    local rc=$?
    trap - EXIT
    set +e
    if [[ -n $phase_name ]]; then
        log "failed during: $phase_name"
    fi
    if [[ $stack_started == true ]]; then
        [[ $rc -eq 0 ]] || dump_stack
        log "bringing the stack down"
        remove_stack
    fi
    print_timings
    print_sizes
    if [[ $rc -eq 0 ]]; then
        log "PASS"
    else
        log "FAILED (exit $rc); logs in $log_dir"
    fi
    exit "$rc"
}

# ---------------------------------------------------------------- phases

phase_setup() {
    begin_phase "setup: podman and tools"
    [[ $(id -u) -eq 0 ]] || fail "run as root (podman with runc and cgroupfs, apt-get)"
    # One list of what the tests need (podman's catatonit and the CNI dnsname plugin included).
    "$repo/scripts/install-deps.sh" test
    mkdir -p "$cache_dir" "$log_dir"
    rm -f "$log_dir"/*.log
    # CONTAINERS_CONF replaces the system file, so both sections are here (see containers.md).
    cat >"$cache_dir/containers.conf" <<'EOF'
[containers]
default_ulimits = []
pids_limit = 0
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOF
    export CONTAINERS_CONF=$cache_dir/containers.conf
    log "podman $(podman version --format '{{.Client.Version}}'), $(podman-compose version 2>/dev/null | grep -o 'podman-compos.* version *[0-9.]*' | sed 's/composer/compose/; s/  */ /g')"
    end_phase
}

phase_check_ports() {
    begin_phase "check host ports"
    local variable
    for variable in WEB_PORT PLAYLISTS_API_PORT VIDEOS_API_PORT PROMETHEUS_PORT; do
        check port-free "$variable"
    done
    log "ports $WEB_PORT, $PLAYLISTS_API_PORT, $VIDEOS_API_PORT are free"
    end_phase
}

phase_base_images() {
    begin_phase "base images"
    if podman image exists "$debian_image"; then
        log "$debian_image: present in podman's store, used as it is"
    else
        local tarball=$cache_dir/debian-bookworm-slim-rootfs.tar
        if [[ -s $tarball ]]; then
            log "$debian_image absent and no registry: importing the cached debootstrap rootfs $tarball"
        else
            log "$debian_image absent and no registry: making it with debootstrap (cached in $tarball; log: $log_dir/debootstrap.log)"
            make_debian_rootfs "$tarball" "$log_dir/debootstrap.log" || fail "debootstrap failed"
        fi
        # Images built on it inherit the second label: they say they were built on this stand-in.
        logged debian-import podman import \
            --change 'CMD ["bash"]' \
            --change 'LABEL org.opencontainers.image.description="TEST-ONLY: debootstrapped Debian bookworm (minbase) standing in for debian:bookworm-slim"' \
            --change 'LABEL io.servicemesh-demo.test-base="debootstrapped Debian bookworm, not the official debian:bookworm-slim"' \
            "$tarball" "$debian_image"
        log "$debian_image imported from the debootstrapped rootfs"
    fi

    ensure_image_or_standin "$redis_image" redis-standin.Containerfile "Debian's redis-server"
    ensure_image_or_standin "$prometheus_image" prometheus-standin.Containerfile "Debian's prometheus"
    end_phase
}

# IMAGE CONTAINERFILE WHAT: uses IMAGE if podman has it; otherwise, with no registry to pull
# from, builds a clearly labelled TEST-ONLY stand-in under that name from a Containerfile here.
ensure_image_or_standin() {
    local image=$1 containerfile=$2 what=$3 standin
    if podman image exists "$image"; then
        standin=$(podman image inspect --format "{{index .Labels \"$standin_label\"}}" "$image")
        if [[ $standin == true ]]; then
            log "NOTE: $image in podman's store is the TEST-ONLY stand-in built by an earlier run" \
                "($what, tests/container/$containerfile), not the official image"
        else
            log "$image: present in podman's store, used as it is"
        fi
    else
        log "NOTE: $image is absent and no registry can be reached: building a TEST-ONLY stand-in"
        log "      from $what (tests/container/$containerfile). It is not the official image."
        logged "standin-${containerfile%%.*}" podman build --network=host \
            -f "$repo/tests/container/$containerfile" -t "$image" "$repo/tests/container"
    fi
}

phase_build() {
    local service
    for service in "${services[@]}"; do
        begin_phase "build servicemesh/$service:$version"
        # Exactly the user's command, from the repository root.
        (cd "$repo" && logged "build-$service" podman build --network=host -f Dockerfile \
            --target "$service" -t "servicemesh/$service:$version" .)
        end_phase
    done
    local bytes too_large=()
    for service in "${services[@]}"; do
        bytes=$(podman image inspect --format '{{.Size}}' "servicemesh/$service:$version")
        image_sizes+=("servicemesh/$service:$version $(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1000000 }')")
        ((bytes <= max_image_bytes)) || too_large+=("servicemesh/$service:$version")
    done
    print_sizes
    [[ ${#too_large[@]} -eq 0 ]] ||
        fail "larger than $((max_image_bytes / 1000000)) MB: ${too_large[*]} (each image is its executable and the libraries it links)"
    for service in "${services[@]}"; do
        # Nothing but the executable and its libraries: not even a shell.
        if podman run --rm --entrypoint /bin/sh "servicemesh/$service:$version" -c true >/dev/null 2>&1; then
            fail "servicemesh/$service:$version holds a shell"
        fi
    done
    for service in "${services[@]}"; do
        local user
        user=$(podman image inspect --format '{{.Config.User}}' "servicemesh/$service:$version")
        [[ $user == 10001:10001 ]] || fail "servicemesh/$service:$version runs as '$user', expected 10001:10001"
    done
}

phase_up() {
    begin_phase "compose up, wait until it answers"
    volumes_before=$(podman volume ls -q | sort)
    networks_before=$(podman network ls -q | sort)
    stack_started=true
    compose_up compose-up
    wait_until "$wait_seconds" "the stack answering on ports $WEB_PORT, $PLAYLISTS_API_PORT, $VIDEOS_API_PORT" holds answering
    end_phase
}

phase_checks() {
    begin_phase "checks through the published ports"
    check catalogs

    # The healthchecks compose declares, run by hand (nothing runs them on a machine without
    # systemd). The services' are exec form (their images hold no shell), which podman-compose
    # 1.0.3 wraps in /bin/sh -c anyway: run exactly the declared command in the container.
    local service id
    local -a check
    for service in videos-db playlists-db "${services[@]}"; do
        id=$(service_container "$service")
        [[ -n $id ]] || fail "no container for $service"
        mapfile -t check < <(node "$repo/tests/container/check.js" healthcheck "$service")
        [[ ${#check[@]} -gt 0 ]] || fail "no healthcheck for $service in docker-compose.yaml"
        if [[ ${check[0]} == CMD ]]; then
            podman exec "$id" "${check[@]:1}" >/dev/null 2>&1 ||
                fail "the healthcheck of $service (${check[*]:1}) fails"
        else
            podman healthcheck run "$id" >/dev/null 2>&1 || fail "the healthcheck of $service fails"
        fi
    done
    log "ok  the healthchecks of all five containers pass (the services' own --probe among them)"
    end_phase
}

phase_restart_db() {
    begin_phase "restart videos-db, data comes back"
    local id started
    id=$(service_container videos-db)
    started=$(podman inspect --format '{{.State.StartedAt}}' "$id")
    logged restart-videos-db podman restart "$id"
    [[ $(podman inspect --format '{{.State.StartedAt}}' "$id") != "$started" ]] || fail "videos-db was not restarted"
    wait_until 30 "videos-api answering 200 for $KNOWN_VIDEO after the restart" holds known-video
    wait_until 30 "the full catalog through videos-web after the restart" holds full-catalog
    log "ok  videos-db restarted (nothing persisted, re-seeded at start): videos-api and the catalog are back"
    end_phase
}

phase_flaky() {
    begin_phase "FLAKY=true FLAKY_RATE=0.5"
    remove_stack
    FLAKY=true FLAKY_RATE=0.5 compose_up compose-up-flaky
    wait_until "$wait_seconds" "the FLAKY stack answering" holds flaky-answering
    check flaky
    end_phase
}

phase_metrics() {
    begin_phase "metrics overlay: Prometheus scrapes all three services"
    remove_stack
    compose_files=(-f docker-compose.yaml -f docker-compose.metrics.yaml)
    compose_up compose-up-metrics
    wait_until "$wait_seconds" "Prometheus on :$PROMETHEUS_PORT reporting videos-web, playlists-api and videos-api up" holds prometheus-up
    log "ok  Prometheus (:$PROMETHEUS_PORT) scrapes videos-web, playlists-api and videos-api: all up"
    check overlay-catalog
    wait_until 30 "Prometheus having scraped playlists-api's calls to videos-api" holds prometheus-has-calls
    check prometheus-calls
    end_phase
}

phase_down() {
    begin_phase "compose down, nothing left"
    remove_stack
    stack_started=false
    local left
    left=$(project_containers)
    [[ -z $left ]] || fail "containers left: $left"
    left=$(comm -13 <(echo "$networks_before") <(podman network ls -q | sort))
    [[ -z $left ]] || fail "networks left: $left"
    # Anonymous volumes carry no project label: compare with the volumes there were before.
    left=$(comm -13 <(echo "$volumes_before") <(podman volume ls -q | sort))
    [[ -z $left ]] || fail "volumes left: $left"
    log "ok  no containers, networks or volumes of project $project are left"
    end_phase
}

main() {
    trap cleanup EXIT
    # A signal ends the script through exit, so that the EXIT trap still cleans up.
    trap 'exit 130' INT
    trap 'exit 143' TERM
    local start=$SECONDS
    log "repository $repo, compose project $project, cache $cache_dir"
    phase_setup
    phase_check_ports
    phase_base_images
    phase_build
    phase_up
    phase_checks
    phase_restart_db
    phase_flaky
    phase_metrics
    phase_down
    log "all checks passed in $((SECONDS - start))s"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
