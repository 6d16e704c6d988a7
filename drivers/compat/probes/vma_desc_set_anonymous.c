// SPDX-License-Identifier: GPL-2.0
/* vma_desc_set_anonymous() (7.1) */
#include <linux/mm.h>

void mmp_probe(struct vm_area_desc *desc)
{
	vma_desc_set_anonymous(desc);
}
