# shellcheck shell=bash
# Bad stack files: each gives a one-line error naming the file (and the
# line and column for parse errors), exit 3, and leaves every file as it
# was.  Each rejected case has an accepted twin that differs only in the
# fault.
. "$(dirname "$0")/lib.sh"

# make_stack NAME: a small valid stack; prints its directory.
make_stack() {
    local dir=$TEST_TMP/$1

    mkdir -p "$dir"
    cat >"$dir/compose.yaml" <<'EOF'
services:
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}
EOF
    printf 'POSTGRES_PASSWORD=goodPassw0rd0123456789abcdefghij\n' >"$dir/.env"
    chmod 600 "$dir/.env"
    printf '%s\n' "$dir"
}

# inspect_fails DIR TEXT: inspect exits 3 naming TEXT and changes no file.
inspect_fails() {
    local dir=$1 text=$2 before

    before=$(cd "$dir" && find . -type f -exec sha256sum {} + | sort)
    expect_exit 3 "$ROTARR" -C "$dir" inspect &&
        assert_contains "$ERR" "$text" &&
        assert_lines "$ERR" 1 &&
        [ "$before" = "$(cd "$dir" && find . -type f -exec sha256sum {} + | sort)" ]
}

check_valid_stack_loads() {
    local dir

    dir=$(make_stack valid) && expect_exit 0 "$ROTARR" -C "$dir" inspect
}

check_missing_compose_file() {
    local dir

    dir=$(make_stack nocompose) && rm "$dir/compose.yaml" &&
        inspect_fails "$dir" "no compose file"
}

check_invalid_yaml_names_line_and_column() {
    local dir

    dir=$(make_stack badyaml) &&
        printf '  extra: [unclosed\n' >>"$dir/compose.yaml" &&
        inspect_fails "$dir" "compose.yaml:" &&
        assert_match "$ERR" 'compose\.yaml:[0-9]+:[0-9]+: .*line 6'
}

check_duplicate_key() {
    local dir

    dir=$(make_stack dupkey) &&
        printf '  db:\n    image: redis\n' >>"$dir/compose.yaml" &&
        inspect_fails "$dir" "duplicate key 'db'"
}

check_oversized_file() {
    local dir

    dir=$(make_stack big) &&
        head -c $(( 16 * 1024 * 1024 + 1 )) /dev/zero | tr '\0' '#' \
            >>"$dir/compose.yaml" &&
        inspect_fails "$dir" "compose.yaml"
}

check_non_utf8_env_file() {
    local dir

    dir=$(make_stack latin1) &&
        printf 'NAME=caf\xe9\n' >>"$dir/.env" &&
        inspect_fails "$dir" ".env"
}

check_utf8_env_file_loads() {
    local dir

    dir=$(make_stack utf8) &&
        printf 'NAME=caf\xc3\xa9\n' >>"$dir/.env" &&
        expect_exit 0 "$ROTARR" -C "$dir" inspect
}

check_symlink_leaving_the_stack() {
    local dir

    dir=$(make_stack symlink) &&
        printf 'POSTGRES_PASSWORD=outsidePassw0rd0123456789abcdefgh\n' \
            >"$TEST_TMP/outside.env" &&
        rm "$dir/.env" && ln -s "$TEST_TMP/outside.env" "$dir/.env" &&
        inspect_fails "$dir" "outside the stack directory"
}

check_symlink_inside_the_stack_loads() {
    local dir

    dir=$(make_stack symlink-inside) &&
        mv "$dir/.env" "$dir/real.env" && ln -s real.env "$dir/.env" &&
        expect_exit 0 "$ROTARR" -C "$dir" inspect
}

check_missing_env_file_option() {
    local dir

    dir=$(make_stack noenv) &&
        expect_exit 3 "$ROTARR" -C "$dir" --env-file missing.env inspect &&
        assert_contains "$ERR" "missing.env"
}

check_bad_env_line_names_the_line() {
    local dir

    dir=$(make_stack badenv) &&
        printf 'BAD KEY=x\n' >>"$dir/.env" &&
        inspect_fails "$dir" ".env:2"
}

check_control_characters_are_replaced() {
    local dir name

    name=$(printf 'bad\033[31mname.yaml')
    dir=$(make_stack ctrl) &&
        expect_exit 3 "$ROTARR" -C "$dir" -f "$name" inspect &&
        assert_contains "$ERR" "bad?[31mname.yaml" &&
        assert_not_contains "$ERR" "$(printf '\033')"
}

check_unreadable_file_for_other_user() {
    # Root reads every file, so the check runs rotarr as 'nobody' on a
    # stack that user may enter but whose .env it may not read.
    local dir

    if ! id nobody >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ]; then
        echo "  needs root and a 'nobody' user" >&2
        return 1
    fi
    dir=$(mktemp -d /tmp/rotarr-unreadable.XXXXXX)
    at_exit "rm -rf '$dir'"
    cp "$(make_stack unreadable)"/compose.yaml "$dir/"
    printf 'POSTGRES_PASSWORD=x\n' >"$dir/.env"
    chmod 600 "$dir/.env"
    chmod 755 "$dir"
    chmod 644 "$dir/compose.yaml"
    expect_exit 3 runuser -u nobody -- "$ROTARR" -C "$dir" inspect &&
        assert_contains "$ERR" ".env"
}

check "a valid stack loads" check_valid_stack_loads
check "missing compose file exits 3" check_missing_compose_file
check "invalid YAML names line and column" check_invalid_yaml_names_line_and_column
check "duplicate key exits 3" check_duplicate_key
check "file over 16 MiB exits 3" check_oversized_file
check "non-UTF-8 env file exits 3" check_non_utf8_env_file
check "UTF-8 env file loads" check_utf8_env_file_loads
check "symlink leaving the stack exits 3" check_symlink_leaving_the_stack
check "symlink inside the stack loads" check_symlink_inside_the_stack_loads
check "missing --env-file exits 3" check_missing_env_file_option
check "bad env line names the line" check_bad_env_line_names_the_line
check "control characters become '?'" check_control_characters_are_replaced
check "unreadable env file exits 3" check_unreadable_file_for_other_user
