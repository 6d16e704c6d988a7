// SPDX-License-Identifier: GPL-2.0
/* vma_desc_size() and vma_desc_pages() (6.19) */
#include <linux/mm.h>

unsigned long mmp_probe(const struct vm_area_desc *desc)
{
	return vma_desc_size(desc) + vma_desc_pages(desc);
}
