// SPDX-License-Identifier: GPL-2.0
/*
 * KTAP test for the mmp_kernel_pages driver.
 *
 * The module maps nr_pages separately allocated kernel pages holding the
 * pattern with mmap_action_map_kernel_pages(). Unlike a PFN map these are
 * real struct pages in a VM_MIXEDMAP mapping: MAP_PRIVATE works and is
 * copy-on-write, and get_user_pages() can pin them, so the mapping can be
 * an io_uring fixed buffer for O_DIRECT I/O in both directions (where
 * io_uring takes file-backed memory at all, which a ramfs file shows, and
 * /tmp takes O_DIRECT). The rest is the usual policy: ranges, exec,
 * mremap, fork and the module pin.
 *
 * Usage: mmp_kernel_pages_test [-k mmp_kernel_pages.ko] [-n]
 *   -k  reload the module from this file after the unload test
 *   -n  skip the module unload/reload section
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

#include "ktap.h"
#include "mmp_testlib.h"
#include "mmp_util.h"

#define MOD_NAME	"mmp_kernel_pages"
#define DEFAULT_NR_PAGES 16UL
#define ODIRECT_FILE	"/tmp/mmp-odirect"

enum {
	N_ODIRECT = 4,
	PLAN = 1 + MMP_N_PATTERN_MAPS + MMP_N_VMFLAGS +
	       MMP_N_BAD_MAPS_ALLOW_PRIVATE + MMP_N_MPROTECT + 1 +
	       MMP_N_MREMAP_RESIZE + MMP_N_FORK + N_ODIRECT + MMP_N_MODULE(1),
};

static size_t page;
static struct mmp_node node = {
	.path = "/dev/mmp-kernel-pages", .name = "kernel-pages",
	.shows = "full mapping contents", .check = mmp_pattern_check,
	.rewrite = mmp_pattern_rewrite,
};

/*
 * A private writable map needs no write access to the device: stores
 * must land in anonymous copies, never in the kernel's pages.
 */
static void test_private_write(void)
{
	size_t len = node.pages * page;
	int fd = mmp_open_dev(node.path, O_RDONLY);
	char *p = mmp_map(fd, 0, node.pages, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE);
	bool ok = p && mmp_check_bytes("private map before write", p, 0, len, 0) &&
		  mmp_fill_bytes("write page 0", p, 0, page, 0xa5) &&
		  mmp_check_bytes("private page 0 after write", p, 0, page,
				  0xa5) &&
		  mmp_check_bytes("private pages 1.. after write", p + page,
				  page, len - page, 0) &&
		  mmp_fresh_map_check("fresh shared map after private write",
				      node.path, 0, node.pages, 0);

	mmp_unmap_pages(p, node.pages);
	mmp_close_fd(fd);
	ktap_result(ok,
		    "%s: MAP_PRIVATE RW map from O_RDONLY fd: a write to page 0 shows in it, a fresh shared map still shows the pattern",
		    node.name);
}

/* One READ_FIXED or WRITE_FIXED of fixed buffer 0: the cqe's res. */
static int rw_fixed(struct io_uring *ring, bool write, int fd, void *buf,
		    size_t len)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return -EBUSY;
	if (write)
		io_uring_prep_write_fixed(sqe, fd, buf, len, 0, 0);
	else
		io_uring_prep_read_fixed(sqe, fd, buf, len, 0, 0);
	ret = io_uring_submit(ring);
	if (ret != 1)
		return ret < 0 ? ret : -EAGAIN;
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

static bool rw_fixed_all(struct io_uring *ring, bool write, int fd,
			 void *buf, size_t len)
{
	int ret = rw_fixed(ring, write, fd, buf, len);

	if (ret == (int)len)
		return true;
	if (ret < 0)
		diag("%s: %s", write ? "WRITE_FIXED" : "READ_FIXED",
		     strerror(-ret));
	else
		diag("%s: %d bytes of %zu", write ? "WRITE_FIXED" : "READ_FIXED",
		     ret, len);
	return false;
}

/* What the file and the kernel buffer hold around two O_DIRECT transfers. */
struct odirect {
	struct io_uring *ring;
	void *map;		/* the registered full shared RW mapping */
	size_t len;
	int dfd;		/* O_DIRECT */
	int bfd;		/* plain, page cache */
	unsigned char *tmp;	/* len bytes of heap */
};

/* Kernel pages -> file: the device did the reading. */
static bool odirect_write(const struct odirect *o)
{
	ssize_t n;

	if (!mmp_check_bytes("mapping before WRITE_FIXED", o->map, 0, o->len,
			     0) ||
	    !rw_fixed_all(o->ring, true, o->dfd, o->map, o->len))
		return false;
	n = pread(o->bfd, o->tmp, o->len, 0);
	if (n != (ssize_t)o->len) {
		diag("read back %s: %s", ODIRECT_FILE,
		     n < 0 ? strerror(errno) : "short read");
		return false;
	}
	return mmp_check_bytes("file after WRITE_FIXED", o->tmp, 0, o->len, 0);
}

/* File -> kernel pages: the kernel's own buffer must change. */
static bool odirect_read(const struct odirect *o)
{
	ssize_t n;

	if (!mmp_fill_bytes("~pattern for the file", o->tmp, 0, o->len, 0xff))
		return false;
	n = pwrite(o->bfd, o->tmp, o->len, 0);
	if (n != (ssize_t)o->len || fsync(o->bfd)) {
		diag("write ~pattern to %s: %s", ODIRECT_FILE,
		     n < 0 || n == (ssize_t)o->len ? strerror(errno) :
		     "short write");
		return false;
	}
	return rw_fixed_all(o->ring, false, o->dfd, o->map, o->len) &&
	       mmp_check_bytes("mapping after READ_FIXED", o->map, 0, o->len,
			       0xff) &&
	       mmp_fresh_map_check("fresh map after READ_FIXED", node.path, 0,
				   node.pages, 0xff);
}

static int create_odirect_file(size_t len)
{
	int fd = open(ODIRECT_FILE,
		      O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);

	if (fd < 0) {
		/* The VM's tmpfs takes O_DIRECT: a refusal is a failure. */
		diag("open %s O_DIRECT: %s", ODIRECT_FILE, strerror(errno));
		return -1;
	}
	if (ftruncate(fd, (off_t)len)) {
		diag("ftruncate %s: %s", ODIRECT_FILE, strerror(errno));
		close(fd);
		unlink(ODIRECT_FILE);
		return -1;
	}
	return fd;
}

/*
 * What io_uring_register_buffers() on @ring answers for a mapping of a
 * ramfs file: file-backed but neither shmem nor hugetlb, like ours. 6.1's
 * io_uring refuses that (EOPNOTSUPP), later ones take it. Private, as a
 * shared one would also meet GUP's refusal to pin writable file pages
 * that need dirty tracking (EFAULT), which ours do not. 1 if the control
 * itself could not be set up.
 */
static int register_control(struct io_uring *ring)
{
	char dir[] = "/tmp/mmp-ramfs.XXXXXX", path[64];
	struct iovec iov = { .iov_len = page };
	int fd = -1, ret = 1;

	if (!mkdtemp(dir)) {
		diag("mkdtemp: %s", strerror(errno));
		return 1;
	}
	if (mount("ramfs", dir, "ramfs", 0, NULL)) {
		diag("mount ramfs: %s", strerror(errno));
		goto out_rmdir;
	}
	snprintf(path, sizeof(path), "%s/control", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)page)) {
		diag("ramfs file %s: %s", path, strerror(errno));
		goto out_umount;
	}
	iov.iov_base = mmp_map(fd, 0, 1, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	if (iov.iov_base) {
		ret = io_uring_register_buffers(ring, &iov, 1);
		if (!ret)
			io_uring_unregister_buffers(ring);
		mmp_unmap_pages(iov.iov_base, 1);
	}
out_umount:
	mmp_close_fd(fd);
	if (umount2(dir, 0))
		diag("umount %s: %s", dir, strerror(errno));
out_rmdir:
	rmdir(dir);
	return ret;
}

/*
 * get_user_pages() works on real pages: the full RW mapping registers as
 * an io_uring fixed buffer, and O_DIRECT moves data between a file and
 * the kernel's pages through it.
 */
static void test_odirect(void)
{
	size_t len = node.pages * page;
	int fd = mmp_open_dev(node.path, O_RDWR);
	struct odirect o = {
		.map = mmp_map_pages(fd, 0, node.pages,
				     PROT_READ | PROT_WRITE),
		.len = len, .dfd = -1, .bfd = -1,
	};
	bool registered = false, to_file = false, from_file = false;
	bool restored, refused = false;
	const char *skip = NULL;
	struct io_uring ring;
	int ret = -1, control = 1;

	if (o.map) {
		ret = io_uring_queue_init(4, &ring, 0);
		if (ret < 0)
			diag("io_uring_queue_init: %s", strerror(-ret));
	}
	if (o.map && ret >= 0) {
		struct iovec iov = { .iov_base = o.map, .iov_len = len };

		o.ring = &ring;
		control = register_control(&ring);
		if (control && control != -EOPNOTSUPP)
			diag("control: %s", control > 0 ? "not set up" :
			     strerror(-control));
		ret = io_uring_register_buffers(&ring, &iov, 1);
		registered = !ret;
		if (control == -EOPNOTSUPP) {
			/* Where the control is refused, ours must be too. */
			skip = "this kernel's io_uring takes no file-backed fixed buffers";
			refused = ret == -EOPNOTSUPP;
			if (registered)
				io_uring_unregister_buffers(&ring);
			registered = false;
		}
		if (ret && !refused)
			diag("io_uring_register_buffers: %s", strerror(-ret));
		o.tmp = malloc(len);
		if (!o.tmp)
			diag("malloc %zu bytes failed", len);
	}
	if (registered && o.tmp) {
		o.dfd = create_odirect_file(len);
		if (o.dfd >= 0)
			o.bfd = mmp_open_dev(ODIRECT_FILE, O_RDWR);
	}
	if (o.bfd >= 0) {
		to_file = odirect_write(&o);
		from_file = odirect_read(&o);
	}
	if (o.dfd >= 0) {
		close(o.dfd);
		unlink(ODIRECT_FILE);
	}
	mmp_close_fd(o.bfd);
	free(o.tmp);
	if (registered)
		io_uring_unregister_buffers(&ring);
	if (o.ring)
		io_uring_queue_exit(&ring);

	/* Put the pattern back through the shared mapping, whatever failed. */
	restored = o.map && mmp_fill_bytes("restore", o.map, 0, len, 0) &&
		   mmp_fresh_map_check("fresh map after restore", node.path, 0,
				       node.pages, 0);
	mmp_unmap_pages(o.map, node.pages);
	mmp_close_fd(fd);

	if (control == -EOPNOTSUPP)
		ktap_result(refused,
			    "%s: io_uring_register_buffers of the full RW mapping fails EOPNOTSUPP, as for a private ramfs file mapping (io_uring here takes no file-backed buffers)",
			    node.name);
	else
		ktap_result(registered && !control,
			    "%s: io_uring_register_buffers of the full RW mapping succeeds (the pages can be pinned), as for a private ramfs file mapping",
			    node.name);
	mmp_report(skip, to_file,
		   "%s: io_uring WRITE_FIXED from the mapping to an O_DIRECT file writes the whole buffer, file reads back the pattern",
		   node.name);
	mmp_report(skip, from_file,
		   "%s: io_uring READ_FIXED from the O_DIRECT file into the mapping reads the whole buffer, mapping and a fresh mapping show pattern^0xff",
		   node.name);
	ktap_result(restored,
		    "%s: pattern restored through the shared mapping, a fresh mapping shows it",
		    node.name);
}

static void tests(size_t page_size)
{
	page = page_size;
	mmp_test_pattern_maps(&node);
	/* Real pages: VM_MIXEDMAP, never VM_IO or VM_PFNMAP. */
	mmp_test_vmflags_kind(&node, "mm de", "io pf");
	mmp_test_bad_maps_allow_private(&node, "nr_pages", ENXIO);
	mmp_test_mprotect(&node);
	test_private_write();
	mmp_test_mremap_resize(&node);
	mmp_test_fork(&node);
	test_odirect();
}

int main(int argc, char **argv)
{
	static const struct mmp_node_test t = {
		.mod = MOD_NAME, .plan = PLAN, .n = &node,
		.def_pages = DEFAULT_NR_PAGES, .mode = 0600, .tests = tests,
		.back = "module: device node back after reload, page 0 holds the pattern",
	};

	return mmp_node_test_main(argc, argv, &t);
}
