# Parity with llama.cpp (tests/parity/parity.py). `make test` runs the fast subset;
# `make parity-full` every arch x tensor type plus deeper shapes.
# out/bin/llmbox only once engine/main_llmbox.c exists (until then the suite reports FAIL).
PARITY_DEPS := $(filter $(OUT)/bin/llmbox,$(PROGRAMS)) $(ORACLE) $(DEFAULT_MODEL)
TEST_DEPS += $(PARITY_DEPS)
LATE_TEST_SUITES += "tests/parity/run.sh fast"

.PHONY: parity-full
parity-full: $(PARITY_DEPS)
	tests/run_all.sh "tests/parity/run.sh full"
