// SPDX-License-Identifier: GPL-2.0
/* backing_file_open() taking the user file */
#include <linux/backing-file.h>

struct file *mmp_probe(const struct file *user_file, const struct path *path)
{
	return backing_file_open(user_file, O_RDONLY, path, current_cred());
}
