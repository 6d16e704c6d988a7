// SPDX-License-Identifier: GPL-2.0
/*
 * KTAP test for the mmp_readonly driver.
 *
 * The module exports nr_pages kernel pages holding the pattern, read-only:
 * the node is 0444, but root opens it O_RDWR regardless, so the driver's
 * mmap policy is what must refuse every writable mapping, shared or
 * private, and clear VM_MAYWRITE and VM_MAYEXEC so that mprotect() cannot
 * add either later. io_uring pins fixed buffers for writing, so it cannot
 * register such a mapping.
 *
 * A debugfs knob makes the driver name an action the kernel fails, with
 * error_override = -EAGAIN: mmap() must then fail EAGAIN, not with the
 * core's own error, and leave nothing mapped. The test turns the knob off
 * again whatever happens, and only touches it where the driver is loaded.
 *
 * Usage: mmp_readonly_test [-k mmp_readonly.ko] [-n]
 *   -k  reload the module from this file after the unload test
 *   -n  skip the module unload/reload section
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "ktap.h"
#include "mmp_testlib.h"
#include "mmp_util.h"

#define MOD_NAME	"mmp_readonly"
#define DEFAULT_NR_PAGES 16UL

enum {
	N_VMFLAGS = 3,
	N_EXTRA_BAD = 2,
	N_MPROTECT = 4,
	N_OVERRIDE = 3,
	PLAN = 1 + 1 + MMP_N_PATTERN_MAPS + N_VMFLAGS +
	       MMP_N_BAD_MAPS_ALLOW_PRIVATE + N_EXTRA_BAD + N_MPROTECT +
	       MMP_N_IO_URING + N_OVERRIDE + MMP_N_MODULE(1),
};

static size_t page;
static struct mmp_node node = {
	.path = "/dev/mmp-readonly", .name = "readonly",
	.shows = "the pattern", .check = mmp_pattern_check,
};

/* Mode bits do not bind root: the mmap policy has to. */
static void test_open_rdwr(void)
{
	int fd = mmp_open_dev(node.path, O_RDWR);

	mmp_close_fd(fd);
	ktap_result(fd >= 0, "%s: root can still open the 0444 node O_RDWR",
		    node.name);
}

/* No write or exec permission, possible or actual, even from O_RDWR. */
static void test_vmflags(void)
{
	const struct mmp_vmflags v[] = {
		{ "RO map from O_RDONLY fd", O_RDONLY, PROT_READ, MAP_SHARED,
		  "rd mr ms mm de", "sh wr mw ex me io pf" },
		{ "RO map from O_RDWR fd", O_RDWR, PROT_READ, MAP_SHARED,
		  "rd sh mr ms mm de", "wr mw ex me io pf" },
		{ "MAP_PRIVATE RO map from O_RDWR fd", O_RDWR, PROT_READ,
		  MAP_PRIVATE, "rd mr mm de", "sh ms wr mw ex me io pf" },
	};
	_Static_assert(sizeof(v) / sizeof(v[0]) == N_VMFLAGS, "plan");

	mmp_run_vmflags(&node, v, N_VMFLAGS);
}

static void test_bad_maps(void)
{
	/* O_RDWR: the write refusals must come from the driver, not the VFS. */
	const struct mmp_bad_map bad[] = {
		{ "mmap PROT_READ|PROT_WRITE on O_RDWR fd", page, 0,
		  PROT_READ | PROT_WRITE, MAP_SHARED, O_RDWR, EACCES },
		{ "mmap MAP_PRIVATE PROT_READ|PROT_WRITE on O_RDWR fd", page, 0,
		  PROT_READ | PROT_WRITE, MAP_PRIVATE, O_RDWR, EACCES },
	};
	_Static_assert(sizeof(bad) / sizeof(bad[0]) == N_EXTRA_BAD, "plan");

	mmp_test_bad_maps_allow_private(&node, "nr_pages", ENXIO);
	mmp_run_bad_maps(&node, bad, N_EXTRA_BAD);
}

/* VM_MAYWRITE and VM_MAYEXEC are gone from every kind of mapping. */
static void test_mprotect(void)
{
	static const struct {
		int oflags;
		int flags;
		const char *desc;
	} maps[] = {
		{ O_RDONLY, MAP_SHARED, "MAP_SHARED map from O_RDONLY fd" },
		{ O_RDWR, MAP_SHARED, "MAP_SHARED map from O_RDWR fd" },
		{ O_RDONLY, MAP_PRIVATE, "MAP_PRIVATE map from O_RDONLY fd" },
		{ O_RDWR, MAP_PRIVATE, "MAP_PRIVATE map from O_RDWR fd" },
	};
	_Static_assert(sizeof(maps) / sizeof(maps[0]) == N_MPROTECT, "plan");
	size_t i;

	for (i = 0; i < N_MPROTECT; i++) {
		int fd = mmp_open_dev(node.path, maps[i].oflags);
		void *p = mmp_map(fd, 0, 1, PROT_READ, maps[i].flags);
		bool ok = false;
		int ret;

		if (p) {
			/* All three run so that each failure is reported. */
			ret = mprotect(p, page, PROT_READ | PROT_WRITE);
			ok = ktap_errno_ok(ret, errno, EACCES, "mprotect RW");
			ret = mprotect(p, page, PROT_READ | PROT_EXEC);
			ok = ktap_errno_ok(ret, errno, EACCES, "mprotect RX") &&
			     ok;
			ok = mmp_pattern_check("after refused mprotect", p, 1) &&
			     ok;
		}
		mmp_unmap_pages(p, 1);
		mmp_close_fd(fd);
		ktap_result(ok,
			    "%s: mprotect PROT_READ|PROT_WRITE and PROT_READ|PROT_EXEC of %s fail EACCES, page 0 still shows the pattern",
			    node.name, maps[i].desc);
	}
}

/* Write @val to the knob (only where the driver is) and read it back. */
static bool set_fail_action(const char *val)
{
	char got[16];

	if (!mmp_debugfs_write(MOD_NAME, "fail_action", val) ||
	    !mmp_debugfs_line(MOD_NAME, "fail_action", got, sizeof(got)))
		return false;
	if (strcmp(got, val)) {
		diag("fail_action reads '%s' after writing %s", got, val);
		return false;
	}
	return true;
}

static void test_error_override(void)
{
	const struct mmp_bad_map bad = {
		"mmap with fail_action=1 (error_override -EAGAIN)",
		node.pages * page, 0, PROT_READ, MAP_SHARED, O_RDONLY, EAGAIN
	};
	bool on, off;

	on = set_fail_action("1");
	ktap_result(on, "%s: debugfs fail_action reads 1 after writing 1",
		    node.name);
	mmp_run_bad_maps(&node, &bad, 1);
	/* Off again whatever failed: later tests need working mmap(). */
	off = set_fail_action("0") &&
	      mmp_fresh_map_check("full map after fail_action=0", node.path,
				  0, node.pages, 0);
	ktap_result(off,
		    "%s: fail_action reads 0 after writing 0, a full map works again and shows the pattern",
		    node.name);
}

static void tests(size_t page_size)
{
	page = page_size;
	test_open_rdwr();
	mmp_test_pattern_maps(&node);
	test_vmflags();
	test_bad_maps();
	test_mprotect();
	mmp_test_io_uring_prot(&node, PROT_READ);
	test_error_override();
}

int main(int argc, char **argv)
{
	static const struct mmp_node_test t = {
		.mod = MOD_NAME, .plan = PLAN, .n = &node,
		.def_pages = DEFAULT_NR_PAGES, .mode = 0444, .tests = tests,
		.back = "module: device node back after reload, page 0 holds the pattern",
	};

	return mmp_node_test_main(argc, argv, &t);
}
