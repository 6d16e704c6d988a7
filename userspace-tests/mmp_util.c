// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmp_util.h"

long mmp_read_param(const char *module, const char *param)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", module,
		 param);
	return mmp_read_long(path);
}

long mmp_read_long(const char *path)
{
	char buf[32], *end;
	long val;

	if (!mmp_read_line(path, buf, sizeof(buf)))
		return -1;
	errno = 0;
	val = strtol(buf, &end, 10);
	/* strtol() would take a sign or blanks: counts have neither. */
	if (buf[0] >= '0' && buf[0] <= '9' && !*end && !errno)
		return val;
	errno = EBADMSG;
	return -1;
}

ssize_t mmp_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err;
	ssize_t ret;

	if (fd < 0)
		return -1;
	ret = write(fd, val, strlen(val));
	err = errno;	/* write()'s errno, not close()'s */
	close(fd);
	errno = err;
	return ret;
}

bool mmp_module_loaded(const char *module)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/module/%s", module);
	return access(path, F_OK) == 0;
}

size_t mmp_pattern_mismatch(const unsigned char *p, size_t off, size_t len,
			    long page)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != mmp_pattern(off + i, page))
			return i;
	return len;
}

bool mmp_vma_info(const void *addr, unsigned long *end, char *flags,
		  size_t size)
{
	unsigned long start, e, want = (unsigned long)addr;
	bool in_vma = false, found = false;
	char line[4096];
	FILE *f;

	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		/* Only the VMA header lines parse as "start-end ". */
		if (sscanf(line, "%lx-%lx ", &start, &e) == 2) {
			if (in_vma)
				break;
			in_vma = start == want;
			*end = e;
		} else if (in_vma && !strncmp(line, "VmFlags:", 8)) {
			const char *v = line + 8 + strspn(line + 8, " ");
			size_t n = strcspn(v, "\n");

			while (n && v[n - 1] == ' ')
				n--;
			if (n >= size)
				n = size - 1;
			memcpy(flags, v, n);
			flags[n] = '\0';
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

bool mmp_has_flag(const char *flags, const char *flag)
{
	size_t n = strlen(flag);
	const char *s;

	for (s = flags; (s = strstr(s, flag)); s += n)
		if ((s == flags || s[-1] == ' ') && (!s[n] || s[n] == ' '))
			return true;
	return false;
}

/* Count the /proc/self/maps lines whose path field satisfies @match(@arg). */
static int maps_scan(bool (*match)(const char *, const void *),
		     const void *arg)
{
	char line[4096];
	int n = 0, pos;
	FILE *f;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* start-end perms offset dev inode, then the path if any */
		pos = 0;
		if (sscanf(line, "%*x-%*x %*s %*s %*s %*s %n", &pos) != 0 || !pos)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (match(line + pos, arg))
			n++;
	}
	fclose(f);
	return n;
}

/* Whole path field: /dev/x must not match /dev/x-legacy. */
static bool path_is(const char *path, const void *want)
{
	return !strcmp(path, want);
}

static bool path_contains(const char *path, const void *s)
{
	return strstr(path, s) != NULL;
}

int mmp_count_maps(const char *path)
{
	return maps_scan(path_is, path);
}

int mmp_count_maps_containing(const char *s)
{
	return maps_scan(path_contains, s);
}

bool mmp_vma_path(const void *addr, char *path, size_t size)
{
	struct mmp_vma_file vf;

	if (!mmp_vma_file(addr, &vf))
		return false;
	snprintf(path, size, "%s", vf.path);
	return true;
}

bool mmp_vma_file(const void *addr, struct mmp_vma_file *vf)
{
	unsigned long start, end, want = (unsigned long)addr;
	char line[4096];
	bool found = false;
	int pos;
	FILE *f;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		pos = 0;
		if (sscanf(line, "%lx-%lx %*s %llx %x:%x %lu %n", &start, &end,
			   &vf->offset, &vf->major, &vf->minor, &vf->ino,
			   &pos) != 6 || !pos || start != want)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(vf->path, sizeof(vf->path), "%s", line + pos);
		found = true;
	}
	fclose(f);
	return found;
}

pid_t mmp_waitpid(pid_t pid, int *status)
{
	pid_t ret;

	do
		ret = waitpid(pid, status, 0);
	while (ret < 0 && errno == EINTR);
	return ret;
}

bool mmp_read_line(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	ssize_t n;
	size_t len;

	if (fd < 0)
		return false;
	/* sysfs and debugfs hand out a small file in one read. */
	n = read(fd, buf, size - 1);
	err = errno;	/* read()'s errno, not close()'s */
	close(fd);
	errno = err;
	if (n < 0)
		return false;
	buf[n] = '\0';
	len = strcspn(buf, "\n");
	buf[len] = '\0';
	/* The first newline ends the file, which fit with room to spare. */
	if (len + 1 == (size_t)n && (size_t)n < size - 1)
		return true;
	errno = EBADMSG;
	return false;
}

/* Last path component of the target of the symlink @link. */
static bool link_name(const char *link, char *buf, size_t size)
{
	char target[PATH_MAX];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	const char *base;

	if (n < 0)
		return false;
	target[n] = '\0';
	base = strrchr(target, '/');
	snprintf(buf, size, "%s", base ? base + 1 : target);
	return true;
}

bool mmp_pci_driver(const char *bdf, char *drv, size_t size)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	return link_name(path, drv, size);
}

static unsigned long read_id(const char *bdf, const char *attr)
{
	char path[PATH_MAX], buf[32];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	return mmp_read_line(path, buf, sizeof(buf)) ?
	       strtoul(buf, NULL, 16) : ~0UL;
}

bool mmp_pci_is(const char *bdf, unsigned int vendor, unsigned int device)
{
	return read_id(bdf, "vendor") == vendor &&
	       read_id(bdf, "device") == device;
}

static void free_dirents(struct dirent **list, int n)
{
	while (n--)
		free(list[n]);
	free(list);
}

/* scandir() filter: only entries shaped like 0000:00:04.0 */
static int is_bdf(const struct dirent *d)
{
	unsigned int dom, bus, slot, fn;
	char end;

	return sscanf(d->d_name, "%x:%x:%x.%x%c", &dom, &bus, &slot, &fn,
		      &end) == 4;
}

int mmp_pci_find(unsigned int vendor, unsigned int device, const char *driver,
		 char (*bdfs)[MMP_BDF_LEN], int max)
{
	struct dirent **list;
	int i, n, found = 0;

	n = scandir("/sys/bus/pci/devices", &list, is_bdf, alphasort);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const char *bdf = list[i]->d_name;
		char drv[64] = "";

		if (vendor && !mmp_pci_is(bdf, vendor, device))
			continue;
		mmp_pci_driver(bdf, drv, sizeof(drv));
		if (driver && strcmp(drv, driver))
			continue;
		if (found < max)
			snprintf(bdfs[found], MMP_BDF_LEN, "%.*s",
				 MMP_BDF_LEN - 1, bdf);
		found++;
	}
	free_dirents(list, n);
	return found;
}

bool mmp_pci_bar(const char *bdf, int bar, unsigned long long *start,
		 unsigned long long *size)
{
	unsigned long long s, e, flags;
	char path[PATH_MAX];
	bool ok = false;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "re");
	if (!f)
		return false;
	/* One "start end flags" line per resource, BARs first. */
	for (i = 0; i <= bar; i++) {
		if (fscanf(f, "%llx %llx %llx", &s, &e, &flags) != 3)
			break;
		if (i == bar && e > s) {
			*start = s;
			*size = e - s + 1;
			ok = true;
		}
	}
	fclose(f);
	return ok;
}

/* scandir() filter: only uioN entries */
static int is_uio(const struct dirent *d)
{
	unsigned int n;
	char end;

	return sscanf(d->d_name, "uio%u%c", &n, &end) == 1;
}

int mmp_uio_find(const char *name, const char *bdf, char *found)
{
	struct dirent **list;
	int i, n, num = -1;

	n = scandir("/sys/class/uio", &list, is_uio, versionsort);
	if (n < 0)
		return -1;
	for (i = 0; i < n && num < 0; i++) {
		const char *uio = list[i]->d_name;
		char path[PATH_MAX], buf[256], dev[MMP_BDF_LEN];

		snprintf(path, sizeof(path), "/sys/class/uio/%s/name", uio);
		if (!mmp_read_line(path, buf, sizeof(buf)) || strcmp(buf, name))
			continue;
		snprintf(path, sizeof(path), "/sys/class/uio/%s/device", uio);
		if (!link_name(path, dev, sizeof(dev)) ||
		    (bdf && strcmp(dev, bdf)))
			continue;
		num = atoi(uio + 3);
		if (found)
			memcpy(found, dev, sizeof(dev));
	}
	free_dirents(list, n);
	return num;
}
