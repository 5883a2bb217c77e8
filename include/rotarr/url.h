/*
 * Connection URLs (scheme://user:password@host:port/path?query): percent-
 * encoding of the userinfo part and a parser that finds where each part
 * sits, so that a caller can replace the password bytes in place and leave
 * the rest of the text as it was.
 */
#ifndef ROTARR_URL_H
#define ROTARR_URL_H

#include <stddef.h>

#include "rotarr/buf.h"
#include "rotarr/compat.h"
#include "rotarr/error.h"

/*
 * Appends s (len bytes) to out percent-encoded for the userinfo of a URL.
 * The RFC 3986 unreserved characters A-Z a-z 0-9 '-' '.' '_' '~' stay as
 * they are.  Every other byte becomes %XX with upper-case hex digits, so
 * "a/b:c@d%e" gives "a%2Fb%3Ac%40d%25e".  out is grown once before the
 * first byte, so a password leaves no stray copy in freed memory when out
 * starts empty.  The caller wipes out.  Returns 0, or -1 with err set when
 * memory runs out.
 */
int rotarr_url_encode_userinfo(const char *s, size_t len,
                               struct rotarr_buf *out,
                               struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Appends s (len bytes) to out with every %XX replaced by its byte; '+'
 * stays '+'.  Returns 0, or -1 with err set (ROTARR_EFILE) for a '%' not
 * followed by two hex digits, or for %00, which no C string can hold.  The
 * message names the offset, never the text, because s may be a password.
 * On failure out may hold part of the result; the caller wipes it.
 */
int rotarr_url_decode(const char *s, size_t len, struct rotarr_buf *out,
                      struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Byte offsets into the parsed text.  Each span is [start, end).  The
 * password span excludes the ':' and the '@'.  has_password is 0 when the
 * userinfo has no ':', and the password span is then empty at user_end.
 * has_userinfo is 0 when there is no '@', and the user and password spans
 * are then empty at host_start.  port is -1 when absent or written as a
 * variable.  path_start is where the path, query or fragment begins (end
 * when there is none), and end is the first byte after the URL.
 */
struct rotarr_url_parts {
    size_t scheme_end;
    int has_userinfo;
    size_t user_start, user_end;
    int has_password;
    size_t password_start, password_end;
    size_t host_start, host_end;
    int port;
    size_t path_start, end;
};

/*
 * Finds the parts of the URL that starts at offset 0 of text (len bytes),
 * which may go on past the URL.  The scheme is any RFC 3986 scheme
 * (postgres, postgresql, redis, rediss, mysql, amqp, http, https and the
 * rest) followed by "://".  The URL ends at the end of text, at
 * whitespace, a control character or one of " ' ` < > that is not inside
 * a ${...} expression.
 *
 * Compose variables may stand for any part: '@', ':', '/' and the
 * characters above do not count as delimiters inside ${...}, and "$$" is
 * a literal '$'.  A ${ that is not closed ends at the next line break.
 * The userinfo ends at the last '@' of the authority, so a password with
 * a raw '@' still parses.  IPv6 hosts are written in brackets.  Returns
 * 0, or -1 when text does not start with scheme://authority or the port
 * is neither digits (0 to 65535) nor a variable.
 */
int rotarr_url_parse(const char *text, size_t len,
                     struct rotarr_url_parts *parts)
    ROTARR_MUST_CHECK;

#endif
