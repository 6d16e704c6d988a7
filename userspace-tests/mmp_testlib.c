// SPDX-License-Identifier: GPL-2.0
/*
 * Building blocks of the driver tests, see mmp_testlib.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <liburing.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mmp_testlib.h"
#include "mmp_util.h"

#define DEBUGFS "/sys/kernel/debug"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

bool mmp_quiet;
static size_t page;

/*
 * A driver bug can make an access to a mapping fault, and the unbind tests
 * expect one. Catch SIGSEGV and SIGBUS around guarded accesses so that a
 * fault becomes a return value instead of killing the test and losing the
 * rest of the plan.
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

/*
 * Run @fn(@arg) with faults caught: 0, or the signal that stopped it. @fn
 * and this are out of line so that no local of a caller is live across
 * the siglongjmp; results travel through *@arg.
 */
static __attribute__((noinline)) int guard(void (*fn)(void *), void *arg)
{
	if (sigsetjmp(fault_env, 1))
		return fault_sig;
	fault_armed = 1;
	fn(arg);
	fault_armed = 0;
	return 0;
}

size_t mmp_test_start(int argc, char **argv, const char *name, int plan,
		      const char **ko, bool *no_module)
{
	return mmp_test_start_opts(argc, argv, name, plan, ko, no_module, "",
				   NULL, "");
}

size_t mmp_page_init(void)
{
	page = (size_t)sysconf(_SC_PAGESIZE);
	return page;
}

size_t mmp_test_start_opts(int argc, char **argv, const char *name, int plan,
			   const char **ko, bool *no_module, const char *opts,
			   bool (*opt)(int c, const char *arg),
			   const char *usage)
{
	struct sigaction sa = { .sa_sigaction = fault_handler,
				.sa_flags = SA_SIGINFO };
	char optstring[64];
	int c;

	snprintf(optstring, sizeof(optstring), "k:n%s", opts);
	*ko = NULL;
	*no_module = false;
	while ((c = getopt(argc, argv, optstring)) != -1) {
		if (c == 'k') {
			*ko = optarg;
		} else if (c == 'n') {
			*no_module = true;
		} else if (c == '?' || !opt || !opt(c, optarg)) {
			fprintf(stderr, "usage: %s [-k module.ko] [-n]%s%s\n",
				argv[0], *usage ? " " : "", usage);
			return 0;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0],
			argv[optind]);
		return 0;
	}

	mmp_page_init();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	ktap_start(name, plan);
	return page;
}

size_t mmp_node_test_start(int argc, char **argv,
			   const struct mmp_node_test *t, struct mmp_opts *o)
{
	struct mmp_node *n = t->n;

	if (!mmp_test_start(argc, argv, t->mod, t->plan, &o->ko,
			    &o->no_module))
		return 0;
	if (t->def_pages)
		n->pages = mmp_nr_pages_param(t->mod, t->def_pages);
	ktap_diag("%s: %zu pages, page size %zu", n->path, n->pages, page);
	mmp_quiet_if_missing(n);
	if (t->mode)
		mmp_test_node_mode(n, t->mode);
	return page;
}

int mmp_node_test_main(int argc, char **argv, const struct mmp_node_test *t)
{
	struct mmp_opts o;

	if (!mmp_node_test_start(argc, argv, t, &o))
		return 2;
	t->tests(page);
	mmp_quiet = false;
	mmp_module_suite(t->mod, o.ko, o.no_module, t->n, 1, 1, t->back);
	return ktap_finish();
}

void mmp_report(const char *skip, bool ok, const char *fmt, ...)
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

unsigned long mmp_nr_pages_param(const char *mod, unsigned long def)
{
	long n = mmp_read_param(mod, "nr_pages");

	if (n > 0)
		return n;
	ktap_diag("cannot read nr_pages of %s, assuming %lu", mod, def);
	return def;
}

struct span {
	uint8_t *p;
	size_t off;	/* buffer offset that p[0] maps */
	size_t len;
	uint8_t xor;	/* expected byte is mmp_pattern() ^ xor */
	bool flat;	/* expected byte is xor itself, no pattern */
	bool fill;	/* store the expected bytes instead of comparing */
	size_t bad;	/* index of the first mismatch, len if none */
	uint8_t got;
};

static uint8_t span_want(const struct span *s, size_t i)
{
	return s->flat ? s->xor : mmp_pattern(s->off + i, page) ^ s->xor;
}

static __attribute__((noinline)) void span_walk(void *arg)
{
	struct span *s = arg;
	size_t i;

	for (i = 0; i < s->len; i++) {
		uint8_t want = span_want(s, i);

		if (s->fill) {
			s->p[i] = want;
		} else if (s->p[i] != want) {
			s->got = s->p[i];
			break;
		}
	}
	/*
	 * A write-combined mapping may hold stores in the CPU's buffers:
	 * drain them before another mapping (or the host) looks.
	 */
	if (s->fill)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	s->bad = i;
}

static bool span_run(const char *what, struct span *s)
{
	int sig = guard(span_walk, s);

	if (sig) {
		diag("%s: %s at %p", what, strsignal(sig), (void *)fault_addr);
		return false;
	}
	if (s->bad == s->len)
		return true;
	diag("%s: byte at +%#zx (buffer offset %#zx) is %#04x, expected %#04x",
	     what, s->bad, s->off + s->bad, s->got, span_want(s, s->bad));
	return false;
}

bool mmp_check_bytes(const char *what, void *p, size_t off, size_t len,
		     uint8_t xor)
{
	struct span s = { .p = p, .off = off, .len = len, .xor = xor };

	return span_run(what, &s);
}

bool mmp_fill_bytes(const char *what, void *p, size_t off, size_t len,
		    uint8_t xor)
{
	struct span s = { .p = p, .off = off, .len = len, .xor = xor,
			  .fill = true };

	return span_run(what, &s);
}

bool mmp_check_const(const char *what, void *p, size_t len, uint8_t val)
{
	struct span s = { .p = p, .len = len, .xor = val, .flat = true };

	return span_run(what, &s);
}

bool mmp_fill_const(const char *what, void *p, size_t len, uint8_t val)
{
	struct span s = { .p = p, .len = len, .xor = val, .flat = true,
			  .fill = true };

	return span_run(what, &s);
}

bool mmp_pattern_check(const char *what, void *p, size_t pages)
{
	return mmp_check_bytes(what, p, 0, pages * page, 0);
}

/* Only stores after checking, so that the original really is restored. */
bool mmp_pattern_rewrite(const char *what, void *p)
{
	return mmp_check_bytes("before rewrite", p, 0, page, 0) &&
	       mmp_fill_bytes(what, p, 0, page, 0) &&
	       mmp_check_bytes("after rewrite", p, 0, page, 0);
}

bool mmp_zero_check(const char *what, void *p, size_t pages)
{
	return mmp_check_const(what, p, pages * page, 0);
}

struct reg {
	void *bar;
	size_t off;
	uint32_t val;
	bool write;
};

static __attribute__((noinline)) void reg_access(void *arg)
{
	struct reg *r = arg;

	if (r->write)
		mmp_reg_write(r->bar, r->off, r->val);
	else
		r->val = mmp_reg_read(r->bar, r->off);
}

static bool reg_run(const char *what, struct reg *r)
{
	int sig = guard(reg_access, r);

	if (sig)
		diag("%s: %s at %p", what, strsignal(sig), (void *)fault_addr);
	return !sig;
}

bool mmp_read32(const char *what, void *bar, size_t off, uint32_t *val)
{
	struct reg r = { .bar = bar, .off = off };
	bool ok = reg_run(what, &r);

	*val = r.val;
	return ok;
}

bool mmp_write32(const char *what, void *bar, size_t off, uint32_t val)
{
	struct reg r = { .bar = bar, .off = off, .val = val, .write = true };

	return reg_run(what, &r);
}

bool mmp_expect_sigbus(const char *what, void *p)
{
	struct reg r = { .bar = p };
	int sig = guard(reg_access, &r);

	if (sig == SIGBUS)
		return true;
	if (sig)
		diag("%s: %s instead of SIGBUS", what, strsignal(sig));
	else
		diag("%s: read 0x%08x instead of faulting with SIGBUS", what,
		     r.val);
	return false;
}

void mmp_pci_node_init(struct mmp_pci_node *pn, const char *bdf,
		       const char *node, const char *kind, int bar)
{
	unsigned long long start, size;

	snprintf(pn->bdf, sizeof(pn->bdf), "%s", bdf ? bdf : "(none)");
	snprintf(pn->path, sizeof(pn->path), "/dev/%s-%s", node, pn->bdf);
	snprintf(pn->name, sizeof(pn->name), "%s %s", kind, pn->bdf);
	pn->n.path = pn->path;
	pn->n.name = pn->name;
	pn->n.pages = 0;
	pn->start = 0;
	if (!bdf)
		return;
	if (mmp_pci_bar(bdf, bar, &start, &size)) {
		/* The drivers export whole pages only. */
		pn->n.pages = size / page;
		pn->start = start;
		ktap_diag("%s: BAR%d at %#llx, %llu KiB, %zu pages", bdf, bar,
			  start, size >> 10, pn->n.pages);
	} else {
		ktap_diag("%s: cannot read BAR%d from sysfs", bdf, bar);
	}
}

int mmp_bar_param(const char *mod, int def)
{
	long bar = mmp_read_param(mod, "bar");

	if (bar >= 0)
		return (int)bar;
	ktap_diag("cannot read bar of %s, assuming %d", mod, def);
	return def;
}

int mmp_bound_devices(const char *drv, char (*bdfs)[MMP_BDF_LEN], int max)
{
	int n = mmp_pci_find(0, 0, drv, bdfs, max);

	if (n <= 0)
		ktap_diag("no device bound to %s", drv);
	else if (n > max)
		ktap_diag("%d devices bound to %s, testing %d", n, drv, max);
	return n < 0 ? 0 : n > max ? max : n;
}

void mmp_quiet_if_missing(const struct mmp_node *n)
{
	int fd = open(n->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		/* Still run everything: each test records its own not ok. */
		ktap_diag("%s: device missing (%s), all its tests fail",
			  n->path, strerror(errno));
		mmp_quiet = true;
	}
	mmp_close_fd(fd);
}

void mmp_test_memtype(const struct mmp_pci_node *pn, const char *want)
{
	const char *list = DEBUGFS "/x86/pat_memtype_list";
	int fd = mmp_open_dev(pn->n.path, O_RDONLY);
	void *p = mmp_map_pages(fd, 0, pn->n.pages, PROT_READ);
	char line[256], range[64], got[64] = "none";
	FILE *f = fopen(list, "re");

	snprintf(range, sizeof(range), "[mem 0x%016llx-", pn->start);
	while (p && f && fgets(line, sizeof(line), f)) {
		/* "PAT: [mem 0x...-0x...] write-combining" */
		if (strstr(line, range) && strchr(line, ']')) {
			snprintf(got, sizeof(got), "%s", strchr(line, ']') + 2);
			got[strcspn(got, "\n")] = '\0';
		}
	}
	if (f)
		fclose(f);
	mmp_unmap_pages(p, pn->n.pages);
	mmp_close_fd(fd);
	if (p && strcmp(got, want))
		diag("%s: PAT memory type %s, expected %s", pn->n.path, got,
		     want);
	mmp_report(f ? NULL : "no x86/pat_memtype_list in debugfs",
		   p && !strcmp(got, want), "%s: BAR mapped %s (x86 PAT)",
		   pn->n.name, want);
}

int mmp_open_dev(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		diag("open %s: %s", path, strerror(errno));
	return fd;
}

void mmp_close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

void *mmp_map_pages(int fd, unsigned long pgoff, size_t npages, int prot)
{
	return mmp_map(fd, pgoff, npages, prot, MAP_SHARED);
}

void *mmp_map(int fd, unsigned long pgoff, size_t npages, int prot,
	      int flags)
{
	void *p;

	if (fd < 0)
		return NULL;	/* mmp_open_dev() already said why */
	p = mmap(NULL, npages * page, prot, flags, fd, (off_t)(pgoff * page));
	if (p == MAP_FAILED) {
		diag("mmap%s pgoff=%lu pages=%zu prot=%#x: %s",
		     flags == MAP_PRIVATE ? " MAP_PRIVATE" : "", pgoff, npages,
		     prot, strerror(errno));
		return NULL;
	}
	return p;
}

void mmp_unmap_pages(void *p, size_t npages)
{
	if (p && munmap(p, npages * page))
		diag("munmap %p: %s", p, strerror(errno));
}

bool mmp_fresh_map_check(const char *what, const char *path,
			 unsigned long pgoff, size_t npages, uint8_t xor)
{
	int fd = mmp_open_dev(path, O_RDONLY);
	void *p = mmp_map_pages(fd, pgoff, npages, PROT_READ);
	bool ok = p && mmp_check_bytes(what, p, pgoff * page, npages * page,
				       xor);

	mmp_unmap_pages(p, npages);
	mmp_close_fd(fd);
	return ok;
}

bool mmp_node_mode_is(const char *path, unsigned int mode)
{
	struct stat st;

	if (stat(path, &st)) {
		diag("%s: %s", path, strerror(errno));
		return false;
	}
	if (S_ISCHR(st.st_mode) && (st.st_mode & 07777) == mode)
		return true;
	diag("%s: mode %#o, expected a character device with mode %#o", path,
	     st.st_mode, mode);
	return false;
}

void mmp_test_node_mode(const struct mmp_node *n, unsigned int mode)
{
	ktap_result(mmp_node_mode_is(n->path, mode),
		    "%s: node is a %04o character device", n->name, mode);
}

pid_t mmp_fork(void)
{
	pid_t pid;

	fflush(stdout);	/* don't let the child repeat buffered output */
	pid = fork();
	if (pid < 0)
		diag("fork: %s", strerror(errno));
	return pid;
}

int mmp_wait_child(pid_t pid)
{
	int status;

	if (mmp_waitpid(pid, &status) < 0) {
		diag("waitpid: %s", strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	diag("child wait status %#x", status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool mmp_in_child(bool (*fn)(void *), void *arg)
{
	pid_t pid = mmp_fork();

	if (pid == 0)
		_exit(fn(arg) ? 0 : 1);
	return pid > 0 && mmp_wait_child(pid) == 0;
}

bool mmp_is_unmapped(void *p, size_t npages)
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

bool mmp_vma_flags(void *p, size_t len, char *flags, size_t size)
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

bool mmp_flags_are(const char *flags, const char *list, bool want)
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

void mmp_run_vmflags(const struct mmp_node *n, const struct mmp_vmflags *v,
		     size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		int fd = mmp_open_dev(n->path, v[i].oflags);
		void *p = mmp_map(fd, 0, n->pages, v[i].prot, v[i].flags);
		char flags[256];
		bool ok = false;

		if (p && mmp_vma_flags(p, n->pages * page, flags,
				       sizeof(flags))) {
			/* Both checks run so every wrong flag gets reported. */
			ok = mmp_flags_are(flags, v[i].set, true);
			ok = mmp_flags_are(flags, v[i].clear, false) && ok;
		}
		mmp_unmap_pages(p, n->pages);
		mmp_close_fd(fd);
		ktap_result(ok, "%s: VmFlags of %s", n->name, v[i].desc);
	}
}

void mmp_test_vmflags_kind(const struct mmp_node *n, const char *set,
			   const char *clear)
{
	char s[3][128], c[3][128];
	const struct mmp_vmflags v[] = {
		{ "RO map from O_RDONLY fd", O_RDONLY, PROT_READ, MAP_SHARED,
		  s[0], c[0] },
		{ "RO map from O_RDWR fd", O_RDWR, PROT_READ, MAP_SHARED,
		  s[1], c[1] },
		{ "RW map from O_RDWR fd", O_RDWR, PROT_READ | PROT_WRITE,
		  MAP_SHARED, s[2], c[2] },
	};

	/*
	 * do_mmap() drops VM_SHARED and VM_MAYWRITE for MAP_SHARED of a file
	 * not opened for writing, so only "ms" marks that map as shared.
	 */
	snprintf(s[0], sizeof(s[0]), "rd mr ms %s", set);
	snprintf(c[0], sizeof(c[0]), "sh wr mw ex me %s", clear);
	snprintf(s[1], sizeof(s[1]), "rd sh mr mw ms %s", set);
	snprintf(c[1], sizeof(c[1]), "wr ex me %s", clear);
	snprintf(s[2], sizeof(s[2]), "rd wr sh mr mw ms %s", set);
	snprintf(c[2], sizeof(c[2]), "ex me %s", clear);
	mmp_run_vmflags(n, v, sizeof(v) / sizeof(v[0]));
}

void mmp_test_vmflags(const struct mmp_node *n)
{
	mmp_test_vmflags_kind(n, "io pf de dd", "");
}

void mmp_test_policy(const struct mmp_node *n, const char *unit,
		     int range_err)
{
	mmp_test_vmflags(n);
	mmp_test_bad_maps(n, unit, range_err);
	mmp_test_mprotect(n);
}

void mmp_run_bad_maps(const struct mmp_node *n, const struct mmp_bad_map *bad,
		      size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		const struct mmp_bad_map *b = &bad[i];
		int fd = mmp_open_dev(n->path, b->oflags);
		bool ok = false;

		if (fd >= 0) {
			int before = count_maps(n->path), after, err;
			void *p;

			p = mmap(NULL, b->len, b->prot, b->flags, fd, b->off);
			err = errno;
			after = count_maps(n->path);
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
			    n->name, b->desc, ktap_errname(b->err));
	}
}

/*
 * The standard table. Its MAP_PRIVATE entries depend on whether the driver
 * refuses private maps (EINVAL) or allows them, but not exec (EPERM).
 */
static void std_bad_maps(const struct mmp_node *n, const char *unit,
			 int range_err, bool private_refused)
{
	const size_t big = 0x80000000UL;	/* bit 31: catches int overflow */
	const off_t top = (off_t)(0x7fffffffffffffffULL &
				  ~(unsigned long long)(page - 1));
	const off_t end = (off_t)(n->pages * page);
	char past[64], at_end[64], across[64];
	size_t i;
	const struct mmp_bad_map bad[] = {
		{ "mmap len=0", 0, 0,
		  PROT_READ, MAP_SHARED, O_RDONLY, EINVAL },
		{ past, (n->pages + 1) * page, 0,
		  PROT_READ, MAP_SHARED, O_RDONLY, range_err },
		{ at_end, page, end,
		  PROT_READ, MAP_SHARED, O_RDONLY, range_err },
		{ across, 2 * page, end - (off_t)page,
		  PROT_READ, MAP_SHARED, O_RDONLY, range_err },
		{ "mmap offset=2^63-page_size len=1 page", page, top,
		  PROT_READ, MAP_SHARED, O_RDONLY, range_err },
		{ "mmap len=0x80000000", big, 0,
		  PROT_READ, MAP_SHARED, O_RDONLY, range_err },
		{ "mmap pgoff=1 len=0x80000000", big, (off_t)page,
		  PROT_READ, MAP_SHARED, O_RDONLY, range_err },
		{ "mmap unaligned offset=1", page, 1,
		  PROT_READ, MAP_SHARED, O_RDONLY, EINVAL },
		{ "mmap MAP_PRIVATE PROT_READ", page, 0,
		  PROT_READ, MAP_PRIVATE, O_RDONLY, EINVAL },
		/* O_RDWR so that the refusal cannot come from the fd mode. */
		{ "mmap MAP_PRIVATE PROT_READ|PROT_WRITE", page, 0,
		  PROT_READ | PROT_WRITE, MAP_PRIVATE, O_RDWR, EINVAL },
		{ "mmap PROT_READ|PROT_EXEC", page, 0,
		  PROT_READ | PROT_EXEC, MAP_SHARED, O_RDWR, EPERM },
		{ "mmap MAP_PRIVATE PROT_READ|PROT_EXEC", page, 0,
		  PROT_READ | PROT_EXEC, MAP_PRIVATE, O_RDONLY, EPERM },
		{ "mmap PROT_READ|PROT_WRITE on O_RDONLY fd", page, 0,
		  PROT_READ | PROT_WRITE, MAP_SHARED, O_RDONLY, EACCES },
	};
	_Static_assert(sizeof(bad) / sizeof(bad[0]) == MMP_N_BAD_MAPS + 1,
		       "plan");

	snprintf(past, sizeof(past), "mmap len=%s+1 pages", unit);
	snprintf(at_end, sizeof(at_end), "mmap pgoff=%s len=1 page", unit);
	snprintf(across, sizeof(across), "mmap pgoff=%s-1 len=2 pages", unit);
	for (i = 0; i < MMP_N_BAD_MAPS + 1; i++) {
		bool exec = bad[i].err == EPERM;

		if (bad[i].flags != MAP_PRIVATE || exec != private_refused)
			mmp_run_bad_maps(n, &bad[i], 1);
	}
}

void mmp_test_bad_maps(const struct mmp_node *n, const char *unit,
		       int range_err)
{
	std_bad_maps(n, unit, range_err, true);
}

void mmp_test_bad_maps_allow_private(const struct mmp_node *n,
				     const char *unit, int range_err)
{
	std_bad_maps(n, unit, range_err, false);
}

void mmp_test_mprotect(const struct mmp_node *n)
{
	int fd_ro = mmp_open_dev(n->path, O_RDONLY);
	int fd_rw = mmp_open_dev(n->path, O_RDWR);
	void *ro = mmp_map_pages(fd_ro, 0, 1, PROT_READ);
	void *rw = mmp_map_pages(fd_rw, 0, 1, PROT_READ | PROT_WRITE);
	void *rw_ro = mmp_map_pages(fd_rw, 0, 1, PROT_READ);
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
		/* Prove the PTEs became writable by storing through them. */
		upgrade = !ret && n->rewrite("rewrite after mprotect", rw_ro);
	}
	mmp_unmap_pages(ro, 1);
	mmp_unmap_pages(rw, 1);
	mmp_unmap_pages(rw_ro, 1);
	mmp_close_fd(fd_ro);
	mmp_close_fd(fd_rw);
	ktap_result(no_write,
		    "%s: mprotect PROT_READ|PROT_WRITE of O_RDONLY fd map fails EACCES",
		    n->name);
	ktap_result(no_exec,
		    "%s: mprotect PROT_READ|PROT_EXEC of O_RDWR fd map fails EACCES",
		    n->name);
	ktap_result(upgrade,
		    "%s: mprotect PROT_READ|PROT_WRITE of O_RDWR fd RO map succeeds, writable",
		    n->name);
}

void mmp_mremap_refusals(const struct mmp_node *n, int fd,
			 struct mmp_mremap *r)
{
	void *p = mmp_map_pages(fd, 0, 1, PROT_READ), *q;
	size_t np = 1;
	char flags[256];

	*r = (struct mmp_mremap){ 0 };
	/* VM_PFNMAP|VM_DONTEXPAND mappings cannot grow or be cloned. */
	if (p) {
		q = mremap(p, page, 2 * page, 0);
		r->grow = ktap_errno_ok((long)(intptr_t)q, errno, EFAULT,
					"mremap grow");
		if (q != MAP_FAILED)
			np = 2;
	}
	if (p && np == 1) {
		q = mremap(p, page, 2 * page, MREMAP_MAYMOVE);
		r->grow_move = ktap_errno_ok((long)(intptr_t)q, errno, EFAULT,
					     "mremap grow MAYMOVE");
		if (q != MAP_FAILED) {
			p = q;
			np = 2;
		}
	}
	if (p && np == 1) {
		q = mremap(p, page, page, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
		r->dontunmap = ktap_errno_ok((long)(intptr_t)q, errno, EINVAL,
					     "mremap DONTUNMAP");
		if (q != MAP_FAILED)
			mmp_unmap_pages(q, 1);
	}
	r->intact = p && np == 1 &&
		    mmp_vma_flags(p, page, flags, sizeof(flags)) &&
		    n->check("after failed mremaps", p, 1);
	mmp_unmap_pages(p, np);
}

void mmp_report_mremap(const char *skip, const struct mmp_node *n,
		       const struct mmp_mremap *r)
{
	mmp_report(skip, r->grow, "%s: mremap grow 1->2 pages fails EFAULT",
		   n->name);
	mmp_report(skip, r->grow_move,
		   "%s: mremap grow 1->2 pages with MREMAP_MAYMOVE fails EFAULT",
		   n->name);
	mmp_report(skip, r->dontunmap,
		   "%s: mremap MREMAP_MAYMOVE|MREMAP_DONTUNMAP fails EINVAL",
		   n->name);
	mmp_report(skip, r->intact, "%s: mapping intact after failed mremaps",
		   n->name);
}

void mmp_test_mremap(const struct mmp_node *n)
{
	int fd = mmp_open_dev(n->path, O_RDONLY);
	struct mmp_mremap r;

	mmp_mremap_refusals(n, fd, &r);
	mmp_close_fd(fd);
	mmp_report_mremap(NULL, n, &r);
}

void mmp_test_fork(const struct mmp_node *n)
{
	int fd = mmp_open_dev(n->path, O_RDONLY);
	void *p = mmp_map_pages(fd, 0, n->pages, PROT_READ);
	bool child_ok = false, parent_ok = false;

	if (p) {
		pid_t pid = mmp_fork();

		if (pid == 0)
			_exit(n->check("child", p, n->pages) ? 0 : 1);
		child_ok = pid > 0 && mmp_wait_child(pid) == 0;
		parent_ok = n->check("parent after fork", p, n->pages);
	}
	mmp_unmap_pages(p, n->pages);
	mmp_close_fd(fd);
	ktap_result(child_ok, "%s: forked child sees %s", n->name, n->shows);
	ktap_result(parent_ok, "%s: parent mapping intact after child exit",
		    n->name);
}

void mmp_test_full_map(const struct mmp_node *n)
{
	int fd = mmp_open_dev(n->path, O_RDONLY);
	void *p = mmp_map_pages(fd, 0, n->pages, PROT_READ);
	bool ok = p && n->check("full map", p, n->pages);

	mmp_unmap_pages(p, n->pages);
	mmp_close_fd(fd);
	ktap_result(ok, "%s: full map RO from O_RDONLY fd contents", n->name);
}

void mmp_test_private_ro(const struct mmp_node *n)
{
	int fd = mmp_open_dev(n->path, O_RDONLY);
	void *p = mmp_map(fd, 0, n->pages, PROT_READ, MAP_PRIVATE);
	bool ok = p && n->check("MAP_PRIVATE map", p, n->pages);

	mmp_unmap_pages(p, n->pages);
	mmp_close_fd(fd);
	ktap_result(ok, "%s: MAP_PRIVATE PROT_READ full map from O_RDONLY fd shows %s",
		    n->name, n->shows);
}

void mmp_test_partial_maps(const struct mmp_node *n)
{
	unsigned long pgoff, np, total = 0, failed = 0;
	bool was_quiet = mmp_quiet;
	int fd = mmp_open_dev(n->path, O_RDONLY);

	for (pgoff = 0; pgoff < n->pages; pgoff++) {
		for (np = 1; np <= n->pages - pgoff; np++) {
			char what[80];
			void *p;

			total++;
			snprintf(what, sizeof(what),
				 "partial map pgoff=%lu pages=%lu", pgoff, np);
			p = mmp_map_pages(fd, pgoff, np, PROT_READ);
			if (!p || !mmp_check_bytes(what, p, pgoff * page,
						   np * page, 0)) {
				/* Only the first failure is worth a diag. */
				failed++;
				mmp_quiet = true;
			}
			mmp_unmap_pages(p, np);
		}
	}
	mmp_quiet = was_quiet;
	mmp_close_fd(fd);
	if (failed)
		diag("%lu of %lu partial maps failed", failed, total);
	ktap_result(!failed, "%s: partial map contents, %lu partial maps checked",
		    n->name, total);
}

void mmp_test_pattern_maps(const struct mmp_node *n)
{
	mmp_test_full_map(n);
	mmp_test_partial_maps(n);
	mmp_test_private_ro(n);
}

/* Shrinking in place is allowed and unmaps the tail. */
static void mremap_shrink(int fd, bool *shrink, bool *tail)
{
	void *p = mmp_map_pages(fd, 0, 4, PROT_READ), *q;

	if (!p)
		return;
	q = mremap(p, 4 * page, 2 * page, 0);
	if (q == MAP_FAILED)
		diag("mremap shrink: %s", strerror(errno));
	else if (q != p)
		diag("mremap shrink moved %p to %p", p, q);
	*shrink = q == p && mmp_check_bytes("after shrink", p, 0, 2 * page, 0);
	*tail = q == p && mmp_is_unmapped((char *)p + 2 * page, 2);
	if (q != MAP_FAILED && q != p)
		mmp_unmap_pages(q, 2);
	mmp_unmap_pages(p, q == p ? 2 : 4);
}

/* Move onto a reservation; pgoff 1 checks that vm_pgoff moves too. */
static void mremap_move(int fd, bool *moved, bool *old_gone)
{
	void *p = mmp_map_pages(fd, 1, 2, PROT_READ), *q;
	void *dst = mmap(NULL, 2 * page, PROT_NONE,
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
		*moved = q == dst &&
			 mmp_check_bytes("after move", dst, page, 2 * page, 0);
		*old_gone = q == dst && mmp_is_unmapped(p, 2);
		if (q != MAP_FAILED) {
			if (q != dst)
				mmp_unmap_pages(q, 2);
			p = NULL;
		}
	}
	mmp_unmap_pages(p, 2);
	mmp_unmap_pages(dst, 2);
}

void mmp_test_mremap_resize(const struct mmp_node *n)
{
	const char *skip = n->pages < 4 ? "needs nr_pages >= 4" : NULL;
	bool shrink = false, tail = false, moved = false, old_gone = false;
	struct mmp_mremap refused = { 0 };

	if (!skip) {
		int fd = mmp_open_dev(n->path, O_RDONLY);

		mmp_mremap_refusals(n, fd, &refused);
		mremap_shrink(fd, &shrink, &tail);
		mremap_move(fd, &moved, &old_gone);
		mmp_close_fd(fd);
	}
	mmp_report_mremap(skip, n, &refused);
	mmp_report(skip, shrink,
		   "%s: mremap shrink 4->2 pages keeps address and contents",
		   n->name);
	mmp_report(skip, tail, "%s: mremap shrink 4->2 pages unmaps the tail",
		   n->name);
	mmp_report(skip, moved, "%s: mremap MREMAP_FIXED move keeps contents",
		   n->name);
	mmp_report(skip, old_gone,
		   "%s: mremap MREMAP_FIXED move unmaps old range", n->name);
}

void mmp_test_mapping_ops(const struct mmp_node *n)
{
	mmp_test_mremap(n);
	mmp_test_fork(n);
	mmp_test_io_uring(n);
}

/* Register @p as the ring's only fixed buffer, expecting @want (-errno). */
static bool register_buffer(struct io_uring *ring, void *p, size_t len,
			    int want, const char *what)
{
	struct iovec iov = { .iov_base = p, .iov_len = len };
	int ret = io_uring_register_buffers(ring, &iov, 1);

	if (!ret)
		io_uring_unregister_buffers(ring);
	if (ret == want)
		return true;
	diag("io_uring_register_buffers(%s): %s, expected %s", what,
	     ret ? ktap_errname(-ret) : "success",
	     want ? ktap_errname(-want) : "success");
	return false;
}

void mmp_test_io_uring(const struct mmp_node *n)
{
	mmp_test_io_uring_prot(n, PROT_READ | PROT_WRITE);
}

void mmp_test_io_uring_prot(const struct mmp_node *n, int prot)
{
	size_t len = n->pages * page;
	int fd = mmp_open_dev(n->path,
			      prot & PROT_WRITE ? O_RDWR : O_RDONLY);
	void *p = mmp_map_pages(fd, 0, n->pages, prot);
	bool efault = false, control = false;
	struct io_uring ring;
	int ret = -1;

	/* The control only counts next to the refusal, on the same ring. */
	if (p) {
		ret = io_uring_queue_init(4, &ring, 0);
		if (ret < 0)
			diag("io_uring_queue_init: %s", strerror(-ret));
	}
	if (p && ret >= 0) {
		void *anon;

		/*
		 * VM_IO|VM_PFNMAP: pin_user_pages() has no pages to pin;
		 * without VM_WRITE it refuses to pin for writing.
		 */
		efault = register_buffer(&ring, p, len, -EFAULT, "mapping");
		anon = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (anon == MAP_FAILED) {
			diag("anonymous mmap: %s", strerror(errno));
		} else {
			control = register_buffer(&ring, anon, len, 0,
						  "anonymous buffer");
			munmap(anon, len);
		}
		io_uring_queue_exit(&ring);
	}
	mmp_unmap_pages(p, n->pages);
	mmp_close_fd(fd);
	ktap_result(efault,
		    "%s: io_uring_register_buffers of the full %s mapping fails EFAULT",
		    n->name, prot & PROT_WRITE ? "RW" : "RO");
	ktap_result(control,
		    "%s: io_uring_register_buffers of an anonymous buffer of the same size succeeds on the same ring",
		    n->name);
}

bool mmp_edu_check(const char *what, void *bar, size_t pages)
{
	uint32_t id;

	(void)pages;	/* the registers are all in page 0 */
	if (!mmp_read32(what, bar, MMP_EDU_REG_ID, &id))
		return false;
	if (id == MMP_EDU_ID)
		return true;
	diag("%s: ID register reads 0x%08x, expected 0x%08x", what, id,
	     MMP_EDU_ID);
	return false;
}

static bool edu_liveness(const char *what, void *bar, uint32_t val)
{
	uint32_t got;

	if (!mmp_write32(what, bar, MMP_EDU_REG_LIVENESS, val) ||
	    !mmp_read32(what, bar, MMP_EDU_REG_LIVENESS, &got))
		return false;
	if (got == (uint32_t)~val)
		return true;
	diag("%s: liveness reads 0x%08x after writing 0x%08x, expected 0x%08x",
	     what, got, val, ~val);
	return false;
}

bool mmp_edu_rewrite(const char *what, void *bar)
{
	return edu_liveness(what, bar, 0x5a5aa5a5);
}

void mmp_edu_node(struct mmp_node *n)
{
	n->shows = "ID register 0x010000ed";
	n->check = mmp_edu_check;
	n->rewrite = mmp_edu_rewrite;
}

void mmp_test_edu_regs(const struct mmp_node *n)
{
	static const uint32_t vals[] = {
		0, 0xffffffff, 0x12345678, 0xa5a5a5a5
	};
	int fd = mmp_open_dev(n->path, O_RDONLY);
	void *p = mmp_map_pages(fd, 0, n->pages, PROT_READ);
	bool ok = p && mmp_edu_check("full RO map", p, n->pages);
	size_t i;

	mmp_unmap_pages(p, n->pages);
	mmp_close_fd(fd);
	ktap_result(ok,
		    "%s: ID register reads 0x%08x through a full RO map of an O_RDONLY fd",
		    n->name, MMP_EDU_ID);

	fd = mmp_open_dev(n->path, O_RDWR);
	p = mmp_map_pages(fd, 0, n->pages, PROT_READ | PROT_WRITE);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		ktap_result(p && edu_liveness("RW map", p, vals[i]),
			    "%s: liveness register reads 0x%08x after writing 0x%08x through a RW map",
			    n->name, ~vals[i], vals[i]);
	mmp_unmap_pages(p, n->pages);
	mmp_close_fd(fd);
}

void mmp_test_misc_node(const struct mmp_node *n, const char *bdf)
{
	const char *base = strrchr(n->path, '/');
	char path[PATH_MAX], dev[32], want[32];
	struct stat st;
	bool ok = false;

	/* The misc class device's "dev" names the node it created. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/misc/%s/dev",
		 bdf, base ? base + 1 : n->path);
	if (stat(n->path, &st)) {
		diag("%s: %s", n->path, strerror(errno));
	} else if (!S_ISCHR(st.st_mode) || (st.st_mode & 07777) != 0600) {
		diag("%s: mode %#o, expected a character device with mode 0600",
		     n->path, st.st_mode);
	} else if (!mmp_read_line(path, dev, sizeof(dev))) {
		diag("%s: %s", path, strerror(errno));
	} else {
		snprintf(want, sizeof(want), "%u:%u", major(st.st_rdev),
			 minor(st.st_rdev));
		ok = !strcmp(dev, want);
		if (!ok)
			diag("%s is %s, %s is %s", path, dev, n->path, want);
	}
	ktap_result(ok,
		    "%s: node is a 0600 character device, listed under the PCI device's misc/",
		    n->name);
}

bool mmp_sysfs_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t ret = mmp_write_file(path, val);

	if (ret != (ssize_t)len)
		diag("write '%.*s' to %s: %s", (int)strcspn(val, "\n"), val,
		     path, ret < 0 ? strerror(errno) : "short write");
	return ret == (ssize_t)len;
}

/* Why mmp_read_line() or mmp_read_long() of @path failed. */
static void read_diag(const char *path, const char *what)
{
	diag("read %s: %s", path, errno == EBADMSG ? what : strerror(errno));
}

bool mmp_debugfs_line(const char *mod, const char *file, char *buf,
		      size_t size)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), DEBUGFS "/%s/%s", mod, file);
	if (mmp_read_line(path, buf, size))
		return true;
	read_diag(path, "not a single line");
	return false;
}

bool mmp_debugfs_long(const char *mod, const char *file, long *val)
{
	char path[PATH_MAX];
	long v;

	snprintf(path, sizeof(path), DEBUGFS "/%s/%s", mod, file);
	v = mmp_read_long(path);
	if (v >= 0) {
		*val = v;
		return true;
	}
	read_diag(path, "not a single line of a decimal count");
	return false;
}

bool mmp_debugfs_write(const char *mod, const char *file, const char *val)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), DEBUGFS "/%s", mod);
	if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
		diag("no %s: not writing '%s' to %s", path, val, file);
		return false;
	}
	snprintf(path, sizeof(path), DEBUGFS "/%s/%s", mod, file);
	return mmp_sysfs_write(path, val);
}

bool mmp_bound_to(const char *bdf, const char *drv)
{
	char cur[64];

	return mmp_pci_driver(bdf, cur, sizeof(cur)) && !strcmp(cur, drv);
}

static bool driver_attr(const char *drv, const char *attr, const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/%s", drv, attr);
	return mmp_sysfs_write(path, bdf);
}

void mmp_test_unbind_mapped(struct mmp_node *n, const struct mmp_unbind *u)
{
	bool before = false, sigbus = false, nodev = false, gone = false;
	bool unmapped = false, back = false, works = false;
	size_t len = n->pages * page;
	void *p = NULL;
	int fd = -1;

	/* Touch sysfs only when the device really is bound to the driver. */
	if (mmp_bound_to(u->bdf, u->drv)) {
		fd = mmp_open_dev(n->path, O_RDWR);
		p = mmp_map_pages(fd, 0, n->pages, PROT_READ | PROT_WRITE);
		before = p && n->check("before unbind", p, n->pages);
	} else {
		diag("%s is not bound to %s: not unbinding it", u->bdf, u->drv);
	}
	if (p && driver_attr(u->drv, "unbind", u->bdf)) {
		/* remove() must have zapped the PTEs: no fault handler. */
		sigbus = before && mmp_expect_sigbus("old mapping", p);
		if (u->nodev) {
			void *q = mmap(NULL, page, PROT_READ, MAP_SHARED, fd,
				       0);

			nodev = ktap_errno_ok((long)(intptr_t)q, errno, ENODEV,
					      "mmap through the old fd");
			if (q != MAP_FAILED)
				munmap(q, page);
		}
		gone = mmp_wait_node(n->path, false);
		if (munmap(p, len))
			diag("munmap of the old mapping: %s", strerror(errno));
		else
			unmapped = mmp_is_unmapped(p, n->pages);
		p = NULL;
		mmp_close_fd(fd);
		fd = -1;

		/* Whatever failed above, the device must be bound again. */
		back = driver_attr(u->drv, "bind", u->bdf) &&
		       (!u->rebound || u->rebound(n)) &&
		       mmp_wait_node(n->path, true);
		if (back) {
			fd = mmp_open_dev(n->path, O_RDONLY);
			p = mmp_map_pages(fd, 0, n->pages, PROT_READ);
			works = p && n->check("after rebind", p, n->pages);
		}
	}
	mmp_unmap_pages(p, n->pages);
	mmp_close_fd(fd);
	ktap_result(sigbus,
		    "%s: unbind while mapped: access through the old mapping raises SIGBUS",
		    n->name);
	if (u->nodev)
		ktap_result(nodev,
			    "%s: unbind while mapped: mmap through the fd opened before fails ENODEV",
			    n->name);
	ktap_result(gone, "%s: unbind while mapped: device node removed",
		    n->name);
	ktap_result(unmapped,
		    "%s: unbind while mapped: munmap of the old mapping succeeds",
		    n->name);
	ktap_result(back, "%s: rebind: device node back", n->name);
	ktap_result(works, "%s: rebind: fresh mapping shows %s", n->name,
		    n->shows);
}

bool mmp_module_says(const char *mod, const char *key, const char *value)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char prefix[128], *buf, *p, *last = NULL;
	bool says = false;
	size_t plen;
	int n;

	if (size <= 0)
		return false;
	buf = malloc((size_t)size + 1);
	if (!buf)
		return false;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	if (n > 0) {
		buf[n] = '\0';
		snprintf(prefix, sizeof(prefix), "%s: %s: ", mod, key);
		plen = strlen(prefix);
		for (p = buf; (p = strstr(p, prefix)); p += plen)
			last = p + plen;
		says = last && !strncmp(last, value, strlen(value));
	}
	free(buf);
	return says;
}

bool mmp_module_compat(const char *mod)
{
	return mmp_module_says(mod, "mmap path", "compat");
}

long mmp_unload(const char *mod)
{
	/* O_NONBLOCK: fail with EWOULDBLOCK instead of waiting for users. */
	return syscall(SYS_delete_module, mod, O_NONBLOCK);
}

bool mmp_load(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0) {
		diag("open %s: %s", ko, strerror(errno));
		return false;
	}
	ok = !syscall(SYS_finit_module, fd, "", 0);
	if (!ok)
		diag("finit_module %s: %s", ko, strerror(errno));
	close(fd);
	return ok;
}

bool mmp_wait_node(const char *path, bool present)
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

void mmp_test_pinned_unload(const char *mod, const struct mmp_node *n,
			    const char *skip)
{
	mmp_test_pinned_unload_flags(mod, n, MAP_SHARED, skip);
}

/* A VMA keeps its file, and so the module, alive after close(fd). */
void mmp_test_pinned_unload_flags(const char *mod, const struct mmp_node *n,
				  int flags, const char *skip)
{
	const char *kind = flags == MAP_PRIVATE ? " MAP_PRIVATE" : "";
	bool refused = false, intact = false;

	if (!skip) {
		int fd = mmp_open_dev(n->path, O_RDONLY);
		void *p = mmp_map(fd, 0, n->pages, PROT_READ, flags);

		mmp_close_fd(fd);
		if (p) {
			long ret = mmp_unload(mod);

			refused = ktap_errno_ok(ret, errno, EAGAIN,
						"delete_module");
			intact = n->check("after refused unload", p, n->pages);
			mmp_unmap_pages(p, n->pages);
		}
	}
	mmp_report(skip, refused,
		   "module: delete_module fails EAGAIN while %s mapped%s, fd closed",
		   n->name, kind);
	mmp_report(skip, intact,
		   "module: %s%s mapping intact after refused unload", n->name,
		   kind);
}

/* Every node is back and shows its page 0 again. */
static bool nodes_back(const struct mmp_node *nodes, int count)
{
	bool back = true;
	int i;

	for (i = 0; i < count; i++) {
		const struct mmp_node *n = &nodes[i];
		void *p = NULL;
		int fd = -1;

		if (mmp_wait_node(n->path, true)) {
			fd = mmp_open_dev(n->path, O_RDONLY);
			p = mmp_map_pages(fd, 0, 1, PROT_READ);
		}
		if (!p || !n->check("page 0 after reload", p, 1))
			back = false;
		mmp_unmap_pages(p, 1);
		mmp_close_fd(fd);
	}
	return back;
}

const char *mmp_module_skip(bool no_module)
{
	return no_module ? "-n given" : NULL;
}

const char *mmp_reload_skip(bool no_module, const char *ko)
{
	return no_module ? "-n given" : ko ? NULL : "no -k module path";
}

bool mmp_module_suite(const char *mod, const char *ko, bool no_module,
		      const struct mmp_node *nodes, int count, int n_pinned,
		      const char *back)
{
	const char *skip = mmp_module_skip(no_module);
	bool unloaded, loaded;
	int i;

	for (i = 0; i < count && !skip; i++)
		if (count_maps(nodes[i].path) > 0)
			ktap_diag("%s still mapped before unload tests",
				  nodes[i].path);

	for (i = 0; i < n_pinned; i++)
		mmp_test_pinned_unload(mod, &nodes[i], skip);

	unloaded = mmp_unload_suite(mod, skip, true, nodes, count,
				    "after munmap and close");
	loaded = mmp_reload_suite(ko, mmp_reload_skip(no_module, ko), nodes,
				  count, back);
	return !unloaded || loaded;
}

bool mmp_unload_suite(const char *mod, const char *skip, bool ready,
		      const struct mmp_node *nodes, int count,
		      const char *when)
{
	bool unloaded = false, gone = false;
	int i;

	if (!skip && ready) {
		unloaded = !mmp_unload(mod);
		if (!unloaded)
			diag("delete_module: %s", strerror(errno));
		/* Evaluate all so that each lingering node is reported. */
		gone = unloaded;
		for (i = 0; i < count && unloaded; i++)
			gone = mmp_wait_node(nodes[i].path, false) && gone;
	}
	mmp_report(skip, unloaded, "module: delete_module succeeds %s", when);
	mmp_report(skip, gone, "module: device nodes removed after unload");
	return unloaded;
}

bool mmp_reload_suite(const char *ko, const char *skip,
		      const struct mmp_node *nodes, int count,
		      const char *back)
{
	bool loaded = false, is_back = false;

	if (!skip) {
		loaded = mmp_load(ko);
		is_back = loaded && nodes_back(nodes, count);
	}
	mmp_report(skip, loaded, "module: reload with finit_module");
	mmp_report(skip, is_back, "%s", back);
	return loaded;
}
