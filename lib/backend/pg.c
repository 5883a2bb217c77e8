#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "rotarr/pg.h"

/* Room for "[host]:port" and its NUL. */
#define WHERE_MAX (ROTARR_PG_HOST_MAX + 10)

/* Room for one short text value read back from a query. */
#define VALUE_MAX 64

/* Room for a server or libpq message copied into our own message. */
#define SERVER_TEXT_MAX 512

struct rotarr_pg {
    PGconn *conn;
    char where[WHERE_MAX];
};

/* libpq prints notices and warnings on stderr by default, and the
 * library must not print. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Copies libpq's text without its trailing newline. */
static void copy_server_text(char *out, size_t size, const char *text)
{
    size_t len;

    if (text == NULL) {
        text = "";
    }
    len = strnlen(text, size - 1);
    memcpy(out, text, len);
    while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' ')) {
        len--;
    }
    out[len] = '\0';
}

static int check_ident(const char *what, const char *name,
                       struct rotarr_error *err)
{
    if (name == NULL || name[0] == '\0') {
        return rotarr_error_set(err, ROTARR_EUSAGE, "%s name is empty",
                                what);
    }
    if (strlen(name) > ROTARR_PG_IDENT_MAX) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "%s name '%.*s...' is longer than %d bytes",
                                what, 32, name, ROTARR_PG_IDENT_MAX);
    }
    return 0;
}

static int check_host(const char *host, struct rotarr_error *err)
{
    if (host == NULL || host[0] == '\0') {
        return rotarr_error_set(err, ROTARR_EUSAGE, "host name is empty");
    }
    if (strlen(host) > ROTARR_PG_HOST_MAX) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "host name '%.*s...' is too long", 32, host);
    }
    if (host[0] == '/' || host[0] == '@') {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "host '%s' is a socket path; give the TCP "
                                "address the application uses", host);
    }
    if (strchr(host, ',') != NULL) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "host '%s' lists several hosts; give one",
                                host);
    }
    return 0;
}

static int check_target(const struct rotarr_pg_target *t,
                        struct rotarr_error *err)
{
    if (check_host(t->host, err) < 0 ||
        check_ident("role", t->user, err) < 0) {
        return -1;
    }
    if (t->port < 1 || t->port > 65535) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "port %d is out of range 1-65535", t->port);
    }
    if (t->dbname != NULL && check_ident("database", t->dbname, err) < 0) {
        return -1;
    }
    return 0;
}

/* libpq takes passwords as C strings, so a NUL byte would cut one short
 * without notice. */
static int check_password(const struct rotarr_secret *password,
                          struct rotarr_error *err)
{
    size_t len = rotarr_secret_len(password);

    if (len == 0) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "the password is empty");
    }
    if (memchr(rotarr_secret_data(password), '\0', len) != NULL) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "the password contains a NUL byte, which "
                                "PostgreSQL cannot store");
    }
    return 0;
}

static void format_where(char *where, const struct rotarr_pg_target *t)
{
    int n;

    if (strchr(t->host, ':') != NULL) {
        n = snprintf(where, WHERE_MAX, "[%s]:%d", t->host, t->port);
    } else {
        n = snprintf(where, WHERE_MAX, "%s:%d", t->host, t->port);
    }

    /* check_host bounds the host, so the text always fits. */
    if (n < 0 || n >= WHERE_MAX) {
        where[0] = '\0';
    }
}

static int text_has(const char *text, const char *needle)
{
    return strstr(text, needle) != NULL;
}

/* Matches the English texts of PostgreSQL and libpq.
 * NEEDSWORK: a server with lc_messages in another language sends
 * translated texts, so its rejections come out as ROTARR_EUNREACHABLE;
 * libpq 15 offers no SQLSTATE for a failed connection. */
static int is_auth_failure(const char *text)
{
    return text_has(text, "authentication failed") ||
           text_has(text, "pg_hba.conf") ||
           text_has(text, "no password supplied") ||
           (text_has(text, "role \"") && text_has(text, "does not exist"));
}

static int classify_failure(PGconn *conn, const struct rotarr_pg_target *t,
                            const char *where, struct rotarr_error *err)
{
    char text[SERVER_TEXT_MAX];

    copy_server_text(text, sizeof(text),
                     conn != NULL ? PQerrorMessage(conn) : "out of memory");
    if (text_has(text, "database \"") && text_has(text, "does not exist")) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "'%s' has no database '%s' for role '%s': "
                                "%s; pass the database the role uses",
                                where, t->dbname != NULL ? t->dbname : t->user,
                                t->user, text);
    }
    if (is_auth_failure(text)) {
        return rotarr_error_set(err, ROTARR_EAUTH,
                                "'%s' rejected the login of role '%s': %s",
                                where, t->user, text);
    }
    return rotarr_error_set(err, ROTARR_EUNREACHABLE,
                            "cannot connect to '%s' as role '%s': %s",
                            where, t->user, text);
}

/* Returns an open libpq connection, or NULL with err set. */
static PGconn *open_conn(const struct rotarr_pg_target *t,
                         const struct rotarr_secret *password, char *where,
                         struct rotarr_error *err)
{
    char port[8];
    char timeout[16];
    const char *keys[] = {
        "host", "port", "user", "dbname", "sslmode", "connect_timeout",
        "application_name", "gssencmode", "password", NULL,
    };
    const char *values[] = {
        t->host, port, t->user, t->dbname,
        t->sslmode != NULL ? t->sslmode : "prefer", timeout,
        "rotarr", "disable",
        password != NULL ? rotarr_secret_data(password) : NULL, NULL,
    };
    PGconn *conn;

    if (check_target(t, err) < 0 ||
        (password != NULL && check_password(password, err) < 0)) {
        return NULL;
    }
    format_where(where, t);
    snprintf(port, sizeof(port), "%d", t->port);
    snprintf(timeout, sizeof(timeout), "%d",
             t->connect_timeout > 0 ? t->connect_timeout
                                    : ROTARR_PG_CONNECT_TIMEOUT);

    /* A NULL value leaves that keyword unset.  expand_dbname 0 keeps a
     * database name from being parsed as a connection string. */
    conn = PQconnectdbParams(keys, values, 0);
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        classify_failure(conn, t, where, err);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, ignore_notice, NULL);
    return conn;
}

struct rotarr_pg *rotarr_pg_connect(const struct rotarr_pg_target *t,
                                    const struct rotarr_secret *password,
                                    struct rotarr_error *err)
{
    struct rotarr_pg *pg = calloc(1, sizeof(*pg));

    if (pg == NULL) {
        rotarr_error_set(err, ROTARR_EUNREACHABLE, "out of memory");
        return NULL;
    }
    pg->conn = open_conn(t, password, pg->where, err);
    if (pg->conn == NULL) {
        free(pg);
        return NULL;
    }
    return pg;
}

int rotarr_pg_try_login(const struct rotarr_pg_target *t,
                        const struct rotarr_secret *password,
                        struct rotarr_error *err)
{
    struct rotarr_error failure = ROTARR_ERROR_INIT;
    char where[WHERE_MAX];
    PGconn *conn = open_conn(t, password, where, &failure);
    int used_password;

    if (conn == NULL) {
        if (err != NULL) {
            *err = failure;
        }
        return failure.code == ROTARR_EAUTH ? 0 : -1;
    }
    used_password = PQconnectionUsedPassword(conn);
    PQfinish(conn);
    if (!used_password) {
        return rotarr_error_set(err, ROTARR_EAUTH,
                                "'%s' let role '%s' in without asking for "
                                "a password (pg_hba.conf 'trust'), so the "
                                "password cannot be tested there",
                                where, t->user);
    }
    return 1;
}

static int sqlstate_is(const char *state, const char *code)
{
    return state != NULL && strcmp(state, code) == 0;
}

static int sqlstate_class(const char *state, const char *class2)
{
    return state != NULL && strncmp(state, class2, 2) == 0;
}

/* Turns a failed statement into err.  role names the role whose password
 * was being changed, or is NULL for any other statement. */
static int statement_failure(const struct rotarr_pg *pg, const PGresult *res,
                             const char *role, struct rotarr_error *err)
{
    const char *state =
        res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *me = PQuser(pg->conn);
    char text[SERVER_TEXT_MAX];

    copy_server_text(text, sizeof(text),
                     res != NULL ? PQresultErrorMessage(res)
                                 : PQerrorMessage(pg->conn));
    if (PQstatus(pg->conn) != CONNECTION_OK || state == NULL ||
        sqlstate_class(state, "08") || sqlstate_class(state, "57")) {
        return rotarr_error_set(err, ROTARR_EUNREACHABLE,
                                "lost the connection to '%s': %s",
                                pg->where, text);
    }
    if (role != NULL && sqlstate_is(state, "42704")) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "role '%s' does not exist on '%s'; check "
                                "the role name", role, pg->where);
    }
    if (role != NULL && sqlstate_is(state, "42501")) {
        return rotarr_error_set(err, ROTARR_EAUTH,
                                "role '%s' may not change the password of "
                                "role '%s' on '%s' (%s); connect as '%s' "
                                "itself, as a superuser, or as a role with "
                                "CREATEROLE (from PostgreSQL 16 on, with "
                                "ADMIN OPTION on '%s')",
                                me, role, pg->where, text, role, role);
    }
    if (sqlstate_is(state, "42501")) {
        return rotarr_error_set(err, ROTARR_EAUTH,
                                "role '%s' is not permitted to do this on "
                                "'%s': %s", me, pg->where, text);
    }
    if (sqlstate_is(state, "25006")) {
        return rotarr_error_set(err, ROTARR_EUNREACHABLE,
                                "'%s' is read-only (%s); connect to the "
                                "primary server", pg->where, text);
    }
    return rotarr_error_set(err, ROTARR_EUNREACHABLE,
                            "'%s' failed the statement: %s", pg->where,
                            text);
}

/* Turns a failed libpq call that is not a statement into err. */
static int client_failure(const struct rotarr_pg *pg, const char *what,
                          const char *role, struct rotarr_error *err)
{
    char text[SERVER_TEXT_MAX];

    copy_server_text(text, sizeof(text), PQerrorMessage(pg->conn));
    return rotarr_error_set(err, ROTARR_EUSAGE, "cannot %s for role '%s': %s",
                            what, role, text);
}

static int run_command(struct rotarr_pg *pg, const char *sql,
                       const char *role, struct rotarr_error *err)
{
    PGresult *res = PQexec(pg->conn, sql);
    int ret = 0;

    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        ret = statement_failure(pg, res, role, err);
    }
    PQclear(res);
    return ret;
}

/* Builds "ALTER ROLE <ident> PASSWORD <literal>" in guarded memory.  The
 * verifier is not the password, but it allows an offline guessing attack
 * on it, so it is wiped like a secret. */
static struct rotarr_secret *alter_statement(struct rotarr_pg *pg,
                                             const char *role,
                                             const char *verifier,
                                             struct rotarr_error *err)
{
    char *ident = PQescapeIdentifier(pg->conn, role, strlen(role));
    char *literal = PQescapeLiteral(pg->conn, verifier, strlen(verifier));
    struct rotarr_secret *sql = NULL;
    size_t len;
    int n;

    if (ident == NULL || literal == NULL) {
        client_failure(pg, "quote the ALTER ROLE statement", role, err);
        goto out;
    }
    len = strlen("ALTER ROLE  PASSWORD ") + strlen(ident) + strlen(literal);
    sql = rotarr_secret_alloc(len, err);
    if (sql == NULL) {
        goto out;
    }
    n = snprintf(rotarr_secret_data(sql), len + 1, "ALTER ROLE %s PASSWORD %s",
                 ident, literal);
    if (n < 0 || (size_t)n != len) {
        rotarr_secret_free(sql);
        sql = NULL;
        rotarr_error_set(err, ROTARR_EUSAGE, "cannot format ALTER ROLE");
    }

out:
    if (literal != NULL) {
        sodium_memzero(literal, strlen(literal));
    }
    PQfreemem(ident);
    PQfreemem(literal);
    return sql;
}

int rotarr_pg_set_password(struct rotarr_pg *pg, const char *role,
                           const struct rotarr_secret *new_password,
                           struct rotarr_error *err)
{
    struct rotarr_secret *sql = NULL;
    char *verifier = NULL;
    int ret = -1;

    if (check_ident("role", role, err) < 0 ||
        check_password(new_password, err) < 0) {
        return -1;
    }
    /* An explicit algorithm keeps libpq from asking the server for its
     * password_encryption, which may be md5. */
    verifier = PQencryptPasswordConn(pg->conn,
                                     rotarr_secret_data(new_password), role,
                                     "scram-sha-256");
    if (verifier == NULL) {
        client_failure(pg, "compute the SCRAM-SHA-256 verifier", role, err);
        goto out;
    }
    sql = alter_statement(pg, role, verifier, err);
    if (sql == NULL) {
        goto out;
    }
    ret = run_command(pg, rotarr_secret_data(sql), role, err);

out:
    if (verifier != NULL) {
        sodium_memzero(verifier, strlen(verifier));
    }
    PQfreemem(verifier);
    rotarr_secret_free(sql);
    return ret;
}

int rotarr_pg_exec(struct rotarr_pg *pg, const char *sql,
                   struct rotarr_error *err)
{
    return run_command(pg, sql, NULL, err);
}

/* Runs a query with at most one text parameter and copies the first
 * column of its first row into value.  Returns 1 with a row, 0 without,
 * -1 with err set. */
static int query_value(struct rotarr_pg *pg, const char *sql,
                       const char *param, char value[VALUE_MAX],
                       struct rotarr_error *err)
{
    PGresult *res = PQexecParams(pg->conn, sql, param != NULL ? 1 : 0, NULL,
                                 &param, NULL, NULL, 0);
    int ret = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        ret = statement_failure(pg, res, NULL, err);
    } else if (PQntuples(res) > 0 && PQnfields(res) > 0) {
        copy_server_text(value, VALUE_MAX, PQgetvalue(res, 0, 0));
        ret = 1;
    }
    PQclear(res);
    return ret;
}

int rotarr_pg_role_exists(struct rotarr_pg *pg, const char *role,
                          struct rotarr_error *err)
{
    char value[VALUE_MAX];

    if (check_ident("role", role, err) < 0) {
        return -1;
    }
    return query_value(pg,
                       "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1",
                       role, value, err);
}

/* Checks first whether pg_authid is readable, so that a non-superuser
 * gets a clear message and the server logs no permission error. */
static int can_read_authid(struct rotarr_pg *pg, struct rotarr_error *err)
{
    char value[VALUE_MAX];
    int found = query_value(pg,
                            "SELECT pg_catalog.has_table_privilege("
                            "'pg_catalog.pg_authid', 'SELECT')",
                            NULL, value, err);

    if (found < 0) {
        return -1;
    }
    if (found == 0 || strcmp(value, "t") != 0) {
        return rotarr_error_set(err, ROTARR_EAUTH,
                                "role '%s' may not read pg_authid on '%s', "
                                "so the kind of stored password is unknown; "
                                "connect as a superuser to check it",
                                PQuser(pg->conn), pg->where);
    }
    return 0;
}

int rotarr_pg_password_kind(struct rotarr_pg *pg, const char *role,
                            struct rotarr_error *err)
{
    static const char sql[] =
        "SELECT CASE WHEN rolpassword LIKE 'md5%' THEN 'md5' "
        "WHEN rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'scram' "
        "ELSE 'other' END "
        "FROM pg_catalog.pg_authid WHERE rolname = $1";
    char kind[VALUE_MAX];
    int found;

    if (check_ident("role", role, err) < 0 || can_read_authid(pg, err) < 0) {
        return -1;
    }
    found = query_value(pg, sql, role, kind, err);
    if (found < 0) {
        return -1;
    }
    if (found == 0) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "role '%s' does not exist on '%s'; check "
                                "the role name", role, pg->where);
    }
    if (strcmp(kind, "md5") == 0) {
        return ROTARR_PG_PASSWORD_MD5;
    }
    if (strcmp(kind, "scram") == 0) {
        return ROTARR_PG_PASSWORD_SCRAM;
    }
    return ROTARR_PG_PASSWORD_OTHER;
}

const char *rotarr_pg_current_user(const struct rotarr_pg *pg)
{
    return PQuser(pg->conn);
}

const char *rotarr_pg_where(const struct rotarr_pg *pg)
{
    return pg->where;
}

void rotarr_pg_close(struct rotarr_pg *pg)
{
    if (pg != NULL) {
        PQfinish(pg->conn);
        free(pg);
    }
}
