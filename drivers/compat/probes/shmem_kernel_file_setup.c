// SPDX-License-Identifier: GPL-2.0
/* shmem_kernel_file_setup() exported to modules (not in 6.1) */
/* export: shmem_kernel_file_setup */
#include <linux/shmem_fs.h>

void *mmp_probe(void)
{
	return (void *)shmem_kernel_file_setup;
}
