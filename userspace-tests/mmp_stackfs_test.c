// SPDX-License-Identifier: GPL-2.0
/*
 * KTAP test for mmp_stackfs, the stacked filesystem.
 *
 * Everything happens under a fresh directory in /tmp, as root:
 *  - content suites over two lower filesystems with different mmap
 *    implementations: a new tmpfs, and ext4 loop-mounted from an image
 *    (-i, default /images/ext4.img as packed into the test VM);
 *  - the legacy ->mmap path: stacked over the sysfs directory of a QEMU edu
 *    device (-p, default the last edu found), whose resource0 has only
 *    ->mmap; the device is unbound from its driver meanwhile (sysfs refuses
 *    to map a BAR a driver has claimed) and given back afterwards;
 *  - a lower filesystem without mmap (procfs), the stacking depth limit,
 *    bad mount options, and module removal while mapped.
 *
 * Kernels before 6.8 have no backing files: the module then opens plain
 * lower files and says so at load ("lower files: plain"). A mapping then
 * holds only lower objects, so /proc/self/maps names the lower file, and
 * the upper mount and the module can go while it lives; the test checks
 * that behaviour instead.
 *
 * Usage: mmp_stackfs_test [-k mmp_stackfs.ko] [-n] [-i ext4.img] [-p BDF]
 *   -k  reload the module from this file after the unload test
 *   -n  skip the module unload section
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/loop.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ktap.h"
#include "mmp_testlib.h"

#define MOD_NAME "mmp_stackfs"
#define FS_NAME "mmp_stackfs"
#define DATA_PAGES 4
#define INNER "inner file\n"

/*
 * 20 per content suite, then legacy, no-mmap, automount, mount flags,
 * depth, bad input, module, and the final cleanup check.
 */
#define N_CONTENT 20
#define N_LEGACY 8
#define N_NOMMAP 5
#define N_AUTOMOUNT 1
#define N_FLAGS 1
#define N_DEPTH 5
#define N_BAD 5
#define N_MODULE 5
#define PLAN (2 * N_CONTENT + N_LEGACY + N_NOMMAP + N_AUTOMOUNT + N_FLAGS + \
	      N_DEPTH + N_BAD + N_MODULE + 1)

static size_t page;
static char work[64];
static const char *image = "/images/ext4.img";
static const char *edu_bdf;
static bool plain; /* plain lower files, no backing files */

static bool parse_opt(int c, const char *arg)
{
	if (c == 'i')
		image = arg;
	else if (c == 'p')
		edu_bdf = arg;
	else
		return false;
	return true;
}

/* @dir/@name in @buf, of PATH_MAX bytes; our paths are short. */
static const char *at(char *buf, const char *dir, const char *name)
{
	if (snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		ktap_diag("path %s/%s truncated", dir, name);
	return buf;
}

static bool put_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;

	if (!ok)
		diag("write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Read all of @path into @buf (at most @size bytes); -1 on error. */
static ssize_t get_file(const char *path, void *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n = 0;

	if (fd < 0) {
		diag("open %s: %s", path, strerror(errno));
		return -1;
	}
	while (got < size &&
	       (n = read(fd, (char *)buf + got, size - got)) > 0)
		got += n;
	if (n < 0)
		diag("read %s: %s", path, strerror(errno));
	close(fd);
	return n < 0 ? -1 : (ssize_t)got;
}

/* @len bytes of the shared test pattern from offset 0, XORed with @xor. */
static unsigned char *pattern(size_t len, unsigned char xor)
{
	unsigned char *p = malloc(len);
	size_t i;

	for (i = 0; p && i < len; i++)
		p[i] = mmp_pattern(i, (long)page) ^ xor;
	return p;
}

/*
 * The first @len bytes of @path are the pattern XOR @xor and, with @exact,
 * there is nothing after them.
 */
static bool starts_with(const char *what, const char *path, size_t len,
			unsigned char xor, bool exact)
{
	unsigned char *want = pattern(len, xor), *got = malloc(len + 1);
	size_t size = exact ? len + 1 : len;
	ssize_t n = -1;
	bool ok = false;

	if (want && got) {
		n = get_file(path, got, size);
		ok = n == (ssize_t)len && !memcmp(got, want, len);
	}
	if (!ok && n >= 0)
		diag("%s: %s: %zd bytes, expected %zu of the pattern ^%#x",
		     what, path, n, len, xor);
	free(want);
	free(got);
	return ok;
}

static bool file_is(const char *what, const char *path, size_t len,
		    unsigned char xor)
{
	return starts_with(what, path, len, xor, true);
}

/*
 * The call that returned @ret failed with @want. errno is read here, after
 * the call: as an argument next to it, it could be read before.
 */
static bool failed_with(long ret, int want, const char *what)
{
	return ktap_errno_ok(ret, errno, want, what);
}

static int stackfs_mount(const char *lower, const char *up)
{
	char opts[PATH_MAX + 16];

	snprintf(opts, sizeof(opts), "lowerdir=%s", lower);
	return mount("none", up, FS_NAME, 0, opts) ? errno : 0;
}

/* stackfs_mount(), saying why it failed. */
static int mount_diag(const char *lower, const char *up)
{
	int err = stackfs_mount(lower, up);

	if (err)
		diag("mount lowerdir=%s on %s: %s", lower, up, strerror(err));
	return err;
}

static bool do_umount(const char *up)
{
	if (!umount2(up, 0))
		return true;
	diag("umount %s: %s", up, strerror(errno));
	return false;
}

/*
 * Walk /proc/self/mountinfo: count the mmp_stackfs mounts and, for the
 * first mount at @up (if given), copy its filesystem type (64 bytes) and
 * super options (PATH_MAX bytes) and set *@found. -1 if unreadable.
 */
static int mountinfo_scan(const char *up, char *type, char *opts,
			  bool *found)
{
	char line[2 * PATH_MAX], point[PATH_MAX], t[64], o[PATH_MAX], *sep;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int n = 0;

	*found = false;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* id parent maj:min root point opts ... - type source sopts */
		sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1 ||
		    sscanf(sep, " - %63s %*s %4095s", t, o) != 2)
			continue;
		n += !strcmp(t, FS_NAME);
		if (up && !*found && !strcmp(point, up)) {
			strcpy(type, t);
			strcpy(opts, o);
			*found = true;
		}
	}
	fclose(f);
	return n;
}

/* Type and super options of the mount at @up; false if none. */
static bool mountinfo(const char *up, char *type, char *opts)
{
	bool found;

	mountinfo_scan(up, type, opts, &found);
	return found;
}

static bool is_mounted(const char *up)
{
	char type[64], opts[PATH_MAX];

	return mountinfo(up, type, opts);
}

/* Number of mmp_stackfs mounts in this namespace, -1 on error. */
static int count_stackfs(void)
{
	char type[64], opts[PATH_MAX];
	bool found;

	return mountinfo_scan(NULL, type, opts, &found);
}

/* Lower tree: data (DATA_PAGES pages of pattern), sub/inner, empty. */
static bool populate(const char *lower)
{
	size_t len = DATA_PAGES * page;
	unsigned char *data = pattern(len, 0);
	char p[PATH_MAX];
	bool ok;

	ok = data && put_file(at(p, lower, "data"), data, len) &&
	     (!mkdir(at(p, lower, "sub"), 0755) || errno == EEXIST) &&
	     put_file(at(p, lower, "sub/inner"), INNER, strlen(INNER)) &&
	     put_file(at(p, lower, "empty"), "", 0);
	free(data);
	return ok;
}

struct dent {
	char name[256];
	ino_t ino;
	unsigned char type;
};

static int dent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name,
		      ((const struct dent *)b)->name);
}

/* The sorted entries of @dir, without . and .. (at most @max). */
static int list_dir(const char *dir, struct dent *d, int max)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!dp) {
		diag("opendir %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(dp)) && n < max) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(d[n].name, sizeof(d[n].name), "%s", e->d_name);
		d[n].ino = e->d_ino;
		d[n].type = e->d_type;
		n++;
	}
	closedir(dp);
	qsort(d, n, sizeof(*d), dent_cmp);
	return n;
}

static bool listed(const struct dent *d, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(d[i].name, name))
			return true;
	diag("%s not listed", name);
	return false;
}

static bool same_listing(const char *lower, const char *up)
{
	struct dent a[16], b[16];
	int na = list_dir(lower, a, 16), nb = list_dir(up, b, 16), i;

	if (na < 0 || nb < 0)
		return false;
	if (na != nb) {
		diag("%s lists %d entries, %s %d", up, nb, lower, na);
		return false;
	}
	for (i = 0; i < na; i++) {
		if (strcmp(a[i].name, b[i].name) || a[i].ino != b[i].ino ||
		    a[i].type != b[i].type) {
			diag("entry %d: upper %s ino %lu type %u, lower %s ino %lu type %u",
			     i, b[i].name, (unsigned long)b[i].ino, b[i].type,
			     a[i].name, (unsigned long)a[i].ino, a[i].type);
			return false;
		}
	}
	/* What populate() made must be among them. */
	return listed(b, nb, "data") && listed(b, nb, "empty") &&
	       listed(b, nb, "sub");
}

/*
 * The maps line of the VMA at @p names the upper file @upper, device and
 * inode included: for a backing file the kernel shows the file the user
 * mapped (file_user_path(), file_user_inode()), while the VMA holds the
 * lower file. A plain lower file, @lower, names itself.
 */
static bool maps_names(void *p, const char *upper, const char *lower)
{
	char real[PATH_MAX];
	const char *path = upper;
	struct mmp_vma_file vf;
	struct stat st;

	/* The lower file's own path: no symlinks (/sys/bus/pci/devices). */
	if (plain) {
		if (!realpath(lower, real)) {
			diag("realpath %s: %s", lower, strerror(errno));
			return false;
		}
		path = real;
	}

	if (stat(path, &st) || !mmp_vma_file(p, &vf)) {
		diag("no maps line at %p or stat %s failed", p, path);
		return false;
	}
	if (!strcmp(vf.path, path) && vf.ino == st.st_ino &&
	    vf.major == major(st.st_dev) && vf.minor == minor(st.st_dev))
		return true;
	diag("maps: %02x:%02x %lu %s; expected %02x:%02x %lu %s", vf.major,
	     vf.minor, vf.ino, vf.path, major(st.st_dev), minor(st.st_dev),
	     (unsigned long)st.st_ino, path);
	return false;
}

/* Read the first @len bytes of @path with io_uring into @buf. */
static bool uring_read(const char *path, int oflags, void *buf, size_t len)
{
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int fd, ret;
	bool ok = false;

	fd = mmp_open_dev(path, O_RDONLY | oflags);
	if (fd < 0)
		return false;
	ret = io_uring_queue_init(2, &ring, 0);
	if (ret < 0) {
		diag("io_uring_queue_init: %s", strerror(-ret));
		close(fd);
		return false;
	}
	io_uring_prep_read(io_uring_get_sqe(&ring), fd, buf, len, 0);
	ret = io_uring_submit_and_wait(&ring, 1);
	if (ret == 1 && !io_uring_wait_cqe(&ring, &cqe)) {
		ok = cqe->res == (int)len;
		if (!ok)
			diag("io_uring read of %s: %s", path,
			     cqe->res < 0 ? strerror(-cqe->res) : "short");
		io_uring_cqe_seen(&ring, cqe);
	} else {
		diag("io_uring_submit_and_wait: %s", strerror(-ret));
	}
	io_uring_queue_exit(&ring);
	close(fd);
	return ok;
}

static bool uring_matches(const char *path, int oflags, unsigned char xor)
{
	size_t len = DATA_PAGES * page;
	unsigned char *want = pattern(len, xor);
	void *buf = NULL;
	bool ok;

	/* O_DIRECT wants an aligned buffer. */
	ok = want && !posix_memalign(&buf, page, len) &&
	     uring_read(path, oflags, buf, len) && !memcmp(buf, want, len);
	free(want);
	free(buf);
	return ok;
}

/* Which file the maps line names, for a result's description. */
static const char *maps_file(void)
{
	return plain ? "the lower file (plain lower files)" : "the upper file";
}

/*
 * An O_RDONLY | O_DIRECT open of @upper fails as one of @lower does (tmpfs
 * takes O_DIRECT only from 6.6 on): EINVAL, both.
 */
static bool odirect_refused(const char *upper, const char *lower)
{
	int fd = open(lower, O_RDONLY | O_DIRECT);

	if (fd >= 0) {
		close(fd);
		diag("%s: O_DIRECT open succeeds", lower);
		return false;
	}
	if (errno != EINVAL) {
		diag("%s: O_DIRECT open: %s", lower, strerror(errno));
		return false;
	}
	fd = open(upper, O_RDONLY | O_DIRECT);
	if (fd >= 0)
		close(fd);
	return ktap_errno_ok(fd, errno, EINVAL, "upper O_DIRECT open");
}

/* Whether @path opens with O_DIRECT. */
static bool odirect_ok(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECT);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Map @pages of @path from page @pgoff; the fd is closed again. */
static void *map_path(const char *path, int oflags, unsigned long pgoff,
		      size_t pages, int prot, int flags)
{
	int fd = mmp_open_dev(path, oflags);
	void *m = mmp_map(fd, pgoff, pages, prot, flags);

	mmp_close_fd(fd);
	return m;
}

/* mmap() of @path fails with @err and leaves no VMA of @path behind. */
static bool map_refused(const char *path, int oflags, int prot, int flags,
			int err)
{
	int fd = mmp_open_dev(path, oflags), before = mmp_count_maps(path);
	void *p;
	bool ok;

	if (fd < 0)
		return false;
	p = mmap(NULL, page, prot, flags, fd, 0);
	ok = ktap_errno_ok(p == MAP_FAILED ? -1 : 0, errno, err, "mmap");
	if (p != MAP_FAILED)
		munmap(p, page);
	close(fd);
	if (ok && mmp_count_maps(path) != before) {
		diag("%s: a VMA was left behind", path);
		ok = false;
	}
	return ok;
}

/*
 * The content suite over @lower, a directory of filesystem @kind. With
 * @skip, its results are skipped for that reason, or, with @broken, the
 * first fails (the setup of @lower did) and the rest are skipped.
 */
static void content_suite(const char *kind, const char *lower,
			  const char *skip, bool broken)
{
	char up[PATH_MAX], p[PATH_MAX], l[PATH_MAX], type[64], opts[PATH_MAX];
	char flags[256];
	size_t len = DATA_PAGES * page;
	bool compat = mmp_module_compat(MOD_NAME);
	bool ok = false, mounted = false;
	struct stat su, sl, sr;
	void *m = NULL;
	int fd, maps;

	if (snprintf(up, sizeof(up), "%s/up-%s", work, kind) >= PATH_MAX)
		ktap_diag("path %s/up-%s truncated", work, kind);
	if (!skip) {
		ok = !mkdir(up, 0755) && populate(lower);
		if (ok)
			ok = !mount_diag(lower, up);
		mounted = ok;
		ok = ok && mountinfo(up, type, opts) &&
		     !strcmp(type, FS_NAME) && strstr(opts, "lowerdir=") &&
		     !strcmp(strstr(opts, "lowerdir=") + 9, lower);
		if (mounted && !ok)
			diag("mountinfo of %s: type %s options %s", up, type,
			     opts);
	}
	mmp_report(broken ? NULL : skip, ok,
		   "%s: mount -t %s -o lowerdir=%s succeeds, mountinfo shows the type and lowerdir",
		   kind, FS_NAME, kind);
	/* That failure counted; what needs the mount is skipped. */
	if (!mounted && !skip)
		skip = "the mount failed";

	mmp_report(skip, !skip && same_listing(lower, up),
		   "%s: readdir of the upper root lists the lower entries with the same d_ino and d_type",
		   kind);

	ok = !skip && !stat(at(p, up, "data"), &su) &&
	     !stat(at(l, lower, "data"), &sl) && !stat(up, &sr);
	ok = ok && su.st_size == (off_t)len && sl.st_size == su.st_size &&
	     su.st_mode == sl.st_mode && su.st_ino == sl.st_ino &&
	     su.st_dev == sr.st_dev && su.st_dev != sl.st_dev;
	mmp_report(skip, ok,
		   "%s: stat of data through the upper: size, mode and inode of the lower file, the upper's st_dev",
		   kind);

	if (!skip) {
		char buf[64] = "";
		ssize_t n = get_file(at(p, up, "sub/inner"), buf, sizeof(buf));

		ok = n == (ssize_t)strlen(INNER) && !memcmp(buf, INNER, n);
	}
	mmp_report(skip, ok, "%s: nested lookup: sub/inner reads \"inner file\"",
		   kind);

	if (!skip) {
		ok = failed_with(open(at(p, up, "missing"), O_RDONLY),
				   ENOENT, "open missing") &&
		     failed_with(open(at(p, up, "new"),
				      O_WRONLY | O_CREAT | O_EXCL, 0644),
				 EACCES, "open O_CREAT new") &&
		     failed_with(access(at(l, lower, "new"), F_OK),
				   ENOENT, "access lower new");
	}
	mmp_report(skip, ok,
		   "%s: a missing name is ENOENT; O_CREAT through the upper fails EACCES and creates nothing below",
		   kind);

	mmp_report(skip,
		   !skip && file_is("upper read", at(p, up, "data"), len, 0) &&
			   file_is("lower read", at(l, lower, "data"), len, 0),
		   "%s: read() through the upper and of the lower both return the %d pages of pattern",
		   kind, DATA_PAGES);

	if (!skip) {
		m = map_path(at(p, up, "data"), O_RDONLY, 0, DATA_PAGES,
			     PROT_READ, MAP_SHARED);
	}
	mmp_report(skip, m && mmp_check_bytes("upper map", m, 0, len, 0),
		   "%s: a MAP_SHARED mapping of the upper file shows the same bytes",
		   kind);
	mmp_report(skip,
		   m && maps_names(m, at(p, up, "data"), at(l, lower, "data")),
		   "%s: /proc/self/maps names %s: path, device and inode",
		   kind, maps_file());
	mmp_unmap_pages(m, DATA_PAGES);
	m = NULL;

	if (!skip) {
		m = map_path(at(p, up, "data"), O_RDWR, 0, DATA_PAGES,
			     PROT_READ | PROT_WRITE, MAP_SHARED);
		ok = m && mmp_fill_bytes("upper map", m, 0, len, 0x5a);
		if (m && msync(m, len, MS_SYNC)) {
			diag("msync: %s", strerror(errno));
			ok = false;
		}
		mmp_unmap_pages(m, DATA_PAGES);
		m = NULL;
		ok = ok && file_is("lower after msync", l, len, 0x5a) &&
		     file_is("upper after msync", p, len, 0x5a);
	}
	mmp_report(skip, ok,
		   "%s: writes through a shared RW upper mapping reach the lower file (msync, munmap, read both)",
		   kind);

	if (!skip) {
		fd = mmp_open_dev(p, O_WRONLY);
		ok = fd >= 0 && pwrite(fd, "tail", 4, (off_t)len) == 4;
		mmp_close_fd(fd);
		m = map_path(l, O_RDONLY, DATA_PAGES, 1, PROT_READ, MAP_SHARED);
		ok = ok && m && !memcmp(m, "tail", 4) && !stat(p, &su) &&
		     !stat(l, &sl) && su.st_size == (off_t)len + 4 &&
		     sl.st_size == su.st_size;
		mmp_unmap_pages(m, 1);
		m = NULL;
	}
	mmp_report(skip, ok,
		   "%s: pwrite() through the upper extends the lower file; a lower mapping sees the bytes, both sizes agree",
		   kind);

	mmp_report(skip, !skip && uring_matches(p, 0, 0x5a),
		   "%s: io_uring read (liburing) through the upper returns the lower bytes",
		   kind);
	if (skip || odirect_ok(l))
		mmp_report(skip, !skip && uring_matches(p, O_DIRECT, 0x5a),
			   "%s: io_uring O_DIRECT read through the upper returns the lower bytes",
			   kind);
	else
		mmp_report(skip, odirect_refused(p, l),
			   "%s: the lower fs refuses O_DIRECT opens (EINVAL), and so does the upper",
			   kind);

	mmp_report(skip,
		   !skip && map_refused(p, O_RDONLY, PROT_READ | PROT_WRITE,
					MAP_SHARED, EACCES),
		   "%s: O_RDONLY upper: PROT_WRITE MAP_SHARED fails EACCES, no VMA left",
		   kind);

	if (!skip) {
		m = map_path(p, O_RDONLY, 0, 1, PROT_READ, MAP_SHARED);
		ok = m &&
		     failed_with(mprotect(m, page, PROT_READ | PROT_WRITE),
				 EACCES, "mprotect") &&
		     mmp_check_bytes("after mprotect", m, 0, page, 0x5a);
		mmp_unmap_pages(m, 1);
		m = NULL;
	}
	mmp_report(skip, ok,
		   "%s: O_RDONLY upper: mprotect(PROT_WRITE) of a shared mapping fails EACCES, the mapping still reads",
		   kind);

	if (!skip) {
		m = map_path(p, O_RDONLY, 0, 1, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE);
		ok = m && mmp_fill_bytes("private copy", m, 0, page, 0x33) &&
		     mmp_check_bytes("private copy", m, 0, page, 0x33);
		mmp_unmap_pages(m, 1);
		m = NULL;
		/* The lower file is still the 0x5a pattern, then "tail". */
		ok = ok && starts_with("lower after private write", l, len,
				       0x5a, false);
	}
	mmp_report(skip, ok,
		   "%s: O_RDONLY upper: a MAP_PRIVATE PROT_WRITE copy takes writes and leaves the lower file unchanged",
		   kind);

	/*
	 * Truncating the lower file unmaps the pages of every VMA linked to
	 * it: only if the VMA holds the lower file does the upper mapping
	 * lose its page, instead of keeping a stale one.
	 */
	if (!skip) {
		unsigned char *data = pattern(page, 0);

		at(p, up, "victim");
		at(l, lower, "victim");
		ok = data && put_file(l, data, page);
		free(data);
		fd = mmp_open_dev(p, O_RDONLY);
		m = ok ? mmp_map(fd, 0, 1, PROT_READ, MAP_SHARED) : NULL;
		mmp_close_fd(fd);
		ok = m && mmp_check_bytes("victim", m, 0, page, 0) &&
		     !truncate(l, 0) && mmp_expect_sigbus("after truncate", m);
		mmp_unmap_pages(m, 1);
		m = NULL;
		if (unlink(l))
			diag("unlink %s: %s", l, strerror(errno));
		at(p, up, "data");
		at(l, lower, "data");
	}
	mmp_report(skip, ok,
		   "%s: truncating the lower file takes the faulted page from the upper mapping (SIGBUS): the VMA holds the lower file",
		   kind);

	/*
	 * Two adjacent mmaps of one upper fd, the second MAP_FIXED right
	 * after the first: the core could merge them, and in 7.3 it then
	 * leaks the file reference ->mmap_prepare handed over. The upper
	 * mount would stay busy for good.
	 */
	if (!skip) {
		unsigned long end = 0;
		char *q = NULL;

		fd = mmp_open_dev(p, O_RDONLY);
		m = mmp_map(fd, 0, 2, PROT_READ, MAP_SHARED);
		if (m && !munmap((char *)m + page, page))
			q = mmap((char *)m + page, page, PROT_READ,
				 MAP_SHARED | MAP_FIXED, fd, (off_t)page);
		mmp_close_fd(fd);
		ok = q == (char *)m + page &&
		     mmp_vma_info(m, &end, flags, sizeof(flags));
		/* Native: VMA_DONTEXPAND. Compat: merging is safe there. */
		if (ok && !compat && end != (unsigned long)q) {
			diag("adjacent mmaps merged into one VMA");
			ok = false;
		}
		mmp_unmap_pages(m, 2);
		m = NULL;
		/* MNT_EXPIRE: EAGAIN if the mount is idle, EBUSY if in use. */
		ok = ok && failed_with(umount2(up, MNT_EXPIRE), EAGAIN,
				       "umount MNT_EXPIRE after munmap");
	}
	mmp_report(skip, ok,
		   "%s: adjacent mmaps of one upper fd (native: two VMAs); after munmap and close the upper mount is idle (no file reference leaked)",
		   kind);

	/*
	 * Native path: VMA_DONTEXPAND, so mremap() cannot grow a mapping
	 * (EFAULT). Compat path (legacy ->mmap, backing_file_mmap()): no
	 * merge leak to avoid, and the mapping grows like any file mapping.
	 */
	if (!skip) {
		void *q;

		m = map_path(p, O_RDONLY, 0, 1, PROT_READ, MAP_SHARED);
		q = m ? mremap(m, page, 2 * page, MREMAP_MAYMOVE) : MAP_FAILED;
		if (compat) {
			ok = q != MAP_FAILED &&
			     mmp_check_bytes("grown", q, 0, 2 * page, 0x5a);
			if (m && q == MAP_FAILED)
				diag("mremap grow: %s", strerror(errno));
			if (q != MAP_FAILED)
				m = q;
			mmp_unmap_pages(m, q != MAP_FAILED ? 2 : 1);
		} else {
			ok = m && failed_with(q == MAP_FAILED ? -1 : 0, EFAULT,
					      "mremap grow") &&
			     mmp_check_bytes("after mremap", m, 0, page, 0x5a);
			if (q != MAP_FAILED && q != m)
				munmap(q, 2 * page);
			mmp_unmap_pages(m, 1);
		}
		m = NULL;
	}
	mmp_report(skip, ok, compat ?
		   "%s: compat path: mremap grows an upper mapping (no VMA_DONTEXPAND), which reads on" :
		   "%s: mremap cannot grow an upper mapping (EFAULT, VMA_DONTEXPAND), which still reads",
		   kind);

	if (!skip && plain) {
		/* The VMA holds only the lower file: the upper can go. */
		m = map_path(p, O_RDONLY, 0, 1, PROT_READ, MAP_SHARED);
		ok = m && do_umount(up) && !is_mounted(up) &&
		     mmp_check_bytes("after umount", m, 0, page, 0x5a);
	} else if (!skip) {
		m = map_path(p, O_RDONLY, 0, 1, PROT_READ, MAP_SHARED);
		ok = m && failed_with(umount2(up, 0), EBUSY,
					"umount while mapped") &&
		     mmp_check_bytes("after refused umount", m, 0, page, 0x5a);
	}
	mmp_report(skip, ok, plain ?
		   "%s: umount succeeds while an upper file is mapped (fd closed; plain lower files), the mapping still reads" :
		   "%s: umount fails EBUSY while an upper file is mapped (fd closed), the mapping still reads",
		   kind);
	/* The one mapping of the lower file is ours, and goes with munmap. */
	maps = plain && m ? mmp_count_maps(l) : -1;
	mmp_unmap_pages(m, 1);
	if (plain) {
		ok = mounted && !is_mounted(up) && maps == 1 &&
		     mmp_count_maps(l) == 0;
		if (mounted && maps != 1)
			diag("%d mappings of %s before munmap", maps, l);
		mmp_report(skip, ok,
			   "%s: the lower file was mapped once, and after munmap not at all; the upper stays unmounted",
			   kind);
	} else {
		ok = mounted && do_umount(up) && !is_mounted(up);
		mmp_report(skip, ok, "%s: after munmap, umount succeeds",
			   kind);
	}
	if (mounted && is_mounted(up))
		umount2(up, MNT_DETACH);
}

/*
 * A loop device for @img, mounted as ext4 at @dir. NULL on success, else
 * why not; *@failed tells a failure from a missing image.
 */
static const char *mount_ext4(const char *img, const char *dir, bool *failed)
{
	struct loop_config cfg = { .info.lo_flags = LO_FLAGS_AUTOCLEAR };
	int ctl, nr, loop = -1, fd;
	char dev[64];
	const char *why = NULL;

	*failed = false;
	fd = open(img, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return "no ext4 image (-i IMAGE)";
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	nr = ctl < 0 ? -1 : ioctl(ctl, LOOP_CTL_GET_FREE);
	if (nr >= 0) {
		snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
		loop = open(dev, O_RDWR | O_CLOEXEC);
	}
	cfg.fd = fd;
	if (loop < 0 || ioctl(loop, LOOP_CONFIGURE, &cfg)) {
		diag("loop device for %s: %s", img, strerror(errno));
		why = "no loop device";
	} else if (mkdir(dir, 0755) || mount(dev, dir, "ext4", 0, NULL)) {
		diag("mount %s (%s) as ext4: %s", dev, img, strerror(errno));
		why = "cannot mount the ext4 image";
	}
	*failed = why != NULL;
	/* With AUTOCLEAR the device goes away with its last user. */
	if (loop >= 0)
		close(loop);
	if (ctl >= 0)
		close(ctl);
	close(fd);
	return why;
}

/* Unbind @bdf from its driver, if any, whose name goes to @drv. */
static bool unbind(const char *bdf, char *drv, size_t size)
{
	char path[PATH_MAX];

	if (!mmp_pci_driver(bdf, drv, size)) {
		*drv = '\0';
		return true;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind", drv);
	return mmp_sysfs_write(path, bdf);
}

static bool rebind(const char *bdf, const char *drv)
{
	char path[PATH_MAX], now[64];

	if (!*drv)
		return !mmp_pci_driver(bdf, now, sizeof(now));
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind", drv);
	return mmp_sysfs_write(path, bdf) && mmp_bound_to(bdf, drv);
}

/* The sysfs directory of an edu device as the lower dir. */
static void legacy_suite(void)
{
	char lower[PATH_MAX], up[PATH_MAX], p[PATH_MAX], l[PATH_MAX];
	char drv[64] = "", bdfs[8][MMP_BDF_LEN], flags[256];
	unsigned long long start, size = 0;
	const char *skip = NULL, *bdf = edu_bdf;
	bool ok, mounted = false, unbound = false;
	uint32_t id = 0, live = 0;
	void *m = NULL, *lm = NULL, *q;
	int n, fd, before;

	if (!bdf) {
		/* The last one: mmp_uio's test borrows the same. */
		n = mmp_pci_find(MMP_EDU_VENDOR, MMP_EDU_DEVICE, NULL, bdfs, 8);
		if (n > 0)
			bdf = bdfs[(n > 8 ? 8 : n) - 1];
		else
			skip = "no edu PCI device (-p BDF)";
	}
	if (!skip) {
		snprintf(lower, sizeof(lower), "/sys/bus/pci/devices/%s", bdf);
		snprintf(up, sizeof(up), "%s/up-sysfs", work);
		at(p, up, "resource0");
		at(l, lower, "resource0");
		/* IO_STRICT_DEVMEM: sysfs maps no BAR that a driver claimed. */
		unbound = unbind(bdf, drv, sizeof(drv));
		mounted = unbound && !mkdir(up, 0755) &&
			  !mount_diag(lower, up);
		if (mounted && !mmp_pci_bar(bdf, 0, &start, &size)) {
			diag("no BAR0 for %s", bdf);
			size = 0;
		}
	}
	mmp_report(skip, mounted && size,
		   "legacy: edu %s unbound from %s, upper mounted over its sysfs directory, BAR0 found",
		   bdf ? bdf : "-", *drv ? drv : "no driver");

	if (mounted) {
		m = map_path(p, O_RDWR, 0, 1, PROT_READ | PROT_WRITE,
			     MAP_SHARED);
		lm = map_path(l, O_RDWR, 0, 1, PROT_READ | PROT_WRITE,
			      MAP_SHARED);
	}
	ok = m && mmp_read32("upper BAR0", m, MMP_EDU_REG_ID, &id) &&
	     id == MMP_EDU_ID;
	if (m && !ok)
		diag("ID register reads %#x", id);
	mmp_report(skip, ok,
		   "legacy: resource0 (only ->mmap below) maps RW shared through the upper, ID register reads %#x",
		   MMP_EDU_ID);

	ok = m && lm &&
	     mmp_write32("upper BAR0", m, MMP_EDU_REG_LIVENESS, 0x12345678) &&
	     mmp_read32("lower BAR0", lm, MMP_EDU_REG_LIVENESS, &live) &&
	     live == 0xedcba987;
	if (m && lm && !ok)
		diag("liveness reads %#x", live);
	mmp_report(skip, ok,
		   "legacy: 0x12345678 written to liveness through the upper reads 0xedcba987 through a direct lower mapping");

	ok = m && mmp_vma_flags(m, page, flags, sizeof(flags)) &&
	     mmp_flags_are(flags, "io pf", true) && maps_names(m, p, l);
	mmp_report(skip, ok,
		   "legacy: VmFlags show io pf (the lower ->mmap ran), maps names %s",
		   maps_file());

	mmp_report(skip,
		   mounted && map_refused(p, O_RDONLY, PROT_READ | PROT_WRITE,
					  MAP_SHARED, EACCES),
		   "legacy: O_RDONLY upper resource0: PROT_WRITE MAP_SHARED fails EACCES, no VMA left");

	ok = false;
	if (mounted) {
		fd = mmp_open_dev(p, O_RDONLY);
		before = mmp_count_maps(p);
		q = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, (off_t)size);
		ok = fd >= 0 &&
		     ktap_errno_ok(q == MAP_FAILED ? -1 : 0, errno, EINVAL,
				   "mmap past the BAR") &&
		     mmp_count_maps(p) == before;
		if (q != MAP_FAILED)
			munmap(q, page);
		mmp_close_fd(fd);
	}
	mmp_report(skip, ok,
		   "legacy: a mapping past the BAR fails EINVAL (the lower's own check), no VMA left");

	mmp_unmap_pages(lm, 1);
	if (plain) {
		id = 0;
		ok = m && do_umount(up) &&
		     mmp_read32("after umount", m, MMP_EDU_REG_ID, &id) &&
		     id == MMP_EDU_ID;
	} else {
		ok = m && failed_with(umount2(up, 0), EBUSY,
					"umount while mapped");
	}
	mmp_unmap_pages(m, 1);
	if (mounted && !plain)
		ok = do_umount(up) && ok;
	if (mounted && is_mounted(up))
		umount2(up, MNT_DETACH);
	mmp_report(skip, ok, plain ?
		   "legacy: umount succeeds while mapped (plain lower files), the ID register still reads" :
		   "legacy: umount fails EBUSY while mapped, succeeds after munmap");

	mmp_report(skip, unbound && rebind(bdf, drv),
		   "legacy: edu %s back on %s", bdf ? bdf : "-",
		   *drv ? drv : "no driver");
}

/*
 * Mount through the new API and return the error of the step that failed
 * (0 if none), with the filesystem's last message in @msg. The mount is
 * never attached.
 */
static int fs_create(const char *key, const char *val, char *msg, size_t size)
{
	int fd = fsopen(FS_NAME, FSOPEN_CLOEXEC), err = 0, mfd;
	ssize_t n;

	*msg = '\0';
	if (fd < 0)
		return errno;
	if (key && fsconfig(fd, FSCONFIG_SET_STRING, key, val, 0))
		err = errno;
	if (!err && fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		err = errno;
	if (!err) {
		mfd = fsmount(fd, FSMOUNT_CLOEXEC, 0);
		if (mfd >= 0)
			close(mfd); /* never attached: gone with the fd */
		else
			err = errno;
	}
	/* The log holds one message per read; keep the last. */
	while ((n = read(fd, msg, size - 1)) > 0) {
		msg[n] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
	}
	close(fd);
	return err;
}

static bool fs_fails(const char *key, const char *val, int want,
		     const char *want_msg)
{
	char msg[512];
	int err = fs_create(key, val, msg, sizeof(msg));

	if (err == want && !strcmp(msg, want_msg))
		return true;
	diag("%s=%s: %s, \"%s\"; expected %s, \"%s\"", key ? key : "(none)",
	     val ? val : "", err ? ktap_errname(err) : "success", msg,
	     ktap_errname(want), want_msg);
	return false;
}

/*
 * tracefs files have no mmap hook at all: ENODEV, as for the lower file.
 * procfs would be the classic case (CVE-2016-1583), but it refuses to be
 * stacked on at all.
 */
static void nommap_suite(void)
{
	char lower[PATH_MAX], up[PATH_MAX], p[PATH_MAX], l[PATH_MAX];
	char buf[64], want[PATH_MAX];
	const char *skip = NULL;
	bool mounted = false, ok = false;
	struct stat su, sl;
	int fd;

	at(lower, work, "tracefs");
	at(up, work, "up-tracefs");
	at(p, up, "README");
	at(l, lower, "README");
	if (mkdir(lower, 0755) || mount("nodev", lower, "tracefs", 0, NULL)) {
		diag("mount tracefs: %s", strerror(errno));
		skip = "no tracefs";
	} else {
		mounted = !mkdir(up, 0755) && !mount_diag(lower, up);
		fd = mmp_open_dev(p, O_RDONLY);
		ok = fd >= 0 && !stat(p, &su) && !stat(l, &sl) &&
		     su.st_ino == sl.st_ino && su.st_mode == sl.st_mode &&
		     failed_with(read(fd, buf, sizeof(buf)), EINVAL, "read");
		mmp_close_fd(fd);
	}
	mmp_report(skip, ok,
		   "no mmap: over tracefs, README opens and stats as below; read() fails EINVAL (only ->read below, no ->read_iter)");
	mmp_report(skip,
		   mounted && map_refused(p, O_RDONLY, PROT_READ, MAP_SHARED,
					  ENODEV) &&
			   map_refused(p, O_RDONLY, PROT_READ, MAP_PRIVATE,
				       ENODEV),
		   "no mmap: shared and private mmap of README through the upper fail ENODEV, no VMA left");

	/* Without any mmap hook, mmap() fails before MAP_FIXED unmaps. */
	ok = false;
	if (mounted) {
		char *anon = mmap(NULL, page, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		void *q = MAP_FAILED;

		fd = mmp_open_dev(p, O_RDONLY);
		if (anon != MAP_FAILED && fd >= 0) {
			memset(anon, 0x77, page);
			q = mmap(anon, page, PROT_READ, MAP_SHARED | MAP_FIXED,
				 fd, 0);
			ok = failed_with(q == MAP_FAILED ? -1 : 0, ENODEV,
					 "mmap MAP_FIXED") &&
			     mmp_check_const("anonymous page", anon, page,
					     0x77);
		}
		mmp_close_fd(fd);
		if (anon != MAP_FAILED)
			munmap(anon, page);
	}
	mmp_report(skip, ok,
		   "no mmap: MAP_FIXED over an anonymous page fails ENODEV before anything is unmapped");
	if (!skip) {
		ok = map_refused(l, O_RDONLY, PROT_READ, MAP_SHARED, ENODEV);
		ok = mounted && do_umount(up) && ok;
		ok = do_umount(lower) && ok;
	}
	mmp_report(skip, ok,
		   "no mmap: the lower README itself fails ENODEV too; both unmount");

	snprintf(want, sizeof(want),
		 "e %s: lowerdir /proc/sys/kernel: stack depth 3 exceeds 2",
		 FS_NAME);
	ktap_result(fs_fails("lowerdir", "/proc/sys/kernel", EINVAL, want),
		    "no mmap: procfs keeps stackers off (s_stack_depth at the limit): \"%s\"",
		    want + 2);
}

/*
 * debugfs "tracing" is an automount point (tracefs): the upper must refuse
 * it rather than leave the VFS to call a ->d_automount it does not have.
 */
static void automount_suite(void)
{
	const char *lower = "/sys/kernel/debug";
	char up[PATH_MAX], p[PATH_MAX];
	const char *skip = NULL;
	struct stat st;
	bool ok = false;

	if (access("/sys/kernel/debug/tracing", F_OK))
		skip = "no debugfs tracing automount point";
	at(up, work, "up-debugfs");
	if (!skip && !mkdir(up, 0755) && !mount_diag(lower, up)) {
		ok = failed_with(stat(at(p, up, "tracing"), &st), EREMOTE,
				 "stat tracing") &&
		     failed_with(open(at(p, up, "tracing/README"), O_RDONLY),
				 EREMOTE, "open tracing/README");
		ok = do_umount(up) && ok;
	}
	mmp_report(skip, ok,
		   "automount: over debugfs, the tracing automount point gives EREMOTE (no crossing, no crash)");
}

/*
 * What the lower mount forbids stays forbidden through the upper: set-id
 * bits are hidden (nosuid), PROT_EXEC is refused (noexec), device nodes do
 * not open (nodev).
 */
static void mount_flags_suite(void)
{
	char lower[PATH_MAX], up[PATH_MAX], f[PATH_MAX], d[PATH_MAX];
	bool ok = false, mounted = false;
	struct stat st;
	void *q;
	int fd;

	at(lower, work, "restricted");
	at(up, work, "up-restricted");
	at(f, up, "setuid");
	at(d, up, "null");
	if (!mkdir(lower, 0755) && !mkdir(up, 0755) &&
	    !mount("tmpfs", lower, "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV,
		   NULL)) {
		char lf[PATH_MAX], ld[PATH_MAX];

		ok = put_file(at(lf, lower, "setuid"), "#!/bin/sh\n", 10) &&
		     !chmod(lf, 04755) &&
		     !mknod(at(ld, lower, "null"), S_IFCHR | 0666,
			    makedev(1, 3)) &&
		     !mount_diag(lower, up);
		mounted = ok;
	} else {
		diag("mount a nosuid,noexec,nodev tmpfs: %s", strerror(errno));
	}
	if (ok && stat(f, &st)) {
		diag("stat %s: %s", f, strerror(errno));
		ok = false;
	} else if (ok && (st.st_mode & 07777) != 0755) {
		diag("setuid file shows mode %o through the upper",
		     st.st_mode & 07777);
		ok = false;
	}
	if (ok) {
		fd = mmp_open_dev(f, O_RDONLY);
		q = fd < 0 ? NULL :
			     mmap(NULL, page, PROT_READ | PROT_EXEC, MAP_SHARED,
				  fd, 0);
		ok = fd >= 0 && failed_with(q == MAP_FAILED ? -1 : 0, EPERM,
					    "mmap PROT_EXEC");
		if (q && q != MAP_FAILED)
			munmap(q, page);
		mmp_close_fd(fd);
	}
	ok = ok && failed_with(open(d, O_RDONLY), EACCES, "open device node");
	if (mounted)
		ok = do_umount(up) && ok;
	ok = !umount2(lower, 0) && ok;
	ktap_result(ok,
		    "lower nosuid,noexec,nodev: through the upper a 4755 file shows 0755, PROT_EXEC fails EPERM, a device node fails EACCES");
}

static void depth_suite(const char *tmpfs)
{
	char up1[PATH_MAX], up2[PATH_MAX], up3[PATH_MAX], p[PATH_MAX];
	char l[PATH_MAX], want[PATH_MAX + 64];
	bool m1, m2, ok = false;
	int before = count_stackfs();
	void *m = NULL;

	snprintf(up1, sizeof(up1), "%s/depth1", work);
	snprintf(up2, sizeof(up2), "%s/depth2", work);
	snprintf(up3, sizeof(up3), "%s/depth3", work);
	m1 = !mkdir(up1, 0755) && !mkdir(up2, 0755) && !mkdir(up3, 0755) &&
	     populate(tmpfs) && !stackfs_mount(tmpfs, up1);
	m2 = m1 && !stackfs_mount(up1, up2);
	ktap_result(m2, "depth: a second %s over the first mounts (depth 2)",
		    FS_NAME);

	if (m2) {
		m = map_path(at(p, up2, "data"), O_RDONLY, 0, DATA_PAGES,
			     PROT_READ, MAP_SHARED);
		ok = file_is("two layers", p, DATA_PAGES * page, 0) && m &&
		     mmp_check_bytes("two layers", m, 0, DATA_PAGES * page,
				     0) &&
		     maps_names(m, p, at(l, tmpfs, "data"));
		mmp_unmap_pages(m, DATA_PAGES);
	}
	ktap_result(ok,
		    "depth: read and mmap through both layers show the tmpfs bytes; maps names %s",
		    plain ? "the tmpfs file (plain lower files)" :
			    "the top file");

	ok = m2 && stackfs_mount(up2, up3) == EINVAL;
	ktap_result(ok, "depth: a third layer fails EINVAL with mount(2)");

	snprintf(want, sizeof(want),
		 "e %s: lowerdir %s: stack depth 3 exceeds 2", FS_NAME, up2);
	ktap_result(m2 && fs_fails("lowerdir", up2, EINVAL, want),
		    "depth: through fsopen the third layer fails EINVAL at FSCONFIG_CMD_CREATE: \"%s\"",
		    want + 2);

	ok = m2 && do_umount(up2);
	ok = m1 && do_umount(up1) && ok;
	ktap_result(ok && before >= 0 && count_stackfs() == before,
		    "depth: the failed layer left no mount; both layers unmount");
}

static void bad_input_suite(void)
{
	char file[PATH_MAX], want[PATH_MAX + 64];
	int before = count_stackfs();

	ktap_result(fs_fails(NULL, NULL, EINVAL,
			     "e " FS_NAME ": lowerdir= is required"),
		    "bad mount: no lowerdir fails EINVAL: \"lowerdir= is required\"");
	ktap_result(fs_fails("lowerdir", "/nonexistent", ENOENT,
			     "e " FS_NAME ": lowerdir /nonexistent: -ENOENT"),
		    "bad mount: a missing lowerdir fails ENOENT and names it");
	snprintf(file, sizeof(file), "%s/plain-file", work);
	snprintf(want, sizeof(want), "e %s: lowerdir %s: -ENOTDIR", FS_NAME,
		 file);
	ktap_result(put_file(file, "x", 1) &&
			    fs_fails("lowerdir", file, ENOTDIR, want),
		    "bad mount: a regular file as lowerdir fails ENOTDIR");
	ktap_result(fs_fails("upperdir", "/tmp", EINVAL,
			     "e " FS_NAME ": Unknown parameter 'upperdir'"),
		    "bad mount: an unknown option fails EINVAL: \"Unknown parameter 'upperdir'\"");
	ktap_result(before >= 0 && count_stackfs() == before,
		    "bad mount: no %s mount left behind", FS_NAME);
}

static bool fs_registered(void)
{
	char buf[8192];
	ssize_t n = get_file("/proc/filesystems", buf, sizeof(buf) - 1);

	if (n < 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, "\t" FS_NAME "\n") != NULL;
}

/* mmp_stackfs is gone: delete_module succeeded and it left /proc/filesystems. */
static bool unloaded(void)
{
	if (mmp_unload(MOD_NAME)) {
		diag("delete_module: %s", strerror(errno));
		return false;
	}
	if (fs_registered()) {
		diag("%s still in /proc/filesystems", FS_NAME);
		return false;
	}
	return true;
}

/*
 * Plain lower files: a mapping holds the lower file and its vm_ops, nothing
 * of the module, so the module can go while the mapping lives on.
 */
static void module_suite_plain(const char *tmpfs, const char *ko,
			       const char *skip)
{
	char up[PATH_MAX], p[PATH_MAX], l[PATH_MAX];
	const char *reload_skip = skip ? skip : ko ? NULL : "no -k module.ko";
	bool ok = false, loaded = false;
	void *m = NULL;
	int maps;

	at(up, work, "up-module");
	at(p, up, "data");
	at(l, tmpfs, "data");
	if (!skip) {
		if (!mkdir(up, 0755) && !stackfs_mount(tmpfs, up))
			m = map_path(p, O_RDONLY, 0, 1, PROT_READ, MAP_SHARED);
		ok = m && do_umount(up) && unloaded() &&
		     mmp_check_bytes("after unload", m, 0, page, 0);
	}
	mmp_report(skip, ok,
		   "module: with an upper file mapped (fd closed), umount and delete_module succeed (plain lower files), the mapping still reads");
	mmp_unmap_pages(m, 1);
	m = NULL;

	loaded = !reload_skip && mmp_load(ko) && fs_registered();
	mmp_report(reload_skip, loaded,
		   "module: after munmap, reloaded and registered");

	if (loaded) {
		if (!stackfs_mount(tmpfs, up))
			m = map_path(p, O_RDONLY, 0, 1, PROT_READ, MAP_SHARED);
		ok = m && !umount2(up, MNT_DETACH) && !is_mounted(up) &&
		     unloaded() &&
		     mmp_check_bytes("after lazy umount and unload", m, 0,
				     page, 0);
	}
	mmp_report(reload_skip, loaded && ok,
		   "module: a lazy umount of a mapped upper and delete_module succeed, the mapping still reads");
	maps = m ? mmp_count_maps(l) : -1;
	mmp_unmap_pages(m, 1);
	mmp_report(reload_skip,
		   loaded && ok && maps == 1 && mmp_count_maps(l) == 0 &&
			   !fs_registered(),
		   "module: the lower file was mapped once, and after munmap not at all; %s stays out of /proc/filesystems",
		   FS_NAME);

	ok = loaded && mmp_load(ko) && fs_registered() &&
	     !stackfs_mount(tmpfs, up) && do_umount(up);
	mmp_report(reload_skip, ok,
		   "module: reloaded, registered and mounts again");
}

static void module_suite(const char *tmpfs, const char *ko, bool no_module)
{
	const char *skip = no_module ? "-n given" : NULL;
	char up[PATH_MAX], p[PATH_MAX];
	bool ok = false, gone = false;
	void *m = NULL;

	if (plain) {
		module_suite_plain(tmpfs, ko, skip);
		return;
	}
	at(up, work, "up-module");
	at(p, up, "data");
	if (!skip) {
		if (!mkdir(up, 0755) && !stackfs_mount(tmpfs, up))
			m = map_path(p, O_RDONLY, 0, 1, PROT_READ, MAP_SHARED);
		ok = m && failed_with(umount2(up, 0), EBUSY,
					"umount") &&
		     failed_with(mmp_unload(MOD_NAME), EAGAIN,
				   "delete_module");
	}
	mmp_report(skip, ok,
		   "module: with an upper file mapped (fd closed), umount fails EBUSY and delete_module EAGAIN");
	mmp_unmap_pages(m, 1);
	m = NULL;
	mmp_report(skip, !skip && do_umount(up),
		   "module: after munmap, umount succeeds");

	if (!skip) {
		if (!stackfs_mount(tmpfs, up))
			m = map_path(p, O_RDONLY, 0, 1, PROT_READ, MAP_SHARED);
		ok = m && !umount2(up, MNT_DETACH) &&
		     !is_mounted(up) &&
		     mmp_check_bytes("after lazy umount", m, 0, page, 0) &&
		     failed_with(mmp_unload(MOD_NAME), EAGAIN,
				   "delete_module");
	}
	mmp_report(skip, ok,
		   "module: a lazy umount of a mapped upper succeeds, the mapping still reads, delete_module fails EAGAIN");
	mmp_unmap_pages(m, 1);
	if (!skip)
		gone = unloaded();
	mmp_report(skip, gone,
		   "module: after munmap, delete_module succeeds and %s leaves /proc/filesystems",
		   FS_NAME);

	if (!skip && !ko)
		skip = "no -k module.ko";
	ok = !skip && gone && mmp_load(ko) && fs_registered() &&
	     !stackfs_mount(tmpfs, up) && do_umount(up);
	mmp_report(skip, ok, "module: reloaded, registered and mounts again");
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	if (!remove(path))
		return 0;
	ktap_diag("remove %s: %s", path, strerror(errno));
	return -1;
}

int main(int argc, char **argv)
{
	char tmpfs[PATH_MAX], ext4[PATH_MAX];
	const char *ko, *ext4_skip;
	bool no_module, ok, ext4_gone = true, ext4_failed;

	page = mmp_test_start_opts(argc, argv, MOD_NAME, PLAN, &ko, &no_module,
				   "i:p:", parse_opt,
				   "[-i ext4.img] [-p edu-BDF]");
	if (!page)
		return 2;
	snprintf(work, sizeof(work), "/tmp/mmp-stackfs.XXXXXX");
	if (!mkdtemp(work)) {
		ktap_diag("mkdtemp: %s", strerror(errno));
		return 1;
	}
	plain = mmp_module_says(MOD_NAME, "lower files", "plain");
	ktap_diag("working in %s, %s %s, %s lower files", work, FS_NAME,
		  fs_registered() ? "registered" : "NOT registered",
		  plain ? "plain" : "backing");

	/* A tmpfs of our own, whatever /tmp is. */
	at(tmpfs, work, "tmpfs");
	if (mkdir(tmpfs, 0755) || mount("tmpfs", tmpfs, "tmpfs", 0, NULL))
		ktap_diag("mount tmpfs at %s: %s", tmpfs, strerror(errno));
	content_suite("tmpfs", tmpfs, NULL, false);

	at(ext4, work, "ext4");
	ext4_skip = mount_ext4(image, ext4, &ext4_failed);
	content_suite("ext4", ext4, ext4_skip, ext4_failed);
	/* The loop device goes with it (LO_FLAGS_AUTOCLEAR). */
	if (!ext4_skip && umount2(ext4, 0)) {
		ktap_diag("umount %s: %s", ext4, strerror(errno));
		ext4_gone = false;
	}

	legacy_suite();
	nommap_suite();
	automount_suite();
	mount_flags_suite();
	depth_suite(tmpfs);
	bad_input_suite();
	module_suite(tmpfs, ko, no_module);

	ok = count_stackfs() == 0;
	if (!ok)
		ktap_diag("%d %s mounts left", count_stackfs(), FS_NAME);
	if (umount2(tmpfs, 0)) {
		ktap_diag("umount %s: %s", tmpfs, strerror(errno));
		ok = false;
	}
	/* FTW_MOUNT: whatever is still mounted stays untouched. */
	if (nftw(work, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT)) {
		ktap_diag("cannot remove %s", work);
		ok = false;
	}
	ktap_result(ok && ext4_gone,
		    "cleanup: no %s mount left, the lower tmpfs and ext4 unmount, the work directory is removed",
		    FS_NAME);
	return ktap_finish();
}
