// SPDX-License-Identifier: GPL-2.0
/* vma_desc_is_cow_mapping() (7.1) */
#include <linux/mm.h>

bool mmp_probe(struct vm_area_desc *desc)
{
	return vma_desc_is_cow_mapping(desc);
}
