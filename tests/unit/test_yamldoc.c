/*
 * Unit tests of the YAML document with byte spans (rotarr/yamldoc.h).
 * They cover the spans of every scalar style, positions after multi-byte
 * characters, a BOM and CRLF line ends, in-place replacement, anchors and
 * merge keys, the errors, and every compose file of the shared corpus.
 */
#include "rotarr/compat.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <check.h>

#include "rotarr/buf.h"
#include "rotarr/secret.h"
#include "rotarr/yamldoc.h"

#define MAX_SCALARS 4096

static struct rotarr_error err;

static struct rotarr_ydoc *parse(const char *text)
{
    struct rotarr_ydoc *doc;

    rotarr_error_clear(&err);
    doc = rotarr_ydoc_parse("t.yaml", text, strlen(text), &err);
    ck_assert_msg(doc != NULL, "parse failed: %s", err.msg);
    return doc;
}

static void parse_fails(const char *text, const char *message)
{
    struct rotarr_ydoc *doc;

    rotarr_error_clear(&err);
    doc = rotarr_ydoc_parse("t.yaml", text, strlen(text), &err);
    ck_assert_ptr_null(doc);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_str_eq(err.msg, message);
}

/* Follows a path like "a/b/0" of mapping keys and sequence indexes. */
static const struct rotarr_ynode *at(const struct rotarr_ynode *node,
                                     const char *path)
{
    char step[64];
    const char *slash;
    size_t len;

    while (node != NULL && *path != '\0') {
        slash = strchr(path, '/');
        len = slash != NULL ? (size_t)(slash - path) : strlen(path);
        ck_assert_uint_lt(len, sizeof(step));
        memcpy(step, path, len);
        step[len] = '\0';
        if (node->kind == ROTARR_YNODE_SEQUENCE) {
            node = (size_t)atoi(step) < node->count
                       ? node->items[atoi(step)]
                       : NULL;
        } else {
            node = rotarr_ynode_get(node, step);
        }
        path += len + (slash != NULL);
    }
    ck_assert_msg(node != NULL, "no node at the path");
    return node;
}

static const struct rotarr_ynode *at_doc(const struct rotarr_ydoc *doc,
                                         const char *path)
{
    return at(rotarr_ydoc_root(doc), path);
}

/* Returns the file text of node's span in a static buffer. */
static const char *span(const struct rotarr_ynode *node)
{
    static char buf[4096];
    const char *bytes = rotarr_ydoc_bytes(node->doc, NULL);
    size_t len = node->end - node->start;

    ck_assert_uint_le(node->start, node->end);
    ck_assert_uint_lt(len, sizeof(buf));
    memcpy(buf, bytes + node->start, len);
    buf[len] = '\0';
    return buf;
}

struct scalars {
    const struct rotarr_ynode *items[MAX_SCALARS];
    size_t count;
};

/* Collects scalars in file order; an alias visits its anchor again. */
static void collect(const struct rotarr_ynode *node, struct scalars *out)
{
    size_t n;
    size_t i;

    if (node->kind == ROTARR_YNODE_SCALAR) {
        ck_assert_uint_lt(out->count, MAX_SCALARS);
        out->items[out->count++] = node;
        return;
    }
    n = node->kind == ROTARR_YNODE_MAPPING ? 2 * node->count : node->count;
    for (i = 0; i < n; i++) {
        collect(node->items[i], out);
    }
}

/*
 * Replaces the scalar at path with the encoding of value, parses the
 * result, and checks that the scalar now reads value and every other
 * scalar keeps its value, moving only by the change in length.
 */
static void check_replace(const char *text, const char *path,
                          const char *value)
{
    static struct scalars before;
    static struct scalars after;
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_ydoc *doc = parse(text);
    struct rotarr_ydoc *edited;
    const struct rotarr_ynode *target = at_doc(doc, path);
    size_t target_index = MAX_SCALARS;
    size_t i;
    long delta;

    before.count = 0;
    after.count = 0;
    rotarr_buf_append(&out, text, target->start, &err);
    ck_assert_int_eq(rotarr_yaml_encode_scalar(value, strlen(value),
                                               target->style, &out, &err),
                     0);
    delta = (long)out.len - (long)target->end;
    rotarr_buf_puts(&out, text + target->end, &err);
    edited = parse(out.data);
    ck_assert_str_eq(at_doc(edited, path)->value, value);
    collect(rotarr_ydoc_root(doc), &before);
    collect(rotarr_ydoc_root(edited), &after);
    ck_assert_uint_eq(before.count, after.count);
    for (i = 0; i < before.count; i++) {
        if (before.items[i] == target) {
            target_index = i;
            continue;
        }
        ck_assert_str_eq(before.items[i]->value, after.items[i]->value);
        ck_assert_int_eq((long)after.items[i]->start,
                         (long)before.items[i]->start +
                             (before.items[i]->start > target->start ? delta
                                                                     : 0));
    }
    ck_assert_uint_lt(target_index, MAX_SCALARS);
    rotarr_buf_release(&out);
    rotarr_ydoc_free(edited);
    rotarr_ydoc_free(doc);
}

static const char styles_yaml[] =
    "plain: some text\n"
    "single: 'it''s'\n"
    "double: \"a\\tb \\\"q\\\"\"\n"
    "literal: |\n"
    "  line one\n"
    "  line two\n"
    "\n"
    "folded: >-\n"
    "  folded\n"
    "  text\n"
    "keep: |+2\n"
    "    indented\n"
    "\n"
    "flow: [x, 'y', \"z\"]\n"
    "last: end\n";

START_TEST(test_yamldoc__plain_span_is_its_text)
{
    struct rotarr_ydoc *doc = parse(styles_yaml);
    const struct rotarr_ynode *node = at_doc(doc, "plain");

    ck_assert_int_eq(node->style, ROTARR_YSTYLE_PLAIN);
    ck_assert_str_eq(span(node), "some text");
    ck_assert_uint_eq(node->line, 1);
    ck_assert_uint_eq(node->column, 8);
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__quoted_spans_include_quotes)
{
    struct rotarr_ydoc *doc = parse(styles_yaml);

    ck_assert_int_eq(at_doc(doc, "single")->style, ROTARR_YSTYLE_SINGLE);
    ck_assert_str_eq(span(at_doc(doc, "single")), "'it''s'");
    ck_assert_str_eq(at_doc(doc, "single")->value, "it's");
    ck_assert_int_eq(at_doc(doc, "double")->style, ROTARR_YSTYLE_DOUBLE);
    ck_assert_str_eq(span(at_doc(doc, "double")), "\"a\\tb \\\"q\\\"\"");
    ck_assert_str_eq(at_doc(doc, "double")->value, "a\tb \"q\"");
    ck_assert_str_eq(span(at_doc(doc, "flow/1")), "'y'");
    ck_assert_str_eq(span(at_doc(doc, "flow/2")), "\"z\"");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__block_spans_end_at_last_text_line)
{
    struct rotarr_ydoc *doc = parse(styles_yaml);

    ck_assert_int_eq(at_doc(doc, "literal")->style, ROTARR_YSTYLE_LITERAL);
    ck_assert_str_eq(span(at_doc(doc, "literal")),
                     "|\n  line one\n  line two");
    ck_assert_str_eq(at_doc(doc, "literal")->value, "line one\nline two\n");
    ck_assert_int_eq(at_doc(doc, "folded")->style, ROTARR_YSTYLE_FOLDED);
    ck_assert_str_eq(span(at_doc(doc, "folded")), ">-\n  folded\n  text");
    ck_assert_str_eq(at_doc(doc, "folded")->value, "folded text");
    ck_assert_str_eq(span(at_doc(doc, "keep")), "|+2\n    indented");
    ck_assert_str_eq(at_doc(doc, "keep")->value, "  indented\n\n");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__flow_collection_spans_brackets)
{
    struct rotarr_ydoc *doc = parse(styles_yaml);
    const struct rotarr_ynode *flow = at_doc(doc, "flow");

    ck_assert_int_eq(flow->kind, ROTARR_YNODE_SEQUENCE);
    ck_assert_int_eq(flow->flow, 1);
    ck_assert_uint_eq(flow->count, 3);
    ck_assert_str_eq(span(flow), "[x, 'y', \"z\"]");
    ck_assert_int_eq(rotarr_ydoc_root(doc)->flow, 0);
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__block_mapping_ends_at_last_value)
{
    struct rotarr_ydoc *doc = parse("a:\n  b: 1\n  c: two\n# note\nd: 3\n");

    ck_assert_str_eq(span(at_doc(doc, "a")), "b: 1\n  c: two");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__anchor_and_tag_left_out_of_span)
{
    struct rotarr_ydoc *doc = parse("a: &pw !!str secret\n"
                                    "b: !reset\n"
                                    "c: &x\n"
                                    "  # comment\n"
                                    "  'quoted'\n");

    ck_assert_str_eq(span(at_doc(doc, "a")), "secret");
    ck_assert_str_eq(at_doc(doc, "a")->anchor, "pw");
    ck_assert_str_eq(at_doc(doc, "a")->tag, "tag:yaml.org,2002:str");
    ck_assert_uint_eq(at_doc(doc, "a")->column, 14);
    ck_assert_str_eq(span(at_doc(doc, "b")), "");
    ck_assert_str_eq(at_doc(doc, "b")->tag, "!reset");
    ck_assert_str_eq(span(at_doc(doc, "c")), "'quoted'");
    ck_assert_uint_eq(at_doc(doc, "c")->line, 5);
    ck_assert_uint_eq(at_doc(doc, "c")->column, 3);
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__spans_count_bytes_after_multibyte)
{
    static const char text[] = "# caf\xC3\xA9 \xF0\x9F\x98\x80\n"
                               "a: \"\xC3\xA9t\xC3\xA9\"\n"
                               "b: \xF0\x9F\x98\x80 x\n"
                               "c: plain\n";
    struct rotarr_ydoc *doc = parse(text);

    ck_assert_str_eq(span(at_doc(doc, "a")), "\"\xC3\xA9t\xC3\xA9\"");
    ck_assert_str_eq(span(at_doc(doc, "b")), "\xF0\x9F\x98\x80 x");
    ck_assert_str_eq(span(at_doc(doc, "c")), "plain");
    ck_assert_uint_eq(at_doc(doc, "c")->start, strlen(text) - 6);
    ck_assert_uint_eq(at_doc(doc, "b")->line, 3);
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__spans_index_bytes_after_bom)
{
    static const char text[] = "\xEF\xBB\xBF"
                               "a: \xC3\xA9\n"
                               "b: 'x'\n";
    struct rotarr_ydoc *doc = parse(text);
    size_t len;

    ck_assert_str_eq(span(at_doc(doc, "a")), "\xC3\xA9");
    ck_assert_uint_eq(at_doc(doc, "a")->start, 6);
    ck_assert_str_eq(span(at_doc(doc, "b")), "'x'");
    ck_assert_ptr_nonnull(rotarr_ydoc_bytes(doc, &len));
    ck_assert_uint_eq(len, strlen(text));
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__spans_exclude_crlf)
{
    struct rotarr_ydoc *doc = parse("a: one\r\n"
                                    "b: |\r\n"
                                    "  two\r\n"
                                    "  three\r\n"
                                    "\r\n"
                                    "c: 'four'\r\n");

    ck_assert_str_eq(span(at_doc(doc, "a")), "one");
    ck_assert_str_eq(span(at_doc(doc, "b")), "|\r\n  two\r\n  three");
    ck_assert_str_eq(at_doc(doc, "b")->value, "two\nthree\n");
    ck_assert_str_eq(span(at_doc(doc, "c")), "'four'");
    ck_assert_uint_eq(at_doc(doc, "c")->line, 6);
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__empty_value_has_empty_span)
{
    struct rotarr_ydoc *doc = parse("a:\nb: x\n");

    ck_assert_uint_eq(at_doc(doc, "a")->start, 2);
    ck_assert_uint_eq(at_doc(doc, "a")->end, 2);
    ck_assert(rotarr_ynode_is_null(at_doc(doc, "a")));
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__is_null_only_for_plain_nulls)
{
    struct rotarr_ydoc *doc = parse("a: ~\nb: null\nc: 'null'\nd: NULL\n"
                                    "e: nil\nf: !!null x\n");

    ck_assert(rotarr_ynode_is_null(at_doc(doc, "a")));
    ck_assert(rotarr_ynode_is_null(at_doc(doc, "b")));
    ck_assert(!rotarr_ynode_is_null(at_doc(doc, "c")));
    ck_assert(rotarr_ynode_is_null(at_doc(doc, "d")));
    ck_assert(!rotarr_ynode_is_null(at_doc(doc, "e")));
    ck_assert(rotarr_ynode_is_null(at_doc(doc, "f")));
    rotarr_ydoc_free(doc);
}
END_TEST

static const char replace_yaml[] =
    "\xEF\xBB\xBF# caf\xC3\xA9 \xF0\x9F\x98\x80\r\n"
    "x-common: &common\r\n"
    "  PASSWORD: &pw old\r\n"
    "services:\r\n"
    "  db:\r\n"
    "    <<: *common\r\n"
    "    environment:\r\n"
    "      PLAIN: plain-old\r\n"
    "      SINGLE: 'single old'\r\n"
    "      DOUBLE: \"double \xC3\xA9 old\"\r\n"
    "      LITERAL: |\r\n"
    "        literal old\r\n"
    "      FOLDED: >\r\n"
    "        folded\r\n"
    "        old\r\n"
    "      ALIAS: *pw\r\n"
    "    command: [\"a\", 'b', c]\r\n"
    "    after: tail \xF0\x9F\x98\x80\r\n";

START_TEST(test_yamldoc__replace_plain_keeps_others)
{
    check_replace(replace_yaml, "services/db/environment/PLAIN",
                  "N3wPassw0rd");
    check_replace(replace_yaml, "services/db/environment/PLAIN",
                  "has: colon");
    check_replace(replace_yaml, "services/db/environment/PLAIN", "true");
}
END_TEST

START_TEST(test_yamldoc__replace_quoted_keeps_others)
{
    check_replace(replace_yaml, "services/db/environment/SINGLE", "it's");
    check_replace(replace_yaml, "services/db/environment/DOUBLE",
                  "back\\slash \"quote\" \xC3\xA9");
    check_replace(replace_yaml, "services/db/environment/DOUBLE",
                  "tab\tnew\nline");
    check_replace(replace_yaml, "services/db/command/1", "x'y");
    check_replace(replace_yaml, "services/db/command/2", "a, b");
}
END_TEST

START_TEST(test_yamldoc__replace_block_keeps_others)
{
    check_replace(replace_yaml, "services/db/environment/LITERAL",
                  "two\nlines\n");
    check_replace(replace_yaml, "services/db/environment/FOLDED", "short");
}
END_TEST

START_TEST(test_yamldoc__replace_anchor_changes_alias)
{
    check_replace(replace_yaml, "x-common/PASSWORD", "n3w");
    check_replace(replace_yaml, "services/db/environment/ALIAS", "n3w");
}
END_TEST

START_TEST(test_yamldoc__alias_reports_anchor_span)
{
    struct rotarr_ydoc *doc = parse(replace_yaml);
    const struct rotarr_ynode *alias =
        at_doc(doc, "services/db/environment/ALIAS");

    ck_assert_ptr_eq(alias, at_doc(doc, "x-common/PASSWORD"));
    ck_assert_str_eq(span(alias), "old");
    ck_assert_uint_eq(alias->line, 3);
    rotarr_ydoc_free(doc);
}
END_TEST

static const char merge_yaml[] = "a: &a {k: from-a, only_a: 1}\n"
                                 "b: &b {k: from-b, only_b: 2}\n"
                                 "one:\n"
                                 "  <<: *a\n"
                                 "  own: 3\n"
                                 "list:\n"
                                 "  k: local\n"
                                 "  <<: [*a, *b]\n";

START_TEST(test_yamldoc__merge_key_adds_pairs)
{
    struct rotarr_ydoc *doc = parse(merge_yaml);
    const struct rotarr_ynode *const *pairs;
    const struct rotarr_ynode *one = at_doc(doc, "one");

    ck_assert_str_eq(rotarr_ynode_get(one, "k")->value, "from-a");
    ck_assert_str_eq(span(rotarr_ynode_get(one, "k")), "from-a");
    ck_assert_ptr_null(rotarr_ynode_get(one, "<<"));
    ck_assert_uint_eq(rotarr_ynode_pairs(one, &pairs), 3);
    ck_assert_str_eq(pairs[0]->value, "k");
    ck_assert_str_eq(pairs[4]->value, "own");
    ck_assert_uint_eq(one->count, 2);
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__merge_list_local_key_wins)
{
    struct rotarr_ydoc *doc = parse(merge_yaml);
    const struct rotarr_ynode *const *pairs;
    const struct rotarr_ynode *list = at_doc(doc, "list");

    ck_assert_str_eq(rotarr_ynode_get(list, "k")->value, "local");
    ck_assert_str_eq(rotarr_ynode_get(list, "only_a")->value, "1");
    ck_assert_str_eq(rotarr_ynode_get(list, "only_b")->value, "2");
    ck_assert_uint_eq(rotarr_ynode_pairs(list, &pairs), 3);
    ck_assert_ptr_null(rotarr_ynode_get(list, "missing"));
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__merge_list_first_source_wins)
{
    struct rotarr_ydoc *doc = parse("a: &a {k: from-a}\n"
                                    "b: &b {k: from-b}\n"
                                    "m: {<<: [*b, *a]}\n");

    ck_assert_str_eq(rotarr_ynode_get(at_doc(doc, "m"), "k")->value,
                     "from-b");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__quoted_merge_key_is_plain_key)
{
    struct rotarr_ydoc *doc = parse("m: {'<<': 1}\n");

    ck_assert_str_eq(rotarr_ynode_get(at_doc(doc, "m"), "<<")->value, "1");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__rejects_merge_of_scalar)
{
    parse_fails("a: 1\nm:\n  <<: x\n",
                "t.yaml:3:7: merge key '<<' needs a mapping or a list of "
                "mappings; use '<<: *anchor' with an anchored mapping");
}
END_TEST

START_TEST(test_yamldoc__keeps_every_document)
{
    struct rotarr_ydoc *doc = parse("a: 1\n---\nb: 2\n");

    ck_assert_uint_eq(rotarr_ydoc_document_count(doc), 2);
    ck_assert_str_eq(at_doc(doc, "a")->value, "1");
    ck_assert_str_eq(at(rotarr_ydoc_document(doc, 1), "b")->value, "2");
    ck_assert_ptr_null(rotarr_ydoc_document(doc, 2));
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__empty_stream_has_no_root)
{
    struct rotarr_ydoc *doc = parse("# only a comment\n");

    ck_assert_uint_eq(rotarr_ydoc_document_count(doc), 0);
    ck_assert_ptr_null(rotarr_ydoc_root(doc));
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__rejects_invalid_yaml_with_position)
{
    parse_fails("a:\n  b: [1, 2\nc: 3\n",
                "t.yaml:3:2: did not find expected ',' or ']' (while "
                "parsing a flow sequence at line 2); check the indentation "
                "and quoting there");
}
END_TEST

START_TEST(test_yamldoc__accepts_valid_flow_sequence)
{
    struct rotarr_ydoc *doc = parse("a:\n  b: [1, 2]\nc: 3\n");

    ck_assert_uint_eq(at_doc(doc, "a/b")->count, 2);
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__rejects_duplicate_key)
{
    parse_fails("a: 1\nb: 2\n\"a\": 3\n",
                "t.yaml:3:1: duplicate key 'a' (first at line 1); remove "
                "or rename one of them");
}
END_TEST

START_TEST(test_yamldoc__rejects_duplicate_key_in_large_mapping)
{
    parse_fails("{k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, "
                "k8: 8, k9: 9, k3: 10}\n",
                "t.yaml:1:72: duplicate key 'k3' (first at line 1); remove "
                "or rename one of them");
}
END_TEST

START_TEST(test_yamldoc__accepts_large_mapping)
{
    struct rotarr_ydoc *doc = parse("{k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, "
                                    "k5: 5, k6: 6, k7: 7, k8: 8, k9: 9}\n");

    ck_assert_uint_eq(rotarr_ydoc_root(doc)->count, 10);
    ck_assert_str_eq(at_doc(doc, "k9")->value, "9");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__accepts_same_key_in_two_mappings)
{
    struct rotarr_ydoc *doc = parse("x: {a: 1}\ny: {a: 2}\n");

    ck_assert_str_eq(at_doc(doc, "y/a")->value, "2");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_yamldoc__rejects_non_utf8)
{
    parse_fails("a: ok\nb: caf\xE9\n",
                "t.yaml:2:7: invalid UTF-8 byte 0xE9; save the file as "
                "UTF-8");
    parse_fails("a: \xC0\xAF\n",
                "t.yaml:1:4: invalid UTF-8 byte 0xC0; save the file as "
                "UTF-8");
    parse_fails("\xFF\xFE"
                "a\0:\0",
                "t.yaml:1:1: invalid UTF-8 byte 0xFF; save the file as "
                "UTF-8");
}
END_TEST

START_TEST(test_yamldoc__accepts_utf8)
{
    struct rotarr_ydoc *doc = parse("b: caf\xC3\xA9 \xF4\x8F\xBF\xBD\n");

    ck_assert_str_eq(at_doc(doc, "b")->value, "caf\xC3\xA9 \xF4\x8F\xBF\xBD");
    rotarr_ydoc_free(doc);
}
END_TEST

/* Returns a YAML text of exactly size bytes: a mapping and comments. */
static char *text_of_size(size_t size)
{
    char *text = malloc(size + 1);
    size_t i;

    ck_assert_ptr_nonnull(text);
    memcpy(text, "a: 1\n", 5);
    for (i = 5; i < size; i++) {
        text[i] = (i - 5) % 80 == 0 ? '#' : (i - 5) % 80 == 79 ? '\n' : 'x';
    }
    text[size] = '\0';
    return text;
}

START_TEST(test_yamldoc__rejects_over_16_mib)
{
    char *text = text_of_size(ROTARR_YDOC_MAX_BYTES + 1);

    parse_fails(text, "t.yaml: larger than the 16 MiB limit for YAML "
                      "files; split it into smaller files");
    free(text);
}
END_TEST

START_TEST(test_yamldoc__accepts_16_mib)
{
    char *text = text_of_size(ROTARR_YDOC_MAX_BYTES);
    struct rotarr_ydoc *doc = parse(text);

    ck_assert_str_eq(at_doc(doc, "a")->value, "1");
    rotarr_ydoc_free(doc);
    free(text);
}
END_TEST

/* Returns head, then entries lines "kNNNNN: 'v\u00e9NNNNN'", then tail:
 * far more than the size from which a worker thread parses the text. */
static char *large_text(const char *head, size_t entries, const char *tail)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    size_t i;

    rotarr_buf_puts(&text, head, &err);
    for (i = 0; i < entries; i++) {
        rotarr_buf_printf(&text, &err, "k%05zu: 'v\xc3\xa9%05zu'\n", i, i);
    }
    rotarr_buf_puts(&text, tail, &err);
    ck_assert_uint_gt(text.len, 256 * 1024);
    return rotarr_buf_detach(&text, NULL);
}

START_TEST(test_yamldoc__large_document_keeps_every_value)
{
    char *text = large_text("first: \"a\\0b\"\n", 20000, "");
    struct rotarr_ydoc *doc = parse(text);
    const struct rotarr_ynode *last = at_doc(doc, "k19999");

    ck_assert_uint_eq(rotarr_ydoc_root(doc)->count, 20001);
    ck_assert_uint_eq(at_doc(doc, "first")->value_len, 3);
    ck_assert_mem_eq(at_doc(doc, "first")->value, "a\0b", 4);
    ck_assert_str_eq(at_doc(doc, "k00000")->value, "v\xc3\xa9" "00000");
    ck_assert_str_eq(last->value, "v\xc3\xa9" "19999");
    ck_assert_str_eq(span(last), "'v\xc3\xa9" "19999'");
    ck_assert_uint_eq(last->line, 20001);
    ck_assert_uint_eq(last->column, 9);
    rotarr_ydoc_free(doc);
    free(text);
}
END_TEST

START_TEST(test_yamldoc__large_document_reports_late_error)
{
    char *text = large_text("first: 1\n", 20000, "late: [1, 2\n");

    parse_fails(text, "t.yaml:20003:1: did not find expected ',' or ']' "
                      "(while parsing a flow sequence at line 20002); check "
                      "the indentation and quoting there");
    free(text);
}
END_TEST

START_TEST(test_yamldoc__large_document_reports_early_error)
{
    char *text = large_text("x: {a: 1, a: 2}\n", 20000, "");

    parse_fails(text, "t.yaml:1:11: duplicate key 'a' (first at line 1); "
                      "remove or rename one of them");
    free(text);
}
END_TEST

/* Returns "billion laughs": levels of lists of ten aliases each. */
static char *alias_bomb(int levels)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    int i;
    int j;

    rotarr_buf_puts(&text, "l0: &l0 [x]\n", &err);
    for (i = 1; i < levels; i++) {
        rotarr_buf_printf(&text, &err, "l%d: &l%d [", i, i);
        for (j = 0; j < 10; j++) {
            rotarr_buf_printf(&text, &err, "%s*l%d", j > 0 ? ", " : "",
                              i - 1);
        }
        rotarr_buf_puts(&text, "]\n", &err);
    }
    return rotarr_buf_detach(&text, NULL);
}

START_TEST(test_yamldoc__rejects_alias_bomb)
{
    char *text = alias_bomb(9);

    parse_fails(text, "t.yaml:7:5: aliases expand to too many nodes; use "
                      "fewer nested aliases");
    free(text);
}
END_TEST

START_TEST(test_yamldoc__accepts_moderate_aliases)
{
    char *text = alias_bomb(5);
    struct rotarr_ydoc *doc = parse(text);

    ck_assert_uint_eq(at_doc(doc, "l4")->count, 10);
    rotarr_ydoc_free(doc);
    free(text);
}
END_TEST

START_TEST(test_yamldoc__rejects_undefined_alias)
{
    parse_fails("a: *nope\n", "t.yaml:1:4: undefined alias 'nope'; define "
                              "the anchor with '&' before using it");
}
END_TEST

START_TEST(test_yamldoc__rejects_recursive_alias)
{
    parse_fails("a: &x [1, *x]\n", "t.yaml:1:11: alias 'x' refers to a node "
                                   "that contains it; remove the loop");
}
END_TEST

/* Returns depth nested flow sequences around one scalar. */
static char *nested(size_t depth)
{
    char *text = malloc(2 * depth + 2);
    size_t i;

    ck_assert_ptr_nonnull(text);
    for (i = 0; i < depth; i++) {
        text[i] = '[';
        text[depth + 1 + i] = ']';
    }
    text[depth] = 'x';
    text[2 * depth + 1] = '\0';
    return text;
}

START_TEST(test_yamldoc__rejects_deep_nesting)
{
    char *text = nested(ROTARR_YDOC_MAX_DEPTH + 1);

    parse_fails(text, "t.yaml:1:257: collections nested too deep; flatten "
                      "the structure");
    free(text);
}
END_TEST

START_TEST(test_yamldoc__accepts_nesting_at_limit)
{
    char *text = nested(ROTARR_YDOC_MAX_DEPTH);
    struct rotarr_ydoc *doc = parse(text);

    ck_assert_uint_eq(rotarr_ydoc_root(doc)->count, 1);
    rotarr_ydoc_free(doc);
    free(text);
}
END_TEST

static void check_encode(const char *value, enum rotarr_yscalar_style style,
                         const char *expected)
{
    struct rotarr_buf out = ROTARR_BUF_INIT;

    ck_assert_int_eq(rotarr_yaml_encode_scalar(value, strlen(value), style,
                                               &out, &err),
                     0);
    ck_assert_str_eq(out.data, expected);
    rotarr_buf_release(&out);
}

START_TEST(test_yamldoc__encode_keeps_plain_when_safe)
{
    check_encode("N3wPassw0rd", ROTARR_YSTYLE_PLAIN, "N3wPassw0rd");
    check_encode("a-b_c.d/e:f", ROTARR_YSTYLE_PLAIN, "a-b_c.d/e:f");
    check_encode("-abc", ROTARR_YSTYLE_PLAIN, "-abc");
    check_encode("caf\xC3\xA9", ROTARR_YSTYLE_PLAIN, "caf\xC3\xA9");
}
END_TEST

START_TEST(test_yamldoc__encode_quotes_unsafe_plain)
{
    check_encode("a: b", ROTARR_YSTYLE_PLAIN, "'a: b'");
    check_encode("a #b", ROTARR_YSTYLE_PLAIN, "'a #b'");
    check_encode("null", ROTARR_YSTYLE_PLAIN, "'null'");
    check_encode("yes", ROTARR_YSTYLE_PLAIN, "'yes'");
    check_encode("0x1F", ROTARR_YSTYLE_PLAIN, "'0x1F'");
    check_encode("1e5", ROTARR_YSTYLE_PLAIN, "'1e5'");
    check_encode("", ROTARR_YSTYLE_PLAIN, "''");
    check_encode("*ref", ROTARR_YSTYLE_PLAIN, "'*ref'");
    check_encode("a,b", ROTARR_YSTYLE_PLAIN, "'a,b'");
    check_encode("---x", ROTARR_YSTYLE_PLAIN, "'---x'");
    check_encode("line\nbreak", ROTARR_YSTYLE_PLAIN, "\"line\\nbreak\"");
}
END_TEST

START_TEST(test_yamldoc__encode_escapes_quoted_styles)
{
    check_encode("it's", ROTARR_YSTYLE_SINGLE, "'it''s'");
    check_encode("a\\\"b", ROTARR_YSTYLE_DOUBLE, "\"a\\\\\\\"b\"");
    check_encode("\x01\x7F", ROTARR_YSTYLE_DOUBLE, "\"\\x01\\x7F\"");
    check_encode("tab\there", ROTARR_YSTYLE_SINGLE, "\"tab\\there\"");
    check_encode("x", ROTARR_YSTYLE_LITERAL, "'x'");
    check_encode("a\nb", ROTARR_YSTYLE_FOLDED, "\"a\\nb\"");
}
END_TEST

START_TEST(test_yamldoc__encode_rejects_invalid_utf8)
{
    struct rotarr_buf out = ROTARR_BUF_INIT;

    ck_assert_int_eq(rotarr_yaml_encode_scalar("caf\xE9", 4,
                                               ROTARR_YSTYLE_DOUBLE, &out,
                                               &err),
                     -1);
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    rotarr_buf_release(&out);
}
END_TEST

START_TEST(test_yamldoc__encoded_values_read_back)
{
    static const char *const values[] = {
        "plain",  "with space", "it's",     "\"dq\"",   "back\\slash",
        "a: b",   " lead",      "trail ",   "#hash",    "a #b",
        "null",   "~",          "123",      "-1.5",     "true",
        "[x]",    "{y}",        "&anchor",  "!tag",     "%pct",
        "@at",    "`tick`",     "|pipe",    ">gt",      "?q",
        "tab\tx", "nl\nx",      "cr\rx",    "\x01",     "\xC2\x85",
        "\xE2\x80\xA8",         "\xEF\xBB\xBF", "caf\xC3\xA9",
        "",
    };
    static const enum rotarr_yscalar_style styles[] = {
        ROTARR_YSTYLE_PLAIN, ROTARR_YSTYLE_SINGLE, ROTARR_YSTYLE_DOUBLE,
        ROTARR_YSTYLE_LITERAL,
    };
    size_t v;
    size_t s;
    size_t c;

    for (v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
        for (s = 0; s < sizeof(styles) / sizeof(styles[0]); s++) {
            for (c = 0; c < 2; c++) {
                struct rotarr_buf enc = ROTARR_BUF_INIT;
                struct rotarr_buf text = ROTARR_BUF_INIT;
                struct rotarr_ydoc *doc;

                ck_assert_int_eq(rotarr_yaml_encode_scalar(
                                     values[v], strlen(values[v]), styles[s],
                                     &enc, &err),
                                 0);
                if (c == 0) {
                    rotarr_buf_printf(&text, &err, "k: %s\n", enc.data);
                } else {
                    rotarr_buf_printf(&text, &err, "k: [%s, z]\n", enc.data);
                }
                doc = parse(text.data);
                ck_assert_str_eq(at_doc(doc, c == 0 ? "k" : "k/0")->value,
                                 values[v]);
                rotarr_ydoc_free(doc);
                rotarr_buf_release(&enc);
                rotarr_buf_release(&text);
            }
        }
    }
}
END_TEST

/* Folds the text of a multi-line plain scalar as YAML does: each line
 * trimmed, lines joined by a space, an empty line giving a line break. */
static void fold_plain(const char *text, size_t len, struct rotarr_buf *out)
{
    size_t start = 0;
    size_t end;
    size_t a;
    size_t b;
    int need_space = 0;

    while (len > 0 && start <= len) {
        for (end = start; end < len && text[end] != '\n'; end++) {
        }
        for (a = start; a < end && strchr(" \t\r", text[a]); a++) {
        }
        for (b = end; b > a && strchr(" \t\r", text[b - 1]); b--) {
        }
        if (a == b) {
            rotarr_buf_append(out, "\n", 1, &err);
            need_space = 0;
        } else {
            if (need_space) {
                rotarr_buf_append(out, " ", 1, &err);
            }
            rotarr_buf_append(out, text + a, b - a, &err);
            need_space = 1;
        }
        start = end + 1;
    }
}

static void check_corpus_spans(const struct rotarr_ydoc *doc)
{
    static struct scalars all;
    struct rotarr_buf folded = ROTARR_BUF_INIT;
    const struct rotarr_ynode *node;
    const char *bytes = rotarr_ydoc_bytes(doc, NULL);
    size_t d;
    size_t i;

    for (d = 0; d < rotarr_ydoc_document_count(doc); d++) {
        all.count = 0;
        collect(rotarr_ydoc_document(doc, d), &all);
        for (i = 0; i < all.count; i++) {
            node = all.items[i];
            if (node->style != ROTARR_YSTYLE_PLAIN) {
                ck_assert(strchr("'\"|>", bytes[node->start]) != NULL);
                continue;
            }
            rotarr_buf_reset(&folded);
            rotarr_buf_append(&folded, "", 0, &err);
            fold_plain(bytes + node->start, node->end - node->start,
                       &folded);
            ck_assert_msg(strcmp(folded.data, node->value) == 0,
                          "%s:%zu: span '%s' is not value '%s'",
                          rotarr_ydoc_path(doc), node->line, folded.data,
                          node->value);
        }
    }
    rotarr_buf_release(&folded);
}

static int is_yaml_name(const char *name)
{
    size_t len = strlen(name);

    return (len > 4 && strcmp(name + len - 4, ".yml") == 0) ||
           (len > 5 && strcmp(name + len - 5, ".yaml") == 0);
}

static void read_all(const char *path, struct rotarr_buf *out)
{
    char chunk[65536];
    size_t n;
    FILE *f = fopen(path, "rb");

    ck_assert_ptr_nonnull(f);
    rotarr_buf_reset(out);
    rotarr_buf_append(out, "", 0, &err);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rotarr_buf_append(out, chunk, n, &err);
    }
    fclose(f);
}

/* Parses every YAML file under dir; returns how many. */
static size_t parse_tree(const char *dir)
{
    struct rotarr_buf bytes = ROTARR_BUF_INIT;
    struct rotarr_ydoc *doc;
    struct dirent *entry;
    struct stat st;
    char path[1024];
    size_t count = 0;
    DIR *d = opendir(dir);

    ck_assert_ptr_nonnull(d);
    while ((entry = readdir(d)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 ||
            strcmp(entry->d_name, "..") == 0) {
            continue;
        }
        ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir,
                                  entry->d_name),
                         (int)sizeof(path));
        ck_assert_int_eq(stat(path, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            count += parse_tree(path);
        } else if (is_yaml_name(entry->d_name)) {
            read_all(path, &bytes);
            doc = rotarr_ydoc_parse(path, bytes.data, bytes.len, &err);
            ck_assert_msg(doc != NULL, "%s", err.msg);
            check_corpus_spans(doc);
            rotarr_ydoc_free(doc);
            count++;
        }
    }
    closedir(d);
    rotarr_buf_release(&bytes);
    return count;
}

START_TEST(test_yamldoc__corpus_parses_with_exact_spans)
{
    const char *shared = getenv("ROTARR_SHARED");
    const char *ci = getenv("CI");
    char corpus[1024];
    struct stat st;

    ck_assert_ptr_nonnull(shared);
    ck_assert_int_lt(snprintf(corpus, sizeof(corpus), "%s/corpus", shared),
                     (int)sizeof(corpus));
    if (stat(corpus, &st) != 0) {
        ck_assert_msg(ci == NULL || strcmp(ci, "true") != 0,
                      "corpus missing at %s", corpus);
        return;
    }
    ck_assert_uint_gt(parse_tree(corpus), 30);
}
END_TEST

static Suite *yamldoc_suite(void)
{
    Suite *s = suite_create("yamldoc");
    TCase *spans = tcase_create("spans");
    TCase *edits = tcase_create("edits");
    TCase *merges = tcase_create("merges");
    TCase *errors = tcase_create("errors");
    TCase *encode = tcase_create("encode");
    TCase *corpus = tcase_create("corpus");

    tcase_add_test(spans, test_yamldoc__plain_span_is_its_text);
    tcase_add_test(spans, test_yamldoc__quoted_spans_include_quotes);
    tcase_add_test(spans, test_yamldoc__block_spans_end_at_last_text_line);
    tcase_add_test(spans, test_yamldoc__flow_collection_spans_brackets);
    tcase_add_test(spans, test_yamldoc__block_mapping_ends_at_last_value);
    tcase_add_test(spans, test_yamldoc__anchor_and_tag_left_out_of_span);
    tcase_add_test(spans, test_yamldoc__spans_count_bytes_after_multibyte);
    tcase_add_test(spans, test_yamldoc__spans_index_bytes_after_bom);
    tcase_add_test(spans, test_yamldoc__spans_exclude_crlf);
    tcase_add_test(spans, test_yamldoc__empty_value_has_empty_span);
    tcase_add_test(spans, test_yamldoc__is_null_only_for_plain_nulls);
    tcase_add_test(spans, test_yamldoc__keeps_every_document);
    tcase_add_test(spans, test_yamldoc__empty_stream_has_no_root);
    suite_add_tcase(s, spans);

    tcase_add_test(edits, test_yamldoc__replace_plain_keeps_others);
    tcase_add_test(edits, test_yamldoc__replace_quoted_keeps_others);
    tcase_add_test(edits, test_yamldoc__replace_block_keeps_others);
    tcase_add_test(edits, test_yamldoc__replace_anchor_changes_alias);
    suite_add_tcase(s, edits);

    tcase_add_test(merges, test_yamldoc__alias_reports_anchor_span);
    tcase_add_test(merges, test_yamldoc__merge_key_adds_pairs);
    tcase_add_test(merges, test_yamldoc__merge_list_local_key_wins);
    tcase_add_test(merges, test_yamldoc__merge_list_first_source_wins);
    tcase_add_test(merges, test_yamldoc__quoted_merge_key_is_plain_key);
    tcase_add_test(merges, test_yamldoc__rejects_merge_of_scalar);
    suite_add_tcase(s, merges);

    tcase_add_test(errors, test_yamldoc__rejects_invalid_yaml_with_position);
    tcase_add_test(errors, test_yamldoc__accepts_valid_flow_sequence);
    tcase_add_test(errors, test_yamldoc__rejects_duplicate_key);
    tcase_add_test(errors, test_yamldoc__accepts_same_key_in_two_mappings);
    tcase_add_test(errors,
                   test_yamldoc__rejects_duplicate_key_in_large_mapping);
    tcase_add_test(errors, test_yamldoc__accepts_large_mapping);
    tcase_add_test(errors, test_yamldoc__rejects_non_utf8);
    tcase_add_test(errors, test_yamldoc__accepts_utf8);
    tcase_add_test(errors, test_yamldoc__rejects_over_16_mib);
    tcase_add_test(errors, test_yamldoc__accepts_16_mib);
    tcase_add_test(errors, test_yamldoc__rejects_alias_bomb);
    tcase_add_test(errors, test_yamldoc__accepts_moderate_aliases);
    tcase_add_test(errors, test_yamldoc__large_document_keeps_every_value);
    tcase_add_test(errors, test_yamldoc__large_document_reports_late_error);
    tcase_add_test(errors, test_yamldoc__large_document_reports_early_error);
    tcase_add_test(errors, test_yamldoc__rejects_undefined_alias);
    tcase_add_test(errors, test_yamldoc__rejects_recursive_alias);
    tcase_add_test(errors, test_yamldoc__rejects_deep_nesting);
    tcase_add_test(errors, test_yamldoc__accepts_nesting_at_limit);
    suite_add_tcase(s, errors);

    tcase_add_test(encode, test_yamldoc__encode_keeps_plain_when_safe);
    tcase_add_test(encode, test_yamldoc__encode_quotes_unsafe_plain);
    tcase_add_test(encode, test_yamldoc__encode_escapes_quoted_styles);
    tcase_add_test(encode, test_yamldoc__encode_rejects_invalid_utf8);
    tcase_add_test(encode, test_yamldoc__encoded_values_read_back);
    suite_add_tcase(s, encode);

    tcase_add_test(corpus, test_yamldoc__corpus_parses_with_exact_spans);
    suite_add_tcase(s, corpus);
    return s;
}

int main(void)
{
    struct rotarr_error init_err = ROTARR_ERROR_INIT;
    SRunner *runner;
    int failed;

    if (rotarr_secret_init(&init_err) < 0) {
        return 1;
    }
    runner = srunner_create(yamldoc_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
