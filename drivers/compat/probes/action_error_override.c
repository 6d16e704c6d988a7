// SPDX-License-Identifier: GPL-2.0
/* mmap_action.error_override (7.2) */
#include <linux/mm.h>

void mmp_probe(struct vm_area_desc *desc)
{
	desc->action.error_override = -EAGAIN;
}
