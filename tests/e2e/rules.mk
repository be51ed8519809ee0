# QEMU end-to-end suite (tests/e2e/run.sh): needs the initramfs with the real llmboxd.
.PHONY: e2e-test
ifneq ($(wildcard netsvc/main_llmboxd.c),)
TEST_DEPS += $(INITRAMFS) $(API_NODE_STAMP)
LATE_TEST_SUITES += tests/e2e/run.sh
endif
e2e-test: $(INITRAMFS) $(API_NODE_STAMP)
	tests/run_all.sh tests/e2e/run.sh
