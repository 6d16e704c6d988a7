// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
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

bool mmp_vmflags(const void *addr, char *buf, size_t n)
{
	unsigned long start, end;
	bool in_entry = false, found = false;
	char line[512];
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		/* Entry headers are the only lines shaped "start-end ". */
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in_entry = start == (unsigned long)addr;
			continue;
		}
		if (in_entry && !strncmp(line, "VmFlags:", 8)) {
			snprintf(buf, n, "%s", line + 8 + strspn(line + 8, " "));
			buf[strcspn(buf, "\n")] = '\0';
			/* Drop the trailing space the kernel prints. */
			while (*buf && buf[strlen(buf) - 1] == ' ')
				buf[strlen(buf) - 1] = '\0';
			found = true;
		}
	}
	fclose(f);
	return found;
}

bool mmp_has_flag(const char *flags, const char *flag)
{
	size_t len = strlen(flag);
	const char *p = flags;

	while ((p = strstr(p, flag))) {
		if ((p == flags || p[-1] == ' ') && (p[len] == ' ' || !p[len]))
			return true;
		p += len;
	}
	return false;
}

int mmp_count_maps(const char *path)
{
	size_t plen = strlen(path), len;
	char line[512];
	int count = 0;
	FILE *f;

	f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		len = strlen(line);
		if (len >= plen && !strcmp(line + len - plen, path))
			count++;
	}
	fclose(f);
	return count;
}
