# vimage — top-level build. See README.md for what each target does.
#
#   make            the core library, host library and tools (build/)
#   make check      every test: unit, sim, ASan+UBSan, fuzz smoke, interop, nm
#   make bench      benchmarks beside Linux network namespaces -> build/bench.json
#   make demo       the demonstration
#
# CC=clang works too; WERROR=1 (set by CI) turns warnings into errors.

CC      ?= gcc
OPT     ?= -O2
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter -Wno-sign-compare
ifeq ($(WERROR),1)
WARN    += -Werror
endif
CFLAGS_BASE := -std=gnu11 -g $(WARN) -Iinclude -Isrc -Itests -D_GNU_SOURCE -fno-common -fno-pie
LDFLAGS += -no-pie
CFLAGS  ?= $(OPT)
ALL_CFLAGS = $(CFLAGS_BASE) $(CFLAGS) $(EXTRA_CFLAGS)
SAN_FLAGS := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined

CORE_DIRS := src/core src/wire src/net src/netinet src/netinet6 src/route src/socket
CORE_SRCS := $(sort $(foreach d,$(CORE_DIRS),$(wildcard $(d)/*.c)))
HOST_SRCS := $(sort $(wildcard src/host/*.c))
HARNESS   := tests/harness/test_main.c
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
SIM_SRCS  := $(sort $(wildcard tests/sim/*.c))
SIM_SRCS  := $(sort $(SIM_SRCS))
BENCH_SRCS:= $(sort $(wildcard bench/*.c))
EXAMPLE_SRCS := $(sort $(wildcard examples/*.c))

B  := build
BA := build/asan
SYSPROG_SRCS := $(sort $(wildcard tests/system/progs/*.c))
SYSPROGS     := $(patsubst tests/system/progs/%.c,$(B)/sysprogs/%,$(SYSPROG_SRCS))

obj = $(patsubst %.c,$(1)/obj/%.o,$(2))

.PHONY: all check test unit sim asan fuzz-smoke interop nm-check bench demo clean format system
all: $(B)/libvimage.a $(B)/libvimage-host.a $(B)/tests/unit $(B)/tests/sim \
     $(B)/interop/tap_node $(B)/demo $(B)/bench/bench $(B)/vimaged $(B)/vimage \
     $(B)/libvimage-preload.so $(SYSPROGS)

# --- objects ---------------------------------------------------------------
$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BA)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(SAN_FLAGS) $(EXTRA_CFLAGS) -MMD -MP -c $< -o $@

# --- libraries -------------------------------------------------------------
$(B)/libvimage.a: $(call obj,$(B),$(CORE_SRCS))
	@rm -f $@
	ar rcs $@ $^

# Not named libvimage*.a: ASan adds __odr_asan.* bss indicators that a scan
# for mutable globals (tests/nm_check.sh on build/libvimage.a) must not see.
$(BA)/core-asan.a: $(call obj,$(BA),$(CORE_SRCS))
	@rm -f $@
	ar rcs $@ $^

$(B)/libvimage-host.a: $(call obj,$(B),$(HOST_SRCS))
	@rm -f $@
	ar rcs $@ $^

# --- tests -----------------------------------------------------------------
$(B)/tests/unit: $(call obj,$(B),$(UNIT_SRCS) $(HARNESS)) $(B)/libvimage.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -lm

$(B)/tests/sim: $(call obj,$(B),$(SIM_SRCS) $(HARNESS)) $(B)/libvimage.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -lm

$(BA)/tests/unit: $(call obj,$(BA),$(UNIT_SRCS) $(HARNESS)) $(BA)/core-asan.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ -lm

$(BA)/tests/sim: $(call obj,$(BA),$(SIM_SRCS) $(HARNESS)) $(BA)/core-asan.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ -lm

# The interop node: a vimage attached to a TAP device, driven in real time.
INTEROP_SRCS := tests/interop/tap_node.c tests/interop/tcp_apps.c tests/interop/sha256.c
$(B)/interop/tap_node: $(call obj,$(B),$(INTEROP_SRCS)) $(B)/libvimage-host.a $(B)/libvimage.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -lm

# Fuzz harnesses need clang's libFuzzer; built only by fuzz-smoke.
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRCS))
$(B)/fuzz/%: tests/fuzz/%.c $(CORE_SRCS) $(wildcard src/*/*.h include/vimage/*.h)
	@mkdir -p $(dir $@)
	clang $(CFLAGS_BASE) -O1 -fsanitize=fuzzer,address,undefined -no-pie -o $@ $< $(CORE_SRCS) -lm

# --- vimaged and vimage(8) -------------------------------------------------
# The control protocol (src/ctl) is a small library both sides link; the
# unit tests and the fuzz harness link it too.
CTL_SRCS     := $(sort $(wildcard src/ctl/*.c))
DAEMON_SRCS  := $(sort $(wildcard src/daemon/*.c))
CMD_SRCS     := $(sort $(wildcard src/cmd/*.c))
$(B)/libvimage-ctl.a: $(call obj,$(B),$(CTL_SRCS))
	@rm -f $@
	ar rcs $@ $^

$(BA)/ctl-asan.a: $(call obj,$(BA),$(CTL_SRCS))
	@rm -f $@
	ar rcs $@ $^

$(B)/vimaged: $(call obj,$(B),$(DAEMON_SRCS)) $(B)/libvimage-ctl.a $(B)/libvimage-host.a $(B)/libvimage.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -lm

$(B)/vimage: $(call obj,$(B),$(CMD_SRCS)) $(B)/libvimage-ctl.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

$(B)/tests/unit: $(B)/libvimage-ctl.a
$(BA)/tests/unit: $(BA)/ctl-asan.a
# The rtnetlink and ioctl emulation is pure: its unit tests link it.
$(B)/tests/unit: $(call obj,$(B),src/daemon/nlmsg.c src/daemon/rtnl.c src/daemon/ifioctl.c src/daemon/procnet.c src/daemon/sockdiag.c)
$(BA)/tests/unit: $(call obj,$(BA),src/daemon/nlmsg.c src/daemon/rtnl.c src/daemon/ifioctl.c src/daemon/procnet.c src/daemon/sockdiag.c)

$(B)/fuzz/fuzz_ctl: tests/fuzz/fuzz_ctl.c $(CTL_SRCS) include/vimage/ctl.h
	@mkdir -p $(dir $@)
	clang $(CFLAGS_BASE) -O1 -fsanitize=fuzzer,address,undefined -no-pie -o $@ $< $(CTL_SRCS)

# The preload library: position-independent, only its interposed
# functions exported.
BP := build/pic
PRELOAD_SRCS := $(sort $(wildcard src/preload/*.c))
$(BP)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $(EXTRA_CFLAGS) -fvisibility=hidden -fPIC -MMD -MP -c $< -o $@

$(B)/libvimage-preload.so: $(call obj,$(BP),$(PRELOAD_SRCS) $(CTL_SRCS))
	$(CC) -shared -fPIC -Wl,-z,defs -Wl,-z,now -o $@ $^ -ldl -pthread

# Small programs the preload system tests run inside vimages
# (tests/system/preload.sh): plain dynamically linked C, as a user's
# program would be built.
$(B)/sysprogs/%: tests/system/progs/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -D_GNU_SOURCE -o $@ $<

.PHONY: sysprogs
sysprogs: $(SYSPROGS)

# The rtnetlink emulation parses what programs send: fuzzed with the core.
$(B)/fuzz/fuzz_rtnl: tests/fuzz/fuzz_rtnl.c src/daemon/nlmsg.c src/daemon/nlmsg.h src/daemon/rtnl.c src/daemon/rtnl.h src/daemon/sockdiag.c src/daemon/sockdiag.h src/daemon/procnet.c $(CORE_SRCS)
	@mkdir -p $(dir $@)
	clang $(CFLAGS_BASE) -O1 -fsanitize=fuzzer,address,undefined -no-pie -o $@ $< src/daemon/nlmsg.c src/daemon/rtnl.c src/daemon/sockdiag.c src/daemon/procnet.c $(CORE_SRCS) -lm

system: $(B)/vimaged $(B)/vimage $(B)/libvimage-preload.so $(SYSPROGS)
	tests/system/run.sh; rc=$$?; tests/system/preload.sh && exit $$rc

# --- bench and demo --------------------------------------------------------
$(B)/bench/bench: $(call obj,$(B),$(BENCH_SRCS)) $(B)/libvimage.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -lm

$(B)/bench/udpblast: bench/linux/udpblast.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -o $@ $<

$(B)/bench/tcpconn: bench/linux/tcpconn.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -o $@ $<

$(B)/demo: $(call obj,$(B),$(EXAMPLE_SRCS)) $(B)/libvimage.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -lm

# --- entry points ----------------------------------------------------------
unit: $(B)/tests/unit
	TEST_SUITE=unit $(B)/tests/unit
sim: $(B)/tests/sim
	TEST_SUITE=sim $(B)/tests/sim
asan: $(BA)/tests/unit $(BA)/tests/sim
	TEST_SUITE=asan-unit $(BA)/tests/unit && TEST_SUITE=asan-sim $(BA)/tests/sim

nm-check: $(B)/libvimage.a
	tests/nm_check.sh $(B)/libvimage.a

fuzz-smoke: $(FUZZ_BINS)
	tests/fuzz/smoke.sh $(B)/fuzz

interop: $(B)/interop/tap_node
	tests/interop/run.sh $(B)/interop/tap_node

check: all $(BA)/tests/unit $(BA)/tests/sim $(FUZZ_BINS)
	tests/run_all.sh

bench: $(B)/bench/bench $(B)/bench/udpblast $(B)/bench/tcpconn $(B)/vimage $(B)/vimaged
	bench/run.sh

# The network demo with vimage(8) and unmodified programs (no root), then
# the library's own tour.
demo: $(B)/demo $(B)/vimage $(B)/vimaged $(B)/libvimage-preload.so
	examples/demo.sh
	$(B)/demo

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
