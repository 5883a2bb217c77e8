# shellcheck shell=bash
# Crash and fault injection against a Postgres rotation run by 'rotarr
# rotate': a SIGKILL at every step boundary and inside the commit of each
# file, 200 SIGKILLs at random delays, a full disk and a read-only env
# file during commit.  After each fault 'rotarr resume' must leave the
# server and every file on one password that logs in, and no journal.
#
# Needs a build with -Dfailpoints=true (ROTARR_FAILPOINT and ROTARR_NOW)
# and root for the tmpfs and the read-only bind mount.  RELIABILITY_RUNS
# sets the number of random kills (default 200, 60 in a build with
# AddressSanitizer).  The results of each
# part go to $RELIABILITY_REPORT when that is set.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/pg_roles.sh
. "$(dirname "$0")/pg_roles.sh"

require_services postgres

# A sanitizer build runs each rotation about 2.5 times slower, so it gets
# fewer kills to stay inside meson's 300-second timeout, and valgrind
# (lib.sh) runs it some 20 times slower.
if [ -n "$VALGRIND_LOGS" ]; then
    readonly RUNS=${RELIABILITY_RUNS:-20}
elif ldd "$ROTARR" 2>/dev/null | grep -q libasan; then
    readonly RUNS=${RELIABILITY_RUNS:-60}
else
    readonly RUNS=${RELIABILITY_RUNS:-200}
fi
REPORT=${RELIABILITY_REPORT:-$TEST_TMP/report}
# Ten years ahead: every recorded rotation is due again at this time.
FUTURE=$(( $(date +%s) + 3650 * 86400 ))

report() {
    printf '%s\n' "$*" >>"$REPORT"
}

# make_stack DIR ROLE PASSWORD: a stack whose password is in three places
# of two files: .env (POSTGRES_PASSWORD, APP_DB_PASS) and app.env (a URL).
make_stack() {
    local dir=$1

    mkdir -p "$dir"
    cat >"$dir/compose.yaml" <<EOF
services:
  db:
    image: postgres:16-alpine
    environment:
      POSTGRES_USER: "$2"
      POSTGRES_PASSWORD: \${POSTGRES_PASSWORD}
      POSTGRES_DB: "$2"
    ports:
      - "127.0.0.1:\${POSTGRES_PORT}:5432"
  app:
    image: ghcr.io/example/app:1
    env_file: app.env
    environment:
      DB_PASS: \${APP_DB_PASS}
EOF
    printf 'POSTGRES_PORT=%s\nPOSTGRES_PASSWORD=%s\nAPP_DB_PASS=%s\n' \
        "$ROTARR_PGPORT" "$3" "$3" >"$dir/.env"
    printf 'DATABASE_URL=postgresql://u:%s@db:5432/x\n' "$3" >"$dir/app.env"
    chmod 600 "$dir/.env" "$dir/app.env"
}

# consistent DIR ROLE: no journal, every copy of the password in the
# files is the same, and it logs in.  Prints that password.
consistent() {
    local dir=$1 role=$2 pw

    if [ -e "$dir/.rotarr/journal" ]; then
        echo "  journal left in $dir" >&2
        return 1
    fi
    pw=$(env_value "$dir/.env" POSTGRES_PASSWORD)
    if [ -z "$pw" ] || [ "$(env_value "$dir/.env" APP_DB_PASS)" != "$pw" ] ||
        ! grep -qF "postgresql://u:$pw@db:5432/x" "$dir/app.env"; then
        echo "  the files disagree on the password in $dir" >&2
        return 1
    fi
    if ! can_login "$role" "$pw"; then
        echo "  the files' password does not log in as $role" >&2
        return 1
    fi
    printf '%s\n' "$pw"
}

# Crash points in the order a rotation passes them.  commit-file-N and
# no_temp_files DIR: no temporary file of rotarr ('.NAME.rotarr-*') is
# left in DIR or DIR/.rotarr.
no_temp_files() {
    local left

    left=$(find "$1" "$1/.rotarr" -maxdepth 1 -name '.*.rotarr-*' 2>/dev/null)
    if [ -n "$left" ]; then
        printf '  temporary files left:\n%s\n' "$left" >&2
        return 1
    fi
}

# rename-NAME are inside the commit step; rename-state is the state file
# written while finishing.
readonly CRASH_POINTS=(pending set test rename-.env commit-file-1
    rename-app.env commit-file-2 commit rename-state)

# crash_then_resume POINT: SIGKILL at POINT, then 'rotarr resume'.
check_crash_then_resume() {
    local point=$1 old="crash${1//[^a-z0-9]/}Passw0rdAAAAAAAAAAAAAAA"
    local dir=$TEST_TMP/crash-$1 role pw side journal=none

    local status=0

    role=$(new_role "$old") && make_stack "$dir" "$role" "$old" || return 1
    # A state file that exists already, so finishing replaces it.
    mkdir -m 700 "$dir/.rotarr" &&
        printf 'redis cache requirepass 1\n' >"$dir/.rotarr/state" &&
        chmod 600 "$dir/.rotarr/state" || return 1
    ROTARR_FAILPOINT=$point "$ROTARR" -C "$dir" rotate >"$OUT" 2>"$ERR" ||
        status=$?
    if [ "$status" -ne 137 ]; then
        echo "  rotate at '$point': $(describe_status "$status"), expected" \
            "death by SIGKILL" >&2
        return 1
    fi
    if [ -e "$dir/.rotarr/journal" ]; then
        journal=$(sed -n 's/^step //p' "$dir/.rotarr/journal")
    fi
    expect_exit 0 "$ROTARR" -C "$dir" resume &&
        pw=$(consistent "$dir" "$role") && no_temp_files "$dir" || return 1
    case $point in
        rename-*) assert_contains "$ERR" "removed 1 temporary file" ||
            return 1 ;;
    esac
    side=new
    if [ "$pw" = "$old" ]; then
        side=old
    elif can_login "$role" "$old"; then
        echo "  the old password still logs in" >&2
        return 1
    fi
    assert_contains "$dir/.rotarr/state" "redis cache requirepass 1" &&
        assert_contains "$dir/.rotarr/state" "postgres db POSTGRES_PASSWORD" &&
        report "| postgres | $point | $journal | $side | consistent |"
}

# A crash at the rename of .env leaves one temporary file, and resume
# removes it and nothing else.  It keeps a name that only looks alike, a
# temporary file of a file outside the stack, a symlink, and a file that
# a running writer has locked with a shared flock.
check_resume_removes_only_stale_temp_files() {
    local old=sweepPassw0rdAAAAAAAAAAAAAAAAAAA dir=$TEST_TMP/sweep role
    local status=0 kept name

    role=$(new_role "$old") && make_stack "$dir" "$role" "$old" || return 1
    ROTARR_FAILPOINT=rename-.env "$ROTARR" -C "$dir" rotate >/dev/null \
        2>&1 || status=$?
    [ "$status" -eq 137 ] || {
        echo "  rotate: $(describe_status "$status"), expected SIGKILL" >&2
        return 1; }
    kept=(.env.rotarr-notes .other.rotarr-0123456789abcdef
        ..env.rotarr-0123456789ABCDEF ..env.rotarr-0123456789abcde
        ..env.rotarr-aaaaaaaaaaaaaaaa ..env.rotarr-bbbbbbbbbbbbbbbb)
    for name in "${kept[@]:0:4}"; do
        printf 'kept\n' >"$dir/$name"
    done
    ln -s .env "$dir/..env.rotarr-aaaaaaaaaaaaaaaa"
    : >"$dir/..env.rotarr-bbbbbbbbbbbbbbbb"
    flock -s "$dir/..env.rotarr-bbbbbbbbbbbbbbbb" sleep 10 &
    at_exit "kill $! 2>/dev/null"
    wait_until_locked "$dir/..env.rotarr-bbbbbbbbbbbbbbbb" || return 1
    expect_exit 0 "$ROTARR" -C "$dir" resume &&
        consistent "$dir" "$role" >/dev/null &&
        assert_contains "$ERR" "removed 1 temporary file that an interrupted" ||
        return 1
    for name in "${kept[@]}"; do
        [ -e "$dir/$name" ] || [ -L "$dir/$name" ] || {
            echo "  resume removed '$name'" >&2; return 1; }
    done
    [ "$(find "$dir" -maxdepth 1 -name '.*.rotarr-*' | wc -l)" -eq 6 ]
}

check_failed_test_step_keeps_old_password() {
    local old=failtestPassw0rdAAAAAAAAAAAAAAAA dir=$TEST_TMP/failtest role pw

    role=$(new_role "$old") && make_stack "$dir" "$role" "$old" || return 1
    ROTARR_FAILPOINT=fail-test expect_exit 5 "$ROTARR" -C "$dir" rotate &&
        expect_exit 0 "$ROTARR" -C "$dir" resume &&
        pw=$(consistent "$dir" "$role") && [ "$pw" = "$old" ] || return 1
    report "| postgres | fail-test (new login refused) | none | old | consistent |"
}

# One random kill: starts a rotation, kills it after DELAY_US
# microseconds, resumes, checks.  Prints the journal step the kill left,
# or 'finished'/'none'.
one_random_kill() {
    local dir=$1 role=$2 delay_us=$3 pid step=none status=0

    ROTARR_NOW=$FUTURE "$ROTARR" -C "$dir" rotate >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '0.%06d' "$delay_us")"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" || status=$?
    if [ "$status" -eq 0 ]; then
        step=finished
    elif [ -e "$dir/.rotarr/journal" ]; then
        step=$(sed -n 's/^step //p' "$dir/.rotarr/journal")
    fi
    "$ROTARR" -C "$dir" resume >/dev/null 2>"$TEST_TMP/resume.err" || {
        echo "  resume failed after a kill at ${delay_us}us:" >&2
        cat "$TEST_TMP/resume.err" >&2
        return 1
    }
    consistent "$dir" "$role" >/dev/null && no_temp_files "$dir" || return 1
    printf '%s\n' "$step"
}

# Measures one full rotation in microseconds, so the kills spread over it.
rotation_us() {
    local dir=$1 start end

    start=$(date +%s%N)
    ROTARR_NOW=$FUTURE "$ROTARR" -C "$dir" rotate >/dev/null 2>&1 || return 1
    end=$(date +%s%N)
    printf '%d\n' $(( (end - start) / 1000 ))
}

check_random_kills() {
    local old=randomPassw0rdAAAAAAAAAAAAAAAAAA dir=$TEST_TMP/random role
    local span i delay step ok=0 tally=$TEST_TMP/tally

    role=$(new_role "$old") && make_stack "$dir" "$role" "$old" &&
        span=$(rotation_us "$dir") || return 1
    : >"$tally"
    for (( i = 0; i < RUNS; i++ )); do
        # Delays from 0 to 1.5 times one rotation, so some runs finish.
        delay=$(( (RANDOM * 32768 + RANDOM) % (span * 3 / 2 + 1) ))
        if [ "$delay" -gt 999999 ]; then
            delay=999999
        fi
        step=$(one_random_kill "$dir" "$role" "$delay") || {
            echo "  run $i of $RUNS (delay ${delay}us) is inconsistent" >&2
            break
        }
        printf '%s\n' "$step" >>"$tally"
        ok=$(( ok + 1 ))
    done
    report "random kills: $ok/$RUNS consistent; one rotation took" \
        "${span}us; delays 0 to $(( span * 3 / 2 ))us"
    report "state left by the kill (journal step, or none/finished):"
    sort "$tally" | uniq -c | while read -r count name; do
        report "  $name: $count"
    done
    [ "$ok" -eq "$RUNS" ]
}

# fill_to FREE_KIB DIR: fills the filesystem of DIR until about FREE_KIB
# KiB are left.
fill_to() {
    local avail

    dd if=/dev/zero of="$2/filler" bs=4k status=none 2>/dev/null || true
    avail=$(df --output=avail -k "$2" | tail -n 1)
    truncate -s "-$(( $1 - avail ))K" "$2/filler"
}

check_full_disk_during_commit() {
    # A tmpfs of 1 MiB as the stack directory.  The .env file is padded
    # to 64 KiB with comments, so the journal (one 4 KiB page) still fits
    # but the new copy of .env does not.
    local old=diskPassw0rdAAAAAAAAAAAAAAAAAAAA dir=$TEST_TMP/tmpfs role pw step

    [ "$(id -u)" -eq 0 ] || { echo "  needs root to mount a tmpfs" >&2; return 1; }
    mkdir -p "$dir"
    mount -t tmpfs -o size=1m,mode=0755 tmpfs "$dir" || return 1
    at_exit "umount '$dir'"
    role=$(new_role "$old") && make_stack "$dir" "$role" "$old" || return 1
    head -c 65536 /dev/zero | tr '\0' '#' | fold -w 64 >>"$dir/.env"
    expect_exit 1 "$ROTARR" -C "$dir" status --offline || return 1
    mkdir -m 700 "$dir/.rotarr" && : >"$dir/.rotarr/lock" &&
        : >"$dir/.rotarr/rotate.lock" && fill_to 16 "$dir"
    expect_exit 6 "$ROTARR" -C "$dir" rotate &&
        assert_contains "$ERR" "rotarr resume" || return 1
    [ -e "$dir/.rotarr/journal" ] || { echo "  no journal kept" >&2; return 1; }
    step=$(sed -n 's/^step //p' "$dir/.rotarr/journal")
    rm -f "$dir/filler"
    expect_exit 0 "$ROTARR" -C "$dir" resume &&
        pw=$(consistent "$dir" "$role") && [ "$pw" != "$old" ] || return 1
    report "| postgres | full disk (tmpfs) in commit | $step | new | exit 6, journal kept, resume completes |"
}

check_read_only_env_during_commit() {
    # A read-only bind mount of app.env: even root cannot replace it, so
    # the commit stops after .env is written.
    local old=roenvPassw0rdAAAAAAAAAAAAAAAAAAA dir=$TEST_TMP/roenv role pw step

    [ "$(id -u)" -eq 0 ] || { echo "  needs root for a bind mount" >&2; return 1; }
    role=$(new_role "$old") && make_stack "$dir" "$role" "$old" || return 1
    mount --bind "$dir/app.env" "$dir/app.env" &&
        mount -o remount,ro,bind "$dir/app.env" || return 1
    at_exit "umount '$dir/app.env' 2>/dev/null"
    expect_exit 6 "$ROTARR" -C "$dir" rotate &&
        assert_contains "$ERR" "rotarr resume" || return 1
    [ -e "$dir/.rotarr/journal" ] || { echo "  no journal kept" >&2; return 1; }
    step=$(sed -n 's/^step //p' "$dir/.rotarr/journal")
    umount "$dir/app.env"
    expect_exit 0 "$ROTARR" -C "$dir" resume &&
        pw=$(consistent "$dir" "$role") && [ "$pw" != "$old" ] || return 1
    report "| postgres | read-only app.env in commit | $step | new | exit 6, journal kept, resume completes |"
}

# Redis: one redis-server per check on a free loopback port, started
# here so the shared server of scripts/services keeps its password.
stop_redis_servers() {
    local pidfile pid tries

    for pidfile in "$TEST_TMP"/redis-*/pid; do
        [ -s "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null || continue
        # The server writes its log while it shuts down, so the test's
        # folder can be removed only after it has exited.
        for (( tries = 0; tries < 100; tries++ )); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
    done
}
at_exit stop_redis_servers

# start_redis NAME PASSWORD: starts a protected redis-server and prints
# its port.
start_redis() {
    local dir=$TEST_TMP/redis-$1 attempt

    mkdir -p "$dir"
    # Another test may take the port between the probe and the bind, so
    # a server that does not reply is stopped and started on another.
    for (( attempt = 0; attempt < 3; attempt++ )); do
        start_redis_once "$dir" "$2" && return 0
        if [ -s "$dir/pid" ]; then
            kill "$(cat "$dir/pid")" 2>/dev/null
            rm -f "$dir/pid"
        fi
    done
    echo "  redis-server '$1' does not answer; see $dir/log" >&2
    return 1
}

# start_redis_once DIR PASSWORD: one try of start_redis.
start_redis_once() {
    local dir=$1 port tries

    for (( tries = 0; tries < 50; tries++ )); do
        port=$(( 58000 + RANDOM % 1500 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            break
        fi
    done
    redis-server --requirepass "$2" --port "$port" --bind 127.0.0.1 \
        --save '' --appendonly no --daemonize yes --dir "$dir" \
        --pidfile "$dir/pid" --logfile "$dir/log" >/dev/null || return 1
    for (( tries = 0; tries < 100; tries++ )); do
        if REDISCLI_AUTH=$2 redis-cli -p "$port" ping 2>/dev/null |
            grep -q PONG; then
            printf '%s\n' "$port"
            return 0
        fi
        sleep 0.05
    done
    return 1
}

redis_pong() {
    [ "$(REDISCLI_AUTH=$2 redis-cli -p "$1" ping 2>/dev/null)" = PONG ]
}

# make_redis_stack DIR PORT PASSWORD: the password in .env and in a URL
# in app.env; the server reads it from its command line.
make_redis_stack() {
    mkdir -p "$1"
    cat >"$1/compose.yaml" <<'EOF'
services:
  redis:
    image: redis:7-alpine
    command: ["redis-server", "--requirepass", "${REDIS_PASSWORD:?REDIS_PASSWORD is not set}"]
    ports:
      - "127.0.0.1:${REDIS_PORT}:6379"
  app:
    image: ghcr.io/example/app:1
    env_file: app.env
EOF
    printf 'REDIS_PORT=%s\nREDIS_PASSWORD=%s\n' "$2" "$3" >"$1/.env"
    printf 'REDIS_URL=redis://default:%s@redis:6379/0\n' "$3" >"$1/app.env"
    chmod 600 "$1/.env" "$1/app.env"
}

# redis_consistent DIR PORT: no journal, both files hold one password
# and the server accepts it.  Prints that password.
redis_consistent() {
    local pw

    if [ -e "$1/.rotarr/journal" ]; then
        echo "  journal left in $1" >&2
        return 1
    fi
    pw=$(env_value "$1/.env" REDIS_PASSWORD)
    if [ -z "$pw" ] ||
        ! grep -qF "redis://default:$pw@redis:6379/0" "$1/app.env"; then
        echo "  the files disagree on the password in $1" >&2
        return 1
    fi
    redis_pong "$2" "$pw" || {
        echo "  the server refuses the files' password" >&2; return 1; }
    printf '%s\n' "$pw"
}

# The Redis commit writes each file with its own rename, so the crash
# points inside it are rename-NAME.
readonly REDIS_CRASH_POINTS=(pending set test rename-.env rename-app.env
    commit rename-state)

check_redis_crash_then_resume() {
    local point=$1 old="redis${1//[^a-z0-9]/}Passw0rdAAAAAAAAAAAAAAA"
    local dir=$TEST_TMP/rcrash-$1 port pw side journal=none status=0

    port=$(start_redis "crash-$point" "$old") &&
        make_redis_stack "$dir" "$port" "$old" &&
        mkdir -m 700 "$dir/.rotarr" &&
        printf 'postgres db POSTGRES_PASSWORD 1\n' >"$dir/.rotarr/state" &&
        chmod 600 "$dir/.rotarr/state" || return 1
    ROTARR_FAILPOINT=$point "$ROTARR" -C "$dir" rotate --only redis \
        >"$OUT" 2>"$ERR" || status=$?
    if [ "$status" -ne 137 ]; then
        echo "  rotate at '$point': $(describe_status "$status"), expected" \
            "death by SIGKILL" >&2
        show_output
        return 1
    fi
    if [ -e "$dir/.rotarr/journal" ]; then
        journal=$(sed -n 's/^step //p' "$dir/.rotarr/journal")
    fi
    expect_exit 0 "$ROTARR" -C "$dir" resume &&
        pw=$(redis_consistent "$dir" "$port") &&
        no_temp_files "$dir" || return 1
    side=new
    if [ "$pw" = "$old" ]; then
        side=old
    elif redis_pong "$port" "$old"; then
        echo "  the old password still works" >&2
        return 1
    fi
    report "| redis | $point | $journal | $side | consistent |"
}

check_redis_failed_test_keeps_old_password() {
    local old=redisfailtestPassw0rdAAAAAAAAAAAA dir=$TEST_TMP/rfailtest
    local port pw

    port=$(start_redis failtest "$old") &&
        make_redis_stack "$dir" "$port" "$old" || return 1
    ROTARR_FAILPOINT=fail-test expect_exit nonzero "$ROTARR" -C "$dir" \
        rotate --only redis &&
        expect_exit 0 "$ROTARR" -C "$dir" resume &&
        pw=$(redis_consistent "$dir" "$port") &&
        no_temp_files "$dir" || return 1
    [ "$pw" = "$old" ] || {
        echo "  the files moved to a new password after a failed test" >&2
        return 1; }
    report "| redis | fail-test (new AUTH refused) | none | old | consistent |"
}

: >"$REPORT"
for point in "${CRASH_POINTS[@]}"; do
    check "crash at '$point' then resume" check_crash_then_resume "$point"
done
check "resume removes only stale temp files" \
    check_resume_removes_only_stale_temp_files
check "failed test step keeps old password" check_failed_test_step_keeps_old_password
check "full disk in commit: exit 6, resume" check_full_disk_during_commit
check "read-only env file: exit 6, resume" check_read_only_env_during_commit
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
    for point in "${REDIS_CRASH_POINTS[@]}"; do
        check "redis: crash at '$point' then resume" \
            check_redis_crash_then_resume "$point"
    done
    check "redis: failed test step keeps old password" \
        check_redis_failed_test_keeps_old_password
else
    report "redis matrix skipped: redis-server or redis-cli not installed"
fi
check "$RUNS random kills, each resumed" check_random_kills
cat "$REPORT"
