# SPDX-License-Identifier: GPL-2.0
#
# Real hardware:   make modules            (against the running kernel)
#                  make modules KDIR=...   (against other headers)
#                  make sign               (sign them with DKMS's MOK key)
#                  make tests              (static test binaries in build/tests)
# DKMS:            make dkms-install       (dkms add, build, install; root)
#                  make dkms-remove        make deb  (the -dkms package)
# QEMU harness:    make check [KERNELS="7.3 6.1"]    make demo   make shell
#                  make matrix [MATRIX_KERNELS=all]  (kernel x driver table)
#                  make bench [BENCH_KERNEL=7.3]     (cost of each pattern)
#                  make lint [KERNELS=...]  (checkpatch, clang-format, W=1,
#                                            sparse, shellcheck; in make check)
#
# Kbuild lists the modules; this file only drives the builds.

KDIR ?= /lib/modules/$(shell uname -r)/build
KERNELS ?= all
BUILD := build

TEST_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror
TEST_LDFLAGS := -static -luring
TEST_LIB := userspace-tests/ktap.c userspace-tests/mmp_util.c \
	    userspace-tests/mmp_testlib.c userspace-tests/mmp_devices.c
TESTS := $(patsubst userspace-tests/%.c,$(BUILD)/tests/%,\
	   $(filter-out $(TEST_LIB),$(wildcard userspace-tests/*.c)))

.PHONY: all modules modules_install clean tests check demo shell deps matrix \
	bench lint lint-userspace sign dist dkms-install dkms-remove deb

all: modules

# The kbuild output also goes to build/modules.log; on failure
# scripts/build-report names that log and the compile probes' answers, what
# a bug report needs. (DKMS runs this same target; its make.log holds both.)
modules:
	@test -f $(KDIR)/Makefile || { echo "error: no kernel build tree at" \
		"KDIR=$(KDIR) (install linux-headers-$$(uname -r), or set KDIR)" >&2; exit 1; }
	@mkdir -p $(BUILD)
	@{ $(MAKE) -C $(KDIR) M=$(CURDIR) modules 2>&1; echo $$? >$(BUILD)/modules.rc; } | \
		tee $(BUILD)/modules.log
	@rc=$$(cat $(BUILD)/modules.rc); [ "$$rc" = 0 ] || \
		{ sh scripts/build-report $(KDIR) $(CURDIR)/$(BUILD)/modules.log >&2; exit $$rc; }
	@sh scripts/build-report --summary

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

# Sign the modules `make modules` built with the key and certificate DKMS
# signs its builds with (/etc/dkms/framework.conf; MOK_KEY and MOK_CERT
# override), so one enrolled Machine Owner Key covers both.
sign:
	scripts/sign-modules $(KDIR) $(wildcard drivers/*.ko)

# DKMS: the package name and version come from dkms.conf; DIST_FILES is the
# source tree DKMS and the Debian package get.
DKMS_NAME := $(shell sed -n 's/^PACKAGE_NAME="\(.*\)"$$/\1/p' dkms.conf)
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)
DIST_FILES = dkms.conf Kbuild Makefile scripts/build-report \
	$(shell find drivers -type f \( -name '*.[ch]' -o -name 'Kbuild' \) \
		! -name mmp_probes.h ! -path 'drivers/compat/probes/*.h' \
		! -name '*.mod.c' | LC_ALL=C sort)
DIST := $(BUILD)/dist/$(DKMS_NAME)-$(DKMS_VERSION)

dist:
	rm -rf $(DIST) && mkdir -p $(DIST)
	cp -p --parents $(DIST_FILES) $(DIST)/

# For the running kernel unless KVER is given; replaces an earlier copy.
KVER ?= $(shell uname -r)
# Staged in a temporary directory: run as root, it must leave nothing in
# build/ that a later `make modules` as a user could not overwrite.
dkms-install:
	@tmp=$$(mktemp -d) && \
	$(MAKE) --no-print-directory -s dist DIST=$$tmp/src && \
	scripts/dkms-install $$tmp/src $(KVER); rc=$$?; rm -rf "$$tmp"; exit $$rc

dkms-remove:
	scripts/dkms-install --remove .

# The Debian package $(DKMS_NAME)-dkms, in build/deb (needs dpkg-dev,
# debhelper and dh-dkms).
deb: dist
	scripts/build-deb $(DIST) $(BUILD)/deb

tests: $(TESTS)

# Every userspace source (or LINT_C) compiled once with the test flags,
# nothing kept (scripts/lint; the warnings are the compiler's, linking adds
# none).
LINT_C ?= $(wildcard userspace-tests/*.c)
lint-userspace:
	@for f in $(LINT_C); do \
		$(CC) $(TEST_CFLAGS) -Iuserspace-tests -c -o /dev/null $$f || exit 1; done

$(BUILD)/tests/%: userspace-tests/%.c $(TEST_LIB) $(TEST_LIB:.c=.h)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(TEST_LIB) $(TEST_LDFLAGS)

# Host packages for the harness (no-op when present).
deps:
	scripts/install-deps

check: deps
	$(MAKE) tests
	scripts/check --mode check $(KERNELS)

# Every kernel series, then the kernel x driver table (README embeds it).
MATRIX_KERNELS ?= all
matrix: deps
	$(MAKE) tests
	rm -f $(BUILD)/results/series-*
	-scripts/check --mode check $(MATRIX_KERNELS)
	scripts/matrix $(filter-out all,$(MATRIX_KERNELS))

# The code-quality gate alone (make check runs it too): the static checks,
# then a W=1 and sparse build against each kernel of KERNELS.
lint: deps
	scripts/lint $(KERNELS)

# mmp_bench in one boot of one kernel series: the results file goes to
# build/bench/ (latest.md), compared with the previous run's.
BENCH_KERNEL ?= 7.3
bench: deps
	$(MAKE) tests
	scripts/check --mode bench $(BENCH_KERNEL)

# demo and shell boot one kernel: the last of KERNELS, 7.3 for "all".
ONE_KERNEL = $(if $(filter all,$(KERNELS)),7.3,$(lastword $(KERNELS)))

demo: deps
	$(MAKE) tests
	scripts/check --mode demo $(ONE_KERNEL)

shell: deps
	$(MAKE) tests
	scripts/check --mode shell $(ONE_KERNEL)

clean:
	rm -rf $(BUILD)
	find drivers \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o \
		-name '*.mod.c' -o -name '.*.cmd' -o -name '.*.d' \) -delete
	rm -f drivers/compat/mmp_probes.h drivers/compat/mmp_probes.h.tmp \
		drivers/compat/probes/*.h drivers/compat/probes/*.log
	rm -f Module.symvers modules.order .module-common.o
