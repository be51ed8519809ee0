# API suite: llmboxd over HTTPS, checked with curl, raw TLS clients and the official openai
# npm client (installed into out/api-node from the pinned lock file).
API_NODE_STAMP := $(OUT)/api-node/.stamp
$(API_NODE_STAMP): tests/api/package.json tests/api/package-lock.json | $(DEPS_STAMP)
	@mkdir -p $(@D)
	cp tests/api/package.json tests/api/package-lock.json $(@D)/
	cd $(@D) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: api-test
# The service entry point lands once the server core, engine and tokenizer are in.
ifneq ($(wildcard netsvc/main_llmboxd.c),)
TEST_DEPS += $(API_NODE_STAMP) $(OUT)/bin/llmboxd $(DEFAULT_MODEL)
LATE_TEST_SUITES += tests/api/run.sh
api-test: $(API_NODE_STAMP) $(OUT)/bin/llmboxd $(DEFAULT_MODEL)
	tests/run_all.sh tests/api/run.sh
endif
