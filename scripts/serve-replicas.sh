#!/usr/bin/env bash
# N `ovllm serve` replicas on one host, each pinned to its own cores, behind vllm-router.
#
#   scripts/serve-replicas.sh MODEL [options] [-- extra ovllm serve flags]
#
#   --replicas N             replicas (default 2)
#   --threads-per-replica T  inference threads and cores per replica (default nproc / N)
#   --policy P               vllm-router policy: round_robin, cache_aware, kv_aware,
#                            power_of_two, random, ... (default round_robin)
#   --host H                 address of the router and the replicas (default 127.0.0.1)
#   --router-port P          the router's port, the one clients use (default 8000)
#   --base-port P            replica i listens on P + i (default 8100)
#   --kv-events-base-port P  kv_aware: replica i publishes KV events on P + i (default 5557)
#   --router-args "ARGS"     extra vllm-router flags (word-split)
#   --run-dir DIR            logs and replica-<i>.pid files (default a new temporary folder)
#   --restart                restart a replica that exits (a supervisor for tests and demos;
#                            each exit status is appended to replica-<i>.exits). A rolling
#                            restart: SIGTERM one replica; it drains, exits 0, comes back.
#
# Replica i gets cores [i*T, (i+1)*T) through numactl (with its memory on the local node) or
# taskset, whichever is installed; neither: unpinned, with a warning. kv_aware turns on
# prefix caching and KV events on every replica and points the router at them. The router is
# .venv-tools/bin/vllm-router (scripts/test.sh installs the pinned version), else
# `vllm-router` on PATH, else $VLLM_ROUTER. Ctrl-C, SIGTERM or the router exiting stops
# everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
[[ $# -ge 1 && $1 != -h && $1 != --help ]] || usage 0
MODEL=$1
shift
REPLICAS=2
THREADS=0
POLICY=round_robin
HOST=127.0.0.1
ROUTER_PORT=8000
BASE_PORT=8100
EVENTS_PORT=5557
ROUTER_ARGS=""
RUN_DIR=""
RESTART=0
SERVE_ARGS=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --replicas) REPLICAS=$2; shift 2 ;;
        --threads-per-replica) THREADS=$2; shift 2 ;;
        --policy) POLICY=$2; shift 2 ;;
        --host) HOST=$2; shift 2 ;;
        --router-port) ROUTER_PORT=$2; shift 2 ;;
        --base-port) BASE_PORT=$2; shift 2 ;;
        --kv-events-base-port) EVENTS_PORT=$2; shift 2 ;;
        --router-args) ROUTER_ARGS=$2; shift 2 ;;
        --run-dir) RUN_DIR=$2; shift 2 ;;
        --restart) RESTART=1; shift ;;
        --) shift; SERVE_ARGS=("$@"); break ;;
        *) echo "serve-replicas: unknown option $1" >&2; usage 2 ;;
    esac
done

OVLLM=${OVLLM_BINARY:-build/ovllm}
[[ -x $OVLLM ]] || { echo "serve-replicas: no $OVLLM (build it first)" >&2; exit 1; }
ROUTER=${VLLM_ROUTER:-}
if [[ -z $ROUTER ]]; then
    if [[ -x .venv-tools/bin/vllm-router ]]; then ROUTER=.venv-tools/bin/vllm-router
    elif command -v vllm-router >/dev/null; then ROUTER=vllm-router
    else echo "serve-replicas: no vllm-router (pip install -r requirements-tools.txt)" >&2; exit 1
    fi
fi
CORES=$(nproc)
((THREADS > 0)) || THREADS=$((CORES / REPLICAS > 0 ? CORES / REPLICAS : 1))
((REPLICAS * THREADS <= CORES)) ||
    echo "serve-replicas: $REPLICAS x $THREADS threads > $CORES cores: core sets wrap and overlap" >&2
RUN_DIR=${RUN_DIR:-$(mktemp -d -t ovllm-replicas.XXXXXX)}
mkdir -p "$RUN_DIR"

PIDS=()       # replica i's current pid
ROUTER_PID=""
STOPPING=0
stop_all() {
    STOPPING=1
    trap - EXIT INT TERM
    local all=("${PIDS[@]}") t pid alive
    [[ -n $ROUTER_PID ]] && all+=("$ROUTER_PID")
    for pid in "${all[@]}"; do kill "$pid" 2>/dev/null || true; done
    # A replica still loading its model acts on SIGTERM only once it serves: give every
    # process 30 s to finish, then SIGKILL what is left.
    for ((t = 0; t < 60; t++)); do
        alive=0
        for pid in "${all[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.5
    done
    for pid in "${all[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "serve-replicas: stopped (logs in $RUN_DIR)" >&2
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Cores of replica i: a contiguous run of THREADS cores, wrapping past the last one.
core_list() {
    local first=$(($1 * THREADS % CORES)) list="" c
    for ((c = 0; c < THREADS; c++)); do list+="${list:+,}$(((first + c) % CORES))"; done
    echo "$list"
}

pin_prefix() {
    local cores=$1
    if command -v numactl >/dev/null; then echo "numactl --physcpubind=$cores --localalloc"
    elif command -v taskset >/dev/null; then echo "taskset -c $cores"
    fi
}
[[ -n $(pin_prefix 0) ]] || echo "serve-replicas: neither numactl nor taskset: replicas unpinned" >&2

start_replica() {
    local i=$1 port=$((BASE_PORT + $1)) extra=()
    if [[ $POLICY == kv_aware ]]; then
        extra=(--enable-prefix-caching --kv-events-config
            "{\"enable_kv_cache_events\": true, \"publisher\": \"zmq\", \"endpoint\": \"tcp://*:$((EVENTS_PORT + i))\"}")
    fi
    # shellcheck disable=SC2046
    $(pin_prefix "$(core_list "$i")") "$OVLLM" serve "$MODEL" --host "$HOST" --port "$port" \
        --num-threads "$THREADS" "${extra[@]}" "${SERVE_ARGS[@]}" \
        >>"$RUN_DIR/replica-$i.log" 2>&1 &
    PIDS[i]=$!
    echo "${PIDS[i]}" >"$RUN_DIR/replica-$i.pid"
    echo "serve-replicas: replica $i pid ${PIDS[i]} on http://$HOST:$port, cores $(core_list "$i")" >&2
}

wait_healthy() {
    local url=$1 deadline=$((SECONDS + 600))
    until curl -sf -o /dev/null "$url/health"; do
        ((SECONDS < deadline)) || { echo "serve-replicas: $url never became healthy" >&2; exit 1; }
        sleep 0.5
    done
}

for ((i = 0; i < REPLICAS; i++)); do start_replica "$i"; done
URLS=()
for ((i = 0; i < REPLICAS; i++)); do
    URLS+=("http://$HOST:$((BASE_PORT + i))")
    wait_healthy "${URLS[i]}"
done

ROUTER_CMD=("$ROUTER" --host "$HOST" --port "$ROUTER_PORT" --worker-urls "${URLS[@]}"
    --policy "$POLICY")
if [[ $POLICY == kv_aware ]]; then
    # ovllm's blocks hold 32 tokens; the router keys blocks by their token ids.
    # The model name clients send: --served-model-name when given, else MODEL.
    SERVED=$MODEL
    for ((a = 0; a < ${#SERVE_ARGS[@]}; a++)); do
        case ${SERVE_ARGS[a]} in
            --served-model-name) SERVED=${SERVE_ARGS[a + 1]:-$MODEL} ;;
            --served-model-name=*) SERVED=${SERVE_ARGS[a]#*=} ;;
        esac
    done
    ROUTER_CMD+=(--kv-event-block-size 32 --kv-event-model "$SERVED")
    for ((i = 0; i < REPLICAS; i++)); do
        ROUTER_CMD+=(--kv-event-source "${URLS[i]}=tcp://127.0.0.1:$((EVENTS_PORT + i))")
    done
fi
# shellcheck disable=SC2206
ROUTER_CMD+=($ROUTER_ARGS)
"${ROUTER_CMD[@]}" >>"$RUN_DIR/router.log" 2>&1 &
ROUTER_PID=$!
echo "$ROUTER_PID" >"$RUN_DIR/router.pid"
wait_healthy "http://$HOST:$ROUTER_PORT"
echo "serve-replicas: vllm-router ($POLICY) on http://$HOST:$ROUTER_PORT in front of ${URLS[*]}" >&2
echo "ready" >"$RUN_DIR/ready"

# Until the router exits: with --restart, bring back any replica that exited.
while kill -0 "$ROUTER_PID" 2>/dev/null; do
    if ((RESTART)); then
        for ((i = 0; i < REPLICAS; i++)); do
            if ! kill -0 "${PIDS[i]}" 2>/dev/null && ((!STOPPING)); then
                status=0
                wait "${PIDS[i]}" 2>/dev/null || status=$?
                echo "$status" >>"$RUN_DIR/replica-$i.exits"
                echo "serve-replicas: replica $i exited with status $status; restarting it" >&2
                start_replica "$i"
            fi
        done
    fi
    sleep 0.5
done
echo "serve-replicas: the router exited" >&2
