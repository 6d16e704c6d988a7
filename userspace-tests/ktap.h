/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal KTAP v1 producer for the userspace tests.
 *
 * Results are numbered automatically; ktap_finish() compares the count
 * with the plan given to ktap_start() so that a test which silently
 * drops results fails instead of passing short.
 */
#ifndef KTAP_H
#define KTAP_H

#include <stdbool.h>

#define KTAP_PRINTF(f, a) __attribute__((format(printf, f, a)))

void ktap_start(const char *name, int planned);
void ktap_result(bool ok, const char *fmt, ...) KTAP_PRINTF(2, 3);
void ktap_skip(const char *reason, const char *fmt, ...) KTAP_PRINTF(2, 3);
void ktap_diag(const char *fmt, ...) KTAP_PRINTF(1, 2);
int ktap_finish(void);

/* "EINVAL" style name of an errno value, or "E?" if unknown. */
const char *ktap_errname(int err);

/*
 * True if a call failed (@ret == -1; pass (long)(intptr_t)ptr for mmap so
 * that MAP_FAILED maps to -1) with errno @err == @expected. Otherwise prints
 * a diagnostic prefixed with @what and returns false. Records nothing.
 */
bool ktap_errno_ok(long ret, int err, int expected, const char *what);

/* ktap_errno_ok() recorded as one result named by @fmt. */
bool ktap_expect_errno(long ret, int err, int expected, const char *fmt, ...)
	KTAP_PRINTF(4, 5);

#endif /* KTAP_H */
