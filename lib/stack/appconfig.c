#include "rotarr/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "rotarr/appconfig.h"

struct rotarr_appconfig {
    enum rotarr_appconfig_format format;
    char root[64];
    struct rotarr_appconfig_setting *settings;
    size_t count;
    struct rotarr_ydoc *doc;
};

/* The state of the XML reader over one file. */
struct xml_reader {
    struct rotarr_appconfig *config;
    const char *display;
    const char *bytes;
    size_t len;
    size_t at;
    struct rotarr_buf path; /* element names below the root, '.'-joined */
    struct rotarr_error *err;
};

static void position_at(const char *bytes, size_t offset, size_t *line,
                        size_t *column)
{
    size_t i;

    *line = 1;
    *column = 1;
    for (i = 0; i < offset; i++) {
        if (bytes[i] == '\n') {
            (*line)++;
            *column = 1;
        } else {
            (*column)++;
        }
    }
}

static int xml_fail(struct xml_reader *xml, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int xml_fail(struct xml_reader *xml, const char *fmt, ...)
{
    char what[256];
    size_t line;
    size_t column;
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(what, sizeof(what), fmt, ap) < 0) {
        what[0] = '\0';
    }
    va_end(ap);
    position_at(xml->bytes, xml->at, &line, &column);
    return rotarr_error_set(xml->err, ROTARR_EFILE,
                            "%s:%zu:%zu: invalid XML: %s; fix the file or "
                            "restore it from the app's backup",
                            xml->display, line, column, what);
}

static int starts_with(const struct xml_reader *xml, const char *text)
{
    size_t n = strlen(text);

    return xml->len - xml->at >= n && memcmp(xml->bytes + xml->at, text,
                                             n) == 0;
}

static void skip_space(struct xml_reader *xml)
{
    while (xml->at < xml->len &&
           strchr(" \t\r\n", xml->bytes[xml->at]) != NULL &&
           xml->bytes[xml->at] != '\0') {
        xml->at++;
    }
}

/* Skips past the first terminator, which must come before the end. */
static int skip_past(struct xml_reader *xml, const char *terminator,
                     const char *what)
{
    const char *found;

    found = memmem(xml->bytes + xml->at, xml->len - xml->at, terminator,
                   strlen(terminator));
    if (found == NULL) {
        return xml_fail(xml, "unterminated %s", what);
    }
    xml->at = (size_t)(found - xml->bytes) + strlen(terminator);
    return 0;
}

/* Skips comments, processing instructions and white space.  Rejects a
 * DOCTYPE and CDATA, which this reader does not support. */
static int skip_misc(struct xml_reader *xml)
{
    for (;;) {
        skip_space(xml);
        if (starts_with(xml, "<!--")) {
            if (skip_past(xml, "-->", "comment") < 0) {
                return -1;
            }
        } else if (starts_with(xml, "<?")) {
            if (skip_past(xml, "?>", "processing instruction") < 0) {
                return -1;
            }
        } else if (starts_with(xml, "<!")) {
            return xml_fail(xml, "a DOCTYPE or CDATA section is not "
                                 "supported");
        } else {
            return 0;
        }
    }
}

static int is_name_char(unsigned char c, int first)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
        c == ':' || c >= 0x80) {
        return 1;
    }
    return !first && ((c >= '0' && c <= '9') || c == '-' || c == '.');
}

static int read_name(struct xml_reader *xml, const char **name, size_t *len)
{
    size_t start = xml->at;

    while (xml->at < xml->len &&
           is_name_char((unsigned char)xml->bytes[xml->at],
                        xml->at == start)) {
        xml->at++;
    }
    if (xml->at == start) {
        return xml_fail(xml, "expected an element or attribute name");
    }
    *name = xml->bytes + start;
    *len = xml->at - start;
    return 0;
}

static int skip_attributes(struct xml_reader *xml)
{
    const char *name;
    const char *close;
    size_t len;
    char quote;

    for (;;) {
        skip_space(xml);
        if (xml->at >= xml->len) {
            return xml_fail(xml, "unterminated start tag");
        }
        if (xml->bytes[xml->at] == '>' || starts_with(xml, "/>")) {
            return 0;
        }
        if (read_name(xml, &name, &len) < 0) {
            return -1;
        }
        skip_space(xml);
        if (!starts_with(xml, "=")) {
            return xml_fail(xml, "expected '=' after attribute '%.*s'",
                            (int)len, name);
        }
        xml->at++;
        skip_space(xml);
        quote = xml->at < xml->len ? xml->bytes[xml->at] : '\0';
        if (quote != '"' && quote != '\'') {
            return xml_fail(xml, "expected a quoted attribute value");
        }
        close = memchr(xml->bytes + xml->at + 1, quote,
                       xml->len - xml->at - 1);
        if (close == NULL) {
            return xml_fail(xml, "unterminated attribute value");
        }
        xml->at = (size_t)(close - xml->bytes) + 1;
    }
}

static int append_utf8(struct rotarr_buf *out, unsigned long cp,
                       struct rotarr_error *err)
{
    char bytes[4];
    size_t n;

    if (cp < 0x80) {
        bytes[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        bytes[0] = (char)(0xc0 | (cp >> 6));
        bytes[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        bytes[0] = (char)(0xe0 | (cp >> 12));
        bytes[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        bytes[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        bytes[0] = (char)(0xf0 | (cp >> 18));
        bytes[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        bytes[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        bytes[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return rotarr_buf_append(out, bytes, n, err);
}

/* Decodes the character reference at xml->at ("&amp;", "&#38;"). */
static int decode_reference(struct xml_reader *xml, struct rotarr_buf *out)
{
    static const char *const names[] = { "amp", "lt", "gt", "quot", "apos" };
    static const char chars[] = "&<>\"'";
    const char *semi;
    const char *ref = xml->bytes + xml->at + 1;
    unsigned long cp;
    char *endp;
    size_t n;
    size_t i;

    semi = memchr(ref, ';', xml->len - xml->at - 1);
    n = semi != NULL ? (size_t)(semi - ref) : 0;
    for (i = 0; semi != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i]) == n && memcmp(ref, names[i], n) == 0) {
            xml->at += n + 2;
            return rotarr_buf_append(out, &chars[i], 1, xml->err);
        }
    }
    if (semi == NULL || n < 2 || n > 10 || ref[0] != '#') {
        return xml_fail(xml, "'&' must start a character reference such as "
                             "'&amp;'");
    }
    cp = ref[1] == 'x' ? strtoul(ref + 2, &endp, 16)
                       : strtoul(ref + 1, &endp, 10);
    if (endp != semi || cp == 0 || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
        return xml_fail(xml, "invalid character reference '&%.*s;'",
                        (int)n, ref);
    }
    xml->at += n + 2;
    return append_utf8(out, cp, xml->err);
}

static int add_setting(struct xml_reader *xml, size_t start, size_t end,
                       struct rotarr_buf *text)
{
    struct rotarr_appconfig *config = xml->config;
    struct rotarr_appconfig_setting *grown;
    struct rotarr_appconfig_setting *setting;

    grown = realloc(config->settings, (config->count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return rotarr_error_set(xml->err, ROTARR_EFILE, "out of memory");
    }
    config->settings = grown;
    setting = &grown[config->count];
    memset(setting, 0, sizeof(*setting));
    setting->key = strdup(xml->path.data != NULL ? xml->path.data : "");
    setting->value_len = text->len;
    setting->value = malloc(text->len + 1);
    if (setting->key == NULL || setting->value == NULL) {
        free(setting->key);
        free(setting->value);
        return rotarr_error_set(xml->err, ROTARR_EFILE, "out of memory");
    }
    memcpy(setting->value, text->data != NULL ? text->data : "", text->len);
    setting->value[text->len] = '\0';
    setting->start = start;
    setting->end = end;
    position_at(xml->bytes, start, &setting->line, &setting->column);
    config->count++;
    return 0;
}

static int read_element(struct xml_reader *xml, int depth);

static int read_end_tag(struct xml_reader *xml, const char *name, size_t len)
{
    const char *end_name;
    size_t end_len;

    xml->at += 2;
    if (read_name(xml, &end_name, &end_len) < 0) {
        return -1;
    }
    if (end_len != len || memcmp(end_name, name, len) != 0) {
        return xml_fail(xml, "expected '</%.*s>', found '</%.*s>'", (int)len,
                        name, (int)end_len, end_name);
    }
    skip_space(xml);
    if (!starts_with(xml, ">")) {
        return xml_fail(xml, "expected '>' to close '</%.*s'", (int)len,
                        name);
    }
    xml->at++;
    return 0;
}

/* Reads an element's content and end tag; a content of text only
 * becomes a setting. */
static int read_content(struct xml_reader *xml, const char *name,
                        size_t len, int depth, struct rotarr_buf *text)
{
    size_t start = xml->at;
    size_t text_end = xml->at;
    int children = 0;

    for (;;) {
        if (xml->at >= xml->len) {
            return xml_fail(xml, "missing '</%.*s>'", (int)len, name);
        }
        if (starts_with(xml, "</")) {
            text_end = xml->at;
            break;
        }
        if (starts_with(xml, "<!--") || starts_with(xml, "<?") ||
            starts_with(xml, "<!")) {
            if (skip_misc(xml) < 0) {
                return -1;
            }
            continue;
        }
        if (xml->bytes[xml->at] == '<') {
            children = 1;
            if (read_element(xml, depth + 1) < 0) {
                return -1;
            }
            continue;
        }
        if (xml->bytes[xml->at] == '&') {
            if (decode_reference(xml, text) < 0) {
                return -1;
            }
            continue;
        }
        if (rotarr_buf_append(text, &xml->bytes[xml->at], 1, xml->err) < 0) {
            return -1;
        }
        xml->at++;
    }
    if (read_end_tag(xml, name, len) < 0) {
        return -1;
    }
    return children || depth == 0 ? 0 : add_setting(xml, start, text_end,
                                                     text);
}

static int read_element(struct xml_reader *xml, int depth)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    size_t saved = xml->path.len;
    const char *name;
    size_t len;
    int ret = -1;

    if (depth > ROTARR_APPCONFIG_MAX_DEPTH) {
        return xml_fail(xml, "elements nest deeper than %d",
                        ROTARR_APPCONFIG_MAX_DEPTH);
    }
    if (!starts_with(xml, "<")) {
        return xml_fail(xml, "expected '<'");
    }
    xml->at++;
    if (read_name(xml, &name, &len) < 0 || skip_attributes(xml) < 0) {
        return -1;
    }
    if (depth == 0) {
        snprintf(xml->config->root, sizeof(xml->config->root), "%.*s",
                 (int)len, name);
    } else if ((saved > 0 &&
                rotarr_buf_append(&xml->path, ".", 1, xml->err) < 0) ||
               rotarr_buf_append(&xml->path, name, len, xml->err) < 0) {
        return -1;
    }
    if (starts_with(xml, "/>")) {
        xml->at += 2;
        ret = 0;
    } else {
        xml->at++;
        ret = read_content(xml, name, len, depth, &text);
    }
    if (xml->path.data != NULL) {
        xml->path.len = saved;
        xml->path.data[saved] = '\0';
    }
    if (text.data != NULL) {
        sodium_memzero(text.data, text.cap);
    }
    rotarr_buf_release(&text);
    return ret;
}

static int parse_xml(struct rotarr_appconfig *config, const char *display,
                     const char *bytes, size_t len, struct rotarr_error *err)
{
    struct xml_reader xml;
    int ret = -1;

    memset(&xml, 0, sizeof(xml));
    xml.config = config;
    xml.display = display;
    xml.bytes = bytes;
    xml.len = len;
    xml.err = err;
    if (starts_with(&xml, "\xef\xbb\xbf")) {
        xml.at = 3;
    }
    if (memchr(bytes, '\0', len) != NULL) {
        xml.at = (size_t)((const char *)memchr(bytes, '\0', len) - bytes);
        xml_fail(&xml, "the file contains a NUL byte");
        goto out;
    }
    if (skip_misc(&xml) < 0 || read_element(&xml, 0) < 0 ||
        skip_misc(&xml) < 0) {
        goto out;
    }
    if (xml.at != len) {
        xml_fail(&xml, "text after the root element '</%s>'", config->root);
        goto out;
    }
    ret = 0;

out:
    rotarr_buf_release(&xml.path);
    return ret;
}

/* The state of the walk over a YAML or JSON tree. */
struct tree_walk {
    struct rotarr_appconfig *config;
    struct rotarr_buf path;
    struct rotarr_error *err;
};

static int add_scalar(struct tree_walk *walk, const struct rotarr_ynode *node)
{
    struct rotarr_appconfig *config = walk->config;
    struct rotarr_appconfig_setting *grown;
    struct rotarr_appconfig_setting *setting;

    grown = realloc(config->settings, (config->count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return rotarr_error_set(walk->err, ROTARR_EFILE, "out of memory");
    }
    config->settings = grown;
    setting = &grown[config->count];
    memset(setting, 0, sizeof(*setting));
    setting->key = strdup(walk->path.data != NULL ? walk->path.data : "");
    setting->value = malloc(node->value_len + 1);
    if (setting->key == NULL || setting->value == NULL) {
        free(setting->key);
        free(setting->value);
        return rotarr_error_set(walk->err, ROTARR_EFILE, "out of memory");
    }
    memcpy(setting->value, node->value, node->value_len + 1);
    setting->value_len = node->value_len;
    setting->start = node->start;
    setting->end = node->end;
    setting->line = node->line;
    setting->column = node->column;
    setting->node = node;
    config->count++;
    return 0;
}

static int walk_tree(struct tree_walk *walk, const struct rotarr_ynode *node,
                     int depth);

static int walk_child(struct tree_walk *walk, const char *name, size_t len,
                      const struct rotarr_ynode *child, int depth)
{
    size_t saved = walk->path.len;
    int ret;

    if ((saved > 0 && rotarr_buf_append(&walk->path, ".", 1, walk->err) < 0) ||
        rotarr_buf_append(&walk->path, name, len, walk->err) < 0) {
        return -1;
    }
    ret = walk_tree(walk, child, depth + 1);
    walk->path.len = saved;
    walk->path.data[saved] = '\0';
    return ret;
}

static int walk_tree(struct tree_walk *walk, const struct rotarr_ynode *node,
                     int depth)
{
    const struct rotarr_ynode *key;
    char index[32];
    size_t i;

    if (node == NULL || depth > ROTARR_YDOC_MAX_DEPTH) {
        return 0;
    }
    if (node->kind == ROTARR_YNODE_SCALAR) {
        return node->style == ROTARR_YSTYLE_PLAIN &&
                       rotarr_ynode_is_null(node)
                   ? 0
                   : add_scalar(walk, node);
    }
    for (i = 0; i < node->count; i++) {
        if (node->kind == ROTARR_YNODE_MAPPING) {
            key = node->items[2 * i];
            if (key->kind == ROTARR_YNODE_SCALAR &&
                walk_child(walk, key->value, key->value_len,
                           node->items[2 * i + 1], depth) < 0) {
                return -1;
            }
            continue;
        }
        snprintf(index, sizeof(index), "%zu", i);
        if (walk_child(walk, index, strlen(index), node->items[i], depth) <
            0) {
            return -1;
        }
    }
    return 0;
}

static int parse_tree(struct rotarr_appconfig *config, const char *display,
                      const char *bytes, size_t len, struct rotarr_error *err)
{
    struct tree_walk walk = { config, ROTARR_BUF_INIT, err };
    int ret;

    config->doc = rotarr_ydoc_parse(display, bytes, len, err);
    if (config->doc == NULL) {
        return -1;
    }
    ret = walk_tree(&walk, rotarr_ydoc_root(config->doc), 0);
    rotarr_buf_release(&walk.path);
    return ret;
}

struct rotarr_appconfig *
rotarr_appconfig_parse(const char *display,
                       enum rotarr_appconfig_format format,
                       const char *bytes, size_t len, struct rotarr_error *err)
{
    struct rotarr_appconfig *config;
    int ret;

    config = calloc(1, sizeof(*config));
    if (config == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    config->format = format;
    if (format == ROTARR_APPCONFIG_XML) {
        ret = parse_xml(config, display, bytes, len, err);
    } else {
        ret = parse_tree(config, display, bytes, len, err);
    }
    if (ret < 0) {
        rotarr_appconfig_free(config);
        return NULL;
    }
    return config;
}

enum rotarr_appconfig_format
rotarr_appconfig_format(const struct rotarr_appconfig *config)
{
    return config->format;
}

const char *rotarr_appconfig_root(const struct rotarr_appconfig *config)
{
    return config->root;
}

size_t rotarr_appconfig_count(const struct rotarr_appconfig *config)
{
    return config->count;
}

const struct rotarr_appconfig_setting *
rotarr_appconfig_setting(const struct rotarr_appconfig *config, size_t i)
{
    return i < config->count ? &config->settings[i] : NULL;
}

const struct rotarr_appconfig_setting *
rotarr_appconfig_find(const struct rotarr_appconfig *config, const char *key)
{
    size_t i;

    for (i = 0; config != NULL && i < config->count; i++) {
        if (strcasecmp(config->settings[i].key, key) == 0) {
            return &config->settings[i];
        }
    }
    return NULL;
}

int rotarr_appconfig_names_secret(const char *key)
{
    static const char *const words[] = {
        "password", "apikey", "api_key", "secret", "token", NULL,
    };
    const char *last = strrchr(key, '.');
    size_t i;

    last = last != NULL ? last + 1 : key;
    for (i = 0; words[i] != NULL; i++) {
        if (strcasestr(last, words[i]) != NULL) {
            return 1;
        }
    }
    return 0;
}

int rotarr_xml_escape(const char *value, size_t len, struct rotarr_buf *out,
                      struct rotarr_error *err)
{
    static const char *const refs[] = { "&amp;", "&lt;", "&gt;", "&quot;",
                                        "&apos;" };
    static const char chars[] = "&<>\"'";
    const char *special;
    unsigned char c;
    size_t i;

    for (i = 0; i < len; i++) {
        c = (unsigned char)value[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            return rotarr_error_set(err, ROTARR_EUSAGE,
                                    "the new value contains a control "
                                    "character, which XML cannot hold; "
                                    "choose another value");
        }
        special = c != '\0' ? strchr(chars, c) : NULL;
        if (special != NULL) {
            if (rotarr_buf_puts(out, refs[special - chars], err) < 0) {
                return -1;
            }
        } else if (rotarr_buf_append(out, &value[i], 1, err) < 0) {
            return -1;
        }
    }
    return 0;
}

void rotarr_appconfig_free(struct rotarr_appconfig *config)
{
    size_t i;

    if (config == NULL) {
        return;
    }
    for (i = 0; i < config->count; i++) {
        sodium_memzero(config->settings[i].value,
                       config->settings[i].value_len);
        free(config->settings[i].value);
        free(config->settings[i].key);
    }
    free(config->settings);
    rotarr_ydoc_free(config->doc);
    free(config);
}
