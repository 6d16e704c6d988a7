// SPDX-License-Identifier: GPL-2.0
/* backing_file_mmap() */
#include <linux/backing-file.h>

int mmp_probe(struct file *file, struct vm_area_struct *vma,
	      struct backing_file_ctx *ctx)
{
	return backing_file_mmap(file, vma, ctx);
}
