# shellcheck shell=bash
# Login roles on the throw-away PostgreSQL server of scripts/services for
# the tests that rotate a role's password, and the reading of env file
# values.  Sourced after lib.sh.

# create_role NAME PASSWORD: creates a login role and a database of the
# same name, both dropped when the test exits.  The statements are kept
# out of the server log, which some tests search for passwords.
create_role() {
    psql_super -v role="$1" -v pw="$2" <<'SQL' >/dev/null
SET log_statement = 'none';
CREATE ROLE :"role" LOGIN PASSWORD :'pw';
CREATE DATABASE :"role" OWNER :"role";
SQL
    at_exit "psql_super -v role='$1' -c 'DROP DATABASE IF EXISTS :\"role\"' -c 'DROP ROLE IF EXISTS :\"role\"' >/dev/null 2>&1"
}

# new_role PASSWORD [NAME]: creates a role as create_role does and prints
# its name.  The default name contains the process id of the command
# substitution that new_role runs in, so each call gets its own role.
new_role() {
    local name=${2:-rt_$$_$BASHPID}

    create_role "$name" "$1" && printf '%s\n' "$name"
}

# can_login ROLE PASSWORD: succeeds when a TCP login as ROLE, to the
# database of the same name, works with PASSWORD.
can_login() {
    local pgpass=$TEST_TMP/login.pgpass password=${2//\\/\\\\}

    password=${password//:/\\:}
    (umask 077 && printf '%s:%s:*:%s:%s\n' "$ROTARR_PGHOST" "$ROTARR_PGPORT" \
        "${1//:/\\:}" "$password" >"$pgpass")
    env -u PGPASSWORD PGPASSFILE="$pgpass" PGCONNECT_TIMEOUT=10 \
        psql -X -q -h "$ROTARR_PGHOST" -p "$ROTARR_PGPORT" -U "$1" \
        -d "$1" -c 'SELECT 1' >/dev/null 2>&1
}

# env_value FILE KEY: prints the last value of KEY in a simple KEY=VALUE
# env file, without the single quotes rotarr puts around a value it had
# to quote.
env_value() {
    sed -n "s/^$2=//p" "$1" | tail -n 1 | sed "s/^'\\(.*\\)'\$/\\1/"
}
