/*
 * PostgreSQL client for rotation: log in over TCP, change a role's
 * password without sending it in clear, and tell "server unreachable"
 * apart from "server rejected the password".
 *
 * Passwords are passed in struct rotarr_secret and handed to libpq as
 * connection keywords only: never in a conninfo string, never in the
 * environment, never in SQL text.  Error messages name the host, port
 * and role but never a password.  Text that comes from the server is
 * copied into messages unfiltered; the command layer replaces control
 * characters when it prints them.
 */
#ifndef ROTARR_PG_H
#define ROTARR_PG_H

#include "rotarr/compat.h"
#include "rotarr/error.h"
#include "rotarr/secret.h"

/* Connect timeout in seconds when the target gives none. */
#define ROTARR_PG_CONNECT_TIMEOUT 10

/* Maximum length of a role or database name, in bytes, because
 * PostgreSQL silently cuts a longer identifier. */
#define ROTARR_PG_IDENT_MAX 63

/* Maximum length of a host name, in bytes (the DNS limit). */
#define ROTARR_PG_HOST_MAX 253

/* An open connection; the libpq handle stays inside pg.c. */
struct rotarr_pg;

/*
 * Where and as whom to connect.  host is a DNS name or an IP address;
 * a socket path (starting with '/' or '@') and a list of hosts are
 * rejected, because a login test must cross the same TCP path as the
 * application.  dbname NULL means libpq's default (the user name),
 * sslmode NULL means "prefer", connect_timeout <= 0 means
 * ROTARR_PG_CONNECT_TIMEOUT.  Connection settings that are not listed
 * here (PGOPTIONS, PGSSLROOTCERT, ...) still come from libpq's
 * environment variables.  PGPASSWORD and the password file are read only
 * when the password argument is NULL.
 */
struct rotarr_pg_target {
    const char *host;
    int port;
    const char *dbname;
    const char *user;
    const char *sslmode;
    int connect_timeout;
};

/*
 * Connects to t as t->user with password (NULL only in tests against a
 * server that requires none), with application_name "rotarr".  Returns
 * the connection, or NULL with err set:
 *   ROTARR_EUNREACHABLE  refused, timed out, no route, name not found,
 *                        TLS failure, server shutting down or full
 *   ROTARR_EAUTH         password rejected, no such role, no
 *                        pg_hba.conf entry, password required but none
 *   ROTARR_EUSAGE        invalid target, or the database does not exist
 * The message starts with 'host:port' and the role.
 */
struct rotarr_pg *rotarr_pg_connect(const struct rotarr_pg_target *t,
                                    const struct rotarr_secret *password,
                                    struct rotarr_error *err)
    ROTARR_NONNULL(1);

/*
 * Sets role's password to new_password.  The SCRAM-SHA-256 verifier is
 * computed on the client (PQencryptPasswordConn), so the statement that
 * reaches the server and its log carries only the verifier.  The stored
 * password is SCRAM whatever the server's password_encryption is.  The
 * role is quoted as an identifier and the verifier as a literal.  Returns 0,
 * or -1 with err set:
 *   ROTARR_EUSAGE        role does not exist; password empty or
 *                        containing a NUL byte
 *   ROTARR_EAUTH         the connected role may not change role's
 *                        password (the message names who may)
 *   ROTARR_EUNREACHABLE  connection lost, server read-only or any other
 *                        server error.  After a lost connection the
 *                        change may or may not have been committed.
 */
int rotarr_pg_set_password(struct rotarr_pg *pg, const char *role,
                           const struct rotarr_secret *new_password,
                           struct rotarr_error *err)
    ROTARR_NONNULL(1, 2, 3) ROTARR_MUST_CHECK;

/*
 * Opens and closes a fresh connection as t->user with password.
 * Returns 1 when the login succeeds and the server checked a password,
 * 0 when the server rejects the login (err contains the reason), or -1
 * with err set when the attempt does not show whether the password is
 * right: the server is unreachable or the database is missing (codes as
 * for rotarr_pg_connect), or the server let the role in without
 * requesting a password (ROTARR_EAUTH, pg_hba.conf "trust").
 */
int rotarr_pg_try_login(const struct rotarr_pg_target *t,
                        const struct rotarr_secret *password,
                        struct rotarr_error *err)
    ROTARR_NONNULL(1) ROTARR_MUST_CHECK;

/* Stored password kinds returned by rotarr_pg_password_kind. */
enum rotarr_pg_password_kind {
    ROTARR_PG_PASSWORD_SCRAM = 0,   /* SCRAM-SHA-256 verifier */
    ROTARR_PG_PASSWORD_MD5 = 1,     /* md5 hash */
    ROTARR_PG_PASSWORD_OTHER = 2,   /* no password, or another format */
};

/*
 * Returns how role's password is stored, as an enum
 * rotarr_pg_password_kind, by reading pg_authid on the server (the
 * verifier itself never leaves the server).  Returns -1 with err set:
 * ROTARR_EAUTH when the connected role may not read pg_authid (only
 * superusers may), ROTARR_EUSAGE when role does not exist,
 * ROTARR_EUNREACHABLE on a server or connection error.
 */
int rotarr_pg_password_kind(struct rotarr_pg *pg, const char *role,
                            struct rotarr_error *err)
    ROTARR_NONNULL(1, 2) ROTARR_MUST_CHECK;

/* Returns 1 when role exists, 0 when not, -1 with err set on error. */
int rotarr_pg_role_exists(struct rotarr_pg *pg, const char *role,
                          struct rotarr_error *err)
    ROTARR_NONNULL(1, 2) ROTARR_MUST_CHECK;

/*
 * Runs one SQL statement that returns no rows, for test and demo setup
 * (CREATE ROLE, SET ...).  The text reaches the server log, so it must
 * not contain a password.  Returns 0, or -1 with err set (codes as for
 * rotarr_pg_set_password).
 */
int rotarr_pg_exec(struct rotarr_pg *pg, const char *sql,
                   struct rotarr_error *err)
    ROTARR_NONNULL(1, 2) ROTARR_MUST_CHECK;

/* Returns the role this connection logged in as. */
const char *rotarr_pg_current_user(const struct rotarr_pg *pg)
    ROTARR_NONNULL(1);

/* Returns "host:port" of the connection, for messages. */
const char *rotarr_pg_where(const struct rotarr_pg *pg) ROTARR_NONNULL(1);

/* Closes the connection and frees pg.  Accepts NULL. */
void rotarr_pg_close(struct rotarr_pg *pg);

#endif
