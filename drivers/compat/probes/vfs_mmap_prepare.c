// SPDX-License-Identifier: GPL-2.0
/* vfs_mmap_prepare(), for stacked files (6.17, reshaped up to 7.1) */
#include <linux/fs.h>

int mmp_probe(struct file *file, struct vm_area_desc *desc)
{
	return vfs_mmap_prepare(file, desc);
}
