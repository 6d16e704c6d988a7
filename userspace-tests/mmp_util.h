/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the driver tests and the demo. */
#ifndef MMP_UTIL_H
#define MMP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* mmp_read_long() of /sys/module/<module>/parameters/<param>. */
long mmp_read_param(const char *module, const char *param);

/*
 * The decimal count (digits only) that is the single line of @path (a
 * sysfs or debugfs file), or -1 with errno set: EBADMSG if it is no count.
 */
long mmp_read_long(const char *path);

/*
 * The single line of @path without its newline; it may be empty. False
 * with errno set if unreadable, EBADMSG if not exactly one line or too
 * long for @buf (which then holds what it got up to the first newline).
 */
bool mmp_read_line(const char *path, char *buf, size_t size);

/*
 * One write() of the string @val to @path: what write() returned, or -1
 * with errno set if @path cannot be opened.
 */
ssize_t mmp_write_file(const char *path, const char *val);

/* Whether /sys/module/<module> exists. */
bool mmp_module_loaded(const char *module);

/*
 * The drivers' known buffer contents: byte o of a buffer is
 * (o & 0xff) ^ ((o / page) * 0x3b), so every page and offset differ.
 */
static inline unsigned char mmp_pattern(size_t o, long page)
{
	return (unsigned char)((o & 0xff) ^ (((o / (size_t)page) * 0x3b) & 0xff));
}

/*
 * Compare @len bytes at @p with the pattern starting at buffer offset @off.
 * Returns the index of the first mismatch, or @len if all bytes match.
 */
size_t mmp_pattern_mismatch(const unsigned char *p, size_t off, size_t len,
			    long page);

/*
 * Find the VMA that starts at @addr in /proc/self/smaps: store its end and
 * its VmFlags (space separated, e.g. "rd sh mr mw ms io pf de dd"). False
 * if no VMA starts there.
 */
bool mmp_vma_info(const void *addr, unsigned long *end, char *flags,
		  size_t size);

/* Whether the space separated flag list @flags contains @flag. */
bool mmp_has_flag(const char *flags, const char *flag);

/* Number of /proc/self/maps lines naming @path, or -1 on error. */
int mmp_count_maps(const char *path);

/* Number of /proc/self/maps lines whose path contains @s, or -1. */
int mmp_count_maps_containing(const char *s);

/*
 * The path field of the /proc/self/maps line of the VMA that starts at
 * @addr ("" for anonymous memory); false if no VMA starts there.
 */
bool mmp_vma_path(const void *addr, char *path, size_t size);

/* The /proc/self/maps fields of a file VMA. */
struct mmp_vma_file {
	unsigned long long offset;
	unsigned int major, minor;
	unsigned long ino;
	char path[4096];
};

/* Fill @vf from the maps line of the VMA starting at @addr; false if none. */
bool mmp_vma_file(const void *addr, struct mmp_vma_file *vf);

/* waitpid() for @pid, restarted after signals. */
pid_t mmp_waitpid(pid_t pid, int *status);

/* QEMU's edu device: BAR0 holds an ID and a liveness register. */
#define MMP_EDU_VENDOR		0x1234
#define MMP_EDU_DEVICE		0x11e8
#define MMP_EDU_REG_ID		0x00
#define MMP_EDU_ID		0x010000edU
#define MMP_EDU_REG_LIVENESS	0x04	/* reads ~(the value last written) */

/* QEMU's ivshmem-plain: BAR2 is the shared memory. */
#define MMP_IVSHMEM_VENDOR	0x1af4
#define MMP_IVSHMEM_DEVICE	0x1110

/* Register accesses must be single 32-bit bus cycles: volatile, aligned. */
static inline uint32_t mmp_reg_read(const void *bar, size_t off)
{
	return *(const volatile uint32_t *)((const char *)bar + off);
}

static inline void mmp_reg_write(void *bar, size_t off, uint32_t val)
{
	*(volatile uint32_t *)((char *)bar + off) = val;
}

/* Room for a PCI address such as 0000:00:04.0. */
#define MMP_BDF_LEN 32

/*
 * PCI addresses in /sys/bus/pci/devices, sorted, of the devices with IDs
 * @vendor:@device (vendor 0: any) that are bound to the driver @driver
 * (NULL: any, "": unbound). Stores the first @max in @bdfs and returns how
 * many matched, or -1 if sysfs cannot be read.
 */
int mmp_pci_find(unsigned int vendor, unsigned int device, const char *driver,
		 char (*bdfs)[MMP_BDF_LEN], int max);

/* Whether @bdf has PCI IDs @vendor:@device. */
bool mmp_pci_is(const char *bdf, unsigned int vendor, unsigned int device);

/* Name of the driver @bdf is bound to; false if unbound or no such device. */
bool mmp_pci_driver(const char *bdf, char *drv, size_t size);

/* Physical start and size of BAR @bar of @bdf; false if it has none. */
bool mmp_pci_bar(const char *bdf, int bar, unsigned long long *start,
		 unsigned long long *size);

/*
 * The N of the first /sys/class/uio/uioN named @name whose parent device is
 * @bdf (NULL: any). Its PCI address goes to @found if not NULL (room for
 * MMP_BDF_LEN). -1 if there is none.
 */
int mmp_uio_find(const char *name, const char *bdf, char *found);

#endif /* MMP_UTIL_H */
