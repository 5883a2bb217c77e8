#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rotarr/pgrot.h"

#define POSTGRES_CONTAINER_PORT 5432

static int copy_name(char *dst, const char *src, struct rotarr_error *err)
{
    int n = snprintf(dst, ROTARR_NAME_MAX, "%s", src);

    if (n < 0 || n >= ROTARR_NAME_MAX) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "name '%.40s...' is too long", src);
    }
    return 0;
}

/*
 * Rejects a password whose text in the env file differs from what Compose
 * reads because Compose expands '$' there: the server was given what
 * Compose read, and a rewrite would keep the surprise.  The message gives
 * the lengths, never the text.
 */
static int check_dollar(const struct rotarr_stack_file *file,
                        const struct rotarr_dotenv_entry *entry,
                        struct rotarr_error *err)
{
    size_t written = entry->value_end - entry->value_start;

    if (!entry->dollar_changed) {
        return 0;
    }
    if (entry->quote != ROTARR_QUOTE_NONE && written >= 2) {
        written -= 2;
    }
    return rotarr_error_set(
        err, ROTARR_EFILE,
        "%s:%zu: Compose expands the '$' in the value of '%s', so it reads "
        "%zu characters there, not the %zu written; put the value in single "
        "quotes or write each '$' as '$$' to keep it literal, then check "
        "which of the two the server has; nothing was changed",
        file->display, entry->line, entry->key, entry->value_len, written);
}

/* Records "file:line" of the env entry that defines a variable. */
static int note_source(const struct rotarr_stack *stack,
                       const struct rotarr_var_origin *origin,
                       struct rotarr_pgrot_plan *plan,
                       struct rotarr_error *err)
{
    const struct rotarr_stack_file *file;
    const struct rotarr_dotenv_entry *entry;

    file = rotarr_stack_file(stack, origin->file);
    if (file == NULL || file->env == NULL || origin->env_key[0] == '\0') {
        snprintf(plan->source, sizeof(plan->source), "services.%.200s",
                 plan->service);
        return 0;
    }
    entry = rotarr_dotenv_find(file->env, origin->env_key);
    if (entry == NULL) {
        snprintf(plan->source, sizeof(plan->source), "%s", file->display);
        return 0;
    }
    snprintf(plan->source, sizeof(plan->source), "%s:%zu", file->display,
             entry->line);
    return check_dollar(file, entry, err);
}

static int service_value(const struct rotarr_stack *stack,
                         const struct rotarr_compose_service *svc,
                         const char *key, char *out, size_t size,
                         struct rotarr_error *err)
{
    struct rotarr_buf value = ROTARR_BUF_INIT;
    struct rotarr_var_origin origin;
    int found;

    found = rotarr_stack_service_var(stack, svc, key, &value, &origin, err);
    if (found == 1) {
        snprintf(out, size, "%s", value.data != NULL ? value.data : "");
        found = out[0] != '\0';
    }
    rotarr_buf_release(&value);
    return found;
}

/* Reads the password from the file that *_PASSWORD_FILE names. */
static int password_from_file(const struct rotarr_stack *stack,
                              const char *target,
                              struct rotarr_pgrot_plan *plan,
                              struct rotarr_error *err)
{
    const struct rotarr_stack_file *file;
    const char *name;
    size_t len;
    size_t i;

    name = strncmp(target, "/run/secrets/", 13) == 0 ? target + 13 : NULL;
    for (i = 0; name != NULL && i < rotarr_stack_file_count(stack); i++) {
        file = rotarr_stack_file(stack, i);
        if (file->kind != ROTARR_STACK_FILE_SECRET ||
            strcmp(file->path, rotarr_compose_secret_file(
                                   rotarr_stack_compose(stack), name)) != 0) {
            continue;
        }
        len = file->len;
        while (len > 0 &&
               (file->bytes[len - 1] == '\n' || file->bytes[len - 1] == '\r')) {
            len--;
        }
        plan->current = rotarr_secret_new(file->bytes, len, err);
        snprintf(plan->source, sizeof(plan->source), "%s", file->display);
        return plan->current != NULL ? 0 : -1;
    }
    return rotarr_error_set(err, ROTARR_EUSAGE,
                            "service '%s' reads its password from '%s', "
                            "which is not a compose secret with a 'file:' "
                            "source in this stack; give the variable that "
                            "holds the password with '--var'",
                            plan->service, target);
}

static int find_password(const struct rotarr_stack *stack,
                         const struct rotarr_compose_service *svc,
                         const struct rotarr_pgrot_request *req,
                         struct rotarr_pgrot_plan *plan,
                         struct rotarr_error *err)
{
    struct rotarr_buf value = ROTARR_BUF_INIT;
    struct rotarr_var_origin origin;
    const char *var = req->var != NULL ? req->var : "POSTGRES_PASSWORD";
    const char *project;
    int found;
    int ret = -1;

    if (copy_name(plan->var, var, err) < 0) {
        return -1;
    }
    if (req->current != NULL) {
        snprintf(plan->source, sizeof(plan->source), "%s",
                 req->current_source != NULL ? req->current_source : "");
        plan->current = rotarr_secret_new(rotarr_secret_data(req->current),
                                          rotarr_secret_len(req->current),
                                          err);
        return plan->current != NULL ? 0 : -1;
    }
    found = rotarr_stack_service_var(stack, svc, var, &value, &origin, err);
    if (found < 0) {
        goto out;
    }
    if (found == 1 && value.len > 0) {
        if (note_source(stack, &origin, plan, err) < 0) {
            goto out;
        }
        plan->current = rotarr_secret_new(value.data, value.len, err);
        ret = plan->current != NULL ? 0 : -1;
        goto out;
    }
    project = req->var != NULL ? rotarr_stack_lookup(stack, var) : NULL;
    if (project != NULL && project[0] != '\0') {
        snprintf(plan->source, sizeof(plan->source), "%s",
                 rotarr_stack_env_file(stack) != NULL
                     ? rotarr_stack_env_file(stack)->display
                     : "the shell environment");
        plan->current = rotarr_secret_new(project, strlen(project), err);
        ret = plan->current != NULL ? 0 : -1;
        goto out;
    }
    rotarr_buf_reset(&value);
    if (req->var == NULL &&
        rotarr_stack_service_var(stack, svc, "POSTGRES_PASSWORD_FILE", &value,
                                 &origin, err) == 1) {
        snprintf(plan->var, sizeof(plan->var), "POSTGRES_PASSWORD_FILE");
        ret = password_from_file(stack, value.data, plan, err);
        goto out;
    }
    if (rotarr_stack_env_file(stack) == NULL) {
        /* A copy made with a shell glob leaves out .env, a dotfile. */
        rotarr_error_set(err, ROTARR_EUSAGE,
                         "service '%s' has no value for '%s', and there is "
                         "no env file: '%s/.env' does not exist; copy it "
                         "too, or name one with '--env-file'",
                         plan->service, var, rotarr_stack_dir(stack));
    } else {
        rotarr_error_set(err, ROTARR_EUSAGE,
                         "service '%s' has no value for '%s'; name the "
                         "variable that holds the password with '--var'",
                         plan->service, var);
    }

out:
    if (value.data != NULL) {
        sodium_memzero(value.data, value.len);
    }
    rotarr_buf_release(&value);
    return ret;
}

static int find_endpoint(const struct rotarr_stack *stack,
                         const struct rotarr_compose_service *svc,
                         const struct rotarr_pgrot_request *req,
                         struct rotarr_pgrot_plan *plan,
                         struct rotarr_error *err)
{
    char host[ROTARR_NAME_MAX] = "";
    int port = 0;

    if (req->port == 0 || req->host == NULL) {
        port = rotarr_compose_published_port(
            rotarr_stack_compose(stack), svc, POSTGRES_CONTAINER_PORT,
            rotarr_stack_project_lookup, (void *)stack, host, sizeof(host));
    }
    if (req->port != 0) {
        port = req->port;
    }
    if (port <= 0 && req->dry_run) {
        /* A dry run never connects, so it can plan without an address. */
        plan->port = 0;
        return copy_name(plan->host, "(no published port)", err);
    }
    if (port <= 0) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "service '%s' publishes no port for 5432, so "
                                "rotarr cannot reach it from this host; give "
                                "'--host' and '--port'",
                                plan->service);
    }
    if (req->host != NULL) {
        snprintf(host, sizeof(host), "%s", req->host);
    } else if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 ||
               strcmp(host, "::") == 0 || strcmp(host, "[::]") == 0) {
        snprintf(host, sizeof(host), "127.0.0.1");
    }
    plan->port = port;
    return copy_name(plan->host, host, err);
}

int rotarr_pgrot_plan(const struct rotarr_stack *stack,
                      const struct rotarr_pgrot_request *req,
                      struct rotarr_pgrot_plan *plan,
                      struct rotarr_error *err)
{
    const struct rotarr_compose_service *svc;
    int found;

    svc = rotarr_stack_choose_server(stack, ROTARR_SERVICE_POSTGRES,
                                     req->service, err);
    if (svc == NULL || copy_name(plan->service, svc->name, err) < 0) {
        return -1;
    }
    found = service_value(stack, svc, "POSTGRES_USER", plan->file_role,
                          sizeof(plan->file_role), err);
    if (found < 0) {
        return -1;
    }
    if (found == 0) {
        snprintf(plan->file_role, sizeof(plan->file_role), "postgres");
    }
    snprintf(plan->role, sizeof(plan->role), "%s",
             req->user != NULL ? req->user : plan->file_role);
    if (req->dbname != NULL) {
        snprintf(plan->dbname, sizeof(plan->dbname), "%s", req->dbname);
    } else if ((found = service_value(stack, svc, "POSTGRES_DB", plan->dbname,
                                      sizeof(plan->dbname), err)) <= 0) {
        if (found < 0) {
            return -1;
        }
        snprintf(plan->dbname, sizeof(plan->dbname), "%s", plan->role);
    }
    snprintf(plan->sslmode, sizeof(plan->sslmode), "%s",
             req->sslmode != NULL ? req->sslmode : "");
    if (find_password(stack, svc, req, plan, err) < 0 ||
        find_endpoint(stack, svc, req, plan, err) < 0) {
        return -1;
    }
    return rotarr_stack_find_occurrences(stack, plan->current,
                                         &plan->occurrences, err);
}

void rotarr_pgrot_plan_release(struct rotarr_pgrot_plan *plan)
{
    size_t i;

    rotarr_secret_free(plan->current);
    rotarr_secret_free(plan->next);
    plan->current = NULL;
    plan->next = NULL;
    rotarr_occurrences_release(&plan->occurrences);
    rotarr_file_edits_release(&plan->edits);
    for (i = 0; i < plan->restart_count; i++) {
        free(plan->restart[i]);
    }
    free(plan->restart);
    plan->restart = NULL;
    plan->restart_count = 0;
    rotarr_buf_release(&plan->notices);
}
