#!/bin/bash
# The progress line of long work.  'encrypt', 'decrypt' and 'hook check'
# draw it on standard error when that is a terminal (a pseudo-terminal
# made by tests/tools/stderr_pty.py).  They print nothing to a file, to a
# pipe, under -q, or when the output goes to the same terminal.
# ROTARR_PROGRESS_DELAY_MS=0 makes the line appear at once, so that the
# inputs can stay small.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

for tool in python3 git; do
    if ! command -v "$tool" >/dev/null; then
        if [ "${CI:-}" = true ]; then
            die "'$tool' is missing; install the Debian packages python3" \
                "and git"
        fi
        printf 'skipped: %s is missing\n' "$tool"
        exit "$SKIP_STATUS"
    fi
done

: "${ROTARR_TOOLS:?ROTARR_TOOLS must name tests/tools}"
readonly PTY_RUN=$ROTARR_TOOLS/stderr_pty.py
readonly TRANSCRIPT=$TEST_TMP/transcript
WORK=$TEST_TMP/work
mkdir -p "$WORK"
cd "$WORK"

# An escape character and a carriage return, for the patterns below.
readonly ESC=$'\033'
readonly CR=$'\r'

# 20 MiB and a bit: several progress steps of 4 MiB and a short last chunk.
head -c $(( 20 * 1024 * 1024 + 1000 )) /dev/urandom >big.bin
"$ROTARR" keygen -o key.txt 2>/dev/null
RECIPIENT=$("$ROTARR" keygen -y key.txt)

# on_pty COMMAND [ARG...]: runs the command with standard error on a
# pseudo-terminal and the progress delay at 0, stdout in $OUT; the
# terminal's bytes go to $TRANSCRIPT.
on_pty() {
    ROTARR_PROGRESS_DELAY_MS=0 python3 "$PTY_RUN" "$TRANSCRIPT" "$@" >"$OUT"
}

# assert_line_erased: the transcript ends by erasing the progress line.
assert_line_erased() {
    local tail

    tail=$(tail -c 4 "$TRANSCRIPT")
    if [ "$tail" != "$CR${ESC}[K" ]; then
        fail "the transcript does not end with CR ESC [ K"
        od -c "$TRANSCRIPT" | tail -n 3 >&2
        return 1
    fi
}

check_encrypt_draws_progress() {
    rm -f big.age
    on_pty "$ROTARR" encrypt -r "$RECIPIENT" -o big.age big.bin || return 1
    assert_match "$TRANSCRIPT" \
        "^${CR}encrypting big\.bin: [0-9.]+ [KMG]?i?B / 20 MiB \([0-9]+%\)" ||
        return 1
    assert_line_erased || return 1
    "$ROTARR" decrypt -i key.txt -o big.out big.age &&
        cmp big.bin big.out
}

check_decrypt_draws_progress() {
    rm -f big.out
    on_pty "$ROTARR" decrypt -i key.txt -o big.out big.age || return 1
    assert_match "$TRANSCRIPT" \
        "^${CR}decrypting big\.age: [0-9.]+ [KMG]?i?B / 20 MiB \([0-9]+%\)" ||
        return 1
    assert_line_erased || return 1
    cmp big.bin big.out
}

check_stdin_has_no_total() {
    on_pty sh -c "cat big.bin | \"\$0\" encrypt -r \"\$1\" -o stdin.age" \
        "$ROTARR" "$RECIPIENT" || return 1
    assert_match "$TRANSCRIPT" \
        "^${CR}encrypting standard input: [0-9.]+ [KMG]?i?B${ESC}" &&
        assert_not_contains "$TRANSCRIPT" "%"
}

check_file_stderr_is_silent() {
    ROTARR_PROGRESS_DELAY_MS=0 expect_exit 0 "$ROTARR" encrypt \
        -r "$RECIPIENT" -o file.age big.bin || return 1
    assert_empty "$ERR" && assert_empty "$OUT"
}

check_pipe_stderr_is_silent() {
    local bytes

    bytes=$(ROTARR_PROGRESS_DELAY_MS=0 "$ROTARR" decrypt -i key.txt \
            -o pipe.out big.age 2>&1 >/dev/null | wc -c) || return 1
    [ "$bytes" -eq 0 ] || { fail "$bytes bytes on the pipe"; return 1; }
    cmp big.bin pipe.out
}

check_quiet_on_pty_is_silent() {
    rm -f quiet.age
    on_pty "$ROTARR" -q encrypt -r "$RECIPIENT" -o quiet.age big.bin ||
        return 1
    assert_empty "$TRANSCRIPT" || return 1
    "$ROTARR" decrypt -i key.txt -o quiet.out quiet.age &&
        cmp big.bin quiet.out
}

check_output_on_same_terminal_is_silent() {
    STDERR_PTY_STDOUT=1 on_pty "$ROTARR" encrypt -a -r "$RECIPIENT" \
        big.bin || return 1
    assert_contains "$TRANSCRIPT" "-----BEGIN AGE ENCRYPTED FILE-----" &&
        assert_not_contains "$TRANSCRIPT" "encrypting"
}

check_short_work_is_silent_by_default() {
    head -c 100000 /dev/urandom >small.bin
    python3 "$PTY_RUN" "$TRANSCRIPT" "$ROTARR" encrypt -r "$RECIPIENT" \
        -o small.age small.bin >"$OUT" || return 1
    assert_empty "$TRANSCRIPT"
}

# A decrypt to a file, stopped by SIGINT while its input (a FIFO) waits
# for more: the line is erased and the exit status is 128 + 2.  The
# status of rotarr goes to interrupt.status.
check_interrupt_erases_line() {
    rm -f interrupt.fifo interrupt.out interrupt.status
    mkfifo interrupt.fifo || return 1
    # shellcheck disable=SC2016 # expanded by the inner shell
    on_pty sh -c '
        env --default-signal=INT "$0" decrypt -i key.txt -o interrupt.out \
            interrupt.fifo &
        pid=$!
        exec 3>interrupt.fifo
        head -c 4194304 big.age >&3
        i=0
        while [ -z "$(find . -name ".interrupt.out.rotarr-*" -size +0)" ] &&
            [ $i -lt 200 ]; do
            sleep 0.05
            i=$((i + 1))
        done
        sleep 0.2
        kill -INT $pid
        wait $pid
        echo $? >interrupt.status' "$ROTARR_BINARY" || return 1
    assert_match "$TRANSCRIPT" "^${CR}decrypting interrupt\.fifo: " &&
        assert_line_erased &&
        [ "$(cat interrupt.status)" = 130 ] &&
        [ ! -e interrupt.out ] &&
        [ -z "$(find . -name '.interrupt.out.rotarr-*')" ]
}

# A repository of three files in one commit.
make_repo() {
    git init -q repo &&
        printf 'one\n' >repo/a.txt &&
        printf 'two\n' >repo/b.txt &&
        printf 'three\n' >repo/c.txt &&
        git -C repo add . &&
        git -C repo -c user.name=t -c user.email=t@example.invalid \
            commit -q -m first
}

check_hook_scan_draws_file_count() {
    on_pty "$ROTARR" -C repo hook check --all || return 1
    assert_empty "$OUT" || return 1
    assert_match "$TRANSCRIPT" \
        "^${CR}scanning the files of HEAD: [0-3] / 3 files \([0-9]+%\)" &&
        assert_line_erased
}

# Adds 300 commits that change nothing to repo, with one fast-import.
add_commits() {
    local branch i

    branch=$(git -C repo symbolic-ref HEAD) || return 1
    for i in $(seq 300); do
        printf 'commit %s\ncommitter t <t@example.invalid> %s +0000\n' \
            "$branch" "$i"
        printf 'data 1\nx\n'
        if [ "$i" = 1 ]; then
            printf 'from %s^0\n' "$branch"
        fi
        printf '\n'
    done | git -C repo fast-import --quiet
}

# A range check first counts the commits whose changes it lists, then the
# files it reads.
check_hook_range_draws_commit_count() {
    on_pty "$ROTARR" -C repo hook check HEAD || return 1
    assert_empty "$OUT" || return 1
    assert_match "$TRANSCRIPT" \
        "^${CR}listing the changes of HEAD: [0-9]+ / 301 commits \([0-9]+%\)" &&
        assert_match "$TRANSCRIPT" "scanning the commits of the range: [0-3] / 3 files" &&
        assert_line_erased
}

# Twin: the same check under -q draws nothing.
check_hook_range_quiet_is_silent() {
    on_pty "$ROTARR" -q -C repo hook check HEAD || return 1
    assert_empty "$TRANSCRIPT"
}

check_hook_scan_file_stderr_is_silent() {
    ROTARR_PROGRESS_DELAY_MS=0 expect_exit 0 "$ROTARR" -C repo hook check \
        --all || return 1
    assert_empty "$ERR"
}

export HOME=$TEST_TMP/home GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
make_repo && add_commits || die "cannot make the test repository"

check "encrypt draws progress on a terminal" check_encrypt_draws_progress
check "decrypt draws progress on a terminal" check_decrypt_draws_progress
check "a pipe on standard input shows no total" check_stdin_has_no_total
check "stderr to a file gets nothing" check_file_stderr_is_silent
check "stderr to a pipe gets nothing" check_pipe_stderr_is_silent
check "-q on a terminal draws nothing" check_quiet_on_pty_is_silent
check "output to the same terminal hides progress" \
    check_output_on_same_terminal_is_silent
check "short work draws nothing by default" \
    check_short_work_is_silent_by_default
check "SIGINT erases the line and the partial output" \
    check_interrupt_erases_line
check "hook check draws the file count" check_hook_scan_draws_file_count
check "hook check to a file gets nothing" \
    check_hook_scan_file_stderr_is_silent
check "hook check of a range draws the commit count" \
    check_hook_range_draws_commit_count
check "hook check of a range under -q draws nothing" \
    check_hook_range_quiet_is_silent
