// SPDX-License-Identifier: GPL-2.0
/*
 * mmp_fault - serve a mapping lazily from vm_ops->fault and track the pages
 * userspace writes, with f_op->mmap_prepare and no mmap action.
 *
 * What it is for: the most common driver mapping. Nothing is mapped at
 * mmap() time; each page is looked up when userspace first touches it,
 * and the driver learns which pages were written (a frame buffer flushed
 * to a display, a log drained to storage, deferred I/O in general).
 *
 * When to choose it: large or sparse buffers, memory you want to allocate
 * or fetch on demand, or whenever you need to know what was written. For a
 * small buffer that is always used whole, an action (mmp_kernel_pages.c)
 * maps everything at once and saves the faults.
 *
 * What the kernel does for you: with no action named, ->mmap_prepare only
 * installs vm_ops. On first access ->fault runs and hands back a page with
 * a reference the core consumes. Because ->page_mkwrite exists, the core
 * maps shared pages read-only first (write notification): the first write
 * to each page, whether or not it was read before, calls ->page_mkwrite.
 *
 * What you must still check yourself:
 *  - The offset and length at mmap() time, and again in ->fault: the
 *    mapping is checked once but ->fault sees every access.
 *  - VM_DONTEXPAND: without it mremap() could grow the mapping past your
 *    buffer and ->fault would be asked for pages you do not have.
 *  - ->page_mkwrite for pages that are not in the page cache must return
 *    with the page locked (VM_FAULT_LOCKED); otherwise the core looks for
 *    page->mapping, finds none and retries the fault for ever.
 *  - MAP_PRIVATE (refused here: writes would go to copies and dirty
 *    tracking would see nothing) and PROT_EXEC.
 *  - Re-arming: after ->page_mkwrite the PTE stays writable, so forgetting
 *    a page's dirty bit is not enough to see its next write. Zap the page
 *    from every mapping first, under the page lock that ->page_mkwrite
 *    also takes, then clear the bit: a concurrent write either was
 *    recorded before or faults again and is recorded after.
 *
 * Legacy equivalent: f_op->mmap setting vma->vm_ops; same handlers.
 *
 * In-tree precedent: drivers/video/fbdev/core/fb_defio.c (deferred I/O with
 * ->fault and ->page_mkwrite on driver pages).
 *
 * Device: /dev/mmp-fault, nr_pages pages. In /sys/kernel/debug/mmp_fault/:
 * faults and mkwrites (totals), dirty (page indices written, e.g. 1,3),
 * and reset (write anything: re-arm the written pages, zero the counters
 * and the dirty set).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/debugfs.h>
#include <linux/highmem.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "mmp_compat.h"

#define MMP_MAX_PAGES 1024

static unsigned int nr_pages = 16;
module_param(nr_pages, uint, 0444);
MODULE_PARM_DESC(nr_pages, "Buffer size in pages (1-1024, default 16)");

static struct page **mmp_pages;
static unsigned long *mmp_dirty; /* bitmap, one bit per page */
static atomic_t faults, mkwrites;
static struct dentry *mmp_debugfs;

/* Open files: their mappings are what reset has to write-protect. */
static LIST_HEAD(mmp_files);
static DEFINE_MUTEX(mmp_files_lock);

struct mmp_fault_file {
	struct list_head node;
	struct file *file;
};

static int mmp_fault_open(struct inode *inode, struct file *file)
{
	struct mmp_fault_file *f = kzalloc_obj(*f);

	if (!f)
		return -ENOMEM;
	f->file = file;
	mutex_lock(&mmp_files_lock);
	list_add(&f->node, &mmp_files);
	mutex_unlock(&mmp_files_lock);
	file->private_data = f;
	return 0;
}

/* Runs once the last mapping of the file is gone, too. */
static int mmp_fault_release(struct inode *inode, struct file *file)
{
	struct mmp_fault_file *f = file->private_data;

	mutex_lock(&mmp_files_lock);
	list_del(&f->node);
	mutex_unlock(&mmp_files_lock);
	kfree(f);
	return 0;
}

static vm_fault_t mmp_fault_fault(struct vm_fault *vmf)
{
	struct page *page;

	if (vmf->pgoff >= nr_pages)
		return VM_FAULT_SIGBUS;
	atomic_inc(&faults);
	page = mmp_pages[vmf->pgoff];
	get_page(page);
	vmf->page = page;
	return 0;
}

static vm_fault_t mmp_fault_page_mkwrite(struct vm_fault *vmf)
{
	/* Locked, so the core does not go looking for a page cache mapping. */
	lock_page(vmf->page);
	atomic_inc(&mkwrites);
	set_bit(vmf->pgoff, mmp_dirty);
	return VM_FAULT_LOCKED;
}

static const struct vm_operations_struct mmp_fault_vm_ops = {
	.fault = mmp_fault_fault,
	.page_mkwrite = mmp_fault_page_mkwrite,
};

static int mmp_fault_mmap_prepare(struct vm_area_desc *desc)
{
	unsigned long pages = vma_desc_pages(desc);

	if (vma_desc_is_cow_mapping(desc))
		return -EINVAL;
	if (vma_desc_test(desc, VMA_EXEC_BIT))
		return -EPERM;
	/* Written so that neither side can overflow. */
	if (desc->pgoff >= nr_pages || pages > nr_pages - desc->pgoff)
		return -ENXIO;

	vma_desc_clear_flags(desc, VMA_MAYEXEC_BIT);
	vma_desc_set_flags(desc, VMA_DONTEXPAND_BIT);
	/* No action: nothing is mapped until the first access. */
	desc->vm_ops = &mmp_fault_vm_ops;
	return 0;
}

MMP_DEFINE_MMAP_COMPAT(mmp_fault_mmap_prepare, NULL);

static const struct file_operations mmp_fault_fops = {
	.owner = THIS_MODULE,
	.open = mmp_fault_open,
	.release = mmp_fault_release,
	MMP_MMAP_PREPARE(mmp_fault_mmap_prepare)
};

static struct miscdevice mmp_fault_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mmp-fault",
	.fops = &mmp_fault_fops,
	.mode = 0600,
};

static int mmp_dirty_show(struct seq_file *m, void *v)
{
	unsigned int bit;
	bool first = true;

	for_each_set_bit(bit, mmp_dirty, nr_pages) {
		seq_printf(m, "%s%u", first ? "" : ",", bit);
		first = false;
	}
	seq_putc(m, '\n');
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mmp_dirty);

static ssize_t mmp_reset_write(struct file *file, const char __user *buf,
			       size_t len, loff_t *ppos)
{
	struct mmp_fault_file *f;
	unsigned int i;

	mutex_lock(&mmp_files_lock);
	for (i = 0; i < nr_pages; i++) {
		if (!test_bit(i, mmp_dirty))
			continue;
		/* Zap first: the next write must fault into ->page_mkwrite. */
		lock_page(mmp_pages[i]);
		list_for_each_entry(f, &mmp_files, node)
			unmap_mapping_range(f->file->f_mapping,
					    (loff_t)i << PAGE_SHIFT, PAGE_SIZE,
					    1);
		clear_bit(i, mmp_dirty);
		unlock_page(mmp_pages[i]);
	}
	mutex_unlock(&mmp_files_lock);
	atomic_set(&faults, 0);
	atomic_set(&mkwrites, 0);
	return len;
}

static const struct file_operations mmp_reset_fops = {
	.owner = THIS_MODULE,
	.write = mmp_reset_write,
};

static void mmp_free(void)
{
	unsigned int i;

	for (i = 0; mmp_pages && i < nr_pages; i++)
		if (mmp_pages[i])
			__free_page(mmp_pages[i]);
	kfree(mmp_pages);
	bitmap_free(mmp_dirty);
}

static int __init mmp_fault_init(void)
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
	mmp_dirty = bitmap_zalloc(nr_pages, GFP_KERNEL);
	if (!mmp_pages || !mmp_dirty) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < nr_pages; i++) {
		u8 *p;

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
	debugfs_create_atomic_t("faults", 0400, mmp_debugfs, &faults);
	debugfs_create_atomic_t("mkwrites", 0400, mmp_debugfs, &mkwrites);
	debugfs_create_file("dirty", 0400, mmp_debugfs, NULL, &mmp_dirty_fops);
	debugfs_create_file("reset", 0200, mmp_debugfs, NULL, &mmp_reset_fops);

	ret = misc_register(&mmp_fault_dev);
	if (ret)
		goto err_debugfs;
	pr_info("%u pages: /dev/%s, served by ->fault, writes tracked by ->page_mkwrite\n",
		nr_pages, mmp_fault_dev.name);
	pr_info("mmap path: " MMP_MMAP_PATH "\n");
	return 0;

err_debugfs:
	debugfs_remove(mmp_debugfs);
err_free:
	mmp_free();
	return ret;
}

static void __exit mmp_fault_exit(void)
{
	misc_deregister(&mmp_fault_dev);
	debugfs_remove(mmp_debugfs);
	mmp_free();
}

module_init(mmp_fault_init);
module_exit(mmp_fault_exit);

MODULE_DESCRIPTION("Fault-on-demand mapping with dirty page tracking");
MODULE_LICENSE("GPL");
