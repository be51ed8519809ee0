# Tokenizer suites: llmbox tokenize/detokenize against the shared tokenizer cases, and the
# pre-tokenizer regex engine cross-checked against V8's regexes (node).
$(OUT)/host/tools/pretok_split: tests/tokenizer/pretok_split.c $(OUT)/host/liblb.a
	@mkdir -p $(@D)
	$(CC_HOST) $(HOST_CFLAGS) -o $@ $< $(OUT)/host/liblb.a $(HOST_LIBS)

TEST_DEPS += $(OUT)/bin/llmbox $(OUT)/host/tools/pretok_split
LATE_TEST_SUITES += "tests/tokenizer/run.sh $(OUT)/bin/llmbox"
LATE_TEST_SUITES += "node tests/tokenizer/pretok_diff.js $(OUT)/host/tools/pretok_split"
