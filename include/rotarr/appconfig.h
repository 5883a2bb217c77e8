/*
 * The settings files that apps keep in their bind-mounted config
 * directory: the Servarr apps' config.xml (Sonarr, Radarr, Prowlarr,
 * Lidarr, Readarr, Whisparr), Bazarr's config/config.yaml and the
 * settings.json of Jellyseerr and Overseerr.
 *
 * A file is read into a flat list of settings, each with its decoded
 * value and the byte span of its text in the file.  A secret is then
 * rewritten by replacing that span, and every other byte stays as it
 * was.  YAML and JSON are read with rotarr/yamldoc.h, since JSON is YAML.
 */
#ifndef ROTARR_APPCONFIG_H
#define ROTARR_APPCONFIG_H

#include <stddef.h>

#include "rotarr/buf.h"
#include "rotarr/compat.h"
#include "rotarr/error.h"
#include "rotarr/yamldoc.h"

/* Deepest element nesting read in an XML file. */
#define ROTARR_APPCONFIG_MAX_DEPTH 32

enum rotarr_appconfig_format {
    ROTARR_APPCONFIG_XML,  /* Servarr config.xml */
    ROTARR_APPCONFIG_YAML, /* Bazarr config.yaml */
    ROTARR_APPCONFIG_JSON, /* Jellyseerr and Overseerr settings.json */
};

/*
 * One setting with a text value.  XML: an element holding only text,
 * keyed by its element names below the root ("ApiKey").  YAML and JSON:
 * a scalar, keyed by its mapping keys and sequence indexes joined with
 * '.' ("postgresql.password", "sonarr.0.apiKey").
 */
struct rotarr_appconfig_setting {
    char *key;
    char *value; /* decoded; wiped on free since it may be a secret */
    size_t value_len;
    size_t start, end;   /* bytes of the value's text in the file */
    size_t line, column; /* of start, 1-based; column counts bytes */
    const struct rotarr_ynode *node; /* YAML and JSON; NULL for XML */
};

struct rotarr_appconfig;

/*
 * Parses the len bytes of the file display (used in messages) as format.
 * The bytes must stay valid while the result is used.  Returns the
 * settings, or NULL with err set to ROTARR_EFILE and a message
 * "DISPLAY:LINE:COLUMN: invalid XML: ..." (or the YAML reader's message)
 * when the file is not well-formed.  The XML reader accepts elements,
 * attributes, comments, processing instructions and the five predefined
 * and numeric character references; it rejects a DOCTYPE and CDATA.
 */
struct rotarr_appconfig *
rotarr_appconfig_parse(const char *display,
                       enum rotarr_appconfig_format format,
                       const char *bytes, size_t len,
                       struct rotarr_error *err) ROTARR_MUST_CHECK;

enum rotarr_appconfig_format
rotarr_appconfig_format(const struct rotarr_appconfig *config);

/* Returns the name of the XML root element ("Config"), or "". */
const char *rotarr_appconfig_root(const struct rotarr_appconfig *config);

size_t rotarr_appconfig_count(const struct rotarr_appconfig *config);
const struct rotarr_appconfig_setting *
rotarr_appconfig_setting(const struct rotarr_appconfig *config, size_t i);

/* Returns the setting whose key equals key, ignoring ASCII case, or
 * NULL. */
const struct rotarr_appconfig_setting *
rotarr_appconfig_find(const struct rotarr_appconfig *config, const char *key);

/* Returns 1 when the last part of a setting's key names a password, key,
 * secret or token ("PostgresPassword", "radarr.0.apiKey"). */
int rotarr_appconfig_names_secret(const char *key);

/*
 * Appends the XML text that an element's content must hold to read back
 * as the len bytes of value: '&', '<', '>', '"' and '\'' become
 * predefined entity references.  Returns 0, or -1 with err set to
 * ROTARR_EUSAGE when value contains a control character other than tab, line
 * feed and carriage return, which XML 1.0 cannot carry.
 */
int rotarr_xml_escape(const char *value, size_t len, struct rotarr_buf *out,
                      struct rotarr_error *err) ROTARR_MUST_CHECK;

/* Frees the settings, wiping their values, and the YAML tree.  Accepts
 * NULL.  The bytes given to rotarr_appconfig_parse are not freed. */
void rotarr_appconfig_free(struct rotarr_appconfig *config);

#endif
