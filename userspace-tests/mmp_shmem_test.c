// SPDX-License-Identifier: GPL-2.0
/*
 * KTAP test for the mmp_shmem driver.
 *
 * /dev/mmp-shmem behaves like /dev/zero: every MAP_SHARED mmap() gets a
 * new zero-filled shmem object of the mapping's size (the driver swaps
 * the VMA's file for it), shared with forked children but with no other
 * mmap(); MAP_PRIVATE gives anonymous copy-on-write memory. There are no
 * offsets. Since a shared VMA holds only the shmem file, it does not pin
 * the module, which unloads under it while the memory stays usable; a
 * private VMA keeps the device file and so the module.
 *
 * Usage: mmp_shmem_test [-k mmp_shmem.ko] [-n]
 *   -k  reload the module from this file after the unload test
 *   -n  skip the module unload/reload section
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ktap.h"
#include "mmp_testlib.h"
#include "mmp_util.h"

#define MOD_NAME	"mmp_shmem"
#define OBJ_NAME	"mmp-shmem"	/* the shmem file the driver creates */
#define BIG_BYTES	(256UL << 20)

enum {
	N_ZERO = 4,
	N_FORK = 2,
	N_VMFLAGS = 2,
	N_BAD = 7,
	N_MODULE = MMP_N_PINNED + MMP_N_UNLOAD + 1 + MMP_N_RELOAD,
	PLAN = 1 + N_ZERO + 1 + 2 * N_FORK + 1 + 2 + N_VMFLAGS + N_BAD + 1 +
	       N_MODULE,
};

static size_t page;
static struct mmp_node node = {
	.path = "/dev/mmp-shmem", .name = "shmem", .pages = 4,
	.shows = "zeros", .check = mmp_zero_check,
};

static const char *kind(int flags)
{
	return flags == MAP_SHARED ? "MAP_SHARED" : "MAP_PRIVATE";
}

/* RW map of @pages pages with @flags; NULL with a diagnostic. */
static void *map_rw(size_t pages, int flags)
{
	int fd = mmp_open_dev(node.path, O_RDWR);
	void *p = mmp_map(fd, 0, pages, PROT_READ | PROT_WRITE, flags);

	/* Neither kind of mapping needs the fd any more. */
	mmp_close_fd(fd);
	return p;
}

/* Zero-filled, and stores stick: @off is the pattern offset to use. */
static bool zero_then_store(const char *what, char *p, size_t off,
			    size_t len)
{
	if (!mmp_check_const(what, p, len, 0))
		return false;
	return mmp_fill_bytes(what, p, off, len, 0) &&
	       mmp_check_bytes(what, p, off, len, 0);
}

static void test_zero_fill(void)
{
	static const struct {
		int flags;
		size_t pages;
	} maps[] = {
		{ MAP_SHARED, 1 }, { MAP_SHARED, 64 },
		{ MAP_PRIVATE, 1 }, { MAP_PRIVATE, 64 },
	};
	_Static_assert(sizeof(maps) / sizeof(maps[0]) == N_ZERO, "plan");
	size_t i;

	for (i = 0; i < N_ZERO; i++) {
		size_t len = maps[i].pages * page;
		char *p = map_rw(maps[i].pages, maps[i].flags);
		bool ok = p && zero_then_store("new map", p, 0, len);

		mmp_unmap_pages(p, maps[i].pages);
		ktap_result(ok,
			    "%s: %s map of %zu page(s) starts zero-filled and takes stores",
			    node.name, kind(maps[i].flags), maps[i].pages);
	}
}

/* shmem allocates on demand: only the touched pages cost anything. */
static void test_big(void)
{
	size_t pages = BIG_BYTES / page, i;
	const size_t touch[] = { 0, pages / 2, pages - 1 };
	char *p = map_rw(pages, MAP_SHARED);
	bool ok = p != NULL;

	for (i = 0; ok && i < sizeof(touch) / sizeof(touch[0]); i++)
		ok = zero_then_store("256 MiB map", p + touch[i] * page,
				     touch[i] * page, page);
	mmp_unmap_pages(p, pages);
	ktap_result(ok,
		    "%s: 256 MiB MAP_SHARED map succeeds; its first, middle and last page start zero-filled and take stores",
		    node.name);
}

#define XOR_PARENT	0x11
#define XOR_CHILD	0x22
/* Child exit code bits */
#define SAW_WRONG	1
#define STORE_FAILED	2
#define NO_GO		4

/* Wait for the parent's store, look at page 1, store to page 0. */
static int fork_child(char *p, int go, bool shared)
{
	int ret = 0;
	char c;

	if (read(go, &c, 1) != 1)
		return NO_GO;
	if (!mmp_check_bytes("child: page 1", p + page, page, page,
			     shared ? XOR_PARENT : 0))
		ret |= SAW_WRONG;
	if (!mmp_fill_bytes("child: store to page 0", p, 0, page, XOR_CHILD))
		ret |= STORE_FAILED;
	return ret;
}

/*
 * Both pages hold the pattern at fork. Then the parent stores to page 1
 * and lets the child go through a pipe; the child looks at page 1, stores
 * to page 0 and exits; the parent looks at page 0. One shared object
 * carries both stores across; with copy-on-write each side keeps seeing
 * the pattern.
 */
static void test_fork(int flags)
{
	bool shared = flags == MAP_SHARED, stored = false, parent_ok = false;
	char *p = map_rw(2, flags);
	int go[2] = { -1, -1 }, status = -1;
	pid_t pid = -1;

	if (p && mmp_fill_bytes("before fork", p, 0, 2 * page, 0)) {
		if (pipe2(go, O_CLOEXEC))
			diag("pipe2: %s", strerror(errno));
		else
			pid = mmp_fork();
	}
	if (pid == 0) {
		close(go[1]);
		_exit(fork_child(p, go[0], shared));
	}
	if (pid > 0) {
		stored = mmp_fill_bytes("parent: store to page 1", p + page,
					page, page, XOR_PARENT);
		if (stored && write(go[1], "g", 1) != 1) {
			diag("write to pipe: %s", strerror(errno));
			stored = false;
		}
		/* Without the go byte the child sees EOF instead of hanging. */
		close(go[1]);
		go[1] = -1;
		status = mmp_wait_child(pid);
		parent_ok = status >= 0 && !(status & STORE_FAILED) &&
			    mmp_check_bytes("parent: page 0", p, 0, page,
					    shared ? XOR_CHILD : 0);
	}
	mmp_close_fd(go[0]);
	mmp_close_fd(go[1]);
	mmp_unmap_pages(p, 2);
	ktap_result(stored && status >= 0 && !(status & (SAW_WRONG | NO_GO)),
		    "%s: %s: the child %s the parent's store made after fork",
		    node.name, kind(flags),
		    shared ? "sees" : "does not see (copy-on-write)");
	ktap_result(parent_ok,
		    "%s: %s: after waitpid the parent %s the child's store",
		    node.name, kind(flags),
		    shared ? "sees" : "does not see (copy-on-write)");
}

/* Each mmap() is its own object, even through the same fd. */
static void test_separate(void)
{
	int fd = mmp_open_dev(node.path, O_RDWR);
	void *a = mmp_map(fd, 0, 1, PROT_READ | PROT_WRITE, MAP_SHARED);
	void *b = mmp_map(fd, 0, 1, PROT_READ | PROT_WRITE, MAP_SHARED);
	bool ok = a && b &&
		  mmp_fill_bytes("store to the first", a, 0, page, 0) &&
		  mmp_check_const("second after store to the first", b, page,
				  0) &&
		  mmp_fill_const("store to the second", b, page, 0x5a) &&
		  mmp_check_bytes("first after store to the second", a, 0,
				  page, 0);

	mmp_unmap_pages(a, 1);
	mmp_unmap_pages(b, 1);
	mmp_close_fd(fd);
	ktap_result(ok,
		    "%s: two MAP_SHARED mmap() calls of one fd get separate objects: a store to one is not seen in the other",
		    node.name);
}

/* The path /proc/self/maps gives a 1 page map of kind @flags, or "". */
static void maps_path(int flags, char *path, size_t size)
{
	void *p = map_rw(1, flags);

	path[0] = '\0';
	if (p && !mmp_vma_path(p, path, size))
		diag("no /proc/self/maps line starts at %p", p);
	mmp_unmap_pages(p, 1);
}

/* A shared VMA's file is the shmem object; a private one keeps the node. */
static void test_maps_names(void)
{
	char path[PATH_MAX];
	bool ok;

	maps_path(MAP_SHARED, path, sizeof(path));
	ok = strstr(path, OBJ_NAME) && strcmp(path, node.path);
	if (path[0] && !ok)
		diag("MAP_SHARED map shows '%s'", path);
	ktap_result(ok,
		    "%s: /proc/self/maps names a MAP_SHARED map after the shmem object %s, not %s",
		    node.name, OBJ_NAME, node.path);

	maps_path(MAP_PRIVATE, path, sizeof(path));
	ok = !strcmp(path, node.path);
	if (path[0] && !ok)
		diag("MAP_PRIVATE map shows '%s'", path);
	ktap_result(ok, "%s: /proc/self/maps names a MAP_PRIVATE map %s",
		    node.name, node.path);
}

static void test_vmflags(void)
{
	const struct mmp_vmflags v[] = {
		{ "MAP_SHARED RW map", O_RDWR, PROT_READ | PROT_WRITE,
		  MAP_SHARED, "rd wr sh", "io pf" },
		{ "MAP_PRIVATE RW map", O_RDWR, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE, "rd wr", "sh io pf" },
	};
	_Static_assert(sizeof(v) / sizeof(v[0]) == N_VMFLAGS, "plan");

	mmp_run_vmflags(&node, v, N_VMFLAGS);
}

/* An object has no offsets; length 0 is the kernel's EINVAL. */
static void test_bad_maps(void)
{
	const off_t top = (off_t)(0x7fffffffffffffffULL &
				  ~(unsigned long long)(page - 1));
	const struct mmp_bad_map bad[] = {
		{ "mmap len=0", 0, 0,
		  PROT_READ, MAP_SHARED, O_RDONLY, EINVAL },
		{ "mmap MAP_PRIVATE len=0", 0, 0,
		  PROT_READ, MAP_PRIVATE, O_RDONLY, EINVAL },
		{ "mmap offset=1 page", page, (off_t)page,
		  PROT_READ | PROT_WRITE, MAP_SHARED, O_RDWR, EINVAL },
		{ "mmap MAP_PRIVATE offset=1 page", page, (off_t)page,
		  PROT_READ | PROT_WRITE, MAP_PRIVATE, O_RDWR, EINVAL },
		{ "mmap offset=2^63-page_size len=1 page", page, top,
		  PROT_READ, MAP_SHARED, O_RDONLY, EINVAL },
		{ "mmap unaligned offset=1", page, 1,
		  PROT_READ, MAP_SHARED, O_RDONLY, EINVAL },
		{ "mmap PROT_READ|PROT_WRITE on O_RDONLY fd", page, 0,
		  PROT_READ | PROT_WRITE, MAP_SHARED, O_RDONLY, EACCES },
	};
	_Static_assert(sizeof(bad) / sizeof(bad[0]) == N_BAD, "plan");
	int before, after;
	bool ok;

	/*
	 * mmp_run_bad_maps() counts maps of the node; a leaked shared map
	 * would show the object instead, so count both by name.
	 */
	before = mmp_count_maps_containing(OBJ_NAME);
	mmp_run_bad_maps(&node, bad, N_BAD);
	after = mmp_count_maps_containing(OBJ_NAME);
	ok = !access(node.path, F_OK) && before >= 0 && before == after;
	if (before != after)
		diag("%d maps naming %s before the refused maps, %d after",
		     before, OBJ_NAME, after);
	ktap_result(ok,
		    "%s: the refused maps left no map of the node or of a shmem object",
		    node.name);
}

/*
 * A shared map outlives the module that made it: it holds the shmem file
 * only. A private map pins the module through the device file.
 */
static void module_section(const struct mmp_opts *o)
{
	const char *skip = mmp_module_skip(o->no_module);
	size_t len = node.pages * page;
	bool unloaded, works = false;
	char *p = NULL;

	mmp_test_pinned_unload_flags(MOD_NAME, &node, MAP_PRIVATE, skip);

	if (!skip) {
		p = map_rw(node.pages, MAP_SHARED);
		if (p && !mmp_fill_bytes("before unload", p, 0, len, 0)) {
			mmp_unmap_pages(p, node.pages);
			p = NULL;
		}
	}
	unloaded = mmp_unload_suite(MOD_NAME, skip, p != NULL, &node, 1,
				    "while a MAP_SHARED map exists, fd closed");
	if (unloaded)
		works = mmp_check_bytes("after unload", p, 0, len, 0) &&
			mmp_fill_const("store after unload", p, len, 0x5a) &&
			mmp_check_const("after unload", p, len, 0x5a);
	mmp_unmap_pages(p, node.pages);
	mmp_report(skip, works,
		   "module: the MAP_SHARED map still reads back what was stored and takes new stores after the unload");
	mmp_reload_suite(o->ko, mmp_reload_skip(o->no_module, o->ko), &node, 1,
			 "module: device node back after reload, a fresh map is zero-filled");
}

int main(int argc, char **argv)
{
	/* No nr_pages: node.pages is what the module tests map. */
	static const struct mmp_node_test t = {
		.mod = MOD_NAME, .plan = PLAN, .n = &node, .mode = 0600,
	};
	struct mmp_opts o;

	page = mmp_node_test_start(argc, argv, &t, &o);
	if (!page)
		return 2;
	test_zero_fill();
	test_big();
	test_fork(MAP_SHARED);
	test_fork(MAP_PRIVATE);
	test_separate();
	test_maps_names();
	test_vmflags();
	test_bad_maps();
	mmp_quiet = false;
	module_section(&o);
	return ktap_finish();
}
