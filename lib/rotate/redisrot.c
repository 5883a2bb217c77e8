#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redis_private.h"
#include "rotarr/failpoint.h"
#include "rotarr/journal.h"
#include "rotarr/redis.h"
#include "rotarr/shared.h"
#include "rotarr/state.h"
#include "rotarr/sweep.h"

/* Change the set step makes to the live server. */
enum live_change {
    LIVE_NONE,        /* nothing: offline, or the server is right */
    LIVE_REQUIREPASS, /* CONFIG SET requirepass: the only password */
    LIVE_ADD,         /* ACL SETUSER default >new: a second password */
};

static const char *const live_names[] = { "none", "requirepass", "add" };

/* State of the server before the run, and the connection to it. */
struct live_server {
    struct rotarr_redis *conn;
    int was_open;       /* no password was needed */
    int has_config_file;
    int major;          /* from INFO; 0 when unknown */
    enum live_change change;
};

static void plan_target(const struct rotarr_redisrot_plan *plan,
                        struct rotarr_redis_target *t)
{
    t->host = plan->host;
    t->port = plan->port;
    t->timeout = ROTARR_REDIS_TIMEOUT;
}

static int has_changes(const struct rotarr_redisrot_plan *plan)
{
    size_t i;

    for (i = 0; i < plan->file_count; i++) {
        if (plan->files[i].edits.count > 0) {
            return 1;
        }
    }
    return 0;
}

static int refuse_unconfigured(const struct rotarr_redisrot_plan *plan,
                               struct rotarr_error *err)
{
    struct rotarr_buf names = ROTARR_BUF_INIT;
    size_t i;

    for (i = 0; i < plan->client_count; i++) {
        if (!plan->clients[i].configured) {
            (void)rotarr_buf_printf(&names, NULL, "%s'%s' (%s)",
                                    names.len > 0 ? ", " : "",
                                    plan->clients[i].service,
                                    plan->clients[i].how);
        }
    }
    rotarr_error_set(err, ROTARR_NO,
                     "rotarr cannot give the password to %s; set it there "
                     "by hand, then run again; nothing was changed",
                     names.data != NULL ? names.data : "a client");
    rotarr_buf_release(&names);
    return -1;
}

static int explain_refused(const struct rotarr_redisrot_plan *plan,
                           struct rotarr_error *err)
{
    if (plan->current == NULL) {
        return rotarr_error_set(err, ROTARR_EAUTH,
                                "%s:%d asks for a password, but the files "
                                "give service '%s' none; put the server's "
                                "password in '%s' and run 'rotarr redis "
                                "--enable'; nothing was changed",
                                plan->host, plan->port, plan->service,
                                plan->var);
    }
    return rotarr_error_set(err, ROTARR_EAUTH,
                            "%s:%d rejected the password that %s holds for "
                            "service '%s': the live password differs from "
                            "the files (was the server started before the "
                            "files changed?); nothing was changed",
                            plan->host, plan->port, plan->source,
                            plan->service);
}

/* Connects, learns whether the server is open and what it runs. */
static int open_live(const struct rotarr_redisrot_plan *plan,
                     struct live_server *live, struct rotarr_error *err)
{
    struct rotarr_redis_target t;
    struct rotarr_redis_info info;
    int access;

    plan_target(plan, &t);
    access = rotarr_redis_probe(&t, err);
    if (access < 0) {
        return err->code == ROTARR_EUNREACHABLE
                   ? rotarr_error_prefix(err, "nothing was changed (use "
                                              "'--offline' for a stopped "
                                              "stack)")
                   : -1;
    }
    live->was_open = access == ROTARR_REDIS_OPEN;
    if (!live->was_open && plan->current == NULL) {
        return explain_refused(plan, err);
    }
    live->conn = rotarr_redis_connect(&t, live->was_open ? NULL
                                                         : plan->current,
                                      err);
    if (live->conn == NULL) {
        return err->code == ROTARR_EAUTH ? explain_refused(plan, err) : -1;
    }
    if (rotarr_redis_server_info(live->conn, &info, err) < 0) {
        return -1;
    }
    live->major = info.major;
    live->has_config_file = info.has_config_file;
    return 0;
}

/* Refuses a rotation while the last overlap still has two passwords. */
static int check_overlap_closed(const struct rotarr_redisrot_plan *plan,
                                const struct live_server *live,
                                struct rotarr_error *err)
{
    struct rotarr_error ignored = ROTARR_ERROR_INIT;

    if (live->was_open || live->major < 6 ||
        plan->mode == ROTARR_REDIS_FIX ||
        rotarr_redis_password_count(live->conn, &ignored) <= 1) {
        return 0;
    }
    return rotarr_error_set(err, ROTARR_EUSAGE,
                            "the default user of service '%s' still has "
                            "more than one password from the last rotation; "
                            "recreate its clients, run 'rotarr redis "
                            "--finish', then rotate again",
                            plan->service);
}

/* Chooses what the set step does to the server. */
static int choose_change(const struct rotarr_redisrot_request *req,
                         struct rotarr_redisrot_plan *plan,
                         struct live_server *live, struct rotarr_error *err)
{
    live->change = LIVE_REQUIREPASS;
    if (plan->mode == ROTARR_REDIS_FIX && !live->was_open) {
        live->change = LIVE_NONE;
    } else if (plan->mode == ROTARR_REDIS_OVERLAP && !live->was_open) {
        if (live->major >= 6) {
            live->change = LIVE_ADD;
        } else if (req->overlap == 1) {
            return rotarr_error_set(err, ROTARR_EUSAGE,
                                    "%s:%d runs Redis %d, which has no ACL "
                                    "for two passwords at once; use "
                                    "'--no-overlap'",
                                    plan->host, plan->port, live->major);
        } else {
            plan->mode = ROTARR_REDIS_REPLACE;
        }
    }
    return check_overlap_closed(plan, live, err);
}

static struct rotarr_journal *
write_pending(const char *dir, const struct rotarr_redisrot_plan *plan,
              const struct live_server *live, int encrypted,
              struct rotarr_error *err)
{
    struct rotarr_journal *journal = rotarr_journal_new("redis", err);
    char port[16];

    if (journal == NULL) {
        return NULL;
    }
    snprintf(port, sizeof(port), "%d", plan->port);
    if (rotarr_journal_set(journal, "service", plan->service, err) < 0 ||
        rotarr_journal_set(journal, "var", plan->var, err) < 0 ||
        rotarr_journal_set(journal, "host", plan->host, err) < 0 ||
        rotarr_journal_set(journal, "port", port, err) < 0 ||
        rotarr_journal_set(journal, "mode", rotarr_redis_mode_name(plan->mode),
                           err) < 0 ||
        rotarr_journal_set(journal, "live", live_names[live->change], err) <
            0 ||
        (plan->current != NULL &&
         rotarr_journal_set_secret(journal, "old", plan->current, err) < 0) ||
        rotarr_journal_set_secret(journal, "new", plan->next, err) < 0) {
        rotarr_journal_free(journal);
        return NULL;
    }
    rotarr_journal_set_step(journal, ROTARR_STEP_PENDING);
    rotarr_journal_set_encrypted(journal, encrypted);
    if (rotarr_journal_save(journal, dir, err) < 0) {
        rotarr_journal_free(journal);
        return NULL;
    }
    return journal;
}

static int advance(struct rotarr_journal *journal, const char *dir,
                   enum rotarr_step step, struct rotarr_error *err)
{
    rotarr_journal_set_step(journal, step);
    return rotarr_journal_save(journal, dir, err);
}

static int apply_change(struct rotarr_redis *conn, enum live_change change,
                        const struct rotarr_secret *next,
                        struct rotarr_error *err)
{
    if (change == LIVE_ADD) {
        return rotarr_redis_add_password(conn, next, err);
    }
    return rotarr_redis_set_requirepass(conn, next, err);
}

/* The test step: an unauthenticated PING gets NOAUTH, AUTH with the new
 * password gets PONG. */
static int test_live(const struct rotarr_redisrot_plan *plan,
                     struct rotarr_error *err)
{
    struct rotarr_redis_target t;
    int access;
    int ok;

    plan_target(plan, &t);
    access = rotarr_redis_probe(&t, err);
    ok = access == ROTARR_REDIS_PROTECTED &&
         rotarr_redis_try_auth(&t, plan->next, err) == 1;
    ROTARR_FAILPOINT_ERROR("test", ok, 0);
    if (!ok && err->code == ROTARR_OK) {
        rotarr_error_set(err, ROTARR_EAUTH, "the check failed");
    }
    return ok ? 0 : -1;
}

/* Puts the server back as it was after a failed test. */
static int roll_back(const struct rotarr_redisrot_plan *plan,
                     struct live_server *live, struct rotarr_error *err)
{
    struct rotarr_secret *empty = rotarr_secret_new("", 0, err);
    int ret;

    if (empty == NULL) {
        return -1;
    }
    if (live->change == LIVE_ADD) {
        ret = rotarr_redis_remove_password(live->conn, plan->next, err);
    } else {
        ret = rotarr_redis_set_requirepass(
            live->conn, live->was_open ? empty : plan->current, err);
    }
    rotarr_secret_free(empty);
    return ret;
}

static int set_and_test(const char *dir, struct rotarr_journal *journal,
                        const struct rotarr_redisrot_plan *plan,
                        struct live_server *live, struct rotarr_error *err)
{
    struct rotarr_error test_err = ROTARR_ERROR_INIT;
    struct rotarr_error back_err = ROTARR_ERROR_INIT;

    if (apply_change(live->conn, live->change, plan->next, err) < 0) {
        /* The server is unchanged; a journal would make resume retry. */
        if (rotarr_journal_remove(dir, NULL) < 0) {
            return rotarr_error_prefix(err, "remove '.rotarr/journal'");
        }
        return -1;
    }
    ROTARR_FAILPOINT("set");
    if (advance(journal, dir, ROTARR_STEP_SET, err) < 0) {
        return rotarr_error_prefix(err, "service '%s' has its new password; "
                                        "run 'rotarr resume'",
                                   plan->service);
    }
    if (test_live(plan, &test_err) == 0) {
        return advance(journal, dir, ROTARR_STEP_TESTED, err);
    }
    if (roll_back(plan, live, &back_err) < 0) {
        return rotarr_error_set(err, ROTARR_EPARTIAL,
                                "the new password of service '%s' did not "
                                "pass the check (%s), and putting the server "
                                "back failed (%s); run 'rotarr resume'",
                                plan->service, test_err.msg, back_err.msg);
    }
    if (rotarr_journal_remove(dir, err) < 0) {
        return rotarr_error_prefix(err, "the server was put back");
    }
    return rotarr_error_set(err, ROTARR_EAUTH,
                            "the new password of service '%s' did not pass "
                            "the check at %s:%d (%s), so the server was put "
                            "back and no file was changed",
                            plan->service, plan->host, plan->port,
                            test_err.msg);
}

/* Writes the running configuration to the server's config file when it
 * runs from one.  A failure is only reported, because the stack's files
 * already contain the password. */
static void rewrite_config(struct rotarr_redisrot_plan *plan,
                           struct rotarr_redis *conn, int has_config_file)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    if (conn == NULL || !has_config_file) {
        return;
    }
    if (rotarr_redis_config_rewrite(conn, &err) < 0) {
        redis_plan_notice(plan, "CONFIG REWRITE failed (%s); the stack's "
                                "files hold the password anyway",
                          err.msg);
        return;
    }
    plan->config_rewritten = 1;
}

static int commit_and_finish(const struct rotarr_stack *stack,
                             struct rotarr_journal *journal,
                             struct rotarr_redisrot_plan *plan,
                             struct rotarr_error *err)
{
    const char *dir = rotarr_stack_dir(stack);

    if (redis_plan_write(stack, plan, err) < 0) {
        return rotarr_error_set(err, ROTARR_EPARTIAL,
                                "service '%s' has its new password, but "
                                "writing the files stopped: %s; fix that and "
                                "run 'rotarr resume'",
                                plan->service, err->msg);
    }
    ROTARR_FAILPOINT("commit");
    if (advance(journal, dir, ROTARR_STEP_COMMITTED, err) < 0 ||
        rotarr_state_record(dir, "redis", plan->service,
                            plan->var[0] != '\0' ? plan->var : "requirepass",
                            time(NULL), err) < 0 ||
        rotarr_journal_remove(dir, err) < 0) {
        return rotarr_error_prefix(err, "rotation committed; run 'rotarr "
                                        "resume' to finish");
    }
    return 0;
}

/* Runs the steps after planning, with the lock held. */
static int run_locked(const struct rotarr_stack *stack,
                      const struct rotarr_redisrot_request *req,
                      struct rotarr_redisrot_plan *plan,
                      struct live_server *live, struct rotarr_error *err)
{
    const char *dir = rotarr_stack_dir(stack);
    struct rotarr_journal *journal = NULL;
    int ret = -1;

    if (!req->offline &&
        (open_live(plan, live, err) < 0 ||
         choose_change(req, plan, live, err) < 0)) {
        return -1;
    }
    if (!has_changes(plan) && live->change == LIVE_NONE) {
        return 0;
    }
    journal = write_pending(dir, plan, live, rotarr_stack_encrypted(stack),
                            err);
    if (journal == NULL) {
        return -1;
    }
    ROTARR_FAILPOINT("pending");
    if (live->change != LIVE_NONE) {
        plan->live = 1;
        if (set_and_test(dir, journal, plan, live, err) < 0) {
            goto out;
        }
    }
    ROTARR_FAILPOINT("test");
    if (commit_and_finish(stack, journal, plan, err) < 0) {
        goto out;
    }
    if (live->change == LIVE_REQUIREPASS) {
        rewrite_config(plan, live->conn, live->has_config_file);
    }
    ret = 0;

out:
    rotarr_journal_free(journal);
    return ret;
}

int rotarr_redisrot_run(const struct rotarr_stack *stack,
                        const struct rotarr_redisrot_request *req,
                        struct rotarr_redisrot_plan *plan,
                        struct rotarr_error *err)
{
    struct live_server live;
    struct rotarr_lock *lock;
    int ret;

    memset(&live, 0, sizeof(live));
    if (plan->mode == ROTARR_REDIS_FINISH) {
        return rotarr_redisrot_finish(stack, req, plan, err);
    }
    if (rotarr_redisrot_unconfigured(plan) > 0) {
        return refuse_unconfigured(plan, err);
    }
    if ((plan->mode == ROTARR_REDIS_OVERLAP ||
         plan->mode == ROTARR_REDIS_REPLACE) &&
        rotarr_check_unshared(stack, plan->service, plan->current, err) < 0) {
        return -1;
    }
    if (req->dry_run) {
        return 0;
    }
    if (rotarr_stack_check_writable(stack, err) < 0) {
        return -1;
    }
    lock = rotarr_stack_lock_for_write(stack, &plan->notices, err);
    if (lock == NULL) {
        return -1;
    }
    ret = run_locked(stack, req, plan, &live, err);
    rotarr_redis_close(live.conn);
    rotarr_lock_release(lock);
    return ret;
}

int rotarr_redisrot_finish(const struct rotarr_stack *stack,
                           const struct rotarr_redisrot_request *req,
                           struct rotarr_redisrot_plan *plan,
                           struct rotarr_error *err)
{
    struct rotarr_redis_target t;
    struct live_server live;
    struct rotarr_lock *lock;
    int ret = -1;

    (void)req;
    memset(&live, 0, sizeof(live));
    lock = rotarr_stack_lock_for_write(stack, &plan->notices, err);
    if (lock == NULL) {
        return -1;
    }
    if (open_live(plan, &live, err) < 0 ||
        rotarr_redis_set_requirepass(live.conn, plan->next, err) < 0) {
        goto out;
    }
    plan->live = 1;
    plan_target(plan, &t);
    if (rotarr_redis_try_auth(&t, plan->next, err) != 1) {
        rotarr_error_set(err, ROTARR_EAUTH,
                         "service '%s' no longer accepts the files' password "
                         "after CONFIG SET; check it by hand",
                         plan->service);
        goto out;
    }
    rewrite_config(plan, live.conn, live.has_config_file);
    ret = 0;

out:
    rotarr_redis_close(live.conn);
    rotarr_lock_release(lock);
    return ret;
}

/* Reads what a journal of a Redis rotation records. */
static int plan_from_journal(const struct rotarr_journal *journal,
                             struct rotarr_redisrot_plan *plan,
                             enum rotarr_redis_mode *mode,
                             enum live_change *change,
                             struct rotarr_error *err)
{
    const char *value;
    size_t i;

    snprintf(plan->service, sizeof(plan->service), "%s",
             (value = rotarr_journal_get(journal, "service")) ? value : "");
    snprintf(plan->var, sizeof(plan->var), "%s",
             (value = rotarr_journal_get(journal, "var")) ? value : "");
    snprintf(plan->host, sizeof(plan->host), "%s",
             (value = rotarr_journal_get(journal, "host")) ? value : "");
    value = rotarr_journal_get(journal, "port");
    plan->port = value != NULL ? atoi(value) : 0;
    value = rotarr_journal_get(journal, "mode");
    *mode = ROTARR_REDIS_FINISH;
    for (i = ROTARR_REDIS_ENABLE; value != NULL && i <= ROTARR_REDIS_FINISH;
         i++) {
        if (strcmp(value, rotarr_redis_mode_name(i)) == 0) {
            *mode = i;
        }
    }
    value = rotarr_journal_get(journal, "live");
    *change = LIVE_NONE;
    for (i = 0; value != NULL && i < 3; i++) {
        if (strcmp(value, live_names[i]) == 0) {
            *change = i;
        }
    }
    if (plan->service[0] == '\0' || *mode == ROTARR_REDIS_FINISH ||
        rotarr_journal_secret(journal, "new") == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "the journal in '.rotarr/journal' lacks "
                                "fields a Redis rotation needs; keep it and "
                                "compare its passwords with the server by "
                                "hand");
    }
    return 0;
}

/* Brings the server to the new password when it does not have it yet. */
static int roll_forward(const char *dir, struct rotarr_journal *journal,
                        struct rotarr_redisrot_plan *plan,
                        enum live_change change, struct rotarr_error *err)
{
    struct rotarr_redis_target t;
    struct live_server live;
    int ret = -1;

    memset(&live, 0, sizeof(live));
    plan_target(plan, &t);
    if (rotarr_redis_try_auth(&t, plan->next, err) == 1) {
        return 0;
    }
    if (err->code == ROTARR_EUNREACHABLE) {
        return rotarr_error_prefix(err, "the journal is kept");
    }
    rotarr_error_clear(err);
    if (open_live(plan, &live, err) < 0) {
        goto out;
    }
    live.change = change;
    ret = set_and_test(dir, journal, plan, &live, err);
    if (ret == 0 && change == LIVE_REQUIREPASS) {
        rewrite_config(plan, live.conn, live.has_config_file);
    }

out:
    rotarr_redis_close(live.conn);
    return ret;
}

static int resume_commit(const struct rotarr_stack_options *opts,
                         struct rotarr_journal *journal,
                         struct rotarr_redisrot_plan *plan,
                         enum rotarr_redis_mode mode,
                         struct rotarr_error *err)
{
    struct rotarr_redisrot_request req;
    struct rotarr_secret *old = plan->current;
    struct rotarr_secret *next = plan->next;
    struct rotarr_stack *stack = rotarr_stack_load(opts, err);
    char service[ROTARR_NAME_MAX];
    char var[ROTARR_NAME_MAX];
    int ret = -1;

    /* The plan is filled again from the files, so the request must not
     * point into it. */
    snprintf(service, sizeof(service), "%s", plan->service);
    snprintf(var, sizeof(var), "%s", plan->var);
    memset(&req, 0, sizeof(req));
    req.service = service;
    req.var = var[0] != '\0' ? var : NULL;
    plan->current = NULL;
    plan->next = NULL;
    if (stack == NULL ||
        redis_replan(stack, &req, mode, old, next, plan, err) < 0) {
        goto out;
    }
    ret = commit_and_finish(stack, journal, plan, err);

out:
    rotarr_secret_free(old);
    rotarr_secret_free(next);
    rotarr_stack_free(stack);
    return ret;
}

int rotarr_redisrot_resume(const struct rotarr_stack_options *opts,
                           struct rotarr_redisrot_plan *plan,
                           struct rotarr_error *err)
{
    const char *dir = opts->dir != NULL ? opts->dir : ".";
    struct rotarr_journal *journal = NULL;
    enum rotarr_redis_mode mode;
    enum live_change change;
    struct rotarr_lock *lock;
    int ret;

    lock = rotarr_lock_acquire(dir, err);
    if (lock == NULL) {
        return -1;
    }
    ret = rotarr_journal_load(dir, opts->keys, &journal, err);
    if (ret <= 0 || strcmp(rotarr_journal_kind(journal), "redis") != 0) {
        ret = ret < 0 ? -1 : 0;
        goto out;
    }
    ret = -1;
    if (rotarr_sweep_stack_options(opts, &plan->notices, err) < 0 ||
        plan_from_journal(journal, plan, &mode, &change, err) < 0) {
        goto out;
    }
    plan->mode = mode;
    plan->next = rotarr_secret_new(
        rotarr_secret_data(rotarr_journal_secret(journal, "new")),
        rotarr_secret_len(rotarr_journal_secret(journal, "new")), err);
    if (rotarr_journal_secret(journal, "old") != NULL) {
        plan->current = rotarr_secret_new(
            rotarr_secret_data(rotarr_journal_secret(journal, "old")),
            rotarr_secret_len(rotarr_journal_secret(journal, "old")), err);
    }
    if (plan->next == NULL ||
        (change != LIVE_NONE &&
         roll_forward(dir, journal, plan, change, err) < 0) ||
        resume_commit(opts, journal, plan, mode, err) < 0) {
        goto out;
    }
    plan->live = change != LIVE_NONE;
    ret = 1;

out:
    rotarr_journal_free(journal);
    rotarr_lock_release(lock);
    return ret;
}
