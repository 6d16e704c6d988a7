// SPDX-License-Identifier: GPL-2.0
/*
 * mmp_demo - one human-readable line per loaded driver: what was mapped and
 * what userspace saw. Run by `make demo`; also handy on real hardware.
 * Exit status is non-zero if any loaded driver's demo failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmp_util.h"

/* PFN remap: map the whole buffer through both twins and compare them. */
static bool demo_pfn_remap(void)
{
	const char *dev = "/dev/mmp-pfn-remap";
	const char *legacy = "/dev/mmp-pfn-remap-legacy";
	long page = sysconf(_SC_PAGESIZE);
	long pages = mmp_read_param("mmp_pfn_remap", "nr_pages");
	size_t len = (size_t)pages * page;
	unsigned char *a = MAP_FAILED, *b = MAP_FAILED;
	char flags[256] = "";
	unsigned long end;
	size_t bad = len;
	int fa, fb;
	bool ok;

	fa = open(dev, O_RDONLY);
	fb = open(legacy, O_RDONLY);
	if (pages > 0 && fa >= 0 && fb >= 0) {
		a = mmap(NULL, len, PROT_READ, MAP_SHARED, fa, 0);
		b = mmap(NULL, len, PROT_READ, MAP_SHARED, fb, 0);
	}
	ok = a != MAP_FAILED && b != MAP_FAILED;
	if (ok) {
		bad = mmp_pattern_mismatch(a, 0, len, page);
		mmp_vma_info(a, &end, flags, sizeof(flags));
		ok = bad == len && memcmp(a, b, len) == 0;
	}
	if (a != MAP_FAILED && b != MAP_FAILED)
		printf("%s: mapped %ld pages (%zu KiB) with mmap_prepare + mmap_action_remap_full; "
		       "page 1 starts %02x %02x %02x %02x, %s; VmFlags [%s]; "
		       "%s (legacy ->mmap + remap_pfn_range) maps the same bytes: %s\n",
		       dev, pages, len / 1024, a[page], a[page + 1],
		       a[page + 2], a[page + 3],
		       bad == len ? "every byte as expected" : "CONTENT MISMATCH",
		       flags, legacy, memcmp(a, b, len) ? "NO" : "yes");
	else
		printf("%s: FAILED to map (%s)\n", dev, strerror(errno));
	if (a != MAP_FAILED)
		munmap(a, len);
	if (b != MAP_FAILED)
		munmap(b, len);
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return ok;
}

/* Shared map of the first @len bytes of @path; MAP_FAILED on error. */
static void *map_node(const char *path, size_t len, int prot)
{
	int fd = open(path, prot & PROT_WRITE ? O_RDWR : O_RDONLY);
	void *p = MAP_FAILED;

	if (fd >= 0) {
		p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);
		close(fd);
	}
	if (p == MAP_FAILED)
		printf("%s: FAILED to map (%s)\n", path, strerror(errno));
	return p;
}

/* A BAR exported as /dev/<node>-<BDF> by the first device bound to @drv. */
struct bar_map {
	char bdf[MMP_BDF_LEN];
	char path[64 + MMP_BDF_LEN];
	long bar;
	size_t len;
	unsigned char *p;
};

static bool map_bar(const char *drv, const char *node, long def_bar,
		    int prot, struct bar_map *m)
{
	long page = sysconf(_SC_PAGESIZE);
	char bdfs[1][MMP_BDF_LEN];
	unsigned long long start, size;

	if (mmp_pci_find(0, 0, drv, bdfs, 1) <= 0) {
		printf("%s: loaded, but no device is bound to it\n", drv);
		return false;
	}
	memcpy(m->bdf, bdfs[0], sizeof(m->bdf));
	snprintf(m->path, sizeof(m->path), "/dev/%s-%s", node, m->bdf);
	m->bar = mmp_read_param(drv, "bar");
	if (m->bar < 0)
		m->bar = def_bar;
	if (!mmp_pci_bar(m->bdf, (int)m->bar, &start, &size)) {
		printf("%s: no BAR%ld\n", m->bdf, m->bar);
		return false;
	}
	m->len = size & ~(unsigned long long)(page - 1);
	m->p = map_node(m->path, m->len, prot);
	return m->p != MAP_FAILED;
}

/*
 * Read edu's ID, do one liveness round trip and describe both in @buf.
 * Only for an edu: other devices' registers may do anything when touched.
 */
static bool edu_summary(void *bar, char *buf, size_t size)
{
	uint32_t id = mmp_reg_read(bar, MMP_EDU_REG_ID), live;

	mmp_reg_write(bar, MMP_EDU_REG_LIVENESS, 0x12345678);
	live = mmp_reg_read(bar, MMP_EDU_REG_LIVENESS);
	snprintf(buf, size, "edu ID 0x%08x, liveness 0x12345678 -> 0x%08x",
		 id, live);
	return id == MMP_EDU_ID && live == (uint32_t)~0x12345678u;
}

static bool demo_ioremap(void)
{
	char regs[128] = "registers left alone (not an edu device)";
	struct bar_map m;
	bool ok = true;

	if (!map_bar("mmp_ioremap", "mmp-ioremap", 0, PROT_READ | PROT_WRITE,
		     &m))
		return false;
	if (!m.bar && mmp_pci_is(m.bdf, MMP_EDU_VENDOR, MMP_EDU_DEVICE))
		ok = edu_summary(m.p, regs, sizeof(regs));
	printf("%s: mapped BAR%ld (%zu KiB) uncached with mmap_action_ioremap; %s\n",
	       m.path, m.bar, m.len >> 10, regs);
	munmap(m.p, m.len);
	return ok;
}

static bool demo_simple_ioremap(void)
{
	long page = sysconf(_SC_PAGESIZE);
	struct bar_map m;
	size_t bad;

	if (!map_bar("mmp_simple_ioremap", "mmp-simple-ioremap", 2, PROT_READ,
		     &m))
		return false;
	bad = mmp_pattern_mismatch(m.p, 0, m.len, page);
	printf("%s: mapped BAR%ld (%zu KiB) write-combined with mmap_action_simple_ioremap; "
	       "first bytes %02x %02x %02x %02x %02x %02x %02x %02x, %s\n",
	       m.path, m.bar, m.len >> 10, m.p[0], m.p[1], m.p[2], m.p[3],
	       m.p[4], m.p[5], m.p[6], m.p[7],
	       bad == m.len ? "the test pattern throughout" :
	       "not (yet) the test pattern");
	munmap(m.p, m.len);
	return true;
}

/* Only a device someone bound to mmp_uio; the demo binds nothing itself. */
static bool demo_uio(void)
{
	char bdf[MMP_BDF_LEN], path[PATH_MAX], buf[64], map[64];
	char regs[128] = "registers left alone (not an edu device)";
	int n = mmp_uio_find("mmp_uio", NULL, bdf);
	size_t len;
	bool ok = true;
	void *p;

	if (n < 0) {
		printf("mmp_uio: loaded; it binds no device until told to: "
		       "echo mmp_uio > /sys/bus/pci/devices/<BDF>/driver_override; "
		       "echo <BDF> > /sys/bus/pci/drivers_probe\n");
		return true;
	}
	snprintf(path, sizeof(path), "/sys/class/uio/uio%d/maps/map0/name", n);
	if (!mmp_read_line(path, map, sizeof(map)))
		snprintf(map, sizeof(map), "unnamed");
	snprintf(path, sizeof(path), "/sys/class/uio/uio%d/maps/map0/size", n);
	if (!mmp_read_line(path, buf, sizeof(buf))) {
		printf("uio%d: no map0\n", n);
		return false;
	}
	len = strtoull(buf, NULL, 0);
	snprintf(path, sizeof(path), "/dev/uio%d", n);
	p = map_node(path, len, PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED)
		return false;
	if (mmp_pci_is(bdf, MMP_EDU_VENDOR, MMP_EDU_DEVICE))
		ok = edu_summary(p, regs, sizeof(regs));
	printf("%s (%s): mapped map0 = %s (%zu KiB) uncached through uio_info->mmap_prepare; %s\n",
	       path, bdf, map, len >> 10, regs);
	munmap(p, len);
	return ok;
}

/* The module's nr_pages, or 0 after saying why there is none. */
static long nr_pages(const char *module)
{
	long pages = mmp_read_param(module, "nr_pages");

	if (pages > 0)
		return pages;
	printf("%s: cannot read its nr_pages parameter\n", module);
	return 0;
}

/* Kernel pages: real struct pages, so get_user_pages() can pin them. */
static bool demo_kernel_pages(void)
{
	const char *dev = "/dev/mmp-kernel-pages";
	long page = sysconf(_SC_PAGESIZE);
	long pages = nr_pages("mmp_kernel_pages");
	size_t len = (size_t)pages * page;
	struct io_uring ring;
	char flags[256] = "";
	unsigned long end;
	unsigned char *p;
	bool same;
	int ret;

	if (!pages)
		return false;
	/* Writable only because io_uring pins for writing; nothing is stored. */
	p = map_node(dev, len, PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED)
		return false;
	same = mmp_pattern_mismatch(p, 0, len, page) == len;
	mmp_vma_info(p, &end, flags, sizeof(flags));
	ret = io_uring_queue_init(1, &ring, 0);
	if (!ret) {
		struct iovec iov = { .iov_base = p, .iov_len = len };

		ret = io_uring_register_buffers(&ring, &iov, 1);
		if (!ret)
			io_uring_unregister_buffers(&ring);
		io_uring_queue_exit(&ring);
	}
	printf("%s: mapped %ld separately allocated kernel pages (%zu KiB) with mmap_action_map_kernel_pages; "
	       "%s; VmFlags [%s]; io_uring_register_buffers of the mapping: %s\n",
	       dev, pages, len / 1024,
	       same ? "every byte as expected" : "CONTENT MISMATCH", flags,
	       ret ? strerror(-ret) :
	       "pinned and released (get_user_pages works on real pages)");
	munmap(p, len);
	return same && !ret;
}

static bool demo_readonly(void)
{
	const char *dev = "/dev/mmp-readonly";
	long page = sysconf(_SC_PAGESIZE);
	long pages = nr_pages("mmp_readonly");
	size_t len = (size_t)pages * page;
	void *w = MAP_FAILED;
	unsigned char *p;
	int fd, err;
	bool same;

	if (!pages)
		return false;
	p = map_node(dev, len, PROT_READ);
	if (p == MAP_FAILED)
		return false;
	same = mmp_pattern_mismatch(p, 0, len, page) == len;
	munmap(p, len);
	/* Root opens the 0444 node O_RDWR all the same: the driver says no. */
	fd = open(dev, O_RDWR);
	if (fd >= 0)
		w = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = errno;
	if (w != MAP_FAILED)
		munmap(w, page);
	if (fd >= 0)
		close(fd);
	printf("%s: mapped %ld pages (%zu KiB) read-only; %s; PROT_WRITE mmap through an O_RDWR fd: %s%s\n",
	       dev, pages, len / 1024,
	       same ? "every byte as expected" : "CONTENT MISMATCH",
	       w != MAP_FAILED ? "ALLOWED" :
	       fd < 0 ? "cannot open O_RDWR: " : "refused, ",
	       w != MAP_FAILED ? "" : err == EACCES ? "EACCES" : strerror(err));
	return same && fd >= 0 && w == MAP_FAILED && err == EACCES;
}

/* A shared map is one shmem object, also for a forked child. */
static bool demo_shmem(void)
{
	const char *dev = "/dev/mmp-shmem";
	long page = sysconf(_SC_PAGESIZE);
	char *p = map_node(dev, page, PROT_READ | PROT_WRITE);
	int status = -1;
	bool zero, ok;
	pid_t pid;

	if (p == MAP_FAILED)
		return false;
	zero = !p[0] && !memcmp(p, p + 1, page - 1);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		snprintf(p, page, "hello from child %d", (int)getpid());
		_exit(0);
	}
	if (pid > 0)
		mmp_waitpid(pid, &status);
	printf("%s: MAP_SHARED page, zero-filled at first: %s; a forked child wrote into it, the parent read \"%.64s\" after waitpid\n",
	       dev, zero ? "yes" : "NO", p);
	ok = zero && !status && !strncmp(p, "hello from child ", 17);
	munmap(p, page);
	return ok;
}

/* ->mapped and ->close keep a count of the VMAs on the device object. */
static bool demo_refcount(void)
{
	const char *dev = "/dev/mmp-refcount";
	const char *vmas = "/sys/kernel/debug/mmp_refcount/vmas";
	long page = sysconf(_SC_PAGESIZE);
	long v[4] = { mmp_read_long(vmas), -1, -1, -1 };
	int status;
	void *p;
	pid_t pid;

	p = map_node(dev, page, PROT_READ);
	if (p == MAP_FAILED)
		return false;
	v[1] = mmp_read_long(vmas);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		long n = mmp_read_long(vmas);

		/* The count travels back as the exit code. */
		_exit(n >= 0 && n < 255 ? (int)n : 255);
	}
	if (pid > 0 && mmp_waitpid(pid, &status) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) != 255)
		v[2] = WEXITSTATUS(status);
	munmap(p, page);
	v[3] = mmp_read_long(vmas);
	printf("%s: mmap 1 page, fork (the child reads and exits), munmap: vmas %ld -> %ld -> %ld (forked) -> %ld\n",
	       dev, v[0], v[1], v[2], v[3]);
	return v[0] >= 0 && v[1] == v[0] + 1 && v[2] == v[0] + 2 &&
	       v[3] == v[0];
}

/* Pages come in one fault at a time; the first store is tracked. */
static bool demo_fault(void)
{
	const char *dev = "/dev/mmp-fault";
	const char *faults = "/sys/kernel/debug/mmp_fault/faults";
	long page = sysconf(_SC_PAGESIZE);
	long pages = nr_pages("mmp_fault"), f0, f1, mkwrites;
	volatile unsigned char *p;
	unsigned char seen, orig;
	char dirty[64] = "";
	bool reset;

	if (!pages)
		return false;
	if (pages < 4) {
		printf("%s: needs nr_pages >= 4, has %ld\n", dev, pages);
		return false;
	}
	/* Only with the device there, so that debugfs is the driver's. */
	reset = !access(dev, F_OK) &&
		mmp_write_file("/sys/kernel/debug/mmp_fault/reset", "1") == 1;
	p = map_node(dev, 4 * page, PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED)
		return false;
	f0 = mmp_read_long(faults);
	seen = p[2 * page];
	f1 = mmp_read_long(faults);
	orig = p[page];
	p[page] = orig ^ 0xff;
	mmp_read_line("/sys/kernel/debug/mmp_fault/dirty", dirty,
		      sizeof(dirty));
	mkwrites = mmp_read_long("/sys/kernel/debug/mmp_fault/mkwrites");
	p[page] = orig;
	munmap((void *)p, 4 * page);
	printf("%s: %s; mapped 4 pages: faults %ld; read page 2 (byte %02x): faults %ld; "
	       "wrote page 1: dirty [%s], mkwrites %ld; original byte written back\n",
	       dev, reset ? "counters reset" : "COULD NOT RESET", f0, seen,
	       f1, dirty, mkwrites);
	return reset && !f0 && f1 == 1 && !strcmp(dirty, "1");
}

/* A stacked mount over a fresh tmpfs; the mapping is the lower file's. */
static bool demo_stackfs(void)
{
	static const char msg[] = "hello from the lower tmpfs";
	long page = sysconf(_SC_PAGESIZE);
	char dir[] = "/tmp/mmp-demo.XXXXXX", lower[64], upper[64];
	char lfile[96], ufile[96], opts[96], seen[64] = "", got = 0;
	char shown[PATH_MAX] = "";
	bool mounted = false, lower_up = false, ok = false;
	char *p = MAP_FAILED;
	int fd;

	if (!mkdtemp(dir))
		return false;
	snprintf(lower, sizeof(lower), "%s/lower", dir);
	snprintf(upper, sizeof(upper), "%s/upper", dir);
	snprintf(lfile, sizeof(lfile), "%s/hello", lower);
	snprintf(ufile, sizeof(ufile), "%s/hello", upper);
	snprintf(opts, sizeof(opts), "lowerdir=%s", lower);
	lower_up = !mkdir(lower, 0755) && !mkdir(upper, 0755) &&
		   !mount("tmpfs", lower, "tmpfs", 0, NULL);
	fd = lower_up ? open(lfile, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) : -1;
	if (fd >= 0 && write(fd, msg, strlen(msg)) == (ssize_t)strlen(msg))
		mounted = !mount("none", upper, "mmp_stackfs", 0, opts);
	if (fd >= 0)
		close(fd);
	if (mounted) {
		p = map_node(ufile, page, PROT_READ | PROT_WRITE);
		if (p != MAP_FAILED) {
			snprintf(seen, sizeof(seen), "%.*s", (int)strlen(msg), p);
			mmp_vma_path(p, shown, sizeof(shown));
			p[0] = 'H';
			munmap(p, page);
			fd = open(lfile, O_RDONLY);
			if (fd < 0 || read(fd, &got, 1) != 1)
				got = 0;
			if (fd >= 0)
				close(fd);
		}
		umount(upper);
	}
	if (lower_up)
		umount(lower);
	rmdir(upper);
	rmdir(lower);
	rmdir(dir);
	ok = !strcmp(seen, msg) && got == 'H' && !strcmp(shown, ufile);
	printf("%s: mmp_stackfs over a tmpfs; the upper mapping reads \"%s\"; a store through it reached the lower file: %s; maps shows %s\n",
	       ufile, mounted ? seen : "(mount failed)", got == 'H' ? "yes" : "NO",
	       *shown ? shown : "nothing");
	return ok;
}

static const struct {
	const char *module;
	bool (*run)(void);
} demos[] = {
	{ "mmp_pfn_remap", demo_pfn_remap },
	{ "mmp_ioremap", demo_ioremap },
	{ "mmp_simple_ioremap", demo_simple_ioremap },
	{ "mmp_uio", demo_uio },
	{ "mmp_kernel_pages", demo_kernel_pages },
	{ "mmp_readonly", demo_readonly },
	{ "mmp_shmem", demo_shmem },
	{ "mmp_refcount", demo_refcount },
	{ "mmp_fault", demo_fault },
	{ "mmp_stackfs", demo_stackfs },
};

int main(void)
{
	bool ok = true;
	size_t i;

	for (i = 0; i < sizeof(demos) / sizeof(demos[0]); i++) {
		if (!mmp_module_loaded(demos[i].module)) {
			printf("%s: not loaded\n", demos[i].module);
			ok = false;
			continue;
		}
		ok &= demos[i].run();
	}
	return ok ? 0 : 1;
}
