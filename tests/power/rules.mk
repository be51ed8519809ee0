# Power suite: llmboxd against a fake sysfs tree (intel_pstate, intel_idle, RAPL) and against
# an empty one (QEMU-like): /v1/system/power, busy/idle transitions, usage.energy_joules,
# /metrics lines, settings restored on SIGTERM.
ifneq ($(wildcard netsvc/main_llmboxd.c),)
TEST_DEPS += $(OUT)/bin/llmboxd $(DEFAULT_MODEL)
LATE_TEST_SUITES += tests/power/run.sh
.PHONY: power-test
power-test: $(OUT)/bin/llmboxd $(DEFAULT_MODEL)
	tests/run_all.sh tests/power/run.sh
endif
