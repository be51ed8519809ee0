# Model tooling: the default model converted at build time, the llama.cpp oracle.
PYTHON ?= /usr/bin/python3
GGUF_PY := scripts/gguf_writer.py scripts/ggml_quants.py

# Default model: llama2.c stories260K (real weights) -> llama-arch GGUF (F32).
DEFAULT_MODEL := $(OUT)/models/stories260K.gguf
$(DEFAULT_MODEL): scripts/llama2c_to_gguf.py $(GGUF_PY) $(SHARED)/models/stories260K.bin $(SHARED)/models/tok512.bin | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(PYTHON) scripts/llama2c_to_gguf.py $(SHARED)/models/stories260K.bin $(SHARED)/models/tok512.bin $@

# llama.cpp reference through node-llama-cpp: its CPU prebuilt only (no GPU variants), no
# install scripts (they would try to download or build llama.cpp). Versions pinned by the lock.
ORACLE_DIR := $(OUT)/oracle
ORACLE := $(ORACLE_DIR)/oracle.mjs
ORACLE_STAMP := $(ORACLE_DIR)/.stamp
$(ORACLE_STAMP): scripts/oracle/package.json scripts/oracle/package-lock.json | $(DEPS_STAMP)
	@mkdir -p $(@D)
	cp scripts/oracle/package.json scripts/oracle/package-lock.json $(@D)/
	cd $(@D) && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error
	@test -n "$$(find $(@D)/node_modules/@node-llama-cpp/linux-x64 -name llama-addon.node)" || \
	  { echo "oracle: the CPU prebuilt of node-llama-cpp is missing" >&2; exit 1; }
	@touch $@
# Copied next to node_modules so node resolves the package from there.
$(ORACLE): scripts/oracle/oracle.mjs $(ORACLE_STAMP)
	cp $< $@

.PHONY: models oracle
models: $(DEFAULT_MODEL)
oracle: $(ORACLE)

TEST_DEPS += $(DEFAULT_MODEL)
LATE_TEST_SUITES += "$(PYTHON) scripts/test_ggml_quants.py"
