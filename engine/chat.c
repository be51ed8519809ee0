/* Chat templates: detection of the family from the Jinja source and renderers that
 * reproduce, byte for byte, what each family's reference template renders for plain
 * system/user/assistant conversations (no tools). */
#include "chat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "unicode.h"

static const char k_qwen_default_system[] =
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
static const char k_qwen2_default_system[] = "You are a helpful assistant.";

lb_chat_family lb_chat_detect(const char *t, bool *known)
{
    bool k = true;
    lb_chat_family f = LB_CHAT_CHATML;
    if (!t || !*t) {
        k = false;
    } else if (strstr(t, "<|im_start|>")) {
        f = strstr(t, "You are Qwen") ? LB_CHAT_QWEN
            : strstr(t, "<|im_start|>system\\nYou are a helpful assistant.<|im_end|>") ||
                      strstr(t, "<|im_start|>system\nYou are a helpful assistant.<|im_end|>")
                ? LB_CHAT_QWEN2 : LB_CHAT_CHATML;
    } else if (strstr(t, "<|start_header_id|>") && strstr(t, "<|end_header_id|>")) {
        /* 3.1+ templates always open with the knowledge/today dates header; 3.0 does not. */
        f = strstr(t, "Cutting Knowledge Date") ? LB_CHAT_LLAMA3 : LB_CHAT_LLAMA3_0;
    } else if (strstr(t, "<start_of_turn>")) {
        f = LB_CHAT_GEMMA;
    } else if (strstr(t, "<|assistant|>") && strstr(t, "<|end|>")) {
        f = LB_CHAT_PHI3;
    } else if (strstr(t, "<|user|>") && strstr(t, "<|assistant|>")) {
        f = LB_CHAT_ZEPHYR;
    } else if (strstr(t, "\xef\xbd\x9cUser\xef\xbd\x9c")) {  /* <｜User｜> */
        f = LB_CHAT_DEEPSEEK;
    } else if (strstr(t, "[INST]")) {
        f = strstr(t, "<<SYS>>") ? LB_CHAT_LLAMA2
            : strstr(t, "' [/INST]'") ? LB_CHAT_MISTRAL_V1 : LB_CHAT_MISTRAL;
    } else {
        k = false;
    }
    if (!k)
        LOG_WARN("chat: %s, using ChatML", t && *t ? "unrecognised chat template" : "no chat template");
    if (known)
        *known = k;
    return f;
}

const char *lb_chat_family_name(lb_chat_family f)
{
    switch (f) {
    case LB_CHAT_CHATML: return "chatml";
    case LB_CHAT_LLAMA2: return "llama2";
    case LB_CHAT_LLAMA3: return "llama3";
    case LB_CHAT_MISTRAL: return "mistral";
    case LB_CHAT_PHI3: return "phi3";
    case LB_CHAT_GEMMA: return "gemma";
    case LB_CHAT_ZEPHYR: return "zephyr";
    case LB_CHAT_DEEPSEEK: return "deepseek";
    case LB_CHAT_QWEN: return "qwen";
    case LB_CHAT_LLAMA3_0: return "llama3.0";
    case LB_CHAT_QWEN2: return "qwen2";
    case LB_CHAT_MISTRAL_V1: return "mistral-v1";
    }
    return "unknown";
}

/* ---- output buffer ---- */

typedef struct sbuf {
    char *b;
    size_t n, cap;
    bool oom;
} sbuf;

static void put(sbuf *s, const char *p, size_t n)
{
    if (s->oom)
        return;
    if (s->n + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->n + n + 1)
            cap *= 2;
        char *b = realloc(s->b, cap);
        if (!b) {
            s->oom = true;
            return;
        }
        s->b = b, s->cap = cap;
    }
    memcpy(s->b + s->n, p, n);
    s->n += n;
    s->b[s->n] = 0;
}

static void puts_(sbuf *s, const char *p) { put(s, p, strlen(p)); }

/* Jinja's trim / Python's str.strip(): Unicode whitespace (plus \x1c-\x1f) at both ends. */
static bool strip_space(uint32_t cp) { return lb_unicode_is_space(cp) || (cp >= 0x1c && cp <= 0x1f); }

static void put_trimmed(sbuf *s, const char *p)
{
    size_t n = strlen(p), a = 0, b = n;
    while (a < n) {
        size_t i = a;
        if (!strip_space(lb_utf8_decode(p, n, &i)))
            break;
        a = i;
    }
    while (b > a) {  /* scan back to the start of the last character */
        size_t start = b - 1;
        while (start > a && ((unsigned char)p[start] & 0xC0) == 0x80)
            start--;
        size_t i = start;
        if (!strip_space(lb_utf8_decode(p, b, &i)) || i != b)
            break;
        b = start;
    }
    put(s, p + a, b - a);
}

static bool is(const lb_chat_msg *m, const char *role) { return m->role && strcmp(m->role, role) == 0; }
static const char *content(const lb_chat_msg *m) { return m->content ? m->content : ""; }

/* ---- families ---- */

static void render_chatml(sbuf *s, const lb_chat_msg *m, int n, bool gen, const char *default_system)
{
    if (default_system && (n == 0 || !is(&m[0], "system"))) {
        puts_(s, "<|im_start|>system\n");
        puts_(s, default_system);
        puts_(s, "<|im_end|>\n");
    }
    for (int i = 0; i < n; i++) {
        puts_(s, "<|im_start|>");
        puts_(s, m[i].role ? m[i].role : "user");
        puts_(s, "\n");
        puts_(s, content(&m[i]));
        puts_(s, "<|im_end|>\n");
    }
    if (gen)
        puts_(s, "<|im_start|>assistant\n");
}

/* Llama 3.1+ (3.1, 3.2, 3.3): the system header always carries the knowledge/today dates. */
static void render_llama3(sbuf *s, const lb_chat_msg *m, int n, bool gen, const char *bos)
{
    puts_(s, bos);
    puts_(s, "<|start_header_id|>system<|end_header_id|>\n\n"
             "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n");
    int i = 0;
    if (n > 0 && is(&m[0], "system")) {
        put_trimmed(s, content(&m[0]));
        i = 1;
    }
    puts_(s, "<|eot_id|>");
    for (; i < n; i++) {
        puts_(s, "<|start_header_id|>");
        puts_(s, m[i].role ? m[i].role : "user");
        puts_(s, "<|end_header_id|>\n\n");
        put_trimmed(s, content(&m[i]));
        puts_(s, "<|eot_id|>");
    }
    if (gen)
        puts_(s, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

/* Llama 3.0: every message (system included) as a header block; BOS before the first. */
static void render_llama3_0(sbuf *s, const lb_chat_msg *m, int n, bool gen, const char *bos)
{
    for (int i = 0; i < n; i++) {
        if (i == 0)
            puts_(s, bos);
        puts_(s, "<|start_header_id|>");
        puts_(s, m[i].role ? m[i].role : "user");
        puts_(s, "<|end_header_id|>\n\n");
        put_trimmed(s, content(&m[i]));
        puts_(s, "<|eot_id|>");
    }
    if (gen)
        puts_(s, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

/* Gemma has no system role: its text opens the first user turn (as llama.cpp does). */
static void render_gemma(sbuf *s, const lb_chat_msg *m, int n, bool gen, const char *bos)
{
    puts_(s, bos);
    const char *system = NULL;
    for (int i = 0; i < n; i++) {
        if (is(&m[i], "system")) {
            system = content(&m[i]);
            continue;
        }
        puts_(s, "<start_of_turn>");
        puts_(s, is(&m[i], "assistant") ? "model" : m[i].role ? m[i].role : "user");
        puts_(s, "\n");
        if (system && is(&m[i], "user")) {
            put_trimmed(s, system);
            puts_(s, "\n\n");
            system = NULL;
        }
        put_trimmed(s, content(&m[i]));
        puts_(s, "<end_of_turn>\n");
    }
    if (gen)
        puts_(s, "<start_of_turn>model\n");
}

static void render_phi3(sbuf *s, const lb_chat_msg *m, int n, bool gen, const char *eos)
{
    for (int i = 0; i < n; i++) {
        const char *tag = is(&m[i], "system") ? (*content(&m[i]) ? "<|system|>\n" : NULL)
                          : is(&m[i], "user") ? "<|user|>\n"
                          : is(&m[i], "assistant") ? "<|assistant|>\n" : NULL;
        if (!tag)
            continue;
        puts_(s, tag);
        puts_(s, content(&m[i]));
        puts_(s, "<|end|>\n");
    }
    puts_(s, gen ? "<|assistant|>\n" : eos);
}

static void render_zephyr(sbuf *s, const lb_chat_msg *m, int n, bool gen, const char *eos)
{
    for (int i = 0; i < n; i++) {
        const char *tag = is(&m[i], "system") ? "<|system|>\n"
                          : is(&m[i], "assistant") ? "<|assistant|>\n" : "<|user|>\n";
        puts_(s, tag);
        puts_(s, content(&m[i]));
        puts_(s, eos);
        puts_(s, "\n");
    }
    if (gen && n > 0)
        puts_(s, "<|assistant|>\n");
}

/* Mistral (v3-tekken / Nemo spelling): the system text is put in front of the last message
 * when that message is the user's; assistant turns end with EOS; no generation prompt. */
static void render_mistral(sbuf *s, const lb_chat_msg *m, int n, const char *bos, const char *eos)
{
    const char *system = NULL;
    int i = 0;
    if (n > 0 && is(&m[0], "system")) {
        system = content(&m[0]);
        i = 1;
    }
    puts_(s, bos);
    for (; i < n; i++) {
        if (is(&m[i], "user")) {
            puts_(s, "[INST]");
            if (system && i == n - 1) {
                puts_(s, system);
                puts_(s, "\n\n");
            }
            puts_(s, content(&m[i]));
            puts_(s, "[/INST]");
        } else if (is(&m[i], "assistant")) {
            puts_(s, content(&m[i]));
            puts_(s, eos);
        }
    }
}

/* Mistral 7B v0.1/v0.2: "[INST] user [/INST]assistant</s>"; the template has no system
 * role, so its text opens the first user turn. */
static void render_mistral_v1(sbuf *s, const lb_chat_msg *m, int n, const char *bos, const char *eos)
{
    const char *system = NULL;
    puts_(s, bos);
    for (int i = 0; i < n; i++) {
        if (is(&m[i], "system")) {
            system = content(&m[i]);
        } else if (is(&m[i], "user")) {
            puts_(s, "[INST] ");
            if (system) {
                puts_(s, system);
                puts_(s, "\n\n");
                system = NULL;
            }
            puts_(s, content(&m[i]));
            puts_(s, " [/INST]");
        } else if (is(&m[i], "assistant")) {
            puts_(s, content(&m[i]));
            puts_(s, eos);
        }
    }
}

/* Llama 2 chat: <<SYS>> block inside the first [INST]; BOS before each user turn. */
static void render_llama2(sbuf *s, const lb_chat_msg *m, int n, const char *bos, const char *eos)
{
    const char *system = NULL;
    int i = 0;
    if (n > 0 && is(&m[0], "system")) {
        system = content(&m[0]);
        i = 1;
    }
    for (int k = 0; i < n; i++, k++) {
        sbuf c = { 0 };
        if (k == 0 && system) {
            puts_(&c, "<<SYS>>\n");
            puts_(&c, system);
            puts_(&c, "\n<</SYS>>\n\n");
        }
        puts_(&c, content(&m[i]));
        if (c.oom) {
            s->oom = true;
            free(c.b);
            return;
        }
        if (is(&m[i], "user")) {
            puts_(s, bos);
            puts_(s, "[INST] ");
            put_trimmed(s, c.b);
            puts_(s, " [/INST]");
        } else if (is(&m[i], "assistant")) {
            puts_(s, " ");
            put_trimmed(s, c.b);
            puts_(s, " ");
            puts_(s, eos);
        }
        free(c.b);
    }
}

/* DeepSeek V3 / R1: system texts first, then <｜User｜> / <｜Assistant｜> turns. */
static void render_deepseek(sbuf *s, const lb_chat_msg *m, int n, bool gen, const char *bos)
{
    puts_(s, bos);
    for (int i = 0; i < n; i++)
        if (is(&m[i], "system"))
            puts_(s, content(&m[i]));
    for (int i = 0; i < n; i++) {
        if (is(&m[i], "user")) {
            puts_(s, "<\xef\xbd\x9cUser\xef\xbd\x9c>");
            puts_(s, content(&m[i]));
        } else if (is(&m[i], "assistant")) {
            puts_(s, "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>");
            puts_(s, content(&m[i]));
            puts_(s, "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>");
        }
    }
    if (gen)
        puts_(s, "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>");
}

int lb_chat_render(lb_chat_family f, const lb_chat_msg *msgs, int n, bool gen, const char *bos,
                   const char *eos, char **out, lb_err *err)
{
    *out = NULL;
    if (n < 0 || (n > 0 && !msgs))
        return lb_err_set(err, LB_EINVAL, "chat: bad message list");
    bos = bos ? bos : "";
    eos = eos ? eos : "";
    sbuf s = { 0 };
    puts_(&s, "");  /* an empty conversation still gives a valid string */
    switch (f) {
    case LB_CHAT_QWEN: render_chatml(&s, msgs, n, gen, k_qwen_default_system); break;
    case LB_CHAT_QWEN2: /* its template adds the default inside the message loop */
        render_chatml(&s, msgs, n, gen, n > 0 ? k_qwen2_default_system : NULL);
        break;
    case LB_CHAT_LLAMA3: render_llama3(&s, msgs, n, gen, bos); break;
    case LB_CHAT_LLAMA3_0: render_llama3_0(&s, msgs, n, gen, bos); break;
    case LB_CHAT_GEMMA: render_gemma(&s, msgs, n, gen, bos); break;
    case LB_CHAT_PHI3: render_phi3(&s, msgs, n, gen, eos); break;
    case LB_CHAT_ZEPHYR: render_zephyr(&s, msgs, n, gen, eos); break;
    case LB_CHAT_MISTRAL: render_mistral(&s, msgs, n, bos, eos); break;
    case LB_CHAT_MISTRAL_V1: render_mistral_v1(&s, msgs, n, bos, eos); break;
    case LB_CHAT_LLAMA2: render_llama2(&s, msgs, n, bos, eos); break;
    case LB_CHAT_DEEPSEEK: render_deepseek(&s, msgs, n, gen, bos); break;
    case LB_CHAT_CHATML:
    default: render_chatml(&s, msgs, n, gen, NULL); break;
    }
    if (s.oom) {
        free(s.b);
        return lb_err_set(err, LB_ENOMEM, "chat: out of memory");
    }
    *out = s.b;
    return LB_OK;
}
