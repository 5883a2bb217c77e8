#include "rotarr/compat.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"
#include "rotarr/fileio.h"

/* Largest delay that CMD_PROGRESS_DELAY_ENV may set. */
#define DELAY_ENV_MAX_MS 60000

/* Width assumed when the terminal does not tell its own. */
#define DEFAULT_COLUMNS 80

/* Erases from the cursor to the end of the line (ECMA-48 EL). */
#define ERASE_TO_END "\033[K"
#define ERASE_LINE "\r" ERASE_TO_END

/* The line on the terminal, which a message must erase first. */
static struct cmd_progress *shown_progress;

/* Set while a line is on the terminal, for cmd_progress_erase_in_handler,
 * which cannot follow shown_progress safely. */
static volatile sig_atomic_t line_on_terminal;

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t start_delay_ms(void)
{
    const char *text = getenv(CMD_PROGRESS_DELAY_ENV);
    char *end;
    long value;

    if (text == NULL || *text == '\0') {
        return CMD_PROGRESS_DELAY_MS;
    }
    errno = 0;
    value = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < 0 ||
        value > DELAY_ENV_MAX_MS) {
        return CMD_PROGRESS_DELAY_MS;
    }
    return value;
}

static size_t terminal_columns(void)
{
    struct winsize ws;

    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        return ws.ws_col;
    }
    return DEFAULT_COLUMNS;
}

/* Writes all of text to standard error; a failure only loses the line. */
static void write_stderr(const char *text, size_t len)
{
    (void)rotarr_write_all(STDERR_FILENO, text, len);
}

/* Appends formatted text to the *len bytes in buf, which has room for
 * size bytes.  Output that does not fit is cut. */
static void append(char *buf, size_t size, size_t *len, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t size, size_t *len, const char *fmt,
                   ...)
{
    va_list ap;
    int n;

    if (*len + 1 >= size) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        buf[*len] = '\0';
        return;
    }
    *len = (size_t)n < size - *len ? *len + (size_t)n : size - 1;
}

int cmd_progress_format_size(char *buf, size_t size, uint64_t bytes)
{
    static const char *const units[] = { "KiB", "MiB", "GiB",
                                         "TiB", "PiB", "EiB" };
    double value = (double)bytes / 1024.0;
    size_t unit = 0;
    int n;

    if (bytes < 1024) {
        n = snprintf(buf, size, "%u B", (unsigned)bytes);
    } else {
        while (value >= 1024.0 && unit + 1 < sizeof(units) / sizeof(*units)) {
            value /= 1024.0;
            unit++;
        }
        n = snprintf(buf, size, "%.*f %s", value < 10.0 ? 1 : 0, value,
                     units[unit]);
    }
    return n < 0 || (size_t)n >= size ? -1 : n;
}

static unsigned percent(uint64_t done, uint64_t total)
{
    double share = (double)done * 100.0 / (double)total;

    return share >= 100.0 ? 100 : (unsigned)share;
}

/* Optional fields of the counts, dropped in this order on a narrow
 * terminal. */
#define FIELD_RATE 1u
#define FIELD_PERCENT 2u

/* Formats "412 MiB / 1.0 GiB (40%), 1.4 GiB/s" or "3 / 12 files (25%)",
 * with only the optional fields that fields has. */
static size_t format_counts(char *buf, size_t size,
                            enum cmd_progress_unit unit, uint64_t done,
                            uint64_t total, int64_t elapsed_ms,
                            unsigned fields)
{
    char done_text[32], total_text[32], rate_text[32];
    size_t len = 0;

    buf[0] = '\0';
    if (unit == CMD_PROGRESS_FILES || unit == CMD_PROGRESS_COMMITS) {
        append(buf, size, &len, "%" PRIu64, done);
        if (total > 0) {
            append(buf, size, &len, " / %" PRIu64, total);
        }
        append(buf, size, &len, " %s%s",
               unit == CMD_PROGRESS_FILES ? "file" : "commit",
               (total > 0 ? total : done) == 1 ? "" : "s");
    } else {
        cmd_progress_format_size(done_text, sizeof(done_text), done);
        append(buf, size, &len, "%s", done_text);
        if (total > 0) {
            cmd_progress_format_size(total_text, sizeof(total_text), total);
            append(buf, size, &len, " / %s", total_text);
        }
    }
    if (total > 0 && (fields & FIELD_PERCENT)) {
        append(buf, size, &len, " (%u%%)", percent(done, total));
    }
    if (unit == CMD_PROGRESS_BYTES && elapsed_ms > 0 &&
        (fields & FIELD_RATE)) {
        cmd_progress_format_size(rate_text, sizeof(rate_text),
                                 (uint64_t)((double)done * 1000.0 /
                                            (double)elapsed_ms));
        append(buf, size, &len, ", %s/s", rate_text);
    }
    return len;
}

/* Appends name with control characters replaced by '?', from its byte
 * skip on, after "..." when skip is not 0. */
static void append_name(char *buf, size_t size, size_t *len,
                        const char *name, size_t skip)
{
    const unsigned char *p = (const unsigned char *)name + skip;

    if (skip > 0) {
        /* Not in the middle of a UTF-8 sequence. */
        while ((*p & 0xc0) == 0x80) {
            p++;
        }
        append(buf, size, len, "...");
    }
    for (; *p != '\0' && *len + 1 < size; p++) {
        buf[(*len)++] = *p < 0x20 || *p == 0x7f ? '?' : (char)*p;
    }
    buf[*len] = '\0';
}

/* Cuts the line to room columns at the end of a word, so that no number
 * is cut in two, and without a trailing separator. */
static size_t cut_at_word(char *buf, size_t len, size_t room)
{
    if (len <= room) {
        return len;
    }
    len = room;
    while (len > 0 && buf[len] != ' ') {
        len--;
    }
    while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == ',' ||
                       buf[len - 1] == ':' || buf[len - 1] == '/')) {
        len--;
    }
    buf[len] = '\0';
    return len;
}

size_t cmd_progress_format(char *buf, size_t size, const char *action,
                           const char *name, enum cmd_progress_unit unit,
                           uint64_t done, uint64_t total,
                           int64_t elapsed_ms, size_t width)
{
    static const unsigned field_sets[] = {
        FIELD_RATE | FIELD_PERCENT, FIELD_PERCENT, 0,
    };
    char counts[128];
    size_t counts_len, fixed, name_len, room, i, len = 0;

    name_len = name != NULL ? strlen(name) : 0;
    room = width == 0 ? SIZE_MAX : width - 1;
    /* "<action> <name>: <counts>", with the fewest fields dropped that
     * lets the whole name fit, else all of them and a shortened name. */
    for (i = 0; i < sizeof(field_sets) / sizeof(*field_sets); i++) {
        counts_len = format_counts(counts, sizeof(counts), unit, done, total,
                                   elapsed_ms, field_sets[i]);
        fixed = strlen(action) + 2 + counts_len;
        if (fixed + (name_len > 0 ? 1 + name_len : 0) <= room) {
            break;
        }
    }
    append(buf, size, &len, "%s", action);
    if (name_len > 0 && fixed + 1 + name_len <= room) {
        append(buf, size, &len, " ");
        append_name(buf, size, &len, name, 0);
    } else if (name_len > 0 && fixed + 1 + 4 <= room) {
        append(buf, size, &len, " ");
        append_name(buf, size, &len, name,
                    name_len - (room - fixed - 1 - 3));
    }
    append(buf, size, &len, ": %s", counts);
    return cut_at_word(buf, len, room);
}

static void draw(struct cmd_progress *p, uint64_t done, uint64_t total,
                 int64_t now)
{
    char line[1 + CMD_PROGRESS_LINE_MAX + sizeof(ERASE_TO_END)];
    size_t len;

    /* The erase after the text removes the end of a longer line before. */
    line[0] = '\r';
    len = 1 + cmd_progress_format(line + 1, CMD_PROGRESS_LINE_MAX, p->action,
                                  p->name, p->unit, done, total,
                                  now - p->start_ms, terminal_columns());
    memcpy(line + len, ERASE_TO_END, strlen(ERASE_TO_END));
    len += strlen(ERASE_TO_END);
    write_stderr(line, len);
    /* This line replaced the one another progress drew. */
    if (shown_progress != NULL && shown_progress != p) {
        shown_progress->shown = 0;
    }
    p->shown = 1;
    line_on_terminal = 1;
    p->drawn_ms = now;
    shown_progress = p;
}

static void report(void *ctx, uint64_t done, uint64_t total)
{
    struct cmd_progress *p = ctx;
    int64_t now;

    if (!p->enabled) {
        return;
    }
    now = now_ms();
    if (!p->started) {
        p->started = 1;
        p->start_ms = now;
    }
    if (now - p->start_ms < p->delay_ms ||
        (p->shown && now - p->drawn_ms < CMD_PROGRESS_REDRAW_MS)) {
        return;
    }
    draw(p, done, total, now);
}

void cmd_progress_begin(struct cmd_progress *p, const char *action,
                        const char *name, enum cmd_progress_unit unit,
                        int allowed)
{
    memset(p, 0, sizeof(*p));
    p->receiver.report = report;
    p->receiver.ctx = p;
    p->action = action;
    p->name = name;
    p->unit = unit;
    p->enabled = allowed && isatty(STDERR_FILENO);
    p->delay_ms = start_delay_ms();
}

int cmd_progress_allowed(int quiet, const char *output)
{
    int to_stdout = output == NULL || strcmp(output, "-") == 0;

    return !quiet && !(to_stdout && isatty(STDOUT_FILENO));
}

const struct rotarr_progress *cmd_progress_receiver(
    const struct cmd_progress *p)
{
    return p->enabled ? &p->receiver : NULL;
}

void cmd_progress_interrupt(void)
{
    if (shown_progress != NULL && shown_progress->shown) {
        write_stderr(ERASE_LINE, strlen(ERASE_LINE));
        shown_progress->shown = 0;
        line_on_terminal = 0;
    }
}

void cmd_progress_erase_in_handler(void)
{
    /* write_stderr calls only write(). */
    if (line_on_terminal) {
        write_stderr(ERASE_LINE, strlen(ERASE_LINE));
        line_on_terminal = 0;
    }
}

void cmd_progress_end(struct cmd_progress *p)
{
    if (p == NULL) {
        return;
    }
    if (p->shown) {
        write_stderr(ERASE_LINE, strlen(ERASE_LINE));
        p->shown = 0;
        line_on_terminal = 0;
    }
    if (shown_progress == p) {
        shown_progress = NULL;
    }
    p->enabled = 0;
}
