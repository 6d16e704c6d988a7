// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection over every driver (kernels with CONFIG_FAULT_INJECTION,
 * FAILSLAB, FAIL_PAGE_ALLOC and FAIL_FUNCTION: the 7.3-debug lane).
 *
 * fail-nth sweeps: /proc/thread-self/fail-nth makes the Nth slab or page
 * allocation of this thread fail. For N = 1, 2, ... until the call under
 * test no longer reaches an Nth allocation (for module loads only those
 * made from module code count, through the stack trace filter: the
 * loader's own are the same for every module):
 *  - module load: finit_module() of each module must fail (with the errno
 *    the kernel picks: ENOMEM mostly, EINVAL from the driver core) and
 *    leave no /sys/module entry, or load (the failure was absorbed) and
 *    unload again;
 *  - mmap: mmap() of each device node must fail (ENOMEM mostly; the kernel
 *    answers EINVAL when PFN tracking cannot allocate, ENOSPC when shmem
 *    cannot) or give a map that reads; either way no VMA of the node is
 *    left afterwards and the module's reference count (and mmp_refcount's
 *    count of live VMAs) is back at its baseline.
 * fail_function: mmp_refcount's ->mapped() (marked ALLOW_ERROR_INJECTION)
 * made to fail: mmap() fails with its error, no VMA and no reference are
 * left, ->close() ran for the VMA on the native path, and mapping works
 * again once the injection is removed.
 * Last, a kmemleak scan must report nothing new.
 *
 * Usage: mmp_faultinject_test -d DIR (the modules, DIR/<name>.ko).
 * Without fault injection in the kernel the whole test is one SKIP.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mmp_devices.h"
#include "mmp_testlib.h"

#define DBG "/sys/kernel/debug"
/* A sweep that finds more fault points than this is stopped and fails. */
#define MAX_POINTS 4000

static const char *dir = "/modules";
/* fail-nth is per thread: each thread opens its own. */
static _Thread_local int nth_fd = -1;

static bool open_nth(void)
{
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	return nth_fd >= 0;
}

/* Arm fail-nth for the Nth fault point from now. */
static bool arm(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(nth_fd, buf, (size_t)len, 0) == len;
}

/* Disarm: the fault points still to go before the armed one (0: it hit). */
static long disarm(void)
{
	char buf[16] = "";
	long left;

	if (pread(nth_fd, buf, sizeof(buf) - 1, 0) <= 0)
		return -1;
	left = strtol(buf, NULL, 10);
	if (pwrite(nth_fd, "0", 1, 0) != 1)
		return -1;
	return left;
}

/* The fault injection knobs set for the sweeps, and their old values. */
static const struct {
	const char *path, *val;
} knobs[] = {
	/* GFP_KERNEL allocations too, and no report per injected failure */
	{ DBG "/failslab/ignore-gfp-wait", "N" },
	{ DBG "/failslab/verbose", "0" },
	{ DBG "/fail_page_alloc/ignore-gfp-wait", "N" },
	{ DBG "/fail_page_alloc/ignore-gfp-highmem", "N" },
	{ DBG "/fail_page_alloc/min-order", "0" },
	{ DBG "/fail_page_alloc/verbose", "0" },
};
#define NKNOBS (sizeof(knobs) / sizeof(knobs[0]))
static char saved[NKNOBS][32];

static bool knobs_set(void)
{
	size_t i;

	for (i = 0; i < NKNOBS; i++)
		if (!mmp_read_line(knobs[i].path, saved[i], sizeof(saved[i])) ||
		    !mmp_sysfs_write(knobs[i].path, knobs[i].val))
			return false;
	return true;
}

/*
 * The stack trace filter of both fault types: fail only allocations with a
 * caller in [@start, @end). [0, ULONG_MAX) is everything (no stack walk).
 */
static bool set_filter(unsigned long start, unsigned long end)
{
	const char *attrs[] = { DBG "/failslab", DBG "/fail_page_alloc" };
	char path[128], val[32];
	size_t i;
	bool ok = true;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/require-start", attrs[i]);
		snprintf(val, sizeof(val), "%#lx", start);
		ok = mmp_sysfs_write(path, val) && ok;
		snprintf(path, sizeof(path), "%s/require-end", attrs[i]);
		snprintf(val, sizeof(val), "%#lx", end);
		ok = mmp_sysfs_write(path, val) && ok;
		snprintf(path, sizeof(path), "%s/stacktrace-depth", attrs[i]);
		ok = mmp_sysfs_write(path, "32") && ok;
	}
	return ok;
}

/*
 * Where module code lives: above the kernel image (its _end symbol), so
 * that a caller at or above it is module code. 0 if unknown.
 */
static unsigned long kernel_end(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	unsigned long addr, end = 0;
	char type, name[256];

	while (f && fscanf(f, "%lx %c %255s%*[^\n]", &addr, &type, name) == 3)
		if (!strcmp(name, "_end")) {
			end = addr;
			break;
		}
	if (f)
		fclose(f);
	return end;
}

static void knobs_restore(void)
{
	size_t i;

	for (i = 0; i < NKNOBS; i++)
		if (saved[i][0])
			mmp_sysfs_write(knobs[i].path, saved[i]);
}

/* Unload @mod (retrying while it is busy for a moment): false if it stays. */
static bool unload(const char *mod)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (!mmp_unload(mod))
			return true;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EBUSY)
			break;
		usleep(10000);
	}
	diag("delete_module(%s): %s", mod, ktap_errname(errno));
	return false;
}

/*
 * "ENOMEM 140, EINVAL 1": how often each errno ended a load. The kernel
 * picks it (the driver core answers EINVAL when it cannot link a driver
 * to its module, for one), so any errno is a clean failure as long as
 * nothing of the module is left.
 */
static void errno_counts(const unsigned int *count, char *buf, size_t size)
{
	size_t len = 0;
	int e;

	buf[0] = '\0';
	for (e = 1; e < 256 && len < size; e++)
		if (count[e])
			len += (size_t)snprintf(buf + len, size - len, "%s%s %u",
						len ? ", " : "", ktap_errname(e),
						count[e]);
}

/* One module's load sweep, run by one of the LOADERS threads. */
struct load_job {
	const char *mod;
	bool ok;
	char result[256];
};

static void load_sweep(struct load_job *job)
{
	const char *mod = job->mod;
	char ko[256], errs[128];
	unsigned int n, points = 0, loaded = 0, count[256] = { 0 };
	bool ok = unload(mod);
	int fd = -1;
	long left, r;

	snprintf(ko, sizeof(ko), "%s/%s.ko", dir, mod);
	for (n = 1; ok && n <= MAX_POINTS; n++) {
		int err;

		fd = open(ko, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			diag("open %s: %s", ko, strerror(errno));
			ok = false;
			break;
		}
		ok = arm(n);
		r = syscall(SYS_finit_module, fd, "", 0);
		err = errno;
		left = disarm();
		close(fd);
		if (!ok || left < 0) {
			diag("%s: fail-nth not usable", mod);
			ok = false;
			break;
		}
		if (left > 0) {
			/* No Nth fault point: an ordinary load, the sweep's end. */
			if (r) {
				diag("%s: load without injection: %s", mod,
				     ktap_errname(err));
				ok = false;
			}
			break;
		}
		points++;
		if (!r) {
			loaded++;
			ok = unload(mod);
		} else if (err <= 0 || err >= 256) {
			diag("%s: fault point %u: finit_module failed with errno %d",
			     mod, n, err);
			ok = false;
		} else if (count[err]++, mmp_module_loaded(mod)) {
			diag("%s: fault point %u: failed load left /sys/module/%s",
			     mod, n, mod);
			ok = false;
		}
	}
	if (n > MAX_POINTS) {
		diag("%s: more than %d fault points", mod, MAX_POINTS);
		ok = false;
	}
	/* The sweep ends with a clean load; make sure of it either way. */
	job->ok = mmp_ensure_loaded(dir, mod) && ok;
	errno_counts(count, errs, sizeof(errs));
	snprintf(job->result, sizeof(job->result),
		 "load %s: %u fault points in module code: %u failed (%s) leaving nothing, %u loaded and unloaded",
		 mod, points, points - loaded, errs[0] ? errs : "none", loaded);
}

/*
 * The load sweeps take most of the time under TCG; modules are
 * independent, so LOADERS threads share them out.
 */
#define LOADERS 2
static struct load_job jobs[32];
static atomic_size_t next_job;
static size_t njobs;

static void *loader(void *arg)
{
	size_t i;

	(void)arg;
	if (!open_nth())
		return NULL;
	while ((i = atomic_fetch_add(&next_job, 1)) < njobs)
		load_sweep(&jobs[i]);
	close(nth_fd);
	return NULL;
}

static void load_sweeps(const char **mods, size_t nmods)
{
	unsigned long end = kernel_end();
	pthread_t t[LOADERS];
	int started = 0, i;
	size_t j;

	/*
	 * The loader's own allocations are the same for every module and not
	 * the drivers' business: only those made from module code (init,
	 * probe and what they call) fail.
	 */
	if (!end || !set_filter(end, ~0UL)) {
		set_filter(0, ~0UL);
		for (j = 0; j < nmods; j++)
			ktap_result(false, "load %s: cannot restrict fault injection to module code (_end %#lx)",
				    mods[j], end);
		return;
	}
	njobs = nmods;
	for (j = 0; j < nmods; j++)
		jobs[j] = (struct load_job){ .mod = mods[j] };
	for (i = 0; i < LOADERS; i++)
		if (!pthread_create(&t[started], NULL, loader, NULL))
			started++;
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	set_filter(0, ~0UL);
	for (j = 0; j < nmods; j++) {
		if (!jobs[j].result[0])
			snprintf(jobs[j].result, sizeof(jobs[j].result),
				 "load %s: no sweep ran", jobs[j].mod);
		ktap_result(jobs[j].ok, "%s", jobs[j].result);
	}
}

/* A guarded read of the first word of @p. */
static bool reads(const char *what, void *p)
{
	uint32_t v;

	return mmp_read32(what, p, 0, &v);
}

static void mmap_sweep(struct mmp_dev *d)
{
	bool ok = mmp_dev_setup(d);
	size_t len = d->pages * (size_t)sysconf(_SC_PAGESIZE);
	unsigned int n, points = 0, mapped = 0, count[256] = { 0 };
	char what[64], errs[128];

	for (n = 1; ok && n <= MAX_POINTS; n++) {
		int fd = mmp_open_dev(d->path, d->oflags), err;
		void *p;
		long left;

		if (fd < 0) {
			ok = false;
			break;
		}
		ok = arm(n);
		p = mmap(NULL, len, d->prot, MAP_SHARED, fd, 0);
		err = errno;
		left = disarm();
		snprintf(what, sizeof(what), "%s point %u", d->name, n);
		if (!ok || left < 0) {
			diag("%s: fail-nth not usable", what);
			ok = false;
			if (p != MAP_FAILED)
				munmap(p, len);
		} else if (left > 0 && p == MAP_FAILED) {
			diag("%s: mmap without injection: %s", what,
			     ktap_errname(err));
			ok = false;
		} else if (p == MAP_FAILED && (err <= 0 || err >= 256)) {
			diag("%s: mmap failed with errno %d", what, err);
			ok = false;
		} else if (p == MAP_FAILED) {
			count[err]++;
		} else {
			ok = reads(what, p);
			if (munmap(p, len)) {
				diag("%s: munmap: %s", what, strerror(errno));
				ok = false;
			}
			mapped += left == 0;
		}
		close(fd);
		ok = mmp_dev_at_baseline(d, what) && ok;
		if (left != 0)
			break;
		points++;
	}
	if (n > MAX_POINTS) {
		diag("%s: more than %d fault points", d->name, MAX_POINTS);
		ok = false;
	}
	mmp_dev_teardown(d);
	errno_counts(count, errs, sizeof(errs));
	ktap_result(ok, "mmap %s: %u fault points: %u failed (%s), %u gave a working map; no VMA or reference left",
		    d->name, points, points - mapped, errs[0] ? errs : "none",
		    mapped);
}

/* mmp_refcount's ->mapped() through fail_function: 2 results. */
static void mapped_injection(void)
{
	struct mmp_dev *d = NULL;
	long before[3], after[3];
	const char *names[3] = { "mapped", "mapped_failed", "closes" };
	const char *fn = "mmp_refcount_mapped";
	bool ok, native = !mmp_module_compat("mmp_refcount");
	size_t i, len;
	int fd = -1;
	void *p;

	for (i = 0; i < mmp_ndevs; i++)
		if (!strcmp(mmp_devs[i].mod, "mmp_refcount"))
			d = &mmp_devs[i];
	ok = d && mmp_dev_setup(d) &&
	     mmp_sysfs_write(DBG "/fail_function/inject", fn) &&
	     mmp_sysfs_write(DBG "/fail_function/mmp_refcount_mapped/retval",
			     "0xfffffffffffffff4") && /* -ENOMEM */
	     mmp_sysfs_write(DBG "/fail_function/probability", "100") &&
	     mmp_sysfs_write(DBG "/fail_function/interval", "1") &&
	     mmp_sysfs_write(DBG "/fail_function/times", "-1") &&
	     mmp_sysfs_write(DBG "/fail_function/verbose", "0");
	for (i = 0; ok && i < 3; i++)
		ok = mmp_debugfs_long("mmp_refcount", names[i], &before[i]);
	len = d ? d->pages * (size_t)sysconf(_SC_PAGESIZE) : 0;
	if (ok) {
		fd = mmp_open_dev(d->path, d->oflags);
		p = fd < 0 ? MAP_FAILED : mmap(NULL, len, d->prot, MAP_SHARED, fd, 0);
		ok = fd >= 0 && ktap_errno_ok((long)(intptr_t)p, errno, ENOMEM,
					      "mmap with ->mapped() failing");
		if (p != MAP_FAILED)
			munmap(p, len);
		mmp_close_fd(fd);
	}
	for (i = 0; ok && i < 3; i++)
		ok = mmp_debugfs_long("mmp_refcount", names[i], &after[i]);
	/* The body never ran; ->close() ran for the VMA (native path only). */
	if (ok && (after[0] != before[0] || after[1] != before[1] ||
		   after[2] != before[2] + native)) {
		diag("mapped %ld -> %ld, mapped_failed %ld -> %ld, closes %ld -> %ld (want +%d)",
		     before[0], after[0], before[1], after[1], before[2],
		     after[2], native);
		ok = false;
	}
	ok = ok && mmp_dev_at_baseline(d, "after the failed mmap");
	ktap_result(ok, "fail_function %s: mmap fails ENOMEM, no VMA or reference left, ->close() %s",
		    fn, native ? "ran once" : "not called (compat path)");
	ok = mmp_sysfs_write(DBG "/fail_function/inject", "") && d;
	if (ok) {
		fd = mmp_open_dev(d->path, d->oflags);
		p = fd < 0 ? MAP_FAILED : mmap(NULL, len, d->prot, MAP_SHARED, fd, 0);
		ok = p != MAP_FAILED && reads("refcount after the injection", p);
		if (p != MAP_FAILED)
			munmap(p, len);
		mmp_close_fd(fd);
		ok = mmp_dev_at_baseline(d, "after the injection") && ok;
	}
	if (d)
		mmp_dev_teardown(d);
	ktap_result(ok, "fail_function removed: mmp_refcount maps again");
}

/* kmemleak: a scan finds nothing unreferenced (boot-time leaks cleared). */
static void kmemleak_check(void)
{
	char line[256];
	int leaks = 0;
	FILE *f;

	if (!mmp_sysfs_write(DBG "/kmemleak", "scan")) {
		ktap_result(false, "kmemleak: scan");
		return;
	}
	f = fopen(DBG "/kmemleak", "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "unreferenced object", 19) && !leaks++)
			diag("kmemleak: %s", strtok(line, "\n"));
	}
	if (f)
		fclose(f);
	ktap_result(f && !leaks, "kmemleak: no unreferenced object after the sweeps (%d)",
		    leaks);
}

static bool parse_opt(int c, const char *arg)
{
	dir = arg;
	return c == 'd';
}

int main(int argc, char **argv)
{
	const char *mods[32], *ko;
	size_t nmods = mmp_dev_modules(mods, 32), i;
	bool no_module, have;
	int plan;

	setvbuf(stdout, NULL, _IOLBF, 0);
	have = open_nth() && !access(DBG "/fail_function", F_OK) &&
	       !access(DBG "/kmemleak", F_OK);
	plan = have ? 1 + (int)nmods + (int)mmp_ndevs + 2 + 1 : 1;
	if (!mmp_test_start_opts(argc, argv, "mmp_faultinject_test", plan, &ko,
				 &no_module, "d:", parse_opt, "[-d module-dir]"))
		return 2;
	if (!have) {
		ktap_skip("no fail-nth, fail_function or kmemleak in this kernel (the 7.3-debug lane has them)",
			  "fault injection over every driver");
		return ktap_finish();
	}
	ktap_result(knobs_set(), "failslab and fail_page_alloc set up for GFP_KERNEL, quietly");
	load_sweeps(mods, nmods);
	for (i = 0; i < mmp_ndevs; i++)
		mmap_sweep(&mmp_devs[i]);
	mapped_injection();
	knobs_restore();
	kmemleak_check();
	return ktap_finish();
}
