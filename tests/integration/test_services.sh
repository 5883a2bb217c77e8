#!/bin/bash
# The servers that scripts/services starts and the helpers in lib.sh that
# reach them: the other integration tests rely on both.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

require_services

superuser_logs_in() {
    psql_super -At -c 'SELECT current_user' >"$OUT" &&
        assert_contains "$OUT" "$ROTARR_PGUSER"
}

pgpass_is_private() {
    assert_file_mode 0600 "$(superuser_pgpass)"
}

postgres_listens_on_loopback_only() {
    psql_super -At -c 'SHOW listen_addresses' >"$OUT" &&
        assert_match "$OUT" '^(127\.0\.0\.1|localhost|::1)$'
}

postgres_stores_scram_verifiers() {
    psql_super -At -c 'SHOW password_encryption' >"$OUT" &&
        assert_match "$OUT" '^scram-sha-256$'
}

redis_answers_ping() {
    redis-cli -h "${ROTARR_REDIS_HOST:-127.0.0.1}" -p "$ROTARR_REDIS_PORT" \
        ping >"$OUT" &&
        assert_match "$OUT" '^PONG$'
}

example_stack_copy_is_private() {
    local stack

    stack=$(copy_example_stack) &&
        assert_file_mode 0600 "$stack/.env" &&
        [ -f "$stack/compose.yaml" ]
}

check "superuser logs in through psql_super" superuser_logs_in
check "superuser pgpass file is 0600" pgpass_is_private
check "postgres listens on loopback only" postgres_listens_on_loopback_only
check "postgres stores scram-sha-256 verifiers" \
    postgres_stores_scram_verifiers
check "redis answers PING" redis_answers_ping
check "example stack copy has a 0600 .env" example_stack_copy_is_private
