/*
 * A Docker Compose project as rotarr needs it: which files make it up and
 * which services it has.  For each service it keeps the nodes of its
 * environment, env files, command, healthcheck and ports.  Each node
 * points back into the YAML file (rotarr/yamldoc.h) where it is written,
 * so that a value can be rewritten in place.
 *
 * Files are selected, merged and linked the way Docker Compose v2 does it
 * (compose-go v2): several files merge service by service, later ones
 * winning; "include:" adds the services of other projects; "extends:"
 * builds a service on another.  Nothing is copied or re-serialised: a
 * merged service keeps the list of mappings it was built from.  Services
 * of every profile are kept.  Values stay uninterpolated except where
 * Compose needs them to find files (paths of env files, included files,
 * extended files and secrets) and in rotarr_compose_published_port().
 */
#ifndef ROTARR_COMPOSE_H
#define ROTARR_COMPOSE_H

#include <stddef.h>

#include "rotarr/compat.h"
#include "rotarr/error.h"
#include "rotarr/interp.h"
#include "rotarr/yamldoc.h"

/* Deepest chain of "include:" or of "extends:" followed, so that a loop
 * or a runaway chain ends with an error. */
#define ROTARR_COMPOSE_MAX_CHAIN 32

struct rotarr_compose;

/*
 * One variable of a service's "environment:", after merging: a later file
 * or extending service replaces the entry of the same key.
 *
 * Map form ("KEY: value"): node is the value scalar, or NULL when the
 * value is null ("KEY:" or "KEY: null"), which means the value comes from
 * the shell or the project .env.  List form ("- KEY=value"): node is the
 * whole item scalar.  raw is the value text before interpolation, decoded
 * from YAML (for the list form, the part after the first '='), or NULL
 * when the value is inherited ("KEY:" or "- KEY").
 *
 * editable is 1 when [raw_start, raw_end) of node->doc's bytes can be
 * overwritten to change the value: for the map form, a plain or quoted
 * scalar, whose whole span is replaced with rotarr_yaml_encode_scalar()
 * text; for the list form, a one-line plain item, whose span after the
 * '=' must receive text that is itself plain-safe (rewrite the whole item
 * otherwise).  Block scalars, quoted list items and inherited values have
 * editable 0 and raw_start == raw_end == 0.
 */
struct rotarr_compose_env {
    const char *key;
    const struct rotarr_ynode *node;
    int list_form;
    const char *raw;
    size_t raw_len;
    size_t raw_start, raw_end;
    int editable;
};

/* One "env_file:" entry after merging (later entries of the same path
 * replace earlier ones).  path is interpolated and resolved against the
 * directory that Compose uses for the service's relative paths. */
struct rotarr_compose_env_file {
    char *path;
    int required; /* 0 for the long form with "required: false" */
    const struct rotarr_ynode *node; /* the path scalar */
};

/*
 * A service after merging files and resolving "extends:".  Pointers to
 * nodes are NULL when no layer sets the key or the last one resets it
 * with "!reset".  For those keys the last layer that sets the key wins;
 * environment, env_file and depends_on are merged across layers.
 */
struct rotarr_compose_service {
    const char *name;
    /* The service's own mapping in the first file that defines it. */
    const struct rotarr_ynode *node;
    const char *image;               /* uninterpolated; NULL if none */
    struct rotarr_compose_env *env;
    size_t env_count;
    struct rotarr_compose_env_file *env_files;
    size_t env_file_count;
    const struct rotarr_ynode *command, *entrypoint, *healthcheck, *ports,
        *depends_on, *volumes, *secrets, *profiles;
    const char **depends; /* services named by depends_on, list or map */
    size_t depends_count;
    /* The mappings the service is built from, lowest precedence first:
     * the bases of "extends:", then the service in each file. */
    const struct rotarr_ynode *const *layers;
    size_t layer_count;
};

/*
 * Loads the project in dir (NULL means ".").  The files are, in order of
 * preference: the file_count paths in files (the -f options); else the
 * COMPOSE_FILE variable split at COMPOSE_PATH_SEPARATOR (default ':');
 * else the first of compose.yaml, compose.yml, docker-compose.yml and
 * docker-compose.yaml found in dir, followed by the first of
 * compose.override.yml, compose.override.yaml, docker-compose.override.yml
 * and docker-compose.override.yaml found there.  Unlike Compose, parent
 * directories are not searched, because rotarr edits the files it finds.
 * Relative paths in files and COMPOSE_FILE are taken from dir.
 *
 * Variables (COMPOSE_FILE, and those that paths interpolate) come from
 * lookup(ctx, name); a NULL lookup means the process environment.  For a
 * project with many services, lookup is called from two threads at once,
 * so it must only read shared state.
 * Relative paths inside the files are resolved as Compose does: against
 * the directory of the first file for the project's own files, the
 * project directory of an include, and the directory of the file named by
 * "extends: file:".  Returns the project, or NULL with err set
 * (ROTARR_EFILE, naming the file and the line where it applies) when a
 * file is missing, unreadable or invalid YAML (see rotarr_ydoc_parse), a
 * file is not a mapping or is empty, a service is not a mapping or has an
 * invalid name, an environment or env_file entry has the wrong shape, an
 * included project defines a service that the including file defines, an
 * extended service is missing, or an include or extends chain loops.
 */
struct rotarr_compose *rotarr_compose_load(const char *dir,
                                           const char *const *files,
                                           size_t file_count,
                                           rotarr_lookup_fn lookup,
                                           void *ctx,
                                           struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/* Returns the directory relative paths of the project's own files are
 * resolved against: the directory of the first compose file. */
const char *rotarr_compose_project_dir(const struct rotarr_compose *c);

/* Returns the top-level "name:" (uninterpolated; the last file setting it
 * wins), or NULL. */
const char *rotarr_compose_name(const struct rotarr_compose *c);

/* Services in the order they first appear: each file's own services, then
 * those its includes add, then new ones from later files. */
size_t rotarr_compose_service_count(const struct rotarr_compose *c);
const struct rotarr_compose_service *
rotarr_compose_service(const struct rotarr_compose *c, size_t i);

/* Returns the service called name, or NULL. */
const struct rotarr_compose_service *
rotarr_compose_find_service(const struct rotarr_compose *c, const char *name);

/* Every YAML file read: the compose files in order, then included and
 * extended files as they were reached.  A file reached twice is kept
 * once. */
size_t rotarr_compose_file_count(const struct rotarr_compose *c);
const struct rotarr_ydoc *rotarr_compose_file(const struct rotarr_compose *c,
                                              size_t i);

/* Returns the resolved path of top-level secret name when it has a
 * "file:" source, else NULL. */
const char *rotarr_compose_secret_file(const struct rotarr_compose *c,
                                       const char *name);

/* Returns the variable name of top-level secret name when it has an
 * "environment:" source, else NULL. */
const char *rotarr_compose_secret_environment(const struct rotarr_compose *c,
                                              const char *name);

/*
 * Returns the host port published for container_port (TCP) of svc, a
 * service of c, or 0 when the port is not published with a fixed host
 * port.  Reads the short
 * forms "5432", "5433:5432", "127.0.0.1:5433:5432", "[::1]:5433:5432",
 * ranges "8000-8001:9000-9001", and the long form with target, published
 * and host_ip, interpolating each with lookup (NULL: the process
 * environment).  Stores the host address, or "" when none is given, in
 * host when host_size is not 0.  Entries that do not parse are skipped.
 */
int rotarr_compose_published_port(const struct rotarr_compose *c,
                                  const struct rotarr_compose_service *svc,
                                  int container_port, rotarr_lookup_fn lookup,
                                  void *ctx, char *host, size_t host_size);

/* Frees the project, its services and its YAML documents.  Accepts NULL. */
void rotarr_compose_free(struct rotarr_compose *c);

#endif
