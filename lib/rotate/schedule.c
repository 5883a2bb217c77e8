#include "rotarr/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rotarr/buf.h"
#include "rotarr/compose.h"
#include "rotarr/fileio.h"
#include "rotarr/journal.h"
#include "rotarr/pg.h"
#include "rotarr/redisrot.h"
#include "rotarr/schedule.h"
#include "rotarr/state.h"

#define SCHEDULE_LOCK_NAME "rotate.lock"

/* Room for a process id in decimal, a newline and a NUL. */
#define SCHEDULE_PID_TEXT_MAX 24

struct rotarr_schedule_lock {
    int fd;
};

time_t rotarr_schedule_now(void)
{
#ifdef ROTARR_FAILPOINTS
    const char *text = getenv("ROTARR_NOW");
    char *end;
    long long value;

    if (text != NULL && text[0] != '\0') {
        errno = 0;
        value = strtoll(text, &end, 10);
        if (errno == 0 && *end == '\0' && value > 0) {
            return (time_t)value;
        }
    }
#endif
    return time(NULL);
}

static long unit_seconds(const char *unit)
{
    static const struct {
        const char *name;
        long seconds;
    } units[] = {
        { "", 86400L }, { "s", 1L },       { "m", 60L },
        { "h", 3600L }, { "d", 86400L },   { "w", 7L * 86400L },
    };
    size_t i;

    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(unit, units[i].name) == 0) {
            return units[i].seconds;
        }
    }
    return 0;
}

int rotarr_parse_duration(const char *text, long *seconds,
                          struct rotarr_error *err)
{
    char *end;
    long value;
    long unit;

    errno = 0;
    value = text[0] >= '0' && text[0] <= '9' ? strtol(text, &end, 10) : -1;
    unit = value > 0 && errno == 0 ? unit_seconds(end) : 0;
    if (unit == 0 || value > ROTARR_SCHEDULE_MAX_AGE_LIMIT / unit) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "invalid duration '%s'; give a positive "
                                "number with s, m, h, d or w, such as '90d', "
                                "up to 36500 days",
                                text);
    }
    *seconds = value * unit;
    return 0;
}

const char *rotarr_managed_kind_name(enum rotarr_managed_kind kind)
{
    return kind == ROTARR_MANAGED_REDIS ? "redis" : "postgres";
}

static struct rotarr_managed *add_item(struct rotarr_schedule *schedule,
                                       enum rotarr_managed_kind kind,
                                       const char *service,
                                       struct rotarr_error *err)
{
    struct rotarr_managed *items;
    struct rotarr_managed *item;

    if (schedule->count >= ROTARR_SCHEDULE_SECRETS_MAX) {
        rotarr_error_set(err, ROTARR_EUSAGE,
                         "more than %d managed secrets in one stack; split "
                         "the stack",
                         ROTARR_SCHEDULE_SECRETS_MAX);
        return NULL;
    }
    items = realloc(schedule->items,
                    (schedule->count + 1) * sizeof(schedule->items[0]));
    if (items == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    schedule->items = items;
    item = &items[schedule->count++];
    memset(item, 0, sizeof(*item));
    item->kind = kind;
    snprintf(item->service, sizeof(item->service), "%s", service);
    return item;
}

/* Returns 1 when path exists and group or others may access it. */
static int open_to_others(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && (st.st_mode & 077) != 0;
}

static void plan_failed(struct rotarr_managed *item,
                        const struct rotarr_error *cause)
{
    item->warnings |= ROTARR_WARN_PLAN;
    item->plan_code = cause->code != ROTARR_OK ? cause->code : ROTARR_EFILE;
    snprintf(item->plan_error, sizeof(item->plan_error), "%s", cause->msg);
}

static int add_postgres(const struct rotarr_stack *stack, const char *service,
                        struct rotarr_schedule *schedule,
                        struct rotarr_error *err)
{
    struct rotarr_pgrot_request req;
    struct rotarr_pgrot_plan plan = ROTARR_PGROT_PLAN_INIT;
    struct rotarr_error cause = ROTARR_ERROR_INIT;
    struct rotarr_managed *item;
    const struct rotarr_stack_file *file;
    size_t i;

    /* NEEDSWORK: a scheduled run has no place to keep the --user, --var
     * or --host of 'rotarr postgres', so a service that needs them is
     * listed with ROTARR_WARN_PLAN and never rotated by 'rotate'. */
    memset(&req, 0, sizeof(req));
    req.service = service;
    item = add_item(schedule, ROTARR_MANAGED_POSTGRES, service, err);
    if (item == NULL) {
        return -1;
    }
    if (rotarr_pgrot_plan(stack, &req, &plan, &cause) < 0) {
        plan_failed(item, &cause);
        rotarr_pgrot_plan_release(&plan);
        return 0;
    }
    snprintf(item->var, sizeof(item->var), "%s", plan.var);
    snprintf(item->source, sizeof(item->source), "%s", plan.source);
    for (i = 0; i < plan.occurrences.count; i++) {
        if (plan.occurrences.items[i].kind == ROTARR_OCC_REFERENCE) {
            continue;
        }
        file = rotarr_stack_file(stack, plan.occurrences.items[i].file);
        if (file != NULL && open_to_others(file->path)) {
            item->warnings |= ROTARR_WARN_READABLE;
        }
    }
    rotarr_pgrot_plan_release(&plan);
    return 0;
}

/* An open Redis server has no password to rotate, so it is skipped. */
static int add_redis(const struct rotarr_stack *stack, const char *service,
                     struct rotarr_schedule *schedule,
                     struct rotarr_error *err)
{
    struct rotarr_redisrot_request req;
    struct rotarr_redisrot_plan plan = ROTARR_REDISROT_PLAN_INIT;
    struct rotarr_error cause = ROTARR_ERROR_INIT;
    struct rotarr_managed *item = NULL;
    size_t i;
    int ret = 0;

    memset(&req, 0, sizeof(req));
    req.service = service;
    req.overlap = 0;
    if (rotarr_redisrot_plan(stack, &req, &plan, &cause) == 0 &&
        plan.auth == ROTARR_REDIS_AUTH_NONE) {
        goto out;
    }
    item = add_item(schedule, ROTARR_MANAGED_REDIS, service, err);
    if (item == NULL) {
        ret = -1;
        goto out;
    }
    if (cause.code != ROTARR_OK) {
        plan_failed(item, &cause);
        goto out;
    }
    /* The same key the Redis rotation records in .rotarr/state. */
    snprintf(item->var, sizeof(item->var), "%s",
             plan.var[0] != '\0' ? plan.var : "requirepass");
    snprintf(item->source, sizeof(item->source), "%s", plan.source);
    for (i = 0; i < plan.file_count; i++) {
        if (plan.files[i].secret && !plan.files[i].create &&
            open_to_others(plan.files[i].path)) {
            item->warnings |= ROTARR_WARN_READABLE;
        }
    }

out:
    rotarr_redisrot_plan_release(&plan);
    return ret;
}

static int add_services(const struct rotarr_stack *stack, unsigned only,
                        struct rotarr_schedule *schedule,
                        struct rotarr_error *err)
{
    const struct rotarr_compose *compose = rotarr_stack_compose(stack);
    const struct rotarr_compose_service *svc;
    enum rotarr_service_kind kind;
    size_t i;
    int ret = 0;

    for (i = 0; ret == 0 && i < rotarr_compose_service_count(compose); i++) {
        svc = rotarr_compose_service(compose, i);
        kind = rotarr_stack_service_kind(stack, svc);
        if (kind == ROTARR_SERVICE_POSTGRES &&
            (only & ROTARR_SCHEDULE_ONLY_POSTGRES)) {
            ret = add_postgres(stack, svc->name, schedule, err);
        } else if (kind == ROTARR_SERVICE_REDIS &&
                   (only & ROTARR_SCHEDULE_ONLY_REDIS)) {
            ret = add_redis(stack, svc->name, schedule, err);
        }
    }
    return ret;
}

/* Returns 1 when the first field of the len bytes at line is word. */
static int field_is(const char *line, size_t len, const char *word)
{
    size_t n = strlen(word);

    return len > n && memcmp(line, word, n) == 0 && line[n] == ' ';
}

/*
 * Takes the record on line, "<kind> <service> <variable> <time>", when its
 * kind and service are item's and it is newer than the one taken so far.
 * Returns 1 when taken.
 */
static int take_service_record(const char *line, size_t len,
                               struct rotarr_managed *item)
{
    const char *kind = rotarr_managed_kind_name(item->kind);
    const char *var;
    const char *space;
    size_t skip;
    long long when;

    skip = strlen(kind) + 1;
    if (!field_is(line, len, kind) ||
        !field_is(line + skip, len - skip, item->service)) {
        return 0;
    }
    skip += strlen(item->service) + 1;
    var = line + skip;
    space = memchr(var, ' ', len - skip);
    if (space == NULL || space == var ||
        (size_t)(space - var) >= sizeof(item->var)) {
        return 0;
    }
    when = strtoll(space + 1, NULL, 10);
    if (item->var[0] != '\0' && (time_t)when <= item->rotated) {
        return 0;
    }
    snprintf(item->var, sizeof(item->var), "%.*s", (int)(space - var), var);
    item->rotated = (time_t)when;
    return 1;
}

/*
 * Finds the newest record of item's service whatever its variable, for
 * an item whose plan failed and so names no variable: a Redis service
 * that 'rotarr redis --offline' protected but that publishes no port.
 * Copies the recorded variable to item->var.  Returns 1 when found, 0
 * when not, -1 with err set when the state file cannot be read.
 */
static int lookup_by_service(const char *dir, struct rotarr_managed *item,
                             struct rotarr_error *err)
{
    struct rotarr_buf path = ROTARR_BUF_INIT;
    char *bytes = NULL;
    const char *line;
    const char *end;
    size_t len = 0;
    int found = 0;

    if (rotarr_buf_printf(&path, err, "%s/" ROTARR_STATE_DIR "/state",
                          dir) < 0) {
        return -1;
    }
    if (access(path.data, F_OK) != 0 && errno == ENOENT) {
        goto out;
    }
    if (rotarr_file_read(path.data, 0, &bytes, &len, err) < 0) {
        found = -1;
        goto out;
    }
    for (line = bytes; line < bytes + len; line = end + 1) {
        end = memchr(line, '\n', (size_t)(bytes + len - line));
        if (end == NULL) {
            end = bytes + len;
        }
        found |= take_service_record(line, (size_t)(end - line), item);
    }

out:
    free(bytes);
    rotarr_buf_release(&path);
    return found;
}

static int set_due(const char *dir, struct rotarr_schedule *schedule,
                   struct rotarr_managed *item, struct rotarr_error *err)
{
    int found;

    if (item->var[0] != '\0') {
        found = rotarr_state_lookup(dir, rotarr_managed_kind_name(item->kind),
                                    item->service, item->var, &item->rotated,
                                    err);
    } else {
        found = lookup_by_service(dir, item, err);
    }
    if (found < 0) {
        return -1;
    }
    item->recorded = found;
    item->due = found ? item->rotated + schedule->max_age : schedule->now;
    item->is_due = !found || schedule->now >= item->due;
    return 0;
}

static void note_journal(const struct rotarr_stack *stack,
                         struct rotarr_schedule *schedule)
{
    struct rotarr_journal *journal = NULL;
    int found = rotarr_journal_load(rotarr_stack_dir(stack),
                                    rotarr_stack_keys(stack), &journal, NULL);

    /* A journal that cannot be read is still pending work. */
    schedule->journal_pending = found != 0;
    if (found == 1) {
        snprintf(schedule->journal_kind, sizeof(schedule->journal_kind), "%s",
                 rotarr_journal_kind(journal));
    }
    rotarr_journal_free(journal);
}

int rotarr_schedule_load(const struct rotarr_stack *stack, unsigned only,
                         long max_age, struct rotarr_schedule *schedule,
                         struct rotarr_error *err)
{
    const char *dir = rotarr_stack_dir(stack);
    size_t i;

    schedule->now = rotarr_schedule_now();
    schedule->max_age = max_age;
    if (add_services(stack, only, schedule, err) < 0) {
        return -1;
    }
    for (i = 0; i < schedule->count; i++) {
        if (set_due(dir, schedule, &schedule->items[i], err) < 0) {
            return -1;
        }
    }
    note_journal(stack, schedule);
    return 0;
}

void rotarr_schedule_probe(const struct rotarr_stack *stack,
                           struct rotarr_managed *item)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_pgrot_request req;
    struct rotarr_pgrot_plan plan = ROTARR_PGROT_PLAN_INIT;
    struct rotarr_pg_target target;
    struct rotarr_pg *pg = NULL;

    if (item->kind != ROTARR_MANAGED_POSTGRES ||
        (item->warnings & ROTARR_WARN_PLAN)) {
        return;
    }
    memset(&req, 0, sizeof(req));
    req.service = item->service;
    memset(&target, 0, sizeof(target));
    if (rotarr_pgrot_plan(stack, &req, &plan, &err) < 0) {
        goto out;
    }
    target.host = plan.host;
    target.port = plan.port;
    target.dbname = plan.dbname[0] != '\0' ? plan.dbname : NULL;
    target.user = plan.role;
    target.sslmode = plan.sslmode[0] != '\0' ? plan.sslmode : NULL;
    pg = rotarr_pg_connect(&target, plan.current, &err);
    if (pg != NULL &&
        rotarr_pg_password_kind(pg, plan.role, NULL) ==
            ROTARR_PG_PASSWORD_MD5) {
        item->warnings |= ROTARR_WARN_MD5;
    }

out:
    if (err.code != ROTARR_OK) {
        item->warnings |= ROTARR_WARN_LOGIN;
        snprintf(item->login_error, sizeof(item->login_error), "%s",
                 err.msg);
    }
    rotarr_pg_close(pg);
    rotarr_pgrot_plan_release(&plan);
}

void rotarr_schedule_release(struct rotarr_schedule *schedule)
{
    if (schedule == NULL) {
        return;
    }
    free(schedule->items);
    schedule->items = NULL;
    schedule->count = 0;
}

static int lock_busy(int fd, const char *stackdir, struct rotarr_error *err)
{
    char pid[SCHEDULE_PID_TEXT_MAX];
    ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
    size_t len = 0;

    while (n > 0 && len < (size_t)n && pid[len] >= '0' && pid[len] <= '9') {
        len++;
    }
    pid[len] = '\0';
    return rotarr_error_set(err, ROTARR_EFILE,
                            "another 'rotarr rotate' is running in '%s' "
                            "(lock '" ROTARR_STATE_DIR "/" SCHEDULE_LOCK_NAME
                            "' held by %s%s); this run does nothing, the "
                            "next one will catch up",
                            stackdir, pid[0] != '\0' ? "pid " : "another "
                            "process", pid);
}

/* The pid only serves the message of a second run, so a failure to
 * write it (a full disk) does not stop the rotation. */
static void lock_write_pid(int fd)
{
    char text[SCHEDULE_PID_TEXT_MAX];
    int n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());

    if (n > 0 && (size_t)n < sizeof(text) && ftruncate(fd, 0) == 0) {
        (void)!pwrite(fd, text, (size_t)n, 0);
    }
}

struct rotarr_schedule_lock *
rotarr_schedule_lock_acquire(const char *stackdir, struct rotarr_error *err)
{
    struct rotarr_schedule_lock *lock = NULL;
    int dir = rotarr_state_dir_open(stackdir, 1, err);
    int fd = -1;

    if (dir < 0) {
        return NULL;
    }
    fd = openat(dir, SCHEDULE_LOCK_NAME,
                O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        rotarr_error_set(err, ROTARR_EFILE,
                         "cannot open '%s/" ROTARR_STATE_DIR "/"
                         SCHEDULE_LOCK_NAME "': %s",
                         stackdir, strerror(errno));
        goto out;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            lock_busy(fd, stackdir, err);
        } else {
            rotarr_error_set(err, ROTARR_EFILE,
                             "cannot lock '%s/" ROTARR_STATE_DIR "/"
                             SCHEDULE_LOCK_NAME "': %s",
                             stackdir, strerror(errno));
        }
        goto out;
    }
    lock_write_pid(fd);
    lock = malloc(sizeof(*lock));
    if (lock == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        goto out;
    }
    lock->fd = fd;
    fd = -1;

out:
    if (fd >= 0) {
        close(fd);
    }
    close(dir);
    return lock;
}

void rotarr_schedule_lock_release(struct rotarr_schedule_lock *lock)
{
    if (lock == NULL) {
        return;
    }
    /* A pid left behind would name the wrong process to the next
     * holder's competitor. */
    (void)!ftruncate(lock->fd, 0);
    close(lock->fd);
    free(lock);
}
