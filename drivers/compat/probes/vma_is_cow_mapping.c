// SPDX-License-Identifier: GPL-2.0
/* vma_is_cow_mapping() (7.3) */
#include <linux/mm.h>

bool mmp_probe(const struct vm_area_struct *vma)
{
	return vma_is_cow_mapping(vma);
}
