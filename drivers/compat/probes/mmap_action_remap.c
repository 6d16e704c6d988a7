// SPDX-License-Identifier: GPL-2.0
/* the PFN remap action (6.19) */
#include <linux/mm.h>

void mmp_probe(struct vm_area_desc *desc)
{
	mmap_action_remap_full(desc, 0);
}
