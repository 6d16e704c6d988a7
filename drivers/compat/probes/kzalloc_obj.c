// SPDX-License-Identifier: GPL-2.0
/* kzalloc_obj()/kzalloc_objs() */
#include <linux/slab.h>

long *mmp_probe(void)
{
	long *p = kzalloc_obj(*p);

	return p;
}
