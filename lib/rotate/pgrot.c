#include "rotarr/compat.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rotarr/failpoint.h"
#include "rotarr/gen.h"
#include "rotarr/journal.h"
#include "rotarr/pg.h"
#include "rotarr/pgrot.h"
#include "rotarr/shared.h"
#include "rotarr/state.h"
#include "rotarr/sweep.h"

/* Length of a generated password: 32 of [A-Za-z0-9], about 190 bits. */
#define GENERATED_LENGTH 32

/* Records the time since the last mark as the duration of step. */
static void step_done(struct rotarr_pgrot_plan *plan, int step)
{
    struct timespec now;
    double ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;
    if (step != ROTARR_PGROT_TIME_START) {
        plan->step_ms[step] = ms - plan->mark_ms;
    }
    plan->mark_ms = ms;
}

static void plan_target(const struct rotarr_pgrot_plan *plan,
                        struct rotarr_pg_target *target)
{
    memset(target, 0, sizeof(*target));
    target->host = plan->host;
    target->port = plan->port;
    target->dbname = plan->dbname;
    target->user = plan->role;
    target->sslmode = plan->sslmode[0] != '\0' ? plan->sslmode : NULL;
    target->connect_timeout = ROTARR_PG_CONNECT_TIMEOUT;
}

/*
 * Explains a refused current password: the postgres image reads
 * POSTGRES_PASSWORD only when it creates an empty data directory, so an
 * env file edited later no longer matches the server.
 */
static int explain_refused(const struct rotarr_pgrot_plan *plan,
                           struct rotarr_error *err)
{
    return rotarr_error_set(
        err, ROTARR_EAUTH,
        "%s:%d refused the password that '%s' (%s) holds for role '%s': the "
        "role does not exist, or its live password differs from the file.  "
        "The postgres image applies "
        "%s only when it creates an empty data directory, so a value edited "
        "after the first start never reached the server (a role restored "
        "with an old md5 hash is refused the same way).  Either set the "
        "server to the file's value with 'rotarr postgres --adopt "
        "--admin-user <superuser> --admin-password-stdin', or put the old "
        "password back in the file; nothing was changed",
        plan->host, plan->port, plan->var, plan->source, plan->role,
        plan->var);
}

static struct rotarr_pg *connect_current(const struct rotarr_pgrot_plan *plan,
                                         struct rotarr_error *err)
{
    struct rotarr_pg_target target;
    struct rotarr_pg *pg;

    plan_target(plan, &target);
    pg = rotarr_pg_connect(&target, plan->current, err);
    if (pg == NULL && err != NULL && err->code == ROTARR_EAUTH) {
        explain_refused(plan, err);
    }
    return pg;
}

/* Lists every service whose environment or env_file contains the secret. */
static int collect_restart(const struct rotarr_stack *stack,
                           struct rotarr_pgrot_plan *plan,
                           struct rotarr_error *err)
{
    const struct rotarr_compose *compose = rotarr_stack_compose(stack);
    const struct rotarr_compose_service *svc;
    size_t i;
    int uses;
    char **grown;

    for (i = 0; i < rotarr_compose_service_count(compose); i++) {
        svc = rotarr_compose_service(compose, i);
        uses = rotarr_stack_service_uses(stack, svc, &plan->occurrences);
        if (!uses) {
            continue;
        }
        grown = realloc(plan->restart,
                        (plan->restart_count + 1) * sizeof(*grown));
        if (grown == NULL) {
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
        plan->restart = grown;
        plan->restart[plan->restart_count] = strdup(svc->name);
        if (plan->restart[plan->restart_count] == NULL) {
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
        plan->restart_count++;
    }
    return 0;
}

static int choose_next(const struct rotarr_pgrot_request *req,
                       struct rotarr_pgrot_plan *plan,
                       struct rotarr_error *err)
{
    if (req->chosen != NULL) {
        plan->next = rotarr_secret_new(rotarr_secret_data(req->chosen),
                                       rotarr_secret_len(req->chosen), err);
    } else {
        plan->next = rotarr_gen_password(ROTARR_CHARSET_ALNUM,
                                         GENERATED_LENGTH, NULL, err);
    }
    if (plan->next == NULL) {
        return -1;
    }
    if (rotarr_secret_equal(plan->next, plan->current)) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "the new password is the same as the "
                                "current one; choose another");
    }
    return 0;
}

static struct rotarr_journal *
write_pending(const char *dir, const struct rotarr_pgrot_plan *plan,
              int encrypted, struct rotarr_error *err)
{
    struct rotarr_journal *journal;
    char port[16];

    journal = rotarr_journal_new("postgres", err);
    if (journal == NULL) {
        return NULL;
    }
    snprintf(port, sizeof(port), "%d", plan->port);
    if (rotarr_journal_set(journal, "service", plan->service, err) < 0 ||
        rotarr_journal_set(journal, "role", plan->role, err) < 0 ||
        rotarr_journal_set(journal, "var", plan->var, err) < 0 ||
        rotarr_journal_set(journal, "source", plan->source, err) < 0 ||
        rotarr_journal_set(journal, "host", plan->host, err) < 0 ||
        rotarr_journal_set(journal, "port", port, err) < 0 ||
        rotarr_journal_set(journal, "dbname", plan->dbname, err) < 0 ||
        rotarr_journal_set(journal, "sslmode", plan->sslmode, err) < 0 ||
        rotarr_journal_set_secret(journal, "old", plan->current, err) < 0 ||
        rotarr_journal_set_secret(journal, "new", plan->next, err) < 0) {
        goto fail;
    }
    rotarr_journal_set_step(journal, ROTARR_STEP_PENDING);
    rotarr_journal_set_encrypted(journal, encrypted);
    if (rotarr_journal_save(journal, dir, err) < 0) {
        goto fail;
    }
    return journal;

fail:
    rotarr_journal_free(journal);
    return NULL;
}

static int advance(struct rotarr_journal *journal, const char *dir,
                   enum rotarr_step step, struct rotarr_error *err)
{
    rotarr_journal_set_step(journal, step);
    return rotarr_journal_save(journal, dir, err);
}

/*
 * The test step: a new TCP login with the new password.  When it fails,
 * the old password is put back through the connection that set the new
 * one, so the server ends on the password the files still hold.
 */
static int test_new(struct rotarr_pg *pg, const struct rotarr_pgrot_plan *plan,
                    struct rotarr_error *err)
{
    struct rotarr_error restore_err = ROTARR_ERROR_INIT;
    struct rotarr_pg_target target;
    int ok;

    plan_target(plan, &target);
    ok = rotarr_pg_try_login(&target, plan->next, err);
    ROTARR_FAILPOINT_ERROR("test", ok, 0);
    if (ok == 1) {
        return 0;
    }
    if (rotarr_pg_set_password(pg, plan->role, plan->current, &restore_err) <
        0) {
        return rotarr_error_set(err, ROTARR_EPARTIAL,
                                "the new password of role '%s' did not log "
                                "in, and putting the old one back failed "
                                "(%s); run 'rotarr resume'",
                                plan->role, restore_err.msg);
    }
    return rotarr_error_set(err, ROTARR_EAUTH,
                            "the new password of role '%s' did not log in "
                            "over TCP at %s:%d, so the old password was put "
                            "back and no file was changed; check "
                            "pg_hba.conf for a 'host' rule that accepts "
                            "scram-sha-256",
                            plan->role, plan->host, plan->port);
}

static void notice_mode(void *ctx, const char *msg)
{
    struct rotarr_pgrot_plan *plan = ctx;

    /* Losing a notice to a failed allocation loses no data. */
    (void)rotarr_buf_printf(&plan->notices, NULL, "%s\n", msg);
}

/* The commit and finish steps, shared with resume. */
static int commit_and_finish(const struct rotarr_stack *stack,
                             struct rotarr_journal *journal,
                             struct rotarr_pgrot_plan *plan,
                             struct rotarr_error *err)
{
    const char *dir = rotarr_stack_dir(stack);
    char cause[ROTARR_ERROR_MSG_MAX];

    if (rotarr_stack_write_edits(stack, &plan->edits, notice_mode, plan,
                                 err) < 0) {
        snprintf(cause, sizeof(cause), "%s", err->msg);
        return rotarr_error_set(err, ROTARR_EPARTIAL,
                                "role '%s' now has its new password, but "
                                "writing the files stopped: %s; fix that "
                                "and run 'rotarr resume'",
                                plan->role, cause);
    }
    step_done(plan, ROTARR_PGROT_TIME_COMMIT);
    ROTARR_FAILPOINT("commit");
    if (advance(journal, dir, ROTARR_STEP_COMMITTED, err) < 0) {
        return rotarr_error_prefix(err, "rotation committed; run 'rotarr "
                                        "resume' to finish");
    }
    if (rotarr_state_record(dir, "postgres", plan->service, plan->var,
                            time(NULL), err) < 0 ||
        rotarr_journal_remove(dir, err) < 0) {
        return rotarr_error_prefix(err, "rotation committed; run 'rotarr "
                                        "resume' to finish");
    }
    step_done(plan, ROTARR_PGROT_TIME_FINISH);
    return collect_restart(stack, plan, err);
}

static int set_and_test(struct rotarr_pg *pg, const char *dir,
                        struct rotarr_journal *journal,
                        struct rotarr_pgrot_plan *plan,
                        struct rotarr_error *err)
{
    if (rotarr_pg_set_password(pg, plan->role, plan->next, err) < 0) {
        /* The server still has the old password; a journal left behind
         * would only make resume retry a rotation nobody asked for. */
        if (rotarr_journal_remove(dir, NULL) < 0) {
            return rotarr_error_prefix(err, "remove '.rotarr/journal'");
        }
        return -1;
    }
    if (advance(journal, dir, ROTARR_STEP_SET, err) < 0) {
        return rotarr_error_prefix(err, "role '%s' has its new password; run "
                                        "'rotarr resume'",
                                   plan->role);
    }
    step_done(plan, ROTARR_PGROT_TIME_SET);
    ROTARR_FAILPOINT("set");
    if (test_new(pg, plan, err) < 0) {
        if (err->code != ROTARR_EPARTIAL &&
            rotarr_journal_remove(dir, NULL) < 0) {
            return rotarr_error_prefix(err, "remove '.rotarr/journal'");
        }
        return -1;
    }
    if (advance(journal, dir, ROTARR_STEP_TESTED, err) < 0) {
        return -1;
    }
    step_done(plan, ROTARR_PGROT_TIME_TEST);
    return 0;
}

static int note_md5(struct rotarr_pg *pg, struct rotarr_pgrot_plan *plan)
{
    int kind = rotarr_pg_password_kind(pg, plan->role, NULL);

    plan->had_md5 = kind == ROTARR_PG_PASSWORD_MD5;
    return 0;
}

int rotarr_pgrot_run(const struct rotarr_stack *stack,
                     const struct rotarr_pgrot_request *req,
                     struct rotarr_pgrot_plan *plan,
                     struct rotarr_error *err)
{
    const char *dir = rotarr_stack_dir(stack);
    struct rotarr_journal *journal = NULL;
    struct rotarr_lock *lock = NULL;
    struct rotarr_pg *pg = NULL;
    int ret = -1;

    if (rotarr_check_unshared(stack, plan->service, plan->current, err) < 0 ||
        choose_next(req, plan, err) < 0 ||
        rotarr_stack_plan_edits(stack, &plan->occurrences, plan->next,
                                &plan->edits, err) < 0) {
        goto out;
    }
    if (req->dry_run) {
        ret = collect_restart(stack, plan, err);
        goto out;
    }
    if (rotarr_stack_check_writable(stack, err) < 0) {
        goto out;
    }
    lock = rotarr_stack_lock_for_write(stack, &plan->notices, err);
    if (lock == NULL) {
        goto out;
    }
    step_done(plan, ROTARR_PGROT_TIME_START);
    pg = connect_current(plan, err);
    if (pg == NULL || note_md5(pg, plan) < 0) {
        goto out;
    }
    step_done(plan, ROTARR_PGROT_TIME_CONNECT);
    journal = write_pending(dir, plan, rotarr_stack_encrypted(stack), err);
    if (journal == NULL) {
        goto out;
    }
    step_done(plan, ROTARR_PGROT_TIME_PENDING);
    ROTARR_FAILPOINT("pending");
    if (set_and_test(pg, dir, journal, plan, err) < 0) {
        goto out;
    }
    ROTARR_FAILPOINT("test");
    ret = commit_and_finish(stack, journal, plan, err);

out:
    rotarr_pg_close(pg);
    rotarr_journal_free(journal);
    rotarr_lock_release(lock);
    return ret;
}

int rotarr_pgrot_adopt(const struct rotarr_stack *stack,
                       const struct rotarr_pgrot_request *req,
                       struct rotarr_pgrot_plan *plan,
                       struct rotarr_error *err)
{
    struct rotarr_pg_target target;
    struct rotarr_lock *lock;
    struct rotarr_pg *pg = NULL;
    int ret = -1;

    /* POSTGRES_PASSWORD is the password of the role the files name, so
     * adopting it for another role, such as the admin's own, would give
     * that role a password no file records for it. */
    if (req->user != NULL && req->var == NULL &&
        strcmp(plan->role, plan->file_role) != 0) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "'%s' is the password of role '%s', not of "
                                "'%s'; run '--adopt' without '--user', or "
                                "name the variable that holds the password "
                                "of '%s' with '--var'; nothing was changed",
                                plan->var, plan->file_role, plan->role,
                                plan->role);
    }
    if (req->dry_run) {
        return 0;
    }
    lock = rotarr_stack_lock_for_write(stack, &plan->notices, err);
    if (lock == NULL) {
        return -1;
    }
    plan_target(plan, &target);
    target.user = req->admin_user;
    pg = rotarr_pg_connect(&target, req->admin_password, err);
    if (pg == NULL) {
        goto out;
    }
    note_md5(pg, plan);
    if (rotarr_pg_set_password(pg, plan->role, plan->current, err) < 0) {
        goto out;
    }
    plan_target(plan, &target);
    if (rotarr_pg_try_login(&target, plan->current, err) != 1) {
        if (err->code == ROTARR_OK) {
            rotarr_error_set(err, ROTARR_EAUTH,
                             "role '%s' was set to the file's password but "
                             "a TCP login with it still fails; check "
                             "pg_hba.conf",
                             plan->role);
        }
        goto out;
    }
    ret = 0;

out:
    rotarr_pg_close(pg);
    rotarr_lock_release(lock);
    return ret;
}

static int plan_from_journal(const struct rotarr_journal *journal,
                             struct rotarr_pgrot_plan *plan,
                             struct rotarr_error *err)
{
    static const struct {
        const char *key;
        size_t offset;
    } fields[] = {
        { "service", offsetof(struct rotarr_pgrot_plan, service) },
        { "role", offsetof(struct rotarr_pgrot_plan, role) },
        { "var", offsetof(struct rotarr_pgrot_plan, var) },
        { "source", offsetof(struct rotarr_pgrot_plan, source) },
        { "host", offsetof(struct rotarr_pgrot_plan, host) },
        { "dbname", offsetof(struct rotarr_pgrot_plan, dbname) },
    };
    const struct rotarr_secret *old = rotarr_journal_secret(journal, "old");
    const struct rotarr_secret *next = rotarr_journal_secret(journal, "new");
    const char *value;
    size_t i;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        value = rotarr_journal_get(journal, fields[i].key);
        snprintf((char *)plan + fields[i].offset, ROTARR_NAME_MAX, "%s",
                 value != NULL ? value : "");
    }
    value = rotarr_journal_get(journal, "sslmode");
    snprintf(plan->sslmode, sizeof(plan->sslmode), "%s",
             value != NULL ? value : "");
    value = rotarr_journal_get(journal, "port");
    plan->port = value != NULL ? atoi(value) : 0;
    if (old == NULL || next == NULL || plan->port <= 0 ||
        plan->role[0] == '\0') {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "the journal in '.rotarr/journal' lacks "
                                "fields a Postgres rotation needs; keep it "
                                "and compare its passwords with the server "
                                "by hand");
    }
    plan->current = rotarr_secret_new(rotarr_secret_data(old),
                                      rotarr_secret_len(old), err);
    plan->next = rotarr_secret_new(rotarr_secret_data(next),
                                   rotarr_secret_len(next), err);
    return plan->current != NULL && plan->next != NULL ? 0 : -1;
}

/*
 * Brings the server to the new password when it is still on the old one:
 * set, then test, as a first run does.
 */
static int roll_forward(const char *dir, struct rotarr_journal *journal,
                        struct rotarr_pgrot_plan *plan,
                        struct rotarr_error *err)
{
    struct rotarr_pg *pg = connect_current(plan, err);
    int ret;

    if (pg == NULL) {
        return -1;
    }
    ret = set_and_test(pg, dir, journal, plan, err);
    rotarr_pg_close(pg);
    return ret;
}

/* Returns which password the server accepts: 1 the new, 0 the old, -1
 * neither (err set). */
static int server_side(struct rotarr_pgrot_plan *plan,
                       struct rotarr_error *err)
{
    struct rotarr_pg_target target;
    int ok;

    plan_target(plan, &target);
    ok = rotarr_pg_try_login(&target, plan->next, err);
    if (ok != 0) {
        return ok;
    }
    ok = rotarr_pg_try_login(&target, plan->current, err);
    if (ok == 1) {
        return 0;
    }
    if (ok == 0) {
        rotarr_error_set(err, ROTARR_EAUTH,
                         "neither the new nor the old password in "
                         "'.rotarr/journal' logs in as role '%s' at %s:%d; "
                         "the journal is kept: compare its passwords with "
                         "the server by hand",
                         plan->role, plan->host, plan->port);
    }
    return -1;
}

static int resume_commit(const struct rotarr_stack_options *opts,
                         struct rotarr_journal *journal,
                         struct rotarr_pgrot_plan *plan,
                         struct rotarr_error *err)
{
    struct rotarr_stack *stack = rotarr_stack_load(opts, err);
    int ret = -1;

    if (stack == NULL) {
        return rotarr_error_prefix(err, "role '%s' has its new password; "
                                        "fix this and run 'rotarr resume' "
                                        "again",
                                   plan->role);
    }
    if (rotarr_stack_find_occurrences(stack, plan->current,
                                      &plan->occurrences, err) < 0 ||
        rotarr_stack_plan_edits(stack, &plan->occurrences, plan->next,
                                &plan->edits, err) < 0) {
        goto out;
    }
    ret = commit_and_finish(stack, journal, plan, err);

out:
    rotarr_stack_free(stack);
    return ret;
}

int rotarr_pgrot_resume(const struct rotarr_stack_options *opts,
                        struct rotarr_pgrot_plan *plan,
                        struct rotarr_error *err)
{
    const char *dir = opts->dir != NULL ? opts->dir : ".";
    struct rotarr_journal *journal = NULL;
    struct rotarr_lock *lock;
    int side;
    int ret = -1;

    lock = rotarr_lock_acquire(dir, err);
    if (lock == NULL) {
        return -1;
    }
    ret = rotarr_sweep_stack_options(opts, &plan->notices, err);
    if (ret == 0) {
        ret = rotarr_journal_load(dir, opts->keys, &journal, err);
    }
    if (ret <= 0) {
        goto out;
    }
    ret = -1;
    if (plan_from_journal(journal, plan, err) < 0) {
        goto out;
    }
    step_done(plan, ROTARR_PGROT_TIME_START);
    side = server_side(plan, err);
    if (side < 0 || (side == 0 && roll_forward(dir, journal, plan, err) < 0) ||
        resume_commit(opts, journal, plan, err) < 0) {
        goto out;
    }
    ret = 1;

out:
    rotarr_journal_free(journal);
    rotarr_lock_release(lock);
    return ret;
}
