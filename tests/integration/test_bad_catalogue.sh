# shellcheck shell=bash
# The malformed-input catalogue: every input listed in
# tests/data/bad/manifest.tsv gives its exit status and the start of its
# error message, within ROTARR_CASE_TIMEOUT seconds (5 by default), without
# a crash and without creating, changing or removing any file in the
# stack directory or in HOME.
. "$(dirname "$0")/lib.sh"

: "${ROTARR_TEST_DATA:?ROTARR_TEST_DATA must name tests/data}"
readonly BAD=$ROTARR_TEST_DATA/bad
readonly CASE_TIMEOUT=${ROTARR_CASE_TIMEOUT:-5}

# Prints every file below DIR with its size, mode and checksum.
snapshot() {
    (cd "$1" && find . -print0 | sort -z |
        xargs -0 stat -c '%n %s %a %F' &&
        find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

# run_case N FILE EXIT PREFIX ARGS: runs rotarr ARGS in a new stack
# directory holding FILE, with '@' in ARGS replaced by FILE.
run_case() {
    local n=$1 file=$2 want=$3 prefix=$4 args=$5 dir before status=0
    local words first

    dir=$TEST_TMP/case-$n
    mkdir -p "$dir/home" &&
        cp "$BAD/base/compose.yaml" "$BAD/base/.env" "$BAD/base/key.txt" \
            "$dir/" || return 1
    if [ "$file" != - ]; then
        cp "$BAD/$file" "$dir/" || return 1
    fi
    read -ra words <<<"${args//@/$file}"
    before=$(snapshot "$dir")
    (cd "$dir" && timeout -k 1 "$CASE_TIMEOUT" \
        env -i PATH="$PATH" HOME="$dir/home" "$ROTARR" "${words[@]}" \
        </dev/null >"$OUT" 2>"$ERR") || status=$?
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        printf '  still running after %s s\n' "$CASE_TIMEOUT" >&2
        return 1
    fi
    if [ "$status" -ne "$want" ]; then
        printf '  %s, expected exit status %d\n' \
            "$(describe_status "$status")" "$want" >&2
        show_output
        return 1
    fi
    IFS= read -r first <"$ERR" || true
    if [ "${first#"$prefix"}" = "$first" ]; then
        printf '  standard error starts "%s", expected "%s"\n' \
            "$first" "$prefix" >&2
        return 1
    fi
    if [ "$before" != "$(snapshot "$dir")" ]; then
        printf '  files changed in the stack directory or HOME\n' >&2
        return 1
    fi
}

n=0
while IFS=$'\t' read -r file want prefix args; do
    case "$file" in
        '#'* | '') continue ;;
    esac
    n=$(( n + 1 ))
    check "$file: rotarr $args" run_case "$n" "$file" "$want" "$prefix" \
        "$args"
done <"$BAD/manifest.tsv"

if [ "$n" -lt 40 ]; then
    fail "the catalogue lists $n inputs, fewer than 40"
fi
