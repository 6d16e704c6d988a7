/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every device node of every driver, for the tests that go over all of
 * them (mmp_faultinject_test, mmp_stress_test): how to make it appear
 * (bind UIO, mount mmp_stackfs), how to map it, and the counters that must
 * be back at their baseline once nothing maps it.
 */
#ifndef MMP_DEVICES_H
#define MMP_DEVICES_H

#include <stdbool.h>
#include <stddef.h>

struct mmp_dev {
	const char *mod;	/* module that provides it */
	const char *name;	/* result name */
	int oflags;		/* open(2) flags */
	int prot;		/* mmap(2) protection */
	bool store;		/* stores through the map are harmless */
	bool (*setup)(struct mmp_dev *d);
	void (*teardown)(struct mmp_dev *d);
	/* filled in by setup() */
	char path[256];
	size_t pages;		/* pages a full map has */
	long refcnt;		/* /sys/module/<mod>/refcnt when unmapped */
};

extern struct mmp_dev mmp_devs[];
extern const size_t mmp_ndevs;

/* The distinct modules of mmp_devs[], in order: their count. */
size_t mmp_dev_modules(const char **mods, size_t max);

/*
 * Make d->path exist and record the baseline; false with a diagnostic.
 * mmp_dev_teardown() undoes what setup did (unmount, unbind).
 */
bool mmp_dev_setup(struct mmp_dev *d);
void mmp_dev_teardown(struct mmp_dev *d);

/*
 * Nothing maps d->path any more: no line of /proc/self/maps names it, the
 * module's reference count is the baseline and the driver's own counters
 * of live mappings (mmp_refcount's vmas) are zero. False with a diagnostic
 * naming @what.
 */
bool mmp_dev_at_baseline(const struct mmp_dev *d, const char *what);

/* /sys/module/<mod>/refcnt, -1 if unreadable. */
long mmp_module_refcnt(const char *mod);

/* Load <dir>/<mod>.ko unless loaded: false with a diagnostic. */
bool mmp_ensure_loaded(const char *dir, const char *mod);

/*
 * Bad lines (BUG, WARNING, KASAN, ...) the kernel logged after record
 * @since (the /dev/kmsg sequence number mmp_kmsg_mark() returned): their
 * count, the first copied to @first; -1 if /dev/kmsg cannot be read.
 */
size_t mmp_kmsg_mark(void);
int mmp_kmsg_bad_since(size_t since, char *first, size_t size);

#endif /* MMP_DEVICES_H */
