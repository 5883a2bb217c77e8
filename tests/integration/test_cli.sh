#!/bin/bash
# The command-line contract shared by every verb: where help and errors go,
# the usage exit status 2, and write errors on standard output.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

help_goes_to_stdout() {
    expect_exit 0 "$ROTARR" --help &&
        assert_contains "$OUT" "usage: rotarr" &&
        assert_contains "$OUT" "gen" &&
        assert_empty "$ERR"
}

version_prints_name_and_number() {
    expect_exit 0 "$ROTARR" --version &&
        assert_match "$OUT" '^rotarr [0-9]+\.[0-9]+\.[0-9]+' &&
        assert_empty "$ERR"
}

no_verb_is_usage_error() {
    expect_exit 2 "$ROTARR" &&
        assert_contains "$ERR" "usage: rotarr" &&
        assert_empty "$OUT"
}

unknown_verb_is_usage_error() {
    expect_exit 2 "$ROTARR" frobnicate &&
        assert_contains "$ERR" "'frobnicate'" &&
        assert_contains "$ERR" "usage: rotarr" &&
        assert_empty "$OUT"
}

unknown_global_option_is_usage_error() {
    expect_exit 2 "$ROTARR" --frobnicate gen &&
        assert_contains "$ERR" "--frobnicate" &&
        assert_contains "$ERR" "usage: rotarr" &&
        assert_empty "$OUT"
}

missing_option_argument_is_usage_error() {
    expect_exit 2 "$ROTARR" -C &&
        assert_contains "$ERR" "usage: rotarr" &&
        assert_empty "$OUT"
}

version_to_full_disk_fails() {
    STDOUT_TO=/dev/full expect_exit 3 "$ROTARR" --version &&
        assert_contains "$ERR" "standard output"
}

gen_help_goes_to_stdout() {
    expect_exit 0 "$ROTARR" gen --help &&
        assert_contains "$OUT" "usage: rotarr gen" &&
        assert_empty "$ERR"
}

global_help_before_verb_shows_verb_usage() {
    expect_exit 0 "$ROTARR" --help gen &&
        assert_contains "$OUT" "usage: rotarr gen" &&
        assert_empty "$ERR"
}

gen_unknown_option_is_usage_error() {
    expect_exit 2 "$ROTARR" gen --frobnicate &&
        assert_contains "$ERR" "--frobnicate" &&
        assert_contains "$ERR" "usage: rotarr gen" &&
        assert_empty "$OUT"
}

gen_prints_one_alnum_password() {
    expect_exit 0 "$ROTARR" gen &&
        assert_match "$OUT" '^[A-Za-z0-9]{32}$' &&
        assert_lines "$OUT" 1 &&
        assert_empty "$ERR"
}

gen_count_prints_distinct_passwords() {
    expect_exit 0 "$ROTARR" gen 5 &&
        assert_lines "$OUT" 5 &&
        sort -u "$OUT" >"$TEST_TMP/distinct" &&
        assert_lines "$TEST_TMP/distinct" 5
}

gen_to_full_disk_fails() {
    STDOUT_TO=/dev/full expect_exit 3 "$ROTARR" gen &&
        assert_contains "$ERR" "standard output"
}

dry_run_rejected_without_a_plan() {
    # Verbs that change things but print no plan reject -n before or
    # after the verb, and change nothing.
    local dir=$TEST_TMP/dry

    mkdir -p "$dir" && git init -q "$dir/repo" || return 1
    expect_exit 2 "$ROTARR" -n keygen -o "$dir/key.txt" &&
        assert_contains "$ERR" "'keygen' has no dry run; run it without -n" &&
        [ ! -e "$dir/key.txt" ] &&
        expect_exit 2 "$ROTARR" keygen --dry-run -o "$dir/key.txt" &&
        [ ! -e "$dir/key.txt" ] &&
        expect_exit 2 env -C "$dir/repo" "$ROTARR" hook -n install &&
        assert_contains "$ERR" "'hook' has no dry run" &&
        [ ! -e "$dir/repo/.git/hooks/pre-commit" ] &&
        expect_exit 2 "$ROTARR" -C "$dir" resume -n &&
        assert_contains "$ERR" "'rotarr status' shows a pending journal"
}

dry_run_accepted_with_a_plan() {
    # Twin: the same commands run without -n, and gen takes -n as it
    # changes nothing anyway.
    local dir=$TEST_TMP/wet

    mkdir -p "$dir" && git init -q "$dir/repo" || return 1
    expect_exit 0 "$ROTARR" keygen -o "$dir/key.txt" &&
        [ -s "$dir/key.txt" ] &&
        expect_exit 0 env -C "$dir/repo" "$ROTARR" hook install &&
        [ -e "$dir/repo/.git/hooks/pre-commit" ] &&
        expect_exit 0 "$ROTARR" -n gen &&
        assert_lines "$OUT" 1
}

check "--help prints usage on stdout and exits 0" help_goes_to_stdout
check "--version prints 'rotarr X.Y.Z'" version_prints_name_and_number
check "no verb prints usage on stderr and exits 2" no_verb_is_usage_error
check "unknown verb names it on stderr and exits 2" \
    unknown_verb_is_usage_error
check "unknown global option exits 2" unknown_global_option_is_usage_error
check "-C without its argument exits 2" \
    missing_option_argument_is_usage_error
check "--version to a full disk exits 3" version_to_full_disk_fails
check "gen --help prints gen's usage on stdout" gen_help_goes_to_stdout
check "--help gen prints gen's usage on stdout" \
    global_help_before_verb_shows_verb_usage
check "gen with an unknown option exits 2" gen_unknown_option_is_usage_error
check "gen prints one 32-character alnum password" \
    gen_prints_one_alnum_password
check "gen 5 prints five different passwords" \
    gen_count_prints_distinct_passwords
check "gen to a full disk exits 3, not a signal" gen_to_full_disk_fails
check "-n rejected by verbs without a plan" dry_run_rejected_without_a_plan
check "twin: those verbs run without -n" dry_run_accepted_with_a_plan
