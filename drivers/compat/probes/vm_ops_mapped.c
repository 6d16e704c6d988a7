// SPDX-License-Identifier: GPL-2.0
/* vm_ops->mapped (7.1) */
#include <linux/mm.h>

static int probe(unsigned long start, unsigned long end, pgoff_t pgoff,
		 const struct file *file, void **vm_private_data)
{
	return 0;
}

const struct vm_operations_struct mmp_probe = { .mapped = probe };
