# docs/docs.mk - the manual page ivl(1) and the bash completion (included by
# the Makefile).
#
#   make install        also runs install-docs
#   make install-docs   PREFIX=/usr/local DESTDIR=  installs only these two
#   make check-man      renders docs/ivl.1 with groff (and mandoc, if there)
#                       and fails on any warning
#
# The man page's header carries the version: install writes $(VERSION) into it.

MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

.PHONY: install-docs check-man

install: install-docs

install-docs:
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	sed 's/^\(\.TH IVL 1 [^"]*"ivl \)[^"]*"/\1$(VERSION)"/' docs/ivl.1 > $(DESTDIR)$(MANDIR)/man1/ivl.1
	chmod 0644 $(DESTDIR)$(MANDIR)/man1/ivl.1
	install -m 0644 docs/ivl.bash-completion $(DESTDIR)$(BASHCOMPDIR)/ivl

check-man:
	@out=$$(groff -man -Tutf8 -ww docs/ivl.1 2>&1 >/dev/null); \
	  if [ -n "$$out" ]; then echo "$$out"; exit 1; fi
	@if command -v mandoc >/dev/null; then mandoc -Tlint -Wwarning docs/ivl.1; fi
