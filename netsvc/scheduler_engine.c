/* The scheduler's ops table over the real engine, tokenizer and sampler. */
#include "scheduler.h"

#include "sampler.h"
#include "tokenizer.h"

/* The ops table carries one pointer: the context. The vocabulary is kept beside it. */
typedef struct eng_pair {
    lb_ctx *ctx;
    const lb_vocab *vocab;
} eng_pair;

static eng_pair g_pair;  /* one engine per process (llmboxd) */

static int op_decode(void *eng, const lb_batch *b, lb_err *err) { return lb_decode(((eng_pair *)eng)->ctx, b, err); }
static const float *op_logits(void *eng, int i) { return lb_get_logits(((eng_pair *)eng)->ctx, i); }
static void op_truncate(void *eng, int seq, int n_keep) { lb_kv_truncate(((eng_pair *)eng)->ctx, seq, n_keep); }
static bool op_is_eog(void *eng, int32_t tok) { return lb_vocab_is_eog(((eng_pair *)eng)->vocab, tok); }
static int32_t op_sample(void *smp, const float *logits) { return lb_sampler_sample(smp, logits); }
static void op_accept(void *smp, int32_t tok) { lb_sampler_accept(smp, tok); }

lb_sched_ops lb_sched_engine_ops(lb_ctx *ctx, const lb_vocab *vocab)
{
    g_pair.ctx = ctx;
    g_pair.vocab = vocab;
    return (lb_sched_ops){
        .eng = &g_pair,
        .decode = op_decode,
        .logits = op_logits,
        .kv_truncate = op_truncate,
        .is_eog = op_is_eog,
        .sample = op_sample,
        .accept = op_accept,
    };
}
