#!/usr/bin/env bash
# The test session of CI, with its services: start Prometheus and Arize Phoenix on 127.0.0.1,
# wait until they are ready, run the whole pytest session against them, stop them.
#
# .ci/run runs this inside a private network namespace that has only loopback:
#     unshare -n -- bash -c 'ip link set lo up && exec bash .ci/integration.sh'
# so nothing a test or a service does can reach past this machine (Phoenix's gRPC listener
# binds [::]; Ray and Daft probe the network). Everything must be installed before (the
# namespace cannot reach the package registries): .ci/run does that.
#
# Uses: python (the CI venv on PATH), prometheus (Debian), .venv-phoenix/bin/phoenix.
# Exits with pytest's exit code (a service that does not start exits 1).
# GRAPHFLOW_CI_PIDFILE (optional): every service pid is appended there, so .ci/run's own EXIT
# trap can stop what this script could not (it is killed, for instance).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PHOENIX="${PHOENIX:-$PWD/.venv-phoenix/bin/phoenix}"
PROMETHEUS_PORT=9090
PHOENIX_PORT=6006
OTLP_GRPC_PORT=4317
METRICS_PORT=9464 # what ci/prometheus.yml scrapes
READY_DEADLINE=120 # seconds, per service (Phoenix is ready in 20-30 s on a loaded machine)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/graphflow-ci.XXXXXX")
PROMETHEUS_PID=""
PHOENIX_PID=""
PYTEST_PID=""

# step NAME COMMAND...: one timed step, as .ci/run prints its phases; returns the command's
# exit code (set -e then stops the script, unless the caller tests it).
step() {
    local name=$1 started rc=0
    shift
    echo
    echo "--> $name"
    started=$(date +%s)
    "$@" || rc=$?
    if [ "$rc" -eq 0 ]; then
        echo "<-- $name: $(($(date +%s) - started))s"
    else
        echo "<-- $name: FAILED after $(($(date +%s) - started))s (exit $rc)" >&2
    fi
    return "$rc"
}

# stop_one NAME PID: SIGTERM, wait up to 20 s, then SIGKILL; always reaps the process.
stop_one() {
    local name=$1 pid=$2 waited=0
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 200 ]; do
            sleep 0.1
            waited=$((waited + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "$name (pid $pid) still running after 20 s: SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
    echo "$name (pid $pid) stopped"
}

show_logs() {
    local log
    for log in "$WORK"/*.log; do
        [ -f "$log" ] || continue
        echo "----- last lines of $(basename "$log") -----" >&2
        tail -n 40 "$log" >&2 || true
    done
}

on_exit() {
    local rc=$?
    trap - EXIT
    if [ "$rc" -ne 0 ]; then
        show_logs
    fi
    stop_one pytest "$PYTEST_PID" # only when this script was stopped mid-session
    stop_one phoenix "$PHOENIX_PID"
    stop_one prometheus "$PROMETHEUS_PID"
    rm -rf "$WORK"
    exit "$rc"
}
trap on_exit EXIT
# A trapped signal interrupts `wait` at once (not a foreground command), so pytest runs in the
# background and is waited for: SIGTERM from .ci/run stops the session and the services now.
trap 'exit 143' TERM
trap 'exit 130' INT

remember_pid() {
    if [ -n "${GRAPHFLOW_CI_PIDFILE:-}" ]; then
        echo "$1" >>"$GRAPHFLOW_CI_PIDFILE"
    fi
}

start_prometheus() {
    mkdir -p "$WORK/prometheus"
    prometheus \
        --config.file="$PWD/ci/prometheus.yml" \
        --storage.tsdb.path="$WORK/prometheus" \
        --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
        --enable-feature=exemplar-storage \
        >"$WORK/prometheus.log" 2>&1 &
    PROMETHEUS_PID=$!
    remember_pid "$PROMETHEUS_PID"
    echo "prometheus pid $PROMETHEUS_PID, log $WORK/prometheus.log"
}

start_phoenix() {
    mkdir -p "$WORK/phoenix"
    PHOENIX_HOST=127.0.0.1 \
        PHOENIX_PORT=$PHOENIX_PORT \
        PHOENIX_GRPC_PORT=$OTLP_GRPC_PORT \
        PHOENIX_WORKING_DIR="$WORK/phoenix" \
        PHOENIX_TELEMETRY_ENABLED=false \
        "$PHOENIX" serve >"$WORK/phoenix.log" 2>&1 &
    PHOENIX_PID=$!
    remember_pid "$PHOENIX_PID"
    echo "phoenix pid $PHOENIX_PID, log $WORK/phoenix.log"
}

# wait_ready NAME PID URL: poll URL until it answers 2xx, the process dies, or the deadline.
wait_ready() {
    local name=$1 pid=$2 url=$3 deadline=$((SECONDS + READY_DEADLINE))
    while true; do
        if python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
            "$url" 2>/dev/null; then
            echo "$name ready at $url"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$name exited before it was ready (see its log below)" >&2
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "$name not ready at $url after ${READY_DEADLINE}s" >&2
            return 1
        fi
        sleep 0.5
    done
}

wait_services() {
    # explicit returns: step runs this where set -e does not apply
    wait_ready prometheus "$PROMETHEUS_PID" "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" || return 1
    wait_ready phoenix "$PHOENIX_PID" "http://127.0.0.1:$PHOENIX_PORT/healthz" || return 1
}

run_pytest() {
    local rc=0
    python -m pytest &
    PYTEST_PID=$!
    wait "$PYTEST_PID" || rc=$?
    PYTEST_PID=""
    return "$rc"
}

echo "network namespace: $(ip -brief address 2>/dev/null | tr '\n' ' ')"
step "start prometheus" start_prometheus
step "start phoenix" start_phoenix
step "wait for the services (at most ${READY_DEADLINE}s each)" wait_services

export GRAPHFLOW_PROMETHEUS_URL="http://127.0.0.1:$PROMETHEUS_PORT"
export GRAPHFLOW_PHOENIX_URL="http://127.0.0.1:$PHOENIX_PORT"
export GRAPHFLOW_OTLP_GRPC="127.0.0.1:$OTLP_GRPC_PORT"
export GRAPHFLOW_METRICS_PORT=$METRICS_PORT
export GRAPHFLOW_REQUIRE_SERVICES=1
export DAFT_ANALYTICS_ENABLED=0
export RAY_USAGE_STATS_ENABLED=0

rc=0
step "pytest" run_pytest || rc=$?
exit "$rc"
