# po/po.mk - message catalogues (GNU gettext), included by the Makefile.
#
#   make locale          build/locale/LL/LC_MESSAGES/ivl.mo for every po/LL.po
#                        (msgfmt --check: a translation whose printf conversions
#                        differ from the English is an error); part of `make all`
#   make pot             regenerate po/ivl.pot from the sources (xgettext) and
#                        merge it into every po/LL.po (msgmerge); then translate
#                        what is new or fuzzy and run `make locale`
#   make install         also installs the catalogues in $(PREFIX)/share/locale
#
# Messages for people are English in the source, marked _() or N_() (see
# ledger/i18n.h). The binary looks for build/locale next to itself when it runs
# from the source tree, else in IVL_LOCALEDIR.

LINGUAS    := zh_CN
LOCALE_DIR := build/locale
MO_FILES   := $(LINGUAS:%=$(LOCALE_DIR)/%/LC_MESSAGES/ivl.mo)
PO_FILES   := $(LINGUAS:%=po/%.po)
POT_SRC     = $(sort $(wildcard ledger/*.[ch] keys/*.[ch] cli/*.[ch]))
XGETTEXT_FLAGS := --language=C --from-code=UTF-8 --keyword=_ --keyword=N_ \
                  --add-comments=TRANSLATORS: --sort-by-file --package-name=ivl \
                  --package-version=$(VERSION)

CFLAGS += -DIVL_LOCALEDIR=\"$(PREFIX)/share/locale\"

.PHONY: locale pot install-locale
.DEFAULT_GOAL := all

all: locale
shell: locale

locale: $(MO_FILES)

$(LOCALE_DIR)/%/LC_MESSAGES/ivl.mo: po/%.po
	@mkdir -p $(dir $@)
	msgfmt --check --statistics -o $@.tmp $< && mv $@.tmp $@

pot:
	xgettext $(XGETTEXT_FLAGS) -o po/ivl.pot $(POT_SRC)
	set -e; for l in $(LINGUAS); do \
	  msgmerge --quiet --update --backup=none --previous po/$$l.po po/ivl.pot; \
	  msgattrib --no-obsolete -o po/$$l.po po/$$l.po; done
	@for l in $(LINGUAS); do printf 'po/%s.po: ' $$l; \
	  msgfmt --statistics -o /dev/null po/$$l.po; done

install-locale: locale
	set -e; for l in $(LINGUAS); do \
	  install -d $(DESTDIR)$(PREFIX)/share/locale/$$l/LC_MESSAGES; \
	  install -m 0644 $(LOCALE_DIR)/$$l/LC_MESSAGES/ivl.mo \
	    $(DESTDIR)$(PREFIX)/share/locale/$$l/LC_MESSAGES/ivl.mo; done

install: install-locale
