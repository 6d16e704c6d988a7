/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Building blocks of the driver tests: accesses to mappings that may fault,
 * the checks every exported device node gets (VmFlags, bad mmap input,
 * mprotect, mremap, fork, io_uring), unbinding while mapped and module
 * unload/reload.
 *
 * Every mmp_test_*() function records a fixed number of results, given in
 * its comment, so that each test can compute its plan up front. A result
 * is "not ok" whenever its check could not run (missing device, failed
 * open or mmap), never skipped silently.
 */
#ifndef MMP_TESTLIB_H
#define MMP_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ktap.h"
#include "mmp_util.h"

/* Set while one result aggregates many checks, or the device is missing. */
extern bool mmp_quiet;
#define diag(...) do { if (!mmp_quiet) ktap_diag(__VA_ARGS__); } while (0)

/*
 * Parse -k module.ko (reload path) and -n (skip the module unload section),
 * install the SIGSEGV/SIGBUS catcher and start KTAP output for @plan
 * results of test @name. Returns the page size, or 0 after printing the
 * usage.
 */
size_t mmp_test_start(int argc, char **argv, const char *name, int plan,
		      const char **ko, bool *no_module);

/*
 * mmp_test_start() with options of the test's own: @opts in getopt(3) form
 * (without k and n), each handed to @opt, which returns false to reject
 * it; @usage describes them for the usage line.
 */
size_t mmp_test_start_opts(int argc, char **argv, const char *name, int plan,
			   const char **ko, bool *no_module, const char *opts,
			   bool (*opt)(int c, const char *arg),
			   const char *usage);

/*
 * The page size, which the library needs before any mapping helper runs;
 * mmp_test_start*() call it. For programs that print no KTAP (mmp_bench).
 */
size_t mmp_page_init(void);

/* Record a result, or a SKIP when @skip gives a reason. */
void mmp_report(const char *skip, bool ok, const char *fmt, ...)
	KTAP_PRINTF(3, 4);

/* Module parameter nr_pages of @mod, or @def with a diagnostic. */
unsigned long mmp_nr_pages_param(const char *mod, unsigned long def);

/* A device node under test and what a mapping of it must show. */
struct mmp_node {
	const char *path;
	const char *name;	/* result name prefix */
	size_t pages;		/* pages in a full map */
	const char *shows;	/* what check() verifies, for result names */
	/* @pages pages at @p, mapped from pgoff 0, show what they should. */
	bool (*check)(const char *what, void *p, size_t pages);
	/* Store to page 0 at @p and prove that the store landed. */
	bool (*rewrite)(const char *what, void *p);
};

/* A node named after the PCI device whose BAR it exports. */
struct mmp_pci_node {
	struct mmp_node n;
	char bdf[MMP_BDF_LEN];
	char path[64 + MMP_BDF_LEN];
	char name[64 + MMP_BDF_LEN];
	unsigned long long start;	/* physical address of the BAR */
};

/*
 * Set up path /dev/<@node>-<@bdf>, name "<@kind> <@bdf>" and pages (from
 * BAR @bar) of @pn; @bdf NULL stands for a missing device, whose checks
 * all fail. The caller fills in shows, check and rewrite.
 */
void mmp_pci_node_init(struct mmp_pci_node *pn, const char *bdf,
		       const char *node, const char *kind, int bar);

/* Module parameter "bar" of @mod, or @def with a diagnostic. */
int mmp_bar_param(const char *mod, int def);

/*
 * PCI addresses of the devices bound to @drv, at most @max; says so if
 * there is none. Returns how many were stored.
 */
int mmp_bound_devices(const char *drv, char (*bdfs)[MMP_BDF_LEN], int max);

/* If n->path cannot be opened, say so once and go quiet until cleared. */
void mmp_quiet_if_missing(const struct mmp_node *n);

/*
 * One result: while a full map exists, the x86 PAT memory type the kernel
 * tracks for the BAR (debugfs x86/pat_memtype_list) is @want, e.g.
 * "uncached-minus" or "write-combining". SKIP where debugfs does not show
 * it (not x86, debugfs not mounted).
 */
void mmp_test_memtype(const struct mmp_pci_node *pn, const char *want);

/*
 * Guarded accesses: a fault becomes false with a diagnostic. Bytes are
 * compared with (or set to) mmp_pattern() ^ @xor from buffer offset @off.
 */
bool mmp_check_bytes(const char *what, void *p, size_t off, size_t len,
		     uint8_t xor);
bool mmp_fill_bytes(const char *what, void *p, size_t off, size_t len,
		    uint8_t xor);
/* Every byte of [p, p + len) is (or is set to) @val. */
bool mmp_check_const(const char *what, void *p, size_t len, uint8_t val);
bool mmp_fill_const(const char *what, void *p, size_t len, uint8_t val);
/* mmp_node check: @pages pages at @p hold the pattern from offset 0. */
bool mmp_pattern_check(const char *what, void *p, size_t pages);
/* mmp_node rewrite: store the pattern page 0 already holds (checked). */
bool mmp_pattern_rewrite(const char *what, void *p);
/* mmp_node check: @pages pages at @p are all zero. */
bool mmp_zero_check(const char *what, void *p, size_t pages);
bool mmp_read32(const char *what, void *bar, size_t off, uint32_t *val);
bool mmp_write32(const char *what, void *bar, size_t off, uint32_t val);

/* A 32-bit read at @p raises SIGBUS (not data, not another signal). */
bool mmp_expect_sigbus(const char *what, void *p);

/* open() with O_CLOEXEC; -1 with a diagnostic. */
int mmp_open_dev(const char *path, int flags);
void mmp_close_fd(int fd);

/* Shared map of pages [pgoff, pgoff + npages); NULL with a diagnostic. */
void *mmp_map_pages(int fd, unsigned long pgoff, size_t npages, int prot);
/* The same with mmap flags @flags (MAP_SHARED or MAP_PRIVATE). */
void *mmp_map(int fd, unsigned long pgoff, size_t npages, int prot,
	      int flags);
void mmp_unmap_pages(void *p, size_t npages);

/*
 * A fresh O_RDONLY shared map of pages [pgoff, pgoff + npages) of @path
 * shows mmp_pattern() ^ @xor: what the device's buffer holds now.
 */
bool mmp_fresh_map_check(const char *what, const char *path,
			 unsigned long pgoff, size_t npages, uint8_t xor);

/* @path is a character device with permission bits @mode. */
bool mmp_node_mode_is(const char *path, unsigned int mode);
/* The same for n->path, recorded: 1 result. */
void mmp_test_node_mode(const struct mmp_node *n, unsigned int mode);

/* fork() after flushing stdout; -1 with a diagnostic. */
pid_t mmp_fork(void);
/* Reap child @pid: its exit code, or -1; a diagnostic unless it is 0. */
int mmp_wait_child(pid_t pid);
/* Run @fn(@arg) in a forked child; true if it returned true there. */
bool mmp_in_child(bool (*fn)(void *), void *arg);

/* True if no page of [p, p + npages * page) is mapped any more. */
bool mmp_is_unmapped(void *p, size_t npages);

/*
 * VmFlags of the VMA that starts at @p, which must span exactly @len bytes
 * (this also catches unexpected merges, splits or resizes).
 */
bool mmp_vma_flags(void *p, size_t len, char *flags, size_t size);

/* All of the space separated flags in @list are (@want) or are not set. */
bool mmp_flags_are(const char *flags, const char *list, bool want);

/* A full map that must have all flags of @set and none of @clear. */
struct mmp_vmflags {
	const char *desc;
	int oflags;
	int prot;
	int flags;	/* MAP_SHARED or MAP_PRIVATE */
	const char *set;
	const char *clear;
};

/* One result per entry: "<name>: VmFlags of <desc>". */
void mmp_run_vmflags(const struct mmp_node *n, const struct mmp_vmflags *v,
		     size_t count);

/*
 * VmFlags of RO/O_RDONLY, RO/O_RDWR and RW/O_RDWR full shared maps: what
 * the VFS sets, and what the driver's kind of mapping adds (@set, e.g.
 * "io pf de dd") or must never show (@clear, besides "ex me"): 3 results.
 */
void mmp_test_vmflags_kind(const struct mmp_node *n, const char *set,
			   const char *clear);

/* mmp_test_vmflags_kind() of a PFN map, "io pf de dd": 3 results. */
#define MMP_N_VMFLAGS 3
void mmp_test_vmflags(const struct mmp_node *n);

struct mmp_bad_map {
	const char *desc;
	size_t len;
	off_t off;
	int prot;
	int flags;
	int oflags;
	int err;
};

/* Each mmap must fail with its errno and leave nothing mapped: @count. */
void mmp_run_bad_maps(const struct mmp_node *n, const struct mmp_bad_map *bad,
		      size_t count);

/*
 * The standard bad input table: 12 results. Ranges beyond the n->pages
 * pages (called @unit in the result names) must fail with @range_err.
 */
#define MMP_N_BAD_MAPS 12
void mmp_test_bad_maps(const struct mmp_node *n, const char *unit,
		       int range_err);

/*
 * The standard table for drivers that allow MAP_PRIVATE: instead of the
 * two MAP_PRIVATE refusals, MAP_PRIVATE PROT_READ|PROT_EXEC fails EPERM:
 * 11 results.
 */
#define MMP_N_BAD_MAPS_ALLOW_PRIVATE (MMP_N_BAD_MAPS - 1)
void mmp_test_bad_maps_allow_private(const struct mmp_node *n,
				     const char *unit, int range_err);

/*
 * mprotect adding PROT_WRITE to an O_RDONLY map and PROT_EXEC to a RW map
 * fail EACCES; adding PROT_WRITE to an O_RDWR map works: 3 results.
 */
#define MMP_N_MPROTECT 3
void mmp_test_mprotect(const struct mmp_node *n);

/* The mapping policy: the three tests above in a row. */
#define MMP_N_POLICY (MMP_N_VMFLAGS + MMP_N_BAD_MAPS + MMP_N_MPROTECT)
void mmp_test_policy(const struct mmp_node *n, const char *unit,
		     int range_err);

/* mremap that must fail on a one-page map of pgoff 0 through @fd. */
struct mmp_mremap {
	bool grow, grow_move, dontunmap, intact;
};
void mmp_mremap_refusals(const struct mmp_node *n, int fd,
			 struct mmp_mremap *r);
/* Record (or skip) the four results of mmp_mremap_refusals(). */
void mmp_report_mremap(const char *skip, const struct mmp_node *n,
		       const struct mmp_mremap *r);
/* Both of the above on an O_RDONLY fd: 4 results. */
#define MMP_N_MREMAP 4
void mmp_test_mremap(const struct mmp_node *n);

/*
 * For drivers whose contents are the pattern (n->pages pages of it):
 * mmp_test_mremap() on an O_RDONLY fd, then shrinking 4 pages to 2 in
 * place and moving 2 pages from pgoff 1 with MREMAP_FIXED keep the
 * contents and unmap what they leave: 8 results, skipped below 4 pages.
 */
#define MMP_N_MREMAP_RESIZE (MMP_N_MREMAP + 4)
void mmp_test_mremap_resize(const struct mmp_node *n);

/* A forked child sees the full mapping, the parent's survives: 2 results. */
#define MMP_N_FORK 2
void mmp_test_fork(const struct mmp_node *n);

/* A full RO map from an O_RDONLY fd shows n->shows: 1 result. */
void mmp_test_full_map(const struct mmp_node *n);

/* The same for a MAP_PRIVATE PROT_READ map: 1 result. */
void mmp_test_private_ro(const struct mmp_node *n);

/*
 * Every valid (pgoff, npages) window of a pattern device shows the
 * pattern from its offset, aggregated into 1 result.
 */
void mmp_test_partial_maps(const struct mmp_node *n);

/* What a pattern device that allows MAP_PRIVATE shows: the three above. */
#define MMP_N_PATTERN_MAPS 3
void mmp_test_pattern_maps(const struct mmp_node *n);

/*
 * Registering the full RW map as an io_uring fixed buffer fails EFAULT (no
 * pages to pin), an anonymous buffer of the same size works: 2 results.
 */
#define MMP_N_IO_URING 2
void mmp_test_io_uring(const struct mmp_node *n);

/*
 * The same for a full shared map with protection @prot (from an O_RDWR fd
 * if it has PROT_WRITE, else O_RDONLY): 2 results. A PROT_READ map fails
 * because io_uring pins the buffer for writing.
 */
void mmp_test_io_uring_prot(const struct mmp_node *n, int prot);

/* What existing mappings go through: the three tests above in a row. */
#define MMP_N_MAPPING_OPS (MMP_N_MREMAP + MMP_N_FORK + MMP_N_IO_URING)
void mmp_test_mapping_ops(const struct mmp_node *n);

/* QEMU edu registers (mmp_util.h) as an mmp_node check and rewrite. */
bool mmp_edu_check(const char *what, void *bar, size_t pages);
bool mmp_edu_rewrite(const char *what, void *bar);
/* Set shows, check and rewrite of @n for an edu BAR0. */
void mmp_edu_node(struct mmp_node *n);
/* ID through a full O_RDONLY map, liveness for 4 values: 5 results. */
#define MMP_N_EDU_REGS 5
void mmp_test_edu_regs(const struct mmp_node *n);

/* n->path is a 0600 character device under the PCI device's misc/: 1. */
#define MMP_N_MISC_NODE 1
#define MMP_N_MEMTYPE 1
void mmp_test_misc_node(const struct mmp_node *n, const char *bdf);

/* Write @val to a sysfs attribute; false with a diagnostic. */
bool mmp_sysfs_write(const char *path, const char *val);

/*
 * Debugfs file /sys/kernel/debug/<@mod>/<@file> of a module: its single
 * line (mmp_read_line()) or its decimal count (mmp_read_long()); false
 * with a diagnostic.
 */
bool mmp_debugfs_line(const char *mod, const char *file, char *buf,
		      size_t size);
bool mmp_debugfs_long(const char *mod, const char *file, long *val);
/*
 * mmp_sysfs_write() to a debugfs file of @mod, but only where the module's
 * debugfs directory exists: without the driver this writes nothing at all.
 */
bool mmp_debugfs_write(const char *mod, const char *file, const char *val);

/* Whether PCI device @bdf is bound to driver @drv. */
bool mmp_bound_to(const char *bdf, const char *drv);

/* Unbind @bdf from @drv while n->path is mapped, then bind it again. */
struct mmp_unbind {
	const char *drv;
	const char *bdf;
	/* mmap() through the fd opened before the unbind must fail ENODEV */
	bool nodev;
	/* Find the node again after the rebind (UIO renumbers); NULL: same */
	bool (*rebound)(struct mmp_node *n);
};
/*
 * SIGBUS through the old mapping, [ENODEV,] node removed, munmap works,
 * node back, fresh map shows n->shows: 6 results, 5 without nodev.
 */
#define MMP_N_UNBIND(nodev) ((nodev) ? 6 : 5)
void mmp_test_unbind_mapped(struct mmp_node *n, const struct mmp_unbind *u);

/* delete_module(@mod) without waiting: 0, or -1 with errno. */
long mmp_unload(const char *mod);

/*
 * Whether the last "@mod: @key: ..." line in the kernel log, which the
 * module printed at load, goes on with @value.
 */
bool mmp_module_says(const char *mod, const char *key, const char *value);

/*
 * Whether @mod said at load that it maps through the compat path (legacy
 * ->mmap running its ->mmap_prepare); false for native.
 */
bool mmp_module_compat(const char *mod);

/* finit_module() of @ko; false with a diagnostic. */
bool mmp_load(const char *ko);

/* devtmpfs updates /dev asynchronously to us: poll for up to 1 s. */
bool mmp_wait_node(const char *path, bool present);

/*
 * With n->path fully mapped and its fd closed, unloading @mod fails EAGAIN
 * and the mapping keeps working: 2 results (skipped if @skip).
 */
#define MMP_N_PINNED 2
void mmp_test_pinned_unload(const char *mod, const struct mmp_node *n,
			    const char *skip);

/* The same with a PROT_READ map of mmap flags @flags: 2 results. */
void mmp_test_pinned_unload_flags(const char *mod, const struct mmp_node *n,
				  int flags, const char *skip);

/* What mmp_test_start() parsed from the command line. */
struct mmp_opts {
	const char *ko;
	bool no_module;
};

/* A test of the one node @n of module @mod. */
struct mmp_node_test {
	const char *mod;
	int plan;
	struct mmp_node *n;
	unsigned long def_pages;	/* n->pages from nr_pages; 0: as set */
	unsigned int mode;		/* for mmp_test_node_mode(); 0: none */
	void (*tests)(size_t page);	/* what mmp_node_test_main() runs */
	const char *back;		/* name of its reload result */
};

/*
 * mmp_test_start() for @t->plan results. With @t->def_pages, n->pages
 * becomes the module's nr_pages (@t->def_pages if it cannot be read).
 * Says what is tested, goes quiet if the node is missing and, with
 * @t->mode, runs mmp_test_node_mode(): 1 result. Returns the page size,
 * or 0 after printing the usage.
 */
size_t mmp_node_test_start(int argc, char **argv,
			   const struct mmp_node_test *t, struct mmp_opts *o);

/*
 * The main() of such a test: mmp_node_test_start(), @t->tests(page size),
 * loud again, then mmp_module_suite() with the node pinned and the reload
 * result named @t->back. Returns the exit status, 2 after the usage.
 */
int mmp_node_test_main(int argc, char **argv, const struct mmp_node_test *t);

/* Why the whole module section, or only its reload, is skipped: or NULL. */
const char *mmp_module_skip(bool no_module);
const char *mmp_reload_skip(bool no_module, const char *ko);

/*
 * Module section: the first @n_pinned nodes pin the module, then it
 * unloads, all @count nodes go away, it reloads from @ko and every node
 * shows page 0 again (result named @back): 2 * @n_pinned + 4 results.
 * Returns whether the module is loaded at the end.
 */
#define MMP_N_MODULE(n_pinned) (MMP_N_PINNED * (n_pinned) + 4)
bool mmp_module_suite(const char *mod, const char *ko, bool no_module,
		      const struct mmp_node *nodes, int count, int n_pinned,
		      const char *back);

/*
 * The two halves of the suite after the pinned tests. Unload: delete_module
 * succeeds (result "module: delete_module succeeds <@when>") and all @count
 * nodes go away: 2 results; returns whether it unloaded. If the caller
 * could not set up what @when says (!@ready), both fail without unloading.
 * Reload: from @ko, and every node shows page 0 again (result @back): 2
 * results; returns whether it loaded. Each is skipped if @skip.
 */
#define MMP_N_UNLOAD 2
bool mmp_unload_suite(const char *mod, const char *skip, bool ready,
		      const struct mmp_node *nodes, int count,
		      const char *when);
#define MMP_N_RELOAD 2
bool mmp_reload_suite(const char *ko, const char *skip,
		      const struct mmp_node *nodes, int count,
		      const char *back);

#endif /* MMP_TESTLIB_H */
