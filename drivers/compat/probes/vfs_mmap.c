// SPDX-License-Identifier: GPL-2.0
/* vfs_mmap(), which reaches ->mmap_prepare too (6.17; before, call_mmap()) */
#include <linux/fs.h>

int mmp_probe(struct file *file, struct vm_area_struct *vma)
{
	return vfs_mmap(file, vma);
}
