/*
 * The Servarr apps of a stack (Sonarr, Radarr, Prowlarr, Lidarr, Readarr,
 * Whisparr) and the credentials they read at start: the Postgres
 * settings and the API key, each from the environment variable
 * APP__NAMESPACE__ITEM when the service sets it (RADARR__POSTGRES__PASSWORD,
 * RADARR__AUTH__APIKEY), else from the element of config.xml in the
 * app's /config bind mount (<PostgresPassword>, <ApiKey>).  The variable
 * wins over the file, as it does in the apps.
 */
#ifndef ROTARR_SERVARR_H
#define ROTARR_SERVARR_H

#include <stddef.h>

#include "rotarr/buf.h"
#include "rotarr/error.h"
#include "rotarr/secret.h"
#include "rotarr/stack.h"

enum rotarr_arr_item {
    ROTARR_ARR_POSTGRES_USER,
    ROTARR_ARR_POSTGRES_PASSWORD,
    ROTARR_ARR_POSTGRES_HOST,
    ROTARR_ARR_POSTGRES_PORT,
    ROTARR_ARR_POSTGRES_MAIN_DB,
    ROTARR_ARR_POSTGRES_LOG_DB,
    ROTARR_ARR_API_KEY,
};

/* One Servarr app: a service whose image is one, or that mounts a
 * config.xml whose root element is <Config>. */
struct rotarr_arr_app {
    const struct rotarr_compose_service *service;
    char name[32];   /* "radarr"; the service name for unknown images */
    char prefix[40]; /* "RADARR", the prefix of its override variables */
    size_t config;   /* stack file index of config.xml, or (size_t)-1 */
};

struct rotarr_arr_apps {
    struct rotarr_arr_app *items;
    size_t count;
};

#define ROTARR_ARR_APPS_INIT { NULL, 0 }

/* The source of an item that an app reads. */
struct rotarr_arr_origin {
    char variable[96]; /* the override variable, or "" for config.xml */
    size_t file;       /* config.xml's file index when variable is "" */
    size_t line;
    char element[32];  /* "PostgresPassword" */
};

/* Returns the app name ("sonarr") that an image reference names, or
 * NULL when it names none of the Servarr apps. */
const char *rotarr_arr_image_app(const char *image);

/* Finds the stack's Servarr apps in compose order.  Returns 0, or -1
 * with err set. */
int rotarr_arr_apps_find(const struct rotarr_stack *stack,
                         struct rotarr_arr_apps *apps,
                         struct rotarr_error *err);

/*
 * Appends to value what app reads for item and fills origin.  Returns 1
 * when it is set (to a non-empty value), 0 when neither the variable nor
 * config.xml sets it, -1 on error.  value may hold a secret: the caller
 * wipes it.
 */
int rotarr_arr_value(const struct rotarr_stack *stack,
                     const struct rotarr_arr_app *app,
                     enum rotarr_arr_item item, struct rotarr_buf *value,
                     struct rotarr_arr_origin *origin,
                     struct rotarr_error *err);

/* Formats origin as "RADARR__AUTH__APIKEY" or "radarr/config.xml:5
 * <ApiKey>" into out. */
void rotarr_arr_origin_text(const struct rotarr_stack *stack,
                            const struct rotarr_arr_origin *origin,
                            char *out, size_t size);

/* A Postgres role that one or more Servarr apps log in with. */
struct rotarr_arr_role {
    char service[256]; /* the Postgres service, named by PostgresHost */
    char role[256];
    char main_db[256];  /* PostgresMainDb, else "APP-main" */
    char apps[256];     /* "radarr" or "radarr, sonarr" */
    char variable[96];  /* the override variable, or "PostgresPassword" */
    char source[256];   /* where the password is, for messages */
    struct rotarr_secret *password;
};

struct rotarr_arr_roles {
    struct rotarr_arr_role *items;
    size_t count;
};

#define ROTARR_ARR_ROLES_INIT { NULL, 0 }

/*
 * Finds the roles that Servarr apps use on the Postgres services of the
 * stack: an app uses one when its PostgresHost names a Postgres service
 * (pg_service, or any when NULL) and it has a user and a password.
 * Apps sharing a role give one entry.  Returns 0, or -1 with err set.
 */
int rotarr_arr_postgres_roles(const struct rotarr_stack *stack,
                              const char *pg_service,
                              struct rotarr_arr_roles *roles,
                              struct rotarr_error *err);

void rotarr_arr_roles_release(struct rotarr_arr_roles *roles);

void rotarr_arr_apps_release(struct rotarr_arr_apps *apps);

#endif
