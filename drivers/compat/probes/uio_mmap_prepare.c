// SPDX-License-Identifier: GPL-2.0
/* uio_info->mmap_prepare (7.1) */
#include <linux/uio_driver.h>

static int probe(struct uio_info *info, struct vm_area_desc *desc)
{
	return 0;
}

struct uio_info mmp_probe = { .mmap_prepare = probe };
