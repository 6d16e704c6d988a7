// SPDX-License-Identifier: GPL-2.0
/*
 * KTAP test for the mmp_ioremap driver.
 *
 * The module binds every QEMU edu device and exports one BAR of each,
 * uncached, as /dev/mmp-ioremap-<PCI address>. The register checks assume
 * the default bar=0, where edu has an ID and a liveness register. The
 * suite runs against the first bound device: registers through the
 * mapping, VmFlags, refused input, mremap, fork and io_uring; then that
 * device is unbound while mapped (the driver must zap the mapping) and
 * bound again, and finally the module is unloaded and reloaded.
 *
 * Usage: mmp_ioremap_test [-k mmp_ioremap.ko] [-n]
 *   -k  reload the module from this file after the unload test
 *   -n  skip the module unload/reload section
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/mman.h>

#include "ktap.h"
#include "mmp_testlib.h"
#include "mmp_util.h"

#define MOD_NAME	"mmp_ioremap"
#define MAX_DEVS	8

/* Fixes the plan: every edu bound, pgoff 1 map, and the library tests. */
#define PLAN (1 + MMP_N_MISC_NODE + MMP_N_MEMTYPE + MMP_N_EDU_REGS + 1 + \
	      MMP_N_POLICY + MMP_N_MAPPING_OPS + MMP_N_UNBIND(true) + \
	      MMP_N_MODULE(1))

static size_t page;
static struct mmp_pci_node devs[MAX_DEVS];
static int n_devs;	/* bound devices, at least 1 entry is always set up */

/* Every edu device is ours, and each node reaches its own registers. */
static void test_all_bound(void)
{
	char edus[MAX_DEVS][MMP_BDF_LEN];
	int n_edu = mmp_pci_find(MMP_EDU_VENDOR, MMP_EDU_DEVICE, NULL, edus,
				 MAX_DEVS);
	bool ok = n_edu > 0 && n_edu == n_devs;
	int i;

	if (!ok)
		diag("%d edu devices, %d bound to %s", n_edu, n_devs, MOD_NAME);
	for (i = 0; i < n_devs && ok; i++) {
		int fd = mmp_open_dev(devs[i].path, O_RDONLY);
		void *p = mmp_map_pages(fd, 0, 1, PROT_READ);

		ok = p && mmp_edu_check(devs[i].path, p, 1);
		mmp_unmap_pages(p, 1);
		mmp_close_fd(fd);
	}
	ktap_result(ok,
		    "ioremap: every edu device is bound to %s and its node shows ID register 0x%08x",
		    MOD_NAME, MMP_EDU_ID);
}

/* A window that leaves out the registers is still a valid request. */
static void test_pgoff1(const struct mmp_node *n)
{
	size_t pages = n->pages > 1 ? n->pages - 1 : 0;
	int fd = mmp_open_dev(n->path, O_RDONLY);
	void *p = pages ? mmp_map_pages(fd, 1, pages, PROT_READ) : NULL;
	char flags[256];
	bool ok = p && mmp_vma_flags(p, pages * page, flags, sizeof(flags));

	mmp_unmap_pages(p, pages);
	mmp_close_fd(fd);
	ktap_result(ok, "%s: map from pgoff 1 to the end of the BAR (%zu pages) succeeds",
		    n->name, pages);
}

static void device_suite(struct mmp_pci_node *d)
{
	struct mmp_node *n = &d->n;

	mmp_quiet_if_missing(n);
	mmp_test_misc_node(n, d->bdf);
	mmp_test_edu_regs(n);
	mmp_test_memtype(d, "uncached-minus");
	test_pgoff1(n);
	mmp_test_policy(n, "bar_pages", ENXIO);
	mmp_test_mapping_ops(n);
	mmp_test_unbind_mapped(n, &(struct mmp_unbind){
		.drv = MOD_NAME, .bdf = d->bdf, .nodev = true });
	mmp_quiet = false;
}

int main(int argc, char **argv)
{
	char bdfs[MAX_DEVS][MMP_BDF_LEN];
	struct mmp_node nodes[MAX_DEVS];
	const char *ko;
	bool no_module;
	int i, bar;

	page = mmp_test_start(argc, argv, MOD_NAME, PLAN, &ko, &no_module);
	if (!page)
		return 2;
	bar = mmp_bar_param(MOD_NAME, 0);
	n_devs = mmp_bound_devices(MOD_NAME, bdfs, MAX_DEVS);
	/* Without a device, one placeholder makes its results fail. */
	for (i = 0; i < (n_devs ? n_devs : 1); i++) {
		mmp_pci_node_init(&devs[i], n_devs ? bdfs[i] : NULL,
				  "mmp-ioremap", "ioremap", bar);
		mmp_edu_node(&devs[i].n);
		nodes[i] = devs[i].n;
	}

	test_all_bound();
	device_suite(&devs[0]);
	mmp_module_suite(MOD_NAME, ko, no_module, nodes, i, 1,
			 "module: every device node back after reload, ID register reads 0x010000ed");
	return ktap_finish();
}
