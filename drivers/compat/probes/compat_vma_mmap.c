// SPDX-License-Identifier: GPL-2.0
/* vfs_mmap() reaching mmap_prepare through compat_vma_mmap() (6.17, reshaped up to 7.1) */
#include <linux/fs.h>

int mmp_probe(struct file *file, struct vm_area_struct *vma)
{
	return compat_vma_mmap(file, vma) + vfs_mmap(file, vma);
}
