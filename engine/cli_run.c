/* llmbox run: generate from a prompt (token ids, or text once a tokenizer is built in). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "gguf.h"
#include "json.h"
#include "model.h"

#include "sampler.h"
#include "tokenizer.h"

struct run_opts {
    const char *model, *prompt, *tokens;
    long n_predict, seed, threads, n_ctx;
    int flash;
    float temp;
    bool json, ignore_eos, special;
};

static int parse(int argc, char **argv, struct run_opts *o)
{
    *o = (struct run_opts){ .n_predict = 64, .seed = -1, .temp = 0.8f };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (!strcmp(a, "--json")) {
            o->json = true;
            continue;
        }
        if (!strcmp(a, "--ignore-eos")) {
            o->ignore_eos = true;
            continue;
        }
        if (!strcmp(a, "--special")) {  /* parse special-token text in -p */
            o->special = true;
            continue;
        }
        v = lb_cli_value(argc, argv, &i);
        if (!v)
            return lb_cli_fail(2, "run: option %s needs a value", a);
        if (!strcmp(a, "-m") || !strcmp(a, "--model"))
            o->model = v;
        else if (!strcmp(a, "-p") || !strcmp(a, "--prompt"))
            o->prompt = v;
        else if (!strcmp(a, "--tokens"))
            o->tokens = v;
        else if ((!strcmp(a, "-n") || !strcmp(a, "--n-predict")) && lb_cli_int(v, 0, 1 << 20, &o->n_predict))
            ;
        else if (!strcmp(a, "--temp") && lb_cli_float(v, &o->temp))
            ;
        else if (!strcmp(a, "--seed") && lb_cli_int(v, 0, 0x7fffffffL, &o->seed))
            ;
        else if ((!strcmp(a, "-t") || !strcmp(a, "--threads")) && lb_cli_int(v, 1, 1024, &o->threads))
            ;
        else if ((!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) && lb_cli_int(v, 1, 1 << 20, &o->n_ctx))
            ;
        else if ((!strcmp(a, "-fa") || !strcmp(a, "--flash-attn")) && lb_cli_onoff(v, &o->flash))
            ;
        else
            return lb_cli_fail(2, "run: bad option or value: %s %s", a, v);
    }
    if (!o->model)
        return lb_cli_fail(2, "run: -m FILE is required");
    if (!o->prompt == !o->tokens)
        return lb_cli_fail(2, "run: give exactly one of -p TEXT or --tokens \"1 2 3\"");
    return 0;
}

/* End-of-generation id from the metadata (the vocabulary knows more once it is built in). */
static int32_t meta_eos(const lb_model *m)
{
    uint32_t id;
    if (lb_gguf_get_u32(lb_model_gguf(m), "tokenizer.ggml.eos_token_id", &id, NULL) == LB_OK)
        return (int32_t)id;
    return -1;
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Greedy (temp <= 0: first maximum, as llama.cpp) or softmax sampling at temperature. */
static int32_t pick(const float *logits, int n, float temp, uint64_t *rng)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (logits[i] > logits[best])
            best = i;
    if (temp <= 0)
        return best;
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += exp((logits[i] - logits[best]) / temp);
    double r = (double)(rng_next(rng) >> 11) / 9007199254740992.0 * sum;
    for (int i = 0; i < n; i++) {
        r -= exp((logits[i] - logits[best]) / temp);
        if (r <= 0)
            return i;
    }
    return best;
}

int lb_cli_run(int argc, char **argv)
{
    struct run_opts o;
    int st = parse(argc, argv, &o);
    if (st)
        return st;
    lb_model *m = NULL;
    lb_ctx *c = NULL;
    int32_t *prompt = NULL, *gen = NULL;
    int n_prompt = 0, n_gen = 0, n_decodes = 0;
    lb_err err = { 0 };
    const char *stop = "length";
    char *text = NULL;
    size_t text_len = 0, text_cap = 0;
    lb_sampler *smp = NULL;
    if ((st = lb_cli_load(o.model, false, &m)))
        return st;
    const lb_vocab *vocab = lb_model_vocab(m);
    if (o.prompt) {
        if (!vocab) {
            st = lb_cli_fail(2, "run: -p needs a tokenizer (this model has none); use --tokens");
            goto out;
        }
        size_t len = strlen(o.prompt);
        int cap = (int)(len + 8);
        prompt = malloc((size_t)cap * sizeof *prompt);
        n_prompt = prompt ? lb_tokenize(vocab, o.prompt, len, lb_vocab_add_bos(vocab), o.special, prompt, cap, &err) : -1;
        if (n_prompt < 0 || n_prompt > cap) {
            st = lb_cli_fail(2, "run: cannot tokenize the prompt: %s", prompt ? err.msg : "no memory");
            goto out;
        }
        if (n_prompt == 0) {
            st = lb_cli_fail(2, "run: the prompt is empty");
            goto out;
        }
    } else if (lb_cli_parse_tokens(o.tokens, &prompt, &n_prompt, &err)) {
        st = lb_cli_fail(2, "run: %s", err.msg);
        goto out;
    }
    int n_vocab = lb_model_n_vocab(m);
    for (int i = 0; i < n_prompt; i++)
        if (prompt[i] >= n_vocab) {
            st = lb_cli_fail(2, "run: token id %d is not below the vocabulary size %d", prompt[i], n_vocab);
            goto out;
        }
    lb_model_info info;
    lb_model_get_info(m, &info);
    lb_ctx_params cp = { .n_ctx = (int)o.n_ctx, .n_seq = 1, .n_batch = 0, .n_threads = (int)o.threads, .flash_attn = o.flash };
    if (cp.n_ctx == 0) {
        long need = n_prompt + o.n_predict;
        cp.n_ctx = (int)(need < info.n_ctx_train ? need : info.n_ctx_train);
        if (cp.n_ctx < n_prompt)
            cp.n_ctx = n_prompt;
    }
    if (n_prompt > cp.n_ctx) {
        st = lb_cli_fail(2, "run: prompt of %d tokens does not fit the context of %d", n_prompt, cp.n_ctx);
        goto out;
    }
    if (lb_ctx_new(m, &cp, &c, &err)) {
        st = lb_cli_fail(1, "run: %s", err.msg);
        goto out;
    }
    gen = malloc(((size_t)o.n_predict + 1) * sizeof *gen);
    int32_t *pos = malloc((size_t)n_prompt * sizeof *pos);
    if (!gen || !pos) {
        free(pos);
        st = lb_cli_fail(1, "run: no memory");
        goto out;
    }
    for (int i = 0; i < n_prompt; i++)
        pos[i] = i;
    uint64_t rng = o.seed >= 0 ? (uint64_t)o.seed * 0x9E3779B97F4A7C15ull + 1 : (uint64_t)time(NULL) | 1;
    int32_t eos = meta_eos(m);
    lb_detok dt;
    if (vocab) {
        lb_detok_init(&dt, vocab, false);
        /* The prompt goes through the detokenizer too (output dropped), so the continuation is
         * spelled as in the whole text (e.g. no SentencePiece space right after BOS). */
        for (int i = 0; i < n_prompt; i++) {
            char scratch[256];
            lb_detok_push(&dt, prompt[i], scratch, sizeof scratch);
        }
        lb_sampling_params sp = lb_sampling_default();
        sp.temperature = o.temp;
        sp.seed = o.seed >= 0 ? (uint64_t)o.seed : (uint64_t)time(NULL);
        if (lb_sampler_new(&sp, n_vocab, &smp, &err)) {
            st = lb_cli_fail(2, "run: %s", err.msg);
            goto out;
        }
    }
    double t0 = lb_cli_now_ms();
    lb_batch b = { .n = n_prompt, .tokens = prompt, .pos = pos };
    int rc = lb_decode(c, &b, &err);
    free(pos);
    double t1 = lb_cli_now_ms(), t_gen0 = t1;
    if (rc) {
        st = lb_cli_fail(1, "run: %s", err.msg);
        goto out;
    }
    while (n_gen < o.n_predict) {
        int32_t tok;
        bool eog;
        if (smp) {
            tok = lb_sampler_sample(smp, lb_get_logits(c, b.n - 1));
            lb_sampler_accept(smp, tok);
            eog = lb_vocab_is_eog(vocab, tok);
        } else
        {
            tok = pick(lb_get_logits(c, b.n - 1), n_vocab, o.temp, &rng);
            eog = tok == eos;
        }
        if (eog && !o.ignore_eos) {
            stop = "eos";
            break;
        }
        gen[n_gen++] = tok;
        char piece[256];
        int np = 0;
        if (vocab)
            np = lb_detok_push(&dt, tok, piece, sizeof piece);
        if (np > 0 && (size_t)np < sizeof piece) {
            if (text_len + (size_t)np + 1 > text_cap) {
                size_t nc = text_cap ? text_cap * 2 : 1024;
                while (nc < text_len + (size_t)np + 1)
                    nc *= 2;
                char *t2 = realloc(text, nc);
                if (!t2) {
                    st = lb_cli_fail(1, "run: no memory");
                    goto out;
                }
                text = t2;
                text_cap = nc;
            }
            memcpy(text + text_len, piece, (size_t)np);
            text_len += (size_t)np;
        }
        if (!o.json) {
            if (vocab)
                fwrite(piece, 1, np > 0 && (size_t)np < sizeof piece ? (size_t)np : 0, stdout);
            else
                printf("%d ", tok);
            fflush(stdout);
        }
        if (n_gen == o.n_predict)
            break;
        int32_t p = n_prompt + n_gen - 1;
        if (p >= lb_ctx_n_ctx(c)) {
            stop = "ctx";
            break;
        }
        b = (lb_batch){ .n = 1, .tokens = &gen[n_gen - 1], .pos = &p };
        if ((rc = lb_decode(c, &b, &err))) {
            st = lb_cli_fail(1, "run: %s", err.msg);
            goto out;
        }
        n_decodes++;
    }
    if (vocab) {
        char piece[64];
        int np = lb_detok_flush(&dt, piece, sizeof piece);
        if (np > 0 && (size_t)np < sizeof piece) {
            char *t2 = realloc(text, text_len + (size_t)np + 1);
            if (t2) {
                text = t2;
                memcpy(text + text_len, piece, (size_t)np);
                text_len += (size_t)np;
            }
            if (!o.json)
                fwrite(piece, 1, (size_t)np, stdout);
        }
    }
    double t2 = lb_cli_now_ms();
    double pp_ms = t1 - t0, tg_ms = t2 - t_gen0;
    if (o.json) {
        lb_jw w;
        lb_jw_init(&w);
        lb_jw_obj_begin(&w);
        lb_jw_key(&w, "prompt_tokens");
        lb_jw_arr_begin(&w);
        for (int i = 0; i < n_prompt; i++)
            lb_jw_int(&w, prompt[i]);
        lb_jw_arr_end(&w);
        lb_jw_key(&w, "tokens");
        lb_jw_arr_begin(&w);
        for (int i = 0; i < n_gen; i++)
            lb_jw_int(&w, gen[i]);
        lb_jw_arr_end(&w);
        lb_jw_key(&w, "text");
        lb_jw_strn(&w, text ? text : "", text_len);
        lb_jw_key(&w, "stop");
        lb_jw_str(&w, stop);
        lb_jw_key(&w, "n_prompt");
        lb_jw_int(&w, n_prompt);
        lb_jw_key(&w, "n_gen");
        lb_jw_int(&w, n_gen);
        lb_jw_key(&w, "load_ms");
        lb_jw_double(&w, info.load_ms);
        lb_jw_key(&w, "prompt_ms");
        lb_jw_double(&w, pp_ms);
        lb_jw_key(&w, "gen_ms");
        lb_jw_double(&w, tg_ms);
        lb_jw_key(&w, "pp_tps");
        lb_jw_double(&w, pp_ms > 0 ? n_prompt / (pp_ms / 1e3) : 0);
        lb_jw_key(&w, "tg_tps");
        lb_jw_double(&w, tg_ms > 0 && n_decodes > 0 ? n_decodes / (tg_ms / 1e3) : 0);
        lb_jw_obj_end(&w);
        if (w.failed) {
            st = lb_cli_fail(1, "run: no memory for JSON output");
        } else {
            fwrite(w.buf, 1, w.len, stdout);
            putchar('\n');
        }
        lb_jw_free(&w);
    } else {
        putchar('\n');
    }
out:
    lb_sampler_free(smp);
    free(text);
    free(prompt);
    free(gen);
    lb_ctx_free(c);
    lb_model_free(m);
    return st;
}
