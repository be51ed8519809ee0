# llmbox: one entry point. `make run` boots the appliance in QEMU; `make test` runs every suite.
# Layout of outputs:
#   out/bin/        static musl production binaries (init, llmboxd, llmbox)
#   out/musl/       musl objects, archives, static test binaries
#   out/host/       host gcc objects with ASan/UBSan and the unit test binaries
#   out/fuzz/       clang libFuzzer targets
# Conventions (so adding a file needs no Makefile edit):
#   DIR/*.c               library code of area DIR (common, engine, netsvc, init)
#   DIR/main_NAME.c       entry point of program out/bin/NAME
#   *_avx2.c, *_avx512.c, *_avxvnni.c, *_amx.c   compiled with those ISA flags (runtime dispatch)
#   tests/unit/test_*.c   host unit tests; tests/musl/test_*.c  static musl tests
#   tests/fuzz/fuzz_*.c   libFuzzer targets; tests/SUITE/run.sh  further suites (see TEST_SUITES)
#   DIR/rules.mk          extra targets of an area, included below

SHELL := /bin/bash
.DEFAULT_GOAL := all
OUT := out
SHARED ?= $(abspath ../shared)
export LLMBOX_SHARED := $(SHARED)
VERSION := $(shell git describe --always --dirty --tags 2>/dev/null || echo unknown)
DEPS_STAMP := $(OUT)/.deps-stamp
# Temporary files of builds and tests go below out/: /tmp may be a small tmpfs.
export TMPDIR := $(abspath $(OUT)/tmp)
$(shell mkdir -p $(TMPDIR))

CC_HOST ?= gcc
CC_MUSL ?= musl-gcc
CC_FUZZ ?= clang
MULTIARCH := x86_64-linux-gnu
BLAS_INC := /usr/include/$(MULTIARCH)/openblas-serial
BLAS_LIB := /usr/lib/$(MULTIARCH)/openblas-serial/libopenblas.a
MBED_LIBS := /usr/lib/$(MULTIARCH)/libmbedtls.a /usr/lib/$(MULTIARCH)/libmbedx509.a /usr/lib/$(MULTIARCH)/libmbedcrypto.a

AREAS := common engine netsvc init
INC := $(addprefix -I,$(AREAS))
BASE_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread $(INC) \
               -DLLMBOX_VERSION='"$(VERSION)"' -MMD -MP
HOST_CFLAGS := $(BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined -I$(BLAS_INC)
MUSL_CFLAGS := $(BASE_CFLAGS) -O2 -I$(OUT)/musl-include
FUZZ_CFLAGS := $(BASE_CFLAGS) -O1 -g -fsanitize=fuzzer-no-link,address,undefined -I$(BLAS_INC) \
               -Wno-unknown-warning-option
HOST_LIBS := $(BLAS_LIB) -lmbedtls -lmbedx509 -lmbedcrypto -lm -lpthread
MUSL_LIBS := $(MBED_LIBS) $(BLAS_LIB) -lm -lpthread

# Per-file ISA flags for the SIMD kernels (selected at run time by cpuid).
ISA_avx2    := -mavx2 -mfma -mf16c
ISA_avx512  := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mfma -mf16c
ISA_avxvnni := -mavxvnni -mavx2 -mfma -mf16c
ISA_amx     := -mamx-tile -mamx-int8 -mprfchw -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mfma -mf16c
isa_flags = $(foreach i,avx2 avx512 avxvnni amx,$(if $(filter %_$(i).c,$(1)),$(ISA_$(i))))

lib_srcs = $(filter-out $(1)/main_%.c,$(wildcard $(1)/*.c))
LIB_SRCS := $(foreach a,$(AREAS),$(call lib_srcs,$(a)))
MAIN_SRCS := $(foreach a,$(AREAS),$(wildcard $(a)/main_*.c))
PROGRAMS := $(patsubst main_%.c,$(OUT)/bin/%,$(notdir $(MAIN_SRCS)))
COMPAT_SRC := common/compat/glibc_shim.c
HARNESS_SRC := tests/lib/harness_main.c
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
MUSL_TEST_SRCS := $(wildcard tests/musl/test_*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(OUT)/$(1)/obj/%.o,$(2))
HOST_LIB_OBJS := $(call obj,host,$(LIB_SRCS))
MUSL_LIB_OBJS := $(call obj,musl,$(LIB_SRCS))
# Linked as an object, not from the archive: the system archives after it need its symbols.
COMPAT_OBJ := $(call obj,musl,$(COMPAT_SRC))
FUZZ_LIB_OBJS := $(call obj,fuzz,$(LIB_SRCS))
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/host/tests/%,$(UNIT_SRCS))
MUSL_TEST_BINS := $(patsubst tests/musl/%.c,$(OUT)/musl/tests/%,$(MUSL_TEST_SRCS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUT)/fuzz/%,$(FUZZ_SRCS))

# Areas append to these in their rules.mk.
TEST_DEPS :=
# Each entry is one command printing PASS/FAIL/SKIP lines; run in order by tests/run_all.sh.
TEST_SUITES := $(UNIT_BINS) $(MUSL_TEST_BINS)
FUZZ_SECONDS ?= 10

.PHONY: all deps test unit clean programs
.SECONDARY:
all: $(DEPS_STAMP) programs
programs: $(PROGRAMS)
deps: $(DEPS_STAMP)

$(DEPS_STAMP): scripts/deps.sh
	@mkdir -p $(OUT)
	bash scripts/deps.sh
	@touch $@

# mbedTLS and OpenBLAS headers, visible to musl-gcc without exposing glibc's /usr/include.
$(OUT)/musl-include/.stamp-uapi: $(DEPS_STAMP)
	@mkdir -p $(@D)
	ln -sfn /usr/include/mbedtls $(@D)/mbedtls
	ln -sfn /usr/include/psa $(@D)/psa
	cp $(BLAS_INC)/cblas.h $(BLAS_INC)/openblas_config.h $(@D)/
	ln -sfn /usr/include/linux $(@D)/linux
	ln -sfn /usr/include/$(MULTIARCH)/asm $(@D)/asm
	ln -sfn /usr/include/asm-generic $(@D)/asm-generic
	@touch $@

$(OUT)/host/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC_HOST) $(HOST_CFLAGS) $(call isa_flags,$<) -c $< -o $@

$(OUT)/musl/obj/%.o: %.c $(OUT)/musl-include/.stamp-uapi
	@mkdir -p $(@D)
	$(CC_MUSL) $(MUSL_CFLAGS) $(call isa_flags,$<) -c $< -o $@

$(OUT)/fuzz/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC_FUZZ) $(FUZZ_CFLAGS) $(call isa_flags,$<) -c $< -o $@

$(OUT)/host/liblb.a: $(HOST_LIB_OBJS)
	@mkdir -p $(@D); rm -f $@; ar rcs $@ $^
$(OUT)/musl/liblb.a: $(MUSL_LIB_OBJS)
	@mkdir -p $(@D); rm -f $@; ar rcs $@ $^
$(OUT)/fuzz/liblb.a: $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D); rm -f $@; ar rcs $@ $^

# Production programs: static musl, one per DIR/main_NAME.c.
define program_rule
$(OUT)/bin/$(patsubst main_%.c,%,$(notdir $(1))): $(call obj,musl,$(1)) $(OUT)/musl/liblb.a $(COMPAT_OBJ)
	@mkdir -p $$(@D)
	$(CC_MUSL) -static -O2 -pthread -o $$@ $$^ $(MUSL_LIBS)
endef
$(foreach m,$(MAIN_SRCS),$(eval $(call program_rule,$(m))))

$(OUT)/host/tests/%: tests/unit/%.c $(call obj,host,$(HARNESS_SRC)) $(OUT)/host/liblb.a
	@mkdir -p $(@D)
	$(CC_HOST) $(HOST_CFLAGS) -o $@ $< $(call obj,host,$(HARNESS_SRC)) $(OUT)/host/liblb.a $(HOST_LIBS)

$(OUT)/musl/tests/%: tests/musl/%.c $(call obj,musl,$(HARNESS_SRC)) $(OUT)/musl/liblb.a $(COMPAT_OBJ) $(OUT)/musl-include/.stamp-uapi
	@mkdir -p $(@D)
	$(CC_MUSL) $(MUSL_CFLAGS) -static -o $@ $< $(call obj,musl,$(HARNESS_SRC)) $(OUT)/musl/liblb.a $(COMPAT_OBJ) $(MUSL_LIBS)

$(OUT)/fuzz/%: tests/fuzz/%.c $(OUT)/fuzz/liblb.a
	@mkdir -p $(@D)
	$(CC_FUZZ) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(OUT)/fuzz/liblb.a $(HOST_LIBS)

-include $(sort $(wildcard */rules.mk tests/*/rules.mk))

# Fuzz smoke runs come after the unit suites, before the slower end-to-end suites.
TEST_SUITES += $(if $(FUZZ_BINS),"tests/fuzz/smoke.sh $(FUZZ_SECONDS) $(FUZZ_BINS)")
TEST_SUITES += $(LATE_TEST_SUITES)

unit: $(UNIT_BINS) $(MUSL_TEST_BINS) $(FUZZ_BINS)  # fuzz targets built (clang warnings) but not run
	tests/run_all.sh $(UNIT_BINS) $(MUSL_TEST_BINS)

test: $(DEPS_STAMP) programs $(UNIT_BINS) $(MUSL_TEST_BINS) $(FUZZ_BINS) $(TEST_DEPS)
	tests/run_all.sh $(TEST_SUITES)

clean:
	rm -rf $(OUT)

# out/kernel holds the kernel source tree, whose .d files are not ours.
-include $(shell find $(OUT) -path $(OUT)/kernel -prune -o -name '*.d' -type f -print 2>/dev/null)
