# ivl - Innovation Voucher Ledger
#
#   make            build ./ivl
#   make test       unit tests (cmocka) and whole-program tests (tests/*.sh)
#   make asan       the same suite under AddressSanitizer + UBSan
#   make ct         the signer: nothing branches on a secret (valgrind), no
#                   nonce left on the stack
#   make install    PREFIX=/usr/local DESTDIR=
#
# Sources are picked up by wildcard: ledger/*.c and keys/*.c form libivl,
# cli/*.c the binary, tests/test_*.c one cmocka program each.

CC       ?= cc
PREFIX   ?= /usr/local
BUILD    ?= build/default
PKGS     := libsodium lmdb uuid jansson
CSTD     := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
            -Wformat=2 -Wno-format-nonliteral
# snprintf truncation is deliberate (bounded messages); only gcc warns about it.
ifeq ($(findstring clang,$(shell $(CC) --version 2>/dev/null)),)
WARN     += -Wno-format-truncation
endif
OPT      ?= -O2 -g
# DWARF 4: valgrind 3.19 (make ct) cannot read clang 14's default DWARF 5.
CFLAGS   += $(CSTD) $(WARN) $(OPT) -gdwarf-4 -Iledger -Ikeys -Icli $(shell pkg-config --cflags $(PKGS))
# Our libraries are linked statically (Debian's -dev packages ship the .a
# files): every command is a short process, and the dynamic loader's work was
# a third of a proof command's time (docs/PERFORMANCE.md).
LDLIBS   += -Wl,-Bstatic $(shell pkg-config --libs-only-l $(PKGS)) -Wl,-Bdynamic -lpthread
TESTLIBS := $(shell pkg-config --libs cmocka)
VERSION  := 0.1.0
CFLAGS   += -DIVL_VERSION=\"$(VERSION)\"

LIB_SRC  := $(sort $(wildcard ledger/*.c keys/*.c))
CLI_SRC  := $(sort $(wildcard cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
LIB      := $(BUILD)/libivl.a
BIN      := $(BUILD)/ivl

.PHONY: all test unit shell ct asan install clean format check-format bench fuzz demo

all: ivl

ivl: $(BIN)
	cp $(BIN) ivl

$(LIB): $(LIB_OBJ)
	$(AR) rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(LIB) $(LDLIBS) $(TESTLIBS)

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

include po/po.mk
include docs/docs.mk
include tests/faults/faults.mk
include tests/fuzz/fuzz.mk
include tests/bench/bench.mk

# Unit tests run from the repository root so they find ../shared/vectors.
unit: $(TEST_BIN)
	@set -e; for t in $(TEST_BIN); do echo "== $$t"; $$t; done

shell: $(BIN) $(FAILIO_SO)
	@IVL=$(abspath $(BIN)) FAILIO=$(abspath $(FAILIO_SO)) sh tests/run-shell.sh

# The signer runs in constant time: memcheck, with the secret key marked
# undefined, reports any branch or address that depends on it; and it leaves
# no nonce or key on the stack (tests/ct/).
CT_BIN   := $(BUILD)/tests/ct/ct_sign
WIPE_BIN := $(BUILD)/tests/ct/wipe_sign

$(CT_BIN): tests/ct/ct_sign.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(WIPE_BIN): tests/ct/wipe_sign.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS) -Wl,-z,now

ct: $(CT_BIN) $(WIPE_BIN)
	valgrind -q --error-exitcode=1 $(CT_BIN)
	$(WIPE_BIN)

test: unit shell ct

# valgrind cannot run a sanitized binary: the same suite without ct.
asan:
	$(MAKE) BUILD=build/asan CC=clang \
	  OPT="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  LDFLAGS="-fsanitize=address,undefined" unit shell

install: ivl
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 ivl $(DESTDIR)$(PREFIX)/bin/ivl

format:
	clang-format -i ledger/*.[ch] keys/*.[ch] cli/*.[ch] tests/*.[ch] tests/ct/*.c

check-format:
	clang-format --dry-run --Werror ledger/*.[ch] keys/*.[ch] cli/*.[ch] tests/*.[ch] tests/ct/*.c

clean:
	rm -rf build ivl

demo: ivl
	sh tests/demo.sh demo-out
