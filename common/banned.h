/*
 * banned.h - functions perfbisect does not use (after git's banned.h).
 *
 * Included last by every .c file of the project (through util.h), after the
 * system headers, so that a call to one of these is a compile error.  Each has
 * a bounded or checked replacement: pb_buf_printf/snprintf for sprintf,
 * pb_strlcpy for strcpy, pb_parse_* for atoi/atol, strtok_r for strtok.
 */
#ifndef PB_BANNED_H
#define PB_BANNED_H

#define PB_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) PB_BANNED(strcpy)
#undef strcat
#define strcat(x, y) PB_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) PB_BANNED(strncpy)
#undef sprintf
#define sprintf(...) PB_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) PB_BANNED(vsprintf)
#undef gets
#define gets(x) PB_BANNED(gets)
#undef atoi
#define atoi(x) PB_BANNED(atoi)
#undef atol
#define atol(x) PB_BANNED(atol)
#undef strtok
#define strtok(x, y) PB_BANNED(strtok)

#endif
