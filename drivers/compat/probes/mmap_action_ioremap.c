// SPDX-License-Identifier: GPL-2.0
/* the I/O remap action (6.19) */
#include <linux/mm.h>

void mmp_probe(struct vm_area_desc *desc)
{
	mmap_action_ioremap_full(desc, 0);
}
