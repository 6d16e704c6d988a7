// SPDX-License-Identifier: GPL-2.0
/*
 * mmp_stackfs - a passthrough filesystem stacked over a lower directory,
 * whose f_op->mmap_prepare forwards to the lower file's mmap_prepare.
 *
 *	mount -t mmp_stackfs -o lowerdir=/some/dir none /mnt
 *
 * Lookups, directory listings, reads, writes, fsync, stat, truncate and
 * chmod pass through to the lower files; names cannot be created, removed
 * or renamed through the upper mount. As with overlayfs, read() and write()
 * need ->read_iter and ->write_iter below (EINVAL otherwise). Each upper file opens its lower file
 * with backing_file_open(), as overlayfs does: the lower file keeps the
 * upper path for /proc/<pid>/maps, and pins the upper mount (and so this
 * module) for as long as a mapping holds it.
 *
 * What it is for: any filesystem that hands file contents to a file of
 * another filesystem (overlay, union, FUSE-passthrough, eCryptfs-like
 * layers) and wants mmap() to map the lower file's own page cache.
 *
 * Two mmap paths, chosen per open file (see mmp_stackfs_open()):
 *  - The lower file has ->mmap_prepare (tmpfs, ext4, ...). Our
 *    ->mmap_prepare calls it on a copy of the descriptor naming the lower
 *    file (desc->file and desc->vm_file), then adopts the result: the
 *    lower file becomes the VMA's file, with the lower vm_ops, flags and
 *    action. No VMA exists yet, so a failure leaves nothing behind.
 *  - The lower file has only a legacy ->mmap (sysfs, FUSE, ...). That
 *    hook needs a VMA, which ->mmap_prepare never sees, and
 *    the core must not be handed such a file through desc->vm_file: it
 *    would call the lower ->mmap and then overwrite the vm_ops it set with
 *    ours. So the file gets a twin file_operations with ->mmap instead,
 *    which calls backing_file_mmap(), the kernel's compatibility path for
 *    stacked files (vma_set_file(), the LSM backing-file check, then
 *    vfs_mmap(), which also reaches ->mmap_prepare through
 *    compat_vma_mmap()).
 *  - A lower file with neither hook (most tracefs and debugfs files)
 *    gets a third twin with no mmap hook, so mmap() fails ENODEV before
 *    the core unmaps anything under MAP_FIXED, as for the lower file
 *    itself. Stacked code that forwarded mmap blindly is how
 *    CVE-2016-1583 (eCryptfs over procfs) recursed; procfs and hugetlbfs
 *    now refuse to be stacked on at all (s_stack_depth at the limit).
 *
 * Permission rule: the upper file's access mode governs. mmap() derives
 * VM_MAYWRITE from the upper file, so a PROT_WRITE MAP_SHARED mapping or a
 * later mprotect(PROT_WRITE) of an O_RDONLY upper file fails with EACCES
 * before the lower fs is asked; the lower file is opened with the same
 * access mode and the opener's credentials, so the layer grants nothing the
 * lower filesystem would refuse.
 *
 * What the kernel does for you: a new VMA takes over the reference on a
 * replaced desc->vm_file, a mapped backing file keeps the upper mount
 * (and so this module) busy, and /proc/<pid>/maps shows the upper file.
 *
 * What you must still check yourself:
 *  - Take a reference on the lower file before handing it to the core,
 *    unless the lower hook already replaced vm_file with a file of its own.
 *  - 7.3 leaks that reference when the new range merges into a neighbour
 *    VMA of the same file (two adjacent mmaps of one fd), and when a
 *    legacy ->mmap stacker reaches this hook through compat_vma_mmap():
 *    VMA_DONTEXPAND_BIT keeps mappings from merging, at a price: like
 *    any special mapping they cannot grow with mremap() (EFAULT), mlock()
 *    skips them, userfaultfd, MREMAP_DONTUNMAP, MADV_DOFORK/DODUMP and
 *    guard regions refuse them, khugepaged and KSM ignore them. The
 *    compat case cannot be fixed from here.
 *  - Set sb->s_stack_depth and refuse mounts beyond
 *    FILESYSTEM_MAX_STACK_DEPTH, or nested calls can exhaust the stack.
 *  - Stacked on itself, a lookup holds an upper directory's i_rwsem while
 *    it takes the lower one's, of the same filesystem type: give each
 *    stacking depth its own lockdep class, or lockdep reports recursive
 *    locking.
 *  - Run lower calls with the file's credentials (backing_file_ctx).
 *  - Never expose lower automount points: the VFS would call a
 *    ->d_automount we do not have.
 *  - The LSM hook for backing files, security_mmap_backing_file(), takes
 *    a VMA; in 7.3 only the legacy path can call it.
 *
 * In-tree precedent (7.3): fs/backing-file.c and fs/overlayfs/file.c (still
 * on ->mmap), fs/ecryptfs (lookup and readdir passthrough).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/backing-file.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/fs_stack.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/statfs.h>

#include "mmp_compat.h"

#define MMP_STACKFS_MAGIC 0x6d6d7073 /* "mmps" */

struct mmp_stackfs_sb {
	struct path lower; /* lowerdir, pinned while mounted */
	bool nosuid; /* the lower mount ignores set-id bits: so do we */
	bool nosymfollow; /* ... or symlinks */
};

static const struct inode_operations mmp_stackfs_dir_iops;
static const struct inode_operations mmp_stackfs_file_iops;
static const struct inode_operations mmp_stackfs_symlink_iops;
static const struct file_operations mmp_stackfs_dir_fops;
static const struct file_operations mmp_stackfs_file_fops;
static const struct file_operations mmp_stackfs_legacy_fops;
static const struct file_operations mmp_stackfs_nommap_fops;

/* Upper dentries hold their lower dentry; upper inodes their lower inode. */
static struct dentry *mmp_stackfs_lower_dentry(const struct dentry *dentry)
{
	return dentry->d_fsdata;
}

static struct inode *mmp_stackfs_lower_inode(const struct inode *inode)
{
	return inode->i_private;
}

static void mmp_stackfs_lower_path(const struct dentry *dentry,
				   struct path *path)
{
	struct mmp_stackfs_sb *sbi = dentry->d_sb->s_fs_info;

	path->mnt = sbi->lower.mnt;
	path->dentry = mmp_stackfs_lower_dentry(dentry);
}

static void mmp_stackfs_copy_attr(struct inode *inode)
{
	struct mmp_stackfs_sb *sbi = inode->i_sb->s_fs_info;
	struct inode *lower = mmp_stackfs_lower_inode(inode);

	umode_t mode = READ_ONCE(lower->i_mode);

	/*
	 * Not fsstack_copy_attr_all(): mode and flags are stored once, already
	 * filtered, so that a racing exec never sees lower set-id bits.
	 */
	if (sbi->nosuid)
		mode &= ~(S_ISUID | S_ISGID);
	WRITE_ONCE(inode->i_mode, mode);
	/* Automount points stay the lower fs's business (see lookup). */
	WRITE_ONCE(inode->i_flags, READ_ONCE(lower->i_flags) & ~S_AUTOMOUNT);
	inode->i_uid = lower->i_uid;
	inode->i_gid = lower->i_gid;
	inode->i_blkbits = lower->i_blkbits;
	inode_set_atime_to_ts(inode, inode_get_atime(lower));
	inode_set_mtime_to_ts(inode, inode_get_mtime(lower));
	inode_set_ctime_to_ts(inode, inode_get_ctime(lower));
	set_nlink(inode, lower->i_nlink);
	fsstack_copy_inode_size(inode, lower);
}

static int mmp_stackfs_inode_test(struct inode *inode, void *lower)
{
	return inode->i_private == lower;
}

static int mmp_stackfs_inode_set(struct inode *inode, void *lower)
{
	inode->i_private = lower;
	return 0;
}

/* One lockdep class per stacking depth for i_rwsem (see the top). */
static void mmp_stackfs_set_lock_class(struct inode *inode)
{
	static struct lock_class_key dir_keys[FILESYSTEM_MAX_STACK_DEPTH];
	static struct lock_class_key keys[FILESYSTEM_MAX_STACK_DEPTH];
	/* s_stack_depth is 1..FILESYSTEM_MAX_STACK_DEPTH: fill_super checks */
	int depth = inode->i_sb->s_stack_depth - 1;

	/* Before unlock_new_inode(), which keeps a class already chosen. */
	if (S_ISDIR(inode->i_mode))
		lockdep_set_class(&inode->i_rwsem, &dir_keys[depth]);
	else
		lockdep_set_class(&inode->i_rwsem, &keys[depth]);
}

static struct inode *mmp_stackfs_iget(struct super_block *sb,
				      struct inode *lower)
{
	struct inode *inode;

	/* Fails only if the lower inode is already being evicted. */
	if (!igrab(lower))
		return ERR_PTR(-ESTALE);
	inode = iget5_locked(sb, lower->i_ino, mmp_stackfs_inode_test,
			     mmp_stackfs_inode_set, lower);
	if (!inode) {
		iput(lower);
		return ERR_PTR(-ENOMEM);
	}
	if (!(inode_state_read_once(inode) & I_NEW)) {
		iput(lower); /* the cached inode holds its own reference */
		return inode;
	}

	inode->i_ino = lower->i_ino;
	mmp_stackfs_copy_attr(inode);
	switch (lower->i_mode & S_IFMT) {
	case S_IFDIR:
		inode->i_op = &mmp_stackfs_dir_iops;
		inode->i_fop = &mmp_stackfs_dir_fops;
		break;
	case S_IFREG:
		inode->i_op = &mmp_stackfs_file_iops;
		inode->i_fop = &mmp_stackfs_file_fops;
		break;
	case S_IFLNK:
		inode->i_op = &mmp_stackfs_symlink_iops;
		break;
	default:
		/* Device nodes, FIFOs, sockets: opened as themselves. */
		inode->i_op = &mmp_stackfs_file_iops;
		init_special_inode(inode, lower->i_mode, lower->i_rdev);
		break;
	}
	mmp_stackfs_set_lock_class(inode);
	unlock_new_inode(inode);
	return inode;
}

static int mmp_stackfs_d_revalidate(struct inode *dir, const struct qstr *name,
				    struct dentry *dentry, unsigned int flags)
{
	struct dentry *lower = mmp_stackfs_lower_dentry(dentry);
	struct dentry *lower_parent;
	struct name_snapshot snap;
	int ret = 1;

	/* A negative entry may exist in the lower dir by now: look again. */
	if (!lower)
		return 0;
	if (flags & LOOKUP_RCU)
		return -ECHILD;
	if (d_unhashed(lower) || d_is_negative(lower))
		return 0;

	if (lower->d_flags & DCACHE_OP_REVALIDATE) {
		/* Its own parent: a lower rename may have moved it. */
		lower_parent = dget_parent(lower);
		take_dentry_name_snapshot(&snap, lower);
		ret = mmp_call_d_revalidate(lower, d_inode(lower_parent),
					    &snap.name, flags);
		release_dentry_name_snapshot(&snap);
		dput(lower_parent);
	}
	if (ret > 0)
		mmp_stackfs_copy_attr(d_inode(dentry));
	return ret;
}

static void mmp_stackfs_d_release(struct dentry *dentry)
{
	dput(mmp_stackfs_lower_dentry(dentry));
}

MMP_DEFINE_D_REVALIDATE_COMPAT(mmp_stackfs_d_revalidate);

static const struct dentry_operations mmp_stackfs_dops = {
	.d_release = mmp_stackfs_d_release,
	MMP_D_REVALIDATE(mmp_stackfs_d_revalidate)
};

static struct dentry *
mmp_stackfs_lookup(struct inode *dir, struct dentry *dentry, unsigned int flags)
{
	struct dentry *lower_dir = mmp_stackfs_lower_dentry(dentry->d_parent);
	struct qstr name = QSTR_LEN(dentry->d_name.name, dentry->d_name.len);
	struct dentry *lower;
	struct inode *inode;

	lower = lookup_one_unlocked(&nop_mnt_idmap, &name, lower_dir);
	if (IS_ERR(lower))
		return ERR_CAST(lower);
	if (d_is_negative(lower)) {
		dput(lower);
		return d_splice_alias(NULL, dentry);
	}
	/*
	 * Automount points (NFS, FUSE submounts, debugfs "tracing") and
	 * directories that cannot be looked up in: another filesystem's
	 * business, as is anything beyond a lower mount point.
	 */
	if ((lower->d_flags &
	     (DCACHE_NEED_AUTOMOUNT | DCACHE_MANAGE_TRANSIT)) ||
	    (d_is_dir(lower) && !d_inode(lower)->i_op->lookup)) {
		dput(lower);
		return ERR_PTR(-EREMOTE);
	}

	inode = mmp_stackfs_iget(dir->i_sb, d_inode(lower));
	if (IS_ERR(inode)) {
		dput(lower);
		return ERR_CAST(inode);
	}
	dentry->d_fsdata = lower;
	return d_splice_alias(inode, dentry);
}

static int mmp_stackfs_permission(struct mnt_idmap *idmap, struct inode *inode,
				  int mask)
{
	return inode_permission(&nop_mnt_idmap, mmp_stackfs_lower_inode(inode),
				mask);
}

static int mmp_stackfs_getattr(struct mnt_idmap *idmap, const struct path *path,
			       struct kstat *stat, u32 request_mask,
			       unsigned int flags)
{
	struct inode *inode = d_inode(path->dentry);
	struct path lower;
	int ret;

	mmp_stackfs_lower_path(path->dentry, &lower);
	ret = vfs_getattr(&lower, stat, request_mask, flags);
	if (ret)
		return ret;
	mmp_stackfs_copy_attr(inode);
	/* Lower inode numbers, our device: unique, as we never cross mounts. */
	stat->mode = READ_ONCE(inode->i_mode); /* set-id bits filtered */
	stat->dev = inode->i_sb->s_dev;
	stat->ino = inode->i_ino;
	return 0;
}

static int mmp_stackfs_setattr(struct mnt_idmap *idmap, struct dentry *dentry,
			       struct iattr *attr)
{
	struct iattr lower_attr = *attr;
	struct inode *linode;
	struct path lower;
	int kill, ret;
	bool trunc;

	ret = setattr_prepare(&nop_mnt_idmap, dentry, attr);
	if (ret)
		return ret;

	mmp_stackfs_lower_path(dentry, &lower);
	linode = d_inode(lower.dentry);
	/* The lower ->setattr may clear ATTR_SIZE: remember what we took. */
	trunc = lower_attr.ia_valid & ATTR_SIZE;
	/*
	 * ia_file is our file, and the lower file was opened without O_TRUNC
	 * (ATTR_OPEN would tell FUSE the truncate already happened).
	 */
	lower_attr.ia_valid &= ~(ATTR_FILE | ATTR_OPEN);
	/*
	 * Our mode may hide set-id bits (nosuid lower), the lower one may
	 * not: kill them as do_truncate() would, with ATTR_FORCE.
	 */
	kill = 0;
	if (trunc && !d_is_dir(dentry))
		kill = setattr_should_drop_suidgid(&nop_mnt_idmap, linode);
	if (kill)
		lower_attr.ia_valid |= kill | ATTR_FORCE;
	/* Our inode has no xattrs; the lower may hold security.capability. */
	if (!d_is_dir(dentry) &&
	    (lower_attr.ia_valid & (ATTR_UID | ATTR_GID | ATTR_SIZE)))
		lower_attr.ia_valid |= ATTR_KILL_PRIV;
	/* notify_change() refuses ATTR_MODE together with the kill bits. */
	if (lower_attr.ia_valid & (ATTR_KILL_SUID | ATTR_KILL_SGID))
		lower_attr.ia_valid &= ~ATTR_MODE;

	ret = mnt_want_write(lower.mnt);
	if (ret)
		return ret;
	/* Truncate only what nobody executes (ETXTBSY), as open() would. */
	if (trunc) {
		ret = get_write_access(linode);
		if (ret)
			goto out_drop;
	}
	inode_lock(linode);
	ret = notify_change(&nop_mnt_idmap, lower.dentry, &lower_attr, NULL);
	inode_unlock(linode);
	if (trunc)
		put_write_access(linode);
out_drop:
	mnt_drop_write(lower.mnt);
	mmp_stackfs_copy_attr(d_inode(dentry));
	return ret;
}

static const char *mmp_stackfs_get_link(struct dentry *dentry,
					struct inode *inode,
					struct delayed_call *done)
{
	struct mmp_stackfs_sb *sbi = inode->i_sb->s_fs_info;

	if (!dentry)
		return ERR_PTR(-ECHILD);
	if (sbi->nosymfollow)
		return ERR_PTR(-ELOOP);
	return vfs_get_link(mmp_stackfs_lower_dentry(dentry), done);
}

/* Not through ->get_link: a lower "magic" link needs a path walk. */
static int mmp_stackfs_readlink(struct dentry *dentry, char __user *buf,
				int len)
{
	return vfs_readlink(mmp_stackfs_lower_dentry(dentry), buf, len);
}

static const struct inode_operations mmp_stackfs_dir_iops = {
	.lookup = mmp_stackfs_lookup,
	.permission = mmp_stackfs_permission,
	.getattr = mmp_stackfs_getattr,
	.setattr = mmp_stackfs_setattr,
};

static const struct inode_operations mmp_stackfs_file_iops = {
	.permission = mmp_stackfs_permission,
	.getattr = mmp_stackfs_getattr,
	.setattr = mmp_stackfs_setattr,
};

static const struct inode_operations mmp_stackfs_symlink_iops = {
	.get_link = mmp_stackfs_get_link,
	.readlink = mmp_stackfs_readlink,
	.getattr = mmp_stackfs_getattr,
	.setattr = mmp_stackfs_setattr,
};

static struct file *mmp_stackfs_lower_file(const struct file *file)
{
	return file->private_data;
}

static void mmp_stackfs_accessed(struct file *file)
{
	fsstack_copy_attr_atime(file_inode(file),
				file_inode(mmp_stackfs_lower_file(file)));
}

static void mmp_stackfs_end_write(struct kiocb *iocb, ssize_t ret)
{
	mmp_stackfs_copy_attr(file_inode(iocb->ki_filp));
}

MMP_DEFINE_END_WRITE_COMPAT(mmp_stackfs_end_write);

/* Lower calls run with the credentials the upper file was opened with. */
static struct backing_file_ctx mmp_stackfs_ctx(struct file *file)
{
	return MMP_BACKING_FILE_CTX(file->f_cred, file, mmp_stackfs_accessed,
				    mmp_stackfs_end_write);
}

static int mmp_stackfs_open(struct inode *inode, struct file *file)
{
	int flags = file->f_flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC);
	const struct file_operations *twin;
	struct file *lower;
	struct path path;

	mmp_stackfs_lower_path(file->f_path.dentry, &path);
	lower = backing_file_open(file, flags, &path, current_cred());
	if (IS_ERR(lower))
		return PTR_ERR(lower);
	file->private_data = lower;
	file->f_mode |= lower->f_mode & (FMODE_NOWAIT | FMODE_CAN_ODIRECT);

	/*
	 * ->mmap_prepare cannot reach a lower file that has only ->mmap, and
	 * can_mmap_file() refuses files offering both hooks: such a file gets
	 * the twin that maps through backing_file_mmap(). A lower file with
	 * neither gets the twin with neither, so that mmap() fails before the
	 * core unmaps anything.
	 */
	if (S_ISREG(inode->i_mode) && !mmp_has_mmap_prepare(lower)) {
		twin = lower->f_op->mmap ? &mmp_stackfs_legacy_fops :
					   &mmp_stackfs_nommap_fops;
		/* Referenced before replace_fops() drops the old one. */
		twin = fops_get(twin);
		replace_fops(file, twin);
	}
	return 0;
}

static int mmp_stackfs_release(struct inode *inode, struct file *file)
{
	fput(mmp_stackfs_lower_file(file));
	return 0;
}

static loff_t mmp_stackfs_llseek(struct file *file, loff_t offset, int whence)
{
	struct file *lower = mmp_stackfs_lower_file(file);
	loff_t ret;

	/*
	 * Our f_pos is the master copy (read and write use it); only the
	 * lower fs knows its size, holes and limits. f_pos_lock serialises
	 * callers, and each upper file has a lower file of its own.
	 */
	lower->f_pos = file->f_pos;
	ret = vfs_llseek(lower, offset, whence);
	file->f_pos = lower->f_pos;
	return ret;
}

#define MMP_STACKFS_SETFL_MASK (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME)

/* fcntl(F_SETFL) changed our file: give the lower file the same flags. */
static int mmp_stackfs_sync_flags(struct file *file)
{
	struct file *lower = mmp_stackfs_lower_file(file);
	unsigned int flags = file->f_flags & MMP_STACKFS_SETFL_MASK;
	int ret;

	if (!((flags ^ lower->f_flags) & MMP_STACKFS_SETFL_MASK))
		return 0;
	/* F_SETFL checked our inode, which may not know of a later chattr. */
	if (((flags ^ lower->f_flags) & O_APPEND) &&
	    IS_APPEND(file_inode(lower)))
		return -EPERM;
	if ((flags & O_DIRECT) && !(lower->f_mode & FMODE_CAN_ODIRECT))
		return -EINVAL;
	if (lower->f_op->check_flags) {
		ret = lower->f_op->check_flags(flags);
		if (ret)
			return ret;
	}
	spin_lock(&lower->f_lock);
	lower->f_flags = (lower->f_flags & ~MMP_STACKFS_SETFL_MASK) | flags;
	lower->f_iocb_flags = iocb_flags(lower);
	spin_unlock(&lower->f_lock);
	return 0;
}

static ssize_t mmp_stackfs_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	struct backing_file_ctx ctx = mmp_stackfs_ctx(file);
	int ret = mmp_stackfs_sync_flags(file);

	if (ret)
		return ret;
	return backing_file_read_iter(mmp_stackfs_lower_file(file), to, iocb,
				      iocb->ki_flags, &ctx);
}

static ssize_t mmp_stackfs_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	struct backing_file_ctx ctx = mmp_stackfs_ctx(file);
	struct inode *inode = file_inode(file);
	ssize_t ret;

	/* file_remove_privs() in there calls notify_change() on our inode. */
	if (!(iocb->ki_flags & IOCB_NOWAIT))
		inode_lock(inode);
	else if (!inode_trylock(inode))
		return -EAGAIN;
	ret = mmp_stackfs_sync_flags(file);
	if (!ret)
		ret = backing_file_write_iter(mmp_stackfs_lower_file(file),
					      from, iocb, iocb->ki_flags, &ctx);
	inode_unlock(inode);
	return ret;
}

static ssize_t mmp_stackfs_splice_read(struct file *in, loff_t *ppos,
				       struct pipe_inode_info *pipe, size_t len,
				       unsigned int flags)
{
	struct backing_file_ctx ctx = mmp_stackfs_ctx(in);
	struct kiocb iocb;
	ssize_t ret;

	ret = mmp_stackfs_sync_flags(in);
	if (ret)
		return ret;
	init_sync_kiocb(&iocb, in);
	iocb.ki_pos = *ppos;
	ret = backing_file_splice_read(mmp_stackfs_lower_file(in), &iocb, pipe,
				       len, flags, &ctx);
	*ppos = iocb.ki_pos;
	return ret;
}

static int mmp_stackfs_fsync(struct file *file, loff_t start, loff_t end,
			     int datasync)
{
	const struct cred *old = override_creds(file->f_cred);
	int ret;

	ret = vfs_fsync_range(mmp_stackfs_lower_file(file), start, end,
			      datasync);
	revert_creds(old);
	return ret;
}

static int mmp_stackfs_mmap_prepare(struct vm_area_desc *desc)
{
	struct file *file = desc->file;
	struct file *lower = mmp_stackfs_lower_file(file);
	struct vm_area_desc lower_desc;
	const struct cred *old;
	int ret;

	/* mmap() checked S_APPEND on our inode, not on the lower one. */
	if (vma_desc_test(desc, VMA_SHARED_BIT) && IS_APPEND(file_inode(lower)))
		return -EACCES;

	/*
	 * Let the lower fs describe the mapping as if its own file had been
	 * mapped; a copy keeps *desc untouched if it fails.
	 */
	lower_desc = *desc;
	lower_desc.file = lower;
	lower_desc.vm_file = lower;
	old = override_creds(file->f_cred);
	ret = vfs_mmap_prepare(lower, &lower_desc);
	revert_creds(old);
	if (ret)
		return ret;

	/*
	 * The VMA will hold the lower file. If the lower hook swapped in a
	 * file of its own, it handed us that reference already.
	 */
	if (lower_desc.vm_file == lower)
		get_file(lower);
	lower_desc.file = file;
	*desc = lower_desc;
	/*
	 * 7.3 drops that reference on the floor if the new range merges into
	 * a neighbour holding the same file: keep mappings unmergeable.
	 */
	vma_desc_set_flags(desc, VMA_DONTEXPAND_BIT);
	mmp_stackfs_accessed(file);
	return 0;
}

/* Twin of mmp_stackfs_mmap_prepare() for lower files with only ->mmap. */
static int mmp_stackfs_mmap_legacy(struct file *file,
				   struct vm_area_struct *vma)
{
	struct backing_file_ctx ctx = mmp_stackfs_ctx(file);

	return backing_file_mmap(mmp_stackfs_lower_file(file), vma, &ctx);
}

MMP_DEFINE_MMAP_COMPAT(mmp_stackfs_mmap_prepare, NULL);

static const struct file_operations mmp_stackfs_file_fops = {
	.owner = THIS_MODULE,
	.open = mmp_stackfs_open,
	.release = mmp_stackfs_release,
	.llseek = mmp_stackfs_llseek,
	.read_iter = mmp_stackfs_read_iter,
	.write_iter = mmp_stackfs_write_iter,
	.splice_read = mmp_stackfs_splice_read,
	.fsync = mmp_stackfs_fsync,
	MMP_MMAP_PREPARE(mmp_stackfs_mmap_prepare)
};

/* The two twins of mmp_stackfs_file_fops differ only in the mmap hook. */
static const struct file_operations mmp_stackfs_legacy_fops = {
	.owner = THIS_MODULE,
	.open = mmp_stackfs_open,
	.release = mmp_stackfs_release,
	.llseek = mmp_stackfs_llseek,
	.read_iter = mmp_stackfs_read_iter,
	.write_iter = mmp_stackfs_write_iter,
	.splice_read = mmp_stackfs_splice_read,
	.fsync = mmp_stackfs_fsync,
	.mmap = mmp_stackfs_mmap_legacy,
};

static const struct file_operations mmp_stackfs_nommap_fops = {
	.owner = THIS_MODULE,
	.open = mmp_stackfs_open,
	.release = mmp_stackfs_release,
	.llseek = mmp_stackfs_llseek,
	.read_iter = mmp_stackfs_read_iter,
	.write_iter = mmp_stackfs_write_iter,
	.splice_read = mmp_stackfs_splice_read,
	.fsync = mmp_stackfs_fsync,
};

static int mmp_stackfs_iterate(struct file *file, struct dir_context *ctx)
{
	struct file *lower = mmp_stackfs_lower_file(file);
	const struct cred *old;
	int ret;

	/* Entries and offsets are the lower dir's; so is f_pos. */
	lower->f_pos = ctx->pos;
	old = override_creds(file->f_cred);
	ret = iterate_dir(lower, ctx);
	revert_creds(old);
	fsstack_copy_attr_atime(file_inode(file), file_inode(lower));
	return ret;
}

static const struct file_operations mmp_stackfs_dir_fops = {
	.owner = THIS_MODULE,
	.open = mmp_stackfs_open,
	.release = mmp_stackfs_release,
	.llseek = mmp_stackfs_llseek,
	.read = generic_read_dir,
	.iterate_shared = mmp_stackfs_iterate,
	.fsync = mmp_stackfs_fsync,
};

static void mmp_stackfs_evict_inode(struct inode *inode)
{
	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	iput(mmp_stackfs_lower_inode(inode));
}

static int mmp_stackfs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct mmp_stackfs_sb *sbi = dentry->d_sb->s_fs_info;
	int ret = vfs_statfs(&sbi->lower, buf);

	if (!ret)
		buf->f_type = MMP_STACKFS_MAGIC;
	return ret;
}

static int mmp_stackfs_show_options(struct seq_file *m, struct dentry *root)
{
	struct mmp_stackfs_sb *sbi = root->d_sb->s_fs_info;

	seq_puts(m, ",lowerdir=");
	seq_path(m, &sbi->lower, ", \t\n\\");
	return 0;
}

static const struct super_operations mmp_stackfs_sops = {
	/* Cached inodes would keep deleted lower inodes (and space) alive. */
	.drop_inode = inode_just_drop,
	.evict_inode = mmp_stackfs_evict_inode,
	.statfs = mmp_stackfs_statfs,
	.show_options = mmp_stackfs_show_options,
};

static int mmp_stackfs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	const char *lowerdir = fc->fs_private;
	struct mmp_stackfs_sb *sbi;
	struct super_block *lower_sb;
	struct inode *root;
	int mnt_flags, ret;

	if (!lowerdir)
		return invalfc(fc, "lowerdir= is required");
	sbi = kzalloc_obj(*sbi);
	if (!sbi)
		return -ENOMEM;
	sb->s_fs_info = sbi; /* freed by mmp_stackfs_kill_sb() */

	ret = kern_path(lowerdir, LOOKUP_FOLLOW | LOOKUP_DIRECTORY,
			&sbi->lower);
	if (ret) {
		errorfc(fc, "lowerdir %s: %pe", lowerdir, ERR_PTR(ret));
		return ret;
	}
	if (is_idmapped_mnt(sbi->lower.mnt))
		return invalfc(fc, "lowerdir %s: idmapped mounts unsupported",
			       lowerdir);
	lower_sb = sbi->lower.mnt->mnt_sb;
	sb->s_stack_depth = lower_sb->s_stack_depth + 1;
	if (sb->s_stack_depth > FILESYSTEM_MAX_STACK_DEPTH)
		return invalfc(fc, "lowerdir %s: stack depth %d exceeds %d",
			       lowerdir, sb->s_stack_depth,
			       FILESYSTEM_MAX_STACK_DEPTH);

	/* What the lower mount or superblock forbids, ours must not allow. */
	mnt_flags = sbi->lower.mnt->mnt_flags;
	sb->s_iflags |= lower_sb->s_iflags & (SB_I_NODEV | SB_I_NOEXEC);
	if (mnt_flags & MNT_NODEV)
		sb->s_iflags |= SB_I_NODEV;
	if (mnt_flags & MNT_NOEXEC)
		sb->s_iflags |= SB_I_NOEXEC;
	sbi->nosuid = mnt_flags & MNT_NOSUID;
	sbi->nosymfollow = mnt_flags & MNT_NOSYMFOLLOW;

	sb->s_magic = MMP_STACKFS_MAGIC;
	sb->s_op = &mmp_stackfs_sops;
	sb->s_maxbytes = lower_sb->s_maxbytes;
	sb->s_time_gran = lower_sb->s_time_gran;
	sb->s_blocksize = lower_sb->s_blocksize;
	sb->s_blocksize_bits = lower_sb->s_blocksize_bits;
	set_default_d_op(sb, &mmp_stackfs_dops);

	root = mmp_stackfs_iget(sb, d_inode(sbi->lower.dentry));
	if (IS_ERR(root))
		return PTR_ERR(root);
	sb->s_root = d_make_root(root);
	if (!sb->s_root)
		return -ENOMEM;
	sb->s_root->d_fsdata = dget(sbi->lower.dentry);
	return 0;
}

static void mmp_stackfs_kill_sb(struct super_block *sb)
{
	struct mmp_stackfs_sb *sbi = sb->s_fs_info;

	kill_anon_super(sb);
	if (sbi) {
		path_put(&sbi->lower);
		kfree(sbi);
	}
}

enum { MMP_STACKFS_OPT_LOWERDIR };

static const struct fs_parameter_spec mmp_stackfs_params[] = {
	fsparam_string("lowerdir", MMP_STACKFS_OPT_LOWERDIR),
	{}
};

static int mmp_stackfs_parse_param(struct fs_context *fc,
				   struct fs_parameter *param)
{
	struct fs_parse_result result;
	int opt;

	opt = fs_parse(fc, mmp_stackfs_params, param, &result);
	if (opt < 0)
		return opt;
	/* The last lowerdir= wins, as with any repeated mount option. */
	kfree(fc->fs_private);
	fc->fs_private = param->string;
	param->string = NULL;
	return 0;
}

static int mmp_stackfs_get_tree(struct fs_context *fc)
{
	return get_tree_nodev(fc, mmp_stackfs_fill_super);
}

static void mmp_stackfs_free_fc(struct fs_context *fc)
{
	kfree(fc->fs_private);
}

static const struct fs_context_operations mmp_stackfs_context_ops = {
	.parse_param = mmp_stackfs_parse_param,
	.get_tree = mmp_stackfs_get_tree,
	.free = mmp_stackfs_free_fc,
};

static int mmp_stackfs_init_fs_context(struct fs_context *fc)
{
	fc->ops = &mmp_stackfs_context_ops;
	return 0;
}

static struct file_system_type mmp_stackfs_type = {
	.owner = THIS_MODULE,
	.name = "mmp_stackfs",
	.init_fs_context = mmp_stackfs_init_fs_context,
	.parameters = mmp_stackfs_params,
	.kill_sb = mmp_stackfs_kill_sb,
};
MODULE_ALIAS_FS("mmp_stackfs");

static int __init mmp_stackfs_init(void)
{
	int ret = register_filesystem(&mmp_stackfs_type);

	if (!ret) {
		pr_info("filesystem %s: mmap_prepare forwarded to the lower file, backing_file_mmap() for lower files with only ->mmap\n",
			mmp_stackfs_type.name);
		pr_info("mmap path: " MMP_MMAP_PATH "\n");
		pr_info("lower files: " MMP_LOWER_FILES "\n");
	}
	return ret;
}

static void __exit mmp_stackfs_exit(void)
{
	unregister_filesystem(&mmp_stackfs_type);
}

module_init(mmp_stackfs_init);
module_exit(mmp_stackfs_exit);

MODULE_DESCRIPTION("Stacked filesystem forwarding mmap_prepare");
MODULE_LICENSE("GPL");
