// SPDX-License-Identifier: GPL-2.0
/*
 * mmp_shmem - a device whose mappings are anonymous or shmem-backed memory,
 * like /dev/zero, built with f_op->mmap_prepare.
 *
 * What it is for: handing out memory that the driver does not manage
 * itself: scratch buffers, shared memory between a process and its
 * children, memory a driver later attaches to by file. The VMA is ordinary
 * memory: swappable, dumpable, usable for O_DIRECT and io_uring.
 *
 * When to choose it: the memory needs no device behind it. MAP_SHARED gets a
 * new shmem object per mmap() call, shared with children across fork() but
 * not with other mmap() calls; MAP_PRIVATE gets plain anonymous memory,
 * copy-on-write across fork().
 *
 * What the kernel does for you: ->mmap_prepare may replace the file the
 * mapping will hold (desc->vm_file). The core then takes that file's
 * reference for the VMA instead of ours, so a shared mapping keeps only
 * the shmem file alive, not this device (and not this module). For a
 * private mapping, vma_desc_set_anonymous() turns the mapping into
 * anonymous memory; only /dev/zero-like devices should do that.
 *
 * What you must still check yourself:
 *  - A replaced vm_file belongs to you until ->mmap_prepare returns 0: if
 *    anything fails after creating it, fput() it yourself.
 *  - Let the new file describe its own mapping: call its ->mmap_prepare
 *    on a copy of the descriptor naming it, then adopt the result (shmem
 *    picks its vm_ops there; they are not exported to modules).
 *  - Offsets: the memory is new, so a non-zero offset means nothing;
 *    refuse it (EINVAL) rather than create an object shorter than the
 *    page offsets the mapping would fault at.
 *
 * Legacy equivalent: f_op->mmap calling shmem_zero_setup() (not exported
 * to modules) or vma_set_anonymous().
 *
 * In-tree precedent (7.3): drivers/char/mem.c, mmap_zero_prepare().
 *
 * Device: /dev/mmp-shmem.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/shmem_fs.h>

#include "mmp_compat.h"

static int mmp_shmem_mmap_prepare(struct vm_area_desc *desc)
{
	struct vm_area_desc shmem_desc;
	struct file *file;
	int ret;

	if (desc->pgoff)
		return -EINVAL;

	if (!vma_desc_test(desc, VMA_MAYSHARE_BIT)) {
		/* MAP_PRIVATE: plain anonymous, copy-on-write memory. */
		vma_desc_set_anonymous(desc);
		return 0;
	}

	/*
	 * A kernel-internal file (S_PRIVATE), as /dev/zero uses: creating a
	 * file that goes through security hooks under mmap_lock can deadlock.
	 */
	file = shmem_kernel_file_setup("mmp-shmem", vma_desc_size(desc),
				       mmp_shmem_flags(desc));
	if (IS_ERR(file))
		return PTR_ERR(file);

	shmem_desc = *desc;
	shmem_desc.file = file;
	shmem_desc.vm_file = file;
	ret = vfs_mmap_prepare(file, &shmem_desc);
	if (ret) {
		fput(file);
		return ret;
	}
	/* Adopt shmem's description; the VMA takes our file reference. */
	shmem_desc.file = desc->file;
	*desc = shmem_desc;
	return 0;
}

MMP_DEFINE_MMAP_COMPAT(mmp_shmem_mmap_prepare, NULL);

static const struct file_operations mmp_shmem_fops = {
	.owner = THIS_MODULE,
	MMP_MMAP_PREPARE(mmp_shmem_mmap_prepare)
};

static struct miscdevice mmp_shmem_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mmp-shmem",
	.fops = &mmp_shmem_fops,
	.mode = 0600,
};

static int __init mmp_shmem_init(void)
{
	int ret = misc_register(&mmp_shmem_dev);

	if (!ret) {
		pr_info("/dev/%s: shared maps shmem, private maps anonymous, via mmap_prepare\n",
			mmp_shmem_dev.name);
		pr_info("mmap path: " MMP_MMAP_PATH "\n");
	}
	return ret;
}

static void __exit mmp_shmem_exit(void)
{
	misc_deregister(&mmp_shmem_dev);
}

module_init(mmp_shmem_init);
module_exit(mmp_shmem_exit);

MODULE_DESCRIPTION("Anonymous and shmem-backed mappings via mmap_prepare");
MODULE_LICENSE("GPL");
