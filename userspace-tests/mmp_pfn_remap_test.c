// SPDX-License-Identifier: GPL-2.0
/*
 * KTAP test for the mmp_pfn_remap driver.
 *
 * The module exposes one kernel buffer through two misc devices, one using
 * f_op->mmap_prepare and one using the legacy f_op->mmap. Both must behave
 * identically, so the same suite runs against each, followed by checks
 * that a live mapping pins the module and that it unloads cleanly after.
 *
 * Usage: mmp_pfn_remap_test [-k mmp_pfn_remap.ko] [-n]
 *   -k  reload the module from this file after the unload test
 *   -n  skip the module unload/reload section
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ktap.h"
#include "mmp_util.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

#define MOD_NAME	"mmp_pfn_remap"
#define DEFAULT_NR_PAGES 16UL

/* Results per device suite and for the module section; fixes the plan. */
enum {
	N_FULL = 1,
	N_PARTIAL = 1,
	N_VMFLAGS = 3,
	N_BAD = 12,
	N_MPROTECT = 3,
	N_SHARED = 3,
	N_MREMAP = 8,
	N_FORK = 2,
	N_MUNMAP = 2,
	DEV_RESULTS = N_FULL + N_PARTIAL + N_VMFLAGS + N_BAD + N_MPROTECT +
		      N_SHARED + N_MREMAP + N_FORK + N_MUNMAP,
	MOD_RESULTS = 8,	/* 2 per pinned unload + unload, nodes, reload, contents */
};

struct dev {
	const char *path;
	const char *name;	/* used as the result name prefix */
	const struct dev *twin;	/* the other device on the same buffer */
};

static const struct dev devs[2] = {
	{ "/dev/mmp-pfn-remap", "mmp-pfn-remap", &devs[1] },
	{ "/dev/mmp-pfn-remap-legacy", "mmp-pfn-remap-legacy", &devs[0] },
};

static size_t page;
static unsigned long nr_pages;

/* Set while one result aggregates many checks, or the device is missing. */
static bool quiet;
#define diag(...) do { if (!quiet) ktap_diag(__VA_ARGS__); } while (0)

/* Byte the driver puts at buffer offset @o when it is loaded. */
static uint8_t pattern(size_t o)
{
	return mmp_pattern(o, page);
}

/*
 * A driver bug can make an access to a mapping fault. Catch SIGSEGV and
 * SIGBUS around guarded accesses so that it becomes a "not ok" with a
 * diagnostic instead of killing the test and losing the rest of the plan.
 */
static sigjmp_buf fault_env;
static volatile sig_atomic_t fault_armed, fault_sig;
static void *volatile fault_addr;

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!fault_armed) {
		/* Not a guarded access: a bug in the test, die by the signal. */
		signal(sig, SIG_DFL);
		return;
	}
	fault_armed = 0;
	fault_sig = sig;
	fault_addr = si->si_addr;
	siglongjmp(fault_env, 1);
}

struct span {
	uint8_t *p;
	size_t off;	/* buffer offset that p[0] maps */
	size_t len;
	uint8_t xor;	/* expected byte is pattern() ^ xor */
	bool fill;	/* store the expected bytes instead of comparing */
	size_t bad;	/* index of the first mismatch, len if none */
	uint8_t got;
};

/* Out of line so no local of span_run() is live across the siglongjmp. */
static __attribute__((noinline)) void span_walk(struct span *s)
{
	size_t i;

	for (i = 0; i < s->len; i++) {
		uint8_t want = pattern(s->off + i) ^ s->xor;

		if (s->fill) {
			s->p[i] = want;
		} else if (s->p[i] != want) {
			s->got = s->p[i];
			break;
		}
	}
	s->bad = i;
}

static bool span_run(const char *what, struct span *s)
{
	if (sigsetjmp(fault_env, 1)) {
		diag("%s: %s at %p", what, strsignal(fault_sig),
		     (void *)fault_addr);
		return false;
	}
	fault_armed = 1;
	span_walk(s);
	fault_armed = 0;
	if (s->bad == s->len)
		return true;
	diag("%s: byte at +%#zx (buffer offset %#zx) is %#04x, expected %#04x",
	     what, s->bad, s->off + s->bad, s->got,
	     pattern(s->off + s->bad) ^ s->xor);
	return false;
}

/* Check that @len bytes at @p hold pattern() ^ @xor from buffer offset @off. */
static bool check_bytes(const char *what, void *p, size_t off, size_t len,
			uint8_t xor)
{
	struct span s = { .p = p, .off = off, .len = len, .xor = xor };

	return span_run(what, &s);
}

static bool fill_bytes(const char *what, void *p, size_t off, size_t len,
		       uint8_t xor)
{
	struct span s = { .p = p, .off = off, .len = len, .xor = xor,
			  .fill = true };

	return span_run(what, &s);
}

static int open_dev(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		diag("open %s: %s", path, strerror(errno));
	return fd;
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Shared map of pages [pgoff, pgoff + npages); NULL with a diagnostic. */
static void *map_pages(int fd, unsigned long pgoff, size_t npages, int prot)
{
	void *p;

	if (fd < 0)
		return NULL;	/* open_dev() already said why */
	p = mmap(NULL, npages * page, prot, MAP_SHARED, fd,
		 (off_t)(pgoff * page));
	if (p == MAP_FAILED) {
		diag("mmap pgoff=%lu pages=%zu prot=%#x: %s", pgoff, npages,
		     prot, strerror(errno));
		return NULL;
	}
	return p;
}

static void unmap_pages(void *p, size_t npages)
{
	if (p && munmap(p, npages * page))
		diag("munmap %p: %s", p, strerror(errno));
}

/* True if no page of [p, p + npages * page) is mapped any more. */
static bool is_unmapped(void *p, size_t npages)
{
	unsigned char vec;
	size_t i;

	for (i = 0; i < npages; i++) {
		void *pg = (char *)p + i * page;

		if (mincore(pg, page, &vec) == 0 || errno != ENOMEM) {
			diag("page %p still mapped", pg);
			return false;
		}
	}
	return true;
}

static int count_maps(const char *path)
{
	int n = mmp_count_maps(path);

	if (n < 0)
		diag("/proc/self/maps: %s", strerror(errno));
	return n;
}

/*
 * Copy the VmFlags of the VMA that starts at @p into @flags. The VMA must
 * span exactly @len bytes, which also catches unexpected merges, splits or
 * resizes.
 */
static bool vma_flags(void *p, size_t len, char *flags, size_t size)
{
	unsigned long end;

	if (!mmp_vma_info(p, &end, flags, size)) {
		diag("no VmFlags for a %zu byte VMA at %p", len, p);
		return false;
	}
	if (end != (unsigned long)p + len) {
		diag("VMA at %p ends at %#lx, expected %#lx", p, end,
		     (unsigned long)p + len);
		return false;
	}
	return true;
}

/* All of the space separated flags in @list are (@want) or are not set. */
static bool flags_are(const char *flags, const char *list, bool want)
{
	char buf[128], *tok, *save;
	bool ok = true;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (mmp_has_flag(flags, tok) != want) {
			diag("VmFlags '%s': '%s' %s", flags, tok,
			     want ? "missing" : "unexpected");
			ok = false;
		}
	}
	return ok;
}

/* Record a result, or a SKIP when @skip gives a reason. */
static void KTAP_PRINTF(3, 4) report(const char *skip, bool ok,
				     const char *fmt, ...)
{
	char desc[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	if (skip)
		ktap_skip(skip, "%s", desc);
	else
		ktap_result(ok, "%s", desc);
}

static void test_full_map(const struct dev *d)
{
	int fd = open_dev(d->path, O_RDONLY);
	void *p = map_pages(fd, 0, nr_pages, PROT_READ);
	bool ok = p && check_bytes("full map", p, 0, nr_pages * page, 0);

	unmap_pages(p, nr_pages);
	close_fd(fd);
	ktap_result(ok, "%s: full map RO from O_RDONLY fd contents", d->name);
}

/* Every valid (pgoff, npages) window, aggregated into one result. */
static void test_partial_maps(const struct dev *d)
{
	unsigned long pgoff, n, total = 0, failed = 0;
	bool was_quiet = quiet;
	int fd = open_dev(d->path, O_RDONLY);

	for (pgoff = 0; pgoff < nr_pages; pgoff++) {
		for (n = 1; n <= nr_pages - pgoff; n++) {
			char what[80];
			void *p;

			total++;
			snprintf(what, sizeof(what),
				 "partial map pgoff=%lu pages=%lu", pgoff, n);
			p = map_pages(fd, pgoff, n, PROT_READ);
			if (!p || !check_bytes(what, p, pgoff * page,
					       n * page, 0)) {
				/* Only the first failure is worth a diag. */
				failed++;
				quiet = true;
			}
			unmap_pages(p, n);
		}
	}
	quiet = was_quiet;
	close_fd(fd);
	if (failed)
		diag("%lu of %lu partial maps failed", failed, total);
	ktap_result(!failed, "%s: partial map contents, %lu partial maps checked",
		    d->name, total);
}

static void test_vmflags_one(const struct dev *d, int oflags, int prot,
			     const char *set, const char *clear,
			     const char *desc)
{
	int fd = open_dev(d->path, oflags);
	void *p = map_pages(fd, 0, nr_pages, prot);
	char flags[256];
	bool ok = false;

	if (p && vma_flags(p, nr_pages * page, flags, sizeof(flags))) {
		/* Both checks run so every wrong flag gets reported. */
		ok = flags_are(flags, set, true);
		ok = flags_are(flags, clear, false) && ok;
	}
	unmap_pages(p, nr_pages);
	close_fd(fd);
	ktap_result(ok, "%s: VmFlags of %s", d->name, desc);
}

static void test_vmflags(const struct dev *d)
{
	/*
	 * do_mmap() drops VM_SHARED and VM_MAYWRITE for MAP_SHARED of a file
	 * not opened for writing, so only "ms" marks that map as shared.
	 */
	test_vmflags_one(d, O_RDONLY, PROT_READ,
			 "rd mr ms io pf de dd", "sh wr mw ex me",
			 "RO map from O_RDONLY fd");
	test_vmflags_one(d, O_RDWR, PROT_READ,
			 "rd sh mr mw ms io pf de dd", "wr ex me",
			 "RO map from O_RDWR fd");
	test_vmflags_one(d, O_RDWR, PROT_READ | PROT_WRITE,
			 "rd wr sh mr mw ms io pf de dd", "ex me",
			 "RW map from O_RDWR fd");
}

struct bad_map {
	const char *desc;
	size_t len;
	off_t off;
	int prot;
	int flags;
	int oflags;
	int err;
};

static void test_bad_maps(const struct dev *d)
{
	const size_t big = 0x80000000UL;	/* bit 31: catches int overflow */
	const off_t top = (off_t)(0x7fffffffffffffffULL &
				  ~(unsigned long long)(page - 1));
	const off_t end = (off_t)(nr_pages * page);
	const struct bad_map bad[] = {
		{ "mmap len=0", 0, 0,
		  PROT_READ, MAP_SHARED, O_RDONLY, EINVAL },
		{ "mmap len=nr_pages+1 pages", (nr_pages + 1) * page, 0,
		  PROT_READ, MAP_SHARED, O_RDONLY, ENXIO },
		{ "mmap pgoff=nr_pages len=1 page", page, end,
		  PROT_READ, MAP_SHARED, O_RDONLY, ENXIO },
		{ "mmap pgoff=nr_pages-1 len=2 pages", 2 * page,
		  end - (off_t)page,
		  PROT_READ, MAP_SHARED, O_RDONLY, ENXIO },
		{ "mmap offset=2^63-page_size len=1 page", page, top,
		  PROT_READ, MAP_SHARED, O_RDONLY, ENXIO },
		{ "mmap len=0x80000000", big, 0,
		  PROT_READ, MAP_SHARED, O_RDONLY, ENXIO },
		{ "mmap pgoff=1 len=0x80000000", big, (off_t)page,
		  PROT_READ, MAP_SHARED, O_RDONLY, ENXIO },
		{ "mmap unaligned offset=1", page, 1,
		  PROT_READ, MAP_SHARED, O_RDONLY, EINVAL },
		{ "mmap MAP_PRIVATE PROT_READ", page, 0,
		  PROT_READ, MAP_PRIVATE, O_RDONLY, EINVAL },
		/* O_RDWR so that the refusal cannot come from the fd mode. */
		{ "mmap MAP_PRIVATE PROT_READ|PROT_WRITE", page, 0,
		  PROT_READ | PROT_WRITE, MAP_PRIVATE, O_RDWR, EINVAL },
		{ "mmap PROT_READ|PROT_EXEC", page, 0,
		  PROT_READ | PROT_EXEC, MAP_SHARED, O_RDWR, EPERM },
		{ "mmap PROT_READ|PROT_WRITE on O_RDONLY fd", page, 0,
		  PROT_READ | PROT_WRITE, MAP_SHARED, O_RDONLY, EACCES },
	};
	_Static_assert(sizeof(bad) / sizeof(bad[0]) == N_BAD, "plan");
	size_t i;

	for (i = 0; i < N_BAD; i++) {
		const struct bad_map *b = &bad[i];
		int fd = open_dev(d->path, b->oflags);
		bool ok = false;

		if (fd >= 0) {
			int before = count_maps(d->path), after, err;
			void *p;

			p = mmap(NULL, b->len, b->prot, b->flags, fd, b->off);
			err = errno;
			after = count_maps(d->path);
			ok = ktap_errno_ok((long)(intptr_t)p, err, b->err,
					   b->desc);
			if (before < 0 || before != after) {
				diag("%s: %d device mappings before, %d after",
				     b->desc, before, after);
				ok = false;
			}
			if (p != MAP_FAILED)
				munmap(p, b->len);
			close(fd);
		}
		ktap_result(ok, "%s: %s fails %s, nothing left mapped",
			    d->name, b->desc, ktap_errname(b->err));
	}
}

static void test_mprotect(const struct dev *d)
{
	int fd_ro = open_dev(d->path, O_RDONLY);
	int fd_rw = open_dev(d->path, O_RDWR);
	void *ro = map_pages(fd_ro, 0, 1, PROT_READ);
	void *rw = map_pages(fd_rw, 0, 1, PROT_READ | PROT_WRITE);
	void *rw_ro = map_pages(fd_rw, 0, 1, PROT_READ);
	bool no_write = false, no_exec = false, upgrade = false;
	int ret;

	if (ro) {
		/* No VM_MAYWRITE without FMODE_WRITE. */
		ret = mprotect(ro, page, PROT_READ | PROT_WRITE);
		no_write = ktap_errno_ok(ret, errno, EACCES, "mprotect RW");
	}
	if (rw) {
		/* The driver clears VM_MAYEXEC. */
		ret = mprotect(rw, page, PROT_READ | PROT_EXEC);
		no_exec = ktap_errno_ok(ret, errno, EACCES, "mprotect RX");
	}
	if (rw_ro) {
		ret = mprotect(rw_ro, page, PROT_READ | PROT_WRITE);
		if (ret)
			diag("mprotect RW of O_RDWR map: %s", strerror(errno));
		/*
		 * Prove the PTEs became writable by storing the bytes that are
		 * already there, only after checking they are the pattern.
		 */
		upgrade = !ret &&
			  check_bytes("before rewrite", rw_ro, 0, page, 0) &&
			  fill_bytes("rewrite after mprotect", rw_ro, 0, page, 0) &&
			  check_bytes("after rewrite", rw_ro, 0, page, 0);
	}
	unmap_pages(ro, 1);
	unmap_pages(rw, 1);
	unmap_pages(rw_ro, 1);
	close_fd(fd_ro);
	close_fd(fd_rw);
	ktap_result(no_write,
		    "%s: mprotect PROT_READ|PROT_WRITE of O_RDONLY fd map fails EACCES",
		    d->name);
	ktap_result(no_exec,
		    "%s: mprotect PROT_READ|PROT_EXEC of O_RDWR fd map fails EACCES",
		    d->name);
	ktap_result(upgrade,
		    "%s: mprotect PROT_READ|PROT_WRITE of O_RDWR fd RO map succeeds, writable",
		    d->name);
}

static void test_shared_write(const struct dev *d)
{
	const char *skip = nr_pages < 2 ? "needs nr_pages >= 2" : NULL;
	bool same = false, twin = false, restored = false;

	if (!skip) {
		int fd_rw = open_dev(d->path, O_RDWR);
		int fd_ro = open_dev(d->path, O_RDONLY);
		int fd_tw = open_dev(d->twin->path, O_RDONLY);
		void *w = map_pages(fd_rw, 0, nr_pages, PROT_READ | PROT_WRITE);
		void *r = map_pages(fd_ro, 1, 1, PROT_READ);
		void *t = map_pages(fd_tw, 1, 1, PROT_READ);
		char *pg1 = w ? (char *)w + page : NULL;
		int fd;
		void *v;

		/*
		 * Only scribble over page 1 if it holds the pattern, so that
		 * writing the pattern back really restores the original.
		 */
		if (pg1 && check_bytes("page 1 before write", pg1, page, page, 0)) {
			bool wrote = fill_bytes("write ~pattern", pg1, page,
						page, 0xff);

			same = wrote && r &&
			       check_bytes("second map", r, page, page, 0xff);
			twin = wrote && t &&
			       check_bytes("twin map", t, page, page, 0xff);
			fill_bytes("restore page 1", pg1, page, page, 0);
		}
		unmap_pages(w, nr_pages);
		unmap_pages(r, 1);
		unmap_pages(t, 1);
		close_fd(fd_rw);
		close_fd(fd_ro);
		close_fd(fd_tw);

		/* A fresh mapping shows what the kernel buffer now holds. */
		fd = open_dev(d->path, O_RDONLY);
		v = map_pages(fd, 1, 1, PROT_READ);
		restored = v && check_bytes("fresh map of page 1", v, page,
					    page, 0);
		unmap_pages(v, 1);
		close_fd(fd);
	}
	report(skip, same,
	       "%s: shared write to page 1 visible in second mapping of %s",
	       d->name, d->name);
	report(skip, twin,
	       "%s: shared write to page 1 visible in mapping of %s",
	       d->name, d->twin->name);
	report(skip, restored, "%s: page 1 original bytes restored", d->name);
}

static void test_mremap(const struct dev *d)
{
	const char *skip = nr_pages < 4 ? "needs nr_pages >= 4" : NULL;
	bool grow = false, grow_move = false, dontunmap = false, intact = false;
	bool shrink = false, tail = false, moved = false, old_gone = false;

	if (!skip) {
		int fd = open_dev(d->path, O_RDONLY);
		void *p = map_pages(fd, 0, 1, PROT_READ), *q, *dst;
		size_t np = 1;
		char flags[256];

		/* VM_PFNMAP|VM_DONTEXPAND mappings cannot grow or be cloned. */
		if (p) {
			q = mremap(p, page, 2 * page, 0);
			grow = ktap_errno_ok((long)(intptr_t)q, errno, EFAULT,
					     "mremap grow");
			if (q != MAP_FAILED)
				np = 2;
		}
		if (p && np == 1) {
			q = mremap(p, page, 2 * page, MREMAP_MAYMOVE);
			grow_move = ktap_errno_ok((long)(intptr_t)q, errno,
						  EFAULT, "mremap grow MAYMOVE");
			if (q != MAP_FAILED) {
				p = q;
				np = 2;
			}
		}
		if (p && np == 1) {
			q = mremap(p, page, page,
				   MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
			dontunmap = ktap_errno_ok((long)(intptr_t)q, errno,
						  EINVAL, "mremap DONTUNMAP");
			if (q != MAP_FAILED)
				unmap_pages(q, 1);
		}
		intact = p && np == 1 &&
			 vma_flags(p, page, flags, sizeof(flags)) &&
			 check_bytes("after failed mremaps", p, 0, page, 0);
		unmap_pages(p, np);

		/* Shrinking in place is allowed and unmaps the tail. */
		p = map_pages(fd, 0, 4, PROT_READ);
		if (p) {
			q = mremap(p, 4 * page, 2 * page, 0);
			if (q == MAP_FAILED)
				diag("mremap shrink: %s", strerror(errno));
			else if (q != p)
				diag("mremap shrink moved %p to %p", p, q);
			shrink = q == p &&
				 check_bytes("after shrink", p, 0, 2 * page, 0);
			tail = q == p && is_unmapped((char *)p + 2 * page, 2);
			if (q != MAP_FAILED && q != p)
				unmap_pages(q, 2);
			unmap_pages(p, q == p ? 2 : 4);
		}

		/* Move onto a reservation; pgoff 1 checks vm_pgoff moves too. */
		p = map_pages(fd, 1, 2, PROT_READ);
		dst = mmap(NULL, 2 * page, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (dst == MAP_FAILED) {
			diag("reserve mremap target: %s", strerror(errno));
			dst = NULL;
		}
		if (p && dst) {
			q = mremap(p, 2 * page, 2 * page,
				   MREMAP_MAYMOVE | MREMAP_FIXED, dst);
			if (q == MAP_FAILED)
				diag("mremap FIXED: %s", strerror(errno));
			else if (q != dst)
				diag("mremap FIXED returned %p, not %p", q, dst);
			moved = q == dst &&
				check_bytes("after move", dst, page, 2 * page, 0);
			old_gone = q == dst && is_unmapped(p, 2);
			if (q != MAP_FAILED) {
				if (q != dst)
					unmap_pages(q, 2);
				p = NULL;
			}
		}
		unmap_pages(p, 2);
		unmap_pages(dst, 2);
		close_fd(fd);
	}
	report(skip, grow, "%s: mremap grow 1->2 pages fails EFAULT", d->name);
	report(skip, grow_move,
	       "%s: mremap grow 1->2 pages with MREMAP_MAYMOVE fails EFAULT",
	       d->name);
	report(skip, dontunmap,
	       "%s: mremap MREMAP_MAYMOVE|MREMAP_DONTUNMAP fails EINVAL",
	       d->name);
	report(skip, intact, "%s: mapping intact after failed mremaps", d->name);
	report(skip, shrink,
	       "%s: mremap shrink 4->2 pages keeps address and contents",
	       d->name);
	report(skip, tail, "%s: mremap shrink 4->2 pages unmaps the tail",
	       d->name);
	report(skip, moved, "%s: mremap MREMAP_FIXED move keeps contents",
	       d->name);
	report(skip, old_gone, "%s: mremap MREMAP_FIXED move unmaps old range",
	       d->name);
}

static void test_fork(const struct dev *d)
{
	int fd = open_dev(d->path, O_RDONLY);
	void *p = map_pages(fd, 0, nr_pages, PROT_READ);
	bool child_ok = false, parent_ok = false;

	if (p) {
		int status;
		pid_t pid;

		fflush(stdout);	/* don't let the child repeat buffered output */
		pid = fork();
		if (pid == 0)
			_exit(check_bytes("child", p, 0, nr_pages * page, 0) ?
			      0 : 1);
		if (pid < 0) {
			diag("fork: %s", strerror(errno));
		} else {
			pid_t w;

			do
				w = waitpid(pid, &status, 0);
			while (w < 0 && errno == EINTR);
			if (w < 0)
				diag("waitpid: %s", strerror(errno));
			else
				child_ok = WIFEXITED(status) &&
					   !WEXITSTATUS(status);
			if (w >= 0 && !child_ok)
				diag("child wait status %#x", status);
		}
		parent_ok = check_bytes("parent after fork", p, 0,
					nr_pages * page, 0);
	}
	unmap_pages(p, nr_pages);
	close_fd(fd);
	ktap_result(child_ok, "%s: forked child sees full mapping contents",
		    d->name);
	ktap_result(parent_ok, "%s: parent mapping intact after child exit",
		    d->name);
}

static void test_munmap_split(const struct dev *d)
{
	const char *skip = nr_pages < 4 ? "needs nr_pages >= 4" : NULL;
	bool split = false, outer = false;

	if (!skip) {
		int fd = open_dev(d->path, O_RDONLY);
		/* pgoff 1: the right-hand VMA must get vm_pgoff 3 */
		char *p = map_pages(fd, 1, 3, PROT_READ);
		char flags[256];

		if (p) {
			if (munmap(p + page, page))
				diag("munmap middle: %s", strerror(errno));
			else
				split = is_unmapped(p + page, 1) &&
					vma_flags(p, page, flags, sizeof(flags)) &&
					vma_flags(p + 2 * page, page, flags,
						  sizeof(flags));
			outer = check_bytes("left page", p, page, page, 0) &&
				check_bytes("right page", p + 2 * page,
					    3 * page, page, 0);
			unmap_pages(p, 3);
		}
		close_fd(fd);
	}
	report(skip, split, "%s: munmap middle page of 3-page map splits it",
	       d->name);
	report(skip, outer, "%s: outer pages intact after split", d->name);
}

static void device_suite(const struct dev *d)
{
	int fd = open(d->path, O_RDONLY | O_CLOEXEC);

	ktap_diag("%s: nr_pages=%lu page_size=%zu", d->path, nr_pages, page);
	if (fd < 0) {
		/* Still run everything: each test records its own not ok. */
		ktap_diag("%s: device missing (%s), all its tests fail",
			  d->path, strerror(errno));
		quiet = true;
	}
	close_fd(fd);

	test_full_map(d);
	test_partial_maps(d);
	test_vmflags(d);
	test_bad_maps(d);
	test_mprotect(d);
	test_shared_write(d);
	test_mremap(d);
	test_fork(d);
	test_munmap_split(d);
	quiet = false;
}

static long unload(void)
{
	/* O_NONBLOCK: fail with EWOULDBLOCK instead of waiting for users. */
	return syscall(SYS_delete_module, MOD_NAME, O_NONBLOCK);
}

/* devtmpfs updates /dev asynchronously to us: poll for up to 1 s. */
static bool wait_node(const char *path, bool present)
{
	const struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	struct stat st;
	int i, ret;

	for (i = 0; i < 100; i++) {
		ret = stat(path, &st);
		if (present ? !ret : ret && errno == ENOENT)
			return true;
		nanosleep(&tick, NULL);
	}
	diag("%s still %s after 1 s", path, present ? "missing" : "present");
	return false;
}

/* A VMA keeps its file, and so the module, alive after close(fd). */
static void test_pinned_unload(const struct dev *d, const char *skip)
{
	bool refused = false, intact = false;

	if (!skip) {
		int fd = open_dev(d->path, O_RDONLY);
		void *p = map_pages(fd, 0, nr_pages, PROT_READ);

		close_fd(fd);
		if (p) {
			long ret = unload();

			refused = ktap_errno_ok(ret, errno, EAGAIN,
						"delete_module");
			intact = check_bytes("after refused unload", p, 0,
					     nr_pages * page, 0);
			unmap_pages(p, nr_pages);
		}
	}
	report(skip, refused,
	       "module: delete_module fails EAGAIN while %s mapped, fd closed",
	       d->name);
	report(skip, intact, "module: %s mapping intact after refused unload",
	       d->name);
}

/* Load @ko and check both devices come back with the pattern. */
static void test_reload(const char *ko, bool *loaded, bool *back)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), i;

	if (fd < 0) {
		diag("open %s: %s", ko, strerror(errno));
		return;
	}
	if (syscall(SYS_finit_module, fd, "", 0))
		diag("finit_module %s: %s", ko, strerror(errno));
	else
		*loaded = true;
	close(fd);

	*back = *loaded;
	for (i = 0; i < 2 && *loaded; i++) {
		void *p = NULL;

		fd = -1;
		if (wait_node(devs[i].path, true)) {
			fd = open_dev(devs[i].path, O_RDONLY);
			p = map_pages(fd, 0, 1, PROT_READ);
		}
		if (!p || !check_bytes("page 0 after reload", p, 0, page, 0))
			*back = false;
		unmap_pages(p, 1);
		close_fd(fd);
	}
}

static void module_suite(const char *ko, bool no_module)
{
	const char *skip = no_module ? "-n given" : NULL;
	const char *reload_skip = skip ? skip : ko ? NULL : "no -k module path";
	bool unloaded = false, gone = false, loaded = false, back = false;
	int i;

	for (i = 0; i < 2 && !skip; i++)
		if (count_maps(devs[i].path) > 0)
			ktap_diag("%s still mapped before unload tests",
				  devs[i].path);

	test_pinned_unload(&devs[0], skip);
	test_pinned_unload(&devs[1], skip);

	if (!skip) {
		unloaded = !unload();
		if (!unloaded)
			diag("delete_module: %s", strerror(errno));
		/* Evaluate both so that each lingering node is reported. */
		gone = unloaded && wait_node(devs[0].path, false);
		gone = unloaded && wait_node(devs[1].path, false) && gone;
	}
	report(skip, unloaded,
	       "module: delete_module succeeds after munmap and close");
	report(skip, gone, "module: device nodes removed after unload");

	if (!reload_skip)
		test_reload(ko, &loaded, &back);
	report(reload_skip, loaded, "module: reload with finit_module");
	report(reload_skip, back,
	       "module: devices back with correct page 0 after reload");
}

/* nr_pages as the loaded module reports it; falls back to the default. */
static unsigned long read_nr_pages(void)
{
	long n = mmp_read_param(MOD_NAME, "nr_pages");

	if (n > 0)
		return n;
	ktap_diag("cannot read nr_pages of %s, assuming %lu", MOD_NAME,
		  DEFAULT_NR_PAGES);
	return DEFAULT_NR_PAGES;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = fault_handler,
				.sa_flags = SA_SIGINFO };
	const char *ko = NULL;
	bool no_module = false;
	int opt;

	while ((opt = getopt(argc, argv, "k:n")) != -1) {
		switch (opt) {
		case 'k':
			ko = optarg;
			break;
		case 'n':
			no_module = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-k module.ko] [-n]\n",
				argv[0]);
			return 2;
		}
	}

	page = (size_t)sysconf(_SC_PAGESIZE);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	ktap_start(MOD_NAME, 2 * DEV_RESULTS + MOD_RESULTS);
	nr_pages = read_nr_pages();
	device_suite(&devs[0]);
	device_suite(&devs[1]);
	module_suite(ko, no_module);
	return ktap_finish();
}
