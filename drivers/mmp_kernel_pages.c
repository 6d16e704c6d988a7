// SPDX-License-Identifier: GPL-2.0
/*
 * mmp_kernel_pages - export an array of individually allocated kernel pages
 * with f_op->mmap_prepare and the map_kernel_pages action.
 *
 * What it is for: sharing a buffer that is not physically contiguous (built
 * page by page, or from vmalloc via vmalloc_to_page()) with userspace,
 * mapped up front. Unlike a PFN remap, the PTEs point at ordinary struct
 * pages, so get_user_pages() works: the mapping can be an O_DIRECT target,
 * an io_uring fixed buffer, or be pinned by another driver.
 *
 * When to choose it: you own real pages (not MMIO, not a carve-out without
 * struct pages) and want zero-copy I/O into them. For one contiguous block
 * a PFN remap is simpler (mmp_pfn_remap.c); for memory you only want to
 * populate on first touch, use a ->fault handler (mmp_fault.c).
 *
 * What the kernel does for you: ->mmap_prepare runs before any VMA exists;
 * once it is built the core inserts the pages named by
 * mmap_action_map_kernel_pages() and sets VM_MIXEDMAP.
 *
 * What you must still check yourself:
 *  - The action ignores desc->pgoff: pages[0] always lands at the start of
 *    the mapping. Bound the offset and the length against your array
 *    (without computing pgoff + pages, which can wrap) and pass
 *    pages + pgoff, or the core reads past your array.
 *  - It does not set VM_DONTEXPAND: set it, or mremap() can grow the
 *    mapping over addresses that have no page behind them.
 *  - The pages must be individual, non-slab allocations (the core refuses
 *    slab and typed pages with EINVAL). alloc_page() per entry is fine.
 *  - MAP_PRIVATE is safe here: writes through a private mapping copy the
 *    page into anonymous memory and never reach the buffer.
 *  - PROT_EXEC: refuse it and clear VMA_MAYEXEC_BIT.
 *
 * Legacy equivalent: f_op->mmap calling vm_insert_pages() on a live VMA.
 * In-tree users of the action: none through 7.3 (vm_insert_pages() users
 * such as net/ipv4/tcp.c zero-copy receive show the idea).
 *
 * Device: /dev/mmp-kernel-pages, nr_pages pages, each allocated on its own.
 * Byte o of the buffer holds (o & 0xff) ^ ((o >> PAGE_SHIFT) * 0x3b).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

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

static int mmp_kernel_pages_mmap_prepare(struct vm_area_desc *desc)
{
	unsigned long pages = vma_desc_pages(desc);

	if (vma_desc_test(desc, VMA_EXEC_BIT))
		return -EPERM;
	/* Written so that neither side can overflow. */
	if (desc->pgoff >= nr_pages || pages > nr_pages - desc->pgoff)
		return -ENXIO;

	vma_desc_clear_flags(desc, VMA_MAYEXEC_BIT);
	/* The action sets only VM_MIXEDMAP; growing must stay impossible. */
	vma_desc_set_flags(desc, VMA_DONTEXPAND_BIT);
	/* The action maps pages[0] at desc->start whatever desc->pgoff is. */
	mmap_action_map_kernel_pages_full(desc, mmp_pages + desc->pgoff);
	return 0;
}

MMP_DEFINE_MMAP_COMPAT(mmp_kernel_pages_mmap_prepare, NULL);

static const struct file_operations mmp_kernel_pages_fops = {
	.owner = THIS_MODULE,
	MMP_MMAP_PREPARE(mmp_kernel_pages_mmap_prepare)
};

static struct miscdevice mmp_kernel_pages_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mmp-kernel-pages",
	.fops = &mmp_kernel_pages_fops,
	.mode = 0600,
};

static void mmp_free_pages(void)
{
	unsigned int i;

	for (i = 0; i < nr_pages; i++)
		if (mmp_pages[i])
			__free_page(mmp_pages[i]);
	kfree(mmp_pages);
}

static int __init mmp_kernel_pages_init(void)
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
	if (!mmp_pages)
		return -ENOMEM;
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

	ret = misc_register(&mmp_kernel_pages_dev);
	if (ret)
		goto err_free;
	pr_info("%u pages: /dev/%s uses mmap_prepare + map_kernel_pages\n",
		nr_pages, mmp_kernel_pages_dev.name);
	pr_info("mmap path: " MMP_MMAP_PATH "\n");
	return 0;

err_free:
	mmp_free_pages();
	return ret;
}

static void __exit mmp_kernel_pages_exit(void)
{
	/* Mappings pin this module through fops->owner: none is left. */
	misc_deregister(&mmp_kernel_pages_dev);
	mmp_free_pages();
}

module_init(mmp_kernel_pages_init);
module_exit(mmp_kernel_pages_exit);

MODULE_DESCRIPTION("Kernel page array mapped through f_op->mmap_prepare");
MODULE_LICENSE("GPL");
