// SPDX-License-Identifier: GPL-2.0
/*
 * Stress over every driver.
 *
 * For each device node: THREADS threads, for -t milliseconds, each in a
 * loop mapping a random window of the node, touching every page (loads;
 * stores where they are harmless), dropping write access with mprotect(),
 * shrinking the map with mremap() and unmapping it; every 8th round a
 * thread forks a child that reads the map it inherited. Every call must
 * succeed. Afterwards no VMA of the node is left, the module's reference
 * count (and mmp_refcount's live VMA count) is back at its baseline and the
 * kernel logged no BUG, WARNING, KASAN, lockdep or refcount line (kmemleak
 * scans run at the end of the VM run: scripts/vm-init).
 *
 * Then each module goes through -c unload/load cycles (the PCI drivers
 * unbind and probe their devices each time), with the same log check.
 *
 * Usage: mmp_stress_test [-d DIR] [-t MS] [-c CYCLES]; the modules are
 * DIR/<name>.ko (default /modules).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mmp_devices.h"
#include "mmp_testlib.h"

#define THREADS 4

static const char *dir = "/modules";
static long run_ms = 1000;
static int cycles = 10;
static size_t page;

/* One device under stress; the counters are shared by its threads. */
struct stress {
	struct mmp_dev *d;
	struct timespec end;
	atomic_ulong maps, touches, mprotects, mremaps, forks, errors;
	atomic_flag said;	/* first error diagnosed */
};

struct worker {
	struct stress *s;
	unsigned int seed;
	int id;
};

static bool expired(const struct timespec *end)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > end->tv_sec ||
	       (now.tv_sec == end->tv_sec && now.tv_nsec >= end->tv_nsec);
}

static void failed(struct stress *s, const char *op, int err)
{
	atomic_fetch_add(&s->errors, 1);
	if (!atomic_flag_test_and_set(&s->said))
		diag("%s: %s failed: %s", s->d->name, op, ktap_errname(err));
}

/* Load every page of [p, p + n pages); store too if @store. */
static void touch(volatile unsigned char *p, size_t n, bool store)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char v = p[i * page];

		if (store)
			p[i * page] = v;
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	struct mmp_dev *d = s->d;
	int fd = mmp_open_dev(d->path, d->oflags);
	unsigned long round;

	if (fd < 0) {
		failed(s, "open", errno);
		return NULL;
	}
	for (round = 0; !expired(&s->end); round++) {
		/* UIO's offset names the map, mmp_shmem maps from 0 only. */
		bool at0 = !strcmp(d->mod, "mmp_uio") ||
			   !strcmp(d->mod, "mmp_shmem");
		size_t off = at0 ? 0 : (size_t)rand_r(&w->seed) % d->pages;
		size_t n = 1 + (size_t)rand_r(&w->seed) % (d->pages - off);
		unsigned char *p;
		void *q;

		p = mmap(NULL, n * page, d->prot, MAP_SHARED, fd,
			 (off_t)(off * page));
		if (p == MAP_FAILED) {
			failed(s, "mmap", errno);
			continue;
		}
		atomic_fetch_add(&s->maps, 1);
		touch(p, n, d->store);
		atomic_fetch_add(&s->touches, n);
		if (w->id == 0 && round % 8 == 7) {
			pid_t pid = fork();

			if (pid == 0) {
				touch(p, n, false);
				_exit(0);
			}
			if (pid < 0 || mmp_wait_child(pid) != 0)
				failed(s, "fork", pid < 0 ? errno : 0);
			else
				atomic_fetch_add(&s->forks, 1);
		}
		if (mprotect(p, n * page, PROT_READ))
			failed(s, "mprotect", errno);
		else
			atomic_fetch_add(&s->mprotects, 1);
		if (n > 1) {
			q = mremap(p, n * page, (n / 2) * page, 0);
			if (q == MAP_FAILED) {
				failed(s, "mremap", errno);
			} else {
				/*
				 * The tail is unmapped now, and another thread
				 * may already have been given its addresses.
				 */
				atomic_fetch_add(&s->mremaps, 1);
				n /= 2;
				touch(p, n, false);
			}
		}
		if (munmap(p, n * page))
			failed(s, "munmap", errno);
	}
	close(fd);
	return NULL;
}

static void stress_device(struct mmp_dev *d)
{
	struct stress s = { .d = d, .said = ATOMIC_FLAG_INIT };
	struct worker w[THREADS];
	pthread_t t[THREADS];
	size_t mark = mmp_kmsg_mark();
	char first[256];
	int i, started = 0, bad;
	bool ok = mmp_dev_setup(d);

	clock_gettime(CLOCK_MONOTONIC, &s.end);
	s.end.tv_sec += run_ms / 1000;
	s.end.tv_nsec += (run_ms % 1000) * 1000000L;
	if (s.end.tv_nsec >= 1000000000L) {
		s.end.tv_sec++;
		s.end.tv_nsec -= 1000000000L;
	}
	for (i = 0; ok && i < THREADS; i++) {
		w[i] = (struct worker){ .s = &s, .seed = 0x5eed + (unsigned int)i, .id = i };
		if (pthread_create(&t[i], NULL, work, &w[i])) {
			diag("%s: pthread_create failed", d->name);
			ok = false;
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	ok = ok && atomic_load(&s.errors) == 0;
	ok = ok && mmp_dev_at_baseline(d, "after the stress");
	mmp_dev_teardown(d);
	bad = mmp_kmsg_bad_since(mark, first, sizeof(first));
	if (bad)
		diag("%s: kernel log: %s", d->name, first);
	ktap_result(ok && bad == 0,
		    "stress %s: %d threads, %ld ms: %lu maps, %lu pages touched, %lu mprotect, %lu mremap, %lu forks; no error, nothing left, clean log",
		    d->name, THREADS, run_ms, atomic_load(&s.maps),
		    atomic_load(&s.touches), atomic_load(&s.mprotects),
		    atomic_load(&s.mremaps), atomic_load(&s.forks));
}

static void module_cycles(const char *mod)
{
	size_t mark = mmp_kmsg_mark();
	char first[256];
	bool ok = true;
	int i, done = 0, bad;

	for (i = 0; ok && i < cycles; i++) {
		if (mmp_unload(mod)) {
			diag("%s: delete_module: %s", mod, ktap_errname(errno));
			ok = false;
		} else if (mmp_module_loaded(mod)) {
			diag("%s: /sys/module/%s stays after the unload", mod, mod);
			ok = false;
		} else {
			ok = mmp_ensure_loaded(dir, mod);
			done += ok;
		}
	}
	ok = mmp_ensure_loaded(dir, mod) && ok;
	bad = mmp_kmsg_bad_since(mark, first, sizeof(first));
	if (bad)
		diag("%s: kernel log: %s", mod, first);
	ktap_result(ok && bad == 0, "%s: %d unload/load cycles, clean log",
		    mod, done);
}

static bool parse_opt(int c, const char *arg)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (c == 'd')
		dir = arg;
	else if (*end || v <= 0)
		return false;
	else if (c == 't')
		run_ms = v;
	else
		cycles = (int)v;
	return true;
}

int main(int argc, char **argv)
{
	const char *mods[32], *ko;
	size_t nmods = mmp_dev_modules(mods, 32), i;
	bool no_module;

	setvbuf(stdout, NULL, _IOLBF, 0);
	page = mmp_test_start_opts(argc, argv, "mmp_stress_test",
				   (int)(mmp_ndevs + nmods), &ko, &no_module,
				   "d:t:c:", parse_opt,
				   "[-d module-dir] [-t ms] [-c cycles]");
	if (!page)
		return 2;
	for (i = 0; i < mmp_ndevs; i++)
		stress_device(&mmp_devs[i]);
	for (i = 0; i < nmods; i++)
		module_cycles(mods[i]);
	return ktap_finish();
}
