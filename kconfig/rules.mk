# A minimal appliance kernel from Debian's linux-source-6.1, all drivers built in (no modules).
#   make kernel        out/kernel/bzImage (+ out/kernel/config); wall time in out/kernel/build-time.txt
#   make test-kernel   builds it, boots it in QEMU with our initramfs, checks /health and a chat;
#                      then boots the UEFI disk image built with it (tests/image/run.sh) when present
# The config is `make allnoconfig` with every kconfig/*.config fragment (one file per concern)
# merged on top, then `make olddefconfig`; a requested option missing from the result fails.
KERNEL_TARBALL := /usr/src/linux-source-6.1.tar.xz
KERNEL_SRC := $(OUT)/kernel/src
KERNEL_FRAGMENTS := $(sort $(wildcard kconfig/*.config))
KERNEL_BZIMAGE := $(OUT)/kernel/bzImage
KERNEL_NICE ?= 10
KERNEL_JOBS ?= $(shell nproc)
KERNEL_DEPS_STAMP := $(OUT)/.deps-kernel-stamp
KBUILD := $(MAKE) -C $(KERNEL_SRC) ARCH=x86_64 KBUILD_BUILD_USER=llmbox KBUILD_BUILD_HOST=llmbox

.PHONY: kernel test-kernel
kernel: $(KERNEL_BZIMAGE)
	@echo "kernel: $(KERNEL_BZIMAGE) $$(stat -c %s $(KERNEL_BZIMAGE)) bytes; $$(cat $(OUT)/kernel/build-time.txt)"

$(KERNEL_DEPS_STAMP): scripts/deps.sh
	scripts/deps.sh --kernel
	@mkdir -p $(@D) && touch $@

# Extracted once; the stamp marks a complete extraction.
$(KERNEL_SRC)/.stamp-extracted: | $(KERNEL_DEPS_STAMP)
	rm -rf $(KERNEL_SRC) $(OUT)/kernel/linux-source-6.1
	mkdir -p $(OUT)/kernel
	nice -n $(KERNEL_NICE) tar -C $(OUT)/kernel -xJf $(KERNEL_TARBALL)
	mv $(OUT)/kernel/linux-source-6.1 $(KERNEL_SRC)
	touch $@

$(OUT)/kernel/config: $(KERNEL_FRAGMENTS) $(KERNEL_SRC)/.stamp-extracted kconfig/check.sh
	cd $(KERNEL_SRC) && ARCH=x86_64 scripts/kconfig/merge_config.sh -n $(abspath $(KERNEL_FRAGMENTS)) > ../merge.log
	$(KBUILD) olddefconfig > $(OUT)/kernel/olddefconfig.log
	kconfig/check.sh $(KERNEL_SRC)/.config $(KERNEL_FRAGMENTS)
	cp $(KERNEL_SRC)/.config $@

# gcc's temporary files go to out/kernel/tmp: /tmp may be a small tmpfs shared with other builds.
$(KERNEL_BZIMAGE): $(OUT)/kernel/config
	@mkdir -p $(OUT)/kernel/tmp; t0=$$(date +%s); \
	TMPDIR=$(abspath $(OUT)/kernel/tmp) nice -n $(KERNEL_NICE) $(KBUILD) -j$(KERNEL_JOBS) bzImage > $(OUT)/kernel/build.log 2>&1 \
	  || { tail -30 $(OUT)/kernel/build.log; exit 1; }; \
	echo "built in $$(( $$(date +%s) - t0 )) s wall (-j$(KERNEL_JOBS), nice $(KERNEL_NICE), $$(date -u +%FT%TZ))" > $(OUT)/kernel/build-time.txt
	cp $(KERNEL_SRC)/arch/x86/boot/bzImage $@

# With `make image` present (tests/image/run.sh), its UEFI disk-image test also runs on this kernel.
KERNEL_IMAGE_TEST := $(if $(wildcard tests/image/run.sh),"IMAGE_KERNEL=$(KERNEL_BZIMAGE) tests/image/run.sh")
test-kernel: $(DEPS_STAMP) programs $(KERNEL_BZIMAGE) $(INITRAMFS)
	tests/run_all.sh tests/kernel/run.sh $(KERNEL_IMAGE_TEST)
