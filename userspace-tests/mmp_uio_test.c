// SPDX-License-Identifier: GPL-2.0
/*
 * KTAP test for the mmp_uio driver.
 *
 * mmp_uio has no ID table: like a user on real hardware, the test hands it
 * the second QEMU edu device (the first stays with mmp_ioremap) through
 * driver_override and drivers_probe. The UIO core then describes the maps
 * in /sys/class/uio/uioN/maps and mmap() of /dev/uioN at offset M pages
 * maps map M, here map0 = BAR0 with edu's registers. After the checks on
 * map0 and an unbind while mapped, the device goes back to mmp_ioremap and
 * mmp_uio is unloaded and reloaded (the uio core module stays).
 *
 * Sysfs is only written when the device and the mmp_uio driver exist.
 *
 * Usage: mmp_uio_test [-k mmp_uio.ko] [-n]
 *   -k  reload the module from this file after the unload test
 *   -n  skip the module unload/reload section
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ktap.h"
#include "mmp_testlib.h"
#include "mmp_util.h"

#define MOD_NAME	"mmp_uio"	/* also the PCI driver and UIO name */
#define HOME_DRIVER	"mmp_ioremap"	/* the edu device's usual driver */

/*
 * Fixes the plan: 3 on binding, 1 more bad input, 1 on restoring and 3
 * on the module besides the library tests.
 */
#define PLAN (3 + MMP_N_EDU_REGS + MMP_N_POLICY + 1 + MMP_N_MAPPING_OPS + \
	      MMP_N_PINNED + MMP_N_UNBIND(false) + 1 + 3)

static size_t page;
static char bdf[MMP_BDF_LEN] = "(none)";
static bool may_write;	/* the device and the driver exist: use sysfs */
static int uio = -1;	/* N of /dev/uioN */
static char uio_path[32] = "/dev/uio(none)";
static char name[16 + MMP_BDF_LEN];
static struct mmp_node node = { .path = uio_path, .name = name };

static bool pci_attr(const char *attr, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	return mmp_sysfs_write(path, val);
}

static bool bus_probe(void)
{
	return mmp_sysfs_write("/sys/bus/pci/drivers_probe", bdf);
}

/* The UIO device of our PCI device, and its node (mmp_node rebound hook). */
static bool find_uio(struct mmp_node *n)
{
	uio = mmp_uio_find(MOD_NAME, bdf, NULL);
	if (uio < 0) {
		diag("no /sys/class/uio device named %s for %s", MOD_NAME, bdf);
		return false;
	}
	snprintf(uio_path, sizeof(uio_path), "/dev/uio%d", uio);
	return mmp_wait_node(n->path, true);
}

static bool map0_attr(const char *attr, unsigned long long *val, char *buf,
		      size_t size)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/class/uio/uio%d/maps/map0/%s", uio,
		 attr);
	if (!mmp_read_line(path, buf, size)) {
		diag("%s: %s", path, strerror(errno));
		return false;
	}
	*val = strtoull(buf, NULL, 0);
	return true;
}

/* map0 must describe BAR0 exactly as the PCI core sees it. */
static bool map0_is_bar0(void)
{
	unsigned long long start, size, addr, len, offs, unused;
	char nm[64], a[64], l[64], o[64];

	if (uio < 0 || !mmp_pci_bar(bdf, 0, &start, &size) ||
	    !map0_attr("name", &unused, nm, sizeof(nm)) ||
	    !map0_attr("addr", &addr, a, sizeof(a)) ||
	    !map0_attr("size", &len, l, sizeof(l)) ||
	    !map0_attr("offset", &offs, o, sizeof(o)))
		return false;
	if (!strcmp(nm, "BAR0") && addr == start && len == size && !offs)
		return true;
	diag("map0: name %s addr %s size %s offset %s; BAR0 is %#llx, %#llx bytes",
	     nm, a, l, o, start, size);
	return false;
}

/* Hand the device to mmp_uio the way a user would. */
static void test_bind(void)
{
	char drv[64];
	bool bound = false, found;

	if (may_write) {
		if (mmp_pci_driver(bdf, drv, sizeof(drv)) &&
		    !pci_attr("driver/unbind", bdf))
			diag("cannot unbind %s from %s", bdf, drv);
		else
			bound = pci_attr("driver_override", MOD_NAME) &&
				bus_probe() && mmp_bound_to(bdf, MOD_NAME);
	}
	ktap_result(bound,
		    "%s: bound to %s through driver_override and drivers_probe",
		    name, MOD_NAME);
	found = bound && find_uio(&node);
	ktap_result(found, "%s: UIO device named %s with its /dev node", name,
		    MOD_NAME);
	ktap_result(found && map0_is_bar0(),
		    "%s: map0 is BAR0: name, addr, size and offset 0 match the PCI resource",
		    name);
}

/* The offset selects the UIO map, and there is no map1. */
static void test_no_map1(void)
{
	const struct mmp_bad_map bad = {
		"mmap offset=1 page (there is no map1)", page, (off_t)page,
		PROT_READ, MAP_SHARED, O_RDONLY, EINVAL
	};

	mmp_run_bad_maps(&node, &bad, 1);
}

/* Always attempted when allowed: later tests need the usual binding. */
static void test_restore(void)
{
	char path[PATH_MAX], override[64] = "";
	bool ok = false;

	if (may_write) {
		if (mmp_bound_to(bdf, MOD_NAME))
			mmp_sysfs_write("/sys/bus/pci/drivers/" MOD_NAME "/unbind",
					bdf);
		pci_attr("driver_override", "\n");
		bus_probe();
		ok = mmp_bound_to(bdf, HOME_DRIVER);
		if (!ok)
			diag("%s is not bound to %s", bdf, HOME_DRIVER);
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver_override", bdf);
		/* An empty driver_override reads "(null)". */
		if (!mmp_read_line(path, override, sizeof(override)) ||
		    strcmp(override, "(null)")) {
			diag("driver_override of %s not cleared: '%s'", bdf,
			     override);
			ok = false;
		}
	}
	ktap_result(ok,
		    "%s: unbound, driver_override cleared, reprobed: bound to %s again",
		    name, HOME_DRIVER);
}

/* Unloaded only now, with no device bound; it binds none after reload. */
static void module_section(const char *ko, bool no_module)
{
	const char *skip = mmp_module_skip(no_module);
	const char *reload_skip = mmp_reload_skip(no_module, ko);
	bool unloaded = false, loaded = false, back = false;

	if (!skip) {
		unloaded = !mmp_unload(MOD_NAME);
		if (!unloaded)
			diag("delete_module: %s", strerror(errno));
		else if (mmp_module_loaded(MOD_NAME))
			diag("/sys/module/%s still there after unload",
			     MOD_NAME);
		unloaded = unloaded && !mmp_module_loaded(MOD_NAME);
	}
	mmp_report(skip, unloaded,
		   "module: delete_module succeeds with no device bound, /sys/module/%s gone",
		   MOD_NAME);

	if (!reload_skip) {
		loaded = mmp_load(ko);
		back = loaded && mmp_module_loaded(MOD_NAME) &&
		       mmp_pci_find(0, 0, MOD_NAME, NULL, 0) == 0;
	}
	mmp_report(reload_skip, loaded, "module: reload with finit_module");
	mmp_report(reload_skip, back,
		   "module: /sys/module/%s back after reload, no device bound to it",
		   MOD_NAME);
}

int main(int argc, char **argv)
{
	char edus[2][MMP_BDF_LEN];
	unsigned long long start, size;
	const char *ko;
	bool no_module;

	page = mmp_test_start(argc, argv, MOD_NAME, PLAN, &ko, &no_module);
	if (!page)
		return 2;

	/* The first edu device stays with mmp_ioremap. */
	if (mmp_pci_find(MMP_EDU_VENDOR, MMP_EDU_DEVICE, NULL, edus, 2) >= 2) {
		memcpy(bdf, edus[1], sizeof(bdf));
		may_write = !access("/sys/bus/pci/drivers/" MOD_NAME, F_OK);
		if (!may_write)
			ktap_diag("no PCI driver %s: sysfs left alone",
				  MOD_NAME);
	} else {
		ktap_diag("fewer than 2 edu devices: none to give to %s",
			  MOD_NAME);
	}
	snprintf(name, sizeof(name), "uio %s", bdf);
	if (mmp_pci_bar(bdf, 0, &start, &size))
		node.pages = size / page;
	mmp_edu_node(&node);

	test_bind();
	mmp_quiet_if_missing(&node);
	mmp_test_edu_regs(&node);
	mmp_test_policy(&node, "map0_pages", EINVAL);
	test_no_map1();
	mmp_test_mapping_ops(&node);
	mmp_test_pinned_unload(MOD_NAME, &node, mmp_module_skip(no_module));
	mmp_test_unbind_mapped(&node, &(struct mmp_unbind){
		.drv = MOD_NAME, .bdf = bdf, .rebound = find_uio });
	mmp_quiet = false;

	test_restore();
	module_section(ko, no_module);
	return ktap_finish();
}
