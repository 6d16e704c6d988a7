// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mmp_util.h"

long mmp_read_param(const char *module, const char *param)
{
	char path[256];
	long val;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", module,
		 param);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

bool mmp_module_loaded(const char *module)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/module/%s", module);
	return access(path, F_OK) == 0;
}

size_t mmp_pattern_mismatch(const unsigned char *p, size_t off, size_t len,
			    long page)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != mmp_pattern(off + i, page))
			return i;
	return len;
}

bool mmp_vma_info(const void *addr, unsigned long *end, char *flags,
		  size_t size)
{
	unsigned long start, e, want = (unsigned long)addr;
	bool in_vma = false, found = false;
	char line[4096];
	FILE *f;

	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		/* Only the VMA header lines parse as "start-end ". */
		if (sscanf(line, "%lx-%lx ", &start, &e) == 2) {
			if (in_vma)
				break;
			in_vma = start == want;
			*end = e;
		} else if (in_vma && !strncmp(line, "VmFlags:", 8)) {
			const char *v = line + 8 + strspn(line + 8, " ");
			size_t n = strcspn(v, "\n");

			while (n && v[n - 1] == ' ')
				n--;
			if (n >= size)
				n = size - 1;
			memcpy(flags, v, n);
			flags[n] = '\0';
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

bool mmp_has_flag(const char *flags, const char *flag)
{
	size_t n = strlen(flag);
	const char *s;

	for (s = flags; (s = strstr(s, flag)); s += n)
		if ((s == flags || s[-1] == ' ') && (!s[n] || s[n] == ' '))
			return true;
	return false;
}

int mmp_count_maps(const char *path)
{
	size_t plen = strlen(path);
	char line[4096];
	int n = 0;
	FILE *f;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strcspn(line, "\n");

		line[len] = '\0';
		/* Whole path field: /dev/x must not match /dev/x-legacy. */
		if (len > plen && line[len - plen - 1] == ' ' &&
		    !strcmp(line + len - plen, path))
			n++;
	}
	fclose(f);
	return n;
}
