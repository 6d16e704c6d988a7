// SPDX-License-Identifier: GPL-2.0
/*
 * The device table of the tests that go over every driver: see
 * mmp_devices.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmp_devices.h"
#include "mmp_testlib.h"

/* Pages mapped of devices without a natural size (shmem, stackfs file). */
#define MMP_DEV_PAGES 16

long mmp_module_refcnt(const char *mod)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", mod);
	return mmp_read_long(path);
}

bool mmp_ensure_loaded(const char *dir, const char *mod)
{
	char ko[256];

	if (mmp_module_loaded(mod))
		return true;
	snprintf(ko, sizeof(ko), "%s/%s.ko", dir, mod);
	return mmp_load(ko);
}

static bool node_setup(struct mmp_dev *d, const char *node, const char *param)
{
	long n = param ? mmp_read_param(d->mod, param) : MMP_DEV_PAGES;

	snprintf(d->path, sizeof(d->path), "/dev/%s", node);
	d->pages = n > 0 ? (size_t)n : MMP_DEV_PAGES;
	return mmp_wait_node(d->path, true);
}

static bool pfn_remap_setup(struct mmp_dev *d)
{
	return node_setup(d, "mmp-pfn-remap", "nr_pages");
}

static bool pfn_remap_legacy_setup(struct mmp_dev *d)
{
	return node_setup(d, "mmp-pfn-remap-legacy", "nr_pages");
}

static bool kernel_pages_setup(struct mmp_dev *d)
{
	return node_setup(d, "mmp-kernel-pages", "nr_pages");
}

static bool refcount_setup(struct mmp_dev *d)
{
	return node_setup(d, "mmp-refcount", "nr_pages");
}

static bool fault_setup(struct mmp_dev *d)
{
	return node_setup(d, "mmp-fault", "nr_pages");
}

static bool shmem_setup(struct mmp_dev *d)
{
	return node_setup(d, "mmp-shmem", NULL);
}

static bool readonly_setup(struct mmp_dev *d)
{
	return node_setup(d, "mmp-readonly", "nr_pages");
}

/* A PCI node: the first device bound to the driver, at most 16 pages. */
static bool pci_setup(struct mmp_dev *d, const char *node, const char *kind,
		      int def_bar)
{
	char bdfs[1][MMP_BDF_LEN];
	struct mmp_pci_node pn;

	if (mmp_bound_devices(d->mod, bdfs, 1) < 1)
		return false;
	mmp_pci_node_init(&pn, bdfs[0], node, kind, mmp_bar_param(d->mod, def_bar));
	snprintf(d->path, sizeof(d->path), "%s", pn.path);
	d->pages = pn.n.pages < MMP_DEV_PAGES ? pn.n.pages : MMP_DEV_PAGES;
	return d->pages > 0 && mmp_wait_node(d->path, true);
}

static bool ioremap_setup(struct mmp_dev *d)
{
	return pci_setup(d, "mmp-ioremap", "ioremap", 0);
}

static bool simple_ioremap_setup(struct mmp_dev *d)
{
	return pci_setup(d, "mmp-simple-ioremap", "simple_ioremap", 2);
}

/* UIO binds what it is told to: the second edu, as the demo does. */
static const char *const uio_bdf = "0000:00:05.0";

static bool pci_attr(const char *bdf, const char *attr, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	return mmp_sysfs_write(path, val);
}

static bool uio_setup(struct mmp_dev *d)
{
	char path[128];
	struct dirent *e;
	DIR *dir;
	int n = -1;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", uio_bdf);
	if (!mmp_bound_to(uio_bdf, "mmp_uio")) {
		/* Bound to another driver (mmp_ioremap): take it from it. */
		if (!access(path, F_OK) &&
		    !pci_attr(uio_bdf, "driver/unbind", uio_bdf))
			return false;
		if (!pci_attr(uio_bdf, "driver_override", "mmp_uio") ||
		    !mmp_sysfs_write("/sys/bus/pci/drivers_probe", uio_bdf))
			return false;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/uio", uio_bdf);
	dir = opendir(path);
	if (!dir) {
		diag("%s: no uio device under %s", d->name, path);
		return false;
	}
	while ((e = readdir(dir)))
		if (sscanf(e->d_name, "uio%d", &n) == 1)
			break;
	closedir(dir);
	if (n < 0)
		return false;
	snprintf(d->path, sizeof(d->path), "/dev/uio%d", n);
	/* map0 is BAR0 of the edu: 1 MiB; the tests map 16 pages of it. */
	d->pages = MMP_DEV_PAGES;
	return mmp_wait_node(d->path, true);
}

/* Give the edu back to whoever had it before (mmp_ioremap). */
static void uio_teardown(struct mmp_dev *d)
{
	(void)d;
	if (mmp_bound_to(uio_bdf, "mmp_uio"))
		pci_attr(uio_bdf, "driver/unbind", uio_bdf);
	pci_attr(uio_bdf, "driver_override", "\n");
	mmp_sysfs_write("/sys/bus/pci/drivers_probe", uio_bdf);
}

/* mmp_stackfs over a tmpfs holding one file of MMP_DEV_PAGES pages. */
static const char *const stack_lower = "/tmp/mmp-devs-lower";
static const char *const stack_upper = "/tmp/mmp-devs-upper";

static bool stackfs_setup(struct mmp_dev *d)
{
	char opts[128], file[128];
	size_t len = MMP_DEV_PAGES * (size_t)sysconf(_SC_PAGESIZE);
	int fd;

	mkdir(stack_lower, 0755);
	mkdir(stack_upper, 0755);
	if (mount("tmpfs", stack_lower, "tmpfs", 0, NULL)) {
		diag("%s: mount tmpfs on %s: %s", d->name, stack_lower,
		     strerror(errno));
		return false;
	}
	snprintf(file, sizeof(file), "%s/file", stack_lower);
	fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)len)) {
		diag("%s: create %s: %s", d->name, file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	snprintf(opts, sizeof(opts), "lowerdir=%s", stack_lower);
	if (mount("none", stack_upper, "mmp_stackfs", 0, opts)) {
		diag("%s: mount mmp_stackfs on %s: %s", d->name, stack_upper,
		     strerror(errno));
		return false;
	}
	snprintf(d->path, sizeof(d->path), "%s/file", stack_upper);
	d->pages = MMP_DEV_PAGES;
	return true;
}

static void stackfs_teardown(struct mmp_dev *d)
{
	(void)d;
	umount(stack_upper);
	umount(stack_lower);
}

#define RW (PROT_READ | PROT_WRITE)
#define DEV(m, n, of, pr, st, su, td)                                        \
	{ .mod = (m), .name = (n), .oflags = (of), .prot = (pr), .store = (st), \
	  .setup = (su), .teardown = (td) }

struct mmp_dev mmp_devs[] = {
	DEV("mmp_pfn_remap", "pfn_remap", O_RDWR, RW, true, pfn_remap_setup,
	    NULL),
	DEV("mmp_pfn_remap", "pfn_remap legacy", O_RDWR, RW, true,
	    pfn_remap_legacy_setup, NULL),
	/* edu registers: reads only (a store could start its DMA engine) */
	DEV("mmp_ioremap", "ioremap", O_RDWR, RW, false, ioremap_setup, NULL),
	DEV("mmp_simple_ioremap", "simple_ioremap", O_RDWR, RW, true,
	    simple_ioremap_setup, NULL),
	DEV("mmp_uio", "uio", O_RDWR, RW, false, uio_setup, uio_teardown),
	DEV("mmp_kernel_pages", "kernel_pages", O_RDWR, RW, true,
	    kernel_pages_setup, NULL),
	DEV("mmp_refcount", "refcount", O_RDWR, RW, true, refcount_setup, NULL),
	DEV("mmp_fault", "fault", O_RDWR, RW, true, fault_setup, NULL),
	DEV("mmp_shmem", "shmem", O_RDWR, RW, true, shmem_setup, NULL),
	DEV("mmp_readonly", "readonly", O_RDONLY, PROT_READ, false,
	    readonly_setup, NULL),
	DEV("mmp_stackfs", "stackfs", O_RDWR, RW, true, stackfs_setup,
	    stackfs_teardown),
};

const size_t mmp_ndevs = sizeof(mmp_devs) / sizeof(mmp_devs[0]);

size_t mmp_dev_modules(const char **mods, size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < mmp_ndevs && n < max; i++) {
		for (j = 0; j < n && strcmp(mods[j], mmp_devs[i].mod); j++)
			;
		if (j == n)
			mods[n++] = mmp_devs[i].mod;
	}
	return n;
}

bool mmp_dev_setup(struct mmp_dev *d)
{
	d->path[0] = '\0';
	if (!d->setup(d)) {
		diag("%s: no device to map", d->name);
		return false;
	}
	d->refcnt = mmp_module_refcnt(d->mod);
	if (d->refcnt < 0) {
		diag("%s: cannot read the refcnt of %s", d->name, d->mod);
		return false;
	}
	return true;
}

void mmp_dev_teardown(struct mmp_dev *d)
{
	if (d->teardown)
		d->teardown(d);
}

bool mmp_dev_at_baseline(const struct mmp_dev *d, const char *what)
{
	/* mmp_stackfs's maps name the upper or (plain lower files) the lower */
	int maps = d->teardown == stackfs_teardown ?
		mmp_count_maps_containing("/tmp/mmp-devs-") :
		mmp_count_maps(d->path);
	long refcnt = mmp_module_refcnt(d->mod), vmas = 0;

	if (!strcmp(d->mod, "mmp_refcount") &&
	    !mmp_debugfs_long(d->mod, "vmas", &vmas))
		vmas = -1;
	if (maps == 0 && refcnt == d->refcnt && vmas == 0)
		return true;
	diag("%s: %s: %d VMAs of %s left, refcnt of %s %ld (baseline %ld)%s",
	     d->name, what, maps, d->path, d->mod, refcnt, d->refcnt,
	     vmas ? ", mmp_refcount's vmas not 0" : "");
	return false;
}

/* /dev/kmsg records: "prio,seq,usec,flags;text" */
static bool kmsg_next(int fd, unsigned long long *seq, char *text, size_t size)
{
	char rec[2048], *semi;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue; /* overwritten records: go on with the next */
		if (n <= 0)
			return false;
		rec[n] = '\0';
		semi = strchr(rec, ';');
		if (!semi || sscanf(rec, "%*u,%llu", seq) != 1)
			continue;
		snprintf(text, size, "%s", semi + 1);
		text[strcspn(text, "\n")] = '\0';
		return true;
	}
}

size_t mmp_kmsg_mark(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	unsigned long long seq = 0, s;
	char text[256];

	if (fd < 0)
		return 0;
	while (kmsg_next(fd, &s, text, sizeof(text)))
		seq = s;
	close(fd);
	return (size_t)seq;
}

static const char *const kmsg_bad[] = {
	"BUG:", "WARNING:", "Oops", "KASAN", "KFENCE", "UBSAN", "refcount_t",
	"possible circular locking", "lockdep", "kmemleak", "general protection",
	"Call Trace",
};

int mmp_kmsg_bad_since(size_t since, char *first, size_t size)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC), bad = 0;
	unsigned long long seq;
	char text[1024];
	size_t i;

	if (fd < 0) {
		snprintf(first, size, "cannot read /dev/kmsg: %s",
			 strerror(errno));
		return -1;
	}
	first[0] = '\0';
	while (kmsg_next(fd, &seq, text, sizeof(text))) {
		if (seq <= since)
			continue;
		for (i = 0; i < sizeof(kmsg_bad) / sizeof(kmsg_bad[0]); i++) {
			if (!strstr(text, kmsg_bad[i]))
				continue;
			if (!bad++)
				snprintf(first, size, "%s", text);
			break;
		}
	}
	close(fd);
	return bad;
}
