# tests/bench/bench.mk - the performance benchmark (included by the Makefile).
#
#   make bench                          100,000-entry ledger (about 2-3 minutes on 2 cores)
#   make bench BENCH_ENTRIES=1000000    a million entries
#
# Builds the generator (linked with libivl) and the raw-limits probe, then
# runs tests/bench/bench.py, which prints the table and writes
# $(BENCH_DIR)/bench.json. BENCH_ARGS passes more options to bench.py
# (--keep to keep the ledger, --profile to record perf profiles of verify
# and of batch issuance, see docs/PERFORMANCE.md).

BENCH_ENTRIES ?= 100000
BENCH_DIR     ?= $(BUILD)/bench-run
BENCH_ARGS    ?=
BENCH_PY      ?= $(shell [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)
BENCH_TOOLS   := $(BUILD)/bench/bench_gen $(BUILD)/bench/bench_raw

$(BUILD)/bench/bench_gen: tests/bench/bench_gen.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/bench/bench_raw: tests/bench/bench_raw.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDLIBS)

.PHONY: bench bench-tools
bench-tools: $(BENCH_TOOLS)

bench: $(BIN) $(BENCH_TOOLS)
	$(BENCH_PY) tests/bench/bench.py --ivl $(abspath $(BIN)) --tools $(abspath $(BUILD)/bench) \
	  --dir $(abspath $(BENCH_DIR)) --entries $(BENCH_ENTRIES) $(BENCH_ARGS)
