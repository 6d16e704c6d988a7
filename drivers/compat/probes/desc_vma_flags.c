// SPDX-License-Identifier: GPL-2.0
/* vm_area_desc.vma_flags as vma_flags_t (6.19, the only form since 7.0) */
#include <linux/mm.h>

vma_flags_t mmp_probe(struct vm_area_desc *desc)
{
	return desc->vma_flags;
}
