// SPDX-License-Identifier: GPL-2.0
/*
 * KTAP test for the mmp_refcount driver.
 *
 * Every VMA of /dev/mmp-refcount must hold exactly one reference on the
 * device: taken by vm_ops->mapped for a new mapping and by ->open for each
 * copy the kernel makes (split, fork, mremap), dropped by ->close. The
 * driver counts those calls in debugfs. Each test below takes the VMAs
 * through one life cycle, checks the exact change of every counter at each
 * step and ends with as many references as it started with.
 *
 * Usage: mmp_refcount_test [-k mmp_refcount.ko] [-n]
 *   -k  reload the module from this file after the unload test
 *   -n  skip the module unload/reload section
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ktap.h"
#include "mmp_testlib.h"
#include "mmp_util.h"

#define MOD_NAME	"mmp_refcount"
#define DEV_PATH	"/dev/mmp-refcount"
/* Another module's node whose mappings use an mmap action. */
#define ACTION_PATH	"/dev/mmp-kernel-pages"
/* mmap() never fails ENOMSG by itself: only ->mapped can be the source. */
#define FAIL_ERRNO	ENOMSG

enum {
	N_BASELINE = 1,
	N_MAP = 2,		/* twice: munmap with the fd open, closed */
	N_FORK = 3,
	N_PUNCH = 2,		/* twice: munmap and MAP_FIXED */
	N_MREMAP = 3,
	N_EXIT = 2,
	N_FAIL = 3,
	N_MERGE = 5,
	N_CONTENTS = 1,
	N_BAD = MMP_N_BAD_MAPS + 1,
	PLAN = N_BASELINE + 2 * N_MAP + N_FORK + 2 * N_PUNCH + N_MREMAP +
	       N_EXIT + N_FAIL + N_MERGE + N_CONTENTS + N_BAD + MMP_N_MODULE(1),
};

static size_t page;
static unsigned long nr_pages;

static struct mmp_node node = {
	.path = DEV_PATH, .name = "refcount",
	.shows = "the pattern", .check = mmp_pattern_check,
};

enum { VMAS, MAPPED, MAPPED_FAILED, OPENS, CLOSES, NR_CTRS };

static const char *const ctr_file[NR_CTRS] = {
	[VMAS] = "vmas", [MAPPED] = "mapped", [MAPPED_FAILED] = "mapped_failed",
	[OPENS] = "opens", [CLOSES] = "closes",
};

struct ctrs {
	long v[NR_CTRS];
	bool ok;
};

static struct ctrs ctrs_read(void)
{
	struct ctrs c = { .ok = true };
	int i;

	for (i = 0; i < NR_CTRS; i++)
		c.ok = mmp_debugfs_long(MOD_NAME, ctr_file[i], &c.v[i]) &&
		       c.ok;
	return c;
}

/* Expected change of each counter, e.g. DELTA([VMAS] = 1, [MAPPED] = 1). */
#define DELTA(...) ((const long[NR_CTRS]){ __VA_ARGS__ })

/*
 * Every counter moved by exactly @want since @base: a stray ->open or a
 * missing ->close fails as surely as a wrong vmas.
 */
static bool moved(const char *what, const struct ctrs *base, const long *want)
{
	struct ctrs now = ctrs_read();
	bool ok = base->ok && now.ok;
	int i;

	for (i = 0; base->ok && now.ok && i < NR_CTRS; i++) {
		long d = now.v[i] - base->v[i];

		if (d != want[i]) {
			diag("%s: %s moved by %ld, expected %ld", what,
			     ctr_file[i], d, want[i]);
			ok = false;
		}
	}
	return ok;
}

/* The device has exactly @base + @delta VMAs in /proc/self/maps. */
static bool maps_moved(const char *what, int base, int delta)
{
	int n = mmp_count_maps(DEV_PATH);

	if (base >= 0 && n == base + delta)
		return true;
	diag("%s: %d VMAs of %s in /proc/self/maps, expected %d", what, n,
	     DEV_PATH, base + delta);
	return false;
}

static void test_baseline(void)
{
	struct ctrs c = ctrs_read();

	if (c.ok && c.v[VMAS])
		diag("vmas is %ld with nothing mapped", c.v[VMAS]);
	ktap_result(c.ok && !c.v[VMAS],
		    "refcount: vmas reads 0 before any mapping");
}

/*
 * Map and unmap the whole buffer. With @close_fd the fd goes first: the
 * VMA holds its own reference to the file, so the mapping keeps working.
 */
static void test_map_unmap(bool close_fd)
{
	const char *how = close_fd ? "close(fd) before munmap" : "mmap";
	struct ctrs base = ctrs_read();
	int fd = mmp_open_dev(DEV_PATH, O_RDONLY);
	void *p = mmp_map_pages(fd, 0, nr_pages, PROT_READ);
	bool mapped = false, unmapped = false;

	if (close_fd) {
		mmp_close_fd(fd);
		fd = -1;
	}
	if (p) {
		mapped = mmp_pattern_check(how, p, nr_pages) &&
			 moved(how, &base, DELTA([VMAS] = 1, [MAPPED] = 1));
		mmp_unmap_pages(p, nr_pages);
		unmapped = moved("after munmap", &base,
				 DELTA([MAPPED] = 1, [CLOSES] = 1));
	}
	mmp_close_fd(fd);
	ktap_result(mapped,
		    "refcount: %s: one ->mapped, the pattern, vmas 1", how);
	ktap_result(unmapped,
		    "refcount: %s: munmap calls ->close once, vmas back to baseline",
		    how);
}

/* In the child: its copy of the parent's VMA took a reference too. */
static bool child_holds_copy(void *base)
{
	return moved("in the child", base,
		     DELTA([VMAS] = 2, [MAPPED] = 1, [OPENS] = 1));
}

static void test_fork(void)
{
	struct ctrs base = ctrs_read();
	int fd = mmp_open_dev(DEV_PATH, O_RDONLY);
	void *p = mmp_map_pages(fd, 0, nr_pages, PROT_READ);
	bool child = false, exited = false, unmapped = false;

	if (p) {
		/* The child exits with its copy still mapped. */
		child = mmp_in_child(child_holds_copy, &base);
		exited = moved("after the child exited", &base,
			       DELTA([VMAS] = 1, [MAPPED] = 1, [OPENS] = 1,
				     [CLOSES] = 1));
		mmp_unmap_pages(p, nr_pages);
		unmapped = moved("after munmap in the parent", &base,
				 DELTA([MAPPED] = 1, [OPENS] = 1,
				       [CLOSES] = 2));
	}
	mmp_close_fd(fd);
	ktap_result(child,
		    "refcount: fork: ->open for the child's copy, the child sees vmas +2");
	ktap_result(exited,
		    "refcount: fork: child exit without munmap calls ->close, vmas +1");
	ktap_result(unmapped,
		    "refcount: fork: parent munmap, vmas back to baseline");
}

/*
 * Remove the middle page of a 3-page map, with munmap or by mapping an
 * anonymous page over it: the kernel splits the VMA twice (->open for
 * each new part) and closes the middle, leaving two referenced VMAs.
 */
static void test_punch(bool anon)
{
	const char *how = anon ? "MAP_FIXED anonymous page over" : "munmap of";
	struct ctrs base = ctrs_read();
	int maps = mmp_count_maps(DEV_PATH);
	int fd = mmp_open_dev(DEV_PATH, O_RDONLY);
	char *p = mmp_map_pages(fd, 0, 3, PROT_READ);
	bool split = false, unmapped = false;
	char flags[256];

	if (p) {
		char *mid = p + page;
		bool punched;

		if (anon)
			punched = mmap(mid, page, PROT_READ,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				       -1, 0) == mid;
		else
			punched = !munmap(mid, page);
		if (!punched)
			diag("%s the middle page: %s", how, strerror(errno));
		split = punched &&
			mmp_vma_flags(p, page, flags, sizeof(flags)) &&
			mmp_vma_flags(p + 2 * page, page, flags,
				      sizeof(flags)) &&
			maps_moved("after the split", maps, 2) &&
			moved("after the split", &base,
			      DELTA([VMAS] = 2, [MAPPED] = 1, [OPENS] = 2,
				    [CLOSES] = 1));
		mmp_unmap_pages(p, 3);
		unmapped = moved("after munmap", &base,
				 DELTA([MAPPED] = 1, [OPENS] = 2,
				       [CLOSES] = 3));
	}
	mmp_close_fd(fd);
	ktap_result(split,
		    "refcount: %s the middle page of 3: two 1-page VMAs in maps, vmas 2 (2 ->open, 1 ->close)",
		    how);
	ktap_result(unmapped,
		    "refcount: %s the middle page of 3: munmap of the rest, vmas back to baseline",
		    how);
}

static void test_mremap_move(void)
{
	struct ctrs base = ctrs_read();
	int fd = mmp_open_dev(DEV_PATH, O_RDONLY);
	/* pgoff 1 also shows that vm_pgoff moves with the VMA. */
	char *p = mmp_map_pages(fd, 1, 2, PROT_READ);
	/* A page of guard each side keeps the moved VMA from merging. */
	char *res = mmap(NULL, 4 * page, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *dst = res == MAP_FAILED ? NULL : res + page;
	bool moved_ok = false, contents = false, unmapped = false;

	if (!dst)
		diag("reserve the mremap target: %s", strerror(errno));
	if (p && dst) {
		void *q = mremap(p, 2 * page, 2 * page,
				 MREMAP_MAYMOVE | MREMAP_FIXED, dst);

		if (q == MAP_FAILED)
			diag("mremap MREMAP_FIXED: %s", strerror(errno));
		else if (q != dst)
			diag("mremap MREMAP_FIXED returned %p, not %p", q, dst);
		moved_ok = q == dst && mmp_is_unmapped(p, 2) &&
			   moved("after mremap", &base,
				 DELTA([VMAS] = 1, [MAPPED] = 1, [OPENS] = 1,
				       [CLOSES] = 1));
		contents = q == dst &&
			   mmp_check_bytes("at the new address", dst, page,
					   2 * page, 0);
		if (q != MAP_FAILED) {
			if (q != dst)
				mmp_unmap_pages(q, 2);
			p = NULL;
		}
	}
	mmp_unmap_pages(p, 2);
	if (dst)
		munmap(res, 4 * page);
	unmapped = moved_ok &&
		   moved("after munmap", &base,
			 DELTA([MAPPED] = 1, [OPENS] = 1, [CLOSES] = 2));
	mmp_close_fd(fd);
	ktap_result(moved_ok,
		    "refcount: mremap move: ->open for the new VMA, ->close for the old, vmas stays 1");
	ktap_result(contents, "refcount: mremap move: pattern at the new address");
	ktap_result(unmapped,
		    "refcount: mremap move: munmap, vmas back to baseline");
}

/*
 * Child side of test_exit_unmapped(): map the device, say whether that
 * worked, then hold the mapping until the parent closes its end of @hold,
 * and exit without munmap or close.
 */
static __attribute__((noreturn)) void map_hold_exit(int ready[2], int hold[2])
{
	int fd;
	char c;

	close(ready[0]);
	close(hold[1]);	/* else our own copy would keep the pipe open */
	fd = mmp_open_dev(DEV_PATH, O_RDONLY);
	c = mmp_map_pages(fd, 0, nr_pages, PROT_READ) ? 'y' : 'n';
	if (write(ready[1], &c, 1) != 1 || c != 'y')
		_exit(1);
	_exit(read(hold[0], &c, 1) == 0 ? 0 : 1);
}

/* exit_mmap() of a process that never unmapped must close its VMA. */
static void test_exit_unmapped(void)
{
	int ready[2] = { -1, -1 }, hold[2] = { -1, -1 };
	struct ctrs base = ctrs_read();
	bool alive = false, exited = false;
	pid_t pid = -1;
	char c = 'n';

	if (pipe(ready) || pipe(hold)) {
		diag("pipe: %s", strerror(errno));
	} else {
		pid = mmp_fork();
		if (pid == 0)
			map_hold_exit(ready, hold);
	}
	mmp_close_fd(ready[1]);
	mmp_close_fd(hold[0]);
	if (pid > 0 && read(ready[0], &c, 1) == 1 && c == 'y')
		alive = moved("while the child holds its mapping", &base,
			      DELTA([VMAS] = 1, [MAPPED] = 1));
	else if (pid > 0)
		diag("the child could not map %s", DEV_PATH);
	mmp_close_fd(hold[1]);	/* lets the child exit */
	if (pid > 0)
		exited = !mmp_wait_child(pid) && alive &&
			 moved("after the child exited", &base,
			       DELTA([MAPPED] = 1, [CLOSES] = 1));
	mmp_close_fd(ready[0]);
	ktap_result(alive,
		    "refcount: a child's own mapping: ->mapped once, vmas 1 while it lives");
	ktap_result(exited,
		    "refcount: child exit without munmap calls ->close, vmas back to baseline");
}

/*
 * A failing ->mapped: the kernel unmaps the new VMA and still calls its
 * ->close, which must not drop the reference ->mapped never took.
 */
static void test_failing_mapped(void)
{
	struct ctrs base = ctrs_read(), mid;
	int maps = mmp_count_maps(DEV_PATH);
	int fd = mmp_open_dev(DEV_PATH, O_RDONLY);
	bool refused = false, closed = false, again = false;
	char val[16];
	long knob = -1;
	void *p;

	snprintf(val, sizeof(val), "%d", FAIL_ERRNO);
	if (fd >= 0 && mmp_debugfs_write(MOD_NAME, "fail_mapped", val)) {
		int err;

		p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
		err = errno;
		refused = ktap_errno_ok((long)(intptr_t)p, err, FAIL_ERRNO,
					"mmap with ->mapped failing") &&
			  maps_moved("after the failed mmap", maps, 0);
		if (p != MAP_FAILED)
			munmap(p, page);
		closed = moved("after the failed mmap", &base,
			       DELTA([MAPPED_FAILED] = 1, [CLOSES] = 1));
	}
	/* Disarm whatever happened above: later tests need ->mapped. */
	if (mmp_debugfs_write(MOD_NAME, "fail_mapped", "0") && fd >= 0) {
		if (mmp_debugfs_long(MOD_NAME, "fail_mapped", &knob) && knob)
			diag("fail_mapped reads %ld after writing 0", knob);
		mid = ctrs_read();
		p = mmp_map_pages(fd, 0, 1, PROT_READ);
		again = knob == 0 && p &&
			mmp_check_bytes("page 0 after disarming", p, 0, page,
					0) &&
			moved("mmap after disarming", &mid,
			      DELTA([VMAS] = 1, [MAPPED] = 1));
		if (p) {
			mmp_unmap_pages(p, 1);
			again = moved("munmap after disarming", &mid,
				      DELTA([MAPPED] = 1, [CLOSES] = 1)) &&
				again;
		}
	}
	mmp_close_fd(fd);
	ktap_result(refused,
		    "refcount: fail_mapped=%d: mmap fails %s, nothing left mapped",
		    FAIL_ERRNO, ktap_errname(FAIL_ERRNO));
	ktap_result(closed,
		    "refcount: failed ->mapped: mapped_failed +1, ->close still called, vmas unchanged");
	ktap_result(again,
		    "refcount: fail_mapped=0: mmap works again, vmas 1, munmap back to baseline");
}

/*
 * Map pages [0, 2) of @fd, then pages [2, 4) right behind them with the
 * same prot and flags. Both land in a reservation so that MAP_FIXED
 * clobbers nothing. Returns the start (4 pages to unmap) or NULL.
 */
static char *map_adjacent(int fd)
{
	char *a;

	if (fd < 0)
		return NULL;
	a = mmap(NULL, 4 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		 0);
	if (a == MAP_FAILED) {
		diag("reserve 4 pages: %s", strerror(errno));
		return NULL;
	}
	if (mmap(a, 2 * page, PROT_READ, MAP_SHARED | MAP_FIXED, fd,
		 0) == MAP_FAILED ||
	    mmap(a + 2 * page, 2 * page, PROT_READ, MAP_SHARED | MAP_FIXED, fd,
		 (off_t)(2 * page)) == MAP_FAILED) {
		diag("adjacent mmap: %s", strerror(errno));
		munmap(a, 4 * page);
		return NULL;
	}
	return a;
}

/*
 * Without an mmap action the second mapping extends the first VMA, and
 * ->mapped runs once. On the compat path (legacy ->mmap) the adapter keeps
 * such mappings unmergeable instead: the old core would free the second
 * VMA after ->mapped ran, without ->close.
 */
static void test_merge(void)
{
	bool compat = mmp_module_compat(MOD_NAME);
	struct ctrs base = ctrs_read();
	int maps = mmp_count_maps(DEV_PATH);
	int fd = mmp_open_dev(DEV_PATH, O_RDONLY);
	char *a = map_adjacent(fd);
	bool one = false, once = false, contents = false, unmapped = false;
	bool two = false;
	char flags[256];
	long n = compat ? 2 : 1;

	if (a) {
		one = compat ? mmp_vma_flags(a, 2 * page, flags, sizeof(flags)) &&
				       mmp_vma_flags(a + 2 * page, 2 * page,
						     flags, sizeof(flags)) &&
				       maps_moved("after both mmaps", maps, 2) :
			       mmp_vma_flags(a, 4 * page, flags, sizeof(flags)) &&
				       maps_moved("after both mmaps", maps, 1);
		once = moved("after both mmaps", &base,
			     DELTA([VMAS] = n, [MAPPED] = n));
		contents = mmp_check_bytes("merged mapping", a, 0, 4 * page,
					   0);
		mmp_unmap_pages(a, 4);
		unmapped = moved("after munmap", &base,
				 DELTA([MAPPED] = n, [CLOSES] = n));
	}
	mmp_close_fd(fd);

	/* The contrast: VMAs set up by an mmap action never merge. */
	fd = mmp_open_dev(ACTION_PATH, O_RDONLY);
	a = map_adjacent(fd);
	two = a && mmp_vma_flags(a, 2 * page, flags, sizeof(flags)) &&
	      mmp_vma_flags(a + 2 * page, 2 * page, flags, sizeof(flags));
	mmp_unmap_pages(a, 4);
	mmp_close_fd(fd);

	ktap_result(one, compat ?
		    "refcount: adjacent mmap of pgoff 2 right after pgoff 0, same fd: two VMAs (compat path: no merge)" :
		    "refcount: adjacent mmap of pgoff 2 right after pgoff 0, same fd: one 4-page VMA");
	ktap_result(once, compat ?
		    "refcount: unmerged mmaps: ->mapped for each, mapped +2, vmas 2" :
		    "refcount: merged mmap skips ->mapped: mapped +1 over both mmaps, vmas 1");
	ktap_result(contents,
		    "refcount: the adjacent mappings show the pattern over all 4 pages");
	ktap_result(unmapped, compat ?
		    "refcount: unmerged mappings: munmap calls ->close for each, vmas back to baseline" :
		    "refcount: merged mapping: munmap calls ->close once, vmas back to baseline");
	ktap_result(two,
		    "refcount: contrast: adjacent maps of %s (mmap action) stay two VMAs",
		    ACTION_PATH);
}

static void test_bad_maps(void)
{
	struct ctrs base = ctrs_read();

	/* The table's MAP_PRIVATE EINVAL and PROT_EXEC EPERM are our policy. */
	mmp_test_bad_maps(&node, "nr_pages", ENXIO);
	ktap_result(moved("after the bad-input table", &base, DELTA(0)),
		    "refcount: refused mmaps call neither ->mapped nor ->close, vmas unchanged");
}

static void tests(size_t page_size)
{
	page = page_size;
	nr_pages = node.pages;
	test_baseline();
	test_map_unmap(false);
	test_fork();
	test_punch(false);
	test_mremap_move();
	test_map_unmap(true);
	test_exit_unmapped();
	test_punch(true);
	test_failing_mapped();
	test_merge();
	mmp_test_full_map(&node);
	test_bad_maps();
}

int main(int argc, char **argv)
{
	static const struct mmp_node_test t = {
		.mod = MOD_NAME, .plan = PLAN, .n = &node, .def_pages = 16,
		.tests = tests,
		.back = "module: " DEV_PATH " back with the pattern in page 0 after reload",
	};

	return mmp_node_test_main(argc, argv, &t);
}
