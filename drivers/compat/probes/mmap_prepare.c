// SPDX-License-Identifier: GPL-2.0
/* f_op->mmap_prepare (6.16) */
#include <linux/fs.h>

static int probe(struct vm_area_desc *desc)
{
	return 0;
}

const struct file_operations mmp_probe = { .mmap_prepare = probe };
