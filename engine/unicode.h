/* Unicode support for the tokenizers: UTF-8 decoding/encoding and the general-category
 * classes the pre-tokenizer regexes need (\p{L}, \p{N}, \p{P}, \p{M}, \p{S}, \s). */
#ifndef LB_UNICODE_H
#define LB_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* General category, collapsed to its major class. */
enum lb_ucat {
    LB_UCAT_C = 0,  /* other: control, format, unassigned, private use, surrogate */
    LB_UCAT_L = 1,  /* letter */
    LB_UCAT_N = 2,  /* number */
    LB_UCAT_P = 3,  /* punctuation */
    LB_UCAT_M = 4,  /* mark */
    LB_UCAT_S = 5,  /* symbol */
    LB_UCAT_Z = 6,  /* separator */
};

#define LB_UNICODE_REPLACEMENT 0xFFFDu

extern const char lb_unicode_version[];
extern const unsigned lb_ucat_n_runs;
extern const uint32_t lb_ucat_runs[];

enum lb_ucat lb_unicode_cat(uint32_t cp);
/* The White_Space property (what \s matches). */
bool lb_unicode_is_space(uint32_t cp);

/* Byte length of the UTF-8 sequence a lead byte announces (1 for invalid lead bytes). */
int lb_utf8_len(unsigned char lead);
/* Decodes one codepoint at s[*i] (n bytes in total) and advances *i. Invalid or truncated
 * sequences decode as U+FFFD and advance by one byte. */
uint32_t lb_utf8_decode(const char *s, size_t n, size_t *i);
/* Encodes cp (up to 4 bytes) into out; returns the byte count. */
int lb_utf8_encode(uint32_t cp, char *out);
/* True if the n bytes are well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool lb_utf8_valid(const char *s, size_t n);
/* Length of the longest prefix of s[0..n) that is complete UTF-8; an incomplete
 * but so far valid sequence at the end is excluded. */
size_t lb_utf8_complete_prefix(const char *s, size_t n);

#endif
