# shellcheck shell=bash
# The Servarr apps against the throw-away PostgreSQL that scripts/services
# starts: inspect on examples/servarr, 'rotarr postgres' over one role per
# app kept in config.xml or APP__POSTGRES__PASSWORD, 'rotarr arr-key', and
# broken config files.  Each check makes its own roles and stack copy.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/pg_roles.sh
. "$(dirname "$0")/pg_roles.sh"

require_services postgres

# The owner that LinuxServer images run as (PUID/PGID) in these stacks.
readonly APP_UID=1000

# xml_value FILE ELEMENT: the text of ELEMENT in FILE, references decoded.
xml_value() {
    sed -n "s:.*<$2>\\(.*\\)</$2>.*:\\1:p" "$1" |
        sed -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&quot;/"/g' \
            -e "s/&apos;/'/g" -e 's/&amp;/\&/g'
}

# masked FILE TEXT...: FILE with each TEXT replaced by a marker.
masked() {
    local file=$1

    shift
    SECRETS=$(printf '%s\n' "$@") perl -pe '
        BEGIN { @s = grep { length } split /\n/, $ENV{SECRETS} }
        for my $s (@s) { s/\Q$s\E/<SECRET>/g }' "$file"
}

# copy_servarr_example: examples/servarr with env.example as its .env;
# prints the copy's path.
copy_servarr_example() {
    local dir

    dir=$(mktemp -d "$TEST_TMP/example.XXXXXX")
    cp -R -- "$ROTARR_EXAMPLES/servarr/." "$dir"
    cp -- "$dir/env.example" "$dir/.env"
    chmod 600 -- "$dir/.env"
    printf '%s\n' "$dir"
}

# make_role_stack TAG: a stack whose Radarr and Prowlarr keep their role in
# config.xml and whose Sonarr gets it from SONARR__POSTGRES__*.  Each role
# is rt_TAG_APP with password pwAPPTAGPassw0rdXXXXXXXXXX (see make_roles).
# Prints the stack's path.
make_role_stack() {
    local tag=$1 dir app

    dir=$TEST_TMP/roles-$tag
    mkdir -p "$dir/appdata"
    for app in radarr sonarr prowlarr; do
        cp -R -- "$ROTARR_EXAMPLES/servarr/appdata/$app" "$dir/appdata/"
        sed -i '/<Postgres/d' "$dir/appdata/$app/config.xml"
    done
    for app in radarr prowlarr; do
        sed -i "s|</Config>|  <PostgresUser>rt_${tag}_$app</PostgresUser>\\
  <PostgresPassword>pw${app}${tag}Passw0rdXXXXXXXXXX</PostgresPassword>\\
  <PostgresPort>5432</PostgresPort>\\
  <PostgresHost>postgres</PostgresHost>\\
  <PostgresMainDb>rt_${tag}_$app</PostgresMainDb>\\
</Config>|" "$dir/appdata/$app/config.xml"
    done
    cat >"$dir/compose.yaml" <<'EOF'
services:
  postgres:
    image: postgres:16.8
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}
    ports:
      - "127.0.0.1:${POSTGRES_PORT}:5432"
  radarr:
    image: lscr.io/linuxserver/radarr:5.21.1
    volumes:
      - ./appdata/radarr:/config
  sonarr:
    image: lscr.io/linuxserver/sonarr:4.0.14
    environment:
      SONARR__POSTGRES__HOST: postgres
      SONARR__POSTGRES__USER: ${SONARR_DB_USER}
      SONARR__POSTGRES__PASSWORD: ${SONARR_DB_PASSWORD}
      SONARR__POSTGRES__MAINDB: ${SONARR_DB_USER}
    volumes:
      - type: bind
        source: ./appdata/sonarr
        target: /config
  prowlarr:
    image: lscr.io/linuxserver/prowlarr:1.32.2
    volumes:
      - ./appdata/prowlarr:/config
EOF
    {
        printf 'POSTGRES_PORT=%s\n' "$ROTARR_PGPORT"
        printf 'POSTGRES_PASSWORD=superUnusedPassw0rdYYYYYYYYYYYYY\n'
        printf 'SONARR_DB_USER=rt_%s_sonarr\n' "$tag"
        printf 'SONARR_DB_PASSWORD=pwsonarr%sPassw0rdXXXXXXXXXX\n' "$tag"
    } >"$dir/.env"
    chmod 600 "$dir/.env"
    printf '%s\n' "$dir"
}

# make_roles TAG: the three roles of make_role_stack TAG.  Not called in a
# command substitution, so that at_exit drops them.
make_roles() {
    local app

    for app in radarr sonarr prowlarr; do
        create_role "rt_${1}_$app" "pw${app}${1}Passw0rdXXXXXXXXXX" || return 1
    done
}

# own_as_app DIR: the config files belong to the apps' user, mode 0640.
own_as_app() {
    local file

    for file in "$1"/appdata/*/config.xml; do
        chown "$APP_UID:$APP_UID" "$file" && chmod 640 "$file" || return 1
    done
}

# assert_owner_mode FILE: owned by APP_UID:APP_UID with mode 0640.
assert_owner_mode() {
    [ "$(stat -c '%u:%g %a' -- "$1")" = "$APP_UID:$APP_UID 640" ] || {
        printf '  %s is %s, expected %s:%s 640\n' "$1" \
            "$(stat -c '%u:%g %a' -- "$1")" "$APP_UID" "$APP_UID" >&2
        return 1
    }
}

check_inspect_lists_roles_and_keys() {
    local dir

    dir=$(copy_servarr_example) &&
        expect_exit 0 "$ROTARR" -C "$dir" inspect || return 1
    assert_contains "$OUT" "radarr (radarr) uses role 'servarr' on service 'postgres'" &&
        assert_contains "$OUT" "prowlarr (prowlarr) uses role 'prowlarr' on service 'postgres'" &&
        assert_contains "$OUT" "API key from RADARR__AUTH__APIKEY" &&
        assert_contains "$OUT" "API key from appdata/prowlarr/config.xml:7 <ApiKey>" &&
        assert_contains "$OUT" "appdata/radarr/config.xml:7:11  ApiKey (value)" &&
        assert_contains "$OUT" "appdata/jellyseerr/settings.json:25:18  radarr.0.apiKey (value)" &&
        assert_contains "$OUT" "appdata/bazarr/config/config.yaml:33:11  sonarr.apikey (value)" &&
        assert_contains "$OUT" "appdata/prowlarr/config.xml:18:21  PostgresPassword (value)" &&
        assert_not_contains "$OUT" c81e5d0a7f3b49e2a6d8b1c4f09e7a35
}

check_postgres_rotates_every_app_role() {
    local tag=a$$ dir app old new file before=() olds=() i=0

    make_roles "$tag" && dir=$(make_role_stack "$tag") && own_as_app "$dir" || return 1
    for app in radarr prowlarr; do
        olds+=("pw${app}${tag}Passw0rdXXXXXXXXXX")
        before+=("$(masked "$dir/appdata/$app/config.xml" "${olds[-1]}")")
    done
    expect_exit 0 "$ROTARR" -C "$dir" postgres || return 1
    for app in radarr prowlarr; do
        file=$dir/appdata/$app/config.xml
        old=${olds[i]}
        new=$(xml_value "$file" PostgresPassword)
        [ -n "$new" ] && [ "$new" != "$old" ] || {
            echo "  $app: config.xml still holds the old password" >&2
            return 1; }
        [ "${before[i]}" = "$(masked "$file" "$new")" ] || {
            echo "  $app: config.xml differs outside the password" >&2
            return 1; }
        can_login "rt_${tag}_$app" "$new" || {
            echo "  $app: the new password is refused" >&2; return 1; }
        ! can_login "rt_${tag}_$app" "$old" || {
            echo "  $app: the old password still works" >&2; return 1; }
        assert_owner_mode "$file" || return 1
        i=$(( i + 1 ))
    done
    new=$(env_value "$dir/.env" SONARR_DB_PASSWORD)
    can_login "rt_${tag}_sonarr" "$new" &&
        ! can_login "rt_${tag}_sonarr" "pwsonarr${tag}Passw0rdXXXXXXXXXX" &&
        assert_contains "$OUT" "radarr: role 'rt_${tag}_radarr'" &&
        assert_contains "$OUT" "sonarr: role 'rt_${tag}_sonarr'" &&
        assert_contains "$OUT" "prowlarr: role 'rt_${tag}_prowlarr'" &&
        assert_contains "$OUT" "restart them now" &&
        assert_contains "$OUT" "up -d --no-deps radarr" &&
        assert_not_contains "$OUT" "$new"
}

check_chosen_password_is_xml_escaped() {
    local tag=b$$ dir file chosen before escaped

    chosen='n3w&<"Pass>word-with-XML-specials'
    escaped='n3w&amp;&lt;&quot;Pass&gt;word-with-XML-specials'
    make_roles "$tag" && dir=$(make_role_stack "$tag") && own_as_app "$dir" || return 1
    file=$dir/appdata/radarr/config.xml
    before=$(masked "$file" "pwradarr${tag}Passw0rdXXXXXXXXXX")
    printf '%s\n' "$chosen" >"$TEST_TMP/chosen"
    expect_exit 0 "$ROTARR" -C "$dir" postgres --user "rt_${tag}_radarr" \
        --password-stdin <"$TEST_TMP/chosen" || return 1
    assert_contains "$file" "<PostgresPassword>$escaped</PostgresPassword>" &&
        [ "$(xml_value "$file" PostgresPassword)" = "$chosen" ] &&
        [ "$before" = "$(masked "$file" "$escaped")" ] &&
        can_login "rt_${tag}_radarr" "$chosen" &&
        assert_owner_mode "$file" &&
        can_login "rt_${tag}_prowlarr" "pwprowlarr${tag}Passw0rdXXXXXXXXXX"
}

check_password_stdin_needs_one_role() {
    local tag=c$$ dir

    make_roles "$tag" && dir=$(make_role_stack "$tag") || return 1
    printf 'unusedPassw0rd\n' >"$TEST_TMP/chosen"
    expect_exit 2 "$ROTARR" -C "$dir" postgres --password-stdin \
        <"$TEST_TMP/chosen" &&
        assert_contains "$ERR" "choose one with '--user'" &&
        can_login "rt_${tag}_radarr" "pwradarr${tag}Passw0rdXXXXXXXXXX"
}

check_arr_key_rewrites_every_copy() {
    local dir old=c81e5d0a7f3b49e2a6d8b1c4f09e7a35 new file before=()
    local files=(.env appdata/radarr/config.xml appdata/jellyseerr/settings.json
                 appdata/bazarr/config/config.yaml) i

    dir=$(copy_servarr_example) || return 1
    for i in "${!files[@]}"; do
        before+=("$(masked "$dir/${files[i]}" "$old")")
    done
    expect_exit 0 "$ROTARR" -C "$dir" arr-key --service radarr || return 1
    new=$(env_value "$dir/.env" RADARR_API_KEY)
    [[ $new =~ ^[0-9a-f]{32}$ ]] && [ "$new" != "$old" ] || {
        echo "  .env holds '$new', not a new 32-character hex key" >&2
        return 1; }
    for i in "${!files[@]}"; do
        [ "${before[i]}" = "$(masked "$dir/${files[i]}" "$new")" ] || {
            echo "  ${files[i]} differs outside the key" >&2; return 1; }
        assert_not_contains "$dir/${files[i]}" "$old" || return 1
    done
    assert_contains "$OUT" "prowlarr: Settings > Apps > Radarr > API Key" &&
        assert_contains "$OUT" "changed appdata/jellyseerr/settings.json:25" &&
        assert_contains "$OUT" "up -d --no-deps radarr" &&
        assert_not_contains "$OUT" "$new"
}

check_arr_key_dry_run_writes_nothing() {
    local dir sums

    dir=$(copy_servarr_example) &&
        expect_exit 0 "$ROTARR" -C "$dir" arr-key --service radarr &&
        sums=$(cd "$dir" && find . -type f -print0 | sort -z |
            xargs -0 sha256sum) &&
        expect_exit 0 "$ROTARR" -C "$dir" --dry-run arr-key --service radarr ||
        return 1
    assert_contains "$OUT" "plan: rotate the API key of 'radarr'" &&
        assert_contains "$OUT" "+++ appdata/radarr/config.xml" &&
        assert_contains "$OUT" "-  <ApiKey>********</ApiKey>" &&
        [ "$sums" = "$(cd "$dir" && find . -type f -print0 | sort -z |
            xargs -0 sha256sum)" ]
}

check_arr_key_show_prints_the_key() {
    local dir

    dir=$(copy_servarr_example) &&
        expect_exit 0 "$ROTARR" -C "$dir" arr-key --service sonarr --show ||
        return 1
    assert_contains "$OUT" "$(env_value "$dir/.env" SONARR_API_KEY)"
}

check_invalid_xml_changes_nothing() {
    local tag=d$$ dir sums

    make_roles "$tag" && dir=$(make_role_stack "$tag") || return 1
    printf '<Config>\n  <ApiKey>x</ApiKey\n</Config>\n' \
        >"$dir/appdata/prowlarr/config.xml"
    sums=$(cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    expect_exit 3 "$ROTARR" -C "$dir" postgres || return 1
    assert_contains "$ERR" "appdata/prowlarr/config.xml:3:1: invalid XML" &&
        can_login "rt_${tag}_radarr" "pwradarr${tag}Passw0rdXXXXXXXXXX" &&
        [ "$sums" = "$(cd "$dir" && find . -type f -print0 | sort -z |
            xargs -0 sha256sum)" ]
}

check_config_without_api_key_changes_nothing() {
    local dir sums

    dir=$(copy_servarr_example) || return 1
    sed -i '/<ApiKey>/d' "$dir/appdata/prowlarr/config.xml"
    sums=$(cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    expect_exit 3 "$ROTARR" -C "$dir" arr-key --service prowlarr || return 1
    assert_contains "$ERR" "'appdata/prowlarr/config.xml' has no <ApiKey> element" &&
        [ "$sums" = "$(cd "$dir" && find . -type f -print0 | sort -z |
            xargs -0 sha256sum)" ]
}

# crash_and_resume STEP: kills the rotation of Radarr's role right after
# STEP (a build with -Dfailpoints=true), then 'rotarr resume' finishes it.
check_crash_and_resume() {
    local step=$1 tag=e$$$1 dir file new status=0

    make_roles "$tag" && dir=$(make_role_stack "$tag") || return 1
    file=$dir/appdata/radarr/config.xml
    ROTARR_FAILPOINT=$step "$ROTARR" -C "$dir" postgres \
        --user "rt_${tag}_radarr" >"$OUT" 2>"$ERR" || status=$?
    [ "$status" -eq 137 ] || {
        echo "  exit status $status after '$step', expected SIGKILL (137)" >&2
        return 1; }
    expect_exit 0 "$ROTARR" -C "$dir" resume || return 1
    new=$(xml_value "$file" PostgresPassword)
    [ "$new" != "pwradarr${tag}Passw0rdXXXXXXXXXX" ] &&
        can_login "rt_${tag}_radarr" "$new" &&
        [ ! -e "$dir/.rotarr/journal" ]
}

# tree_sums DIR: the checksum of every file below DIR.
tree_sums() {
    (cd "$1" && find . -type f ! -path './.rotarr/*' -print0 | sort -z |
        xargs -0 sha256sum)
}

check_arr_key_stops_on_held_lock() {
    local dir sums

    dir=$(copy_servarr_example) && mkdir -m 700 "$dir/.rotarr" &&
        sums=$(tree_sums "$dir") || return 1
    flock "$dir/.rotarr/lock" sleep 30 </dev/null >/dev/null 2>&1 &
    at_exit "kill $! 2>/dev/null"
    wait_until_locked "$dir/.rotarr/lock" || return 1
    expect_exit 3 "$ROTARR" -C "$dir" arr-key --service radarr &&
        assert_contains "$ERR" ".rotarr/lock" &&
        [ "$sums" = "$(tree_sums "$dir")" ]
}

check_arr_key_waits_for_resume() {
    # A Postgres rotation killed after the server changed leaves a
    # journal; arr-key writes nothing until 'rotarr resume' finished it.
    local tag=k$$ dir sums status=0

    make_roles "$tag" && dir=$(make_role_stack "$tag") || return 1
    ROTARR_FAILPOINT='set' "$ROTARR" -C "$dir" postgres \
        --user "rt_${tag}_radarr" >"$OUT" 2>"$ERR" || status=$?
    [ "$status" -eq 137 ] || {
        echo "  exit status $status after 'set', expected SIGKILL (137)" >&2
        return 1; }
    sums=$(tree_sums "$dir")
    expect_exit 6 "$ROTARR" -C "$dir" arr-key --service radarr &&
        assert_contains "$ERR" "run 'rotarr resume' first" &&
        [ "$sums" = "$(tree_sums "$dir")" ] &&
        expect_exit 0 "$ROTARR" -C "$dir" resume &&
        expect_exit 0 "$ROTARR" -C "$dir" arr-key --service radarr &&
        [ "$sums" != "$(tree_sums "$dir")" ]
}

check_arr_key_keeps_edit_made_meanwhile() {
    local dir old=c81e5d0a7f3b49e2a6d8b1c4f09e7a35

    dir=$(copy_servarr_example) &&
        rotarr_while_stopped \
            sh -c 'printf "# added meanwhile\n" >>"$1"' sh "$dir/.env" -- \
            -C "$dir" arr-key --service radarr || return 1
    stopped_status_is 3 || return 1
    assert_contains "$ERR" "'.env' changed after rotarr read it" &&
        assert_contains "$dir/.env" "# added meanwhile" &&
        [ "$(env_value "$dir/.env" RADARR_API_KEY)" = "$old" ] &&
        [ "$(xml_value "$dir/appdata/radarr/config.xml" ApiKey)" = "$old" ]
}

check_arr_key_resumed_unchanged_finishes() {
    # Twin: stopped at the same place with nothing changed, arr-key ends
    # with the new key everywhere.
    local dir old=c81e5d0a7f3b49e2a6d8b1c4f09e7a35 new

    dir=$(copy_servarr_example) &&
        rotarr_while_stopped true -- -C "$dir" arr-key --service radarr ||
        return 1
    stopped_status_is 0 || return 1
    new=$(env_value "$dir/.env" RADARR_API_KEY)
    [ "$new" != "$old" ] &&
        [ "$(xml_value "$dir/appdata/radarr/config.xml" ApiKey)" = "$new" ]
}

check_guard_knows_config_keys() {
    local dir

    dir=$(copy_servarr_example) &&
        git -C "$dir" init -q &&
        printf 'key=05cca0e9a5f2c873b9ca5000d84c0f9e\n' >"$dir/notes.txt" &&
        git -C "$dir" add notes.txt &&
        expect_exit 1 env -C "$dir" "$ROTARR" hook run || return 1
    assert_contains "$OUT" "notes.txt:1: copy of 'ApiKey' in 'appdata/prowlarr/config.xml'"
}

check_guard_passes_other_text() {
    local dir

    dir=$(copy_servarr_example) &&
        git -C "$dir" init -q &&
        printf 'key=05cca0e9a5f2c873b9ca5000d84c0f9f\n' >"$dir/notes.txt" &&
        git -C "$dir" add notes.txt &&
        expect_exit 0 env -C "$dir" "$ROTARR" hook run
}

check "inspect lists the apps' roles and keys" check_inspect_lists_roles_and_keys
if [ "$(id -u)" -eq 0 ]; then
    check "postgres rotates every app role" check_postgres_rotates_every_app_role
    check "a chosen password is XML-escaped" check_chosen_password_is_xml_escaped
else
    printf 'skipped two checks: they chown files to uid %s and need root\n' \
        "$APP_UID"
fi
check "--password-stdin needs one role" check_password_stdin_needs_one_role
check "arr-key rewrites every copy" check_arr_key_rewrites_every_copy
check "arr-key --dry-run writes nothing" check_arr_key_dry_run_writes_nothing
check "arr-key --show prints the key" check_arr_key_show_prints_the_key
check "arr-key stops on a held lock" check_arr_key_stops_on_held_lock
check "arr-key waits for resume" check_arr_key_waits_for_resume
check "arr-key keeps an edit made meanwhile" \
    check_arr_key_keeps_edit_made_meanwhile
check "arr-key stopped and resumed finishes" \
    check_arr_key_resumed_unchanged_finishes
check "invalid XML changes nothing" check_invalid_xml_changes_nothing
check "config.xml without ApiKey changes nothing" \
    check_config_without_api_key_changes_nothing
check "guard knows the keys of config.xml" check_guard_knows_config_keys
check "guard passes a key that differs" check_guard_passes_other_text
for step in set commit; do
    check "crash after '$step' then resume" check_crash_and_resume "$step"
done
