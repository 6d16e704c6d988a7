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
 * the length fits the map (EINVAL otherwise) before calling ->mmap_prepare.
 * It still implements the legacy f_op->mmap itself and calls the hook
 * through the compatibility helpers, on a VMA that exists but is not yet
 * in the file's rmap tree.
 *
 * What you must still check yourself: MAP_PRIVATE (refuse), PROT_EXEC
 * (refuse, and clear VMA_MAYEXEC_BIT), the caching attribute (uncached),
 * and BARs that are not whole pages (do not export them: the mapping would
 * expose their neighbours). Unbinding is the hard part. The UIO core
 * leaves existing user mappings in place, and because the VMA only joins
 * the rmap tree after the UIO core's lock is dropped, remove() cannot zap
 * a mapping that is being created at that moment. So this driver names no
 * action and maps nothing at mmap() time: VM_IO | VM_PFNMAP with a ->fault
 * handler that inserts a BAR page only while the device is bound. remove()
 * marks the device gone, then zaps what exists; any later access, through
 * an old or a brand-new mapping, gets SIGBUS instead of reaching a BAR we
 * released. (vfio-pci maps BARs on fault for the same reason.)
 *
 * Legacy equivalent: uio_info->mmap (removed in 7.1), or no hook at all and
 * UIO_MEM_PHYS maps that the core remaps on its own.
 *
 * In-tree user of uio_info->mmap_prepare (7.3):
 * drivers/target/target_core_user.c.
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
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/uio_driver.h>

#include "mmp_compat.h"

struct mmp_uio;

/* What a VMA needs to find its pages: map M is BAR memory from start. */
struct mmp_uio_map {
	struct mmp_uio *u;
	phys_addr_t start;
	unsigned long pages;
	unsigned int index;
};

struct mmp_uio {
	struct uio_info info;
	struct mmp_uio_map maps[MAX_UIO_MAPS];
	struct rw_semaphore gone_lock; /* faults vs remove() */
	bool gone; /* unbound: no page may be mapped */
	struct mutex lock; /* protects inodes */
	struct list_head inodes; /* /dev/uioN inodes with open files */
	struct list_head retired; /* on mmp_uio_retired once unbound */
};

struct mmp_uio_inode {
	struct list_head node;
	struct inode *inode;
	unsigned int opens;
};

/*
 * Open files keep this module loaded (UIO holds the owner module per
 * file) but not our per-device state, and after unbinding UIO no longer
 * tells us when they close. Unbound devices therefore stay here, where
 * faults through old mappings can still find them, until module unload.
 */
static LIST_HEAD(mmp_uio_retired);
static DEFINE_MUTEX(mmp_uio_retired_lock);

static vm_fault_t mmp_uio_fault(struct vm_fault *vmf)
{
	const struct mmp_uio_map *map = vmf->vma->vm_private_data;
	/* The VMA starts at page offset M (UIO's map index), map page 0. */
	unsigned long page = vmf->pgoff - map->index;
	vm_fault_t ret = VM_FAULT_SIGBUS;

	down_read(&map->u->gone_lock);
	if (!map->u->gone && page < map->pages)
		ret = vmf_insert_pfn(vmf->vma, vmf->address,
				     PHYS_PFN(map->start) + page);
	up_read(&map->u->gone_lock);
	return ret;
}

static const struct vm_operations_struct mmp_uio_vm_ops = {
	.fault = mmp_uio_fault,
	/* Lets ptrace and /proc/PID/mem read the registers, as UIO does. */
	.access = generic_access_phys,
};

static int mmp_uio_mmap_prepare(struct uio_info *info,
				struct vm_area_desc *desc)
{
	struct mmp_uio *u = container_of(info, struct mmp_uio, info);

	if (vma_desc_is_cow_mapping(desc))
		return -EINVAL;
	if (vma_desc_test(desc, VMA_EXEC_BIT))
		return -EPERM;

	vma_desc_clear_flags(desc, VMA_MAYEXEC_BIT);
	/* What an I/O remap would set; the pages come from ->fault. */
	vma_desc_set_flags(desc, VMA_IO_BIT, VMA_PFNMAP_BIT, VMA_DONTEXPAND_BIT,
			   VMA_DONTDUMP_BIT);
	desc->page_prot = pgprot_noncached(desc->page_prot);
	desc->vm_ops = &mmp_uio_vm_ops;
	/* The UIO core has validated the map index. */
	desc->private_data = &u->maps[desc->pgoff];
	return 0;
}

MMP_DEFINE_UIO_MMAP_COMPAT(mmp_uio_mmap_prepare);

/*
 * User mappings hang off the inode the file was opened through; remember
 * each one (usually just /dev/uioN) while it has open files, so that
 * remove() can zap them.
 */
static struct mmp_uio_inode *mmp_uio_find(struct mmp_uio *u,
					  struct inode *inode)
{
	struct mmp_uio_inode *i;

	list_for_each_entry(i, &u->inodes, node)
		if (i->inode == inode)
			return i;
	return NULL;
}

static int mmp_uio_open(struct uio_info *info, struct inode *inode)
{
	struct mmp_uio *u = container_of(info, struct mmp_uio, info);
	struct mmp_uio_inode *i;
	int ret = 0;

	mutex_lock(&u->lock);
	i = mmp_uio_find(u, inode);
	if (!i) {
		i = kzalloc_obj(*i);
		if (!i) {
			ret = -ENOMEM;
			goto out;
		}
		ihold(inode);
		i->inode = inode;
		list_add(&i->node, &u->inodes);
	}
	i->opens++;
out:
	mutex_unlock(&u->lock);
	return ret;
}

static void mmp_uio_forget(struct mmp_uio_inode *i)
{
	list_del(&i->node);
	iput(i->inode);
	kfree(i);
}

/* Not called for files closed after uio_unregister_device(). */
static int mmp_uio_release(struct uio_info *info, struct inode *inode)
{
	struct mmp_uio *u = container_of(info, struct mmp_uio, info);
	struct mmp_uio_inode *i;

	mutex_lock(&u->lock);
	i = mmp_uio_find(u, inode);
	if (i && !--i->opens)
		mmp_uio_forget(i);
	mutex_unlock(&u->lock);
	return 0;
}

static int mmp_uio_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct mmp_uio *u;
	int bar, n = 0, ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	/* Not devm: faults through old mappings may look at it after unbind. */
	u = kzalloc_obj(*u);
	if (!u)
		return -ENOMEM;
	init_rwsem(&u->gone_lock);
	mutex_init(&u->lock);
	INIT_LIST_HEAD(&u->inodes);

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
			goto err_free;
		mem = &u->info.mem[n];
		mem->name =
			devm_kasprintf(&pdev->dev, GFP_KERNEL, "BAR%d", bar);
		if (!mem->name) {
			ret = -ENOMEM;
			goto err_free;
		}
		mem->addr = start;
		mem->size = len;
		mem->memtype = UIO_MEM_PHYS;
		u->maps[n].u = u;
		u->maps[n].start = start;
		u->maps[n].pages = len >> PAGE_SHIFT;
		u->maps[n].index = n;
		n++;
	}
	if (!n) {
		dev_err(&pdev->dev, "no memory BAR to export\n");
		ret = -ENODEV;
		goto err_free;
	}

	u->info.name = "mmp_uio";
	u->info.version = "1";
	u->info.irq = UIO_IRQ_NONE;
	MMP_UIO_SET_MMAP_PREPARE(&u->info, mmp_uio_mmap_prepare);
	u->info.open = mmp_uio_open;
	u->info.release = mmp_uio_release;
	/* Not devm: remove() must unregister before it zaps. */
	ret = uio_register_device(&pdev->dev, &u->info);
	if (ret)
		goto err_free;
	pci_set_drvdata(pdev, u);
	dev_info(&pdev->dev, "%d memory BAR(s) as UIO maps\n", n);
	return 0;

err_free:
	kfree(u);
	return ret;
}

static void mmp_uio_remove(struct pci_dev *pdev)
{
	struct mmp_uio *u = pci_get_drvdata(pdev);
	struct mmp_uio_inode *i, *tmp;

	/* No new opens or mmaps; files already open stay open. */
	uio_unregister_device(&u->info);

	/* Faults from now on get SIGBUS ... */
	down_write(&u->gone_lock);
	u->gone = true;
	up_write(&u->gone_lock);

	/* ... and the pages faults mapped before go away. */
	mutex_lock(&u->lock);
	list_for_each_entry_safe(i, tmp, &u->inodes, node) {
		unmap_mapping_range(i->inode->i_mapping, 0, 0, 1);
		mmp_uio_forget(i);
	}
	mutex_unlock(&u->lock);

	mutex_lock(&mmp_uio_retired_lock);
	list_add(&u->retired, &mmp_uio_retired);
	mutex_unlock(&mmp_uio_retired_lock);
}

/* Empty on purpose: bind with driver_override or new_id. */
static const struct pci_device_id mmp_uio_ids[] = { {} };

static struct pci_driver mmp_uio_driver = {
	.name = "mmp_uio",
	.id_table = mmp_uio_ids,
	.probe = mmp_uio_probe,
	.remove = mmp_uio_remove,
};

static int __init mmp_uio_init(void)
{
	int ret = pci_register_driver(&mmp_uio_driver);

	if (!ret)
		pr_info("mmap path: " MMP_UIO_MMAP_PATH "\n");
	return ret;
}

static void __exit mmp_uio_exit(void)
{
	struct mmp_uio *u, *tmp;

	pci_unregister_driver(&mmp_uio_driver);
	/* Every UIO file pinned this module: no mapping is left. */
	list_for_each_entry_safe(u, tmp, &mmp_uio_retired, retired)
		kfree(u);
}

module_init(mmp_uio_init);
module_exit(mmp_uio_exit);

MODULE_DESCRIPTION("UIO maps of PCI BARs through uio_info->mmap_prepare");
MODULE_LICENSE("GPL");
