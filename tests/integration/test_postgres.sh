# shellcheck shell=bash
# rotarr postgres and rotarr resume against the throw-away PostgreSQL that
# scripts/services starts (log_statement = 'all').  Each check makes its
# own role and stack copy, so checks do not depend on one another.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/pg_roles.sh
. "$(dirname "$0")/pg_roles.sh"

require_services postgres

# has_scram ROLE: prints t when ROLE's stored password is a SCRAM verifier.
has_scram() {
    psql_super -At -v r="$1" <<'SQL'
SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = :'r';
SQL
}

# make_stack ROLE PASSWORD: a stack whose db service has ROLE and whose
# .env holds PASSWORD, a literal copy and a URL with it; prints its path.
make_stack() {
    local dir=$TEST_TMP/stack-$1

    mkdir -p "$dir"
    cat >"$dir/compose.yaml" <<EOF
services:
  db:
    image: postgres:16-alpine
    environment:
      POSTGRES_USER: "$1"
      POSTGRES_PASSWORD: \${POSTGRES_PASSWORD}
      POSTGRES_DB: "$1"
    ports:
      - "127.0.0.1:\${POSTGRES_PORT}:5432"
  app:
    image: ghcr.io/example/app:1
    env_file: app.env
    environment:
      DB_PASS: \${APP_DB_PASS}
EOF
    {
        printf 'POSTGRES_PORT=%s\n' "$ROTARR_PGPORT"
        printf 'POSTGRES_PASSWORD=%s\n' "$2"
        printf 'APP_DB_PASS=%s\n' "$2"
    } >"$dir/.env"
    printf 'DATABASE_URL=postgresql://u:%s@db:5432/x\n' "$2" >"$dir/app.env"
    chmod 600 "$dir/.env" "$dir/app.env"
    printf '%s\n' "$dir"
}

# Prints a stack's files with the password replaced by a marker, so two
# versions can be compared outside the password's bytes.
masked_files() {
    local dir=$1 password=$2 file

    for file in "$dir/.env" "$dir/app.env" "$dir/compose.yaml"; do
        [ -e "$file" ] || continue
        printf '== %s\n' "$(basename "$file")"
        PW=$password perl -pe 's/\Q$ENV{PW}\E/<PASSWORD>/g' "$file"
    done
}

check_rotation_changes_only_the_password() {
    local old=oldPassw0rdAAAAAAAAAAAAAAAAAAAAAA role dir new before

    role=$(new_role "$old") && dir=$(make_stack "$role" "$old") &&
        before=$(masked_files "$dir" "$old") &&
        expect_exit 0 "$ROTARR" -C "$dir" postgres &&
        new=$(env_value "$dir/.env" POSTGRES_PASSWORD) || return 1
    [ -n "$new" ] && [ "$new" != "$old" ] || {
        echo "  .env still holds the old password" >&2; return 1; }
    [ "$before" = "$(masked_files "$dir" "$new")" ] || {
        echo "  files differ outside the password" >&2
        diff <(echo "$before") <(masked_files "$dir" "$new") >&2
        return 1; }
    can_login "$role" "$new" || { echo "  new password refused" >&2; return 1; }
    ! can_login "$role" "$old" || { echo "  old password still works" >&2; return 1; }
    [ "$(has_scram "$role")" = t ] || {
        echo "  pg_authid holds no SCRAM verifier" >&2; return 1; }
    assert_file_mode 600 "$dir/.env" && assert_contains "$OUT" "changed .env:2" &&
        assert_contains "$OUT" "docker compose" &&
        assert_not_contains "$OUT" "$new" && assert_not_contains "$ERR" "$new"
}

check_server_log_has_no_password() {
    local old=logPassw0rdBBBBBBBBBBBBBBBBBBBBBB role dir new before

    # rotarr must add no line with the old password to the log.  grep -c
    # exits 1 when it counts 0 lines, hence the '|| true'.
    role=$(new_role "$old") && dir=$(make_stack "$role" "$old") &&
        before=$(grep -cF -- "$old" "$ROTARR_PGLOG" || true) &&
        expect_exit 0 "$ROTARR" -C "$dir" postgres &&
        new=$(env_value "$dir/.env" POSTGRES_PASSWORD) || return 1
    assert_contains "$ROTARR_PGLOG" "ALTER ROLE" &&
        assert_not_contains "$ROTARR_PGLOG" "$new" &&
        [ "$(grep -cF -- "$old" "$ROTARR_PGLOG" || true)" -eq "$before" ]
}

check_log_catches_a_plaintext_password() {
    # Twin of the log check: a password sent in plain SQL does show up,
    # so the check above can fail.
    local role

    role=$(new_role plainPw0rdCCCCCCCCCCCC) &&
        psql_super -c "ALTER ROLE \"$role\" PASSWORD 'visibleInLog0123456789'" &&
        assert_contains "$ROTARR_PGLOG" visibleInLog0123456789
}

check_wrong_current_password_changes_nothing() {
    local role dir before

    role=$(new_role serverPassw0rdDDDDDDDDDDDDDDDDDD) &&
        dir=$(make_stack "$role" filePassw0rdEEEEEEEEEEEEEEEEEEEEE) &&
        before=$(cat "$dir/.env" "$dir/app.env") &&
        expect_exit 5 "$ROTARR" -C "$dir" postgres || return 1
    assert_contains "$ERR" "--adopt" && assert_not_contains "$ERR" "volume rm" &&
        [ "$before" = "$(cat "$dir/.env" "$dir/app.env")" ] &&
        can_login "$role" serverPassw0rdDDDDDDDDDDDDDDDDDD &&
        [ ! -e "$dir/.rotarr/journal" ]
}

check_adopt_sets_the_file_password() {
    local role dir before superpw

    role=$(new_role serverPassw0rdFFFFFFFFFFFFFFFFFF) &&
        dir=$(make_stack "$role" filePassw0rdGGGGGGGGGGGGGGGGGGGGG) &&
        before=$(cat "$dir/.env") &&
        superpw=$(head -n 1 "$ROTARR_PGPASSFILE") || return 1
    printf '%s\n' "$superpw" | expect_exit 0 "$ROTARR" -C "$dir" postgres \
        --adopt --admin-user "$ROTARR_PGUSER" --admin-password-stdin &&
        can_login "$role" filePassw0rdGGGGGGGGGGGGGGGGGGGGG &&
        [ "$before" = "$(cat "$dir/.env")" ]
}

check_adopt_dry_run_changes_nothing() {
    # Twin of the check above: with -n, the role keeps its password.
    local role dir superpw

    role=$(new_role serverPassw0rdLLLLLLLLLLLLLLLLLL) &&
        dir=$(make_stack "$role" filePassw0rdMMMMMMMMMMMMMMMMMMMMM) &&
        superpw=$(head -n 1 "$ROTARR_PGPASSFILE") || return 1
    printf '%s\n' "$superpw" | expect_exit 0 "$ROTARR" -C "$dir" --dry-run \
        postgres --adopt --admin-user "$ROTARR_PGUSER" \
        --admin-password-stdin &&
        assert_contains "$OUT" "plan: give role '$role' of service 'db'" &&
        can_login "$role" serverPassw0rdLLLLLLLLLLLLLLLLLL &&
        ! can_login "$role" filePassw0rdMMMMMMMMMMMMMMMMMMMMM
}

check_adopt_for_another_user_rejected() {
    # POSTGRES_PASSWORD is the password of the stack's role, so adopting
    # it for the superuser named with --user would lock the admin out.
    local role dir superpw

    role=$(new_role serverPassw0rdNNNNNNNNNNNNNNNNNN) &&
        dir=$(make_stack "$role" filePassw0rdOOOOOOOOOOOOOOOOOOOOO) &&
        superpw=$(head -n 1 "$ROTARR_PGPASSFILE") || return 1
    printf '%s\n' "$superpw" | expect_exit 2 "$ROTARR" -C "$dir" postgres \
        --user "$ROTARR_PGUSER" --adopt --admin-user "$ROTARR_PGUSER" \
        --admin-password-stdin &&
        assert_contains "$ERR" "'POSTGRES_PASSWORD' is the password of role '$role', not of '$ROTARR_PGUSER'" &&
        psql_super -c 'SELECT 1' >/dev/null &&
        can_login "$role" serverPassw0rdNNNNNNNNNNNNNNNNNN
}

check_service_of_wrong_kind() {
    # The example stack's 'redis' is a Redis service; its 'db' (the twin)
    # is the Postgres one.
    local dir

    dir=$(copy_example_stack "$TEST_TMP/kinds") || return 1
    expect_exit 2 "$ROTARR" -C "$dir" -n postgres --service redis &&
        assert_contains "$ERR" "service 'redis' is a Redis service, not a Postgres one" &&
        expect_exit 0 "$ROTARR" -C "$dir" -n postgres --service db &&
        assert_contains "$OUT" "plan:"
}

check_hard_linked_env_rejected() {
    # A second name for .env would keep the old password after the
    # rename.  The other rotations of this test are the twin.
    local role dir

    role=$(new_role linkPassw0rdPPPPPPPPPPPPPPPPPPPPP) &&
        dir=$(make_stack "$role" linkPassw0rdPPPPPPPPPPPPPPPPPPPPP) &&
        ln "$dir/.env" "$dir/.env.link" || return 1
    expect_exit 3 "$ROTARR" -C "$dir" postgres &&
        assert_contains "$ERR" "'.env' has 2 hard links" &&
        [ "$(env_value "$dir/.env" POSTGRES_PASSWORD)" = linkPassw0rdPPPPPPPPPPPPPPPPPPPPP ] &&
        can_login "$role" linkPassw0rdPPPPPPPPPPPPPPPPPPPPP
}

check_dotdot_after_symlink_is_textual() {
    # Compose cleans 'link/../app.env' as text to app.env, even though
    # link is a symlink into conf/deep, whose parent contains another
    # app.env.  rotarr must rewrite the file Compose reads.  The other
    # rotations, with plain paths, are the twin.
    local role dir pw=dotdotPassw0rdQQQQQQQQQQQQQQQQQQQ new

    role=$(new_role "$pw") && dir=$(make_stack "$role" "$pw") &&
        mkdir -p "$dir/conf/deep" && ln -s conf/deep "$dir/link" &&
        cp "$dir/app.env" "$dir/conf/app.env" &&
        sed -i 's|env_file: app.env|env_file: link/../app.env|' \
            "$dir/compose.yaml" || return 1
    expect_exit 0 "$ROTARR" -C "$dir" postgres || return 1
    new=$(env_value "$dir/.env" POSTGRES_PASSWORD)
    assert_contains "$dir/app.env" "$new" &&
        assert_contains "$dir/conf/app.env" "$pw" &&
        can_login "$role" "$new"
}

check_missing_env_file_is_named() {
    # The example stack copied without its dotfiles, as 'cp stack/* new'
    # does.  The twin keeps .env and plans the rotation.
    local dir

    dir=$(copy_example_stack "$TEST_TMP/nodot") || return 1
    expect_exit 0 "$ROTARR" -C "$dir" -n postgres &&
        rm "$dir/.env" &&
        expect_exit 2 "$ROTARR" -C "$dir" -n postgres &&
        assert_contains "$ERR" "no env file: '$dir/.env' does not exist"
}

check_adopt_with_wrong_admin_password_fails() {
    local role dir

    role=$(new_role serverPassw0rdHHHHHHHHHHHHHHHHHH) &&
        dir=$(make_stack "$role" filePassw0rdIIIIIIIIIIIIIIIIIIIII) || return 1
    printf 'not-the-superuser-password\n' | expect_exit 5 "$ROTARR" -C "$dir" \
        postgres --adopt --admin-user "$ROTARR_PGUSER" --admin-password-stdin &&
        can_login "$role" serverPassw0rdHHHHHHHHHHHHHHHHHH
}

check_md5_role_gets_scram() {
    local role dir superpw

    role=$(new_role md5Passw0rdJJJJJJJJJJJJJJJJJJJJJJ) &&
        psql_super -c "SET password_encryption = 'md5'" \
            -c "ALTER ROLE \"$role\" PASSWORD 'md5Passw0rdJJJJJJJJJJJJJJJJJJJJJJ'" \
            -c "ALTER ROLE \"$role\" SET password_encryption = 'md5'" &&
        dir=$(make_stack "$role" md5Passw0rdJJJJJJJJJJJJJJJJJJJJJJ) &&
        superpw=$(head -n 1 "$ROTARR_PGPASSFILE") || return 1
    # scram-sha-256 in pg_hba.conf refuses a role with an md5 hash.
    expect_exit 5 "$ROTARR" -C "$dir" postgres || return 1
    printf '%s\n' "$superpw" | expect_exit 0 "$ROTARR" -C "$dir" postgres \
        --adopt --admin-user "$ROTARR_PGUSER" --admin-password-stdin &&
        expect_exit 0 "$ROTARR" -C "$dir" postgres || return 1
    [ "$(has_scram "$role")" = t ] &&
        can_login "$role" "$(env_value "$dir/.env" POSTGRES_PASSWORD)"
}

check_url_splice_rejects_reserved_password() {
    local role dir before

    role=$(new_role splicePassw0rdKKKKKKKKKKKKKKKKKKK) &&
        dir=$(make_stack "$role" splicePassw0rdKKKKKKKKKKKKKKKKKKK) || return 1
    cat >>"$dir/compose.yaml" <<'EOF'
  web:
    image: ghcr.io/example/web:1
    environment:
      DB_URL_INLINE: postgresql://app:${POSTGRES_PASSWORD}@db:5432/app
EOF
    before=$(cat "$dir/.env" "$dir/app.env" "$dir/compose.yaml")
    printf 'p@ss:w/rd%%\n' | expect_exit 2 "$ROTARR" -C "$dir" postgres \
        --password-stdin &&
        assert_contains "$ERR" "services.web.environment.DB_URL_INLINE" &&
        [ "$before" = "$(cat "$dir/.env" "$dir/app.env" "$dir/compose.yaml")" ] &&
        can_login "$role" splicePassw0rdKKKKKKKKKKKKKKKKKKK
}

check_chosen_password_is_encoded_in_urls() {
    local role dir

    role=$(new_role encPassw0rdLLLLLLLLLLLLLLLLLLLLLL) &&
        dir=$(make_stack "$role" encPassw0rdLLLLLLLLLLLLLLLLLLLLLL) || return 1
    printf 'p@ss:w/rd%%\n' | expect_exit 0 "$ROTARR" -C "$dir" postgres \
        --password-stdin &&
        assert_contains "$dir/app.env" "postgresql://u:p%40ss%3Aw%2Frd%25@db" &&
        can_login "$role" 'p@ss:w/rd%'
}

check_quoted_names_and_hard_password_round_trip() {
    local role dir hard

    hard="a'b\\c\$d #e@f:g/h%i j"
    role=$(new_role startPassw0rdMMMMMMMMMMMMMMMMMMMM "app-user-$$") &&
        dir=$(make_stack "$role" startPassw0rdMMMMMMMMMMMMMMMMMMMM) || return 1
    printf '%s\n' "$hard" | expect_exit 0 "$ROTARR" -C "$dir" postgres \
        --password-stdin && can_login "$role" "$hard" || return 1
    # A second rotation logs in with the password read back from the
    # rewritten files, so it fails unless Compose's reading gives it back.
    expect_exit 0 "$ROTARR" -C "$dir" postgres &&
        can_login "$role" "$(env_value "$dir/.env" POSTGRES_PASSWORD)"
}

check_role_with_double_quote() {
    local role dir

    role=$(new_role quotePassw0rdNNNNNNNNNNNNNNNNNNNN "Mixed\"Quote$$") || return 1
    dir=$(make_stack x quotePassw0rdNNNNNNNNNNNNNNNNNNNN) &&
        expect_exit 0 "$ROTARR" -C "$dir" postgres --user "$role" \
            --dbname "$role" &&
        can_login "$role" "$(env_value "$dir/.env" POSTGRES_PASSWORD)"
}

check_server_down_exits_4() {
    local dir

    dir=$(make_stack unused downPassw0rdOOOOOOOOOOOOOOOOOOOO) &&
        expect_exit 4 "$ROTARR" -C "$dir" postgres --host 127.0.0.1 --port 1
}

check_dry_run_changes_nothing() {
    local role dir before

    role=$(new_role dryPassw0rdPPPPPPPPPPPPPPPPPPPPPP) &&
        dir=$(make_stack "$role" dryPassw0rdPPPPPPPPPPPPPPPPPPPPPP) &&
        before=$(cat "$dir/.env" "$dir/app.env" "$dir/compose.yaml") &&
        expect_exit 0 "$ROTARR" -C "$dir" -n postgres || return 1
    assert_contains "$OUT" "role '$role'" && assert_contains "$OUT" "POSTGRES_PASSWORD" &&
        assert_contains "$OUT" "app.env:1" &&
        assert_not_contains "$OUT" dryPassw0rdPPPPPPPPPPPPPPPPPPPPPP &&
        [ "$before" = "$(cat "$dir/.env" "$dir/app.env" "$dir/compose.yaml")" ] &&
        can_login "$role" dryPassw0rdPPPPPPPPPPPPPPPPPPPPPP
}

check_lock_blocks_a_second_run() {
    local role dir

    role=$(new_role lockPassw0rdQQQQQQQQQQQQQQQQQQQQ) &&
        dir=$(make_stack "$role" lockPassw0rdQQQQQQQQQQQQQQQQQQQQ) || return 1
    mkdir -m 700 "$dir/.rotarr" && : >"$dir/.rotarr/lock" && chmod 600 "$dir/.rotarr/lock"
    # The sleep outlives a killed flock, so its output must not keep the
    # test's pipe open.
    flock "$dir/.rotarr/lock" sleep 30 </dev/null >/dev/null 2>&1 &
    at_exit "kill $! 2>/dev/null"
    wait_until_locked "$dir/.rotarr/lock" || return 1
    expect_exit nonzero "$ROTARR" -C "$dir" postgres
    local status=$?
    kill $! 2>/dev/null
    [ "$status" -eq 0 ] && assert_contains "$ERR" "lock" &&
        can_login "$role" lockPassw0rdQQQQQQQQQQQQQQQQQQQQ
}

# crash_and_resume STEP: kills rotarr right after STEP, then resumes.
check_crash_and_resume() {
    local step=$1 old role dir new

    old="crash${step}Passw0rdRRRRRRRRRRRRRRRR"
    role=$(new_role "$old") && dir=$(make_stack "$role" "$old") || return 1
    # The failpoint kills rotarr with SIGKILL, which expect_exit reports as
    # a crash, so the status is checked here.
    local status=0
    ROTARR_FAILPOINT=$step "$ROTARR" -C "$dir" postgres >"$OUT" 2>"$ERR" ||
        status=$?
    [ "$status" -eq 137 ] || {
        echo "  exit status $status after '$step', expected SIGKILL (137)" >&2
        return 1; }
    [ -e "$dir/.rotarr/journal" ] || { echo "  no journal after a crash at '$step'" >&2; return 1; }
    expect_exit 0 "$ROTARR" -C "$dir" resume || return 1
    new=$(env_value "$dir/.env" POSTGRES_PASSWORD)
    [ "$new" != "$old" ] && can_login "$role" "$new" && ! can_login "$role" "$old" &&
        [ "$(env_value "$dir/.env" APP_DB_PASS)" = "$new" ] &&
        assert_contains "$dir/app.env" "$new" && [ ! -e "$dir/.rotarr/journal" ]
}

check_failed_test_step_restores_old_password() {
    local old=testPassw0rdSSSSSSSSSSSSSSSSSSSSS role dir before

    role=$(new_role "$old") && dir=$(make_stack "$role" "$old") &&
        before=$(cat "$dir/.env" "$dir/app.env") || return 1
    ROTARR_FAILPOINT=fail-test expect_exit 5 "$ROTARR" -C "$dir" postgres &&
        can_login "$role" "$old" &&
        [ "$before" = "$(cat "$dir/.env" "$dir/app.env")" ] &&
        [ ! -e "$dir/.rotarr/journal" ]
}

check_restart_runs_docker_compose() {
    # No Docker engine runs here: a stand-in 'docker' script records its
    # arguments so the test can check the command rotarr runs.
    local role dir bin=$TEST_TMP/bin

    role=$(new_role restartPassw0rdTTTTTTTTTTTTTTTTT) &&
        dir=$(make_stack "$role" restartPassw0rdTTTTTTTTTTTTTTTTT) || return 1
    mkdir -p "$bin"
    printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s/docker.args"\n' "$TEST_TMP" >"$bin/docker"
    chmod +x "$bin/docker"
    PATH="$bin:$PATH" expect_exit 0 "$ROTARR" -C "$dir" postgres --restart &&
        assert_contains "$TEST_TMP/docker.args" "--no-deps" &&
        assert_contains "$TEST_TMP/docker.args" "app" &&
        assert_not_contains "$TEST_TMP/docker.args" "$(env_value "$dir/.env" POSTGRES_PASSWORD)"
}

check_readable_env_is_tightened() {
    local role dir

    role=$(new_role modePassw0rdUUUUUUUUUUUUUUUUUUUU) &&
        dir=$(make_stack "$role" modePassw0rdUUUUUUUUUUUUUUUUUUUU) &&
        chmod 644 "$dir/.env" &&
        expect_exit 0 "$ROTARR" -C "$dir" postgres &&
        assert_file_mode 600 "$dir/.env" &&
        assert_contains "$ERR" ".env: mode 0644 -> 0600"
}

check_f3_stack_generated_password() {
    # The stack of the URL field case: the db reads .env through
    # env_file, and .env holds the password and a URL with it.
    local role dir old=f3Passw0rdVVVVVVVVVVVVVVVVVVVVVVV new

    role=$(new_role "$old") || return 1
    dir=$TEST_TMP/f3-$role
    mkdir -p "$dir"
    cat >"$dir/compose.yaml" <<EOF
services:
  db:
    image: postgres:16-alpine
    env_file: .env
    ports:
      - "127.0.0.1:$ROTARR_PGPORT:5432"
  app:
    image: ghcr.io/example/app:1
    environment:
      DATABASE_URL: \${DATABASE_URL}
EOF
    printf 'POSTGRES_USER=%s\nPOSTGRES_PASSWORD=%s\nPOSTGRES_DB=%s\nDATABASE_URL=postgresql://%s:%s@db:5432/%s\n' \
        "$role" "$old" "$role" "$role" "$old" "$role" >"$dir/.env"
    chmod 600 "$dir/.env"
    cp "$dir/.env" "$TEST_TMP/f3-before.env"
    expect_exit 0 "$ROTARR" -C "$dir" postgres || return 1
    new=$(env_value "$dir/.env" POSTGRES_PASSWORD)
    [ "$(sed "s/$old/$new/g" "$TEST_TMP/f3-before.env")" = "$(cat "$dir/.env")" ] &&
        [ "$(grep -c "$new" "$dir/.env")" -eq 2 ] && can_login "$role" "$new"
}

check_missing_role_exits_5() {
    local dir

    dir=$(make_stack nosuchrole missingPassw0rdWWWWWWWWWWWWWWWWWW) &&
        expect_exit 5 "$ROTARR" -C "$dir" postgres --user "no_such_role_$$" &&
        [ ! -e "$dir/.rotarr/journal" ]
}

check_admin_without_privilege_exits_5() {
    local role helper dir

    role=$(new_role targetPassw0rdXXXXXXXXXXXXXXXXXXX) &&
        helper=$(new_role helperPassw0rdYYYYYYYYYYYYYYYYYYY) &&
        dir=$(make_stack "$role" fileOnlyPassw0rdZZZZZZZZZZZZZZZZZ) || return 1
    printf 'helperPassw0rdYYYYYYYYYYYYYYYYYYY\n' | expect_exit 5 "$ROTARR" \
        -C "$dir" postgres --adopt --admin-user "$helper" \
        --admin-password-stdin &&
        assert_contains "$ERR" "$role" &&
        can_login "$role" targetPassw0rdXXXXXXXXXXXXXXXXXXX
}

check_read_only_file_stops_commit_then_resume() {
    # Root writes anywhere, so rotarr runs as 'nobody' on a stack that
    # user owns, with app.env and its directory made read-only after the
    # plan: the rename of app.env fails during commit.
    local role dir old=roPassw0rdAAAAAAAAAAAAAAAAAAAAAAAB new

    role=$(new_role "$old") || return 1
    dir=$(mktemp -d /tmp/rotarr-ro.XXXXXX)
    at_exit "chmod -R u+w '$dir'; rm -rf '$dir'"
    cp -R "$(make_stack "$role" "$old")/." "$dir/"
    mkdir "$dir/app"
    mv "$dir/app.env" "$dir/app/app.env"
    sed -i 's|env_file: app.env|env_file: app/app.env|' "$dir/compose.yaml"
    chown -R nobody "$dir"
    chmod 555 "$dir/app"
    expect_exit 6 runuser -u nobody -- "$ROTARR" -C "$dir" postgres &&
        assert_contains "$ERR" "rotarr resume" &&
        [ -e "$dir/.rotarr/journal" ] || return 1
    new=$(env_value "$dir/.env" POSTGRES_PASSWORD)
    can_login "$role" "$new" || { echo "  server not on the new password" >&2; return 1; }
    chmod 755 "$dir/app"
    expect_exit 0 runuser -u nobody -- "$ROTARR" -C "$dir" resume &&
        assert_contains "$dir/app/app.env" "$new" &&
        [ ! -e "$dir/.rotarr/journal" ]
}

check_dollar_in_double_quotes_exits_3() {
    # Compose expands $def inside double quotes, so it reads "abc".
    local dir before

    dir=$(make_stack dollar x) &&
        sed -i 's/^POSTGRES_PASSWORD=.*/POSTGRES_PASSWORD="abc$def"/' \
            "$dir/.env" &&
        before=$(cat "$dir/.env") &&
        expect_exit 3 "$ROTARR" -C "$dir" postgres &&
        assert_contains "$ERR" ".env:2:" &&
        assert_contains "$ERR" "single quotes" &&
        assert_not_contains "$ERR" 'abc' &&
        [ "$before" = "$(cat "$dir/.env")" ]
}

check_dollar_in_single_quotes_is_literal() {
    # Twin: in single quotes Compose keeps the '$', so the plan goes on.
    local dir

    dir=$(make_stack dollar-single x) &&
        sed -i "s/^POSTGRES_PASSWORD=.*/POSTGRES_PASSWORD='abc\$def0123456789'/" \
            "$dir/.env" &&
        expect_exit 0 "$ROTARR" -C "$dir" -n postgres
}

check "rotation changes only the password bytes" check_rotation_changes_only_the_password
check "'\$' in double quotes exits 3" check_dollar_in_double_quotes_exits_3
check "'\$' in single quotes is literal" check_dollar_in_single_quotes_is_literal
check "readable .env is tightened to 0600" check_readable_env_is_tightened
check "URL field-case stack, generated password" check_f3_stack_generated_password
check "missing role exits 5" check_missing_role_exits_5
check "admin without privilege exits 5" check_admin_without_privilege_exits_5
check "read-only file stops commit, resume finishes" check_read_only_file_stops_commit_then_resume
check "server log holds neither password" check_server_log_has_no_password
check "server log shows a plaintext password" check_log_catches_a_plaintext_password
check "wrong current password exits 5, changes nothing" check_wrong_current_password_changes_nothing
check "adopt sets the file's password" check_adopt_sets_the_file_password
check "adopt --dry-run changes nothing" check_adopt_dry_run_changes_nothing
check "adopt for another --user is rejected" \
    check_adopt_for_another_user_rejected
check "--service of the wrong kind exits 2" check_service_of_wrong_kind
check "hard-linked .env is rejected" check_hard_linked_env_rejected
check "a missing .env is named" check_missing_env_file_is_named
check "'..' after a symlink is cleaned as text" \
    check_dotdot_after_symlink_is_textual
check "adopt with a wrong admin password exits 5" check_adopt_with_wrong_admin_password_fails
check "md5 role ends with a SCRAM verifier" check_md5_role_gets_scram
check "URL splice rejects a reserved password" check_url_splice_rejects_reserved_password
check "chosen password is percent-encoded in URLs" check_chosen_password_is_encoded_in_urls
check "hard password and quoted role round-trip" check_quoted_names_and_hard_password_round_trip
check "role with a double quote" check_role_with_double_quote
check "server down exits 4" check_server_down_exits_4
check "dry run changes nothing" check_dry_run_changes_nothing
check "lock blocks a second run" check_lock_blocks_a_second_run
for step in pending set test commit; do
    check "crash after '$step' then resume" check_crash_and_resume "$step"
done
check "failed test step restores the old password" check_failed_test_step_restores_old_password
check "--restart runs docker compose" check_restart_runs_docker_compose
