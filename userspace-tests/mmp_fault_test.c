// SPDX-License-Identifier: GPL-2.0
/*
 * KTAP test for the mmp_fault driver.
 *
 * The driver maps nothing at mmap() time: vm_ops->fault hands out each
 * page on first touch and ->page_mkwrite records the first write to each
 * page of a shared writable mapping as dirty. It counts both in debugfs,
 * so the tests can check exactly which access reached which handler. The
 * counters only mean something from a reset with nothing mapped, so every
 * test starts from one.
 *
 * Usage: mmp_fault_test [-k mmp_fault.ko] [-n]
 *   -k  reload the module from this file after the unload test
 *   -n  skip the module unload/reload section
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "ktap.h"
#include "mmp_testlib.h"
#include "mmp_util.h"

#define MOD_NAME	"mmp_fault"
#define DEV_PATH	"/dev/mmp-fault"
/* The byte the write tests change: pattern on both sides shows strays. */
#define WOFF		0x5a

enum {
	N_READS = 4,
	N_WRITES = 5,
	N_EVERY_PAGE = 1,
	N_FORK = 2,
	N_REARM = 2,
	PLAN = N_READS + N_WRITES + N_EVERY_PAGE + N_FORK + N_REARM +
	       MMP_N_VMFLAGS +
	       MMP_N_BAD_MAPS + MMP_N_MPROTECT + MMP_N_MREMAP + MMP_N_MODULE(1),
};

static size_t page;
static unsigned long nr_pages;

static struct mmp_node node = {
	.path = DEV_PATH, .name = "fault",
	.shows = "the pattern", .check = mmp_pattern_check,
	.rewrite = mmp_pattern_rewrite,
};

/* Re-arm written pages, zero the counters and the dirty set. */
static bool reset(void)
{
	return mmp_debugfs_write(MOD_NAME, "reset", "1");
}

/*
 * Since the last reset there were exactly @faults ->fault and @mkwrites
 * ->page_mkwrite calls, and the dirty pages are @dirty ("" for none).
 */
static bool state_is(const char *what, long faults, long mkwrites,
		     const char *dirty)
{
	long f = -1, m = -1;
	char d[256] = "";
	bool ok;

	ok = mmp_debugfs_long(MOD_NAME, "faults", &f);
	ok = mmp_debugfs_long(MOD_NAME, "mkwrites", &m) && ok;
	ok = mmp_debugfs_line(MOD_NAME, "dirty", d, sizeof(d)) && ok;
	if (!ok)
		return false;
	if (f == faults && m == mkwrites && !strcmp(d, dirty))
		return true;
	diag("%s: faults %ld, mkwrites %ld, dirty '%s'; expected %ld, %ld, '%s'",
	     what, f, m, d, faults, mkwrites, dirty);
	return false;
}

/* Read all of page @pg of a full map at @p, which must hold the pattern. */
static bool read_page(const char *what, char *p, size_t pg)
{
	return mmp_check_bytes(what, p + pg * page, pg * page, page, 0);
}

/* Store the pattern ^ @xor to byte WOFF of page @pg of a full map at @p. */
static bool write_byte(const char *what, char *p, size_t pg, uint8_t xor)
{
	size_t off = pg * page + WOFF;

	return mmp_fill_bytes(what, p + off, off, 1, xor);
}

/* Page @pg of a full map at @p holds the pattern, byte WOFF ^ @xor. */
static bool page_with_byte(const char *what, char *p, size_t pg, uint8_t xor)
{
	size_t off = pg * page;

	return mmp_check_bytes(what, p + off, off, WOFF, 0) &&
	       mmp_check_bytes(what, p + off + WOFF, off + WOFF, 1, xor) &&
	       mmp_check_bytes(what, p + off + WOFF + 1, off + WOFF + 1,
			       page - WOFF - 1, 0);
}

/* Reads fault each page in once, read-only: nothing becomes dirty. */
static void test_reads(char *p)
{
	bool lazy, first, again, more;

	lazy = p && state_is("right after mmap", 0, 0, "");
	first = p && read_page("page 3", p, 3) &&
		state_is("after reading page 3", 1, 0, "");
	again = p && read_page("page 3 again", p, 3) &&
		state_is("after reading page 3 again", 1, 0, "");
	more = p && read_page("page 5", p, 5) && read_page("page 7", p, 7) &&
	       state_is("after reading pages 5 and 7", 3, 0, "");

	ktap_result(lazy,
		    "fault: a full RW map faults nothing in: faults 0, mkwrites 0, dirty empty");
	ktap_result(first,
		    "fault: first read of page 3: pattern, faults 1, nothing dirty");
	ktap_result(again,
		    "fault: second read of page 3: no new fault, nothing dirty");
	ktap_result(more,
		    "fault: reads of pages 5 and 7: pattern, faults 3, nothing dirty");
}

/*
 * A write to a page mapped read-only by an earlier read only needs
 * ->page_mkwrite; a write to an untouched page needs ->fault first.
 * Leaves byte WOFF of pages 3 and 6 changed, for test_lazy_dirty().
 */
static void test_writes(char *p, bool *mkwrite, bool *fault_mkwrite,
			bool *no_more)
{
	*mkwrite = p && write_byte("write page 3", p, 3, 0xff) &&
		   state_is("after writing page 3", 3, 1, "3");
	*fault_mkwrite = p && write_byte("write page 6", p, 6, 0xff) &&
			 state_is("after writing page 6", 4, 2, "3,6");
	/* The PTE is writable now: the second write reaches no handler. */
	*no_more = p && write_byte("write page 3 again", p, 3, 0xff) &&
		   state_is("after writing page 3 again", 4, 2, "3,6");
}

static void test_lazy_dirty(void)
{
	int fd = mmp_open_dev(DEV_PATH, O_RDWR);
	bool mkwrite, fault_mkwrite, no_more, shared, restored;
	char *p = NULL, *q;

	if (fd >= 0 && reset())
		p = mmp_map_pages(fd, 0, nr_pages, PROT_READ | PROT_WRITE);
	test_reads(p);
	test_writes(p, &mkwrite, &fault_mkwrite, &no_more);

	/* Another mapping of the device maps the same pages. */
	q = mmp_map_pages(fd, 0, nr_pages, PROT_READ);
	shared = p && q &&
		 page_with_byte("page 3 of a second map", q, 3, 0xff) &&
		 page_with_byte("page 6 of a second map", q, 6, 0xff);
	mmp_unmap_pages(q, nr_pages);
	if (p) {
		write_byte("restore page 3", p, 3, 0);
		write_byte("restore page 6", p, 6, 0);
	}
	mmp_unmap_pages(p, nr_pages);
	mmp_close_fd(fd);

	/* What a new mapping finds is what the driver's pages hold. */
	restored = p && mmp_fresh_map_check("fresh map", DEV_PATH, 0,
					    nr_pages, 0);

	ktap_result(mkwrite,
		    "fault: first write to page 3, read before: ->page_mkwrite only: faults 3, mkwrites 1, dirty 3");
	ktap_result(fault_mkwrite,
		    "fault: first write to untouched page 6: ->fault and ->page_mkwrite: faults 4, mkwrites 2, dirty 3,6");
	ktap_result(no_more,
		    "fault: second write to page 3: no new ->page_mkwrite, mkwrites 2");
	ktap_result(shared,
		    "fault: a second mapping shows the bytes written to pages 3 and 6");
	ktap_result(restored,
		    "fault: original bytes written back, a fresh map shows the pattern");
}

/* One ->fault per page, in the order the pages are touched. */
static void test_every_page(void)
{
	int fd = mmp_open_dev(DEV_PATH, O_RDONLY);
	char *p = NULL;
	bool ok;
	size_t i;

	if (fd >= 0 && reset())
		p = mmp_map_pages(fd, 0, nr_pages, PROT_READ);
	ok = p != NULL;
	/* Stop at the first miscount: every later count is off too. */
	for (i = 0; ok && i < nr_pages; i++) {
		char what[32];

		snprintf(what, sizeof(what), "page %zu", i);
		ok = read_page(what, p, i) &&
		     state_is(what, (long)i + 1, 0, "");
	}
	mmp_unmap_pages(p, nr_pages);
	mmp_close_fd(fd);
	ktap_result(ok,
		    "fault: reading pages 0..%lu one by one: pattern, faults i+1 after page i",
		    nr_pages - 1);
}

static bool child_reads_page0(void *p)
{
	return read_page("page 0 in the child", p, 0);
}

/*
 * fork() copies no PTEs of a shared file mapping without anon pages: the
 * child faults in page 0 although the parent had it mapped.
 */
static void test_fork(void)
{
	int fd = mmp_open_dev(DEV_PATH, O_RDONLY);
	bool child = false, faulted = false, before;
	char *p = NULL;

	if (fd >= 0 && reset())
		p = mmp_map_pages(fd, 0, nr_pages, PROT_READ);
	before = p && read_page("page 0 in the parent", p, 0) &&
		 state_is("before fork", 1, 0, "");
	if (p) {
		child = mmp_in_child(child_reads_page0, p);
		faulted = before &&
			  state_is("after the child exited", 2, 0, "");
	}
	mmp_unmap_pages(p, nr_pages);
	mmp_close_fd(fd);
	ktap_result(child,
		    "fault: a forked child reads the pattern in page 0 of the inherited mapping");
	ktap_result(faulted,
		    "fault: the child faults page 0 in itself (PTEs not copied at fork): faults +1");
}

/*
 * reset with the mapping still live must re-arm tracking: the PTE made
 * writable by the first write is gone, so the next write is seen again.
 */
static void test_rearm(void)
{
	int fd = mmp_open_dev(DEV_PATH, O_RDWR);
	bool cleared = false, again = false;
	char *p = NULL;

	if (fd >= 0 && reset())
		p = mmp_map_pages(fd, 0, nr_pages, PROT_READ | PROT_WRITE);
	if (p && write_byte("write page 2", p, 2, 0xff) &&
	    state_is("after writing page 2", 1, 1, "2")) {
		cleared = reset() && state_is("after reset", 0, 0, "");
		again = cleared &&
			write_byte("write page 2 after reset", p, 2, 0x0f) &&
			state_is("after writing page 2 again", 1, 1, "2") &&
			page_with_byte("page 2", p, 2, 0x0f);
	}
	if (p)
		write_byte("restore page 2", p, 2, 0);
	mmp_unmap_pages(p, nr_pages);
	mmp_close_fd(fd);
	ktap_result(cleared,
		    "fault: reset with the mapping live clears counters and dirty set");
	ktap_result(again,
		    "fault: a write after reset, through the same mapping, faults into ->page_mkwrite again: dirty 2");
}

static void tests(size_t page_size)
{
	page = page_size;
	nr_pages = node.pages;
	if (nr_pages < 8)
		ktap_diag("the read and write tests use pages 3 to 7");
	test_lazy_dirty();
	test_every_page();
	test_fork();
	test_rearm();
	/*
	 * mmp_test_policy() but for the VmFlags of a PFN map: plain pages
	 * through vmf->page, so no VM_IO, VM_PFNMAP or VM_MIXEDMAP.
	 */
	mmp_test_vmflags_kind(&node, "de", "io pf mm");
	mmp_test_bad_maps(&node, "nr_pages", ENXIO);
	mmp_test_mprotect(&node);
	/* VM_DONTEXPAND: no growing (EFAULT), no MREMAP_DONTUNMAP (EINVAL). */
	mmp_test_mremap(&node);
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
