/*
 * sysroot.h - reads and writes of machine-wide files (/proc/sys, /sys,
 * /proc/irq, /proc/vmstat, ...) relative to a root directory, so a test can
 * hand the agent a fake machine as a plain directory tree (`--sysroot DIR`).
 * A NULL or empty root, or "/", means the real machine.  Per-process files
 * (/proc/PID/...) never go through here: they always come from the kernel.
 */
#ifndef PB_SYSROOT_H
#define PB_SYSROOT_H

#include <stddef.h>

/* Writes ROOT + abs_path into out.  abs_path must start with '/'.
 * PB_ETOOBIG when it does not fit. */
int pb_sys_path(char *out, size_t size, const char *root, const char *abs_path);

/* Reads the whole (small) file into buf, NUL-terminated, one trailing
 * newline removed.  PB_ENOTFOUND when it does not exist, PB_ETOOBIG when it
 * does not fit, PB_ERROR otherwise; the message names the full path. */
int pb_sys_read(const char *root, const char *abs_path, char *buf,
		size_t size);

/* Writes value to an existing file with one write(2), as `echo v > f` does
 * for sysfs and procfs (O_TRUNC, never O_CREAT: the file must exist).
 * A kernel that refuses the value (EINVAL, EIO, EPERM...) gives PB_ERROR with
 * the errno text in the message; a missing file PB_ENOTFOUND. */
int pb_sys_write(const char *root, const char *abs_path, const char *value);

#endif
