// SPDX-License-Identifier: GPL-2.0
/*
 * mmp_readonly - export data that userspace may read but never write, with
 * f_op->mmap_prepare, and choose the errno of a failing action with
 * error_override.
 *
 * What it is for: tables, firmware images, measurement results, anything
 * the kernel publishes and must be able to trust afterwards.
 *
 * When to choose it: whenever a mapping must stay read-only for its whole
 * life. Refusing PROT_WRITE at mmap() time is not enough: without more,
 * mprotect() can add it later.
 *
 * What the kernel does for you: the VFS refuses PROT_WRITE on a shared
 * mapping of an O_RDONLY descriptor and then leaves VM_MAYWRITE clear. It
 * does not help when the file was opened O_RDWR, nor for MAP_PRIVATE, where
 * VM_MAYWRITE is always set so that copy-on-write can happen.
 *
 * What you must still check yourself:
 *  - Refuse PROT_WRITE in ->mmap_prepare, shared or private (a private
 *    writable mapping would hand out writable copies of the data).
 *  - Clear VMA_MAYWRITE_BIT (and VMA_MAYEXEC_BIT): mprotect() then fails
 *    with EACCES, whatever the descriptor's mode.
 *  - Decide what a failing action reports. The core unmaps the new VMA and
 *    returns the action's error; desc->action.error_override replaces it
 *    with an errno of your choosing (here -EAGAIN: try again later). It
 *    applies to errors from completing the action and from ->mapped, not
 *    to those ->mmap_prepare returns itself.
 *
 * Legacy equivalent: f_op->mmap clearing VM_MAYWRITE with vm_flags_clear()
 * and mapping with vm_insert_pages(), returning whatever failed.
 *
 * In-tree precedent (7.3): drivers/misc/open-dice.c (clears MAYWRITE),
 * drivers/char/mem.c (error_override = -EAGAIN).
 *
 * Device: /dev/mmp-readonly, nr_pages pages mapped with the map_kernel_pages
 * action. Byte o holds (o & 0xff) ^ ((o >> PAGE_SHIFT) * 0x3b). For tests,
 * writing 1 to /sys/kernel/debug/mmp_readonly/fail_action makes every
 * mmap() name an action the core refuses, to show error_override at work.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/highmem.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "mmp_compat.h"

#define MMP_MAX_PAGES 1024

static unsigned int nr_pages = 16;
module_param(nr_pages, uint, 0444);
MODULE_PARM_DESC(nr_pages, "Buffer size in pages (1-1024, default 16)");

static struct page **mmp_pages;
static struct dentry *mmp_debugfs;

/* Fault injection: an array of slab pages, which the core will not map. */
static u32 fail_action;
static void *mmp_slab_obj;
static struct page **mmp_bad_pages;

static int mmp_readonly_mmap_prepare(struct vm_area_desc *desc)
{
	unsigned long pages = vma_desc_pages(desc);

	if (vma_desc_test(desc, VMA_WRITE_BIT))
		return -EACCES;
	if (vma_desc_test(desc, VMA_EXEC_BIT))
		return -EPERM;
	/* Written so that neither side can overflow. */
	if (desc->pgoff >= nr_pages || pages > nr_pages - desc->pgoff)
		return -ENXIO;

	/* mprotect() can never add what the VMA may not have. */
	vma_desc_clear_flags(desc, VMA_MAYWRITE_BIT, VMA_MAYEXEC_BIT);
	vma_desc_set_flags(desc, VMA_DONTEXPAND_BIT);
	if (READ_ONCE(fail_action))
		mmap_action_map_kernel_pages_full(desc, mmp_bad_pages);
	else
		mmap_action_map_kernel_pages_full(desc,
						  mmp_pages + desc->pgoff);
	/* Whatever makes the mapping fail now is transient for the caller. */
	desc->action.error_override = -EAGAIN;
	return 0;
}

MMP_DEFINE_MMAP_COMPAT(mmp_readonly_mmap_prepare, NULL);

static const struct file_operations mmp_readonly_fops = {
	.owner = THIS_MODULE,
	MMP_MMAP_PREPARE(mmp_readonly_mmap_prepare)
};

static struct miscdevice mmp_readonly_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mmp-readonly",
	.fops = &mmp_readonly_fops,
	.mode = 0444,
};

static void mmp_free(void)
{
	unsigned int i;

	for (i = 0; mmp_pages && i < nr_pages; i++)
		if (mmp_pages[i])
			__free_page(mmp_pages[i]);
	kfree(mmp_pages);
	kfree(mmp_bad_pages);
	kfree(mmp_slab_obj);
}

static int __init mmp_readonly_init(void)
{
	unsigned int i;
	size_t o;
	int ret;

	if (!nr_pages || nr_pages > MMP_MAX_PAGES) {
		pr_err("nr_pages=%u out of range 1-%u\n", nr_pages,
		       MMP_MAX_PAGES);
		return -EINVAL;
	}
	mmp_pages = kzalloc_objs(*mmp_pages, nr_pages);
	mmp_bad_pages = kzalloc_objs(*mmp_bad_pages, nr_pages);
	mmp_slab_obj = kzalloc(64, GFP_KERNEL);
	if (!mmp_pages || !mmp_bad_pages || !mmp_slab_obj) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < nr_pages; i++) {
		u8 *p;

		mmp_bad_pages[i] = virt_to_page(mmp_slab_obj);
		mmp_pages[i] = alloc_page(GFP_KERNEL);
		if (!mmp_pages[i]) {
			ret = -ENOMEM;
			goto err_free;
		}
		p = kmap_local_page(mmp_pages[i]);
		for (o = 0; o < PAGE_SIZE; o++)
			p[o] = o ^ ((i * 0x3b) & 0xff);
		kunmap_local(p);
	}

	mmp_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_u32("fail_action", 0600, mmp_debugfs, &fail_action);

	ret = misc_register(&mmp_readonly_dev);
	if (ret)
		goto err_debugfs;
	pr_info("%u pages: /dev/%s, read-only, mmap_prepare + map_kernel_pages\n",
		nr_pages, mmp_readonly_dev.name);
	pr_info("mmap path: " MMP_MMAP_PATH "\n");
	return 0;

err_debugfs:
	debugfs_remove(mmp_debugfs);
err_free:
	mmp_free();
	return ret;
}

static void __exit mmp_readonly_exit(void)
{
	misc_deregister(&mmp_readonly_dev);
	debugfs_remove(mmp_debugfs);
	mmp_free();
}

module_init(mmp_readonly_init);
module_exit(mmp_readonly_exit);

MODULE_DESCRIPTION("Read-only export through f_op->mmap_prepare");
MODULE_LICENSE("GPL");
