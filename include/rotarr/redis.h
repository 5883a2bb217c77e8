/*
 * Redis client for rotation: find out whether a server asks for a
 * password, log in, add, remove and replace the password of the default
 * user, and tell "server unreachable" apart from "password rejected".
 * Works with Redis, Valkey, KeyDB and Dragonfly, which speak the same
 * protocol; ACL commands need Redis 6 or later (or a fork of it).
 *
 * Passwords travel in struct rotarr_secret and reach the server as
 * separate command arguments with explicit lengths, never inside a
 * formatted command string, and never appear in error messages.
 * NEEDSWORK: hiredis copies each command into its own output buffer and
 * frees it without wiping, so a password sent to the server briefly
 * stays in ordinary heap memory; hiredis offers no hook to wipe it.
 */
#ifndef ROTARR_REDIS_H
#define ROTARR_REDIS_H

#include "rotarr/compat.h"
#include "rotarr/error.h"
#include "rotarr/secret.h"

/* Connect and reply timeout in seconds when the target gives none. */
#define ROTARR_REDIS_TIMEOUT 10

/* Maximum length of a host name, in bytes (the DNS limit). */
#define ROTARR_REDIS_HOST_MAX 253

/* Largest reply text that is copied out of a reply, in bytes; longer
 * replies (a huge INFO) are cut at this size. */
#define ROTARR_REDIS_REPLY_MAX 65536

/* An open connection; the hiredis context stays inside redis.c. */
struct rotarr_redis;

/* Where to connect: a DNS name or an IP address and a TCP port.  A
 * timeout <= 0 means ROTARR_REDIS_TIMEOUT. */
struct rotarr_redis_target {
    const char *host;
    int port;
    int timeout;
};

/* What an unauthenticated PING found. */
enum rotarr_redis_access {
    ROTARR_REDIS_OPEN = 0,      /* PONG: anyone may run commands */
    ROTARR_REDIS_PROTECTED = 1, /* NOAUTH: a password is required */
};

/*
 * Connects to t and, when password is not NULL, authenticates as the
 * default user with "AUTH <password>", which Redis 5 and later both
 * accept.  Returns the connection, or NULL with err set:
 *   ROTARR_EUNREACHABLE  refused, timed out, name not found, connection
 *                        lost, or a reply that is not Redis
 *   ROTARR_EAUTH         the server rejected the password, or has no
 *                        password set at all (the message says which)
 *   ROTARR_EUSAGE        invalid target
 * The message starts with 'host:port'.
 */
struct rotarr_redis *rotarr_redis_connect(const struct rotarr_redis_target *t,
                                          const struct rotarr_secret *password,
                                          struct rotarr_error *err)
    ROTARR_NONNULL(1);

/*
 * Sends PING on a new unauthenticated connection and returns
 * ROTARR_REDIS_OPEN or ROTARR_REDIS_PROTECTED, or -1 with err set
 * (ROTARR_EUNREACHABLE, or ROTARR_EUSAGE for any other error reply).
 */
int rotarr_redis_probe(const struct rotarr_redis_target *t,
                       struct rotarr_error *err)
    ROTARR_NONNULL(1) ROTARR_MUST_CHECK;

/*
 * Opens a new connection, authenticates with password and sends PING.
 * Returns 1 when AUTH succeeds and PING returns PONG, 0 when the server
 * rejects the password or has none set (err holds the reason), or -1
 * with err set when the server cannot be reached.
 */
int rotarr_redis_try_auth(const struct rotarr_redis_target *t,
                          const struct rotarr_secret *password,
                          struct rotarr_error *err)
    ROTARR_NONNULL(1, 2) ROTARR_MUST_CHECK;

/* Sends PING on r and returns 0 when the reply is PONG, else -1 with err
 * set (ROTARR_EAUTH for NOAUTH, ROTARR_EUNREACHABLE otherwise). */
int rotarr_redis_ping(struct rotarr_redis *r, struct rotarr_error *err)
    ROTARR_NONNULL(1) ROTARR_MUST_CHECK;

/*
 * "ACL SETUSER default >password": adds a password to the default user,
 * so that its other passwords keep working.  Adding a password also
 * ends "nopass", so an open server starts asking for one.  Returns 0, or
 * -1 with err set: ROTARR_EUSAGE when the server has no ACL command
 * (Redis before 6) or it is renamed, ROTARR_EAUTH when the connected
 * user may not run it, ROTARR_EUNREACHABLE on a lost connection.
 */
int rotarr_redis_add_password(struct rotarr_redis *r,
                              const struct rotarr_secret *password,
                              struct rotarr_error *err)
    ROTARR_NONNULL(1, 2, 3) ROTARR_MUST_CHECK;

/* "ACL SETUSER default <password": removes one password of the default
 * user; removing one it does not have succeeds.  Errors as for
 * rotarr_redis_add_password. */
int rotarr_redis_remove_password(struct rotarr_redis *r,
                                 const struct rotarr_secret *password,
                                 struct rotarr_error *err)
    ROTARR_NONNULL(1, 2, 3) ROTARR_MUST_CHECK;

/*
 * "CONFIG SET requirepass password": makes password the only password of
 * the default user and the value that "CONFIG GET requirepass" returns.
 * An empty password (length 0) removes the password and opens the
 * server.  Errors as for rotarr_redis_add_password.
 */
int rotarr_redis_set_requirepass(struct rotarr_redis *r,
                                 const struct rotarr_secret *password,
                                 struct rotarr_error *err)
    ROTARR_NONNULL(1, 2, 3) ROTARR_MUST_CHECK;

/*
 * Returns the number of passwords of the default user (from "ACL GETUSER
 * default"), 0 for a user without any, or -1 with err set (codes as for
 * rotarr_redis_add_password).
 */
int rotarr_redis_password_count(struct rotarr_redis *r,
                                struct rotarr_error *err)
    ROTARR_NONNULL(1, 2) ROTARR_MUST_CHECK;

/* What "INFO server" reports. */
struct rotarr_redis_info {
    int major; /* of redis_version (Valkey reports 7.2.4); 0 if absent */
    int minor;
    int has_config_file; /* the server was started from a config file */
};

/* Fills info from "INFO server".  Returns 0, or -1 with err set. */
int rotarr_redis_server_info(struct rotarr_redis *r,
                             struct rotarr_redis_info *info,
                             struct rotarr_error *err)
    ROTARR_NONNULL(1, 2, 3) ROTARR_MUST_CHECK;

/*
 * "CONFIG REWRITE": writes the running configuration back to the file
 * the server started from.  Returns 0, or -1 with err set
 * (ROTARR_EUSAGE when the server has no config file or cannot write it,
 * with the server's reason).
 */
int rotarr_redis_config_rewrite(struct rotarr_redis *r,
                                struct rotarr_error *err)
    ROTARR_NONNULL(1, 2) ROTARR_MUST_CHECK;

/* Returns "host:port" of the connection, for messages. */
const char *rotarr_redis_where(const struct rotarr_redis *r)
    ROTARR_NONNULL(1);

/* Closes the connection and frees r.  Accepts NULL. */
void rotarr_redis_close(struct rotarr_redis *r);

#endif
