// SPDX-License-Identifier: GPL-2.0
/* vma_desc_set_flags()/clear_flags() with VMA_*_BIT (7.0) */
#include <linux/mm.h>

void mmp_probe(struct vm_area_desc *desc)
{
	vma_desc_set_flags(desc, VMA_IO_BIT, VMA_DONTEXPAND_BIT);
	vma_desc_clear_flags(desc, VMA_MAYEXEC_BIT);
}
