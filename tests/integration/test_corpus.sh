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

# Copies one compose folder of the corpus to a temporary stack directory
# and prints its path.
stage() {
    local src=$1 dest sample

    dest=$TEST_TMP/stage/${src#"$CORPUS"/}
    mkdir -p "$dest"
    cp -R "$src/." "$dest/"
    if sample=$(sample_env "$dest") && [ "$sample" != .env ]; then
        cp "$dest/$sample" "$dest/.env"
    fi
    chmod -R go-rwx "$dest"
    printf '%s\n' "$dest"
}

# Lists "folder service kind" for every Postgres and Redis service.
servers_of() {
    local dir=$1 rel=$2

    python3 -c '
import json, sys
doc = json.load(sys.stdin)
for s in doc["services"]:
    if s["kind"] != "other":
        print(sys.argv[1], s["name"], s["kind"])
' "$rel" <"$OUT"
}

# Compose folders: those with a compose file, one stack each.
stacks() {
    find "$CORPUS" -name '*compose*.y*ml' -not -path '*/tests/*' \
        -printf '%h\n' | sort -u
}

found=$TEST_TMP/found.txt
: >"$found"

check_every_stack_loads() {
    local src dir rel failed=0

    while read -r src; do
        rel=${src#"$CORPUS"/}
        dir=$(stage "$src")
        if ! expect_exit 0 "$ROTARR" -C "$dir" --json inspect; then
            echo "  $rel does not load" >&2
            failed=1
            continue
        fi
        servers_of "$dir" "$rel" >>"$found"
    done < <(stacks)
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
    local rel service dir before failed=0 status

    while read -r rel service _; do
        dir=$TEST_TMP/stage/$rel
        before=$(find "$dir" -type f -exec sha256sum {} + | sort)
        status=0
        "$ROTARR" -C "$dir" -n postgres --service "$service" \
            >"$OUT" 2>"$ERR" || status=$?
        if [ "$status" -eq 0 ]; then
            if ! grep -q "^plan: rotate role '" "$OUT" ||
                ! grep -q '^password: ' "$OUT"; then
                echo "  $rel/$service: the plan names no role or variable" >&2
                failed=1
            fi
        elif [ "$status" -ne 2 ] || ! grep -q "rotarr: " "$ERR"; then
            echo "  $rel/$service: $(describe_status "$status")" >&2
            show_output
            failed=1
        fi
        if [ "$before" != "$(find "$dir" -type f -exec sha256sum {} + | sort)" ]; then
            echo "  $rel/$service: a dry run changed a file" >&2
            failed=1
        fi
    done < <(grep ' postgres$' "$found")
    [ "$failed" -eq 0 ]
}

check "every corpus stack loads" check_every_stack_loads
check "servers match the expected list" check_servers_match_expected_list
check "expected list names both kinds" check_expected_list_is_not_trivial
check "dry run on every Postgres stack changes nothing" check_dry_run_on_postgres_stacks
