# shellcheck shell=bash
# 'rotarr rotate' and 'rotarr status' against the throw-away PostgreSQL
# that scripts/services starts: due dates from .rotarr/state, the clock
# moved with ROTARR_NOW (a build with -Dfailpoints=true), the JSON of
# status, the lock of two runs started together, a journal left by a
# crash, and 'systemd-analyze verify' on examples/systemd.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/pg_roles.sh
. "$(dirname "$0")/pg_roles.sh"

require_services postgres

readonly DAY=86400
NOW=$(date +%s)

# make_two_db_stack DIR ROLE_OLD PW_OLD ROLE_NEW PW_NEW: two Postgres
# services on the same server, 'olddb' rotated 100 days ago and 'newdb'
# 10 days ago according to .rotarr/state.
make_two_db_stack() {
    local dir=$1

    mkdir -p "$dir"
    cat >"$dir/compose.yaml" <<EOF
services:
  olddb:
    image: postgres:16-alpine
    environment:
      POSTGRES_USER: "$2"
      POSTGRES_PASSWORD: \${OLD_DB_PASSWORD}
      POSTGRES_DB: "$2"
    ports:
      - "127.0.0.1:\${POSTGRES_PORT}:5432"
  newdb:
    image: postgres:16-alpine
    environment:
      POSTGRES_USER: "$4"
      POSTGRES_PASSWORD: \${NEW_DB_PASSWORD}
      POSTGRES_DB: "$4"
    ports:
      - "127.0.0.1:\${POSTGRES_PORT}:5432"
EOF
    printf 'POSTGRES_PORT=%s\nOLD_DB_PASSWORD=%s\nNEW_DB_PASSWORD=%s\n' \
        "$ROTARR_PGPORT" "$3" "$5" >"$dir/.env"
    chmod 600 "$dir/.env"
    mkdir -m 700 "$dir/.rotarr"
    printf 'postgres olddb POSTGRES_PASSWORD %d\npostgres newdb POSTGRES_PASSWORD %d\n' \
        $(( NOW - 100 * DAY )) $(( NOW - 10 * DAY )) >"$dir/.rotarr/state"
    chmod 600 "$dir/.rotarr/state"
}

# make_stack DIR ROLE PASSWORD: one Postgres service, never rotated.
make_stack() {
    mkdir -p "$1"
    cat >"$1/compose.yaml" <<EOF
services:
  db:
    image: postgres:16-alpine
    environment:
      POSTGRES_USER: "$2"
      POSTGRES_PASSWORD: \${POSTGRES_PASSWORD}
      POSTGRES_DB: "$2"
    ports:
      - "127.0.0.1:\${POSTGRES_PORT}:5432"
  app:
    image: ghcr.io/example/app:1
    environment:
      DB_PASS: \${POSTGRES_PASSWORD}
EOF
    printf 'POSTGRES_PORT=%s\nPOSTGRES_PASSWORD=%s\n' "$ROTARR_PGPORT" \
        "$3" >"$1/.env"
    chmod 600 "$1/.env"
}

# A shared stack for the age checks: olddb 100 days, newdb 10 days.
AGE_DIR=$TEST_TMP/ages
OLD_PW=hundredDaysPassw0rdAAAAAAAAAAAAAA
NEW_PW=tenDaysPassw0rdAAAAAAAAAAAAAAAAAA
OLD_ROLE=$(new_role "$OLD_PW")
NEW_ROLE=$(new_role "$NEW_PW")
make_two_db_stack "$AGE_DIR" "$OLD_ROLE" "$OLD_PW" "$NEW_ROLE" "$NEW_PW"

check_status_shows_ages() {
    expect_exit 1 "$ROTARR" -C "$AGE_DIR" status &&
        assert_match "$OUT" '^postgres +olddb +POSTGRES_PASSWORD +100d .* due$' &&
        assert_match "$OUT" '^postgres +newdb +POSTGRES_PASSWORD +10d .* ok$' &&
        assert_not_contains "$OUT" "$OLD_PW" &&
        assert_not_contains "$OUT" "$NEW_PW"
}

check_status_json_has_every_field() {
    expect_exit 1 "$ROTARR" -C "$AGE_DIR" --json status || return 1
    python3 - "$OUT" <<'EOF'
import json
import sys

doc = json.load(open(sys.argv[1], encoding="utf-8"))
top = {"now", "max_age_seconds", "journal_pending", "journal_kind", "secrets"}
item_keys = {"kind", "service", "var", "source", "rotated", "age_days",
             "due", "is_due", "warnings", "plan_error", "login_error"}
missing = top - doc.keys()
assert not missing, "missing top-level fields: %s" % missing
assert doc["max_age_seconds"] == 90 * 86400, doc["max_age_seconds"]
assert doc["journal_pending"] is False
by_service = {item["service"]: item for item in doc["secrets"]}
assert set(by_service) == {"olddb", "newdb"}, by_service.keys()
for item in doc["secrets"]:
    missing = item_keys - item.keys()
    assert not missing, "missing fields of %s: %s" % (item["service"], missing)
    assert item["kind"] == "postgres"
    assert item["source"].startswith(".env:"), item["source"]
    assert item["warnings"] == [], item["warnings"]
assert by_service["olddb"]["age_days"] == 100, by_service["olddb"]
assert by_service["olddb"]["is_due"] is True
assert by_service["newdb"]["age_days"] == 10, by_service["newdb"]
assert by_service["newdb"]["is_due"] is False
EOF
}

check_rotate_rotates_only_the_old_one() {
    local old_now new_now

    expect_exit 0 "$ROTARR" -C "$AGE_DIR" rotate || return 1
    old_now=$(env_value "$AGE_DIR/.env" OLD_DB_PASSWORD)
    new_now=$(env_value "$AGE_DIR/.env" NEW_DB_PASSWORD)
    [ "$old_now" != "$OLD_PW" ] || { echo "  olddb was not rotated" >&2; return 1; }
    [ "$new_now" = "$NEW_PW" ] || { echo "  newdb was rotated" >&2; return 1; }
    can_login "$OLD_ROLE" "$old_now" && ! can_login "$OLD_ROLE" "$OLD_PW" &&
        can_login "$NEW_ROLE" "$NEW_PW" &&
        assert_contains "$ERR" "rotated the password of role '$OLD_ROLE'" &&
        assert_not_contains "$ERR" "$old_now" &&
        assert_not_contains "$OUT" "$old_now" &&
        expect_exit 0 "$ROTARR" -C "$AGE_DIR" status &&
        assert_match "$OUT" '^postgres +olddb +POSTGRES_PASSWORD +0d .* ok$'
}

check_moved_clock_makes_newer_one_due() {
    # 81 days on, the 10-day-old secret is 91 days old.
    ROTARR_NOW=$(( NOW + 81 * DAY )) expect_exit 1 "$ROTARR" -C "$AGE_DIR" \
        status --offline &&
        assert_match "$OUT" '^postgres +newdb +POSTGRES_PASSWORD +91d .* due$' &&
        assert_match "$OUT" '^postgres +olddb +POSTGRES_PASSWORD +8[01]d .* ok$' &&
        ROTARR_NOW=$(( NOW + 81 * DAY )) expect_exit 0 "$ROTARR" \
            -C "$AGE_DIR" --json rotate &&
        [ "$(env_value "$AGE_DIR/.env" NEW_DB_PASSWORD)" != "$NEW_PW" ] &&
        python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))
actions = {(a["action"], a["service"]) for a in doc["actions"]}
assert actions == {("rotate", "newdb"), ("skip", "olddb")}, actions
assert doc["exit"] == 0
' "$OUT"
}

check_max_age_option() {
    # Runs after the rotations above, so both secrets are 0 days old.
    expect_exit 0 "$ROTARR" -C "$AGE_DIR" status --offline --max-age 5d &&
        expect_exit 0 "$ROTARR" -C "$AGE_DIR" status --offline \
            --max-age 100w &&
        expect_exit 2 "$ROTARR" -C "$AGE_DIR" status --max-age 0d &&
        assert_contains "$ERR" "invalid duration '0d'" &&
        expect_exit 2 "$ROTARR" -C "$AGE_DIR" rotate --max-age 3y &&
        expect_exit 2 "$ROTARR" -C "$AGE_DIR" rotate --only mysql &&
        assert_contains "$ERR" "invalid kind 'mysql'"
}

check_never_rotated_is_due() {
    local dir=$TEST_TMP/never role pw=neverPassw0rdAAAAAAAAAAAAAAAAAAA

    role=$(new_role "$pw") && make_stack "$dir" "$role" "$pw" &&
        expect_exit 1 "$ROTARR" -C "$dir" status &&
        assert_match "$OUT" '^postgres +db +POSTGRES_PASSWORD +never .* due$' &&
        expect_exit 0 "$ROTARR" -C "$dir" --dry-run rotate &&
        [ "$(env_value "$dir/.env" POSTGRES_PASSWORD)" = "$pw" ] &&
        [ ! -e "$dir/.rotarr/state" ] &&
        expect_exit 0 "$ROTARR" -C "$dir" rotate &&
        [ "$(env_value "$dir/.env" POSTGRES_PASSWORD)" != "$pw" ] &&
        assert_contains "$OUT" "docker compose" &&
        assert_contains "$OUT" " app"
}

check_readable_env_warns() {
    local dir=$TEST_TMP/readable role pw=readablePassw0rdAAAAAAAAAAAAAAAA

    role=$(new_role "$pw") && make_stack "$dir" "$role" "$pw" &&
        chmod 644 "$dir/.env" &&
        expect_exit 1 "$ROTARR" -C "$dir" status --offline &&
        assert_contains "$OUT" "open to group or others" &&
        chmod 600 "$dir/.env" &&
        expect_exit 1 "$ROTARR" -C "$dir" status --offline &&
        assert_not_contains "$OUT" "open to group or others"
}

check_wrong_password_warns_in_status() {
    local dir=$TEST_TMP/wrongpw role

    role=$(new_role rightPassw0rdAAAAAAAAAAAAAAAAAAA) &&
        make_stack "$dir" "$role" wrongPassw0rdAAAAAAAAAAAAAAAAAAA &&
        expect_exit 1 "$ROTARR" -C "$dir" --json status &&
        python3 -c '
import json, sys
item = json.load(open(sys.argv[1]))["secrets"][0]
assert "cannot-log-in" in item["warnings"], item
assert item["login_error"], item
' "$OUT" &&
        expect_exit 1 "$ROTARR" -C "$dir" status --offline &&
        assert_not_contains "$OUT" "warning"
}

check_crash_is_resumed_by_next_rotate() {
    local dir=$TEST_TMP/crashed role pw=crashedPassw0rdAAAAAAAAAAAAAAAAA status=0
    local new

    role=$(new_role "$pw") && make_stack "$dir" "$role" "$pw" || return 1
    ROTARR_FAILPOINT="set" "$ROTARR" -C "$dir" rotate >/dev/null 2>&1 ||
        status=$?
    [ "$status" -eq 137 ] && [ -e "$dir/.rotarr/journal" ] || {
        echo "  the crash left no journal ($(describe_status "$status"))" >&2
        return 1; }
    expect_exit 1 "$ROTARR" -C "$dir" status --offline &&
        assert_contains "$OUT" "pending: a postgres rotation stopped" &&
        expect_exit 0 "$ROTARR" -C "$dir" rotate &&
        assert_contains "$ERR" "resumed the postgres rotation" &&
        assert_not_contains "$ERR" "rotated the password" &&
        [ ! -e "$dir/.rotarr/journal" ] || return 1
    new=$(env_value "$dir/.env" POSTGRES_PASSWORD)
    [ "$new" != "$pw" ] && can_login "$role" "$new"
}

# rotate_log_stack DIR: a fresh two-service stack, olddb due, newdb not.
rotate_log_stack() {
    local old_pw=logOldPassw0rdAAAAAAAAAAAAAAAAAA
    local new_pw=logNewPassw0rdAAAAAAAAAAAAAAAAAA
    local old_role new_role

    old_role=$(new_role "$old_pw") && new_role=$(new_role "$new_pw") &&
        make_two_db_stack "$1" "$old_role" "$old_pw" "$new_role" "$new_pw"
}

check_rotate_logs_each_action_once() {
    local dir=$TEST_TMP/log-default new

    rotate_log_stack "$dir" &&
        expect_exit 0 "$ROTARR" -C "$dir" rotate &&
        assert_lines "$ERR" 1 &&
        assert_match "$ERR" "^rotarr: rotated the password of role '[^']*' of postgres service 'olddb' \(POSTGRES_PASSWORD\)$" &&
        assert_not_contains "$ERR" "not due" || return 1
    new=$(env_value "$dir/.env" OLD_DB_PASSWORD)
    assert_not_contains "$ERR" "$new" &&
        assert_not_contains "$ERR" logOldPassw0rd &&
        assert_not_contains "$ERR" logNewPassw0rd
}

check_rotate_verbose_logs_skips() {
    local dir=$TEST_TMP/log-verbose

    rotate_log_stack "$dir" &&
        expect_exit 0 "$ROTARR" -C "$dir" -v rotate &&
        assert_lines "$ERR" 2 &&
        assert_contains "$ERR" "rotated the password of role" &&
        assert_contains "$ERR" "rotarr: postgres service 'newdb' (POSTGRES_PASSWORD) is 10 days old; not due yet"
}

check_two_runs_started_together() {
    local dir=$TEST_TMP/together role pw=togetherPassw0rdAAAAAAAAAAAAAAAA
    local a=0 b=0 new

    role=$(new_role "$pw") && make_stack "$dir" "$role" "$pw" || return 1
    "$ROTARR" -C "$dir" rotate >"$TEST_TMP/a.out" 2>"$TEST_TMP/a.err" &
    "$ROTARR" -C "$dir" rotate >"$TEST_TMP/b.out" 2>"$TEST_TMP/b.err" &
    wait %1 || a=$?
    wait %2 || b=$?
    if [ "$a" -ne 0 ]; then
        a=$b b=1
        mv "$TEST_TMP/b.err" "$TEST_TMP/winner.err"
        mv "$TEST_TMP/a.err" "$TEST_TMP/loser.err"
    else
        mv "$TEST_TMP/a.err" "$TEST_TMP/winner.err"
        mv "$TEST_TMP/b.err" "$TEST_TMP/loser.err"
        b=$(( b == 3 ))
    fi
    [ "$a" -eq 0 ] && [ "$b" -eq 1 ] || {
        echo "  exit statuses: expected one 0 and one 3" >&2
        cat "$TEST_TMP/winner.err" "$TEST_TMP/loser.err" >&2
        return 1; }
    assert_contains "$TEST_TMP/loser.err" "another 'rotarr rotate' is running" &&
        assert_contains "$TEST_TMP/winner.err" "rotated the password" || return 1
    new=$(env_value "$dir/.env" POSTGRES_PASSWORD)
    [ "$new" != "$pw" ] && can_login "$role" "$new" &&
        [ ! -e "$dir/.rotarr/journal" ] &&
        [ "$(grep -c '^postgres db ' "$dir/.rotarr/state")" -eq 1 ]
}

check_held_lock_stops_rotate() {
    local dir=$TEST_TMP/held role pw=heldPassw0rdAAAAAAAAAAAAAAAAAAAA

    role=$(new_role "$pw") && make_stack "$dir" "$role" "$pw" &&
        mkdir -m 700 "$dir/.rotarr" || return 1
    # The sleep outlives a killed flock, so its output must not keep the
    # test's pipe open.
    flock "$dir/.rotarr/rotate.lock" sleep 30 </dev/null >/dev/null 2>&1 &
    at_exit "kill $! 2>/dev/null"
    wait_until_locked "$dir/.rotarr/rotate.lock" || return 1
    expect_exit 3 "$ROTARR" -C "$dir" rotate &&
        assert_contains "$ERR" "another 'rotarr rotate' is running" &&
        assert_contains "$ERR" "rotate.lock" &&
        [ "$(env_value "$dir/.env" POSTGRES_PASSWORD)" = "$pw" ]
}

check_files_changed_meanwhile_stop_rotation() {
    # While the rotation of olddb waits for the lock, newdb is rotated to
    # the end.  Writing .env from what it read before would undo newdb's
    # new password, which the server already has.
    local dir=$TEST_TMP/meanwhile newdb_now
    local old_pw=meanwhileOldPassw0rdAAAAAAAAAAAA
    local new_pw=meanwhileNewPassw0rdAAAAAAAAAAAA old_role new_role

    old_role=$(new_role "$old_pw") && new_role=$(new_role "$new_pw") &&
        make_two_db_stack "$dir" "$old_role" "$old_pw" "$new_role" \
            "$new_pw" || return 1
    rotarr_while_stopped "$ROTARR" -C "$dir" postgres --service newdb -- \
        -C "$dir" postgres --service olddb || return 1
    newdb_now=$(env_value "$dir/.env" NEW_DB_PASSWORD)
    stopped_status_is 3 || return 1
    assert_contains "$ERR" "'.env' changed after rotarr read it" &&
        [ "$newdb_now" != "$new_pw" ] &&
        can_login "$new_role" "$newdb_now" &&
        [ "$(env_value "$dir/.env" OLD_DB_PASSWORD)" = "$old_pw" ] &&
        can_login "$old_role" "$old_pw" &&
        [ ! -e "$dir/.rotarr/journal" ]
}

check_unchanged_files_let_rotation_finish() {
    # Twin: stopped at the same place with nothing changed meanwhile, the
    # rotation finishes.
    local dir=$TEST_TMP/unchanged olddb_now
    local old_pw=unchangedOldPassw0rdAAAAAAAAAAAA
    local new_pw=unchangedNewPassw0rdAAAAAAAAAAAA old_role new_role

    old_role=$(new_role "$old_pw") && new_role=$(new_role "$new_pw") &&
        make_two_db_stack "$dir" "$old_role" "$old_pw" "$new_role" \
            "$new_pw" || return 1
    rotarr_while_stopped true -- -C "$dir" postgres --service olddb ||
        return 1
    olddb_now=$(env_value "$dir/.env" OLD_DB_PASSWORD)
    stopped_status_is 0 || return 1
    [ "$olddb_now" != "$old_pw" ] && can_login "$old_role" "$olddb_now" &&
        [ "$(env_value "$dir/.env" NEW_DB_PASSWORD)" = "$new_pw" ]
}

check_shared_password_stops_rotation() {
    # olddb and newdb have the same password in two variables, so a
    # rotation of olddb would rewrite NEW_DB_PASSWORD too.
    local dir=$TEST_TMP/shared pw=sharedPassw0rdAAAAAAAAAAAAAAAAAA sums
    local old_role new_role

    old_role=$(new_role "$pw") && new_role=$(new_role "$pw") &&
        make_two_db_stack "$dir" "$old_role" "$pw" "$new_role" "$pw" &&
        sums=$(sha256sum "$dir/.env") || return 1
    expect_exit 2 "$ROTARR" -C "$dir" postgres --service olddb &&
        assert_contains "$ERR" "service 'newdb' has the same password (POSTGRES_PASSWORD from .env:3) as 'olddb'" &&
        expect_exit 2 "$ROTARR" -C "$dir" -n postgres --service newdb &&
        assert_contains "$ERR" "service 'olddb' has the same password" &&
        [ "$sums" = "$(sha256sum "$dir/.env")" ] &&
        can_login "$old_role" "$pw" && can_login "$new_role" "$pw"
}

check_shared_with_redis_stops_rotation() {
    # The same check across kinds: a Redis service started with the
    # Postgres password.  Twin of both: the stacks above, whose services
    # have passwords of their own, rotate.
    local dir=$TEST_TMP/shared-redis pw=sharedRedisPassw0rdAAAAAAAAAAAAA role

    role=$(new_role "$pw") && make_stack "$dir" "$role" "$pw" || return 1
    cat >>"$dir/compose.yaml" <<'EOF'
  cache:
    image: redis:7-alpine
    command: redis-server --requirepass ${POSTGRES_PASSWORD}
EOF
    expect_exit 2 "$ROTARR" -C "$dir" postgres &&
        assert_contains "$ERR" "service 'cache' has the same password" &&
        [ "$(env_value "$dir/.env" POSTGRES_PASSWORD)" = "$pw" ] &&
        can_login "$role" "$pw"
}

check_unplannable_service_is_reported() {
    local dir=$TEST_TMP/unplannable

    mkdir -p "$dir"
    printf 'services:\n  db:\n    image: postgres:16-alpine\n' \
        >"$dir/compose.yaml"
    expect_exit 1 "$ROTARR" -C "$dir" status --offline &&
        assert_contains "$OUT" "cannot be rotated" &&
        expect_exit 2 "$ROTARR" -C "$dir" rotate &&
        assert_contains "$ERR" "cannot rotate postgres service 'db'" &&
        [ ! -e "$dir/.rotarr/state" ]
}

# make_offline_redis_stack DIR: a Redis service that publishes no port,
# protected with 'rotarr redis --offline', as in the example stack.
make_offline_redis_stack() {
    mkdir -p "$1"
    printf 'services:\n  cache:\n    image: redis:7-alpine\n' \
        >"$1/compose.yaml"
    : >"$1/.env"
    chmod 600 "$1/.env"
    expect_exit 0 "$ROTARR" -C "$1" redis --offline &&
        assert_contains "$1/.rotarr/state" "redis cache REDIS_PASSWORD "
}

check_offline_redis_shows_recorded_age() {
    local dir=$TEST_TMP/offline-redis

    make_offline_redis_stack "$dir" &&
        expect_exit 0 "$ROTARR" -C "$dir" status --offline &&
        assert_match "$OUT" '^redis +cache +REDIS_PASSWORD +0d .* ok$' &&
        assert_contains "$OUT" "cannot be rotated" &&
        assert_not_contains "$OUT" "never" &&
        ROTARR_NOW=$(( NOW + 91 * DAY )) expect_exit 1 "$ROTARR" -C "$dir" \
            status --offline &&
        assert_match "$OUT" '^redis +cache +REDIS_PASSWORD +9[01]d .* due$'
}

check_offline_redis_without_record_is_never() {
    local dir=$TEST_TMP/offline-redis-unrecorded

    make_offline_redis_stack "$dir" &&
        printf 'redis other REDIS_PASSWORD %d\n' "$NOW" \
            >"$dir/.rotarr/state" &&
        expect_exit 1 "$ROTARR" -C "$dir" status --offline &&
        assert_match "$OUT" '^redis +cache +- +never .* due$' &&
        assert_contains "$OUT" "cannot be rotated"
}

check_systemd_units_verify() {
    # verify needs ExecStart's binary to exist, so a copy of the service
    # points at the binary under test; everything else is unchanged.
    local units=$TEST_TMP/units

    command -v systemd-analyze >/dev/null || {
        echo "  systemd-analyze is not installed" >&2; return 1; }
    mkdir -p "$units"
    sed "s|^ExecStart=/usr/local/bin/rotarr |ExecStart=$ROTARR |" \
        "$ROTARR_EXAMPLES/systemd/rotarr-rotate.service" \
        >"$units/rotarr-rotate.service"
    cp "$ROTARR_EXAMPLES/systemd/rotarr-rotate.timer" "$units/"
    grep -q "^ExecStart=$ROTARR " "$units/rotarr-rotate.service" || {
        echo "  ExecStart does not start with /usr/local/bin/rotarr" >&2
        return 1; }
    expect_exit 0 systemd-analyze verify "$units/rotarr-rotate.service" \
        "$units/rotarr-rotate.timer" &&
        assert_empty "$ERR" &&
        assert_contains "$units/rotarr-rotate.timer" "Persistent=true" &&
        assert_contains "$units/rotarr-rotate.timer" "RandomizedDelaySec=" &&
        assert_contains "$units/rotarr-rotate.service" "ReadWritePaths=/srv/stack"
}

check "status shows ages and due" check_status_shows_ages
check "status --json has every field" check_status_json_has_every_field
check "rotate: 100 days rotated, 10 kept" check_rotate_rotates_only_the_old_one
check "moved clock makes 10-day one due" check_moved_clock_makes_newer_one_due
check "--max-age and --only parse" check_max_age_option
check "never-rotated secret is due" check_never_rotated_is_due
check "readable env file warns" check_readable_env_warns
check "wrong password warns in status" check_wrong_password_warns_in_status
check "next rotate resumes a crash" check_crash_is_resumed_by_next_rotate
check "rotate logs each action once" check_rotate_logs_each_action_once
check "rotate -v also logs the skips" check_rotate_verbose_logs_skips
check "two runs together: one rotates" check_two_runs_started_together
check "held lock stops rotate" check_held_lock_stops_rotate
check "files changed meanwhile stop rotation" \
    check_files_changed_meanwhile_stop_rotation
check "unchanged files let rotation finish" \
    check_unchanged_files_let_rotation_finish
check "shared password stops rotation" check_shared_password_stops_rotation
check "password shared with Redis stops rotation" \
    check_shared_with_redis_stops_rotation
check "unplannable service is reported" check_unplannable_service_is_reported
check "offline Redis shows its recorded age" \
    check_offline_redis_shows_recorded_age
check "offline Redis with no record is never" \
    check_offline_redis_without_record_is_never
check "systemd-analyze verify accepts units" check_systemd_units_verify
