/*
 * html.h - the one HTML escaper.  Every byte of text that reaches a page
 * from outside (commit subjects, authors, commands, metric names, reasons)
 * goes through pb_html_put(), which escapes & < > " ' and replaces control
 * characters and invalid UTF-8, so a hostile commit message is shown as
 * text and never interpreted.
 */
#ifndef PB_HTML_H
#define PB_HTML_H

#include "common/buf.h"

/* Appends s to b, escaped for HTML text and attribute values. */
int pb_html_put(struct pb_buf *b, const char *s);

#endif
