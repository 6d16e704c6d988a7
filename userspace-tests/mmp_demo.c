// SPDX-License-Identifier: GPL-2.0
/*
 * mmp_demo - one human-readable line per loaded driver: what was mapped and
 * what userspace saw. Run by `make demo`; also handy on real hardware.
 * Exit status is non-zero if any loaded driver's demo failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mmp_util.h"

/* PFN remap: map the whole buffer through both twins and compare them. */
static bool demo_pfn_remap(void)
{
	const char *dev = "/dev/mmp-pfn-remap";
	const char *legacy = "/dev/mmp-pfn-remap-legacy";
	long page = sysconf(_SC_PAGESIZE);
	long pages = mmp_read_param("mmp_pfn_remap", "nr_pages");
	size_t len = (size_t)pages * page;
	unsigned char *a = MAP_FAILED, *b = MAP_FAILED;
	char flags[256] = "";
	unsigned long end;
	size_t bad = len;
	int fa, fb;
	bool ok;

	fa = open(dev, O_RDONLY);
	fb = open(legacy, O_RDONLY);
	if (pages > 0 && fa >= 0 && fb >= 0) {
		a = mmap(NULL, len, PROT_READ, MAP_SHARED, fa, 0);
		b = mmap(NULL, len, PROT_READ, MAP_SHARED, fb, 0);
	}
	ok = a != MAP_FAILED && b != MAP_FAILED;
	if (ok) {
		bad = mmp_pattern_mismatch(a, 0, len, page);
		mmp_vma_info(a, &end, flags, sizeof(flags));
		ok = bad == len && memcmp(a, b, len) == 0;
	}
	if (a != MAP_FAILED && b != MAP_FAILED)
		printf("%s: mapped %ld pages (%zu KiB) with mmap_prepare + mmap_action_remap_full; "
		       "page 1 starts %02x %02x %02x %02x, %s; VmFlags [%s]; "
		       "%s (legacy ->mmap + remap_pfn_range) maps the same bytes: %s\n",
		       dev, pages, len / 1024, a[page], a[page + 1],
		       a[page + 2], a[page + 3],
		       bad == len ? "every byte as expected" : "CONTENT MISMATCH",
		       flags, legacy, memcmp(a, b, len) ? "NO" : "yes");
	else
		printf("%s: FAILED to map (%s)\n", dev, strerror(errno));
	if (a != MAP_FAILED)
		munmap(a, len);
	if (b != MAP_FAILED)
		munmap(b, len);
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return ok;
}

static const struct {
	const char *module;
	bool (*run)(void);
} demos[] = {
	{ "mmp_pfn_remap", demo_pfn_remap },
};

int main(void)
{
	bool ok = true;
	size_t i;

	for (i = 0; i < sizeof(demos) / sizeof(demos[0]); i++) {
		if (!mmp_module_loaded(demos[i].module)) {
			printf("%s: not loaded\n", demos[i].module);
			ok = false;
			continue;
		}
		ok &= demos[i].run();
	}
	return ok ? 0 : 1;
}
