/*
 * Turns calls to libc functions that overflow buffers, truncate silently or
 * use shared static state into compile errors.  Use snprintf, memcpy with
 * a checked length, strtok_r and gmtime_r/localtime_r instead.
 */
#ifndef ROTARR_BANNED_H
#define ROTARR_BANNED_H

#define ROTARR_BANNED(func) sorry_##func##_is_banned_in_rotarr

#undef strcpy
#define strcpy(x, y) ROTARR_BANNED(strcpy)
#undef strcat
#define strcat(x, y) ROTARR_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) ROTARR_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) ROTARR_BANNED(strncat)
#undef sprintf
#define sprintf(...) ROTARR_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) ROTARR_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) ROTARR_BANNED(strtok)
#undef gmtime
#define gmtime(t) ROTARR_BANNED(gmtime)
#undef localtime
#define localtime(t) ROTARR_BANNED(localtime)
#undef ctime
#define ctime(t) ROTARR_BANNED(ctime)
#undef asctime
#define asctime(t) ROTARR_BANNED(asctime)
#undef mktemp
#define mktemp(x) ROTARR_BANNED(mktemp)

#endif
