// SPDX-License-Identifier: GPL-2.0
/* shmem_kernel_file_setup() taking vma_flags_t */
#include <linux/shmem_fs.h>

struct file *mmp_probe(vma_flags_t flags)
{
	return shmem_kernel_file_setup("mmp", 0, flags);
}
