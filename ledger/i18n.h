/*
 * i18n.h - message translation (gettext, text domain "ivl").
 *
 * Every message meant for people is written in English in the source and
 * wrapped in _() where it is used, or N_() where it is only stored (tables),
 * so that xgettext can collect it into po/ivl.pot. The CLI chooses the
 * language from the locale (LANG=zh_CN.UTF-8 gives Simplified Chinese);
 * the library only looks messages up, it never sets the locale. JSON error
 * codes and every machine-readable field stay the same in every language.
 */
#ifndef IVL_I18N_H
#define IVL_I18N_H

#include <libintl.h>

#define IVL_TEXTDOMAIN "ivl"
#define _(s)           dgettext(IVL_TEXTDOMAIN, s)
#define N_(s)          s

#endif
