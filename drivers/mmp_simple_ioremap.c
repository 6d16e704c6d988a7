// SPDX-License-Identifier: GPL-2.0
/*
 * mmp_simple_ioremap - map a PCI BAR of RAM-like device memory to userspace,
 * write-combined, with f_op->mmap_prepare and the guard-railed
 * simple_ioremap action.
 *
 * What it is for: device memory that behaves like RAM (a frame buffer, a
 * shared-memory window, a device-side queue) where userspace streams data
 * and write-combining makes stores fast.
 *
 * When to choose it: you have a physical range and want the core to do the
 * offset and length arithmetic. mmap_action_simple_ioremap() takes the
 * range, and the core maps [pgoff, pgoff + pages) of it, refusing with
 * EINVAL anything that does not fit. For registers (uncached) or when you
 * want your own errno for bad ranges, see mmp_ioremap.c.
 *
 * What the kernel does for you: everything mmp_ioremap.c lists (early
 * refusal before a VMA exists; VM_IO, VM_PFNMAP, VM_DONTEXPAND, VM_DONTDUMP;
 * no get_user_pages()), plus the range checks against the physical range,
 * overflow included. The legacy equivalent, vm_iomap_memory(), does the
 * same checks on a live VMA.
 *
 * What you must still check yourself:
 *  - The caching attribute: simple_ioremap uses desc->page_prot as you left
 *    it, so set write-combining before returning.
 *  - MAP_PRIVATE (refuse: no copy-on-write of device memory) and PROT_EXEC
 *    (refuse, and clear VMA_MAYEXEC_BIT so mprotect() cannot add it).
 *  - Unbinding: remove() must zap the user mappings, and ->mapped() must
 *    refuse a mapping that raced with remove(); see mmp_ioremap.c.
 *
 * Legacy equivalent: f_op->mmap calling vm_iomap_memory().
 *
 * In-tree users (7.3): drivers/char/hpet.c, drivers/hwtracing/stm/core.c,
 * drivers/uio/uio_hv_generic.c.
 *
 * Devices: binds QEMU's ivshmem-plain (1af4:1110), whose BAR2 is shared
 * memory backed by a host file; other devices through new_id or
 * driver_override (see README). Each bound device gets
 * /dev/mmp-simple-ioremap-<PCI address> exporting BAR <bar>.
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

static unsigned int bar = 2;
module_param(bar, uint, 0444);
MODULE_PARM_DESC(bar,
		 "Memory BAR to export (default 2, ivshmem's shared memory)");

struct mmp_simple_ioremap {
	struct miscdevice misc;
	struct pci_dev *pdev;
	phys_addr_t start;
	resource_size_t size;
	struct kref ref; /* held by the binding and by each open file */
	struct mutex lock; /* protects gone and files */
	bool gone; /* unbound: no new mappings */
	struct list_head files; /* open files, whose mappings remove() zaps */
};

struct mmp_simple_ioremap_file {
	struct list_head node;
	struct file *file;
	struct mmp_simple_ioremap *dev;
};

static void mmp_simple_ioremap_free(struct kref *ref)
{
	struct mmp_simple_ioremap *dev =
		container_of(ref, struct mmp_simple_ioremap, ref);

	kfree(dev->misc.name);
	kfree(dev);
}

static int mmp_simple_ioremap_open(struct inode *inode, struct file *file)
{
	/* misc_open() stored our miscdevice; it holds misc_mtx, so remove()
	 * cannot deregister it under us.
	 */
	struct miscdevice *misc = file->private_data;
	struct mmp_simple_ioremap *dev =
		container_of(misc, struct mmp_simple_ioremap, misc);
	struct mmp_simple_ioremap_file *f;

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

static int mmp_simple_ioremap_release(struct inode *inode, struct file *file)
{
	struct mmp_simple_ioremap_file *f = file->private_data;
	struct mmp_simple_ioremap *dev = f->dev;

	mutex_lock(&dev->lock);
	list_del(&f->node);
	mutex_unlock(&dev->lock);
	kfree(f);
	kref_put(&dev->ref, mmp_simple_ioremap_free);
	return 0;
}

static bool mmp_simple_ioremap_gone(struct mmp_simple_ioremap *dev)
{
	bool gone;

	mutex_lock(&dev->lock);
	gone = dev->gone;
	mutex_unlock(&dev->lock);
	return gone;
}

/* Runs after the PTEs exist; failing it unmaps the new VMA. */
static int mmp_simple_ioremap_mapped(unsigned long start, unsigned long end,
				     pgoff_t pgoff, const struct file *file,
				     void **vm_private_data)
{
	struct mmp_simple_ioremap_file *f = file->private_data;

	return mmp_simple_ioremap_gone(f->dev) ? -ENODEV : 0;
}

/* No ->fault: once remove() zapped the PTEs, an access gets SIGBUS. */
static const struct vm_operations_struct mmp_simple_ioremap_vm_ops = {
	MMP_VM_OPS_MAPPED(mmp_simple_ioremap_mapped)
};

static int mmp_simple_ioremap_mmap_prepare(struct vm_area_desc *desc)
{
	struct mmp_simple_ioremap_file *f = desc->file->private_data;
	struct mmp_simple_ioremap *dev = f->dev;

	if (mmp_simple_ioremap_gone(dev))
		return -ENODEV;
	if (vma_desc_is_cow_mapping(desc))
		return -EINVAL;
	if (vma_desc_test(desc, VMA_EXEC_BIT))
		return -EPERM;

	vma_desc_clear_flags(desc, VMA_MAYEXEC_BIT);
	/* Before the action: the core uses page_prot as it finds it. */
	desc->page_prot = pgprot_writecombine(desc->page_prot);
	desc->vm_ops = &mmp_simple_ioremap_vm_ops;
	/* The core checks desc->pgoff and the length against this range. */
	mmap_action_simple_ioremap(desc, dev->start, dev->size);
	return 0;
}

MMP_DEFINE_MMAP_COMPAT(mmp_simple_ioremap_mmap_prepare,
		       mmp_simple_ioremap_mapped);

static const struct file_operations mmp_simple_ioremap_fops = {
	.owner = THIS_MODULE,
	.open = mmp_simple_ioremap_open,
	.release = mmp_simple_ioremap_release,
	MMP_MMAP_PREPARE(mmp_simple_ioremap_mmap_prepare)
};

static int mmp_simple_ioremap_probe(struct pci_dev *pdev,
				    const struct pci_device_id *id)
{
	resource_size_t start = pci_resource_start(pdev, bar);
	resource_size_t len = pci_resource_len(pdev, bar);
	struct mmp_simple_ioremap *dev;
	int ret;

	if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM)) {
		dev_err(&pdev->dev, "BAR%u is not a memory BAR\n", bar);
		return -ENODEV;
	}
	/*
	 * Mapping part of a page would expose whatever shares the rest; the
	 * action takes the size as an unsigned long.
	 */
	if (!PAGE_ALIGNED(start) || len < PAGE_SIZE || len > ULONG_MAX) {
		dev_err(&pdev->dev,
			"BAR%u (%pa, %llu bytes) cannot be mapped whole\n", bar,
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
	dev->size = len;
	dev->misc.minor = MISC_DYNAMIC_MINOR;
	dev->misc.fops = &mmp_simple_ioremap_fops;
	dev->misc.parent = &pdev->dev;
	dev->misc.mode = 0600;
	dev->misc.name =
		kasprintf(GFP_KERNEL, "mmp-simple-ioremap-%s", pci_name(pdev));
	if (!dev->misc.name) {
		ret = -ENOMEM;
		goto err_put;
	}
	ret = misc_register(&dev->misc);
	if (ret)
		goto err_put;

	pci_set_drvdata(pdev, dev);
	dev_info(&pdev->dev, "BAR%u as /dev/%s (%llu KiB, write-combined)\n",
		 bar, dev->misc.name, (unsigned long long)len >> 10);
	return 0;

err_put:
	kref_put(&dev->ref, mmp_simple_ioremap_free);
	return ret;
}

static void mmp_simple_ioremap_remove(struct pci_dev *pdev)
{
	struct mmp_simple_ioremap *dev = pci_get_drvdata(pdev);
	struct mmp_simple_ioremap_file *f;

	/* No new opens once this returns; open files stay usable. */
	misc_deregister(&dev->misc);

	mutex_lock(&dev->lock);
	dev->gone = true;
	list_for_each_entry(f, &dev->files, node)
		unmap_mapping_range(f->file->f_mapping, 0, 0, 1);
	mutex_unlock(&dev->lock);

	/* pcim releases the BAR and disables the device after we return. */
	kref_put(&dev->ref, mmp_simple_ioremap_free);
}

static const struct pci_device_id mmp_simple_ioremap_ids[] = {
	{ PCI_DEVICE(0x1af4, 0x1110) }, /* QEMU ivshmem-plain */
	{}
};
MODULE_DEVICE_TABLE(pci, mmp_simple_ioremap_ids);

static struct pci_driver mmp_simple_ioremap_driver = {
	.name = "mmp_simple_ioremap",
	.id_table = mmp_simple_ioremap_ids,
	.probe = mmp_simple_ioremap_probe,
	.remove = mmp_simple_ioremap_remove,
};

static int __init mmp_simple_ioremap_init(void)
{
	int ret;

	if (bar >= PCI_STD_NUM_BARS) {
		pr_err("bar=%u out of range 0-%d\n", bar, PCI_STD_NUM_BARS - 1);
		return -EINVAL;
	}
	ret = pci_register_driver(&mmp_simple_ioremap_driver);
	if (!ret)
		pr_info("mmap path: " MMP_MMAP_PATH "\n");
	return ret;
}

static void __exit mmp_simple_ioremap_exit(void)
{
	pci_unregister_driver(&mmp_simple_ioremap_driver);
}

module_init(mmp_simple_ioremap_init);
module_exit(mmp_simple_ioremap_exit);

MODULE_DESCRIPTION("simple_ioremap of a PCI BAR, write-combined");
MODULE_LICENSE("GPL");
