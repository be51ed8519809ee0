/* Internal layout of lb_vocab, shared by vocab.c and the tokenizer/detokenizer files. */
#ifndef LB_VOCAB_IMPL_H
#define LB_VOCAB_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "pretokenize.h"
#include "vocab.h"

enum { LB_VOCAB_SPM = 1, LB_VOCAB_BPE = 2 };

enum { LB_ATTR_RSTRIP = 1, LB_ATTR_LSTRIP = 2 };

struct lb_vocab {
    int type;
    int n;
    char *arena;           /* token texts, each NUL-terminated */
    uint32_t *off, *len;
    float *score;
    uint8_t *ttype;
    uint8_t *attr;
    uint32_t *hash;        /* open addressing: id + 1, 0 empty */
    uint32_t hash_mask;
    uint64_t *mkeys;       /* merges: (left id + 1) << 32 | (right id + 1), 0 empty */
    int32_t *mrank;
    uint64_t mmask;
    int n_merges;
    int32_t bos, eos, unk, eot, eom, pad;
    bool add_bos, add_eos, add_space_prefix, ignore_merges;
    int32_t byte_tok[256]; /* SPM byte fallback <0xXX> (-1 none) */
    int32_t *special;      /* control / user-defined / unknown tokens, longest text first */
    int n_special;
    int32_t *eog;
    int n_eog;
    lb_pretok *pretok;     /* BPE only */
    char model[16];
};

static inline const char *vocab_text(const lb_vocab *v, int32_t id) { return v->arena + v->off[id]; }

/* Hash lookup of a byte string. */
int32_t lb_vocab_lookup(const lb_vocab *v, const char *s, size_t n);
/* Merge rank of two tokens, -1 if they do not merge. */
int32_t lb_vocab_merge_rank(const lb_vocab *v, int32_t left, int32_t right);

/* A growable token list used while tokenizing. */
typedef struct lb_toklist {
    int32_t *ids;
    size_t n, cap;
} lb_toklist;
int lb_toklist_push(lb_toklist *l, int32_t id);

int lb_tokenize_spm(const lb_vocab *v, const char *text, size_t len, lb_toklist *out, lb_err *err);
int lb_tokenize_bpe(const lb_vocab *v, const char *text, size_t len, lb_toklist *out, lb_err *err);

/* GPT-2 byte-level mapping: byte → codepoint and back (-1 if cp is not a mapped byte). */
uint32_t lb_bpe_byte_to_cp(unsigned char b);
int lb_bpe_cp_to_byte(uint32_t cp);

#endif
