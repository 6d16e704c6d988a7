/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the tests whose drivers count their vm_ops calls in debugfs
 * (/sys/kernel/debug/<module>/, one value and a newline per file): read
 * and write those files, run a check in a forked child, and a main() for
 * a test of one node with an nr_pages parameter.
 */
#ifndef MMP_DEBUGFS_H
#define MMP_DEBUGFS_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmp_testlib.h"

#define MMP_DEBUGFS "/sys/kernel/debug"

/*
 * The single line of debugfs file @file of @mod without its newline; it
 * may be empty. False with a diagnostic if unreadable, not exactly one
 * line, or too long for @buf.
 */
static inline bool mmp_dbg_line(const char *mod, const char *file, char *buf,
				size_t size)
{
	char path[PATH_MAX];
	ssize_t n = -1;
	size_t len;
	int fd, err;

	snprintf(path, sizeof(path), MMP_DEBUGFS "/%s/%s", mod, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	err = errno;
	if (fd >= 0) {
		/* debugfs hands out a small file in one read. */
		n = read(fd, buf, size - 1);
		err = errno;
		close(fd);
	}
	if (n < 0) {
		diag("read %s: %s", path, strerror(err));
		return false;
	}
	buf[n] = '\0';
	len = strcspn(buf, "\n");
	/* The first newline ends the file, which fit with room to spare. */
	if (len + 1 != (size_t)n || (size_t)n == size - 1) {
		diag("%s: '%.*s' is not a single line", path, (int)len, buf);
		return false;
	}
	buf[len] = '\0';
	return true;
}

/* A decimal count from debugfs; false with a diagnostic. */
static inline bool mmp_dbg_long(const char *mod, const char *file, long *val)
{
	char buf[32], *end;
	long v;

	if (!mmp_dbg_line(mod, file, buf, sizeof(buf)))
		return false;
	errno = 0;
	v = strtol(buf, &end, 10);
	/* strtol() would take a sign or blanks: counts have neither. */
	if (buf[0] >= '0' && buf[0] <= '9' && !*end && !errno) {
		*val = v;
		return true;
	}
	diag(MMP_DEBUGFS "/%s/%s: '%s' is not a decimal count", mod, file,
	     buf);
	return false;
}

/*
 * Write @val to a debugfs knob of @mod, but only where the module's
 * debugfs directory exists: on a machine without the driver this writes
 * nothing at all.
 */
static inline bool mmp_dbg_write(const char *mod, const char *file,
				 const char *val)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), MMP_DEBUGFS "/%s", mod);
	if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
		diag("no %s: not writing '%s' to %s", path, val, file);
		return false;
	}
	snprintf(path, sizeof(path), MMP_DEBUGFS "/%s/%s", mod, file);
	return mmp_sysfs_write(path, val);
}

/* Run @fn(@arg) in a forked child; true if it returned true there. */
static inline bool mmp_in_child(bool (*fn)(void *), void *arg)
{
	pid_t pid = mmp_fork();

	if (pid == 0)
		_exit(fn(arg) ? 0 : 1);
	return pid > 0 && mmp_wait_child(pid) == 0;
}

/*
 * The main() of a test of @n, a node of module @mod: mmp_test_start() for
 * @plan results, n->pages from the module's nr_pages (@def if unreadable),
 * quiet if the node is missing, @tests(page size), then the module suite
 * for @n alone. Returns the exit status, 2 after printing the usage.
 */
static inline int mmp_dbg_main(int argc, char **argv, const char *mod,
			       int plan, struct mmp_node *n, unsigned long def,
			       void (*tests)(size_t page))
{
	size_t page;
	const char *ko;
	bool no_module;
	char back[128];

	page = mmp_test_start(argc, argv, mod, plan, &ko, &no_module);
	if (!page)
		return 2;
	n->pages = mmp_nr_pages_param(mod, def);
	ktap_diag("%s: nr_pages=%zu page_size=%zu", n->path, n->pages, page);
	mmp_quiet_if_missing(n);
	tests(page);
	mmp_quiet = false;

	snprintf(back, sizeof(back),
		 "module: %s back with the pattern in page 0 after reload",
		 n->path);
	mmp_module_suite(mod, ko, no_module, n, 1, 1, back);
	return ktap_finish();
}

#endif /* MMP_DEBUGFS_H */
