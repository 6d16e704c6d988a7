// SPDX-License-Identifier: GPL-2.0
/*
 * Minimal KTAP v1 producer for the userspace tests, see ktap.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ktap.h"

static int planned, ran, passed, failed, skipped;

void ktap_start(const char *name, int plan)
{
	/* Output usually goes to a serial console or a pipe: flush per line. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	planned = plan;
	printf("KTAP version 1\n# %s\n1..%d\n", name, plan);
}

static void emit(bool ok, const char *skip, const char *fmt, va_list ap)
{
	printf("%s %d ", ok ? "ok" : "not ok", ++ran);
	vprintf(fmt, ap);
	if (skip)
		printf(" # SKIP %s", skip);
	putchar('\n');
	fflush(stdout);
}

void ktap_result(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		passed++;
	else
		failed++;
	va_start(ap, fmt);
	emit(ok, NULL, fmt, ap);
	va_end(ap);
}

void ktap_skip(const char *reason, const char *fmt, ...)
{
	va_list ap;

	skipped++;
	va_start(ap, fmt);
	emit(true, reason, fmt, ap);
	va_end(ap);
}

void ktap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

int ktap_finish(void)
{
	bool plan_ok = ran == planned;

	if (!plan_ok)
		printf("# plan mismatch: planned %d, ran %d\n", planned, ran);
	printf("# totals: pass %d fail %d skip %d\n", passed, failed, skipped);
	fflush(stdout);
	return failed || !plan_ok;
}

const char *ktap_errname(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "E?";
}

bool ktap_errno_ok(long ret, int err, int expected, const char *what)
{
	if (ret == -1 && err == expected)
		return true;
	if (ret != -1)
		ktap_diag("%s: returned %#lx, expected failure with %s", what,
			  (unsigned long)ret, ktap_errname(expected));
	else
		ktap_diag("%s: got %s (%s), expected %s (%s)", what,
			  ktap_errname(err), strerror(err),
			  ktap_errname(expected), strerror(expected));
	return false;
}

bool ktap_expect_errno(long ret, int err, int expected, const char *fmt, ...)
{
	char desc[256];
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	ok = ktap_errno_ok(ret, err, expected, desc);
	ktap_result(ok, "%s", desc);
	return ok;
}
