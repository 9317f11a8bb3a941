# faults.mk - builds the fault-injection shim used by tests/shell/5x-*.sh.
# Included from the Makefile; the scripts find it through $FAILIO, e.g.
#     shell: $(BIN) $(FAILIO_SO)
#         @IVL=... FAILIO=$(abspath $(FAILIO_SO)) sh tests/run-shell.sh
# (a script whose $FAILIO is unset or missing compiles its own copy with cc).
FAILIO_SO := $(BUILD)/tests/faults/failio.so

$(FAILIO_SO): tests/faults/failio.c
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O2 -Wall -Wextra -o $@ $< -ldl

.PHONY: faults
faults: $(FAILIO_SO)
