// SPDX-License-Identifier: GPL-2.0
/*
 * mmp_pfn_remap - export a kernel buffer with f_op->mmap_prepare and a PFN
 * remap action.
 *
 * What it is for: giving userspace direct, zero-copy access to a physically
 * contiguous kernel buffer (a ring, a status page, a capture buffer). Every
 * page is mapped up front; there are no page faults and no struct page
 * reference counting on the user side.
 *
 * When to choose it: the memory is physically contiguous and lives as long as
 * the driver. Pick map_kernel_pages for a vmalloc'ed or page-array buffer,
 * ioremap for device MMIO, a ->fault handler for memory you want to populate
 * lazily.
 *
 * What the kernel does for you: ->mmap_prepare runs before any VMA exists.
 * The driver only checks the request and describes the mapping; when it
 * returns an error nothing has been allocated, merged or mapped, so the
 * driver has nothing to unwind. Once the VMA is built, the core performs the remap named
 * by mmap_action_remap_full() and sets VM_IO, VM_PFNMAP, VM_DONTEXPAND and
 * VM_DONTDUMP, so the mapping cannot be grown by mremap(), is left out of
 * core dumps and is refused by get_user_pages().
 *
 * What you must still check yourself: the core never looks at your buffer.
 * desc->pgoff and the length come straight from userspace; bound both
 * against the buffer without computing pgoff + pages (which can wrap).
 * Decide what MAP_PRIVATE means: a private writable PFN mapping is
 * copy-on-write of memory the kernel does not manage, so this driver refuses
 * it. Decide whether the mapping may ever be executable: here it may not,
 * and clearing VMA_MAYEXEC_BIT stops mprotect() from adding PROT_EXEC later.
 * Shared writes are allowed; the VFS already refuses PROT_WRITE on an
 * O_RDONLY descriptor and clears MAYWRITE for it.
 *
 * Legacy equivalent: f_op->mmap receiving a live VMA and calling
 * remap_pfn_range(). The same module registers that variant as a twin device
 * so both can be compared side by side; new drivers should not copy it.
 *
 * In-tree users of the same action (7.3): drivers/char/mem.c (/dev/mem)
 * and fs/resctrl/pseudo_lock.c.
 *
 * Devices: /dev/mmp-pfn-remap (mmap_prepare) and /dev/mmp-pfn-remap-legacy
 * (mmap). Both map the same buffer of nr_pages pages. Byte o of the buffer
 * holds (o & 0xff) ^ ((o >> PAGE_SHIFT) * 0x3b), so a test can tell every
 * page and every offset apart.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "mmp_compat.h"

#define MMP_MAX_PAGES 1024

static unsigned int nr_pages = 16;
module_param(nr_pages, uint, 0444);
MODULE_PARM_DESC(nr_pages, "Buffer size in pages (1-1024, default 16)");

static void *mmp_buf;

/*
 * The policy shared by both devices. Returns 0 or the errno mmap() reports.
 * pgoff and len are untrusted; len is already page aligned and non-zero.
 */
static int mmp_check_request(pgoff_t pgoff, unsigned long len, bool cow,
			     bool exec)
{
	unsigned long pages = len >> PAGE_SHIFT;

	if (cow)
		return -EINVAL;
	if (exec)
		return -EPERM;
	/* Written so that neither side can overflow. */
	if (pgoff >= nr_pages || pages > nr_pages - pgoff)
		return -ENXIO;
	return 0;
}

static unsigned long mmp_buf_pfn(void)
{
	return page_to_pfn(virt_to_page(mmp_buf));
}

static int mmp_pfn_remap_mmap_prepare(struct vm_area_desc *desc)
{
	int ret;

	ret = mmp_check_request(desc->pgoff, vma_desc_size(desc),
				vma_desc_is_cow_mapping(desc),
				vma_desc_test(desc, VMA_EXEC_BIT));
	if (ret)
		return ret;

	vma_desc_clear_flags(desc, VMA_MAYEXEC_BIT);
	/* Copies desc->page_prot: change caching attributes before this. */
	mmap_action_remap_full(desc, mmp_buf_pfn() + desc->pgoff);
	return 0;
}

/* The deprecated path, kept only for comparison. */
static int mmp_pfn_remap_legacy_mmap(struct file *file,
				     struct vm_area_struct *vma)
{
	unsigned long len = vma->vm_end - vma->vm_start;
	int ret;

	ret = mmp_check_request(vma->vm_pgoff, len, vma_is_cow_mapping(vma),
				vma->vm_flags & VM_EXEC);
	if (ret)
		return ret;

	vm_flags_clear(vma, VM_MAYEXEC);
	return remap_pfn_range(vma, vma->vm_start,
			       mmp_buf_pfn() + vma->vm_pgoff, len,
			       vma->vm_page_prot);
}

MMP_DEFINE_MMAP_COMPAT(mmp_pfn_remap_mmap_prepare, NULL);

static const struct file_operations mmp_pfn_remap_fops = {
	.owner = THIS_MODULE,
	MMP_MMAP_PREPARE(mmp_pfn_remap_mmap_prepare)
};

static const struct file_operations mmp_pfn_remap_legacy_fops = {
	.owner = THIS_MODULE,
	.mmap = mmp_pfn_remap_legacy_mmap,
};

/* Root only: every opener shares, and may write, the one buffer. */
static struct miscdevice mmp_pfn_remap_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mmp-pfn-remap",
	.fops = &mmp_pfn_remap_fops,
	.mode = 0600,
};

static struct miscdevice mmp_pfn_remap_legacy_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mmp-pfn-remap-legacy",
	.fops = &mmp_pfn_remap_legacy_fops,
	.mode = 0600,
};

static void mmp_fill(u8 *buf, size_t size)
{
	size_t o;

	for (o = 0; o < size; o++)
		buf[o] = (o & 0xff) ^ (((o >> PAGE_SHIFT) * 0x3b) & 0xff);
}

static int __init mmp_pfn_remap_init(void)
{
	size_t size;
	int ret;

	if (!nr_pages || nr_pages > MMP_MAX_PAGES) {
		pr_err("nr_pages=%u out of range 1-%u\n", nr_pages,
		       MMP_MAX_PAGES);
		return -EINVAL;
	}
	size = (size_t)nr_pages << PAGE_SHIFT;

	/* Physically contiguous, page aligned, every page refcounted. */
	mmp_buf = alloc_pages_exact(size, GFP_KERNEL | __GFP_ZERO);
	if (!mmp_buf)
		return -ENOMEM;
	mmp_fill(mmp_buf, size);

	ret = misc_register(&mmp_pfn_remap_dev);
	if (ret)
		goto err_free;
	ret = misc_register(&mmp_pfn_remap_legacy_dev);
	if (ret)
		goto err_deregister;

	pr_info("%u pages: /dev/%s uses mmap_prepare, /dev/%s uses legacy mmap\n",
		nr_pages, mmp_pfn_remap_dev.name,
		mmp_pfn_remap_legacy_dev.name);
	pr_info("mmap path: " MMP_MMAP_PATH "\n");
	return 0;

err_deregister:
	misc_deregister(&mmp_pfn_remap_dev);
err_free:
	free_pages_exact(mmp_buf, size);
	return ret;
}

static void __exit mmp_pfn_remap_exit(void)
{
	/*
	 * No mapping can outlive us: each one holds its file, and each file
	 * holds this module through fops->owner.
	 */
	misc_deregister(&mmp_pfn_remap_legacy_dev);
	misc_deregister(&mmp_pfn_remap_dev);
	free_pages_exact(mmp_buf, (size_t)nr_pages << PAGE_SHIFT);
}

module_init(mmp_pfn_remap_init);
module_exit(mmp_pfn_remap_exit);

MODULE_DESCRIPTION("PFN remap of a kernel buffer through f_op->mmap_prepare");
MODULE_LICENSE("GPL");
