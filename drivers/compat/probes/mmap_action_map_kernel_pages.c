// SPDX-License-Identifier: GPL-2.0
/* the map_kernel_pages action (7.1) */
#include <linux/mm.h>

void mmp_probe(struct vm_area_desc *desc, struct page **pages)
{
	mmap_action_map_kernel_pages_full(desc, pages);
}
