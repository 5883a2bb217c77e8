#include "rotarr/compat.h"

#include <stdio.h>
#include <string.h>

#include "audit_private.h"

/* Networks one service joins that the checks compare; more are ignored. */
#define NETWORKS_MAX 16

/* Maximum length of the list of services named in one finding. */
#define NAMES_TEXT_MAX 512

struct service_networks {
    const char *names[NETWORKS_MAX];
    size_t count;
    const struct rotarr_ynode *node; /* the networks: value, or NULL */
};

/*
 * Lists the networks of service i.  Returns 0, or 1 when the service
 * shares another network namespace (network_mode) and has none of its
 * own.
 */
static int service_networks(struct audit_ctx *ctx, size_t i,
                            struct service_networks *nets)
{
    const struct rotarr_compose_service *svc;
    const struct rotarr_ynode *node;
    size_t k;
    size_t step;

    svc = rotarr_compose_service(ctx->compose, i);
    nets->count = 0;
    nets->node = NULL;
    node = audit_service_get(svc, "network_mode");
    if (node != NULL && !rotarr_ynode_is_null(node) &&
        !rotarr_ynode_equals(node, "bridge")) {
        return 1;
    }
    node = audit_service_get(svc, "networks");
    nets->node = node;
    if (node == NULL || node->count == 0) {
        nets->names[nets->count++] = "default";
        return 0;
    }
    step = node->kind == ROTARR_YNODE_MAPPING ? 2 : 1;
    for (k = 0; k < node->count * step && nets->count < NETWORKS_MAX;
         k += step) {
        if (node->items[k]->kind == ROTARR_YNODE_SCALAR) {
            nets->names[nets->count++] = node->items[k]->value;
        }
    }
    return 0;
}

static int share_network(const struct service_networks *a,
                         const struct service_networks *b)
{
    size_t i;
    size_t j;

    for (i = 0; i < a->count; i++) {
        for (j = 0; j < b->count; j++) {
            if (strcmp(a->names[i], b->names[j]) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

/* Returns 1 when the top-level definition of network name sets
 * internal: true in the last compose file that defines it.
 * NEEDSWORK: an external: network is defined elsewhere, so it counts as
 * not internal. */
static int network_is_internal(struct audit_ctx *ctx, const char *name)
{
    const struct rotarr_ynode *def = NULL;
    const struct rotarr_ynode *found;
    size_t f;

    for (f = 0; f < rotarr_compose_file_count(ctx->compose); f++) {
        found = rotarr_ynode_get(
            rotarr_ynode_get(
                rotarr_ydoc_root(rotarr_compose_file(ctx->compose, f)),
                "networks"),
            name);
        def = found != NULL ? found : def;
    }
    return rotarr_ynode_equals(rotarr_ynode_get(def, "internal"), "true");
}

/* Appends ", name" to list, keeping it within its size. */
static void append_name(char *list, size_t size, const char *name)
{
    size_t len = strlen(list);

    audit_format(list + len, size - len, "%s'%s'", len > 0 ? ", " : "",
                 name);
}

/* Returns 1 when service t has a variable that configures a client of
 * the server kind (REDIS_HOST, DATABASE_URL, ...), even one left empty
 * for the app's default host. */
static int has_client_variable(struct audit_ctx *ctx, size_t t,
                               enum rotarr_service_kind kind)
{
    static const char *const redis[] = { "REDIS", "VALKEY", NULL };
    static const char *const postgres[] = {
        "POSTGRES", "DATABASE", "DB_", "PGHOST", "PGUSER", "PGPASSWORD",
        "PGDATABASE", NULL,
    };
    const char *const *words = kind == ROTARR_SERVICE_REDIS ? redis
                                                            : postgres;
    const struct rotarr_compose_service *svc;
    size_t e;
    size_t w;

    svc = rotarr_compose_service(ctx->compose, t);
    for (e = 0; e < svc->env_count; e++) {
        for (w = 0; words[w] != NULL; w++) {
            if (strstr(svc->env[e].key, words[w]) != NULL) {
                return 1;
            }
        }
    }
    return 0;
}

/* Returns 1 when service t may reach server s without using it: a
 * database server never opens connections to another, so those are
 * left out. */
static int is_bystander(struct audit_ctx *ctx, size_t s, size_t t,
                        const struct service_networks *server,
                        struct service_networks *other)
{
    enum rotarr_service_kind kind;

    kind = rotarr_stack_service_kind(ctx->stack,
                                     rotarr_compose_service(ctx->compose, s));
    return t != s && service_networks(ctx, t, other) == 0 &&
           share_network(server, other) &&
           rotarr_stack_service_kind(
               ctx->stack, rotarr_compose_service(ctx->compose, t)) ==
               ROTARR_SERVICE_OTHER &&
           !has_client_variable(ctx, t, kind) &&
           !audit_service_uses(ctx, t, s);
}

/* Returns the number of services other than s and database servers
 * that share a network with s. */
static size_t count_neighbours(struct audit_ctx *ctx, size_t s,
                               const struct service_networks *server)
{
    struct service_networks other;
    size_t n = 0;
    size_t t;

    for (t = 0; t < rotarr_compose_service_count(ctx->compose); t++) {
        n += t != s && service_networks(ctx, t, &other) == 0 &&
             share_network(server, &other) &&
             rotarr_stack_service_kind(
                 ctx->stack, rotarr_compose_service(ctx->compose, t)) ==
                 ROTARR_SERVICE_OTHER;
    }
    return n;
}

static int check_reachable(struct audit_ctx *ctx, size_t s,
                           const struct service_networks *server)
{
    struct service_networks other;
    char names[NAMES_TEXT_MAX] = "";
    char why[AUDIT_TEXT_MAX];
    size_t n = rotarr_compose_service_count(ctx->compose);
    size_t t;
    size_t count = 0;

    /* A named network that the server shares with a single service was
     * made for that pair, whose client may be configured in a file that
     * the compose file does not show. */
    if (server->node != NULL && count_neighbours(ctx, s, server) == 1) {
        return 0;
    }
    for (t = 0; t < n; t++) {
        if (!is_bystander(ctx, s, t, server, &other)) {
            continue;
        }
        append_name(names, sizeof(names),
                    rotarr_compose_service(ctx->compose, t)->name);
        count++;
    }
    if (count == 0) {
        return 0;
    }
    audit_format(why, sizeof(why),
                 "%zu service(s) that do not use this server share a "
                 "network with it: %s", count, names);
    return audit_add(ctx, &audit_network_db_shared, s,
                     server->node != NULL
                         ? server->node
                         : audit_service_anchor(
                               rotarr_compose_service(ctx->compose, s)),
                     NULL, 0, why,
                     "put the server and its clients on a network of their "
                     "own with 'internal: true', and the other services on "
                     "another");
}

static int check_internal(struct audit_ctx *ctx, size_t s,
                          const struct service_networks *server)
{
    size_t k;

    for (k = 0; k < server->count; k++) {
        if (network_is_internal(ctx, server->names[k])) {
            return 0;
        }
    }
    return audit_add(
        ctx, &audit_network_db_not_internal, s,
        server->node != NULL
            ? server->node
            : audit_service_anchor(rotarr_compose_service(ctx->compose, s)),
        NULL, 0,
        "none of the server's networks has 'internal: true', so the "
        "database can open connections to the internet",
        "add a network with 'internal: true' for the server and its "
        "clients; clients that need the internet also join another "
        "network");
}

/* Returns the ports item that publishes port, or the ports node. */
static const struct rotarr_ynode *
port_item(const struct rotarr_ynode *ports, int port)
{
    char text[16];
    size_t i;
    const struct rotarr_ynode *item;

    audit_format(text, sizeof(text), "%d", port);
    for (i = 0; ports != NULL && ports->kind == ROTARR_YNODE_SEQUENCE &&
                i < ports->count;
         i++) {
        item = ports->items[i];
        if ((item->kind == ROTARR_YNODE_SCALAR &&
             strstr(item->value, text) != NULL) ||
            rotarr_ynode_equals(rotarr_ynode_get(item, "target"), text)) {
            return item;
        }
    }
    return ports;
}

static int check_published(struct audit_ctx *ctx, size_t s, int port)
{
    const struct rotarr_compose_service *svc;
    char host[64] = "";
    char why[AUDIT_TEXT_MAX];
    char fix[AUDIT_TEXT_MAX];
    int published;

    svc = rotarr_compose_service(ctx->compose, s);
    published = rotarr_compose_published_port(
        ctx->compose, svc, port, rotarr_stack_project_lookup,
        (void *)ctx->stack, host, sizeof(host));
    if (published <= 0 || strcmp(host, "127.0.0.1") == 0 ||
        strcmp(host, "::1") == 0 || strcmp(host, "[::1]") == 0) {
        return 0;
    }
    if (host[0] != '\0' && strcmp(host, "0.0.0.0") != 0 &&
        strcmp(host, "::") != 0 && strcmp(host, "[::]") != 0) {
        return 0;
    }
    audit_format(why, sizeof(why),
                 "port %d is published on every interface of the host "
                 "(host port %d), so the database is reachable from the "
                 "network; Docker's rules bypass the host firewall",
                 port, published);
    audit_format(fix, sizeof(fix),
                 "remove the port, or bind it to loopback: "
                 "'127.0.0.1:%d:%d'", published, port);
    return audit_add(ctx, &audit_port_db_public, s,
                     port_item(svc->ports, port), NULL, 0, why, fix);
}

int audit_networks(struct audit_ctx *ctx)
{
    const struct rotarr_compose_service *svc;
    struct service_networks server;
    enum rotarr_service_kind kind;
    size_t s;

    for (s = 0; s < rotarr_compose_service_count(ctx->compose); s++) {
        svc = rotarr_compose_service(ctx->compose, s);
        kind = rotarr_stack_service_kind(ctx->stack, svc);
        if (kind == ROTARR_SERVICE_OTHER) {
            continue;
        }
        if (check_published(ctx, s,
                            kind == ROTARR_SERVICE_POSTGRES ? 5432 : 6379) <
            0) {
            return -1;
        }
        if (service_networks(ctx, s, &server) != 0) {
            continue;
        }
        if (check_reachable(ctx, s, &server) < 0 ||
            check_internal(ctx, s, &server) < 0) {
            return -1;
        }
    }
    return 0;
}

const struct audit_check audit_network_db_shared = {
    "network-db-shared",
    ROTARR_AUDIT_MEDIUM,
    "Services that never connect to a Postgres or Redis server share a\n"
    "network with it (often the project's default network, which every\n"
    "service joins).  A compromise of any of them, say a web-facing app,\n"
    "reaches the database directly.  A service counts as a client when it\n"
    "depends on the server, names it as a host in its environment, env\n"
    "files or command, or has a variable for such a client (REDIS_*,\n"
    "DATABASE_*, POSTGRES_*, DB_*, PGHOST, ...).  Other database\n"
    "servers are not listed, and neither is the only other service on a\n"
    "named network, which was made for that pair.\n",
};

const struct audit_check audit_network_db_not_internal = {
    "network-db-not-internal",
    ROTARR_AUDIT_LOW,
    "A network with 'internal: true' has no route out of the host, so a\n"
    "database on it cannot reach the internet, which stops a compromised\n"
    "server from fetching tools or sending data out.  Databases never need\n"
    "outbound access.  Clients that do join a second network.\n",
};

const struct audit_check audit_port_db_public = {
    "port-db-public",
    ROTARR_AUDIT_HIGH,
    "The database port is published without a host address, so Docker\n"
    "listens on every interface of the host.  Docker inserts its own\n"
    "iptables rules, which take effect before ufw or firewalld rules, so\n"
    "the port is open to the whole network and often to the internet.\n"
    "Services of the stack reach the database over the Compose network\n"
    "without any published port; for tools on the host, bind to\n"
    "127.0.0.1.\n",
};
