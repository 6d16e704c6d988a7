// SPDX-License-Identifier: GPL-2.0
/* The VMA_*_BIT flag numbers (6.19) */
#include <linux/mm.h>

int mmp_probe(void)
{
	return VMA_DONTEXPAND_BIT + VMA_MAYEXEC_BIT + VMA_MIXEDMAP_BIT;
}
