// SPDX-License-Identifier: GPL-2.0
/*
 * What each mmap pattern costs: `make bench` boots one kernel and runs this
 * in it (scripts/vm-init, mmp.mode=bench), with mmp_pfn_remap,
 * mmp_kernel_pages and mmp_fault loaded with nr_pages=256.
 *
 * Measured, each as the time of a batch of operations divided by its size:
 *  - call:  mmap+munmap of 16 pages of every device node, and of anonymous
 *           memory as the baseline (nothing touched);
 *  - page:  mmap of 256 pages, one store to each, munmap, per page: the
 *           prefaulted PFN remap (native and legacy twin), map_kernel_pages,
 *           fault on demand, against anonymous memory with MAP_POPULATE and
 *           with demand faults;
 *  - uring: io_uring READ_FIXED of a 1 MiB O_DIRECT file into a registered
 *           map_kernel_pages mapping and into an anonymous buffer, and the
 *           registration (pinning) of each buffer.
 * Items compared with each other run interleaved, one batch each per round,
 * so that the host's drift under TCG hits them alike: one warm-up round,
 * then REPS rounds. A batch lasts about BATCH_MS. The output is Markdown:
 * per item its repetitions, min and median; then the ratios (see ratio()),
 * which are the claim: TCG distorts absolute times.
 *
 * Afterwards a fresh mapping must show the stores, and the buffers what the
 * file holds, so a figure never times operations that did not work.
 * Exit status 1, with the reason on stderr, if an operation fails.
 *
 * Usage: mmp_bench [-r REPS] [-b BATCH_MS]
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "mmp_devices.h"
#include "mmp_testlib.h"

#define CALL_PAGES 16
#define TOUCH_PAGES 256
#define URING_CHUNK (64 * 1024)
#define URING_FILE "/tmp/mmp-bench-odirect"
#define MAX_REPS 101

static int reps = 51;
static long batch_ms = 30;
static size_t page;

struct item {
	const char *name;
	const char *what;	/* for the raw table */
	const char *unit;	/* per what the time is */
	double units;		/* of @unit per operation */
	bool (*op)(struct item *it);
	/* what op works on */
	int fd;
	const struct mmp_dev *d;
	size_t pages;
	int flags;		/* mmap flags besides MAP_SHARED/PRIVATE */
	unsigned char stamp;	/* stored by the page items */
	void *buf;		/* uring: the registered buffer */
	int buf_index;		/* and its index among the fixed buffers */
	/* results */
	long batch;		/* operations per batch */
	double ns[MAX_REPS];	/* per unit, one per round */
	double min, median;
};

static struct io_uring ring;
static int odirect_fd = -1;
static unsigned char *file_ref;	/* what the O_DIRECT file holds */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static bool fail(const struct item *it, const char *call)
{
	fprintf(stderr, "mmp_bench: %s: %s failed: %s\n", it->name, call,
		ktap_errname(errno));
	return false;
}

/* mmap+munmap of the item's node, or of anonymous memory (fd -1). */
static bool op_call(struct item *it)
{
	size_t len = it->pages * page;
	int prot = it->d ? it->d->prot : PROT_READ | PROT_WRITE;
	int type = it->fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED;
	void *p = mmap(NULL, len, prot, type | it->flags, it->fd, 0);

	if (p == MAP_FAILED)
		return fail(it, "mmap");
	if (munmap(p, len))
		return fail(it, "munmap");
	return true;
}

/* Map, store into every page (the first touch), unmap. */
static bool op_touch(struct item *it)
{
	size_t len = it->pages * page, i;
	int type = it->fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED;
	volatile unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					 type | it->flags, it->fd, 0);

	if (p == MAP_FAILED)
		return fail(it, "mmap");
	it->stamp++;
	for (i = 0; i < it->pages; i++)
		p[i * page] = it->stamp;
	if (munmap((void *)p, len))
		return fail(it, "munmap");
	return true;
}

/* Read the whole O_DIRECT file into the registered buffer, chunk by chunk. */
static bool op_uring_read(struct item *it)
{
	size_t len = it->pages * page, off, done = 0;
	struct io_uring_cqe *cqe;
	int ret;

	for (off = 0; off < len; off += URING_CHUNK) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		if (!sqe) {
			errno = EBUSY;
			return fail(it, "io_uring_get_sqe");
		}
		io_uring_prep_read_fixed(sqe, odirect_fd,
					 (char *)it->buf + off, URING_CHUNK,
					 off, it->buf_index);
	}
	ret = io_uring_submit(&ring);
	if (ret != (int)(len / URING_CHUNK)) {
		errno = ret < 0 ? -ret : EIO;
		return fail(it, "io_uring_submit");
	}
	while (done < len / URING_CHUNK) {
		ret = io_uring_wait_cqe(&ring, &cqe);
		if (ret) {
			errno = -ret;
			return fail(it, "io_uring_wait_cqe");
		}
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (ret != URING_CHUNK) {
			errno = ret < 0 ? -ret : EIO;
			return fail(it, "READ_FIXED");
		}
		done++;
	}
	return true;
}

/* Register the buffer with io_uring (pinning its pages), unregister. */
static bool op_uring_register(struct item *it)
{
	struct iovec iov = { .iov_base = it->buf, .iov_len = it->pages * page };
	int ret = io_uring_register_buffers(&ring, &iov, 1);

	if (ret) {
		errno = -ret;
		return fail(it, "io_uring_register_buffers");
	}
	ret = io_uring_unregister_buffers(&ring);
	if (ret) {
		errno = -ret;
		return fail(it, "io_uring_unregister_buffers");
	}
	return true;
}

static bool run_batch(struct item *it, long n, double *ns)
{
	double t0 = now_ns();
	long i;

	for (i = 0; i < n; i++)
		if (!it->op(it))
			return false;
	*ns = now_ns() - t0;
	return true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Warm each item up, size its batch to about batch_ms, then run the
 * rounds.
 */
static bool measure(struct item *items, size_t n)
{
	double target = (double)batch_ms * 1e6, ns, sorted[MAX_REPS];
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		long k = 1;

		/* The first call pays for TCG's translation: not a sample. */
		if (!run_batch(&items[i], 1, &ns))
			return false;
		for (;;) {
			if (!run_batch(&items[i], k, &ns))
				return false;
			if (ns >= target / 4 || k >= 1L << 24)
				break;
			k *= 2;
		}
		items[i].batch = (long)((double)k * target / ns) + 1;
	}
	for (r = 0; r < reps; r++) {
		for (i = 0; i < n; i++) {
			struct item *it = &items[i];

			if (!run_batch(it, it->batch, &ns))
				return false;
			it->ns[r] = ns / ((double)it->batch * it->units);
		}
	}
	for (i = 0; i < n; i++) {
		memcpy(sorted, items[i].ns, sizeof(double) * (size_t)reps);
		qsort(sorted, (size_t)reps, sizeof(double), cmp_double);
		items[i].min = sorted[0];
		items[i].median = sorted[reps / 2];
	}
	return true;
}

static struct item *find(struct item *items, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(items[i].name, name))
			return &items[i];
	return NULL;
}

static void print_raw(const char *title, const struct item *items, size_t n)
{
	size_t i;

	printf("\n### %s\n\n", title);
	printf("| item | measured | unit | reps x ops | min | median |\n");
	printf("|---|---|---|---|---:|---:|\n");
	for (i = 0; i < n; i++)
		printf("| %s | %s | %s | %d x %ld | %.0f | %.0f |\n",
		       items[i].name, items[i].what, items[i].unit, reps,
		       items[i].batch, items[i].min, items[i].median);
}

/*
 * One ratio line: "| key | value | what |", the value the median over the
 * rounds of the ratio within each round: the two batches of a round ran
 * back to back, under the same state of the host. Above 1 the numerator
 * costs more. scripts/bench-report compares the keys between runs.
 */
static void ratio(const char *key, const struct item *num,
		  const struct item *den, const char *what)
{
	double r[MAX_REPS];
	int i;

	for (i = 0; i < reps; i++)
		r[i] = num->ns[i] / den->ns[i];
	qsort(r, (size_t)reps, sizeof(double), cmp_double);
	printf("| %s | %.3g | %s |\n", key, r[reps / 2], what);
}

static void ratio_table(const char *title)
{
	printf("\n### Ratios: %s\n\n| ratio | value | meaning |\n|---|---:|---|\n",
	       title);
}

/*
 * "KIND <item> / <den>" for items[from, n) over @den; @fmt, with the
 * item's name for its %s, says what the ratio compares.
 */
static void ratios_over(const char *kind, const struct item *items,
			size_t from, size_t n, const struct item *den,
			const char *fmt)
{
	char key[96], what[192];
	size_t i;

	for (i = from; i < n; i++) {
		snprintf(key, sizeof(key), "%s %s / %s", kind, items[i].name,
			 den->name);
		snprintf(what, sizeof(what), fmt, items[i].name);
		ratio(key, &items[i], den, what);
	}
}

/* The native node over its legacy twin. */
static void ratio_twins(const char *kind, struct item *items, size_t n)
{
	char key[96];

	snprintf(key, sizeof(key), "%s pfn_remap / pfn_remap legacy", kind);
	ratio(key, find(items, n, "pfn_remap"),
	      find(items, n, "pfn_remap legacy"),
	      "native mmap_prepare over the legacy ->mmap twin");
}

static void close_items(const struct item *items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (items[i].fd >= 0)
			close(items[i].fd);
}

static bool open_node(struct item *it, struct mmp_dev *d)
{
	it->d = d;
	it->fd = open(d->path, d->oflags | O_CLOEXEC);
	if (it->fd < 0) {
		fprintf(stderr, "mmp_bench: open %s: %s\n", d->path,
			ktap_errname(errno));
		return false;
	}
	return true;
}

/* Every page of a fresh map of @it's node holds the last stamp stored. */
static bool stamps_landed(const struct item *it)
{
	unsigned char *p = mmp_map(it->fd, 0, it->pages, PROT_READ, MAP_SHARED);
	size_t i;
	bool ok = p != NULL;

	for (i = 0; ok && i < it->pages; i++) {
		if (p[i * page] != it->stamp) {
			fprintf(stderr,
				"mmp_bench: %s: page %zu holds %#x, not the %#x stored\n",
				it->name, i, p[i * page], it->stamp);
			ok = false;
		}
	}
	mmp_unmap_pages(p, it->pages);
	return ok;
}

static struct mmp_dev *dev_named(const char *name)
{
	size_t i;

	for (i = 0; i < mmp_ndevs; i++)
		if (!strcmp(mmp_devs[i].name, name))
			return &mmp_devs[i];
	return NULL;
}

/* mmap+munmap of every node against anonymous memory. */
static bool bench_calls(void)
{
	struct item items[32];
	size_t n = 0, i;
	bool ok = true;

	items[n++] = (struct item){ .name = "anon", .fd = -1 };
	for (i = 0; i < mmp_ndevs && ok; i++) {
		items[n] = (struct item){ .name = mmp_devs[i].name };
		ok = open_node(&items[n++], &mmp_devs[i]);
	}
	for (i = 0; i < n; i++) {
		items[i].what = "mmap+munmap, 16 pages";
		items[i].unit = "ns/call";
		items[i].units = 1;
		items[i].op = op_call;
		items[i].pages = CALL_PAGES;
	}
	ok = ok && measure(items, n);
	if (ok) {
		print_raw("mmap+munmap (call)", items, n);
		printf("\nCalls per second (median):");
		for (i = 0; i < n; i++)
			printf("%s %s %.0f", i ? "," : "", items[i].name,
			       1e9 / items[i].median);
		printf(".\n");
		ratio_table("mmap+munmap");
		ratios_over("call", items, 1, n, &items[0],
			    "time of mmap+munmap of 16 pages of the %s node over anonymous memory");
		ratio_twins("call", items, n);
	}
	close_items(items, n);
	return ok;
}

/* Map + first touch per page: devices against the anonymous baselines. */
static bool bench_pages(void)
{
	static const char *const devs[] = { "pfn_remap", "pfn_remap legacy",
					    "kernel_pages", "fault" };
	struct item items[8];
	size_t n = 0, i;
	bool ok = true;

	items[n++] = (struct item){ .name = "anon populate", .fd = -1,
				    .flags = MAP_POPULATE };
	items[n++] = (struct item){ .name = "anon demand", .fd = -1 };
	for (i = 0; i < sizeof(devs) / sizeof(devs[0]) && ok; i++) {
		struct mmp_dev *d = dev_named(devs[i]);

		if (d->pages < TOUCH_PAGES) {
			fprintf(stderr,
				"mmp_bench: %s has %zu pages, needs %d (load %s with nr_pages=%d)\n",
				d->path, d->pages, TOUCH_PAGES, d->mod,
				TOUCH_PAGES);
			ok = false;
			break;
		}
		items[n] = (struct item){ .name = devs[i] };
		ok = open_node(&items[n++], d);
	}
	for (i = 0; i < n; i++) {
		items[i].what = "mmap, 1 store per page, munmap; 256 pages";
		items[i].unit = "ns/page";
		items[i].units = TOUCH_PAGES;
		items[i].op = op_touch;
		items[i].pages = TOUCH_PAGES;
	}
	ok = ok && measure(items, n);
	/* pfn_remap's twins share a buffer: one more store, then look. */
	for (i = 2; ok && i < n; i++)
		ok = op_touch(&items[i]) && stamps_landed(&items[i]);
	if (ok) {
		print_raw("map and first touch (page)", items, n);
		ratio_table("map and first touch, per page");
		ratios_over("page", items, 2, n, &items[0],
			    "%s over anonymous memory prefaulted with MAP_POPULATE");
		ratios_over("page", items, 2, n, &items[1],
			    "%s over anonymous memory faulted in by the stores");
		ratio_twins("page", items, n);
	}
	close_items(items, n);
	return ok;
}

/* The O_DIRECT file: TOUCH_PAGES pages of a known pattern. */
static bool make_file(size_t len)
{
	size_t i;
	int fd;

	file_ref = malloc(len);
	if (!file_ref)
		return false;
	for (i = 0; i < len; i++)
		file_ref[i] = (unsigned char)(i * 7 + i / 4096);
	fd = open(URING_FILE, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || pwrite(fd, file_ref, len, 0) != (ssize_t)len ||
	    fsync(fd)) {
		fprintf(stderr, "mmp_bench: writing %s: %s\n", URING_FILE,
			ktap_errname(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	odirect_fd = open(URING_FILE, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (odirect_fd < 0) {
		fprintf(stderr, "mmp_bench: open %s O_DIRECT: %s\n",
			URING_FILE, ktap_errname(errno));
		return false;
	}
	return true;
}

/*
 * io_uring O_DIRECT reads into a map_kernel_pages mapping against an
 * anonymous buffer. Both are registered as fixed buffers for the reads;
 * the registration itself is measured separately (each time the buffer is
 * not registered).
 */
static bool bench_uring(void)
{
	size_t len = (size_t)TOUCH_PAGES * page, i;
	struct item items[4];
	struct mmp_dev *kp = dev_named("kernel_pages");
	struct iovec iov[2];
	void *anon = NULL, *map = NULL;
	int fd = -1, ret;
	bool ok;

	ret = io_uring_queue_init(len / URING_CHUNK, &ring, 0);
	if (ret) {
		fprintf(stderr, "mmp_bench: io_uring_queue_init: %s\n",
			ktap_errname(-ret));
		return false;
	}
	ok = make_file(len);
	if (ok) {
		fd = open(kp->path, O_RDWR | O_CLOEXEC);
		map = fd < 0 ? NULL : mmp_map(fd, 0, TOUCH_PAGES,
					      PROT_READ | PROT_WRITE,
					      MAP_SHARED);
		anon = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		ok = map && anon != MAP_FAILED;
		if (!ok)
			fprintf(stderr, "mmp_bench: mapping the buffers failed\n");
	}
	for (i = 0; i < 4; i++) {
		items[i] = (struct item){ .fd = -1, .pages = TOUCH_PAGES,
					  .buf = i % 2 ? map : anon,
					  .buf_index = i % 2 };
		items[i].name = i % 2 ? "kernel_pages" : "anon";
	}
	for (i = 0; i < 2; i++) {
		items[i].what = "READ_FIXED, 16 x 64 KiB from a 1 MiB O_DIRECT tmpfs file";
		items[i].unit = "ns/MiB";
		items[i].units = (double)len / (1 << 20);
		items[i].op = op_uring_read;
		items[i + 2].what = "register + unregister a 1 MiB fixed buffer";
		items[i + 2].unit = "ns/call";
		items[i + 2].units = 1;
		items[i + 2].op = op_uring_register;
	}
	ok = ok && measure(&items[2], 2);
	if (ok) {
		iov[0] = (struct iovec){ .iov_base = anon, .iov_len = len };
		iov[1] = (struct iovec){ .iov_base = map, .iov_len = len };
		ret = io_uring_register_buffers(&ring, iov, 2);
		if (ret) {
			fprintf(stderr, "mmp_bench: io_uring_register_buffers: %s\n",
				ktap_errname(-ret));
			ok = false;
		}
	}
	ok = ok && measure(items, 2);
	for (i = 0; ok && i < 2; i++) {
		if (memcmp(items[i].buf, file_ref, len)) {
			fprintf(stderr, "mmp_bench: %s: the buffer does not hold the file after READ_FIXED\n",
				items[i].name);
			ok = false;
		}
	}
	if (ok) {
		print_raw("io_uring O_DIRECT (uring)", items, 4);
		printf("\nMiB/s (median): anon %.1f, kernel_pages %.1f.\n",
		       1e9 / items[0].median, 1e9 / items[1].median);
		ratio_table("io_uring");
		ratio("uring read kernel_pages / anon", &items[1], &items[0],
		      "time per MiB of O_DIRECT READ_FIXED into the map_kernel_pages mapping over an anonymous buffer");
		ratio("uring register kernel_pages / anon", &items[3],
		      &items[2],
		      "registering (pinning) the mapping over an anonymous buffer");
	}
	io_uring_queue_exit(&ring);
	if (map)
		mmp_unmap_pages(map, TOUCH_PAGES);
	if (anon && anon != MAP_FAILED)
		munmap(anon, len);
	if (fd >= 0)
		close(fd);
	if (odirect_fd >= 0)
		close(odirect_fd);
	unlink(URING_FILE);
	free(file_ref);
	return ok;
}

/* The guest CPU, and whether the kernel may clear pages with rep stosb. */
static void guest_cpu(void)
{
	char line[4096], model[256] = "?";
	bool erms = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "model name", 10) && strchr(line, ':'))
			snprintf(model, sizeof(model), "%s",
				 strchr(line, ':') + 2);
		else if (!strncmp(line, "flags", 5))
			erms = strstr(line, " erms") != NULL;
	}
	if (f)
		fclose(f);
	model[strcspn(model, "\n")] = '\0';
	printf("Guest CPU: %s, %ld online, ERMS %s.\n", model,
	       sysconf(_SC_NPROCESSORS_ONLN), erms ? "on" : "off");
}

static bool parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "r:b:")) != -1) {
		char *end;
		long v;

		if (c == '?')
			return false;
		v = strtol(optarg, &end, 10);
		if (*end || v < 1 ||
		    (c == 'r' && v > MAX_REPS) || (c == 'b' && v > 10000))
			return false;
		if (c == 'r')
			reps = (int)v;
		else
			batch_ms = v;
	}
	return optind == argc;
}

int main(int argc, char **argv)
{
	struct utsname u;
	cpu_set_t cpu;
	size_t i, set = 0;
	bool ok = true;

	if (!parse_args(argc, argv)) {
		fprintf(stderr, "usage: %s [-r reps (1-%d)] [-b batch-ms (1-10000)]\n",
			argv[0], MAX_REPS);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	page = mmp_page_init();
	/* One CPU: no migration between rounds. */
	CPU_ZERO(&cpu);
	CPU_SET(0, &cpu);
	sched_setaffinity(0, sizeof(cpu), &cpu);
	for (i = 0; i < mmp_ndevs && ok; i++) {
		ok = mmp_dev_setup(&mmp_devs[i]);
		set += ok;
	}
	uname(&u);
	printf("## mmp_bench on %s\n\n", u.release);
	guest_cpu();
	printf("%d rounds of batches of about %ld ms after a warm-up; times in ns per unit.\n",
	       reps, batch_ms);
	ok = ok && bench_calls() && bench_pages() && bench_uring();
	while (set--)
		mmp_dev_teardown(&mmp_devs[set]);
	return ok ? 0 : 1;
}
