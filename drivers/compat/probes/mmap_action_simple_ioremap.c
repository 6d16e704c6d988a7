// SPDX-License-Identifier: GPL-2.0
/* the simple_ioremap action (7.1) */
#include <linux/mm.h>

void mmp_probe(struct vm_area_desc *desc)
{
	mmap_action_simple_ioremap(desc, 0, 0);
}
