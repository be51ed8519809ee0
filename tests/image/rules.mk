# UEFI boot of the disk image (OVMF, TCG): needs the initramfs with the real llmboxd.
.PHONY: image-test
ifneq ($(wildcard netsvc/main_llmboxd.c),)
TEST_DEPS += $(INITRAMFS)
LATE_TEST_SUITES += tests/image/run.sh
endif
image-test: $(DEPS_STAMP) programs $(INITRAMFS)
	tests/run_all.sh tests/image/run.sh
