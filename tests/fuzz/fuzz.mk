# tests/fuzz/fuzz.mk - libFuzzer targets (included from the Makefile; alone:
# make -f Makefile -f tests/fuzz/fuzz.mk fuzz).
#
#   make fuzz [FUZZ_SECONDS=60]   build every tests/fuzz/fuzz_*.c into
#                                 build/fuzz/ and run each for FUZZ_SECONDS
#   make fuzz-smoke               the same, 10 s per target (CI)
#   make fuzz-build               only build
#
# Each target fuzz_X starts from a copy of tests/fuzz/corpus/X in
# build/fuzz/corpus/X (the checked-in seeds are never modified; what the
# fuzzer adds stays there for the next run). Crashing inputs land in
# build/fuzz/artifacts/X/ (emptied at each run), logs in
# build/fuzz/logs/X.log, one line per target in build/fuzz/summary.txt. The run fails if any target crashed,
# leaked, timed out or ran out of memory. Every target is one process on one
# core (no -jobs/-workers).
# Replay one input: build/fuzz/fuzz_X FILE.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
# FUZZ_DEFS=-DFUZZ_SKIP_KNOWN skips the inputs of known product bugs (see
# tests/fuzz/crashes/README) to fuzz past them; built in build/fuzz-defs.
FUZZ_DEFS    ?=
FUZZ_BUILD   ?= build/fuzz$(if $(FUZZ_DEFS),-defs)
FUZZ_FLAGS   ?= -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_PKGS    := libsodium lmdb uuid jansson
# The project's warnings, less the gcc-only option clang refuses.
FUZZ_WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
                -Wformat=2 -Wno-format-nonliteral
FUZZ_CFLAGS  := $(FUZZ_DEFS) -std=c11 -D_GNU_SOURCE $(FUZZ_WARN) -O1 -g $(FUZZ_FLAGS) -Iledger -Ikeys -Itests/fuzz \
                $(shell pkg-config --cflags $(FUZZ_PKGS)) -DIVL_VERSION=\"fuzz\"
FUZZ_LDLIBS  := $(shell pkg-config --libs $(FUZZ_PKGS)) -lpthread

FUZZ_LIB_SRC := $(sort $(wildcard ledger/*.c keys/*.c))
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_LIB     := $(FUZZ_BUILD)/libivl-fuzz.a
FUZZ_TARGETS := $(sort $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

# Longest input per target (-max_len); 4096 when not listed.
FUZZ_MAXLEN_note       := 12288
FUZZ_MAXLEN_proof      := 10240
FUZZ_MAXLEN_checkpoint := 1024
FUZZ_MAXLEN_vkey       := 512
FUZZ_MAXLEN_amount     := 64
FUZZ_MAXLEN_percent    := 64
FUZZ_MAXLEN_date       := 64
FUZZ_MAXLEN_time       := 128
FUZZ_MAXLEN_uscc       := 64

.PHONY: fuzz fuzz-smoke fuzz-build

fuzz-build: $(FUZZ_BINS)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -o $@ $< $(FUZZ_LIB) $(FUZZ_LDLIBS)

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_BINS:=.d)

# $(call fuzz_run,SECONDS): runs every target, then fails if any failed.
define fuzz_run
	@set -u; b=$(FUZZ_BUILD); fail=""; : >$$b/summary.txt; \
	for tm in $(foreach t,$(FUZZ_TARGETS),$(t):$(or $(FUZZ_MAXLEN_$(t)),4096)); do \
	    t=$${tm%%:*}; ml=$${tm#*:}; \
	    mkdir -p $$b/corpus/$$t $$b/artifacts/$$t $$b/logs; rm -f $$b/artifacts/$$t/*; \
	    cp tests/fuzz/corpus/$$t/* $$b/corpus/$$t/; \
	    printf 'fuzz %-11s %4ss max_len %-6s ' $$t $(1) $$ml; \
	    if $$b/fuzz_$$t $$b/corpus/$$t -max_total_time=$(1) -max_len=$$ml -timeout=10 \
	        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$$b/artifacts/$$t/ \
	        >$$b/logs/$$t.log 2>&1; then res=ok; else res=FAILED; fail="$$fail $$t"; fi; \
	    runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$b/logs/$$t.log); \
	    cov=$$(grep -o 'cov: [0-9]*' $$b/logs/$$t.log | tail -n 1); \
	    line="$$res  $${runs:-?} execs  $$cov  corpus $$(ls $$b/corpus/$$t | wc -l)"; \
	    echo "$$line"; echo "$$t $(1)s $$line" >>$$b/summary.txt; \
	    if [ $$res != ok ]; then \
	        grep -m 5 -E 'ERROR|FUZZ INVARIANT|runtime error|SUMMARY' $$b/logs/$$t.log | sed 's/^/    /'; \
	        ls $$b/artifacts/$$t | sed "s|^|    input: $$b/artifacts/$$t/|"; \
	    fi; \
	done; \
	if [ -n "$$fail" ]; then echo "fuzz: failing targets:$$fail (logs in $$b/logs)"; exit 1; fi
endef

fuzz: $(FUZZ_BINS)
	$(call fuzz_run,$(FUZZ_SECONDS))

fuzz-smoke: $(FUZZ_BINS)
	$(call fuzz_run,10)
