// SPDX-License-Identifier: GPL-2.0
/*
 * mmp_refcount - keep a per-device object alive for as long as any VMA maps
 * it, with vm_ops->mapped, ->open and ->close.
 *
 * What it is for: drivers whose mappings depend on state that must outlive
 * close(fd): a ring shared with hardware, a context a GPU is still using,
 * pages the driver must not free while userspace can see them (the class
 * of CVE-2024-0582, io_uring buffer rings freed while mapped).
 *
 * When to choose it: whenever a mapping needs a reference of its own. The
 * file reference a VMA holds keeps the file and module alive, not your
 * object, and one file can back many VMAs.
 *
 * What the kernel does for you, and when each hook runs:
 *  - ->mapped(): once, for a new VMA, after it is fully set up and any
 *    mmap action has completed. Its vm_private_data argument sets
 *    vma->vm_private_data. It is not called when the new range merges
 *    into an existing VMA (the existing VMA already holds a reference).
 *    Failing it unmaps the VMA and makes mmap() return the error.
 *  - ->open(): for each VMA created by copying another: split (partial
 *    munmap or mprotect), fork, mremap. The copy inherits vm_private_data.
 *  - ->close(): for each VMA that goes away, including the VMA whose
 *    ->mapped() failed. A driver that takes its reference in ->mapped()
 *    must therefore record success (here: vm_private_data is only set on
 *    success) and drop only what it took.
 *
 * What you must still check yourself: the offset and length (ENXIO here,
 * and again in ->fault, since mremap() may grow a mapping that is not
 * VM_DONTEXPAND), MAP_PRIVATE (refused: these are the driver's pages) and
 * PROT_EXEC. A VMA with a ->close() hook is never removed by a merge, so
 * references cannot be lost that way; a merge that only extends a VMA
 * leaves the count of VMAs, and of references, unchanged. Mappings with an
 * action, or with VM_IO, VM_PFNMAP, VM_MIXEDMAP or VM_DONTEXPAND, never
 * merge.
 *
 * Legacy equivalent: f_op->mmap taking the reference on the half-built VMA
 * (and undoing it if a later step fails) plus ->open and ->close.
 *
 * In-tree users of ->mapped (7.3): fs/afs/file.c,
 * drivers/hwtracing/stm/core.c, drivers/staging/vme_user/vme_user.c and,
 * through UIO's legacy ->mmap, drivers/target/target_core_user.c. On that
 * compatibility path a failing ->mapped() does not lead to ->close().
 *
 * Device: /dev/mmp-refcount, nr_pages pages served by ->fault. Counters in
 * /sys/kernel/debug/mmp_refcount/: vmas (references held by VMAs now),
 * mapped, mapped_failed, opens, closes (totals), and fail_mapped: a
 * positive errno that makes ->mapped() fail with it, for tests.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/error-injection.h>
#include <linux/highmem.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "mmp_compat.h"

#define MMP_MAX_PAGES 1024

static unsigned int nr_pages = 16;
module_param(nr_pages, uint, 0444);
MODULE_PARM_DESC(nr_pages, "Buffer size in pages (1-1024, default 16)");

/* The object the mappings keep alive: the buffer and its users. */
struct mmp_refcount_obj {
	struct kref ref; /* one for the device, one per VMA */
	struct page **pages;
};

static struct mmp_refcount_obj *mmp_obj;
static struct dentry *mmp_debugfs;
static atomic_t mapped, mapped_failed, opens, closes;
static u32 fail_mapped;

static void mmp_obj_release(struct kref *ref)
{
	struct mmp_refcount_obj *obj =
		container_of(ref, struct mmp_refcount_obj, ref);
	unsigned int i;

	for (i = 0; i < nr_pages; i++)
		if (obj->pages[i])
			__free_page(obj->pages[i]);
	kfree(obj->pages);
	kfree(obj);
}

/*
 * The one driver hook that runs after the VMA exists. Kernels with
 * CONFIG_FAIL_FUNCTION can make it fail from debugfs to test the unwinding
 * (the kernel unmaps the VMA and calls ->close(), with no reference taken):
 * hence ALLOW_ERROR_INJECTION, and noinline so that the probe finds it.
 */
static noinline int mmp_refcount_mapped(unsigned long start, unsigned long end,
					pgoff_t pgoff, const struct file *file,
					void **vm_private_data)
{
	u32 err = READ_ONCE(fail_mapped);

	if (err) {
		atomic_inc(&mapped_failed);
		return err <= MAX_ERRNO ? -(int)err : -EINVAL;
	}
	kref_get(&mmp_obj->ref);
	*vm_private_data = mmp_obj;
	atomic_inc(&mapped);
	return 0;
}
ALLOW_ERROR_INJECTION(mmp_refcount_mapped, ERRNO);

static void mmp_refcount_open(struct vm_area_struct *vma)
{
	struct mmp_refcount_obj *obj = vma->vm_private_data;

	atomic_inc(&opens);
	if (obj)
		kref_get(&obj->ref);
}

static void mmp_refcount_close(struct vm_area_struct *vma)
{
	struct mmp_refcount_obj *obj = vma->vm_private_data;

	atomic_inc(&closes);
	/* NULL: ->mapped() failed for this VMA and took no reference. */
	if (obj)
		kref_put(&obj->ref, mmp_obj_release);
}

static vm_fault_t mmp_refcount_fault(struct vm_fault *vmf)
{
	struct mmp_refcount_obj *obj = vmf->vma->vm_private_data;
	struct page *page;

	if (!obj || vmf->pgoff >= nr_pages)
		return VM_FAULT_SIGBUS;
	page = obj->pages[vmf->pgoff];
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct mmp_refcount_vm_ops = {
	.open = mmp_refcount_open,
	.close = mmp_refcount_close,
	.fault = mmp_refcount_fault,
	MMP_VM_OPS_MAPPED(mmp_refcount_mapped)
};

static int mmp_refcount_mmap_prepare(struct vm_area_desc *desc)
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
	/*
	 * No action and no VM_DONTEXPAND (either would rule out merging):
	 * pages come from ->fault, which bounds every access itself.
	 */
	desc->vm_ops = &mmp_refcount_vm_ops;
	return 0;
}

MMP_DEFINE_MMAP_COMPAT(mmp_refcount_mmap_prepare, mmp_refcount_mapped);

static const struct file_operations mmp_refcount_fops = {
	.owner = THIS_MODULE,
	MMP_MMAP_PREPARE(mmp_refcount_mmap_prepare)
};

static struct miscdevice mmp_refcount_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mmp-refcount",
	.fops = &mmp_refcount_fops,
	.mode = 0600,
};

static int mmp_vmas_get(void *data, u64 *val)
{
	/* The device holds one reference; the rest belong to VMAs. */
	*val = kref_read(&mmp_obj->ref) - 1;
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(mmp_vmas_fops, mmp_vmas_get, NULL, "%llu\n");

static struct mmp_refcount_obj *mmp_obj_alloc(void)
{
	struct mmp_refcount_obj *obj = kzalloc_obj(*obj);
	unsigned int i;
	size_t o;

	if (!obj)
		return NULL;
	kref_init(&obj->ref);
	obj->pages = kzalloc_objs(*obj->pages, nr_pages);
	if (!obj->pages)
		goto err;
	for (i = 0; i < nr_pages; i++) {
		u8 *p;

		obj->pages[i] = alloc_page(GFP_KERNEL);
		if (!obj->pages[i])
			goto err;
		p = kmap_local_page(obj->pages[i]);
		for (o = 0; o < PAGE_SIZE; o++)
			p[o] = o ^ ((i * 0x3b) & 0xff);
		kunmap_local(p);
	}
	return obj;
err:
	if (obj->pages)
		kref_put(&obj->ref, mmp_obj_release);
	else
		kfree(obj);
	return NULL;
}

static int __init mmp_refcount_init(void)
{
	int ret;

	if (!nr_pages || nr_pages > MMP_MAX_PAGES) {
		pr_err("nr_pages=%u out of range 1-%u\n", nr_pages,
		       MMP_MAX_PAGES);
		return -EINVAL;
	}
	mmp_obj = mmp_obj_alloc();
	if (!mmp_obj)
		return -ENOMEM;

	mmp_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("vmas", 0400, mmp_debugfs, NULL, &mmp_vmas_fops);
	debugfs_create_atomic_t("mapped", 0400, mmp_debugfs, &mapped);
	debugfs_create_atomic_t("mapped_failed", 0400, mmp_debugfs,
				&mapped_failed);
	debugfs_create_atomic_t("opens", 0400, mmp_debugfs, &opens);
	debugfs_create_atomic_t("closes", 0400, mmp_debugfs, &closes);
	debugfs_create_u32("fail_mapped", 0600, mmp_debugfs, &fail_mapped);

	ret = misc_register(&mmp_refcount_dev);
	if (ret) {
		debugfs_remove(mmp_debugfs);
		kref_put(&mmp_obj->ref, mmp_obj_release);
		return ret;
	}
	pr_info("%u pages: /dev/%s, refcounted through vm_ops->mapped/open/close\n",
		nr_pages, mmp_refcount_dev.name);
	pr_info("mmap path: " MMP_MMAP_PATH "\n");
	return 0;
}

static void __exit mmp_refcount_exit(void)
{
	misc_deregister(&mmp_refcount_dev);
	debugfs_remove(mmp_debugfs);
	/* Every VMA pinned this module, so this is the last reference. */
	WARN_ON(kref_read(&mmp_obj->ref) != 1);
	kref_put(&mmp_obj->ref, mmp_obj_release);
}

module_init(mmp_refcount_init);
module_exit(mmp_refcount_exit);

MODULE_DESCRIPTION("Refcounted mappings: vm_ops->mapped, ->open, ->close");
MODULE_LICENSE("GPL");
