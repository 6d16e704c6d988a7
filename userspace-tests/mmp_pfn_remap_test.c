// SPDX-License-Identifier: GPL-2.0
/*
 * KTAP test for the mmp_pfn_remap driver.
 *
 * The module exposes one kernel buffer through two misc devices, one using
 * f_op->mmap_prepare and one using the legacy f_op->mmap. Both must behave
 * identically, so the same suite runs against each, followed by checks
 * that a live mapping pins the module and that it unloads cleanly after.
 *
 * Usage: mmp_pfn_remap_test [-k mmp_pfn_remap.ko] [-n]
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

#define MOD_NAME	"mmp_pfn_remap"
#define DEFAULT_NR_PAGES 16UL

/* Results per device suite and for the module section; fixes the plan. */
enum {
	N_FULL = 1,
	N_PARTIAL = 1,
	N_SHARED = 3,
	N_MREMAP = MMP_N_MREMAP_RESIZE,
	N_MUNMAP = 2,
	DEV_RESULTS = N_FULL + N_PARTIAL + MMP_N_POLICY + N_SHARED + N_MREMAP +
		      MMP_N_FORK + N_MUNMAP,
	MOD_RESULTS = MMP_N_MODULE(2),
};

static size_t page;
static unsigned long nr_pages;

struct dev {
	struct mmp_node n;	/* n.pages is set once nr_pages is known */
	const struct dev *twin;	/* the other device on the same buffer */
};

static struct dev devs[2] = {
	{ { .path = "/dev/mmp-pfn-remap", .name = "mmp-pfn-remap",
	    .shows = "full mapping contents", .check = mmp_pattern_check,
	    .rewrite = mmp_pattern_rewrite }, &devs[1] },
	{ { .path = "/dev/mmp-pfn-remap-legacy", .name = "mmp-pfn-remap-legacy",
	    .shows = "full mapping contents", .check = mmp_pattern_check,
	    .rewrite = mmp_pattern_rewrite }, &devs[0] },
};

static void test_shared_write(const struct dev *d)
{
	const char *skip = nr_pages < 2 ? "needs nr_pages >= 2" : NULL;
	bool same = false, twin = false, restored = false;

	if (!skip) {
		int fd_rw = mmp_open_dev(d->n.path, O_RDWR);
		int fd_ro = mmp_open_dev(d->n.path, O_RDONLY);
		int fd_tw = mmp_open_dev(d->twin->n.path, O_RDONLY);
		void *w = mmp_map_pages(fd_rw, 0, nr_pages,
					PROT_READ | PROT_WRITE);
		void *r = mmp_map_pages(fd_ro, 1, 1, PROT_READ);
		void *t = mmp_map_pages(fd_tw, 1, 1, PROT_READ);
		char *pg1 = w ? (char *)w + page : NULL;

		/*
		 * Only scribble over page 1 if it holds the pattern, so that
		 * writing the pattern back really restores the original.
		 */
		if (pg1 && mmp_check_bytes("page 1 before write", pg1, page,
					   page, 0)) {
			bool wrote = mmp_fill_bytes("write ~pattern", pg1, page,
						    page, 0xff);

			same = wrote && r &&
			       mmp_check_bytes("second map", r, page, page,
					       0xff);
			twin = wrote && t &&
			       mmp_check_bytes("twin map", t, page, page, 0xff);
			mmp_fill_bytes("restore page 1", pg1, page, page, 0);
		}
		mmp_unmap_pages(w, nr_pages);
		mmp_unmap_pages(r, 1);
		mmp_unmap_pages(t, 1);
		mmp_close_fd(fd_rw);
		mmp_close_fd(fd_ro);
		mmp_close_fd(fd_tw);

		/* A fresh mapping shows what the kernel buffer now holds. */
		restored = mmp_fresh_map_check("fresh map of page 1", d->n.path,
					       1, 1, 0);
	}
	mmp_report(skip, same,
		   "%s: shared write to page 1 visible in second mapping of %s",
		   d->n.name, d->n.name);
	mmp_report(skip, twin,
		   "%s: shared write to page 1 visible in mapping of %s",
		   d->n.name, d->twin->n.name);
	mmp_report(skip, restored, "%s: page 1 original bytes restored",
		   d->n.name);
}

static void test_munmap_split(const struct dev *d)
{
	const char *skip = nr_pages < 4 ? "needs nr_pages >= 4" : NULL;
	bool split = false, outer = false;

	if (!skip) {
		int fd = mmp_open_dev(d->n.path, O_RDONLY);
		/* pgoff 1: the right-hand VMA must get vm_pgoff 3 */
		char *p = mmp_map_pages(fd, 1, 3, PROT_READ);
		char flags[256];

		if (p) {
			if (munmap(p + page, page))
				diag("munmap middle: %s", strerror(errno));
			else
				split = mmp_is_unmapped(p + page, 1) &&
					mmp_vma_flags(p, page, flags,
						      sizeof(flags)) &&
					mmp_vma_flags(p + 2 * page, page, flags,
						      sizeof(flags));
			outer = mmp_check_bytes("left page", p, page, page, 0) &&
				mmp_check_bytes("right page", p + 2 * page,
						3 * page, page, 0);
			mmp_unmap_pages(p, 3);
		}
		mmp_close_fd(fd);
	}
	mmp_report(skip, split, "%s: munmap middle page of 3-page map splits it",
		   d->n.name);
	mmp_report(skip, outer, "%s: outer pages intact after split",
		   d->n.name);
}

static void device_suite(const struct dev *d)
{
	ktap_diag("%s: nr_pages=%lu page_size=%zu", d->n.path, nr_pages, page);
	mmp_quiet_if_missing(&d->n);

	mmp_test_full_map(&d->n);
	mmp_test_partial_maps(&d->n);
	mmp_test_policy(&d->n, "nr_pages", ENXIO);
	test_shared_write(d);
	mmp_test_mremap_resize(&d->n);
	mmp_test_fork(&d->n);
	test_munmap_split(d);
	mmp_quiet = false;
}

int main(int argc, char **argv)
{
	struct mmp_node nodes[2];
	const char *ko;
	bool no_module;

	page = mmp_test_start(argc, argv, MOD_NAME, 2 * DEV_RESULTS + MOD_RESULTS,
			      &ko, &no_module);
	if (!page)
		return 2;
	nr_pages = mmp_nr_pages_param(MOD_NAME, DEFAULT_NR_PAGES);
	devs[0].n.pages = devs[1].n.pages = nr_pages;
	device_suite(&devs[0]);
	device_suite(&devs[1]);
	nodes[0] = devs[0].n;
	nodes[1] = devs[1].n;
	mmp_module_suite(MOD_NAME, ko, no_module, nodes, 2, 2,
			 "module: devices back with correct page 0 after reload");
	return ktap_finish();
}
