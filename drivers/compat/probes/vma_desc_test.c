// SPDX-License-Identifier: GPL-2.0
/* vma_desc_test() (7.1) */
#include <linux/mm.h>

bool mmp_probe(const struct vm_area_desc *desc)
{
	return vma_desc_test(desc, VMA_SHARED_BIT);
}
