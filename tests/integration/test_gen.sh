#!/bin/bash
# 'rotarr gen': lengths, charsets, the 128-bit floor and its --weak
# override, and the option conflicts that are usage errors.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

weak_length_is_refused() {
    expect_exit 2 "$ROTARR" gen -l 16 &&
        assert_contains "$ERR" "95.3 bits" &&
        assert_contains "$ERR" "'--weak'" &&
        assert_empty "$OUT"
}

weak_length_with_flag_is_printed() {
    expect_exit 0 "$ROTARR" gen -l 16 --weak &&
        assert_match "$OUT" '^[A-Za-z0-9]{16}$' &&
        assert_empty "$ERR"
}

weak_bits_are_refused() {
    expect_exit 2 "$ROTARR" gen -b 64 &&
        assert_contains "$ERR" "'--weak'" &&
        assert_empty "$OUT"
}

few_words_are_refused() {
    expect_exit 2 "$ROTARR" gen -c words -l 6 &&
        assert_contains "$ERR" "77.5 bits" &&
        assert_empty "$OUT"
}

length_and_bits_conflict() {
    expect_exit 2 "$ROTARR" gen -l 40 -b 200 &&
        assert_contains "$ERR" \
            "options '-l' and '-b' cannot be used together" &&
        assert_empty "$OUT"
}

duplicate_option_is_refused() {
    expect_exit 2 "$ROTARR" gen -c hex --charset alnum &&
        assert_contains "$ERR" "'-c' given twice" &&
        assert_empty "$OUT"
}

bits_pick_shortest_length() {
    expect_exit 0 "$ROTARR" gen -c hex -b 129 &&
        assert_match "$OUT" '^[0-9a-f]{33}$'
}

urlsafe_starts_with_alnum() {
    expect_exit 0 "$ROTARR" gen -c urlsafe 200 &&
        assert_lines "$OUT" 200 &&
        ! grep -qE '^[-_]' "$OUT" &&
        ! grep -qvE '^[A-Za-z0-9][A-Za-z0-9_-]{31}$' "$OUT"
}

words_default_reaches_128_bits() {
    expect_exit 0 "$ROTARR" gen -c words &&
        assert_match "$OUT" '^[a-z]+(-[a-z]+){9,13}$'
}

count_out_of_range_is_refused() {
    expect_exit 2 "$ROTARR" gen 0 &&
        assert_contains "$ERR" "invalid count '0'"
}

json_lists_passwords() {
    local head='^\{"charset":"hex","length":32,"bits":128\.0,'
    local list='"passwords":\["[0-9a-f]{32}","[0-9a-f]{32}"\]\}$'

    expect_exit 0 "$ROTARR" --json gen -c hex 2 &&
        assert_match "$OUT" "$head$list"
}

check "gen -l 16 exits 2 and names --weak" weak_length_is_refused
check "gen -l 16 --weak prints a 16-character password" \
    weak_length_with_flag_is_printed
check "gen -b 64 exits 2" weak_bits_are_refused
check "gen -c words -l 6 exits 2" few_words_are_refused
check "gen -l with -b exits 2" length_and_bits_conflict
check "gen with -c twice exits 2" duplicate_option_is_refused
check "gen -c hex -b 129 prints 33 hex digits" bits_pick_shortest_length
check "gen -c urlsafe never starts with - or _" urlsafe_starts_with_alnum
check "gen -c words prints at least 10 words" words_default_reaches_128_bits
check "gen 0 exits 2" count_out_of_range_is_refused
check "--json gen prints one document" json_lists_passwords
