#!/bin/bash
# 'rotarr redis' and 'rotarr resume' against real redis-server processes.
# Every check that changes a password starts its own server on a free
# loopback port in the test's folder, so the shared server of
# scripts/services keeps its state and checks run independently.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

require_services redis
command -v redis-server >/dev/null || die "redis-server is not installed"
command -v redis-cli >/dev/null || die "redis-cli is not installed"

# shellcheck source=tests/integration/redis_servers.sh
. "$(dirname "$0")/redis_servers.sh"

# ping_as PORT PASSWORD: prints what PING returns with that password
# ("" for none), passed through REDISCLI_AUTH rather than argv.
ping_as() {
    if [ -z "$2" ]; then
        env -u REDISCLI_AUTH redis-cli -p "$1" ping 2>&1
    else
        REDISCLI_AUTH=$2 redis-cli -p "$1" ping 2>&1
    fi
}

# env_value FILE KEY: the value of KEY in a simple KEY=VALUE env file.
env_value() {
    sed -n "s/^$2=//p" "$1" | tail -n 1
}

# checksums DIR: one line per file under DIR, to compare before and after.
checksums() {
    find "$1" -type f -not -path '*/.rotarr/*' -exec sha256sum {} + | sort
}

readonly OPEN_COMPOSE='services:
  redis:
    image: redis:7-alpine
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 10s
'

# shellcheck disable=SC2016 # ${...} is for Compose, not the shell
readonly PROTECTED_COMPOSE='services:
  redis:
    image: redis:7-alpine
    command: ["redis-server", "--requirepass", "${REDIS_PASSWORD:?REDIS_PASSWORD is not set}"]
    environment:
      REDISCLI_AUTH: ${REDIS_PASSWORD}
    healthcheck:
      test: ["CMD-SHELL", "redis-cli ping | grep -qx PONG"]
      interval: 10s
'

# new_stack NAME COMPOSE: a stack folder holding the compose text.
new_stack() {
    local dir=$TEST_TMP/stack-$1

    mkdir -p "$dir"
    printf '%s' "$2" >"$dir/compose.yaml"
    printf '%s\n' "$dir"
}

# healthcheck_runs DIR PORT PASSWORD: runs the healthcheck test of the
# redis service by sh -c with REDISCLI_AUTH set to PASSWORD; redis-cli is
# pointed at the test server only here, in the harness.
healthcheck_runs() {
    local test_line command

    test_line=$(grep -F '"CMD-SHELL"' "$1/compose.yaml" | head -n 1)
    command=$(printf '%s' "$test_line" | sed 's/.*"CMD-SHELL", "\(.*\)"\].*/\1/')
    [ -n "$command" ] || return 2
    REDISCLI_AUTH=$3 sh -c "${command/redis-cli/redis-cli -p $2}"
}

check_enable_protects_an_open_server() {
    local port dir password

    port=$(start_server enable) && dir=$(new_stack enable "$OPEN_COMPOSE") &&
        expect_exit 0 "$ROTARR" -C "$dir" redis --host 127.0.0.1 \
            --port "$port" || return 1
    password=$(env_value "$dir/.env" REDIS_PASSWORD)
    [[ $password =~ ^[A-Za-z0-9]{32}$ ]] &&
        assert_file_mode 600 "$dir/.env" &&
        [ "$(ping_as "$port" "")" = "NOAUTH Authentication required." ] &&
        [ "$(ping_as "$port" "$password")" = PONG ] &&
        [ "$(cat "$dir/compose.yaml")" = "${PROTECTED_COMPOSE%$'\n'}" ] &&
        assert_contains "$OUT" "now requires a password"
}

check_healthcheck_proves_authentication() {
    local port dir password

    port=$(start_server health) && dir=$(new_stack health "$OPEN_COMPOSE") &&
        expect_exit 0 "$ROTARR" -C "$dir" redis --host 127.0.0.1 \
            --port "$port" || return 1
    password=$(env_value "$dir/.env" REDIS_PASSWORD)
    healthcheck_runs "$dir" "$port" "$password" || {
        echo "  the healthcheck fails with the right password" >&2
        return 1
    }
    if healthcheck_runs "$dir" "$port" "wrong$password"; then
        echo "  the healthcheck passes with a wrong password" >&2
        return 1
    fi
}

# A bash /dev/tcp connection authenticated before a change.
held_ping() {
    local reply

    printf 'PING\r\n' >&5 && IFS= read -r -t 5 reply <&5 &&
        [ "${reply%$'\r'}" = "+PONG" ]
}

# protected_stack NAME PORT PASSWORD: the protected compose file, its
# .env, and an app whose env file contains a URL with the password.
protected_stack() {
    local dir

    dir=$(new_stack "$1" "$PROTECTED_COMPOSE
  app:
    image: ghcr.io/example/app:1
    env_file: app.env
    depends_on: [redis]
")
    printf 'REDIS_PASSWORD=%s\n' "$3" >"$dir/.env"
    printf 'REDIS_URL=redis://default:%s@redis:6379/0\n' "$3" >"$dir/app.env"
    chmod 600 "$dir/.env" "$dir/app.env"
    printf '%s\n' "$dir"
}

check_overlap_keeps_both_until_finish() {
    local old=overlapOldPassw0rdOverlapOld00 port dir new reply status=0

    port=$(start_server overlap --requirepass "$old") &&
        dir=$(protected_stack overlap "$port" "$old") || return 1
    exec 5<>"/dev/tcp/127.0.0.1/$port"
    printf 'AUTH %s\r\n' "$old" >&5
    IFS= read -r -t 5 reply <&5
    expect_exit 0 "$ROTARR" -C "$dir" redis --host 127.0.0.1 \
        --port "$port" || status=1
    new=$(env_value "$dir/.env" REDIS_PASSWORD)
    [ "$status" -eq 0 ] && [ "$new" != "$old" ] &&
        [ "$(ping_as "$port" "$old")" = PONG ] &&
        [ "$(ping_as "$port" "$new")" = PONG ] &&
        assert_contains "$dir/app.env" "redis://default:$new@redis:6379/0" &&
        assert_contains "$OUT" "up -d --no-deps redis app" &&
        assert_contains "$OUT" "rotarr redis --finish" &&
        held_ping || status=1
    [ "$status" -eq 0 ] &&
        expect_exit 0 "$ROTARR" -C "$dir" redis --finish --host 127.0.0.1 \
            --port "$port" &&
        [ "$(ping_as "$port" "$old")" != PONG ] &&
        [ "$(ping_as "$port" "$new")" = PONG ] &&
        [ "$(REDISCLI_AUTH=$new redis-cli -p "$port" config get requirepass |
            tail -n 1)" = "$new" ] &&
        held_ping || status=1
    exec 5>&-
    return "$status"
}

check_open_overlap_blocks_next_rotation() {
    local old=blockOldPassw0rdBlockOld00000 port dir

    port=$(start_server block --requirepass "$old") &&
        dir=$(protected_stack block "$port" "$old") &&
        expect_exit 0 "$ROTARR" -C "$dir" redis --host 127.0.0.1 \
            --port "$port" || return 1
    expect_exit 2 "$ROTARR" -C "$dir" redis --host 127.0.0.1 --port "$port" &&
        assert_contains "$ERR" "--finish"
}

check_no_overlap_replaces_at_once() {
    local old=replaceOldPassw0rdReplaceOld0 port dir new

    port=$(start_server replace --requirepass "$old") &&
        dir=$(protected_stack replace "$port" "$old") &&
        expect_exit 0 "$ROTARR" -C "$dir" redis --no-overlap \
            --host 127.0.0.1 --port "$port" || return 1
    new=$(env_value "$dir/.env" REDIS_PASSWORD)
    [ "$(ping_as "$port" "$old")" != PONG ] &&
        [ "$(ping_as "$port" "$new")" = PONG ] &&
        assert_not_contains "$OUT" "CONFIG REWRITE"
}

check_config_file_is_rewritten() {
    local old=configOldPassw0rdConfigOld000 port dir new conf

    conf=$TEST_TMP/server.conf
    printf 'requirepass %s\n' "$old" >"$conf"
    port=$(start_server config "$conf") &&
        dir=$(protected_stack config "$port" "$old") &&
        expect_exit 0 "$ROTARR" -C "$dir" redis --no-overlap \
            --host 127.0.0.1 --port "$port" || return 1
    new=$(env_value "$dir/.env" REDIS_PASSWORD)
    assert_contains "$OUT" "CONFIG REWRITE" &&
        assert_match "$conf" "^requirepass \"?$new\"?\$" &&
        assert_not_contains "$conf" "$old"
}

# shellcheck disable=SC2016 # ${...} is for Compose, not the shell
readonly CLI_A_COMPOSE='services:
  redis:
    image: redis:7-alpine
    command: ["redis-server", "--requirepass", "${REDIS_PASSWORD:?REDIS_PASSWORD is not set}"]
    healthcheck:
      test: ["CMD-SHELL", "redis-cli -a \"$$REDIS_PASSWORD\" ping"]
      interval: 10s
'

check_cli_a_healthcheck_is_rewritten() {
    local pw=cliAPassw0rdCliAPassw0rd000000 port dir before

    port=$(start_server clia --requirepass "$pw") &&
        dir=$(new_stack clia "$CLI_A_COMPOSE") || return 1
    printf 'REDIS_PASSWORD=%s\n' "$pw" >"$dir/.env"
    chmod 600 "$dir/.env"
    expect_exit 0 "$ROTARR" -C "$dir" redis --enable --host 127.0.0.1 \
        --port "$port" &&
        [ "$(cat "$dir/compose.yaml")" = "${PROTECTED_COMPOSE%$'\n'}" ] &&
        [ "$(env_value "$dir/.env" REDIS_PASSWORD)" = "$pw" ] &&
        healthcheck_runs "$dir" "$port" "$pw" || return 1
    before=$(checksums "$dir")
    expect_exit 0 "$ROTARR" -C "$dir" redis --enable --host 127.0.0.1 \
        --port "$port" &&
        assert_contains "$OUT" "up to date" &&
        [ "$before" = "$(checksums "$dir")" ]
}

# shellcheck disable=SC2016 # ${...} is for Compose, not the shell
readonly BOTH_SIDES_COMPOSE='services:
  redis:
    image: redis:7-alpine
    command: redis-server --requirepass ${REDIS_PASSWORD}
  app:
    image: nextcloud:29-apache
    environment:
      REDIS_HOST: redis
    depends_on:
      - redis
'

check_app_side_password_is_set() {
    local pw=bothSidesPassw0rdBothSides000 port dir before

    port=$(start_server both --requirepass "$pw") &&
        dir=$(new_stack both "$BOTH_SIDES_COMPOSE") || return 1
    printf 'REDIS_PASSWORD=%s\n' "$pw" >"$dir/.env"
    chmod 600 "$dir/.env"
    expect_exit 0 "$ROTARR" -C "$dir" redis --enable --host 127.0.0.1 \
        --port "$port" &&
        [ "$(cat "$dir/compose.yaml")" = "services:
  redis:
    image: redis:7-alpine
    command: redis-server --requirepass \${REDIS_PASSWORD}
    environment:
      REDISCLI_AUTH: \${REDIS_PASSWORD}
  app:
    image: nextcloud:29-apache
    environment:
      REDIS_HOST: redis
      REDIS_HOST_PASSWORD: \${REDIS_PASSWORD}
    depends_on:
      - redis" ] &&
        assert_contains "$OUT" "REDIS_HOST_PASSWORD (added)" || return 1
    before=$(checksums "$dir")
    expect_exit 0 "$ROTARR" -C "$dir" redis --enable --host 127.0.0.1 \
        --port "$port" &&
        [ "$before" = "$(checksums "$dir")" ]
}

check_unknown_client_changes_nothing() {
    local port dir before

    port=$(start_server unknown) &&
        dir=$(new_stack unknown "$OPEN_COMPOSE
  worker:
    image: example/worker:2
    depends_on: [redis]
") || return 1
    before=$(checksums "$dir")
    expect_exit 1 "$ROTARR" -C "$dir" redis --host 127.0.0.1 --port "$port" &&
        assert_contains "$ERR" "'worker'" &&
        [ "$before" = "$(checksums "$dir")" ] &&
        [ "$(ping_as "$port" "")" = PONG ]
}

# url_stack NAME IMAGE SERVICE URL...: an open server and an app whose
# env file holds the URLs, one a line as URL0, URL1, ...
url_stack() {
    local name=$1 image=$2 service=$3 dir i=0 url
    shift 3

    dir=$(new_stack "$name" "services:
  $service:
    image: $image
  app:
    image: ghcr.io/example/app:1
    env_file: app.env
")
    for url in "$@"; do
        printf 'URL%d=%s\n' "$i" "$url" >>"$dir/app.env"
        i=$(( i + 1 ))
    done
    chmod 600 "$dir/app.env"
    printf '%s\n' "$dir"
}

# cli_url_pings URL PORT: redis-cli -u with the URL rotarr wrote, its host
# and port mapped to the test server and a rediss:// scheme and a query
# dropped because the test server speaks neither TLS nor options.
cli_url_pings() {
    local url=$1

    url=${url/#rediss:/redis:}
    url=${url%%\?*}
    url=$(printf '%s' "$url" | sed -E "s#@[^/:]+(:[0-9]+)?#@127.0.0.1:$2#")
    [ "$(redis-cli -u "$url" ping 2>/dev/null)" = PONG ]
}

check_urls_get_the_password() {
    local port dir pw urls

    port=$(start_server urls) &&
        dir=$(url_stack urls redis:7 redis 'redis://redis:6379/0' \
            'redis://user:old@redis') &&
        expect_exit 0 "$ROTARR" -C "$dir" redis --host 127.0.0.1 \
            --port "$port" || return 1
    pw=$(env_value "$dir/.env" REDIS_PASSWORD)
    urls=$(cat "$dir/app.env")
    [ "$urls" = "URL0=redis://default:$pw@redis:6379/0
URL1=redis://default:$pw@redis" ] &&
        cli_url_pings "$(env_value "$dir/app.env" URL0)" "$port" &&
        cli_url_pings "$(env_value "$dir/app.env" URL1)" "$port"
}

check_tls_url_keeps_port_db_and_query() {
    local port dir pw

    port=$(start_server tls) &&
        dir=$(url_stack tls redis:7 cache 'rediss://cache:6380/2?timeout=5') &&
        expect_exit 0 "$ROTARR" -C "$dir" redis --host 127.0.0.1 \
            --port "$port" || return 1
    pw=$(env_value "$dir/.env" REDIS_PASSWORD)
    [ "$(env_value "$dir/app.env" URL0)" = \
        "rediss://default:$pw@cache:6380/2?timeout=5" ] &&
        cli_url_pings "$(env_value "$dir/app.env" URL0)" "$port"
}

check_redis5_url_has_no_user() {
    local dir pw

    dir=$(url_stack redis5 redis:5.0.14 redis 'redis://redis:6379/0') &&
        expect_exit 0 "$ROTARR" -C "$dir" redis --offline || return 1
    pw=$(env_value "$dir/.env" REDIS_PASSWORD)
    [ "$(env_value "$dir/app.env" URL0)" = "redis://:$pw@redis:6379/0" ]
}

check_server_down_changes_nothing() {
    local dir port before

    port=$(free_port) && dir=$(new_stack down "$OPEN_COMPOSE") || return 1
    before=$(checksums "$dir")
    expect_exit 4 "$ROTARR" -C "$dir" redis --host 127.0.0.1 --port "$port" &&
        [ "$before" = "$(checksums "$dir")" ] &&
        [ ! -e "$dir/.rotarr/journal" ]
}

check_offline_changes_the_files() {
    local dir

    dir=$(new_stack offline "$OPEN_COMPOSE") &&
        expect_exit 0 "$ROTARR" -C "$dir" redis --offline &&
        [ "$(cat "$dir/compose.yaml")" = "${PROTECTED_COMPOSE%$'\n'}" ] &&
        [[ $(env_value "$dir/.env" REDIS_PASSWORD) =~ ^[A-Za-z0-9]{32}$ ]] &&
        assert_contains "$OUT" "when it next starts"
}

check_wrong_current_password_exits_5() {
    local port dir before

    port=$(start_server wrong --requirepass livePassw0rdLivePassw0rd00) &&
        dir=$(protected_stack wrong "$port" filePassw0rdFilePassw0rd00) ||
        return 1
    before=$(checksums "$dir")
    expect_exit 5 "$ROTARR" -C "$dir" redis --host 127.0.0.1 --port "$port" &&
        [ "$before" = "$(checksums "$dir")" ] &&
        assert_not_contains "$ERR" "filePassw0rd" &&
        [ "$(ping_as "$port" livePassw0rdLivePassw0rd00)" = PONG ]
}

check_dry_run_changes_nothing() {
    local port dir before

    port=$(start_server dry) && dir=$(new_stack dry "$OPEN_COMPOSE") ||
        return 1
    before=$(checksums "$dir")
    expect_exit 0 "$ROTARR" -C "$dir" -n redis --host 127.0.0.1 \
        --port "$port" &&
        assert_contains "$OUT" "plan: turn on authentication for service 'redis'" &&
        assert_contains "$OUT" "+++ compose.yaml" &&
        [ "$before" = "$(checksums "$dir")" ] &&
        [ "$(ping_as "$port" "")" = PONG ]
}

# expect_killed STEP COMMAND [ARG...]: COMMAND, run with the failpoint
# STEP, dies by SIGKILL (expect_exit treats any signal as a crash).
expect_killed() {
    local step=$1 status=0
    shift

    ROTARR_FAILPOINT=$step "$@" >"$OUT" 2>"$ERR" || status=$?
    if [ "$status" -ne 137 ]; then
        printf '  %s: %s, expected SIGKILL at failpoint %s (a build with\n' \
            "$*" "$(describe_status "$status")" "$step" >&2
        printf '  -Dfailpoints=true is needed)\n' >&2
        show_output
        return 1
    fi
}

# check_enable_crash_and_resume STEP: kills an enabling run after STEP,
# then resumes.
check_enable_crash_and_resume() {
    local step=$1 port dir password

    port=$(start_server "crash-$step") &&
        dir=$(url_stack "crash-$step" redis:7 redis 'redis://redis:6379/0') ||
        return 1
    expect_killed "$step" "$ROTARR" -C "$dir" redis --host 127.0.0.1 \
        --port "$port" || return 1
    [ -e "$dir/.rotarr/journal" ] || {
        echo "  no journal after a crash at '$step'" >&2
        return 1
    }
    expect_exit 0 "$ROTARR" -C "$dir" resume || return 1
    password=$(env_value "$dir/.env" REDIS_PASSWORD)
    [ -n "$password" ] && [ "$(ping_as "$port" "$password")" = PONG ] &&
        [ "$(ping_as "$port" "")" != PONG ] &&
        [ "$(env_value "$dir/app.env" URL0)" = \
            "redis://default:$password@redis:6379/0" ] &&
        assert_contains "$dir/compose.yaml" "--requirepass" &&
        [ ! -e "$dir/.rotarr/journal" ]
}

check_rotation_crash_and_resume() {
    local step=$1 old=crashOldPassw0rdCrashOld00000 port dir new

    port=$(start_server "rot-$step" --requirepass "$old") &&
        dir=$(protected_stack "rot-$step" "$port" "$old") || return 1
    expect_killed "$step" "$ROTARR" -C "$dir" redis --no-overlap \
        --host 127.0.0.1 --port "$port" || return 1
    expect_exit 0 "$ROTARR" -C "$dir" resume || return 1
    new=$(env_value "$dir/.env" REDIS_PASSWORD)
    [ "$new" != "$old" ] && [ "$(ping_as "$port" "$new")" = PONG ] &&
        [ "$(ping_as "$port" "$old")" != PONG ] &&
        assert_contains "$dir/app.env" "redis://default:$new@redis:6379/0" &&
        [ ! -e "$dir/.rotarr/journal" ]
}

check_failed_test_step_restores_the_server() {
    local port dir before

    port=$(start_server failtest) && dir=$(new_stack failtest "$OPEN_COMPOSE") ||
        return 1
    before=$(checksums "$dir")
    ROTARR_FAILPOINT=fail-test expect_exit 5 "$ROTARR" -C "$dir" redis \
        --host 127.0.0.1 --port "$port" &&
        [ "$(ping_as "$port" "")" = PONG ] &&
        [ "$before" = "$(checksums "$dir")" ] &&
        [ ! -e "$dir/.rotarr/journal" ]
}

check_restart_runs_docker_compose() {
    local port dir bin=$TEST_TMP/bin

    port=$(start_server restart) &&
        dir=$(url_stack restart redis:7 redis 'redis://redis:6379/0') ||
        return 1
    mkdir -p "$bin"
    printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s/docker.args"\n' "$TEST_TMP" \
        >"$bin/docker"
    chmod +x "$bin/docker"
    PATH="$bin:$PATH" expect_exit 0 "$ROTARR" -C "$dir" redis --restart \
        --host 127.0.0.1 --port "$port" &&
        assert_contains "$TEST_TMP/docker.args" "--no-deps" &&
        assert_contains "$TEST_TMP/docker.args" "app" &&
        assert_not_contains "$TEST_TMP/docker.args" \
            "$(env_value "$dir/.env" REDIS_PASSWORD)"
}

check_json_lists_clients_and_lines() {
    local dir

    dir=$(url_stack json redis:7 redis 'redis://redis:6379/0') &&
        expect_exit 0 "$ROTARR" -C "$dir" --json -n redis || return 1
    python3 - "$OUT" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["service"] == "redis", doc
assert doc["mode"] == "enable", doc
assert [c["service"] for c in doc["clients"]] == ["app"], doc
assert {"file": "app.env", "line": 1} in doc["changed"], doc
assert doc["restart"] == ["redis", "app"], doc
PY
}

# Corpus stacks are staged as in test_corpus.sh: the sample env file as
# .env and every missing env_file as an empty file.
CORPUS=${ROTARR_SHARED:?}/corpus
EXPECTED=${ROTARR_SOURCE_ROOT:?}/tests/data/corpus-servers.txt
CLIENTS=${ROTARR_SOURCE_ROOT:?}/tests/data/redis/corpus-clients.txt

stage_corpus() {
    local project=$1 file=$2 dest name tries missing

    dest=$TEST_TMP/corpus/$project
    if [ ! -d "$dest" ]; then
        mkdir -p "$dest"
        cp -R "$CORPUS/$project/." "$dest/"
        for name in .env example.env .env.example env.example .env.sample \
            variables.env .env.dist; do
            if [ -f "$dest/$name" ]; then
                [ "$name" = .env ] || cp "$dest/$name" "$dest/.env"
                break
            fi
        done
        chmod -R go-rwx "$dest"
    fi
    for tries in 1 2 3 4; do
        "$ROTARR" -C "$dest" -f "$dest/$file" inspect >/dev/null 2>"$ERR" &&
            break
        missing=$(sed -n "s/.*env_file: '\([^']*\)': no such file.*/\1/p" "$ERR")
        [ -n "$missing" ] || break
        : >"$missing" && chmod 600 "$missing"
    done
    printf '%s\n' "$dest"
}

# expected_clients PATH SERVICE: the reviewed client list of a server.
expected_clients() {
    awk -v p="$1" -v s="$2" '$1 == p && $2 == s {
        line = ""
        for (i = 3; i <= NF; i++) line = line (i > 3 ? " " : "") $i
        print line
    }' "$CLIENTS"
}

check_corpus_dry_runs() {
    local path service dir file before clients failed=0 planned=0

    if [ ! -d "$CORPUS" ]; then
        echo "  no corpus at '$CORPUS'" >&2
        return 1
    fi
    while read -r path service _; do
        file=${path#*/}
        dir=$(stage_corpus "${path%%/*}" "$file")
        before=$(checksums "$dir")
        if ! expect_exit 0 "$ROTARR" -C "$dir" -f "$dir/$file" -n redis \
            --service "$service"; then
            echo "  $path/$service: the dry run failed" >&2
            failed=1
            continue
        fi
        planned=$(( planned + 1 ))
        clients=$(sed -n '/^clients:/,/^changes:/p' "$OUT" |
            sed -n 's/^  \([^ ]*\)  .*/\1/p' | sort | paste -sd' ')
        if ! grep -q "^plan: .* service '$service' " "$OUT" ||
            [ "$clients" != "$(expected_clients "$path" "$service")" ] ||
            ! grep -q '^+++ ' "$OUT"; then
            echo "  $path/$service: the plan does not name the server," \
                "the clients ($clients) and the file changes" >&2
            failed=1
        fi
        if [ "$before" != "$(checksums "$dir")" ]; then
            echo "  $path/$service: a dry run changed a file" >&2
            failed=1
        fi
    done < <(grep ' redis$' "$EXPECTED")
    echo "  planned $planned Redis changes" >&2
    [ "$failed" -eq 0 ] && [ "$planned" -gt 0 ]
}

check "enable protects an open server" check_enable_protects_an_open_server
check "healthcheck proves authentication" check_healthcheck_proves_authentication
check "overlap keeps both passwords until --finish" check_overlap_keeps_both_until_finish
check "open overlap blocks the next rotation" check_open_overlap_blocks_next_rotation
check "--no-overlap replaces at once" check_no_overlap_replaces_at_once
check "a config file is rewritten" check_config_file_is_rewritten
check "redis-cli -a healthcheck is rewritten, second run no-op" check_cli_a_healthcheck_is_rewritten
check "app side gets the password, second run no-op" check_app_side_password_is_set
check "unknown client changes nothing" check_unknown_client_changes_nothing
check "URLs get the password" check_urls_get_the_password
check "rediss URL keeps port, db and query" check_tls_url_keeps_port_db_and_query
check "Redis 5 URL has no user" check_redis5_url_has_no_user
check "server down exits 4, changes nothing" check_server_down_changes_nothing
check "--offline changes the files" check_offline_changes_the_files
check "wrong current password exits 5" check_wrong_current_password_exits_5
check "dry run changes nothing" check_dry_run_changes_nothing
for step in pending set test commit-first commit; do
    check "enable: crash after '$step' then resume" check_enable_crash_and_resume "$step"
done
for step in pending set test commit-first commit; do
    check "rotation: crash after '$step' then resume" check_rotation_crash_and_resume "$step"
done
check "failed test step restores the server" check_failed_test_step_restores_the_server
check "--restart runs docker compose" check_restart_runs_docker_compose
check "--json lists clients and lines" check_json_lists_clients_and_lines
check "dry run on every corpus Redis stack" check_corpus_dry_runs
