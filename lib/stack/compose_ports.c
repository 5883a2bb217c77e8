#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rotarr/compose.h"
#include "compose_private.h"

#define PORT_MAX 65535

/* A port or an inclusive range "8000-8010"; lo == 0 when empty. */
struct port_range {
    long lo;
    long hi;
};

static int parse_port(const char *s, size_t len, long *port)
{
    long value = 0;
    size_t i;

    if (len == 0 || len > 5) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        value = value * 10 + (s[i] - '0');
    }
    if (value < 1 || value > PORT_MAX) {
        return -1;
    }
    *port = value;
    return 0;
}

static int parse_range(const char *s, size_t len, struct port_range *range)
{
    const char *dash = memchr(s, '-', len);

    range->lo = 0;
    range->hi = 0;
    if (len == 0) {
        return 0;
    }
    if (dash == NULL) {
        if (parse_port(s, len, &range->lo) < 0) {
            return -1;
        }
        range->hi = range->lo;
        return 0;
    }
    if (parse_port(s, (size_t)(dash - s), &range->lo) < 0 ||
        parse_port(dash + 1, len - (size_t)(dash - s) - 1, &range->hi) < 0 ||
        range->hi < range->lo) {
        return -1;
    }
    return 0;
}

/* Returns the host port that container port maps to, or 0. */
static int map_port(const struct port_range *host,
                    const struct port_range *container, long port)
{
    if (host->lo == 0 || port < container->lo || port > container->hi) {
        return 0;
    }
    if (host->lo == host->hi) {
        return (int)host->lo;
    }
    if (host->lo + (port - container->lo) > host->hi) {
        return 0;
    }
    return (int)(host->lo + (port - container->lo));
}

static void store_host(char *host, size_t host_size, const char *s,
                       size_t len)
{
    int n;

    if (host_size == 0) {
        return;
    }
    n = snprintf(host, host_size, "%.*s", (int)len, s);
    if (n < 0 || (size_t)n >= host_size) {
        host[0] = '\0';
    }
}

/* Splits "[IP:]HOST" at its last ':' outside IPv6 brackets. */
static void split_host(const char *s, size_t len, const char **ip,
                       size_t *ip_len, const char **port, size_t *port_len)
{
    const char *colon = NULL;
    size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] == ']') {
            colon = NULL;
        } else if (s[i] == ':') {
            colon = s + i;
        }
    }
    *ip = s;
    *ip_len = colon != NULL ? (size_t)(colon - s) : 0;
    *port = colon != NULL ? colon + 1 : s;
    *port_len = len - (size_t)(*port - s);
    if (*ip_len >= 2 && s[0] == '[' && s[*ip_len - 1] == ']') {
        (*ip)++;
        *ip_len -= 2;
    }
}

/* Reads the short form "[[IP:]HOST:]CONTAINER[/PROTOCOL]". */
static int short_form(const char *s, long port, char *host, size_t host_size)
{
    struct port_range host_range;
    struct port_range container;
    const char *slash = strchr(s, '/');
    size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
    const char *colon;
    const char *ip;
    const char *host_port;
    size_t ip_len;
    size_t host_port_len;
    int published;

    if (slash != NULL && strcmp(slash + 1, "tcp") != 0) {
        return 0;
    }
    colon = memrchr(s, ':', len);
    if (colon == NULL) {
        return 0;
    }
    split_host(s, (size_t)(colon - s), &ip, &ip_len, &host_port,
               &host_port_len);
    if (parse_range(colon + 1, len - (size_t)(colon - s) - 1, &container) <
            0 ||
        parse_range(host_port, host_port_len, &host_range) < 0) {
        return 0;
    }
    published = map_port(&host_range, &container, port);
    if (published > 0) {
        store_host(host, host_size, ip, ip_len);
    }
    return published;
}

/* Expands the scalar value of key in entry; returns NULL when absent. */
static const char *expanded(const struct rotarr_ynode *entry, const char *key,
                            const struct compose_vars *vars,
                            struct rotarr_buf *text)
{
    const struct rotarr_ynode *node = rotarr_ynode_get(entry, key);
    struct rotarr_error ignored = ROTARR_ERROR_INIT;

    if (node == NULL || node->kind != ROTARR_YNODE_SCALAR ||
        compose_expand(node, vars, text, &ignored) < 0) {
        return NULL;
    }
    return text->data;
}

/* Reads the long form with target, published, host_ip and protocol. */
static int long_form(const struct rotarr_ynode *entry, long port,
                     const struct compose_vars *vars, char *host,
                     size_t host_size)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    struct port_range host_range;
    struct port_range container;
    const char *value;
    int published = 0;

    value = expanded(entry, "protocol", vars, &text);
    if (value != NULL && strcmp(value, "tcp") != 0) {
        goto out;
    }
    value = expanded(entry, "target", vars, &text);
    if (value == NULL || parse_range(value, strlen(value), &container) < 0) {
        goto out;
    }
    value = expanded(entry, "published", vars, &text);
    if (value == NULL || parse_range(value, strlen(value), &host_range) < 0) {
        goto out;
    }
    published = map_port(&host_range, &container, port);
    value = expanded(entry, "host_ip", vars, &text);
    if (published > 0) {
        store_host(host, host_size, value != NULL ? value : "",
                   value != NULL ? strlen(value) : 0);
    }

out:
    rotarr_buf_release(&text);
    return published;
}

static int entry_port(const struct rotarr_ynode *entry, long port,
                      const struct compose_vars *vars, char *host,
                      size_t host_size)
{
    struct rotarr_error ignored = ROTARR_ERROR_INIT;
    struct rotarr_buf text = ROTARR_BUF_INIT;
    int published = 0;

    if (entry->kind == ROTARR_YNODE_MAPPING) {
        return long_form(entry, port, vars, host, host_size);
    }
    if (entry->kind == ROTARR_YNODE_SCALAR &&
        compose_expand(entry, vars, &text, &ignored) == 0) {
        published = short_form(text.data, port, host, host_size);
    }
    rotarr_buf_release(&text);
    return published;
}

static const char *environ_lookup(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

int rotarr_compose_published_port(const struct rotarr_compose *c,
                                  const struct rotarr_compose_service *svc,
                                  int container_port, rotarr_lookup_fn lookup,
                                  void *ctx, char *host, size_t host_size)
{
    const struct compose_svc *impl = (const struct compose_svc *)svc;
    struct compose_vars vars = { lookup != NULL ? lookup : environ_lookup,
                                 ctx };
    const struct rotarr_ynode *list;
    size_t i;
    size_t j;
    int published;

    (void)c;
    store_host(host, host_size, "", 0);
    for (i = 0; i < impl->port_list_count; i++) {
        list = impl->ports[i];
        for (j = 0; j < list->count; j++) {
            published = entry_port(list->items[j], container_port, &vars,
                                   host, host_size);
            if (published > 0) {
                return published;
            }
        }
    }
    return 0;
}
