/*
 * jsonscan.h - a fast, strict reader for the lines of an export.
 *
 * `ivl import` needs two members of each line, "seq" and "leaf"; a general
 * JSON parser builds every member of a line only to throw them away, which
 * was a sixth of an import's CPU. ivl_json_scan_line() reads the plain form
 * an export is written in (no escapes, integers only) and finds both; on
 * anything else it answers "not mine" and the caller uses a full JSON parser,
 * which then gives the verdict and the error message. So it only ever
 * accepts lines that jansson (with JSON_REJECT_DUPLICATES) accepts with the
 * same seq and leaf; tests/test_jsonscan.c and the fuzz target
 * fuzz_jsonscan check exactly that.
 */
#ifndef IVL_JSONSCAN_H
#define IVL_JSONSCAN_H

#include <stddef.h>
#include <stdint.h>

struct ivl_json_line {
    int have_seq, have_leaf;
    uint64_t seq;     /* "seq", when a non-negative integer below 2^63 */
    const char *leaf; /* "leaf", when a string: its bytes within the line */
    size_t leaf_len;
};

/* 1: the line is one JSON object in the plain form, and *out tells what its
 * top-level "seq" and "leaf" are (a "seq" that is not such an integer, or a
 * "leaf" that is not a string, answers 0). 0: let a full parser decide. */
int ivl_json_scan_line(const char *p, size_t len, struct ivl_json_line *out);

#endif
