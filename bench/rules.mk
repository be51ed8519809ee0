# Benchmarks (not part of `make test`): `make bench` writes bench/results/ and the tables of
# bench/RESULTS.md. Programs here are static musl builds like the production binaries.
BENCH_BIN := $(OUT)/bench/bin
BENCH_PROGS := $(BENCH_BIN)/bandwidth $(BENCH_BIN)/gemm_bench $(BENCH_BIN)/decode_bench

$(BENCH_BIN)/%: bench/%.c $(OUT)/musl/liblb.a $(COMPAT_OBJ) $(OUT)/musl-include/.stamp-uapi
	@mkdir -p $(@D)
	$(CC_MUSL) $(MUSL_CFLAGS) -static -o $@ $< $(OUT)/musl/liblb.a $(COMPAT_OBJ) $(MUSL_LIBS)

.PHONY: bench bench-progs
bench-progs: $(BENCH_PROGS)
# The oracle (llama.cpp through node-llama-cpp) comes from scripts/rules.mk when present.
# (scripts/rules.mk is read after this file, so the oracle is built from the recipe.)
bench: $(DEPS_STAMP) programs $(BENCH_PROGS)
	$(if $(ORACLE),$(MAKE) $(ORACLE))
	PYTHON=$(PYTHON) $(if $(ORACLE),ORACLE=$(abspath $(ORACLE))) bench/run.sh
