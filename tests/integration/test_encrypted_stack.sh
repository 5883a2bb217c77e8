# shellcheck shell=bash
# Stacks that keep their env file age-encrypted as .env.age, with the
# recipients in .rotarr/recipients: inspect, exec, the Postgres and Redis
# rotations, the encrypted journal of an interrupted rotation, and the
# refusals (no recipients file, no matching identity).  The 'age' binary
# checks every file rotarr writes.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/pg_roles.sh
. "$(dirname "$0")/pg_roles.sh"

require_services postgres redis
for tool in age age-keygen redis-cli redis-server; do
    command -v "$tool" >/dev/null || die "'$tool' is not installed"
done
export TRANSCRIPT=$TEST_TMP/transcript
# shellcheck source=tests/integration/redis_servers.sh
. "$(dirname "$0")/redis_servers.sh"

# The identity that opens the stacks, found where sops and rotarr look.
export SOPS_AGE_KEY_FILE=$TEST_TMP/keys.txt
age-keygen -o "$SOPS_AGE_KEY_FILE" 2>/dev/null
RECIPIENT=$(age-keygen -y "$SOPS_AGE_KEY_FILE")
# A second identity that opens nothing here.
age-keygen -o "$TEST_TMP/other.txt" 2>/dev/null

# plain DIR: the decrypted .env.age of DIR, by the age binary.
plain() {
    age -d -i "$SOPS_AGE_KEY_FILE" "$1/.env.age"
}

# plain_value DIR KEY: KEY's value in the decrypted .env.age of DIR,
# without the single quotes rotarr adds when it quotes a value.
plain_value() {
    plain "$1" | sed -n "s/^$2=//p" | tail -n 1 | sed "s/^'\\(.*\\)'\$/\\1/"
}

# seal DIR [AGE OPTION...]: encrypts DIR/.env into DIR/.env.age with the
# age binary, writes DIR/.rotarr/recipients and removes the plaintext.
seal() {
    local dir=$1
    shift

    mkdir -p "$dir/.rotarr" && chmod 700 "$dir/.rotarr"
    printf '# who can open .env.age\n%s\n' "$RECIPIENT" \
        >"$dir/.rotarr/recipients"
    age "$@" -r "$RECIPIENT" -o "$dir/.env.age" "$dir/.env" &&
        chmod 600 "$dir/.env.age" && rm -f -- "$dir/.env"
}

# pg_stack ROLE PASSWORD [AGE OPTION...]: makes an encrypted stack whose
# db service has ROLE and whose .env.age contains PASSWORD twice, and
# prints its path.
pg_stack() {
    local role=$1 password=$2 dir
    shift 2

    dir=$TEST_TMP/pg-$role
    mkdir -p "$dir"
    cat >"$dir/compose.yaml" <<EOF
services:
  db:
    image: postgres:16-alpine
    environment:
      POSTGRES_USER: "$role"
      POSTGRES_PASSWORD: \${POSTGRES_PASSWORD}
      POSTGRES_DB: "$role"
    ports:
      - "127.0.0.1:\${POSTGRES_PORT}:5432"
  app:
    image: ghcr.io/example/app:1
    environment:
      DATABASE_URL: postgresql://$role:\${POSTGRES_PASSWORD}@db:5432/$role
      DB_PASS: \${APP_DB_PASS}
EOF
    printf 'POSTGRES_PORT=%s\nPOSTGRES_PASSWORD=%s\nAPP_DB_PASS=%s\n' \
        "$ROTARR_PGPORT" "$password" "$password" >"$dir/.env"
    seal "$dir" "$@" || return 1
    printf '%s\n' "$dir"
}

# no_plaintext DIR PASSWORD...: succeeds when no file under DIR contains
# any PASSWORD and there is no .env.
no_plaintext() {
    local dir=$1 password
    shift

    [ ! -e "$dir/.env" ] || { echo "  a plaintext .env appeared" >&2; return 1; }
    for password in "$@"; do
        if grep -rlF -- "$password" "$dir" >&2; then
            echo "  the files above hold a password in plain text" >&2
            return 1
        fi
    done
}

check_inspect_reads_env_age() {
    local dir

    dir=$(pg_stack inspectrole inspectPassw0rdAAAAAAAAAAAA) &&
        expect_exit 0 "$ROTARR" -C "$dir" inspect &&
        assert_contains "$OUT" ".env.age" &&
        assert_contains "$OUT" "db" &&
        assert_not_contains "$OUT" inspectPassw0rdAAAAAAAAAAAA
}

check_inspect_without_identity_exits_7() {
    local dir

    dir=$(pg_stack noidrole noidPassw0rdBBBBBBBBBBBBBBBB) &&
        SOPS_AGE_KEY_FILE=$TEST_TMP/other.txt \
            expect_exit 7 "$ROTARR" -C "$dir" inspect &&
        assert_contains "$ERR" ".env.age" &&
        assert_not_contains "$ERR" noidPassw0rdBBBBBBBBBBBBBBBB
}

check_postgres_rotation_keeps_env_encrypted() {
    local old=encPassw0rdCCCCCCCCCCCCCCCCCCCC role dir new

    role=$(new_role "$old") && dir=$(pg_stack "$role" "$old") &&
        expect_exit 0 "$ROTARR" -C "$dir" postgres &&
        new=$(plain_value "$dir" POSTGRES_PASSWORD) || return 1
    [ -n "$new" ] && [ "$new" != "$old" ] || {
        echo "  .env.age still contains the old password" >&2; return 1; }
    [ "$(plain_value "$dir" APP_DB_PASS)" = "$new" ] || {
        echo "  APP_DB_PASS was not rewritten" >&2; return 1; }
    can_login "$role" "$new" || { echo "  new password refused" >&2; return 1; }
    ! can_login "$role" "$old" || { echo "  old password still works" >&2; return 1; }
    assert_file_mode 600 "$dir/.env.age" &&
        no_plaintext "$dir" "$old" "$new" &&
        assert_not_contains "$OUT" "$new" && assert_not_contains "$ERR" "$new"
}

# reseal DIR: encrypts the same plaintext of DIR/.env.age again, as an
# editor of the file would, so that only the ciphertext differs.
reseal() {
    plain "$1" | age -r "$RECIPIENT" -o "$1/.env.age.new" &&
        mv -- "$1/.env.age.new" "$1/.env.age"
}

check_resealed_env_age_stops_rotation() {
    # The rotation compares .env.age with what it decrypted once it has
    # the lock.  The postgres rotation above is the twin, with the file
    # unchanged.
    local old=resealPassw0rdCCCCCCCCCCCCCCCCC role dir

    role=$(new_role "$old") && dir=$(pg_stack "$role" "$old") &&
        rotarr_while_stopped reseal "$dir" -- -C "$dir" postgres ||
        return 1
    stopped_status_is 3 || return 1
    assert_contains "$ERR" "'.env.age' changed after rotarr read it" &&
        [ "$(plain_value "$dir" POSTGRES_PASSWORD)" = "$old" ] &&
        can_login "$role" "$old"
}

# Twin: the same rotation on a plaintext .env stack writes the password
# in the clear, so no_plaintext can fail.
check_plaintext_stack_holds_password_in_clear() {
    local old=clearPassw0rdDDDDDDDDDDDDDDDDDD role dir new

    role=$(new_role "$old") && dir=$TEST_TMP/clear-$role && mkdir -p "$dir" &&
        printf 'services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_USER: %s\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n    ports: ["127.0.0.1:%s:5432"]\n' \
            "$role" "$ROTARR_PGPORT" >"$dir/compose.yaml" &&
        (umask 077 && printf 'POSTGRES_PASSWORD=%s\n' "$old" >"$dir/.env") &&
        expect_exit 0 "$ROTARR" -C "$dir" postgres &&
        new=$(sed -n 's/^POSTGRES_PASSWORD=//p' "$dir/.env") || return 1
    can_login "$role" "$new" && ! no_plaintext "$dir" "$new" 2>/dev/null
}

# The ciphertext may be readable by others (it is meant for git): no
# warning, and the rewrite keeps the mode and the armor.
check_armored_env_age_stays_armored() {
    local old=armorPassw0rdEEEEEEEEEEEEEEEEEE role dir

    role=$(new_role "$old") && dir=$(pg_stack "$role" "$old" -a) &&
        chmod 644 "$dir/.env.age" &&
        expect_exit 0 "$ROTARR" -C "$dir" postgres &&
        assert_not_contains "$OUT" "readable by other users" &&
        assert_not_contains "$ERR" "readable by other users" &&
        assert_file_mode 644 "$dir/.env.age" || return 1
    [ "$(head -n 1 "$dir/.env.age")" = "-----BEGIN AGE ENCRYPTED FILE-----" ] || {
        echo "  .env.age is no longer armored" >&2; return 1; }
    can_login "$role" "$(plain_value "$dir" POSTGRES_PASSWORD)"
}

check_missing_recipients_changes_nothing() {
    local old=norcptPassw0rdFFFFFFFFFFFFFFFFF role dir before

    role=$(new_role "$old") && dir=$(pg_stack "$role" "$old") &&
        rm -f -- "$dir/.rotarr/recipients" &&
        before=$(sha256sum "$dir/.env.age") &&
        expect_exit 3 "$ROTARR" -C "$dir" postgres &&
        assert_contains "$ERR" "recipients" || return 1
    [ "$before" = "$(sha256sum "$dir/.env.age")" ] &&
        can_login "$role" "$old" && [ ! -e "$dir/.rotarr/journal" ]
}

# A recipients file without the user's own key would seal the new
# password away from the user: refused before the server changes.
check_foreign_recipients_change_nothing() {
    local old=foreignPassw0rdMMMMMMMMMMMMMMMM role dir before

    role=$(new_role "$old") && dir=$(pg_stack "$role" "$old") &&
        age-keygen -y "$TEST_TMP/other.txt" >"$dir/.rotarr/recipients" &&
        before=$(sha256sum "$dir/.env.age") &&
        expect_exit 3 "$ROTARR" -C "$dir" postgres &&
        assert_contains "$ERR" "lists none of the keys" || return 1
    [ "$before" = "$(sha256sum "$dir/.env.age")" ] &&
        can_login "$role" "$old" && [ ! -e "$dir/.rotarr/journal" ]
}

# Twin: with the user's key among others, both keys open the result.
check_shared_recipients_rotate() {
    local old=sharedPassw0rdNNNNNNNNNNNNNNNNN role dir new

    role=$(new_role "$old") && dir=$(pg_stack "$role" "$old") &&
        age-keygen -y "$TEST_TMP/other.txt" >>"$dir/.rotarr/recipients" &&
        expect_exit 0 "$ROTARR" -C "$dir" postgres &&
        new=$(plain_value "$dir" POSTGRES_PASSWORD) || return 1
    can_login "$role" "$new" &&
        age -d -i "$TEST_TMP/other.txt" "$dir/.env.age" |
        grep -qxF "POSTGRES_PASSWORD=$new"
}

# A .env.age in plain text, or empty, is not taken for an env file.
check_plaintext_env_age_exits_7() {
    local dir=$TEST_TMP/fake-age

    mkdir -p "$dir" &&
        printf 'services:\n  web:\n    image: nginx\n' >"$dir/compose.yaml" &&
        (umask 077 && printf 'A=plainValue0123456789\n' >"$dir/.env.age") &&
        expect_exit 7 "$ROTARR" -C "$dir" inspect &&
        assert_contains "$ERR" "'.env.age' is not an age file" &&
        assert_not_contains "$ERR" plainValue0123456789 &&
        : >"$dir/.env.age" &&
        expect_exit 7 "$ROTARR" -C "$dir" inspect &&
        assert_contains "$ERR" "is not an age file"
}

# A passphrase-encrypted .env.age would silently become a file for the
# recipients' keys: refused, after the passphrase opened it.
check_passphrase_env_age_rejected() {
    local old=passPassw0rdOOOOOOOOOOOOOOOOOOOO role dir before status=0

    role=$(new_role "$old") && dir=$(pg_stack "$role" "$old") &&
        printf 'POSTGRES_PORT=%s\nPOSTGRES_PASSWORD=%s\nAPP_DB_PASS=%s\n' \
            "$ROTARR_PGPORT" "$old" "$old" >"$TEST_TMP/pass.env" &&
        rm -f -- "$dir/.env.age" &&
        python3 "$ROTARR_TOOLS/pty_run.py" typedPassphrase "$ROTARR" \
            encrypt -p -o "$dir/.env.age" "$TEST_TMP/pass.env" >/dev/null &&
        rm -f -- "$TEST_TMP/pass.env" &&
        before=$(sha256sum "$dir/.env.age") || return 1
    python3 "$ROTARR_TOOLS/pty_run.py" typedPassphrase "$ROTARR" -C "$dir" \
        postgres >"$OUT" || status=$?
    [ "$status" -eq 3 ] || { echo "  exit status $status, expected 3" >&2; return 1; }
    assert_contains "$TRANSCRIPT" "encrypted with a passphrase" &&
        [ "$(grep -c 'Enter passphrase' "$TRANSCRIPT")" -eq 1 ] &&
        [ "$before" = "$(sha256sum "$dir/.env.age")" ] &&
        can_login "$role" "$old"
}

# Both .env and .env.age: a rotation would leave .env.age out of date.
check_both_env_files_rejected() {
    local old=bothPassw0rdPPPPPPPPPPPPPPPPPPP role dir

    role=$(new_role "$old") && dir=$(pg_stack "$role" "$old") &&
        (umask 077 && plain "$dir" >"$dir/.env") &&
        expect_exit 3 "$ROTARR" -C "$dir" postgres &&
        assert_contains "$ERR" "both '.env' and '.env.age' exist" &&
        can_login "$role" "$old" &&
        [ "$(env_value "$dir/.env" POSTGRES_PASSWORD)" = "$old" ]
}

# Twin: naming the env file settles which one rotarr rewrites.
check_both_env_files_with_env_file_rotate() {
    local old=namedPassw0rdQQQQQQQQQQQQQQQQQQ role dir new

    role=$(new_role "$old") && dir=$(pg_stack "$role" "$old") &&
        (umask 077 && printf 'UNRELATED=1\n' >"$dir/.env") &&
        expect_exit 0 "$ROTARR" -C "$dir" --env-file .env.age postgres &&
        new=$(plain_value "$dir" POSTGRES_PASSWORD) || return 1
    [ "$new" != "$old" ] && can_login "$role" "$new"
}

# No key file: the message names the file rotarr looked for.
check_missing_key_file_is_named() {
    local dir

    dir=$(pg_stack nokeyrole nokeyPassw0rdRRRRRRRRRRRRRRRRR) &&
        SOPS_AGE_KEY_FILE=$TEST_TMP/no-such-keys.txt \
            expect_exit 7 "$ROTARR" -C "$dir" inspect &&
        assert_contains "$ERR" "no-such-keys.txt"
}

# 'rotarr encrypt -o .env.age' running while a rotation starts: the
# rotation's sweep of stale temporary files leaves the encryption's
# temporary file alone, because the encryption has claimed it.
check_sweep_keeps_running_encrypt_output() {
    local dir=$TEST_TMP/sweep pid status=0 temp

    mkdir -p "$dir/.rotarr" && mkfifo "$dir/in" &&
        printf 'services:\n  web:\n    image: nginx\n' >"$dir/compose.yaml" &&
        printf 'A=0\n' | age -r "$RECIPIENT" -o "$dir/.env.age" || return 1
    "$ROTARR_BINARY" encrypt -r "$RECIPIENT" -o "$dir/.env.age" "$dir/in" &
    pid=$!
    exec 3>"$dir/in"
    printf 'A=1\n' >&3
    for _ in $(seq 100); do
        temp=$(find "$dir" -maxdepth 1 -name '..env.age.rotarr-*')
        [ -n "$temp" ] && break
        sleep 0.05
    done
    [ -n "$temp" ] || { echo "  no temporary file appeared" >&2; exec 3>&-; return 1; }
    # A stale one beside it, with no claim, goes.
    printf 'x' >"$dir/..env.age.rotarr-0123456789abcdef"
    "$ROTARR" -C "$dir" resume >"$OUT" 2>"$ERR" || status=$?
    exec 3>&-
    wait "$pid" || { echo "  encrypt failed" >&2; return 1; }
    [ "$status" -eq 0 ] && [ ! -e "$dir/..env.age.rotarr-0123456789abcdef" ] &&
        [ "$(age -d -i "$SOPS_AGE_KEY_FILE" "$dir/.env.age")" = "A=1" ]
}

# A crash after the server changed leaves an age-encrypted journal, which
# resume opens with the same identity.
check_crash_leaves_encrypted_journal() {
    local old=crashPassw0rdGGGGGGGGGGGGGGGGGG role dir new status=0

    role=$(new_role "$old") && dir=$(pg_stack "$role" "$old") || return 1
    ROTARR_FAILPOINT='set' "$ROTARR" -C "$dir" postgres >"$OUT" 2>"$ERR" ||
        status=$?
    [ "$status" -eq 137 ] || {
        echo "  exit status $status, expected SIGKILL (137)" >&2; return 1; }
    [ "$(head -c 21 "$dir/.rotarr/journal")" = "age-encryption.org/v1" ] || {
        echo "  the journal is not an age file" >&2; return 1; }
    age -d -i "$SOPS_AGE_KEY_FILE" "$dir/.rotarr/journal" |
        grep -q '^rotarr-journal 1$' || {
        echo "  age cannot open the journal" >&2; return 1; }
    no_plaintext "$dir" "$old" || return 1
    expect_exit 1 "$ROTARR" -C "$dir" status --json &&
        assert_contains "$OUT" '"journal_kind":"postgres"' || return 1
    SOPS_AGE_KEY_FILE=$TEST_TMP/other.txt \
        expect_exit 7 "$ROTARR" -C "$dir" resume || return 1
    expect_exit 0 "$ROTARR" -C "$dir" resume &&
        new=$(plain_value "$dir" POSTGRES_PASSWORD) || return 1
    [ "$new" != "$old" ] && can_login "$role" "$new" &&
        ! can_login "$role" "$old" && [ ! -e "$dir/.rotarr/journal" ] &&
        no_plaintext "$dir" "$old" "$new"
}

# Twin: a plaintext stack's journal is plain text.
check_plaintext_stack_journal_is_plain() {
    local old=plainjPassw0rdHHHHHHHHHHHHHHHHH role dir status=0

    role=$(new_role "$old") && dir=$TEST_TMP/plainj-$role && mkdir -p "$dir" &&
        printf 'services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_USER: %s\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n    ports: ["127.0.0.1:%s:5432"]\n' \
            "$role" "$ROTARR_PGPORT" >"$dir/compose.yaml" &&
        (umask 077 && printf 'POSTGRES_PASSWORD=%s\n' "$old" >"$dir/.env") ||
        return 1
    ROTARR_FAILPOINT='set' "$ROTARR" -C "$dir" postgres >"$OUT" 2>"$ERR" ||
        status=$?
    [ "$status" -eq 137 ] && head -n 1 "$dir/.rotarr/journal" |
        grep -qx 'rotarr-journal 1' &&
        expect_exit 0 "$ROTARR" -C "$dir" resume
}

# The scheduled rotation reads and writes .env.age like the verbs do.
check_rotate_keeps_env_encrypted() {
    local old=rotatePassw0rdLLLLLLLLLLLLLLLLL role dir new

    role=$(new_role "$old") && dir=$(pg_stack "$role" "$old") &&
        expect_exit 0 "$ROTARR" -C "$dir" rotate --only postgres &&
        new=$(plain_value "$dir" POSTGRES_PASSWORD) || return 1
    [ "$new" != "$old" ] && can_login "$role" "$new" &&
        no_plaintext "$dir" "$old" "$new" &&
        expect_exit 0 "$ROTARR" -C "$dir" status
}

check_redis_rotation_keeps_env_encrypted() {
    local old=redisPassw0rdIIIIIIIIIIIIIIIIII dir port new

    port=$(start_server encrypted --requirepass "$old") || return 1
    dir=$TEST_TMP/redis && mkdir -p "$dir" &&
        cat >"$dir/compose.yaml" <<'EOF' &&
services:
  redis:
    image: redis:7-alpine
    command: ["redis-server", "--requirepass", "${REDIS_PASSWORD}"]
    ports:
      - "127.0.0.1:${REDIS_PORT}:6379"
  app:
    image: ghcr.io/example/app:1
    environment:
      REDIS_URL: redis://:${REDIS_PASSWORD}@redis:6379/0
EOF
        printf 'REDIS_PORT=%s\nREDIS_PASSWORD=%s\n' "$port" "$old" \
            >"$dir/.env" && seal "$dir" &&
        expect_exit 0 "$ROTARR" -C "$dir" redis &&
        new=$(plain_value "$dir" REDIS_PASSWORD) || return 1
    [ -n "$new" ] && [ "$new" != "$old" ] || {
        echo "  .env.age still contains the old password" >&2; return 1; }
    [ "$(REDISCLI_AUTH=$new redis-cli -h 127.0.0.1 -p "$port" ping)" = PONG ] &&
        no_plaintext "$dir" "$old" "$new"
}

check_exec_exports_decrypted_variables() {
    local dir

    dir=$(pg_stack execrole execPassw0rdJJJJJJJJJJJJJJJJJJ) &&
        expect_exit 0 "$ROTARR" -C "$dir" exec -- env &&
        assert_contains "$OUT" "POSTGRES_PASSWORD=execPassw0rdJJJJJJJJJJJJJJJJJJ" &&
        no_plaintext "$dir" execPassw0rdJJJJJJJJJJJJJJJJJJ
}

# Both files: rotarr reads .env and warns that .env.age is left alone.
check_env_and_env_age_warns() {
    local dir

    dir=$(pg_stack bothrole bothPassw0rdKKKKKKKKKKKKKKKKKK) &&
        (umask 077 && printf 'POSTGRES_PORT=1\n' >"$dir/.env") &&
        expect_exit 0 "$ROTARR" -C "$dir" inspect &&
        assert_contains "$OUT" "both '.env' and '.env.age' exist"
}

# Twin: .env alone gives no such warning.
check_env_alone_does_not_warn() {
    local dir=$TEST_TMP/plain-alone

    mkdir -p "$dir" && printf 'services:\n  web:\n    image: nginx\n' \
        >"$dir/compose.yaml" &&
        (umask 077 && printf 'A=1\n' >"$dir/.env") &&
        expect_exit 0 "$ROTARR" -C "$dir" inspect &&
        assert_not_contains "$OUT" ".env.age"
}

check "inspect reads .env.age" check_inspect_reads_env_age
check "inspect without a matching identity exits 7" \
    check_inspect_without_identity_exits_7
check "postgres rotation keeps .env.age encrypted" \
    check_postgres_rotation_keeps_env_encrypted
check "a re-encrypted .env.age stops the rotation" \
    check_resealed_env_age_stops_rotation
check "twin: a plaintext stack holds the password in clear" \
    check_plaintext_stack_holds_password_in_clear
check "an armored, world-readable .env.age keeps armor and mode" \
    check_armored_env_age_stays_armored
check "no recipients file: refused before any change" \
    check_missing_recipients_changes_nothing
check "recipients without the user's key: refused" \
    check_foreign_recipients_change_nothing
check "twin: the user's key among others rotates" \
    check_shared_recipients_rotate
check "a plaintext or empty .env.age exits 7" check_plaintext_env_age_exits_7
check "a passphrase .env.age is refused, one prompt" \
    check_passphrase_env_age_rejected
check "both .env and .env.age: rotation refused" check_both_env_files_rejected
check "twin: --env-file .env.age rotates" \
    check_both_env_files_with_env_file_rotate
check "a missing key file is named" check_missing_key_file_is_named
check "a rotation's sweep keeps a running encryption's file" \
    check_sweep_keeps_running_encrypt_output
check "a crash leaves an encrypted journal that resume opens" \
    check_crash_leaves_encrypted_journal
check "twin: a plaintext stack's journal is plain text" \
    check_plaintext_stack_journal_is_plain
check "rotate and status work on .env.age" check_rotate_keeps_env_encrypted
check "redis rotation keeps .env.age encrypted" \
    check_redis_rotation_keeps_env_encrypted
check "exec exports the decrypted variables" \
    check_exec_exports_decrypted_variables
check "both .env and .env.age: a warning" check_env_and_env_age_warns
check "twin: .env alone, no warning" check_env_alone_does_not_warn
