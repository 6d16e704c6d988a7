// SPDX-License-Identifier: GPL-2.0
/* vm_area_desc with a read-only file and an assignable vm_file (6.18) */
#include <linux/mm.h>

struct file *mmp_probe(struct vm_area_desc *desc)
{
	desc->vm_file = desc->file;
	return desc->vm_file;
}
