# SPDX-License-Identifier: GPL-2.0
#
# Real hardware:   make modules            (against the running kernel)
#                  make modules KDIR=...   (against other headers)
#                  make tests              (static test binaries in build/tests)
# QEMU harness:    make check [KERNELS="7.3 6.1"]    make demo   make shell
#                  make matrix [MATRIX_KERNELS=all]  (kernel x driver table)
#
# Kbuild lists the modules; this file only drives the builds.

KDIR ?= /lib/modules/$(shell uname -r)/build
KERNELS ?= all
BUILD := build

TEST_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror
TEST_LDFLAGS := -static -luring
TEST_LIB := userspace-tests/ktap.c userspace-tests/mmp_util.c \
	    userspace-tests/mmp_testlib.c
TESTS := $(patsubst userspace-tests/%.c,$(BUILD)/tests/%,\
	   $(filter-out $(TEST_LIB),$(wildcard userspace-tests/*.c)))

.PHONY: all modules modules_install clean tests check demo shell deps matrix

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

tests: $(TESTS)

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
