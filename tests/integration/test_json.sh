#!/bin/bash
# Every --json output that rotarr prints validates against its JSON Schema
# in docs/schema/ (draft 2020-12), checked with python3-jsonschema.  The
# documents come from the verbs run on the example stack, on small stacks
# made here, on a git repository with and without findings, and, when
# scripts/services started them, against the throw-away PostgreSQL and
# Redis.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/pg_roles.sh
. "$(dirname "$0")/pg_roles.sh"

: "${ROTARR_SOURCE_ROOT:?ROTARR_SOURCE_ROOT must name the source tree}"
readonly SCHEMAS=$ROTARR_SOURCE_ROOT/docs/schema
# The system Python, which has python3-jsonschema; another python3 may come
# first on PATH.
readonly PYTHON=/usr/bin/python3
"$PYTHON" -c 'import jsonschema' 2>/dev/null ||
    die "python3-jsonschema is not installed; run scripts/deps"

export HOME=$TEST_TMP/home
export XDG_CONFIG_HOME=$HOME/.config
export GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"

# matches_schema SCHEMA FILE: FILE contains exactly one JSON document, and it
# is valid against docs/schema/SCHEMA.json.  Prints each violation.
matches_schema() {
    "$PYTHON" - "$SCHEMAS/$1.json" "$2" <<'PY'
import json
import sys

import jsonschema

with open(sys.argv[1], encoding="utf-8") as f:
    schema = json.load(f)
with open(sys.argv[2], encoding="utf-8") as f:
    text = f.read()
try:
    document = json.loads(text)
except ValueError as e:
    print(f"  not one JSON document: {e}", file=sys.stderr)
    sys.exit(1)
jsonschema.Draft202012Validator.check_schema(schema)
errors = list(jsonschema.Draft202012Validator(schema).iter_errors(document))
for error in errors:
    where = "/".join(str(p) for p in error.absolute_path) or "(top)"
    print(f"  {where}: {error.message}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}

# valid_json STATUS SCHEMA ROTARR-ARG...: runs rotarr with --json, expects
# exit status STATUS and output valid against SCHEMA.
valid_json() {
    local status=$1 schema=$2
    shift 2

    expect_exit "$status" "$ROTARR" --json "$@" || return 1
    if ! matches_schema "$schema" "$OUT"; then
        show_output
        return 1
    fi
}

# fresh_stack: prints the path of a new copy of the example stack.
fresh_stack() {
    copy_example_stack "$(mktemp -u "$TEST_TMP/stack.XXXXXX")"
}

# have_services NAME: scripts/services' variables for NAME are set.
# Under CI=true a missing server is a failure, as require_services has it.
have_services() {
    if [ "$1" = postgres ] && [ -n "${ROTARR_PGPORT:-}" ]; then
        require_loopback "${ROTARR_PGHOST:?}"
        return 0
    fi
    if [ "$1" = redis ] && [ -n "${ROTARR_REDIS_PORT:-}" ]; then
        require_loopback "${ROTARR_REDIS_HOST:-127.0.0.1}"
        return 0
    fi
    if [ "${CI:-}" = true ]; then
        fail "no $1 server; under CI=true scripts/services must start it"
    else
        printf 'no %s server: its checks did not run\n' "$1"
    fi
    return 1
}

schemas_are_valid() {
    local schema

    for schema in "$SCHEMAS"/*.json; do
        "$PYTHON" -c '
import json, sys, jsonschema
with open(sys.argv[1], encoding="utf-8") as f:
    jsonschema.Draft202012Validator.check_schema(json.load(f))' \
            "$schema" || return 1
    done
}

gen_default_json() {
    valid_json 0 gen gen
}

gen_words_json() {
    valid_json 0 gen gen -c words 3 &&
        assert_contains "$OUT" '"charset":"words"'
}

gen_bits_json() {
    valid_json 0 gen gen -c hex -b 128
}

inspect_example_json() {
    local stack

    stack=$(fresh_stack)
    valid_json 0 inspect -C "$stack" inspect &&
        assert_contains "$OUT" '"kind":"postgres"' &&
        assert_contains "$OUT" '"kind":"url"'
}

# A service built from source has no image (null), and a readable .env
# gives a warning.
inspect_null_image_and_warning_json() {
    local stack=$TEST_TMP/built

    mkdir -p "$stack"
    # shellcheck disable=SC2016 # ${...} is for Compose
    printf 'services:\n  app:\n    build: .\n    environment:\n      API_TOKEN: ${API_TOKEN}\n' \
        >"$stack/compose.yaml"
    printf 'API_TOKEN=Zq4rT8wLx2Vb6Nc1Mk9Pj3Hs\n' >"$stack/.env"
    chmod 0644 "$stack/.env"
    valid_json 0 inspect -C "$stack" inspect &&
        assert_contains "$OUT" '"image":null' &&
        assert_match "$OUT" '"warnings":\["'
}

# The reject twin of the checks above: a document that breaks the schema
# fails, so a validator that accepts everything cannot pass this test.
invalid_document_fails() {
    local stack

    stack=$(fresh_stack)
    expect_exit 0 "$ROTARR" -C "$stack" --json inspect &&
        sed 's/"kind":"postgres"/"kind":"mysql"/' "$OUT" \
            >"$TEST_TMP/broken.json" &&
        ! matches_schema inspect "$TEST_TMP/broken.json" 2>/dev/null &&
        printf '{"services":[]} trailing' >"$TEST_TMP/trailing.json" &&
        ! matches_schema inspect "$TEST_TMP/trailing.json" 2>/dev/null
}

redis_offline_plan_json() {
    local stack

    stack=$(fresh_stack)
    valid_json 0 redis -C "$stack" -n redis --offline &&
        assert_contains "$OUT" '"mode":"enable"' &&
        assert_contains "$OUT" '"dry_run":true'
}

redis_offline_enable_json() {
    local stack

    stack=$(fresh_stack)
    valid_json 0 redis -C "$stack" redis --offline &&
        assert_contains "$OUT" '"dry_run":false' &&
        assert_contains "$OUT" '"live":false'
}

# new_repo: a git repository with a stack whose .env is committed, so
# that the guard has findings, and prints its path.
new_repo() {
    local repo=$TEST_TMP/repo

    mkdir -p "$repo"
    git -C "$repo" init -q
    # shellcheck disable=SC2016 # ${...} is for Compose
    printf 'services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n' \
        >"$repo/compose.yaml"
    printf 'POSTGRES_PASSWORD=Xk9vQ2mP7rLs4TnW8bYc\n' >"$repo/.env"
    chmod 0600 "$repo/.env"
    git -C "$repo" add compose.yaml .env
    git -C "$repo" -c user.name=t -c user.email=t@example.invalid \
        commit -q -m first
    printf '%s\n' "$repo"
}

hook_findings_json() {
    local repo

    repo=$(new_repo)
    valid_json 1 hook -C "$repo" hook check --all &&
        assert_contains "$OUT" '"path":".env"' &&
        valid_json 1 hook -C "$repo" hook check HEAD &&
        assert_match "$OUT" '"commit":"[0-9a-f]{40}"'
}

# 'hook run' scans the repository of the working directory, as git runs
# the hook at the top of the working tree.
hook_no_findings_json() {
    local repo=$TEST_TMP/clean

    mkdir -p "$repo" && git -C "$repo" init -q &&
        printf 'services:\n  web:\n    image: nginx\n' >"$repo/compose.yaml" &&
        git -C "$repo" add compose.yaml &&
        (cd "$repo" && valid_json 0 hook hook run) &&
        assert_contains "$OUT" '"findings":[]'
}

# pg_stack: prints the path of a copy of the example stack that points at
# the throw-away server.  Its role gets a name of its own in place of
# 'app', so that tests running at the same time do not share a role.
pg_stack() {
    local stack role=rj_$$_$BASHPID password

    stack=$(copy_example_stack "$TEST_TMP/pg-$role")
    sed -i "s/^POSTGRES_PORT=.*/POSTGRES_PORT=$ROTARR_PGPORT/" "$stack/.env"
    sed -i "s/POSTGRES_USER: app/POSTGRES_USER: $role/; s/POSTGRES_DB: app/POSTGRES_DB: $role/" \
        "$stack/compose.yaml"
    password=$(sed -n 's/^POSTGRES_PASSWORD=//p' "$stack/.env")
    create_role "$role" "$password"
    printf '%s\n' "$stack"
}

postgres_json() {
    local stack

    stack=$(pg_stack)
    valid_json 0 postgres -C "$stack" -n postgres &&
        assert_contains "$OUT" '"dry_run":true' &&
        valid_json 0 postgres -C "$stack" postgres &&
        assert_contains "$OUT" '"dry_run":false' &&
        assert_contains "$OUT" '"line":'
}

postgres_adopt_json() {
    local stack

    stack=$(pg_stack)
    # The file gets a password that the server does not have.
    sed -i 's/idw61kWrzzhsf4zMkxmuLIhxralFeeNy/Pw8sLk2QnV5tRz7XcY4mB1dH6fJ9gA3e/g' \
        "$stack/.env"
    expect_exit 0 "$ROTARR" -C "$stack" --json --dry-run postgres \
        --adopt --admin-user "$ROTARR_PGUSER" --admin-password-stdin \
        <"$ROTARR_PGPASSFILE" &&
        matches_schema postgres "$OUT" &&
        assert_contains "$OUT" '"adopted":false' &&
        expect_exit 0 "$ROTARR" -C "$stack" --json postgres \
            --adopt --admin-user "$ROTARR_PGUSER" --admin-password-stdin \
            <"$ROTARR_PGPASSFILE" &&
        matches_schema postgres "$OUT" &&
        assert_contains "$OUT" '"adopted":true'
}

# A rotation killed after ALTER ROLE leaves its journal, and
# 'rotarr resume' finishes it with the postgres document.
resume_json() {
    local stack status=0

    stack=$(pg_stack)
    # expect_exit reports any death by a signal as a failure, so the
    # SIGKILL of the failpoint is checked here.
    ROTARR_FAILPOINT='set' "$ROTARR" -C "$stack" postgres \
        >/dev/null 2>&1 || status=$?
    if [ "$status" -ne 137 ]; then
        printf '  the failpoint after set ended rotarr with %s\n' \
            "$(describe_status "$status")" >&2
        return 1
    fi
    valid_json 0 postgres -C "$stack" resume &&
        assert_contains "$OUT" '"dry_run":false'
}

# built_with_failpoints: the build under test has -Dfailpoints=true.
built_with_failpoints() {
    local build

    build=$(cd "$(dirname "$ROTARR_BINARY")/.." && pwd)
    meson introspect --buildoptions "$build" 2>/dev/null |
        "$PYTHON" -c '
import json, sys
options = {o["name"]: o["value"] for o in json.load(sys.stdin)}
sys.exit(0 if options.get("failpoints") is True else 1)'
}

audit_json() {
    local stack

    stack=$(fresh_stack)
    valid_json 1 audit -C "$stack" audit &&
        assert_contains "$OUT" '"id":"db-no-password"' &&
        valid_json 1 audit -C "$stack" audit --severity low &&
        assert_contains "$OUT" '"severity":"low"'
}

audit_no_findings_json() {
    local stack=$TEST_TMP/quiet

    mkdir -p "$stack" &&
        printf 'services:\n  web:\n    image: nginx:1\n' >"$stack/compose.yaml" &&
        valid_json 0 audit -C "$stack" audit --severity high &&
        assert_contains "$OUT" '"findings":[]'
}

status_offline_json() {
    local stack

    stack=$(fresh_stack)
    valid_json 1 status -C "$stack" status --offline &&
        assert_contains "$OUT" '"rotated":null' &&
        assert_contains "$OUT" '"cannot-plan"'
}

rotate_plan_json() {
    local stack

    stack=$(fresh_stack)
    valid_json 0 rotate -C "$stack" -n rotate &&
        assert_contains "$OUT" '"action":"would-rotate"'
}

arr_key_json() {
    local stack

    stack=$(fresh_stack)
    valid_json 0 arr-key -C "$stack" -n arr-key --service sonarr &&
        assert_contains "$OUT" '"dry_run":true' &&
        valid_json 0 arr-key -C "$stack" arr-key --service radarr &&
        assert_contains "$OUT" '"app":"radarr"' &&
        assert_contains "$OUT" '"file":"radarr/config.xml"'
}

# A verb that fails prints no document: two Servarr apps and no
# --service is a usage error.
failure_prints_no_document() {
    local stack

    stack=$(fresh_stack)
    expect_exit 2 "$ROTARR" -C "$stack" --json arr-key &&
        assert_empty "$OUT"
}

# After a rotation, status has its time and rotate has nothing to do.
rotate_and_status_json() {
    local stack

    stack=$(pg_stack)
    valid_json 0 rotate -C "$stack" rotate --only postgres &&
        assert_contains "$OUT" '"action":"rotate"' &&
        valid_json 0 status -C "$stack" status --only postgres &&
        assert_match "$OUT" '"rotated":"[0-9-]+T[0-9:]+Z","age_days":0' &&
        valid_json 0 rotate -C "$stack" rotate --only postgres &&
        assert_contains "$OUT" '"exit":0}'
}

redis_live_plan_json() {
    local stack

    stack=$(fresh_stack)
    valid_json 0 redis -C "$stack" -n redis \
        --host "${ROTARR_REDIS_HOST:-127.0.0.1}" --port "$ROTARR_REDIS_PORT"
}

check "schemas are valid draft 2020-12" schemas_are_valid
check "gen json" gen_default_json
check "gen words json" gen_words_json
check "gen bits json" gen_bits_json
check "inspect example stack json" inspect_example_json
check "inspect null image and warning json" \
    inspect_null_image_and_warning_json
check "invalid document fails validation" invalid_document_fails
check "redis offline plan json" redis_offline_plan_json
check "redis offline enable json" redis_offline_enable_json
check "hook findings json" hook_findings_json
check "hook no findings json" hook_no_findings_json
check "audit json" audit_json
check "audit no findings json" audit_no_findings_json
check "status offline json" status_offline_json
check "rotate plan json" rotate_plan_json
check "arr-key json" arr_key_json
check "failure prints no document" failure_prints_no_document
if have_services postgres; then
    check "postgres rotation json" postgres_json
    check "postgres adopt json" postgres_adopt_json
    check "rotate and status json" rotate_and_status_json
    if built_with_failpoints; then
        check "resume json" resume_json
    else
        printf 'built without -Dfailpoints=true: resume json did not run\n'
    fi
fi
if have_services redis; then
    check "redis live plan json" redis_live_plan_json
fi
