// SPDX-License-Identifier: GPL-2.0
/*
 * mmp_uio - a UIO driver exporting a PCI device's memory BARs through
 * uio_info->mmap_prepare.
 *
 * What it is for: a userspace driver (DPDK-style, a test rig, a prototype)
 * that needs a device's registers and nothing else from the kernel. UIO
 * provides /dev/uioN and the sysfs description of the maps; the driver only
 * fills in uio_info.
 *
 * When to choose it: when the userspace program owns the device protocol.
 * If the kernel driver keeps the device and only lends userspace a window,
 * write a driver with its own node instead (mmp_ioremap.c).
 *
 * How userspace finds the maps: /sys/class/uio/uioN/maps/mapM/{name,addr,
 * size,offset}; mmap() of /dev/uioN at offset M * page size maps map M, so
 * desc->pgoff in ->mmap_prepare is the map index, not a page offset.
 *
 * What the kernel does for you: the UIO core checks the map index and that
 * the length fits the map (EINVAL otherwise) before calling ->mmap_prepare,
 * and holds its info lock across the mmap, so uio_unregister_device() waits
 * for mmaps in flight. The I/O remap action then maps the BAR with VM_IO,
 * VM_PFNMAP, VM_DONTEXPAND and VM_DONTDUMP.
 *
 * What you must still check yourself: MAP_PRIVATE (refuse), PROT_EXEC
 * (refuse, and clear VMA_MAYEXEC_BIT), the caching attribute (uncached, set
 * before naming the action), and BARs that are not whole pages (do not
 * export them: the mapping would expose their neighbours). On unbind the
 * UIO core leaves existing user mappings in place: remove() zaps them, so
 * an old mapping faults (SIGBUS) instead of reaching a device we released.
 *
 * Legacy equivalent: uio_info->mmap (removed in 7.1), or no hook at all and
 * UIO_MEM_PHYS maps that the core remaps on its own.
 *
 * In-tree user (7.3): drivers/uio/uio_hv_generic.c (ring buffers through
 * a simple_ioremap action).
 *
 * Binding: no device ID table, so it binds only what it is told to, through
 * driver_override or new_id (see README).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uio_driver.h>

struct mmp_uio {
	struct uio_info info;
	struct mutex lock; /* protects inodes */
	struct list_head inodes; /* /dev/uioN inodes opened so far */
};

struct mmp_uio_inode {
	struct list_head node;
	struct inode *inode;
};

static int mmp_uio_mmap_prepare(struct uio_info *info,
				struct vm_area_desc *desc)
{
	/* The UIO core has validated the index and the length. */
	const struct uio_mem *mem = &info->mem[desc->pgoff];

	if (vma_desc_is_cow_mapping(desc))
		return -EINVAL;
	if (vma_desc_test(desc, VMA_EXEC_BIT))
		return -EPERM;

	vma_desc_clear_flags(desc, VMA_MAYEXEC_BIT);
	desc->page_prot = pgprot_noncached(desc->page_prot);
	mmap_action_ioremap_full(desc, PHYS_PFN(mem->addr));
	return 0;
}

/*
 * User mappings hang off the inode the file was opened through; remember
 * each one (usually just /dev/uioN) so that remove() can zap them.
 */
static int mmp_uio_open(struct uio_info *info, struct inode *inode)
{
	struct mmp_uio *u = container_of(info, struct mmp_uio, info);
	struct mmp_uio_inode *i;
	int ret = 0;

	mutex_lock(&u->lock);
	list_for_each_entry(i, &u->inodes, node)
		if (i->inode == inode)
			goto out;
	i = kzalloc_obj(*i);
	if (!i) {
		ret = -ENOMEM;
		goto out;
	}
	ihold(inode);
	i->inode = inode;
	list_add(&i->node, &u->inodes);
out:
	mutex_unlock(&u->lock);
	return ret;
}

static int mmp_uio_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct mmp_uio *u;
	int bar, n = 0, ret;

	u = devm_kzalloc(&pdev->dev, sizeof(*u), GFP_KERNEL);
	if (!u)
		return -ENOMEM;
	mutex_init(&u->lock);
	INIT_LIST_HEAD(&u->inodes);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;

	for (bar = 0; bar < PCI_STD_NUM_BARS && n < MAX_UIO_MAPS; bar++) {
		resource_size_t start = pci_resource_start(pdev, bar);
		resource_size_t len = pci_resource_len(pdev, bar);
		struct uio_mem *mem;

		if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) || !len)
			continue;
		if (!PAGE_ALIGNED(start) || len < PAGE_SIZE) {
			dev_info(&pdev->dev, "BAR%d: not whole pages\n", bar);
			continue;
		}
		ret = pcim_request_region(pdev, bar, KBUILD_MODNAME);
		if (ret)
			return ret;
		mem = &u->info.mem[n++];
		mem->name =
			devm_kasprintf(&pdev->dev, GFP_KERNEL, "BAR%d", bar);
		if (!mem->name)
			return -ENOMEM;
		mem->addr = start;
		mem->size = len;
		mem->memtype = UIO_MEM_PHYS;
	}
	if (!n) {
		dev_err(&pdev->dev, "no memory BAR to export\n");
		return -ENODEV;
	}

	u->info.name = "mmp_uio";
	u->info.version = "1";
	u->info.irq = UIO_IRQ_NONE;
	u->info.mmap_prepare = mmp_uio_mmap_prepare;
	u->info.open = mmp_uio_open;
	/* Not devm: remove() must unregister before it zaps. */
	ret = uio_register_device(&pdev->dev, &u->info);
	if (ret)
		return ret;
	pci_set_drvdata(pdev, u);
	dev_info(&pdev->dev, "%d memory BAR(s) as UIO maps\n", n);
	return 0;
}

static void mmp_uio_remove(struct pci_dev *pdev)
{
	struct mmp_uio *u = pci_get_drvdata(pdev);
	struct mmp_uio_inode *i, *tmp;

	/* Waits for mmaps in flight; later ones fail in the UIO core. */
	uio_unregister_device(&u->info);

	mutex_lock(&u->lock);
	list_for_each_entry_safe(i, tmp, &u->inodes, node) {
		unmap_mapping_range(i->inode->i_mapping, 0, 0, 1);
		iput(i->inode);
		kfree(i);
	}
	mutex_unlock(&u->lock);
}

/* Empty on purpose: bind with driver_override or new_id. */
static const struct pci_device_id mmp_uio_ids[] = { {} };

static struct pci_driver mmp_uio_driver = {
	.name = "mmp_uio",
	.id_table = mmp_uio_ids,
	.probe = mmp_uio_probe,
	.remove = mmp_uio_remove,
};
module_pci_driver(mmp_uio_driver);

MODULE_DESCRIPTION("UIO maps of PCI BARs through uio_info->mmap_prepare");
MODULE_LICENSE("GPL");
