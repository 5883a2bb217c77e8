/*
 * Internals shared by the compose loader (compose_load.c) and the service
 * model built from it (compose_service.c).
 */
#ifndef ROTARR_COMPOSE_PRIVATE_H
#define ROTARR_COMPOSE_PRIVATE_H

#include <stddef.h>

#include "rotarr/buf.h"
#include "rotarr/compose.h"
#include "rotarr/error.h"
#include "rotarr/interp.h"

/* One mapping a service is built from, and the directory its relative
 * paths are resolved against. */
struct compose_layer {
    const struct rotarr_ynode *map;
    const char *dir; /* owned by the project's string list */
};

struct compose_svc {
    struct rotarr_compose_service pub; /* first, so pointers convert */
    size_t index; /* in the project's list, once loading has ended */
    struct compose_layer *layers;
    size_t layer_count;
    size_t layer_cap;
    const struct rotarr_ynode **layer_maps; /* behind pub.layers */
    /* "ports:" sequences of every layer that adds ports, in merge order */
    const struct rotarr_ynode **ports;
    size_t port_list_count;
};

/* Services by name, in the order they were added. */
struct compose_svc_list {
    struct compose_svc **items;
    size_t count;
    size_t cap;
    size_t *index; /* open addressing over items, SIZE_MAX when empty */
    size_t index_cap;
};

struct compose_secret {
    char *name;
    char *file;
    char *environment;
};

/* A YAML file read, and its real path so that it is read once. */
struct compose_file {
    struct rotarr_ydoc *doc;
    char *key;
};

struct rotarr_compose {
    char *project_dir;
    const char *name;
    struct compose_file *files;
    size_t file_count;
    size_t file_cap;
    struct compose_svc_list services;
    struct compose_secret *secrets;
    size_t secret_count;
    size_t secret_cap;
    char **strings; /* directories kept for the layers */
    size_t string_count;
    size_t string_cap;
};

/* The variables a project is loaded with. */
struct compose_vars {
    rotarr_lookup_fn lookup;
    void *ctx;
};

struct compose_svc *compose_svc_list_find(const struct compose_svc_list *list,
                                          const char *name);

/* Returns the index of svc, a service of c, in c's list, or (size_t)-1
 * when svc belongs to another project. */
size_t compose_service_index(const struct rotarr_compose *c,
                             const struct rotarr_compose_service *svc);
int compose_svc_list_add(struct compose_svc_list *list,
                         struct compose_svc *svc);
void compose_svc_list_release(struct compose_svc_list *list);

/* Returns a service without layers; primary is its own mapping in the
 * first file that defines it. */
struct compose_svc *compose_svc_new(const char *name,
                                    const struct rotarr_ynode *primary);
int compose_svc_add_layer(struct compose_svc *svc,
                          const struct rotarr_ynode *map, const char *dir);
void compose_svc_free(struct compose_svc *svc);

/* Fills svc->pub from its layers.  Returns 0, or -1 with err set. */
int compose_svc_finish(struct compose_svc *svc,
                       const struct compose_vars *vars,
                       struct rotarr_error *err);

/* Numbers the services of list and finishes each one, on two threads
 * when there are many.  Returns 0, or -1 with err set by the first
 * service in list order that fails. */
int compose_svc_list_finish(struct compose_svc_list *list,
                            const struct compose_vars *vars,
                            struct rotarr_error *err);

/* Appends node's text, interpolated, to out (emptied first).  Errors
 * name the file, line and column of node. */
int compose_expand(const struct rotarr_ynode *node,
                   const struct compose_vars *vars, struct rotarr_buf *out,
                   struct rotarr_error *err);

/* Paths of compose files, each malloc'd. */
struct compose_path_list {
    char **items;
    size_t count;
};

/* Appends a copy of dir/rel.  Returns 0, or -1 with err set. */
int compose_path_list_add(struct compose_path_list *list, const char *dir,
                          const char *rel, struct rotarr_error *err);
void compose_path_list_release(struct compose_path_list *list);

/*
 * Chooses the compose files of a project in dir as rotarr_compose_load()
 * describes: files, else COMPOSE_FILE, else discovery with the override
 * file.  Returns 0 with at least one path in paths, or -1 with err set.
 */
int compose_select_files(const struct compose_vars *vars, const char *dir,
                         const char *const *files, size_t file_count,
                         struct compose_path_list *paths,
                         struct rotarr_error *err);

/* Returns the directory part of path ("." when it has none), malloc'd. */
char *compose_dir_of(const char *path);

/* Returns a new string: rel when absolute or when dir is "" or ".", else
 * dir/rel.  NULL when memory runs out. */
char *compose_path_join(const char *dir, const char *rel);

/* Sets err to a message that starts with node's file, line and column. */
int compose_fail(const struct rotarr_ynode *node, struct rotarr_error *err,
                 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
