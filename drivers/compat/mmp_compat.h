/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmp_compat.h - the one place where the drivers meet older kernels.
 *
 * The drivers are written against the newest upstream API. Kbuild's
 * compile probes (drivers/compat/probes/, results in the generated
 * mmp_probes.h) say which pieces this kernel has; this header fills in the
 * small ones it lacks. Nothing here tests a version number.
 */
#ifndef MMP_COMPAT_H
#define MMP_COMPAT_H

#include <linux/mm.h>

#include "mmp_probes.h"

#ifndef MMP_HAVE_VMA_IS_COW_MAPPING
/* 7.3 named it; the test itself is older. */
static inline bool vma_is_cow_mapping(const struct vm_area_struct *vma)
{
	return is_cow_mapping(vma->vm_flags);
}
#endif

/*
 * The mmap path a driver takes here, for its one line at load time:
 * "native" when the kernel calls ->mmap_prepare itself.
 */
#ifdef MMP_HAVE_MMAP_PREPARE
#define MMP_MMAP_PATH "native (f_op->mmap_prepare)"
#else
#define MMP_MMAP_PATH "compat (legacy f_op->mmap)"
#endif

#ifdef MMP_HAVE_UIO_MMAP_PREPARE
#define MMP_UIO_MMAP_PATH "native (uio_info->mmap_prepare)"
#else
#define MMP_UIO_MMAP_PATH "compat (legacy uio_info->mmap)"
#endif

#endif /* MMP_COMPAT_H */
