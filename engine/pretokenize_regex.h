/* A small backtracking regex engine over Unicode codepoints, enough for the pre-tokenizer
 * patterns that real vocabularies declare (as written for Perl/ECMAScript-style engines):
 * alternation, (?:...), (?i:...), (?!...), (?=...), * + ? {n} {n,} {n,m} (greedy or lazy),
 * classes with ranges, \s \S \d \D \w \W \p{L|N|P|M|S|Z|C} \P{..}, ^ $ and escapes.
 * Matching is leftmost-first (the first alternative that leads to a match wins). */
#ifndef LB_PRETOKENIZE_REGEX_H
#define LB_PRETOKENIZE_REGEX_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct lb_re lb_re;

/* Backtracking stack, reused across matches (one per tokenize call, not shared). */
typedef struct lb_re_stack {
    uint32_t *items;  /* pairs (pc, pos) */
    size_t n, cap;
} lb_re_stack;

int lb_re_compile(const char *pattern, lb_re **out, lb_err *err);
void lb_re_free(lb_re *re);

/* Matches at s[pos] with the subject being s[begin..end) ($ and lookaheads stop at end).
 * Returns the end of the match (> pos, or == pos for an empty match), -1 for no match,
 * -2 when the stack could not grow. */
long lb_re_match_at(const lb_re *re, const uint32_t *s, size_t begin, size_t end, size_t pos,
                    lb_re_stack *st);
void lb_re_stack_free(lb_re_stack *st);

#endif
