# shellcheck shell=bash
# Throw-away redis-server processes for the integration tests that change
# a Redis password, so that the shared server of scripts/services keeps
# its state.  Sourced after lib.sh.

readonly PORT_FIRST=57400
readonly PORT_SPREAD=1500

# Stops every server the checks started.  start_server runs in a command
# substitution, a subshell whose at_exit would be lost, so the servers
# are found through their pid files instead.  A server writes its log
# while it shuts down, so the test's folder can be removed only after it
# has exited.  All are stopped first, since each takes a second or more
# to exit, then waited for, up to 10 s in all.
stop_servers() {
    local pidfile pid tries pids=()

    for pidfile in "$TEST_TMP"/server-*/pid; do
        [ -s "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        if kill "$pid" 2>/dev/null; then
            pids+=("$pid")
        fi
    done
    for pid in "${pids[@]}"; do
        for (( tries = 0; tries < 200; tries++ )); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
    done
}
at_exit stop_servers

# Prints a free loopback port.
free_port() {
    local port tries

    for (( tries = 0; tries < 200; tries++ )); do
        port=$(( PORT_FIRST + RANDOM % PORT_SPREAD ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    die "no free loopback port from $PORT_FIRST"
}

# start_server NAME [REDIS ARG...]: starts redis-server in its own folder
# and prints its port; it is stopped when the test exits.  A port taken
# between the probe and the bind (the ports lie in the kernel's range
# for outgoing connections) makes it try another one.
start_server() {
    local name=$1 dir port attempt tries
    shift

    dir=$TEST_TMP/server-$name
    mkdir -p "$dir"
    for (( attempt = 0; attempt < 5; attempt++ )); do
        port=$(free_port)
        redis-server "$@" --port "$port" --bind 127.0.0.1 --save '' \
            --appendonly no --daemonize yes --dir "$dir" \
            --pidfile "$dir/pid" --logfile "$dir/log" >/dev/null ||
            die "redis-server '$name' did not start"
        for (( tries = 0; tries < 40; tries++ )); do
            if [ -s "$dir/pid" ] &&
                env -u REDISCLI_AUTH redis-cli -p "$port" ping 2>/dev/null |
                grep -q 'PONG\|NOAUTH'; then
                printf '%s\n' "$port"
                return 0
            fi
            sleep 0.05
        done
    done
    die "redis-server '$name' does not answer; see $dir/log"
}
