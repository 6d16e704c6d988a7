// SPDX-License-Identifier: GPL-2.0
/*
 * mmp_ioremap - map a PCI memory BAR to userspace, uncached, with
 * f_op->mmap_prepare and an I/O remap action.
 *
 * What it is for: letting userspace drive device registers directly (a
 * control BAR, a doorbell page) while the kernel driver keeps ownership of
 * the device: it claims the BAR, decides who may map what, and can take the
 * mapping away again.
 *
 * When to choose it: the memory is a device BAR (MMIO) and userspace needs
 * register semantics, so every access must reach the device: uncached. For
 * RAM-like device memory where write-combining is wanted and the core may
 * do the range checks for you, see mmp_simple_ioremap.c. For a generic
 * userspace driver without a device node of your own, see mmp_uio.c.
 *
 * What the kernel does for you: ->mmap_prepare runs before any VMA exists.
 * The driver refuses bad requests there, with nothing to unwind. Once the
 * VMA is built, the core performs the remap named by mmap_action_ioremap_full()
 * with the page protection the driver left in desc->page_prot, and sets
 * VM_IO, VM_PFNMAP, VM_DONTEXPAND and VM_DONTDUMP: the mapping cannot grow,
 * is left out of core dumps, and get_user_pages() (O_DIRECT, io_uring fixed
 * buffers, ...) refuses it. Then it calls vm_ops->mapped().
 *
 * What you must still check yourself:
 *  - desc->pgoff and the length against the BAR, without computing
 *    pgoff + pages (it can wrap). The core only checks that the remap
 *    stays inside the VMA; it knows nothing of your BAR.
 *  - The caching attribute: set desc->page_prot before naming the action,
 *    which copies it.
 *  - MAP_PRIVATE: copy-on-write of device memory makes no sense; refuse it.
 *  - PROT_EXEC: never for registers; clearing VMA_MAYEXEC_BIT also stops
 *    mprotect() from adding it later.
 *  - Unbinding: the kernel cannot refuse to unbind a device that is mapped.
 *    remove() must zap every user mapping so that later accesses fault
 *    (SIGBUS) instead of reaching a device the driver no longer owns. A
 *    mapping can be created concurrently with remove(): its PTEs are
 *    installed after ->mmap_prepare returns, so ->mapped(), which runs after
 *    them, checks again and fails the mmap() if the device went away. The
 *    PTEs exist until that failure unmaps them, a window only another
 *    thread of the same process, guessing the address, could use; a
 *    driver that must close it maps on fault instead (see mmp_uio.c).
 *
 * Legacy equivalent: f_op->mmap calling io_remap_pfn_range() on a live VMA.
 *
 * In-tree precedent (7.3): drivers/char/mem.c for the checks,
 * drivers/vfio/pci/vfio_pci_core.c for zapping user mappings of a BAR
 * (there on reset and when memory decoding is turned off).
 *
 * Devices: binds QEMU's edu device (1234:11e8) by default; other devices
 * through new_id or driver_override (see README). Each bound device gets
 * /dev/mmp-ioremap-<PCI address> exporting BAR <bar> (module parameter).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "mmp_compat.h"

static unsigned int bar;
module_param(bar, uint, 0444);
MODULE_PARM_DESC(bar, "Memory BAR to export (default 0)");

struct mmp_ioremap {
	struct miscdevice misc;
	struct pci_dev *pdev;
	phys_addr_t start;
	unsigned long nr_pages;
	struct kref ref; /* held by the binding and by each open file */
	struct mutex lock; /* protects gone and files */
	bool gone; /* unbound: no new mappings */
	struct list_head files; /* open files, whose mappings remove() zaps */
};

struct mmp_ioremap_file {
	struct list_head node;
	struct file *file;
	struct mmp_ioremap *dev;
};

static void mmp_ioremap_free(struct kref *ref)
{
	struct mmp_ioremap *dev = container_of(ref, struct mmp_ioremap, ref);

	kfree(dev->misc.name);
	kfree(dev);
}

static int mmp_ioremap_open(struct inode *inode, struct file *file)
{
	/* misc_open() stored our miscdevice; it holds misc_mtx, so remove()
	 * cannot deregister it under us.
	 */
	struct mmp_ioremap *dev =
		container_of(file->private_data, struct mmp_ioremap, misc);
	struct mmp_ioremap_file *f;

	f = kzalloc_obj(*f);
	if (!f)
		return -ENOMEM;
	f->file = file;
	f->dev = dev;
	kref_get(&dev->ref);
	mutex_lock(&dev->lock);
	list_add(&f->node, &dev->files);
	mutex_unlock(&dev->lock);
	file->private_data = f;
	return 0;
}

static int mmp_ioremap_release(struct inode *inode, struct file *file)
{
	struct mmp_ioremap_file *f = file->private_data;
	struct mmp_ioremap *dev = f->dev;

	mutex_lock(&dev->lock);
	list_del(&f->node);
	mutex_unlock(&dev->lock);
	kfree(f);
	kref_put(&dev->ref, mmp_ioremap_free);
	return 0;
}

static bool mmp_ioremap_gone(struct mmp_ioremap *dev)
{
	bool gone;

	mutex_lock(&dev->lock);
	gone = dev->gone;
	mutex_unlock(&dev->lock);
	return gone;
}

/* Runs after the PTEs exist; failing it unmaps the new VMA. */
static int mmp_ioremap_mapped(unsigned long start, unsigned long end,
			      pgoff_t pgoff, const struct file *file,
			      void **vm_private_data)
{
	struct mmp_ioremap_file *f = file->private_data;

	return mmp_ioremap_gone(f->dev) ? -ENODEV : 0;
}

/* No ->fault: once remove() zapped the PTEs, an access gets SIGBUS. */
static const struct vm_operations_struct mmp_ioremap_vm_ops = {
	MMP_VM_OPS_MAPPED(mmp_ioremap_mapped)
};

static int mmp_ioremap_mmap_prepare(struct vm_area_desc *desc)
{
	struct mmp_ioremap_file *f = desc->file->private_data;
	struct mmp_ioremap *dev = f->dev;
	unsigned long pages = vma_desc_pages(desc);

	if (mmp_ioremap_gone(dev))
		return -ENODEV;
	if (vma_desc_is_cow_mapping(desc))
		return -EINVAL;
	if (vma_desc_test(desc, VMA_EXEC_BIT))
		return -EPERM;
	/* Written so that neither side can overflow. */
	if (desc->pgoff >= dev->nr_pages || pages > dev->nr_pages - desc->pgoff)
		return -ENXIO;

	vma_desc_clear_flags(desc, VMA_MAYEXEC_BIT);
	/* Registers: every access must reach the device. */
	desc->page_prot = pgprot_noncached(desc->page_prot);
	desc->vm_ops = &mmp_ioremap_vm_ops;
	mmap_action_ioremap_full(desc, PHYS_PFN(dev->start) + desc->pgoff);
	return 0;
}

MMP_DEFINE_MMAP_COMPAT(mmp_ioremap_mmap_prepare, mmp_ioremap_mapped);

static const struct file_operations mmp_ioremap_fops = {
	.owner = THIS_MODULE,
	.open = mmp_ioremap_open,
	.release = mmp_ioremap_release,
	MMP_MMAP_PREPARE(mmp_ioremap_mmap_prepare)
};

static int mmp_ioremap_probe(struct pci_dev *pdev,
			     const struct pci_device_id *id)
{
	resource_size_t start = pci_resource_start(pdev, bar);
	resource_size_t len = pci_resource_len(pdev, bar);
	struct mmp_ioremap *dev;
	int ret;

	if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM)) {
		dev_err(&pdev->dev, "BAR%u is not a memory BAR\n", bar);
		return -ENODEV;
	}
	/* Mapping part of a page would expose whatever shares the rest. */
	if (!PAGE_ALIGNED(start) || len < PAGE_SIZE) {
		dev_err(&pdev->dev,
			"BAR%u (%pa, %llu bytes) is not whole pages\n", bar,
			&start, (unsigned long long)len);
		return -ENODEV;
	}

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_request_region(pdev, bar, KBUILD_MODNAME);
	if (ret)
		return ret;

	dev = kzalloc_obj(*dev);
	if (!dev)
		return -ENOMEM;
	kref_init(&dev->ref);
	mutex_init(&dev->lock);
	INIT_LIST_HEAD(&dev->files);
	dev->pdev = pdev;
	dev->start = start;
	dev->nr_pages = len >> PAGE_SHIFT;
	dev->misc.minor = MISC_DYNAMIC_MINOR;
	dev->misc.fops = &mmp_ioremap_fops;
	dev->misc.parent = &pdev->dev;
	dev->misc.mode = 0600;
	dev->misc.name =
		kasprintf(GFP_KERNEL, "mmp-ioremap-%s", pci_name(pdev));
	if (!dev->misc.name) {
		ret = -ENOMEM;
		goto err_put;
	}
	ret = misc_register(&dev->misc);
	if (ret)
		goto err_put;

	pci_set_drvdata(pdev, dev);
	dev_info(&pdev->dev, "BAR%u as /dev/%s (%lu KiB, uncached)\n", bar,
		 dev->misc.name, dev->nr_pages << (PAGE_SHIFT - 10));
	return 0;

err_put:
	kref_put(&dev->ref, mmp_ioremap_free);
	return ret;
}

static void mmp_ioremap_remove(struct pci_dev *pdev)
{
	struct mmp_ioremap *dev = pci_get_drvdata(pdev);
	struct mmp_ioremap_file *f;

	/* No new opens once this returns; open files stay usable. */
	misc_deregister(&dev->misc);

	mutex_lock(&dev->lock);
	dev->gone = true;
	list_for_each_entry(f, &dev->files, node)
		unmap_mapping_range(f->file->f_mapping, 0, 0, 1);
	mutex_unlock(&dev->lock);

	/* pcim releases the BAR and disables the device after we return. */
	kref_put(&dev->ref, mmp_ioremap_free);
}

static const struct pci_device_id mmp_ioremap_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) }, /* QEMU edu */
	{}
};
MODULE_DEVICE_TABLE(pci, mmp_ioremap_ids);

static struct pci_driver mmp_ioremap_driver = {
	.name = "mmp_ioremap",
	.id_table = mmp_ioremap_ids,
	.probe = mmp_ioremap_probe,
	.remove = mmp_ioremap_remove,
};

static int __init mmp_ioremap_init(void)
{
	int ret;

	if (bar >= PCI_STD_NUM_BARS) {
		pr_err("bar=%u out of range 0-%d\n", bar, PCI_STD_NUM_BARS - 1);
		return -EINVAL;
	}
	ret = pci_register_driver(&mmp_ioremap_driver);
	if (!ret)
		pr_info("mmap path: " MMP_MMAP_PATH "\n");
	return ret;
}

static void __exit mmp_ioremap_exit(void)
{
	pci_unregister_driver(&mmp_ioremap_driver);
}

module_init(mmp_ioremap_init);
module_exit(mmp_ioremap_exit);

MODULE_DESCRIPTION("Uncached I/O remap of a PCI BAR through f_op->mmap_prepare");
MODULE_LICENSE("GPL");
