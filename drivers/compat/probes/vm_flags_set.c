// SPDX-License-Identifier: GPL-2.0
/* vm_flags_set() and friends */
#include <linux/mm.h>

void mmp_probe(struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_IO);
}
