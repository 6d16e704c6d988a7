// SPDX-License-Identifier: GPL-2.0
/* inode_state_read_once() */
#include <linux/fs.h>

bool mmp_probe(struct inode *inode)
{
	return inode_state_read_once(inode) & I_NEW;
}
