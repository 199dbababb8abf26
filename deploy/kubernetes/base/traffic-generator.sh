#!/bin/sh
# Steady, bounded demo traffic: each round sends one GET to every URL in TARGETS, one after the
# other, then sleeps INTERVAL seconds. At most one request is in flight, so the rate never
# exceeds (number of URLs) / INTERVAL requests per second, however slow the answers.
#
# Environment:
#   TARGETS          space-separated URLs (required)
#   INTERVAL         seconds between rounds, may be fractional (default 1)
#   REQUEST_TIMEOUT  seconds before one request is given up (default 5)
#   HOST_HEADER      Host header to send, for an entry that routes by host name (default: none)
#   REPORT_EVERY     print a summary every N rounds (default 60)
#   MAX_ROUNDS       stop after N rounds; 0 runs until stopped (default 0)
# Needs only sh, sleep, timeout and wget (busybox's are enough: the redis:7-alpine image has them).
# The time limit comes from `timeout`, not `wget -T`, which some busybox builds lack.
set -u

targets=${TARGETS:-}
interval=${INTERVAL:-1}
timeout=${REQUEST_TIMEOUT:-5}
host=${HOST_HEADER:-}
report_every=${REPORT_EVERY:-60}
max_rounds=${MAX_ROUNDS:-0}

fail() { echo "traffic-generator: $*" >&2; exit 2; }
is_count() { case $1 in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }
is_seconds() {
    case $1 in '' | . | *[!0-9.]* | *.*.*) return 1 ;; esac
    case $1 in *[1-9]*) return 0 ;; *) return 1 ;; esac  # positive: some digit other than 0
}

[ -n "$targets" ] || fail "TARGETS must list at least one URL"
is_seconds "$interval" || fail "INTERVAL must be a positive number of seconds, got '$interval'"
is_count "$timeout" && [ "$timeout" -gt 0 ] || fail "REQUEST_TIMEOUT must be a positive integer, got '$timeout'"
is_count "$report_every" && [ "$report_every" -gt 0 ] || fail "REPORT_EVERY must be a positive integer, got '$report_every'"
is_count "$max_rounds" || fail "MAX_ROUNDS must be a non-negative integer, got '$max_rounds'"

round=0
ok=0
failed=0
summary() { echo "traffic-generator: rounds=$round ok=$ok failed=$failed"; }
trap 'summary; exit 0' TERM INT

echo "traffic-generator: GET $targets every ${interval}s${host:+ (Host: $host)}"
while [ "$max_rounds" -eq 0 ] || [ "$round" -lt "$max_rounds" ]; do
    round=$((round + 1))
    for url in $targets; do
        if [ -n "$host" ]; then
            set -- --header "Host: $host"
        else
            set --
        fi
        if timeout "$timeout" wget -q -O /dev/null "$@" "$url"; then
            ok=$((ok + 1))
        else
            failed=$((failed + 1))
            echo "traffic-generator: GET $url failed"
        fi
    done
    if [ $((round % report_every)) -eq 0 ]; then
        summary
    fi
    if [ "$max_rounds" -eq 0 ] || [ "$round" -lt "$max_rounds" ]; then
        sleep "$interval"
    fi
done
summary
