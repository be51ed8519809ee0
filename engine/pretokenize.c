/* The pre-tokenizer table: which regexes each tokenizer.ggml.pre name uses. The patterns are
 * those the models' own tokenizer definitions declare. */
#include "pretokenize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define MAX_REGEX 6

/* GPT-2's pattern, used alone or after other splits by many families. */
#define RE_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define RE_LLAMA3 "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_QWEN2 "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_CJK "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+"
#define RE_BLOOM " ?[^(\\s|.,!?\u2026\u3002\uff0c\u3001\u0964\u06d4\u060c)]+"

typedef struct pretok_def {
    const char *names[12];
    const char *regex[MAX_REGEX];
    bool ignore_merges, add_bos;
} pretok_def;

static const pretok_def k_defs[] = {
    { { "default", "" },
      { "[\\p{P}\\$\\+<=>\\^~\\|]+", RE_GPT2, "\\p{N}+", "[0-9][0-9][0-9]" }, false, false },
    { { "llama3", "llama-v3", "llama-bpe", "falcon3" }, { RE_LLAMA3 }, true, true },
    { { "dbrx", "smaug-bpe", "chatglm-bpe" }, { RE_LLAMA3 }, false, false },
    { { "gpt-2", "gpt2", "mpt", "olmo", "jais", "gpt-neox", "phi-2", "jina-es", "jina-de",
        "gigachat", "jina-v1-en", "roberta-bpe" },
      { RE_GPT2 }, false, false },
    { { "jina-v2-es", "jina-v2-de", "jina-v2-code", "trillion" }, { RE_GPT2 }, false, false },
    { { "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b" },
      { "\\p{N}", RE_GPT2 }, false, false },
    { { "qwen2", "deepseek-r1-qwen", "stablelm2", "megrez", "hunyuan" }, { RE_QWEN2 }, false, false },
    { { "falcon" },
      { "[\\p{P}\\$\\+<=>\\^~\\|`]+", RE_GPT2, "[0-9][0-9][0-9]" }, false, false },
    { { "deepseek-llm" },
      { "[\\r\\n]",
        "\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af"
        "\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5"
        "\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba"
        "\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45"
        "\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe"
        "\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc"
        "\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134"
        "\u2139\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee"
        "\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf"
        "\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3"
        "\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-\U00010cf2\U000118a0-\U000118df"
        "\U0001e900-\U0001e943]+",
        "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+",
        "\\s+$", RE_CJK, "\\p{N}+" },
      false, false },
    { { "deepseek-coder" },
      { "[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", RE_CJK, "\\p{N}" }, false, false },
    { { "deepseek-v3" },
      { "\\p{N}{1,3}", "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" },
      false, false },
    { { "tekken" },
      { "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}|[^\\r\\n\\p{L}\\p{N}]?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" },
      true, true },
    { { "bloom", "poro-chat", "gpt3-finnish" }, { RE_BLOOM }, false, false },
    { { "viking" }, { RE_BLOOM, "\\p{N}" }, false, false },
};

struct lb_pretok {
    const pretok_def *def;
    char name[64];
    int n_re;
    lb_re *re[MAX_REGEX];
};

static const pretok_def *find_def(const char *name)
{
    for (size_t i = 0; i < sizeof k_defs / sizeof k_defs[0]; i++)
        for (int j = 0; j < 12 && k_defs[i].names[j]; j++)
            if (strcmp(k_defs[i].names[j], name) == 0)
                return &k_defs[i];
    return NULL;
}

int lb_pretok_new(const char *name, lb_pretok **out, bool *known, lb_err *err)
{
    *out = NULL;
    if (!name)
        name = "";
    const pretok_def *def = find_def(name);
    if (known)
        *known = def != NULL;
    if (!def) {
        LOG_WARN("tokenizer: unknown pre-tokenizer \"%.40s\", using the default one: "
                 "tokenization may differ from the model's", name);
        def = &k_defs[0];
    }
    lb_pretok *p = calloc(1, sizeof *p);
    if (!p)
        return lb_err_set(err, LB_ENOMEM, "pre-tokenizer: out of memory");
    p->def = def;
    snprintf(p->name, sizeof p->name, "%s", def == &k_defs[0] && !*name ? "default" : name);
    for (int i = 0; i < MAX_REGEX && def->regex[i]; i++) {
        int rc = lb_re_compile(def->regex[i], &p->re[i], err);
        if (rc < 0) {
            lb_pretok_free(p);
            return lb_err_wrap(err, rc, "pre-tokenizer %s", def->names[0]);
        }
        p->n_re++;
    }
    *out = p;
    return LB_OK;
}

void lb_pretok_free(lb_pretok *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n_re; i++)
        lb_re_free(p->re[i]);
    free(p);
}

const char *lb_pretok_name(const lb_pretok *p) { return p->name; }
bool lb_pretok_ignore_merges(const lb_pretok *p) { return p->def->ignore_merges; }
bool lb_pretok_add_bos(const lb_pretok *p) { return p->def->add_bos; }

int lb_pretok_patterns(const lb_pretok *p, const char *const **out)
{
    *out = p->def->regex;
    return p->n_re;
}

static int span_push(lb_span **a, size_t *n, size_t *cap, uint32_t start, uint32_t len)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        lb_span *s = realloc(*a, c * sizeof *s);
        if (!s)
            return -1;
        *a = s, *cap = c;
    }
    (*a)[(*n)++] = (lb_span){ start, len };
    return 0;
}

int lb_pretok_split(const lb_pretok *p, const uint32_t *cps, size_t n, lb_pretok_scratch *sc,
                    const lb_span **words, size_t *n_words, lb_err *err)
{
    size_t na = 0;
    if (n > UINT32_MAX / 2)
        return lb_err_set(err, LB_ELIMIT, "pre-tokenizer: text too long");
    if (n > 0 && span_push(&sc->a, &na, &sc->cap_a, 0, (uint32_t)n) < 0)
        goto nomem;
    for (int r = 0; r < p->n_re; r++) {
        size_t nb = 0;
        for (size_t f = 0; f < na; f++) {
            size_t begin = sc->a[f].start, end = begin + sc->a[f].len;
            size_t pos = begin, gap = begin;
            while (pos < end) {
                long m = lb_re_match_at(p->re[r], cps, begin, end, pos, &sc->st);
                if (m == -2)
                    goto nomem;
                if (m > (long)pos) {
                    if (gap < pos && span_push(&sc->b, &nb, &sc->cap_b, (uint32_t)gap, (uint32_t)(pos - gap)) < 0)
                        goto nomem;
                    if (span_push(&sc->b, &nb, &sc->cap_b, (uint32_t)pos, (uint32_t)(m - (long)pos)) < 0)
                        goto nomem;
                    pos = gap = (size_t)m;
                } else {
                    pos++;
                }
            }
            if (gap < end && span_push(&sc->b, &nb, &sc->cap_b, (uint32_t)gap, (uint32_t)(end - gap)) < 0)
                goto nomem;
        }
        lb_span *t = sc->a;
        size_t tc = sc->cap_a;
        sc->a = sc->b, sc->cap_a = sc->cap_b;
        sc->b = t, sc->cap_b = tc;
        na = nb;
    }
    *words = sc->a;
    *n_words = na;
    return LB_OK;
nomem:
    return lb_err_set(err, LB_ENOMEM, "pre-tokenizer: out of memory");
}

void lb_pretok_scratch_free(lb_pretok_scratch *sc)
{
    lb_re_stack_free(&sc->st);
    free(sc->a);
    free(sc->b);
    memset(sc, 0, sizeof *sc);
}
