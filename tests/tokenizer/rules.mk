# CLI tokenizer suite: llmbox tokenize/detokenize against the shared tokenizer cases.
TEST_DEPS += $(OUT)/bin/llmbox
LATE_TEST_SUITES += "tests/tokenizer/run.sh $(OUT)/bin/llmbox"
