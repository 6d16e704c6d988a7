/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmp_compat.h - the one place where the drivers meet older kernels.
 *
 * The drivers are written against the newest upstream API. Kbuild's
 * compile probes (drivers/compat/probes/, results in the generated
 * mmp_probes.h) say which pieces this kernel has; this header fills in the
 * small ones it lacks. Nothing here tests a version number.
 */
#ifndef MMP_COMPAT_H
#define MMP_COMPAT_H

#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/namei.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "mmp_probes.h"

#ifdef MMP_HAVE_BACKING_FILE_MMAP
#include <linux/backing-file.h>
#endif

#ifndef MMP_HAVE_MNT_IDMAP
/* Before idmaps (6.3), the VFS took the mount's user namespace instead. */
#include <linux/user_namespace.h>
#define mnt_idmap user_namespace
#define nop_mnt_idmap init_user_ns
#endif

#ifndef MMP_HAVE_SHMEM_KERNEL_FILE_SETUP
/*
 * Not exported to modules here: the variant with the LSM hooks stands in,
 * so the file is labelled and checked like any other, where the kernel's
 * own /dev/zero skips that (S_PRIVATE).
 */
#define shmem_kernel_file_setup shmem_file_setup
#endif

#ifndef MMP_HAVE_VM_FLAGS_SET
/* Before the VMA flag helpers, vm_flags was written directly. */
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}

static inline void vm_flags_mod(struct vm_area_struct *vma, vm_flags_t set,
				vm_flags_t clear)
{
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
}
#endif

#ifndef MMP_HAVE_KZALLOC_OBJ
#define kzalloc_obj(obj) kzalloc(sizeof(obj), GFP_KERNEL)
#define kzalloc_objs(obj, n) kcalloc(n, sizeof(obj), GFP_KERNEL)
#endif

#ifndef MMP_HAVE_PCIM_REQUEST_REGION
/*
 * The managed claim of one BAR, as pci_request_region() makes it. Not
 * pcim_iomap_regions(): its ioremap() would fix the BAR's PAT memory
 * type at uncached, and a later write-combining user mapping with it.
 */
static inline int pcim_request_region(struct pci_dev *pdev, int bar,
				      const char *name)
{
	resource_size_t start, len;
	unsigned long flags;
	struct resource *res;

	if (bar < 0 || bar >= PCI_STD_NUM_BARS)
		return -EINVAL;
	start = pci_resource_start(pdev, bar);
	len = pci_resource_len(pdev, bar);
	flags = pci_resource_flags(pdev, bar);
	if (!len)
		return 0; /* nothing to claim */
	if (flags & IORESOURCE_IO)
		res = devm_request_region(&pdev->dev, start, len, name);
	else if (flags & IORESOURCE_MEM)
		res = devm_request_mem_region(&pdev->dev, start, len, name);
	else
		return 0;
	return res ? 0 : -EBUSY;
}
#endif

#ifndef MMP_HAVE_VMA_IS_COW_MAPPING
/* 7.3 named it; the test itself is older. */
static inline bool vma_is_cow_mapping(const struct vm_area_struct *vma)
{
	return is_cow_mapping(vma->vm_flags);
}
#endif

/*
 * The native path needs every piece of the 7.2 API the drivers use. A
 * kernel that lacks any (before 6.16 all of them; 6.16 to 7.1 some, such
 * as the actions or ->mapped, which no header can add) takes the compat
 * path: the drivers' ->mmap_prepare still runs, called from a legacy
 * ->mmap on a descriptor built from the VMA, and whatever it describes
 * (flags, vm_ops, vm_file, an action, ->mapped) is then applied to the
 * VMA the way the 7.x core would. The compat path brings its own
 * descriptor type and helpers, under private names, so that it never
 * clashes with the half of the API such a kernel has; the pieces that
 * concern other files (their ->mmap_prepare, vfs_mmap()) are the kernel's.
 *
 * In a driver: MMP_MMAP_PREPARE(fn) last in the file_operations
 * initializer, MMP_VM_OPS_MAPPED(fn) last in a vm_operations_struct, and
 * one MMP_DEFINE_MMAP_COMPAT(prepare, mapped); after both functions
 * (mapped may be NULL). Natively the last only checks their types.
 */
typedef int (*mmp_mapped_fn)(unsigned long start, unsigned long end,
			     pgoff_t pgoff, const struct file *file,
			     void **vm_private_data);

#if defined(MMP_HAVE_MMAP_PREPARE) && defined(MMP_HAVE_DESC_VM_FILE) &&        \
	defined(MMP_HAVE_DESC_VMA_FLAGS) && defined(MMP_HAVE_VMA_FLAG_BITS) && \
	defined(MMP_HAVE_VMA_DESC_SET_FLAGS) &&                                \
	defined(MMP_HAVE_VMA_DESC_TEST) && defined(MMP_HAVE_VMA_DESC_SIZE) &&  \
	defined(MMP_HAVE_VMA_DESC_IS_COW_MAPPING) &&                           \
	defined(MMP_HAVE_VMA_DESC_SET_ANONYMOUS) &&                            \
	defined(MMP_HAVE_MMAP_ACTION_REMAP) &&                                 \
	defined(MMP_HAVE_MMAP_ACTION_IOREMAP) &&                               \
	defined(MMP_HAVE_MMAP_ACTION_SIMPLE_IOREMAP) &&                        \
	defined(MMP_HAVE_MMAP_ACTION_MAP_KERNEL_PAGES) &&                      \
	defined(MMP_HAVE_ACTION_ERROR_OVERRIDE) &&                             \
	defined(MMP_HAVE_VM_OPS_MAPPED) && defined(MMP_HAVE_VFS_MMAP_PREPARE)
#define MMP_NATIVE 1
#endif

#ifdef MMP_NATIVE
#define MMP_MMAP_PREPARE(fn) .mmap_prepare = (fn),
#define MMP_DEFINE_MMAP_COMPAT(prepare, mapped)                            \
	static_assert(                                                     \
		__same_type(&(prepare), int (*)(struct vm_area_desc *)) && \
		sizeof(1 ? (mapped) : NULL))
#else
#define MMP_MMAP_PREPARE(fn) .mmap = fn##_mmp_compat,
#define MMP_DEFINE_MMAP_COMPAT(prepare, mapped)                     \
	static int prepare##_mmp_compat(struct file *file,          \
					struct vm_area_struct *vma) \
	{                                                           \
		return mmp_compat_mmap(file, vma, prepare, mapped); \
	}                                                           \
	static_assert(1)
#endif

/* Whether another file describes its mappings with ->mmap_prepare. */
static inline bool mmp_has_mmap_prepare(const struct file *file)
{
#ifdef MMP_HAVE_MMAP_PREPARE
	return file->f_op->mmap_prepare;
#else
	return false;
#endif
}

/* Map @file into @vma with the kernel's own means, either hook. */
static inline int mmp_call_mmap(struct file *file, struct vm_area_struct *vma)
{
#ifdef MMP_HAVE_VFS_MMAP
	return vfs_mmap(file, vma);
#else
	return call_mmap(file, vma);
#endif
}

/* On the compat path, the adapter calls ->mapped itself. */
#ifdef MMP_NATIVE
#define MMP_VM_OPS_MAPPED(fn) .mapped = (fn),
#else
#define MMP_VM_OPS_MAPPED(fn)
#endif

#ifndef MMP_HAVE_VMA_FLAG_BITS
/* The VM_* flags as bit numbers, as 7.x names them. */
enum {
	VMA_READ_BIT = 0,
	VMA_WRITE_BIT = 1,
	VMA_EXEC_BIT = 2,
	VMA_SHARED_BIT = 3,
	VMA_MAYREAD_BIT = 4,
	VMA_MAYWRITE_BIT = 5,
	VMA_MAYEXEC_BIT = 6,
	VMA_MAYSHARE_BIT = 7,
	VMA_PFNMAP_BIT = 10,
	VMA_IO_BIT = 14,
	VMA_DONTEXPAND_BIT = 18,
	VMA_DONTDUMP_BIT = 26,
	VMA_MIXEDMAP_BIT = 28,
};

static_assert(BIT(VMA_READ_BIT) == VM_READ && BIT(VMA_WRITE_BIT) == VM_WRITE &&
	      BIT(VMA_EXEC_BIT) == VM_EXEC &&
	      BIT(VMA_SHARED_BIT) == VM_SHARED &&
	      BIT(VMA_MAYREAD_BIT) == VM_MAYREAD &&
	      BIT(VMA_MAYWRITE_BIT) == VM_MAYWRITE &&
	      BIT(VMA_MAYEXEC_BIT) == VM_MAYEXEC &&
	      BIT(VMA_MAYSHARE_BIT) == VM_MAYSHARE &&
	      BIT(VMA_PFNMAP_BIT) == VM_PFNMAP && BIT(VMA_IO_BIT) == VM_IO &&
	      BIT(VMA_DONTEXPAND_BIT) == VM_DONTEXPAND &&
	      BIT(VMA_DONTDUMP_BIT) == VM_DONTDUMP &&
	      BIT(VMA_MIXEDMAP_BIT) == VM_MIXEDMAP);
#endif

#ifndef MMP_NATIVE

struct mmp_vma_flags {
	unsigned long __vma_flags;
};

enum mmp_mmap_action_type {
	MMP_MMAP_NOTHING,
	MMP_MMAP_REMAP_PFN,
	MMP_MMAP_IO_REMAP_PFN,
	MMP_MMAP_SIMPLE_IO_REMAP,
	MMP_MMAP_MAP_KERNEL_PAGES,
};

struct mmp_mmap_action {
	enum mmp_mmap_action_type type;
	struct file *mmap_file; /* compat only: a file to ->mmap afterwards */
	unsigned long pfn;
	pgprot_t prot; /* as page_prot was when the remap was named */
	phys_addr_t phys;
	unsigned long size;
	struct page **pages;
	int error_override;
};

struct mmp_vm_area_desc {
	struct mm_struct *mm;
	struct file *file;
	unsigned long start;
	unsigned long end;
	pgoff_t pgoff;
	struct file *vm_file;
	struct mmp_vma_flags vma_flags;
	pgprot_t page_prot;
	const struct vm_operations_struct *vm_ops;
	void *private_data;
	struct mmp_mmap_action action;
};

#ifdef MMP_HAVE_UIO_MMAP_PREPARE
/*
 * A UIO core with only ->mmap_prepare, in a kernel that sends the drivers
 * down the compat path (7.1 has no error_override): the driver's hook runs
 * on a compat descriptor copied from the kernel's, and what a UIO driver
 * may describe is copied back. An action or another file cannot cross.
 * One UIO driver per file: its hook waits in mmp_compat_uio_fn.
 */
#ifdef MMP_HAVE_DESC_VMA_FLAGS
#define mmp_kdesc_flags(kdesc) ((kdesc)->vma_flags.__vma_flags[0])
#else
#define mmp_kdesc_flags(kdesc) ((kdesc)->vm_flags)
#endif

struct uio_info;
static int (*mmp_compat_uio_fn)(struct uio_info *info,
				struct mmp_vm_area_desc *desc) __maybe_unused;

static inline int mmp_compat_uio_bridge(struct uio_info *info,
					struct vm_area_desc *kdesc)
{
	struct mmp_vm_area_desc desc = {
		.mm = kdesc->mm,
		.file = kdesc->file,
		.start = kdesc->start,
		.end = kdesc->end,
		.pgoff = kdesc->pgoff,
		.vm_file = kdesc->vm_file,
		.vma_flags = { mmp_kdesc_flags(kdesc) },
		.page_prot = kdesc->page_prot,
		.vm_ops = kdesc->vm_ops,
		.private_data = kdesc->private_data,
	};
	int err = mmp_compat_uio_fn(info, &desc);

	if (err)
		return err;
	if (desc.action.type != MMP_MMAP_NOTHING || desc.action.mmap_file ||
	    desc.vm_file != kdesc->vm_file)
		return -EINVAL;
	kdesc->pgoff = desc.pgoff;
	mmp_kdesc_flags(kdesc) = desc.vma_flags.__vma_flags;
	kdesc->page_prot = desc.page_prot;
	kdesc->vm_ops = desc.vm_ops;
	kdesc->private_data = desc.private_data;
	return 0;
}
#endif

/*
 * The driver-facing names, bound to the compat path's own versions (some
 * kernels have macros of these names).
 */
#undef vm_area_desc
#define vm_area_desc mmp_vm_area_desc
#undef mmap_action
#define mmap_action mmp_mmap_action
#undef vma_desc_size
#define vma_desc_size mmp_vma_desc_size
#undef vma_desc_pages
#define vma_desc_pages mmp_vma_desc_pages
#undef vma_desc_test
#define vma_desc_test mmp_vma_desc_test
#undef vma_desc_is_cow_mapping
#define vma_desc_is_cow_mapping mmp_vma_desc_is_cow_mapping
#undef vma_desc_set_anonymous
#define vma_desc_set_anonymous mmp_vma_desc_set_anonymous
#undef mmap_action_remap_full
#define mmap_action_remap_full mmp_mmap_action_remap_full
#undef mmap_action_ioremap_full
#define mmap_action_ioremap_full mmp_mmap_action_ioremap_full
#undef mmap_action_simple_ioremap
#define mmap_action_simple_ioremap mmp_mmap_action_simple_ioremap
#undef mmap_action_map_kernel_pages_full
#define mmap_action_map_kernel_pages_full mmp_mmap_action_map_kernel_pages_full
#undef vfs_mmap_prepare
#define vfs_mmap_prepare mmp_vfs_mmap_prepare

static inline unsigned long vma_desc_size(const struct vm_area_desc *desc)
{
	return desc->end - desc->start;
}

static inline unsigned long vma_desc_pages(const struct vm_area_desc *desc)
{
	return vma_desc_size(desc) >> PAGE_SHIFT;
}

static inline bool vma_desc_test(const struct vm_area_desc *desc, int bit)
{
	return desc->vma_flags.__vma_flags & BIT(bit);
}

static inline unsigned long mmp_compat_mask(const int *bits, int n)
{
	unsigned long mask = 0;

	while (n--)
		mask |= BIT(bits[n]);
	return mask;
}

#define mmp_compat_bits(...)                          \
	mmp_compat_mask((const int[]){ __VA_ARGS__ }, \
			sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int))
/* Macros in the kernels that have them, too. */
#undef vma_desc_set_flags
#undef vma_desc_clear_flags
#define vma_desc_set_flags(desc, ...) \
	((desc)->vma_flags.__vma_flags |= mmp_compat_bits(__VA_ARGS__))
#define vma_desc_clear_flags(desc, ...) \
	((desc)->vma_flags.__vma_flags &= ~mmp_compat_bits(__VA_ARGS__))

static inline bool vma_desc_is_cow_mapping(const struct vm_area_desc *desc)
{
	return is_cow_mapping(desc->vma_flags.__vma_flags);
}

static inline void vma_desc_set_anonymous(struct vm_area_desc *desc)
{
	desc->vm_ops = NULL;
}

static inline void mmap_action_remap_full(struct vm_area_desc *desc,
					  unsigned long pfn)
{
	desc->action.type = MMP_MMAP_REMAP_PFN;
	desc->action.prot = desc->page_prot;
	desc->action.pfn = pfn;
}

static inline void mmap_action_ioremap_full(struct vm_area_desc *desc,
					    unsigned long pfn)
{
	desc->action.type = MMP_MMAP_IO_REMAP_PFN;
	desc->action.prot = desc->page_prot;
	desc->action.pfn = pfn;
}

static inline void mmap_action_simple_ioremap(struct vm_area_desc *desc,
					      phys_addr_t phys,
					      unsigned long size)
{
	desc->action.type = MMP_MMAP_SIMPLE_IO_REMAP;
	desc->action.phys = phys;
	desc->action.size = size;
}

static inline void mmap_action_map_kernel_pages_full(struct vm_area_desc *desc,
						     struct page **pages)
{
	desc->action.type = MMP_MMAP_MAP_KERNEL_PAGES;
	desc->action.pages = pages;
	/* As the 7.x action: the VMA holds pages, not PFNs. */
	vma_desc_set_flags(desc, VMA_MIXEDMAP_BIT);
}

static inline int mmp_compat_action(struct vm_area_struct *vma,
				    struct mmap_action *action)
{
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long nr = len >> PAGE_SHIFT;

	switch (action->type) {
	case MMP_MMAP_REMAP_PFN:
		return remap_pfn_range(vma, vma->vm_start, action->pfn, len,
				       action->prot);
	case MMP_MMAP_IO_REMAP_PFN:
		return io_remap_pfn_range(vma, vma->vm_start, action->pfn, len,
					  action->prot);
	case MMP_MMAP_SIMPLE_IO_REMAP:
		return vm_iomap_memory(vma, action->phys, action->size);
	case MMP_MMAP_MAP_KERNEL_PAGES:
		return vm_insert_pages(vma, vma->vm_start, action->pages, &nr);
	default:
		return 0;
	}
}

static inline void mmp_compat_desc_init(struct vm_area_desc *desc,
					struct file *file,
					struct vm_area_struct *vma)
{
	*desc = (struct vm_area_desc){
		.mm = vma->vm_mm,
		.file = file,
		.start = vma->vm_start,
		.end = vma->vm_end,
		.pgoff = vma->vm_pgoff,
		.vm_file = vma->vm_file,
		.vma_flags = { vma->vm_flags },
		.page_prot = vma->vm_page_prot,
		.vm_ops = vma->vm_ops,
		.private_data = vma->vm_private_data,
	};
}

/*
 * Apply what ->mmap_prepare described to the VMA, as the 7.x core would.
 * A failure after that is undone as the core undoes it: ->close runs, then
 * the caller's error makes the core unmap the VMA.
 */
static inline int mmp_compat_apply(struct vm_area_desc *desc,
				   struct vm_area_struct *vma,
				   mmp_mapped_fn mapped)
{
	unsigned long flags = desc->vma_flags.__vma_flags;
	void *priv;
	int err;

	/*
	 * The legacy core retries a merge when ->mmap changed the flags, with
	 * the file and pgoff it had before, and frees the new VMA without
	 * ->close: whatever ->mapped set up for it would leak, and a replaced
	 * file or pgoff could end up merged into the wrong mapping. The 7.x
	 * core merges before any VMA exists and skips ->mapped instead, which
	 * cannot be done here: keep such mappings unmergeable.
	 */
	if (mapped ||
	    (flags != vma->vm_flags &&
	     (desc->vm_file != vma->vm_file || desc->pgoff != vma->vm_pgoff)))
		flags |= VM_DONTEXPAND;

	if (desc->vm_file != vma->vm_file) {
		/* vma_set_file() takes its own reference. */
		vma_set_file(vma, desc->vm_file);
		fput(desc->vm_file);
	}
	vma->vm_pgoff = desc->pgoff;
	/* vm_flags_mod() write-locks the VMA, as the flag helpers must. */
	vm_flags_mod(vma, flags & ~vma->vm_flags, vma->vm_flags & ~flags);
	vma->vm_page_prot = desc->page_prot;
	if (desc->vm_ops)
		vma->vm_ops = desc->vm_ops;
	else
		vma_set_anonymous(vma);
	vma->vm_private_data = desc->private_data;

	/*
	 * A file with only ->mmap (see vfs_mmap_prepare() below): in 7.x its
	 * failure would have come before any VMA existed, so no ->close.
	 */
	if (desc->action.mmap_file) {
		err = mmp_call_mmap(desc->action.mmap_file, vma);
		if (err)
			return err;
	}
	err = mmp_compat_action(vma, &desc->action);
	if (!err && mapped) {
		priv = vma->vm_private_data;
		err = mapped(vma->vm_start, vma->vm_end, vma->vm_pgoff,
			     vma->vm_file, &priv);
		if (!err)
			vma->vm_private_data = priv;
	}
	if (err) {
		if (vma->vm_ops && vma->vm_ops->close)
			vma->vm_ops->close(vma);
		return desc->action.error_override ?: err;
	}
	return 0;
}

/* The legacy ->mmap behind MMP_MMAP_PREPARE(). */
static inline int mmp_compat_mmap(struct file *file, struct vm_area_struct *vma,
				  int (*prepare)(struct vm_area_desc *desc),
				  mmp_mapped_fn mapped)
{
	struct vm_area_desc desc;
	int err;

	mmp_compat_desc_init(&desc, file, vma);
	err = prepare(&desc);
	return err ?: mmp_compat_apply(&desc, vma, mapped);
}

/*
 * A driver handing the mapping to another file (shmem, a lower file): no
 * hook of that file can describe a mapping on this path, so the adapter
 * maps it (->mmap, or the kernel's own way to ->mmap_prepare) once the
 * VMA holds the file.
 */
static inline int vfs_mmap_prepare(struct file *file, struct vm_area_desc *desc)
{
	if (!file->f_op->mmap && !mmp_has_mmap_prepare(file))
		return -ENODEV;
	desc->action.mmap_file = file;
	return 0;
}

#endif /* !MMP_NATIVE */

/*
 * What shmem_kernel_file_setup() takes as flags here (vma_flags_t from
 * 7.0), from the native descriptor or the compat one.
 */
#if defined(MMP_NATIVE) && defined(MMP_HAVE_SHMEM_SETUP_VMA_FLAGS)
#define mmp_shmem_flags(desc) ((desc)->vma_flags)
#elif defined(MMP_NATIVE)
#define mmp_shmem_flags(desc) vma_flags_to_legacy((desc)->vma_flags)
#elif defined(MMP_HAVE_SHMEM_SETUP_VMA_FLAGS)
#define mmp_shmem_flags(desc) legacy_to_vma_flags((desc)->vma_flags.__vma_flags)
#else
#define mmp_shmem_flags(desc) ((desc)->vma_flags.__vma_flags)
#endif

/* VFS helpers the stacked filesystem uses, in their newest form. */
#ifndef MMP_HAVE_INODE_STATE_READ_ONCE
static inline unsigned long inode_state_read_once(struct inode *inode)
{
	return READ_ONCE(inode->i_state);
}
#endif

#ifndef MMP_HAVE_SET_DEFAULT_D_OP
static inline void set_default_d_op(struct super_block *sb,
				    const struct dentry_operations *ops)
{
	sb->s_d_op = ops;
}
#endif

#ifdef AT_GETATTR_NOSEC
/*
 * Kernels that flag a ->getattr the security hooks already passed: the
 * call below must not run them again (vfs_getattr() warns and fails).
 */
static inline int mmp_compat_vfs_getattr(const struct path *path,
					 struct kstat *stat, u32 mask,
					 unsigned int flags)
{
	if (flags & AT_GETATTR_NOSEC)
		return vfs_getattr_nosec(path, stat, mask, flags);
	return vfs_getattr(path, stat, mask, flags);
}

#define vfs_getattr mmp_compat_vfs_getattr
#endif

#ifndef MMP_HAVE_INODE_GET_CTIME
/* Before 6.6, ctime was a plain inode field too. */
static inline struct timespec64 inode_get_ctime(const struct inode *inode)
{
	return inode->i_ctime;
}

static inline struct timespec64 inode_set_ctime_to_ts(struct inode *inode,
						      struct timespec64 ts)
{
	inode->i_ctime = ts;
	return ts;
}
#endif

#ifndef MMP_HAVE_INODE_GET_ATIME
/* Before 6.7, the times were plain inode fields. */
static inline struct timespec64 inode_get_atime(const struct inode *inode)
{
	return inode->i_atime;
}

static inline struct timespec64 inode_get_mtime(const struct inode *inode)
{
	return inode->i_mtime;
}

static inline struct timespec64 inode_set_atime_to_ts(struct inode *inode,
						      struct timespec64 ts)
{
	inode->i_atime = ts;
	return ts;
}

static inline struct timespec64 inode_set_mtime_to_ts(struct inode *inode,
						      struct timespec64 ts)
{
	inode->i_mtime = ts;
	return ts;
}
#endif

#ifndef MMP_HAVE_INODE_JUST_DROP
#define inode_just_drop generic_delete_inode
#endif

#ifndef QSTR_LEN
#define QSTR_LEN(n, l) ((struct qstr)QSTR_INIT(n, l))
#endif

#ifndef MMP_HAVE_LOOKUP_ONE_QSTR
/* The older form takes the name and its length apart. */
static inline struct dentry *mmp_lookup_one_unlocked(struct mnt_idmap *idmap,
						     struct qstr *name,
						     struct dentry *base)
{
	return lookup_one_unlocked(idmap, name->name, base, name->len);
}

#define lookup_one_unlocked mmp_lookup_one_unlocked
#endif

/*
 * ->d_revalidate(dir, name, dentry, flags); before, (dentry, flags). In a
 * driver: MMP_D_REVALIDATE(fn) last in the dentry_operations initializer,
 * one MMP_DEFINE_D_REVALIDATE_COMPAT(fn); after fn, and
 * mmp_call_d_revalidate() to ask another filesystem's dentry.
 */
#ifdef MMP_HAVE_D_REVALIDATE_DIR
#define MMP_D_REVALIDATE(fn) .d_revalidate = (fn),
#define MMP_DEFINE_D_REVALIDATE_COMPAT(fn)                                     \
	static_assert(__same_type(&(fn),                                       \
				  int (*)(struct inode *, const struct qstr *, \
					  struct dentry *, unsigned int)))
#else
typedef int (*mmp_d_revalidate_fn)(struct inode *dir, const struct qstr *name,
				   struct dentry *dentry, unsigned int flags);

static inline int mmp_compat_d_revalidate(struct dentry *dentry,
					  unsigned int flags,
					  mmp_d_revalidate_fn fn)
{
	struct name_snapshot name;
	struct dentry *parent;
	int ret;

	if (flags & LOOKUP_RCU)
		return -ECHILD;
	parent = dget_parent(dentry);
	take_dentry_name_snapshot(&name, dentry);
	ret = fn(d_inode(parent), &name.name, dentry, flags);
	release_dentry_name_snapshot(&name);
	dput(parent);
	return ret;
}

#define MMP_D_REVALIDATE(fn) .d_revalidate = fn##_mmp_compat,
#define MMP_DEFINE_D_REVALIDATE_COMPAT(fn)                                    \
	static int fn##_mmp_compat(struct dentry *dentry, unsigned int flags) \
	{                                                                     \
		return mmp_compat_d_revalidate(dentry, flags, fn);            \
	}                                                                     \
	static_assert(1)
#endif

static inline int mmp_call_d_revalidate(struct dentry *dentry,
					struct inode *dir,
					const struct qstr *name,
					unsigned int flags)
{
#ifdef MMP_HAVE_D_REVALIDATE_DIR
	return dentry->d_op->d_revalidate(dir, name, dentry, flags);
#else
	return dentry->d_op->d_revalidate(dentry, flags);
#endif
}

/*
 * backing_file_ctx with end_write(kiocb, ret) and splice_read() taking a
 * kiocb; before, end_write(file, pos, ret), a user_file field and a ppos.
 * In a driver: MMP_BACKING_FILE_CTX() builds the context, and one
 * MMP_DEFINE_END_WRITE_COMPAT(fn); follows its end_write.
 */
#ifndef MMP_HAVE_BACKING_FILE_MMAP
/*
 * No backing files before 6.8: the lower file is an ordinary file opened
 * on the lower path, and these stand-ins do what the 6.8+ helpers do for
 * a stacked filesystem, synchronously. Two differences are visible: the
 * lower file names itself (in /proc/<pid>/maps too), and a mapping holds
 * only lower objects (file, vm_ops, pages), so it pins the lower mount
 * but neither the upper mount nor the module: both may go while it lives.
 */
struct backing_file_ctx {
	const struct cred *cred;
	void (*accessed)(struct file *file);
	void (*end_write)(struct kiocb *iocb, ssize_t ret);
};

static inline struct file *backing_file_open(const struct file *user_file,
					     int flags,
					     const struct path *real_path,
					     const struct cred *cred)
{
	return dentry_open(real_path, flags, cred);
}
#elif !defined(MMP_HAVE_BACKING_FILE_USER_FILE)
/* 6.8 to 6.11 take the user file's path. */
#define backing_file_open(user_file, flags, real_path, cred) \
	backing_file_open(&(user_file)->f_path, flags, real_path, cred)
#endif

#ifndef MMP_HAVE_BACKING_FILE_CTX_KIOCB
/*
 * may_open() checked the user file's inode; 7.x's backing_file_open() also
 * refuses a write-open of an append-only (without O_APPEND) or immutable
 * lower inode, which older ones and the stand-in above do not.
 */
static inline struct file *mmp_backing_file_open(const struct file *user_file,
						 int flags,
						 const struct path *real_path,
						 const struct cred *cred)
{
	struct inode *inode = d_inode(real_path->dentry);

	if ((flags & O_ACCMODE) != O_RDONLY &&
	    (IS_IMMUTABLE(inode) || (IS_APPEND(inode) && !(flags & O_APPEND))))
		return ERR_PTR(-EPERM);
	return backing_file_open(user_file, flags, real_path, cred);
}

#define backing_file_open mmp_backing_file_open
#endif

#ifndef MMP_HAVE_BACKING_FILE_MMAP

/* The per-call flags of a kiocb, as preadv2()/pwritev2() would pass them. */
static inline rwf_t mmp_compat_rw_flags(int flags)
{
	rwf_t rwf = 0;

	if (flags & IOCB_NOWAIT)
		rwf |= RWF_NOWAIT;
	if (flags & IOCB_HIPRI)
		rwf |= RWF_HIPRI;
	if (flags & IOCB_DSYNC)
		rwf |= RWF_DSYNC;
	if (flags & IOCB_SYNC)
		rwf |= RWF_SYNC;
	if (flags & IOCB_APPEND)
		rwf |= RWF_APPEND;
	return rwf;
}

static inline ssize_t backing_file_read_iter(struct file *file,
					     struct iov_iter *iter,
					     struct kiocb *iocb, int flags,
					     struct backing_file_ctx *ctx)
{
	const struct cred *old;
	ssize_t ret;

	if (!iov_iter_count(iter))
		return 0;
	if ((iocb->ki_flags & IOCB_DIRECT) &&
	    !(file->f_mode & FMODE_CAN_ODIRECT))
		return -EINVAL;
	old = override_creds(ctx->cred);
	ret = vfs_iter_read(file, iter, &iocb->ki_pos,
			    mmp_compat_rw_flags(flags));
	revert_creds(old);
	if (ctx->accessed)
		ctx->accessed(iocb->ki_filp);
	return ret;
}

static inline ssize_t backing_file_write_iter(struct file *file,
					      struct iov_iter *iter,
					      struct kiocb *iocb, int flags,
					      struct backing_file_ctx *ctx)
{
	const struct cred *old;
	ssize_t ret;

	if (!iov_iter_count(iter))
		return 0;
	/* F_SETFL or RWF_NOAPPEND dropped append mode: the lower inode says. */
	if ((file->f_flags & O_APPEND) && !(flags & IOCB_APPEND) &&
	    IS_APPEND(file_inode(file)))
		return -EPERM;
	ret = file_remove_privs(iocb->ki_filp);
	if (ret)
		return ret;
	if ((iocb->ki_flags & IOCB_DIRECT) &&
	    !(file->f_mode & FMODE_CAN_ODIRECT))
		return -EINVAL;
	old = override_creds(ctx->cred);
	/* vfs_iter_write() leaves the freeze protection to its caller here. */
	file_start_write(file);
	ret = vfs_iter_write(file, iter, &iocb->ki_pos,
			     mmp_compat_rw_flags(flags));
	file_end_write(file);
	revert_creds(old);
	if (ctx->end_write)
		ctx->end_write(iocb, ret);
	return ret;
}

/* Through the user file's own ->read_iter, which forwards as above. */
static inline ssize_t backing_file_splice_read(struct file *file,
					       struct kiocb *iocb,
					       struct pipe_inode_info *pipe,
					       size_t len, unsigned int flags,
					       struct backing_file_ctx *ctx)
{
#ifdef MMP_HAVE_COPY_SPLICE_READ
	return copy_splice_read(iocb->ki_filp, &iocb->ki_pos, pipe, len, flags);
#else
	return generic_file_splice_read(iocb->ki_filp, &iocb->ki_pos, pipe, len,
					flags);
#endif
}

static inline int backing_file_mmap(struct file *file,
				    struct vm_area_struct *vma,
				    struct backing_file_ctx *ctx)
{
	struct file *user_file = vma->vm_file;
	const struct cred *old;
	int ret;

	if (!file->f_op->mmap)
		return -ENODEV;
	/* mmap() checked the user file's inode, not this one. */
	if ((vma->vm_flags & VM_SHARED) && IS_APPEND(file_inode(file)))
		return -EACCES;
	/* The VMA holds the lower file from here; unwinding drops that. */
	vma_set_file(vma, file);
	old = override_creds(ctx->cred);
	ret = call_mmap(file, vma);
	revert_creds(old);
	if (ctx->accessed)
		ctx->accessed(user_file);
	return ret;
}
#endif

#if defined(MMP_HAVE_BACKING_FILE_CTX_KIOCB) || \
	!defined(MMP_HAVE_BACKING_FILE_MMAP)
#define MMP_BACKING_FILE_CTX(cred_, user_file_, accessed_fn, end_write_fn) \
	((void)(user_file_),                                               \
	 (struct backing_file_ctx){ .cred = (cred_),                       \
				    .accessed = (accessed_fn),             \
				    .end_write = (end_write_fn) })
#define MMP_DEFINE_END_WRITE_COMPAT(fn) \
	static_assert(__same_type(&(fn), void (*)(struct kiocb *, ssize_t)))
#else
static inline void mmp_compat_end_write(struct file *file, loff_t pos,
					ssize_t ret,
					void (*fn)(struct kiocb *, ssize_t))
{
	struct kiocb iocb = { .ki_filp = file, .ki_pos = pos };

	fn(&iocb, ret);
}

#define MMP_BACKING_FILE_CTX(cred_, user_file_, accessed_fn, end_write_fn) \
	((struct backing_file_ctx){ .cred = (cred_),                       \
				    .user_file = (user_file_),             \
				    .accessed = (accessed_fn),             \
				    .end_write = end_write_fn##_mmp_compat })
#define MMP_DEFINE_END_WRITE_COMPAT(fn)                            \
	static void fn##_mmp_compat(struct file *file, loff_t pos, \
				    ssize_t ret)                   \
	{                                                          \
		mmp_compat_end_write(file, pos, ret, fn);          \
	}                                                          \
	static_assert(1)
#define backing_file_splice_read(in, iocb, pipe, len, flags, ctx) \
	backing_file_splice_read(in, &(iocb)->ki_pos, pipe, len, flags, ctx)
#endif

/* uio_info->mmap_prepare, and the legacy uio_info->mmap before 7.1. */
struct uio_info;
#if defined(MMP_HAVE_UIO_MMAP_PREPARE) && !defined(MMP_NATIVE)
#define MMP_UIO_SET_MMAP_PREPARE(info, fn) \
	((void)(mmp_compat_uio_fn = (fn)), \
	 (info)->mmap_prepare = mmp_compat_uio_bridge)
#define MMP_DEFINE_UIO_MMAP_COMPAT(fn)                              \
	static_assert(__same_type(&(fn), int (*)(struct uio_info *, \
						 struct vm_area_desc *)))
#elif defined(MMP_HAVE_UIO_MMAP_PREPARE)
#define MMP_UIO_SET_MMAP_PREPARE(info, fn) ((info)->mmap_prepare = (fn))
#define MMP_DEFINE_UIO_MMAP_COMPAT(fn)                              \
	static_assert(__same_type(&(fn), int (*)(struct uio_info *, \
						 struct vm_area_desc *)))
#elif defined(MMP_NATIVE)
/*
 * The legacy UIO adapter needs the compat path, which such a kernel (no
 * mainline one) skips: only a UIO driver fails to build there.
 */
#define MMP_UIO_SET_MMAP_PREPARE(info, fn) ((void)(info), (void)(fn))
#define MMP_DEFINE_UIO_MMAP_COMPAT(fn)            \
	static_assert(__same_type(&(fn), void *), \
		      "native mmap_prepare API, but legacy uio_info->mmap")
#else
static inline int
mmp_compat_uio_mmap(struct uio_info *info, struct vm_area_struct *vma,
		    int (*fn)(struct uio_info *, struct vm_area_desc *))
{
	struct vm_area_desc desc;
	int err;

	mmp_compat_desc_init(&desc, vma->vm_file, vma);
	err = fn(info, &desc);
	return err ?: mmp_compat_apply(&desc, vma, NULL);
}

#define MMP_UIO_SET_MMAP_PREPARE(info, fn) ((info)->mmap = fn##_mmp_compat)
#define MMP_DEFINE_UIO_MMAP_COMPAT(fn)                         \
	static int fn##_mmp_compat(struct uio_info *info,      \
				   struct vm_area_struct *vma) \
	{                                                      \
		return mmp_compat_uio_mmap(info, vma, fn);     \
	}                                                      \
	static_assert(1)
#endif

/*
 * The mmap path a driver takes here, for its one line at load time:
 * "native" when the kernel calls ->mmap_prepare itself.
 */
#ifdef MMP_NATIVE
#define MMP_MMAP_PATH "native (f_op->mmap_prepare)"
#else
#define MMP_MMAP_PATH "compat (legacy f_op->mmap)"
#endif

/* What a stacked filesystem's lower files are here, for its load line. */
#ifdef MMP_HAVE_BACKING_FILE_MMAP
#define MMP_LOWER_FILES "backing files"
#else
#define MMP_LOWER_FILES "plain files (no backing files)"
#endif

#if defined(MMP_HAVE_UIO_MMAP_PREPARE) && defined(MMP_NATIVE)
#define MMP_UIO_MMAP_PATH "native (uio_info->mmap_prepare)"
#elif defined(MMP_HAVE_UIO_MMAP_PREPARE)
#define MMP_UIO_MMAP_PATH \
	"native (uio_info->mmap_prepare, on the compat descriptor)"
#else
#define MMP_UIO_MMAP_PATH "compat (legacy uio_info->mmap)"
#endif

#endif /* MMP_COMPAT_H */
