// SPDX-License-Identifier: GPL-2.0
/*
 * KTAP test for the mmp_simple_ioremap driver.
 *
 * The module exports BAR2 of QEMU's ivshmem-plain, the shared memory, write
 * combined, as /dev/mmp-simple-ioremap-<PCI address>. Here the kernel's
 * simple_ioremap action checks the range, so a request beyond the BAR
 * fails EINVAL where mmp_ioremap says ENXIO.
 *
 * The memory is backed by a file on the host. The test writes mmp_pattern()
 * over the whole BAR, reads it back through other mappings (partial, forked,
 * after unbinding and after reloading the module: device memory must not
 * lose its contents) and writes it once more as the very last data step.
 * Once that verifies it prints "@@ host-check ivshmem-pattern <bytes>" so
 * that the harness checks the backing file on the host after the VM exits.
 *
 * Usage: mmp_simple_ioremap_test [-k mmp_simple_ioremap.ko] [-n]
 *   -k  reload the module from this file after the unload test
 *   -n  skip the module unload/reload section
 *        mmp_simple_ioremap_test -f FILE BYTES
 *   on the host, after the VM: check that the first BYTES of the shared
 *   memory's backing FILE hold the pattern (one KTAP result)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ktap.h"
#include "mmp_testlib.h"
#include "mmp_util.h"

#define MOD_NAME	"mmp_simple_ioremap"

/*
 * Fixes the plan: shared write, pattern, 3 partial maps and the final
 * pattern besides the library tests.
 */
#define PLAN (MMP_N_MISC_NODE + MMP_N_MEMTYPE + MMP_N_POLICY + 1 + 1 + 3 + \
	      MMP_N_MAPPING_OPS + MMP_N_UNBIND(true) + MMP_N_MODULE(1) + 1)

static size_t page;
static struct mmp_pci_node dev;

/* Before the pattern is written page 0 may hold anything: use our own. */
static bool shm_rewrite(const char *what, void *p)
{
	return mmp_fill_bytes(what, p, 0, page, 0x5a) &&
	       mmp_check_bytes("after rewrite", p, 0, page, 0x5a);
}

static void test_shared_write(const struct mmp_node *n)
{
	int fd_rw = mmp_open_dev(n->path, O_RDWR);
	int fd_ro = mmp_open_dev(n->path, O_RDONLY);
	void *w = mmp_map_pages(fd_rw, 0, 2, PROT_READ | PROT_WRITE);
	void *r = mmp_map_pages(fd_ro, 1, 1, PROT_READ);
	bool ok = w && r &&
		  mmp_fill_bytes("write page 1", (char *)w + page, page, page,
				 0xa5) &&
		  mmp_check_bytes("second map", r, page, page, 0xa5);

	mmp_unmap_pages(w, 2);
	mmp_unmap_pages(r, 1);
	mmp_close_fd(fd_rw);
	mmp_close_fd(fd_ro);
	ktap_result(ok, "%s: shared write to page 1 visible in a second mapping",
		    n->name);
}

/* Write the pattern over the whole BAR, verify it through a fresh map. */
static bool write_pattern(const struct mmp_node *n)
{
	size_t len = n->pages * page;
	int fd = mmp_open_dev(n->path, O_RDWR);
	void *p = mmp_map_pages(fd, 0, n->pages, PROT_READ | PROT_WRITE);
	bool ok = p && mmp_fill_bytes("write pattern", p, 0, len, 0);

	mmp_unmap_pages(p, n->pages);
	mmp_close_fd(fd);
	fd = mmp_open_dev(n->path, O_RDONLY);
	p = mmp_map_pages(fd, 0, n->pages, PROT_READ);
	ok = ok && p && mmp_check_bytes("fresh map", p, 0, len, 0);
	mmp_unmap_pages(p, n->pages);
	mmp_close_fd(fd);
	return ok;
}

/* A window at @pgoff shows the BAR from @pgoff on, not from 0. */
static void test_partial(const struct mmp_node *n, unsigned long pgoff,
			 size_t pages)
{
	int fd = mmp_open_dev(n->path, O_RDONLY);
	void *p = pages ? mmp_map_pages(fd, pgoff, pages, PROT_READ) : NULL;
	bool ok = p && mmp_check_bytes("partial map", p, pgoff * page,
				       pages * page, 0);

	mmp_unmap_pages(p, pages);
	mmp_close_fd(fd);
	ktap_result(ok, "%s: map at pgoff %lu of %zu page(s) shows the pattern from offset %#lx",
		    n->name, pgoff, pages, pgoff * page);
}

static void device_suite(struct mmp_pci_node *d)
{
	struct mmp_node *n = &d->n;
	size_t last = n->pages ? n->pages - 1 : 0;

	mmp_quiet_if_missing(n);
	mmp_test_misc_node(n, d->bdf);
	mmp_test_memtype(d, "write-combining");
	/* The tests that write anything else come before the pattern. */
	mmp_test_policy(n, "bar_pages", EINVAL);
	test_shared_write(n);
	ktap_result(write_pattern(n),
		    "%s: pattern written over the whole BAR reads back through a fresh mapping",
		    n->name);
	test_partial(n, 0, 1);
	test_partial(n, 1, last);
	test_partial(n, last, 1);
	mmp_test_mapping_ops(n);
	mmp_test_unbind_mapped(n, &(struct mmp_unbind){
		.drv = MOD_NAME, .bdf = d->bdf, .nodev = true });
	mmp_quiet = false;
}

/* The last data step: what the harness then finds in the host's file. */
static void test_final_pattern(const struct mmp_node *n, bool loaded)
{
	const char *skip = loaded ? NULL : "module not loaded after unloading";
	bool ok = !skip && write_pattern(n);

	mmp_report(skip, ok,
		   "%s: pattern written again as the last step, every byte verified through a fresh mapping",
		   n->name);
	if (ok)
		printf("@@ host-check ivshmem-pattern %zu\n", n->pages * page);
	fflush(stdout);
}

/* Host side: the guest's stores reached the device memory's backing file. */
static int verify_file(const char *path, const char *bytes)
{
	size_t len = strtoul(bytes, NULL, 0), bad = len;
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *p = MAP_FAILED;
	struct stat st;
	int fd;

	ktap_start("ivshmem backing file", 1);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || (size_t)st.st_size < len || !len)
		ktap_diag("%s: %s, or shorter than %zu bytes", path,
			  strerror(errno), len);
	else
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		bad = mmp_pattern_mismatch(p, 0, len, pg);
		if (bad != len)
			ktap_diag("byte %#zx is %#04x, expected %#04x", bad,
				  p[bad], mmp_pattern(bad, pg));
		munmap(p, len);
	}
	if (fd >= 0)
		close(fd);
	ktap_result(p != MAP_FAILED && bad == len,
		    "host: %s holds the pattern the guest wrote, all %zu bytes",
		    path, len);
	return ktap_finish();
}

int main(int argc, char **argv)
{
	char bdf[1][MMP_BDF_LEN];
	const char *ko;
	bool no_module, loaded;

	if (argc == 4 && !strcmp(argv[1], "-f"))
		return verify_file(argv[2], argv[3]);
	page = mmp_test_start(argc, argv, MOD_NAME, PLAN, &ko, &no_module);
	if (!page)
		return 2;
	mmp_pci_node_init(&dev, mmp_bound_devices(MOD_NAME, bdf, 1) ?
			  bdf[0] : NULL, "mmp-simple-ioremap", "simple-ioremap",
			  mmp_bar_param(MOD_NAME, 2));
	dev.n.shows = "the pattern over the whole BAR";
	dev.n.check = mmp_pattern_check;
	dev.n.rewrite = shm_rewrite;

	device_suite(&dev);
	loaded = mmp_module_suite(MOD_NAME, ko, no_module, &dev.n, 1, 1,
				  "module: device node back after reload, page 0 holds the pattern");
	test_final_pattern(&dev.n, loaded);
	return ktap_finish();
}
