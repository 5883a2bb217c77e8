# shellcheck shell=bash
# rotarr on the real Compose stacks in ../shared/corpus: every stack
# loads, 'inspect --json' finds the Postgres and Redis services listed in
# tests/data/corpus-servers.txt, and a dry run of 'rotarr postgres' names
# the role, the variable and the occurrences without changing a file.
. "$(dirname "$0")/lib.sh"

CORPUS=${ROTARR_SHARED:?}/corpus
EXPECTED=${ROTARR_SOURCE_ROOT:?}/tests/data/corpus-servers.txt

if [ ! -d "$CORPUS" ]; then
    if [ "${CI:-}" = true ]; then
        die "'$CORPUS' is missing; CI must have ../shared beside the clone"
    fi
    echo "skipped: no corpus at '$CORPUS'"
    exit "$SKIP_STATUS"
fi

# The sample env file a stack's install guide copies to .env.
sample_env() {
    local dir=$1 name

    for name in .env example.env .env.example env.example .env.sample \
        variables.env .env.dist .env.template docker-compose.env; do
        if [ -f "$dir/$name" ]; then
            printf '%s\n' "$name"
            return 0
        fi
    done
    return 1
}

# Copies one project of the corpus to a temporary directory, with its
# sample env file as .env the way its install guide says, and prints the
# copy's path.
stage() {
    local src=$1 dest sample

    dest=$TEST_TMP/stage/$(basename "$src")
    if [ ! -d "$dest" ]; then
        mkdir -p "$dest"
        cp -R "$src/." "$dest/"
        if sample=$(sample_env "$dest") && [ "$sample" != .env ]; then
            cp "$dest/$sample" "$dest/.env"
        fi
        chmod -R go-rwx "$dest"
    fi
    printf '%s\n' "$dest"
}

# Lists "file service kind" for every Postgres and Redis service.
servers_of() {
    python3 -c '
import json, sys
doc = json.load(sys.stdin)
for s in doc["services"]:
    if s["kind"] != "other":
        print(sys.argv[1], s["name"], s["kind"])
' "$1" <"$OUT"
}

# Compose files, as "project relative-path"; test fixtures are left out.
compose_files() {
    local project file

    for project in "$CORPUS"/*/; do
        project=${project%/}
        find "$project" -name '*compose*.y*ml' -not -path '*/tests/*' \
            -printf "$(basename "$project") %P\n"
    done | LC_ALL=C sort
}

# Runs inspect on one compose file.  What the install guides have the
# user create before the first start is created the same way: a missing
# env_file as an empty file, and a required ${VAR:?} as a generated
# password in .env.
inspect_file() {
    local dir=$1 file=$2 missing

    for _ in 1 2 3 4 5 6; do
        if expect_exit 0 "$ROTARR" -C "$dir" -f "$dir/$file" --json inspect \
            2>/dev/null; then
            return 0
        fi
        missing=$(sed -n "s/.*env_file: '\([^']*\)': no such file.*/\1/p" "$ERR")
        if [ -n "$missing" ]; then
            : >"$missing"
            chmod 600 "$missing"
            continue
        fi
        missing=$(sed -n 's/.*required variable \([A-Za-z0-9_]*\) is missing.*/\1/p' "$ERR")
        [ -n "$missing" ] || return 1
        printf '\n%s=%s\n' "$missing" "$("$ROTARR" gen)" >>"$dir/.env"
    done
    return 1
}

# Returns 0 when a compose file is one part of a project that lists it in
# COMPOSE_FILE, so it is loaded with the rest and not on its own.
part_of_project() {
    local dir=$1 file=$2

    [ -f "$dir/.env" ] && grep -q "^COMPOSE_FILE=.*$file" "$dir/.env"
}

found=$TEST_TMP/found.txt
: >"$found"

check_every_stack_loads() {
    local project file dir failed=0

    while read -r project file; do
        dir=$(stage "$CORPUS/$project")
        if part_of_project "$dir" "$file"; then
            continue
        fi
        if ! inspect_file "$dir" "$file"; then
            echo "  $project/$file does not load" >&2
            show_output
            failed=1
            continue
        fi
        servers_of "$project/$file" >>"$found"
    done < <(compose_files)
    [ "$failed" -eq 0 ]
}

check_servers_match_expected_list() {
    if ! diff -u "$EXPECTED" "$found" >&2; then
        echo "  found servers differ from $EXPECTED" >&2
        return 1
    fi
}

check_expected_list_is_not_trivial() {
    # Twin of the comparison: the list names both kinds, so an inspect
    # that found nothing could not match it.
    assert_match "$EXPECTED" ' postgres$' && assert_match "$EXPECTED" ' redis$'
}

check_dry_run_on_postgres_stacks() {
    local path service dir file before failed=0 status planned=0

    while read -r path service _; do
        dir=$TEST_TMP/stage/${path%%/*}
        file=${path#*/}
        before=$(find "$dir" -type f -exec sha256sum {} + | sort)
        status=0
        "$ROTARR" -C "$dir" -f "$dir/$file" -n postgres --service "$service" \
            >"$OUT" 2>"$ERR" || status=$?
        if [ "$status" -eq 0 ]; then
            planned=$(( planned + 1 ))
            if ! grep -q "^plan: rotate role '" "$OUT" ||
                ! grep -q '^password: ' "$OUT"; then
                echo "  $path/$service: the plan names no role or variable" >&2
                failed=1
            fi
        elif [ "$status" -ne 2 ] || ! grep -q "rotarr: " "$ERR"; then
            echo "  $path/$service: $(describe_status "$status")" >&2
            show_output
            failed=1
        fi
        if [ "$before" != "$(find "$dir" -type f -exec sha256sum {} + | sort)" ]; then
            echo "  $path/$service: a dry run changed a file" >&2
            failed=1
        fi
    done < <(grep ' postgres$' "$found")
    echo "  planned $planned Postgres rotations" >&2
    [ "$failed" -eq 0 ] && [ "$planned" -gt 0 ]
}

# Rewrites each Postgres password in a fresh copy of its stack the way a
# rotation's commit does, and checks the result with check_rewrite.py:
# unchanged files stay byte-identical (they are also written back once
# with no change), changed ones differ only in the password, the compose
# file still validates against the Compose schema, and every other value
# reads back unchanged.
check_rewrite_changes_only_the_password() {
    local path service file project copy out failed=0 rewrites=0 changed
    local new=RotarrCorpusNewValue0123456789AB

    while read -r path service _; do
        project=${path%%/*}
        file=${path#*/}
        copy=$TEST_TMP/rewrite/$project-$service
        mkdir -p "$copy"
        cp -R "$TEST_TMP/stage/$project/." "$copy/"
        out=$TEST_TMP/rewrite.out
        if ! ROTARR_NEW_VALUE=$new "${ROTARR_STACK_REWRITE:?}" "$copy" \
            "$copy/$file" "$service" >"$out" 2>"$ERR"; then
            # A sample env file without a password has nothing to rewrite.
            if grep -q "has no value for" "$ERR"; then
                continue
            fi
            echo "  $path/$service: $(cat "$ERR")" >&2
            failed=1
            continue
        fi
        rewrites=$(( rewrites + 1 ))
        mapfile -t changed < <(tail -n +2 "$out")
        if ! /usr/bin/python3 "${ROTARR_TOOLS:?}/check_rewrite.py" \
            "$ROTARR_SHARED/compose-spec/compose-spec.json" \
            "$TEST_TMP/stage/$project" "$copy" "$file" "$(head -n 1 "$out")" \
            "$new" "${changed[@]}" >&2; then
            echo "  $path/$service: the rewrite changed more than the password" >&2
            failed=1
        fi
    done < <(grep ' postgres$' "$found")
    echo "  rewrote $rewrites Postgres passwords" >&2
    [ "$failed" -eq 0 ] && [ "$rewrites" -gt 0 ]
}

check_rewrite_checker_catches_a_change() {
    # Twin of the rewrite check: a copy with one other value changed is
    # reported.
    local old=$TEST_TMP/twin-old new=$TEST_TMP/twin-new

    mkdir -p "$old" "$new"
    printf 'services:\n  db:\n    image: postgres:16\n    environment:\n      A: "1"\n      P: oldPassw0rd\n' >"$old/compose.yaml"
    printf 'services:\n  db:\n    image: postgres:16\n    environment:\n      A: "2"\n      P: newPassw0rd\n' >"$new/compose.yaml"
    ! /usr/bin/python3 "${ROTARR_TOOLS:?}/check_rewrite.py" \
        "$ROTARR_SHARED/compose-spec/compose-spec.json" "$old" "$new" \
        compose.yaml oldPassw0rd newPassw0rd "$new/compose.yaml" >/dev/null
}

check "every corpus stack loads" check_every_stack_loads
check "servers match the expected list" check_servers_match_expected_list
check "expected list names both kinds" check_expected_list_is_not_trivial
check "dry run on every Postgres stack changes nothing" check_dry_run_on_postgres_stacks
check "rewrite changes only the password" check_rewrite_changes_only_the_password
check "rewrite checker catches another change" check_rewrite_checker_catches_a_change
