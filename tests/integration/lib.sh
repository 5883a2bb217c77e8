# shellcheck shell=bash
# Helpers for the integration tests, sourced by each tests/integration/*.sh.
#
# meson runs every test with ROTARR (the binary under test),
# ROTARR_EXAMPLES, ROTARR_SOURCE_ROOT and ROTARR_SHARED in the environment.
# scripts/test adds the ROTARR_PG* and ROTARR_REDIS_* variables printed by
# 'scripts/services start'.
#
# With ROTARR_VALGRIND set to a folder ('meson test --setup valgrind'),
# ROTARR names a script that runs the binary under memcheck through
# tests/tools/valgrind-rotarr, with the logs in ROTARR_VALGRIND/TEST_NAME/.
# A check fails when a run during it left a non-empty log.
# ROTARR_BINARY always names the binary itself, for checks that read the
# file or must run it without valgrind.  ROTARR_BIN_DIR is a folder to
# put on PATH whose executable 'rotarr' is ROTARR.
#
# A test is a list of named checks:
#
#   check "unknown verb exits 2" check_unknown_verb
#
# A check is a function that returns non-zero when it fails; the helpers
# below print the reason to stderr.  bash ignores set -e inside a function
# called from 'if', so a check chains its steps with && or '|| return 1'.
# Failed checks are counted and the test exits 1 at the end when any
# failed.  meson reads exit status 77 as a skip.

set -euo pipefail

# Exit status that meson reads as "skipped".
readonly SKIP_STATUS=77

: "${ROTARR:?ROTARR must name the rotarr binary; run the test through meson}"
if [ ! -x "$ROTARR" ]; then
    printf 'error: ROTARR=%s is not an executable file\n' "$ROTARR" >&2
    exit 1
fi

TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rotarr-$TEST_NAME.XXXXXX")
# Standard output and error of the last expect_exit.
OUT=$TEST_TMP/stdout
ERR=$TEST_TMP/stderr

# shellcheck disable=SC2034 # for the tests that source this file
ROTARR_BINARY=$ROTARR
ROTARR_BIN_DIR=$(dirname "$ROTARR")
VALGRIND_LOGS=
if [ -n "${ROTARR_VALGRIND:-}" ]; then
    : "${ROTARR_TOOLS:?ROTARR_TOOLS must name tests/tools}"
    VALGRIND_LOGS=$ROTARR_VALGRIND/$TEST_NAME
    rm -rf -- "$VALGRIND_LOGS"
    mkdir -p -- "$VALGRIND_LOGS"
    # Some checks run rotarr as 'nobody', which must write its log too.
    chmod 1777 -- "$VALGRIND_LOGS"
    ROTARR_BIN_DIR=$VALGRIND_LOGS/bin
    mkdir -m 0755 -- "$ROTARR_BIN_DIR"
    # The paths are written into the script, not exported, so that a
    # run under 'env -i' finds them too.
    printf '#!/bin/bash\nexec %q %q %q "$@"\n' \
        "$ROTARR_TOOLS/valgrind-rotarr" "$VALGRIND_LOGS" "$ROTARR" \
        >"$ROTARR_BIN_DIR/rotarr"
    chmod +x -- "$ROTARR_BIN_DIR/rotarr"
    ROTARR=$ROTARR_BIN_DIR/rotarr
fi

checks_run=0
checks_failed=0
at_exit_commands=()

# Registers a command to run when the test exits, last registered first.
# Used to drop roles and stop processes that a test created.
at_exit() {
    at_exit_commands+=("$*")
}

lib_exit() {
    local status=$? i

    for (( i = ${#at_exit_commands[@]} - 1; i >= 0; i-- )); do
        eval "${at_exit_commands[i]}" || true
    done
    if [ -n "$VALGRIND_LOGS" ]; then
        # Runs outside any check, such as a test's set-up, count too.
        if ! valgrind_logs_clean; then
            fail "valgrind found errors outside the checks"
        fi
        valgrind_summary
    fi
    if [ "${ROTARR_KEEP_TMP:-}" = 1 ]; then
        printf 'kept %s\n' "$TEST_TMP"
    else
        rm -rf -- "$TEST_TMP"
    fi
    if [ "$status" -eq 0 ] && [ "$checks_failed" -gt 0 ]; then
        status=1
    fi
    if [ "$status" -ne "$SKIP_STATUS" ]; then
        printf '%s: %d checks, %d failed\n' "$TEST_NAME" "$checks_run" \
            "$checks_failed"
    fi
    exit "$status"
}
trap lib_exit EXIT
trap 'printf "error: %s:%d: command failed: %s\n" "$0" "$LINENO" \
    "$BASH_COMMAND" >&2' ERR

# Records a failure with its reason; the test goes on with the next check.
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    checks_failed=$(( checks_failed + 1 ))
}

# Stops the whole test: for a broken set-up, not for a failed check.
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Prints every valgrind log that is not empty and was not printed
# before, and renames it to .failed.  Returns 1 when there was one.
valgrind_logs_clean() {
    local log found=0

    [ -n "$VALGRIND_LOGS" ] || return 0
    for log in "$VALGRIND_LOGS"/rotarr.*.log; do
        [ -s "$log" ] || continue
        printf '  valgrind: %s\n' "$log" >&2
        head -n 60 -- "$log" | sed 's/^/    /' >&2
        mv -- "$log" "$log.failed"
        found=1
    done
    return "$found"
}

# Prints how many rotarr processes ran under valgrind and how many of
# them left a report, and removes the empty logs.
valgrind_summary() {
    local runs failed

    runs=$(find "$VALGRIND_LOGS" -name 'rotarr.*.log*' | wc -l)
    failed=$(find "$VALGRIND_LOGS" -name '*.failed' | wc -l)
    find "$VALGRIND_LOGS" -name 'rotarr.*.log' -empty -delete
    printf '%s: %d rotarr runs under valgrind, %d with errors (logs in %s)\n' \
        "$TEST_NAME" "$runs" "$failed" "$VALGRIND_LOGS"
}

# Runs one named check: check DESCRIPTION FUNCTION [ARG...].
check() {
    local description=$1 passed=1
    shift
    checks_run=$(( checks_run + 1 ))
    # bash ignores set -e in the check, as it would inside 'if'.
    "$@" || passed=0
    valgrind_logs_clean || passed=0
    if [ "$passed" -eq 1 ]; then
        printf 'ok %d - %s\n' "$checks_run" "$description"
    else
        printf 'not ok %d - %s\n' "$checks_run" "$description"
        fail "$description"
    fi
}

# Prints how a process with exit status $1 ended, as bash reports it.
describe_status() {
    local status=$1 signal

    if [ "$status" -gt 128 ] && [ "$status" -lt 192 ]; then
        signal=$(kill -l "$(( status - 128 ))" 2>/dev/null || echo '?')
        printf 'killed by signal SIG%s (%d)' "$signal" "$(( status - 128 ))"
    else
        printf 'exit status %d' "$status"
    fi
}

# Shows the captured output of the last command, for a failed check.
show_output() {
    local name

    for name in stdout stderr; do
        if [ -s "$TEST_TMP/$name" ]; then
            printf '  %s:\n' "$name" >&2
            head -n 20 "$TEST_TMP/$name" | sed 's/^/    /' >&2
        fi
    done
}

# expect_exit EXPECTED COMMAND [ARG...]
#
# Runs the command with stdout in $OUT and stderr in $ERR, or stdout in
# $STDOUT_TO when that is set (STDOUT_TO=/dev/full expect_exit ...).
# EXPECTED is a number, or 'nonzero' for any failure that is a clean exit
# (1 to 125).  Death by a signal never matches, so a crash is reported as
# one, not as a failure status.  Returns 0 when the status matches.
expect_exit() {
    local expected=$1 status=0
    shift

    : >"$OUT"
    : >"$ERR"
    "$@" >"${STDOUT_TO:-$OUT}" 2>"$ERR" || status=$?
    if [ "$status" -gt 128 ]; then
        printf '  %s: %s, expected %s\n' "$*" "$(describe_status "$status")" \
            "$expected" >&2
        show_output
        return 1
    fi
    if [ "$expected" = nonzero ]; then
        if [ "$status" -ge 1 ] && [ "$status" -le 125 ]; then
            return 0
        fi
    elif [ "$status" -eq "$expected" ]; then
        return 0
    fi
    printf '  %s: exit status %d, expected %s\n' "$*" "$status" \
        "$expected" >&2
    show_output
    return 1
}

# assert_contains FILE TEXT: FILE contains TEXT as a fixed string.
assert_contains() {
    if ! grep -qF -- "$2" "$1"; then
        printf '  %s does not contain "%s"\n' "$(basename "$1")" "$2" >&2
        show_output
        return 1
    fi
}

# assert_not_contains FILE TEXT: FILE does not contain TEXT.
assert_not_contains() {
    if grep -qF -- "$2" "$1"; then
        printf '  %s contains "%s"\n' "$(basename "$1")" "$2" >&2
        show_output
        return 1
    fi
}

# assert_match FILE REGEX: some line of FILE matches the extended REGEX.
assert_match() {
    if ! grep -qE -- "$2" "$1"; then
        printf '  no line of %s matches /%s/\n' "$(basename "$1")" "$2" >&2
        show_output
        return 1
    fi
}

# assert_empty FILE: FILE has no bytes.
assert_empty() {
    if [ -s "$1" ]; then
        printf '  %s is not empty\n' "$(basename "$1")" >&2
        show_output
        return 1
    fi
}

# assert_lines FILE N: FILE has exactly N lines.
assert_lines() {
    local count

    count=$(wc -l <"$1")
    if [ "$count" -ne "$2" ]; then
        printf '  %s has %d lines, expected %d\n' "$(basename "$1")" \
            "$count" "$2" >&2
        show_output
        return 1
    fi
}

# assert_file_mode MODE FILE: FILE's permission bits are MODE (octal,
# leading zeros optional: 600 and 0600 are the same).
assert_file_mode() {
    local expected=$1 file=$2 actual

    if [ ! -e "$file" ]; then
        printf '  %s does not exist\n' "$file" >&2
        return 1
    fi
    actual=$(stat -c %a -- "$file")
    if [ "$(( 8#$actual ))" -ne "$(( 8#$expected ))" ]; then
        printf '  %s has mode %s, expected %s\n' "$file" "$actual" \
            "$expected" >&2
        return 1
    fi
}

# Rejects a server address that is not loopback: the tests must only reach
# servers that scripts/services started on this machine.
require_loopback() {
    case "$1" in
        127.* | ::1 | localhost) ;;
        *) die "'$1' is not a loopback address; the tests connect only to" \
               "servers started by scripts/services" ;;
    esac
}

# require_services [postgres] [redis]
#
# Checks that scripts/services' variables are set (both servers when no
# argument is given).  Without them the test is skipped (exit 77), except
# under CI=true, where a missing server is a failure.
# shellcheck disable=SC2120 # the arguments are optional
require_services() {
    local wanted=("$@") missing=() name var

    if [ "${#wanted[@]}" -eq 0 ]; then
        wanted=(postgres redis)
    fi
    for name in "${wanted[@]}"; do
        case "$name" in
            postgres)
                for var in ROTARR_PGHOST ROTARR_PGPORT ROTARR_PGUSER \
                    ROTARR_PGPASSFILE; do
                    [ -n "${!var:-}" ] || missing+=("$var")
                done ;;
            redis)
                [ -n "${ROTARR_REDIS_PORT:-}" ] ||
                    missing+=(ROTARR_REDIS_PORT) ;;
            *) die "require_services: unknown service '$name'" ;;
        esac
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        if [ "${CI:-}" = true ]; then
            die "${missing[*]} not set; under CI=true the servers must run" \
                "(scripts/test starts them with scripts/services)"
        fi
        printf 'skipped: %s not set; run the tests through scripts/test\n' \
            "${missing[*]}"
        exit "$SKIP_STATUS"
    fi
    if [ -n "${ROTARR_PGHOST:-}" ]; then
        require_loopback "$ROTARR_PGHOST"
    fi
    require_loopback "${ROTARR_REDIS_HOST:-127.0.0.1}"
}

# Writes a 0600 pgpass file for the superuser into the test's directory,
# once, and prints its path.  ROTARR_PGPASSFILE contains either the bare
# password or lines already in pgpass format.
superuser_pgpass() {
    local pgpass=$TEST_TMP/superuser.pgpass line password

    if [ ! -e "$pgpass" ]; then
        IFS= read -r line <"$ROTARR_PGPASSFILE" ||
            [ -n "$line" ] ||
            die "'$ROTARR_PGPASSFILE' is empty"
        if [[ $line =~ ^[^:]*:[^:]*:[^:]*:[^:]*: ]]; then
            (umask 077 && cp -- "$ROTARR_PGPASSFILE" "$pgpass")
        else
            # pgpass escapes ':' and '\' with a backslash.
            password=${line//\\/\\\\}
            password=${password//:/\\:}
            (umask 077 && printf '%s:%s:*:%s:%s\n' "$ROTARR_PGHOST" \
                "${ROTARR_PGPORT:?}" "$ROTARR_PGUSER" "$password" >"$pgpass")
        fi
    fi
    printf '%s\n' "$pgpass"
}

# psql_super [PSQL ARG...]: runs psql as the throw-away server's superuser
# on database 'postgres', stopping at the first error.
psql_super() {
    local pgpass

    pgpass=$(superuser_pgpass)
    env -u PGPASSWORD -u PGSERVICE PGPASSFILE="$pgpass" \
        PGCONNECT_TIMEOUT=10 \
        psql -X -q -v ON_ERROR_STOP=1 -h "$ROTARR_PGHOST" \
        -p "$ROTARR_PGPORT" -U "$ROTARR_PGUSER" -d postgres "$@"
}

# poll_until WHAT COMMAND...: runs COMMAND every 50 ms until it succeeds,
# for up to 10 seconds.  COMMAND exits with 2 when waiting is pointless.
# Returns 1 after printing that WHAT timed out, or when COMMAND exits 2.
poll_until() {
    local what=$1 tries=0 status

    shift
    while [ "$tries" -lt 200 ]; do
        status=0
        "$@" || status=$?
        case $status in
        0) return 0 ;;
        2) return 1 ;;
        esac
        sleep 0.05
        tries=$((tries + 1))
    done
    printf '  timed out after 10 s waiting for %s\n' "$what" >&2
    return 1
}

# lock_taken FILE: succeeds when another process has a lock on FILE.
lock_taken() {
    local status=0

    flock -n -E 75 "$1" true || status=$?
    [ "$status" -eq 75 ]
}

# process_stopped PID: succeeds when process PID is stopped, and exits
# with 2 when it is gone.
process_stopped() {
    local state

    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' \
        "/proc/$1/status" 2>/dev/null) || true
    case $state in
    T) return 0 ;;
    '' | Z | X)
        printf '  process %s exited instead of stopping\n' "$1" >&2
        return 2
        ;;
    esac
    return 1
}

# wait_until_locked FILE: waits up to 10 seconds until another process,
# such as a background 'flock FILE sleep 30', has a lock on FILE.
wait_until_locked() {
    poll_until "a lock on $1" lock_taken "$1"
}

# wait_until_stopped PID: waits up to 10 seconds until process PID is
# stopped, as a rotarr run with ROTARR_FAILPOINT=stop-NAME stops itself.
wait_until_stopped() {
    poll_until "process $1 to stop" process_stopped "$1"
}

# rotarr_while_stopped COMMAND... -- ARG...: runs 'rotarr ARG...' with
# ROTARR_FAILPOINT=stop-lock, so that it stops after it read the stack
# and before it takes the stack lock, runs COMMAND, then lets rotarr go
# on.  Sets STOPPED_STATUS to the exit status of rotarr, whose output is
# in $OUT and $ERR; that of COMMAND is in $TEST_TMP/meanwhile.out and
# .err.  Returns 1 when rotarr did not stop or COMMAND failed.
# shellcheck disable=SC2034 # STOPPED_STATUS is read by the caller
rotarr_while_stopped() {
    local command=() pid ok=0

    while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
        command+=("$1")
        shift
    done
    shift
    STOPPED_STATUS=
    ROTARR_FAILPOINT=stop-lock "$ROTARR" "$@" >"$OUT" 2>"$ERR" &
    pid=$!
    if wait_until_stopped "$pid"; then
        "${command[@]}" >"$TEST_TMP/meanwhile.out" \
            2>"$TEST_TMP/meanwhile.err" || {
            echo "  the command run meanwhile failed:" >&2
            cat "$TEST_TMP/meanwhile.err" >&2
            ok=1
        }
    else
        ok=1
    fi
    kill -CONT "$pid" 2>/dev/null
    STOPPED_STATUS=0
    wait "$pid" || STOPPED_STATUS=$?
    return "$ok"
}

# stopped_status_is N: succeeds when the rotarr of rotarr_while_stopped
# exited with N, and otherwise prints its status and output.
stopped_status_is() {
    if [ "$STOPPED_STATUS" -ne "$1" ]; then
        printf '  exit status %s, expected %s\n' "$STOPPED_STATUS" "$1" >&2
        show_output
        return 1
    fi
}

# copy_example_stack [DEST]: copies examples/stack to DEST (default
# $TEST_TMP/stack), makes its .env 0600 as rotarr expects, and prints DEST.
# shellcheck disable=SC2120 # DEST is optional
copy_example_stack() {
    local dest=${1:-$TEST_TMP/stack}

    : "${ROTARR_EXAMPLES:?ROTARR_EXAMPLES must name the examples folder}"
    cp -R -- "$ROTARR_EXAMPLES/stack" "$dest"
    chmod 0600 -- "$dest/.env"
    printf '%s\n' "$dest"
}
