#!/bin/bash
# Runs the commands of the README's five-minute tour, so that they cannot
# drift from what rotarr does.  The tour's ```sh blocks run in order in one
# shell, from the top of the source tree, with HOME in the test's folder.
# A line whose comment reads "(exit N)" must exit N, and every other
# line must exit 0.  Two things stand in for Docker: a 'docker' command
# on PATH that records its arguments, and the throw-away PostgreSQL of
# scripts/services with the role 'app' that the postgres image would
# create, reached through POSTGRES_PORT in the environment, which Compose
# and rotarr read before .env.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

: "${ROTARR_SOURCE_ROOT:?ROTARR_SOURCE_ROOT must name the source tree}"
readonly README=$ROTARR_SOURCE_ROOT/README.md
readonly EXAMPLE_ENV=$ROTARR_SOURCE_ROOT/examples/stack/.env

readonly TOUR=$TEST_TMP/tour.txt
readonly STATUSES=$TEST_TMP/statuses
readonly TOUR_LOG=$TEST_TMP/tour.log
readonly DOCKER_LOG=$TEST_TMP/docker.log
readonly STUBS=$TEST_TMP/bin
export HOME=$TEST_TMP/home
readonly STACK=$HOME/rotarr-tour

# tour_commands: prints the command lines of the ```sh blocks in the
# README's "Five-minute tour" section.
tour_commands() {
    awk '/^## / { in_tour = ($0 == "## Five-minute tour") }
         in_tour && /^```sh$/ { in_block = 1; next }
         in_block && /^```$/ { in_block = 0; next }
         in_block && NF > 0 { print }' "$README"
}

# expected_status LINE: the "(exit N)" of the line's comment, else 0.
expected_status() {
    if [[ $1 =~ \#.*\(exit\ ([0-9]+)\)[[:space:]]*$ ]]; then
        printf '%s\n' "${BASH_REMATCH[1]}"
    else
        printf '0\n'
    fi
}

# example_value KEY: KEY's value in the example stack's .env.
example_value() {
    sed -n "s/^$1=//p" "$EXAMPLE_ENV" | head -n 1
}

make_stubs() {
    mkdir -p "$STUBS" "$HOME"
    ln -s "$ROTARR" "$STUBS/rotarr"
    # docker records each call, and whether the env file's variables
    # reached it (they do through 'rotarr exec').
    cat >"$STUBS/docker" <<STUB
#!/bin/sh
printf 'docker %s\n' "\$*" >>'$DOCKER_LOG'
if [ -n "\${POSTGRES_PASSWORD:-}" ]; then
    printf '  with POSTGRES_PASSWORD\n' >>'$DOCKER_LOG'
fi
STUB
    # The editor of 'rotarr edit' adds a line.
    cat >"$STUBS/tour-editor" <<'STUB'
#!/bin/sh
printf 'TOUR_EDITED=1\n' >>"$1"
STUB
    chmod +x "$STUBS/docker" "$STUBS/tour-editor"
}

# What the postgres image does on its first start: role 'app' with the
# password from .env, owning database 'app'.
make_app_role() {
    psql_super -c 'DROP DATABASE IF EXISTS app' -c 'DROP ROLE IF EXISTS app' \
        >/dev/null 2>&1
    psql_super -v pw="$(example_value POSTGRES_PASSWORD)" >/dev/null <<'SQL'
SET log_statement = 'none';
CREATE ROLE app LOGIN PASSWORD :'pw';
CREATE DATABASE app OWNER app;
SQL
    at_exit "psql_super -c 'DROP DATABASE IF EXISTS app' -c 'DROP ROLE IF EXISTS app' >/dev/null 2>&1"
}

# Runs the tour's lines in one shell and writes one exit status per line
# to $STATUSES.
run_tour() {
    (
        cd "$ROTARR_SOURCE_ROOT" || exit 1
        export PATH="$STUBS:$PATH" POSTGRES_PORT="$ROTARR_PGPORT"
        export EDITOR=tour-editor VISUAL=tour-editor
        export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=tour \
            GIT_AUTHOR_EMAIL=tour@example.invalid GIT_COMMITTER_NAME=tour \
            GIT_COMMITTER_EMAIL=tour@example.invalid
        unset SOPS_AGE_KEY_FILE XDG_CONFIG_HOME
        while IFS= read -r line; do
            printf '$ %s\n' "$line"
            status=0
            eval "$line" </dev/null || status=$?
            printf '%s\n' "$status" >>"$STATUSES"
        done <"$TOUR"
    ) >"$TOUR_LOG" 2>&1
}

# line_exits_as_documented N: line N of the tour exited as the README
# states.
line_exits_as_documented() {
    local line status expected

    line=$(sed -n "$1p" "$TOUR")
    status=$(sed -n "$1p" "$STATUSES")
    expected=$(expected_status "$line")
    if [ "$status" != "$expected" ]; then
        printf '  exit status %s, expected %s; the tour so far:\n' \
            "${status:-none}" "$expected" >&2
        tail -n 15 "$TOUR_LOG" | sed 's/^/    /' >&2
        return 1
    fi
}

tour_has_commands() {
    [ "$(wc -l <"$TOUR")" -ge 20 ] &&
        assert_contains "$TOUR" "rotarr postgres" &&
        assert_contains "$TOUR" "rotarr redis" &&
        assert_contains "$TOUR" "rotarr encrypt" &&
        assert_contains "$TOUR" "rotarr hook install" &&
        assert_contains "$TOUR" "rotarr rotate"
}

# decrypted_env: prints the stack's .env.age decrypted with the tour's key.
decrypted_env() {
    "$ROTARR" decrypt -i "$HOME/.config/sops/age/keys.txt" "$STACK/.env.age"
}

# can_login PASSWORD: role 'app' logs in with PASSWORD over TCP.
can_login() {
    local pgpass=$TEST_TMP/app.pgpass

    (umask 077 && printf '%s:%s:app:app:%s\n' "$ROTARR_PGHOST" \
        "$ROTARR_PGPORT" "$1" >"$pgpass")
    env -u PGPASSWORD PGPASSFILE="$pgpass" PGCONNECT_TIMEOUT=10 \
        psql -X -q -h "$ROTARR_PGHOST" -p "$ROTARR_PGPORT" -U app -d app \
        -c 'SELECT 1' >/dev/null 2>&1
}

postgres_password_rotated() {
    local old new

    old=$(example_value POSTGRES_PASSWORD)
    new=$(decrypted_env | sed -n 's/^POSTGRES_PASSWORD=//p')
    if [ -z "$new" ] || [ "$new" = "$old" ]; then
        printf '  .env.age has no new POSTGRES_PASSWORD\n' >&2
        return 1
    fi
    can_login "$new" || { printf '  the new password is refused\n' >&2; return 1; }
    if can_login "$old"; then
        printf '  the old password still logs in\n' >&2
        return 1
    fi
}

copies_follow_rotation() {
    local env=$TEST_TMP/decrypted.env new

    decrypted_env >"$env" &&
        new=$(sed -n 's/^POSTGRES_PASSWORD=//p' "$env") &&
        assert_contains "$env" "PAPERLESS_DBPASS=$new" &&
        assert_contains "$env" "postgresql://app:$new@db:5432/app"
}

restart_recreated_services() {
    assert_contains "$DOCKER_LOG" \
        "docker compose up -d --no-deps db outline paperless umami" &&
        assert_contains "$DOCKER_LOG" \
            "docker compose up -d --no-deps redis outline paperless"
}

redis_has_password() {
    # shellcheck disable=SC2016 # ${REDIS_PASSWORD} is for Compose
    assert_contains "$STACK/compose.yaml" "--requirepass" &&
        assert_contains "$STACK/compose.yaml" \
            'redis://default:${REDIS_PASSWORD}@redis:6379/0' &&
        decrypted_env >"$TEST_TMP/redis.env" &&
        assert_match "$TEST_TMP/redis.env" '^REDIS_PASSWORD=.'
}

sonarr_key_rotated() {
    local old new

    old=$(sed -n 's:.*<ApiKey>\(.*\)</ApiKey>.*:\1:p' \
        "$ROTARR_SOURCE_ROOT/examples/stack/sonarr/config.xml")
    new=$(sed -n 's:.*<ApiKey>\(.*\)</ApiKey>.*:\1:p' \
        "$STACK/sonarr/config.xml")
    if [[ ! $new =~ ^[0-9a-f]{32}$ ]] || [ "$new" = "$old" ]; then
        printf '  sonarr/config.xml has key %s\n' "${new:-none}" >&2
        return 1
    fi
}

exec_passed_variables() {
    assert_contains "$DOCKER_LOG" "  with POSTGRES_PASSWORD"
}

edit_reencrypted() {
    decrypted_env >"$TEST_TMP/edited.env" &&
        assert_contains "$TEST_TMP/edited.env" "TOUR_EDITED=1"
}

guard_kept_plaintext_out() {
    local committed

    committed=$(git -C "$STACK" log --format=%s | wc -l)
    [ "$committed" -eq 1 ] &&
        git -C "$STACK" ls-tree --name-only HEAD >"$OUT" &&
        assert_contains "$OUT" ".env.age" &&
        ! grep -qx '.env' "$OUT"
}

# Every examples/ path that the README names exists.
readme_paths_exist() {
    local path absent=0

    while IFS= read -r path; do
        if [ ! -e "$ROTARR_SOURCE_ROOT/$path" ]; then
            printf '  README names %s, which does not exist\n' "$path" >&2
            absent=1
        fi
    done < <(grep -oE 'examples/[A-Za-z0-9_./-]*[A-Za-z0-9_]' "$README" |
        sort -u)
    [ "$absent" -eq 0 ]
}

# Every verb of 'rotarr --help' is in the README's verb table.
readme_lists_every_verb() {
    local verb unlisted=0

    for verb in $("$ROTARR" --help |
        sed -n '/^verbs:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'); do
        if ! grep -qE "^\| .*\`$verb\`.* \|" "$README"; then
            printf '  the verb table has no %s\n' "$verb" >&2
            unlisted=1
        fi
    done
    [ "$unlisted" -eq 0 ]
}

check "README names existing example files" readme_paths_exist
check "README lists every verb" readme_lists_every_verb

require_services postgres
make_stubs
make_app_role
tour_commands >"$TOUR"
check "tour has its commands" tour_has_commands
run_tour
line_count=$(wc -l <"$TOUR")
for (( i = 1; i <= line_count; i++ )); do
    check "tour: $(sed -n "${i}p" "$TOUR")" line_exits_as_documented "$i"
done
check "Postgres password rotated" postgres_password_rotated
check "copies follow the rotation" copies_follow_rotation
check "--restart recreated the services" restart_recreated_services
check "Redis has a password" redis_has_password
check "Sonarr API key rotated" sonarr_key_rotated
check "exec passed the variables" exec_passed_variables
check "edit encrypted the change" edit_reencrypted
check "guard kept the plaintext out" guard_kept_plaintext_out
