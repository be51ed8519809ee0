# The initramfs (rootfs/mkinitramfs.py, no root needed) and `make run` (boot it in QEMU).
#   make initramfs            production image; prints its size and contents
#   make initramfs DEBUG=1    adds busybox and a shell on the serial console
#   make run [MODEL=x.gguf]   boots the appliance in QEMU (Ctrl-A X ends)
KERNEL ?= $(lastword $(sort $(wildcard /boot/vmlinuz-*)))
KVER := $(patsubst /boot/vmlinuz-%,%,$(KERNEL))
SERVICE_BIN ?= $(OUT)/bin/llmboxd
DEFAULT_MODEL ?= $(OUT)/models/stories260K.gguf
INITRAMFS_DIR := $(OUT)/initramfs$(if $(DEBUG),-debug)
INITRAMFS := $(INITRAMFS_DIR)/initramfs.img
INITRAMFS_MAX_BYTES := 4194304

# Drivers for the hardware of common mini-PCs and QEMU; the stock Debian kernel has them as
# modules (mkinitramfs.py skips any that are built in and adds their dependencies).
INITRAMFS_MODULES := virtio_pci virtio_net virtio_blk virtio_scsi virtio_rng e1000e e1000 igc r8169 \
                     nvme ahci sd_mod usb_storage uas xhci_pci ehci_pci
# Loaded unconditionally: filesystems and checksums the kernel would ask modprobe for.
INITRAMFS_PRELOAD := crc32c_generic crc32c_intel ext4 exfat vfat nls_cp437 nls_ascii nls_utf8

.PHONY: initramfs run
$(INITRAMFS_DIR)/base.cpio.zst: $(OUT)/bin/init $(SERVICE_BIN) rootfs/mkinitramfs.py rootfs/rules.mk
	@mkdir -p $(@D)
	python3 rootfs/mkinitramfs.py --out $@ --init $(OUT)/bin/init --service $(SERVICE_BIN) \
	  --kver $(KVER) $(addprefix --module ,$(INITRAMFS_MODULES)) $(addprefix --preload ,$(INITRAMFS_PRELOAD)) \
	  $(if $(DEBUG),--busybox /bin/busybox) --list > $@.txt
	@tail -1 $@.txt
	@sz=$$(stat -c %s $@); if [ -z "$(DEBUG)" ] && [ $$sz -ge $(INITRAMFS_MAX_BYTES) ]; then \
	  echo "initramfs without the model is $$sz bytes, over the 4 MiB budget"; rm -f $@; exit 1; fi

$(INITRAMFS_DIR)/models.cpio.zst: $(DEFAULT_MODEL) rootfs/mkinitramfs.py
	@mkdir -p $(@D)
	python3 rootfs/mkinitramfs.py --models-only --out $@ --model $(DEFAULT_MODEL)

# The kernel unpacks concatenated archives in order.
$(INITRAMFS): $(INITRAMFS_DIR)/base.cpio.zst $(INITRAMFS_DIR)/models.cpio.zst
	cat $^ > $@.tmp && mv $@.tmp $@

initramfs: $(INITRAMFS)
	@cat $(INITRAMFS_DIR)/base.cpio.zst.txt
	@echo "base (no model): $$(stat -c %s $(INITRAMFS_DIR)/base.cpio.zst) bytes; with model: $$(stat -c %s $(INITRAMFS)) bytes"

MODEL ?=
run: $(DEPS_STAMP) programs $(INITRAMFS)
	scripts/run-qemu.sh --kernel $(KERNEL) --initrd $(INITRAMFS) --state $(OUT)/run \
	  $(if $(MODEL),--model $(MODEL)) --port 8443

$(OUT)/e2e/stub_llmboxd: tests/e2e/stub_llmboxd.c
	@mkdir -p $(@D)
	$(CC_MUSL) -static -O2 -o $@ $<

.PHONY: bench-boot
# Boot time in QEMU to first /health and first token; writes its section of bench/RESULTS.md.
bench-boot: $(INITRAMFS)
	bench/boot.sh

# The cpio writer and module selection, checked with GNU cpio (fast; no QEMU).
LATE_TEST_SUITES += rootfs/test_mkinitramfs.sh

# The disk image for a real mini-PC (scripts/mkimage.sh, no root): GPT, an ESP holding one
# unified kernel image (kernel + this initramfs + command line), an exFAT data partition LLMBOX.
#   make image [MODEL=x.gguf] [IMAGE_DATA_MIB=N] [IMAGE_KERNEL=out/kernel/bzImage]
IMAGE := $(OUT)/llmbox.img
IMAGE_KERNEL ?= $(KERNEL)
IMAGE_DATA_MIB ?= 1024
IMAGE_CMDLINE ?= console=ttyS0,115200 console=tty0 quiet panic=10
.PHONY: image
image: $(DEPS_STAMP) programs $(INITRAMFS)
	scripts/mkimage.sh --kernel $(IMAGE_KERNEL) --initrd $(INITRAMFS) --out $(IMAGE) \
	  --data-mib $(IMAGE_DATA_MIB) --cmdline "$(IMAGE_CMDLINE)" $(if $(MODEL),--model $(MODEL))
