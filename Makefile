# ward: an OCI container runtime.   make | make check | make demo | make asan | make install
CC ?= cc
BUILD ?= build
PREFIX ?= /usr/local
# Where `make vm-kernel` puts the micro-VM guest's kernel + initramfs, and where ward looks for
# them (compiled in; WARD_VM_KERNEL_DIR overrides it at run time).
VM_KERNEL_DIR ?= $(PREFIX)/lib/ward/vm
VERSION := 0.1.0
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

PKGS := yajl libseccomp libcap libmnl libarchive libxxhash libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lyajl -lseccomp -lcap -lmnl -larchive -lxxhash -lcrypto) -lm

OPT ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS_ALL := -std=gnu11 -D_GNU_SOURCE -I. $(WARN) $(OPT) $(PKG_CFLAGS) \
	-DWARD_VERSION='"$(VERSION)"' -DWARD_COMMIT='"$(COMMIT)"' \
	-DWARD_VM_DIR='"$(VM_KERNEL_DIR)"' $(EXTRA_CFLAGS)
LDFLAGS_ALL := -Wl,--as-needed $(EXTRA_LDFLAGS)

LIB_DIRS := lib ns rootfs cgroups netns seccomp image checkpoint vmm_shim runtime
LIB_SRCS := $(filter-out runtime/main.c vmm_shim/main_vmm.c,$(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
# Small programs the integration tests run (a seccomp listener, ...).
HELPER_SRCS := $(wildcard tests/integration/helpers/*.c)
HELPER_BINS := $(patsubst tests/integration/helpers/%.c,$(BUILD)/tests/helpers/%,$(HELPER_SRCS))
# The checkpoint engine's tests: static workloads and the runner (tests/checkpoint/run.sh).
CKPT_PROG_SRCS := $(wildcard tests/checkpoint/progs/*.c)
CKPT_PROG_BINS := $(patsubst tests/checkpoint/progs/%.c,$(BUILD)/tests/checkpoint/progs/%,$(CKPT_PROG_SRCS))
CKPT_TEST := $(BUILD)/tests/checkpoint/ckpt_test

.PHONY: all unit asan check demo deps integration checkpoint-test vm-lane bench bench-vm install \
	clean format vm-kernel

all: $(BUILD)/ward $(BUILD)/ward-vmm $(BUILD)/ward-init $(HELPER_BINS) $(CKPT_PROG_BINS) $(CKPT_TEST)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/libward.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/ward: $(BUILD)/runtime/main.o $(BUILD)/libward.a
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

# The micro-VM's developer front end (the runtime reaches vmm_shim through libward.a).
$(BUILD)/ward-vmm: $(BUILD)/vmm_shim/main_vmm.o $(BUILD)/libward.a
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lpthread

# The micro-VM guest's PID 1: static, no libward (it runs inside the guest, not on the host).
$(BUILD)/ward-init: vmm_shim/guest/ward_init.c vmm_shim/guest/ward_init_cmdline.h \
	vmm_shim/guest/ward_ctl.h
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -std=gnu11 -D_GNU_SOURCE $(WARN) -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libward.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(BUILD)/libward.a $(PKG_LIBS) -lcmocka

$(BUILD)/tests/helpers/%: tests/integration/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $<

# Static, no libward: what the checkpoint tests dump and restore.
$(BUILD)/tests/checkpoint/progs/%: tests/checkpoint/progs/%.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -g -std=gnu11 -D_GNU_SOURCE $(WARN) -o $@ $<

$(CKPT_TEST): tests/checkpoint/ckpt_test.c $(BUILD)/libward.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(BUILD)/libward.a $(PKG_LIBS)

# Unit tests: each binary prints cmocka's summary; tests/run-unit.sh adds them up.
unit: $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

# The same unit tests under AddressSanitizer + UndefinedBehaviorSanitizer.
asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
		EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" all unit

deps:
	@scripts/deps.sh

integration: all
	@tests/integration/run.sh

# The checkpoint engine (as root): dump and restore small workloads in fresh pid namespaces.
checkpoint-test: all
	@tests/checkpoint/run.sh

vm-lane: all
	@tests/vm/run.sh

check: deps
	@scripts/check.sh

demo: deps all
	@scripts/demo.sh

bench: all
	@tests/bench/lifecycle.sh
	@tests/bench/cgroups.sh
	@tests/bench/podman.sh

# The cgroup benchmark on a cgroup-v2-only host (the VM lane), with runc and crun beside ward.
bench-vm: all
	@tests/vm/run.sh bench:cgroups.sh

# Debian's cloud kernel (downloaded, never installed) + an initramfs of ward-init and the
# modules it loads, for VM-isolated containers.
vm-kernel: $(BUILD)/ward-init
	@scripts/vm-kernel.sh $(DESTDIR)$(VM_KERNEL_DIR) $(BUILD)/ward-init

install: all
	install -D -m 0755 $(BUILD)/ward $(DESTDIR)$(PREFIX)/bin/ward
	install -D -m 0644 man/ward.8 $(DESTDIR)$(PREFIX)/share/man/man8/ward.8

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
