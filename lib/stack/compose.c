#include "rotarr/compat.h"

#include <stdlib.h>
#include <string.h>

#include "rotarr/compose.h"
#include "compose_private.h"

const char *rotarr_compose_project_dir(const struct rotarr_compose *c)
{
    return c->project_dir;
}

const char *rotarr_compose_name(const struct rotarr_compose *c)
{
    return c->name;
}

size_t rotarr_compose_service_count(const struct rotarr_compose *c)
{
    return c->services.count;
}

const struct rotarr_compose_service *
rotarr_compose_service(const struct rotarr_compose *c, size_t i)
{
    return i < c->services.count ? &c->services.items[i]->pub : NULL;
}

size_t compose_service_index(const struct rotarr_compose *c,
                             const struct rotarr_compose_service *svc)
{
    const struct compose_svc *impl = (const struct compose_svc *)svc;

    if (impl->index < c->services.count &&
        c->services.items[impl->index] == impl) {
        return impl->index;
    }
    return (size_t)-1;
}

const struct rotarr_compose_service *
rotarr_compose_find_service(const struct rotarr_compose *c, const char *name)
{
    const struct compose_svc *svc = compose_svc_list_find(&c->services, name);

    return svc != NULL ? &svc->pub : NULL;
}

size_t rotarr_compose_file_count(const struct rotarr_compose *c)
{
    return c->file_count;
}

const struct rotarr_ydoc *rotarr_compose_file(const struct rotarr_compose *c,
                                              size_t i)
{
    return i < c->file_count ? c->files[i].doc : NULL;
}

static const struct compose_secret *find_secret(const struct rotarr_compose *c,
                                                const char *name)
{
    size_t i;

    for (i = 0; i < c->secret_count; i++) {
        if (strcmp(c->secrets[i].name, name) == 0) {
            return &c->secrets[i];
        }
    }
    return NULL;
}

const char *rotarr_compose_secret_file(const struct rotarr_compose *c,
                                       const char *name)
{
    const struct compose_secret *secret = find_secret(c, name);

    return secret != NULL ? secret->file : NULL;
}

const char *rotarr_compose_secret_environment(const struct rotarr_compose *c,
                                              const char *name)
{
    const struct compose_secret *secret = find_secret(c, name);

    return secret != NULL ? secret->environment : NULL;
}

void rotarr_compose_free(struct rotarr_compose *c)
{
    size_t i;

    if (c == NULL) {
        return;
    }
    compose_svc_list_release(&c->services);
    for (i = 0; i < c->file_count; i++) {
        rotarr_ydoc_free(c->files[i].doc);
        free(c->files[i].key);
    }
    for (i = 0; i < c->secret_count; i++) {
        free(c->secrets[i].name);
        free(c->secrets[i].file);
        free(c->secrets[i].environment);
    }
    for (i = 0; i < c->string_count; i++) {
        free(c->strings[i]);
    }
    free(c->files);
    free(c->secrets);
    free(c->strings);
    free(c->project_dir);
    free(c);
}
