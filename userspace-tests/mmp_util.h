/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the driver tests and the demo. */
#ifndef MMP_UTIL_H
#define MMP_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Integer module parameter from /sys/module/<module>/parameters, or -1. */
long mmp_read_param(const char *module, const char *param);

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

#endif /* MMP_UTIL_H */
