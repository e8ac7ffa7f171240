/*
 * sysroot.c - see sysroot.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/sysroot.h"
#include "common/util.h"

int pb_sys_path(char *out, size_t size, const char *root, const char *abs_path)
{
	size_t rl;

	if (!abs_path || abs_path[0] != '/')
		return pb_error_code(PB_EINVAL, "not an absolute path: '%s'",
				     abs_path ? abs_path : "(null)");
	if (!root || !root[0] || (root[0] == '/' && !root[1]))
		root = "";
	rl = strlen(root);
	while (rl > 0 && root[rl - 1] == '/')
		rl--;
	if (rl + strlen(abs_path) + 1 > size)
		return pb_error_code(PB_ETOOBIG, "path too long: %.*s%s",
				     (int)rl, root, abs_path);
	memcpy(out, root, rl);
	memcpy(out + rl, abs_path, strlen(abs_path) + 1);
	return PB_OK;
}

int pb_sys_read(const char *root, const char *abs_path, char *buf, size_t size)
{
	char path[4096];
	size_t len = 0;
	int fd, rc;

	if (size == 0)
		return pb_error_code(PB_EINVAL, "no room to read %s", abs_path);
	rc = pb_sys_path(path, sizeof(path), root, abs_path);
	if (rc)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pb_error_code(errno == ENOENT ? PB_ENOTFOUND : PB_ERROR,
				     "cannot read %s: %s", path, strerror(errno));
	for (;;) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			return pb_error_set("cannot read %s: %s", path,
					    strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == size - 1) {
			char extra;

			n = read(fd, &extra, 1);
			if (n > 0) {
				close(fd);
				return pb_error_code(PB_ETOOBIG,
						     "%s is larger than %zu bytes",
						     path, size - 1);
			}
			break;
		}
	}
	close(fd);
	buf[len] = '\0';
	if (len > 0 && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return PB_OK;
}

int pb_sys_write(const char *root, const char *abs_path, const char *value)
{
	char path[4096];
	size_t len = strlen(value);
	ssize_t n;
	int fd, rc;

	rc = pb_sys_path(path, sizeof(path), root, abs_path);
	if (rc)
		return rc;
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC); /* as `echo v > f` */
	if (fd < 0)
		return pb_error_code(errno == ENOENT ? PB_ENOTFOUND : PB_ERROR,
				     "cannot open %s for writing: %s", path,
				     strerror(errno));
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != len) {
		int e = n < 0 ? errno : EIO;

		close(fd);
		return pb_error_set("cannot write '%s' to %s: %s", value, path,
				    strerror(e));
	}
	if (close(fd) < 0)
		return pb_error_set("cannot write '%s' to %s: %s", value, path,
				    strerror(errno));
	return PB_OK;
}
