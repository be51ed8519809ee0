/* llmbox info: architecture, hyperparameters, tensor types, sizes, weights memory. */
#include <stdio.h>
#include <string.h>

#include "chat.h"
#include "cli.h"
#include "gguf.h"
#include "json.h"
#include "kernels.h"
#include "model.h"
#include "tokenizer.h"
#include "vocab.h"

int lb_cli_info(int argc, char **argv)
{
    const char *path = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
            continue;
        }
        const char *a = argv[i], *v = lb_cli_value(argc, argv, &i);
        if (!v)
            return lb_cli_fail(2, "info: option %s needs a value", a);
        if (!strcmp(a, "-m") || !strcmp(a, "--model"))
            path = v;
        else
            return lb_cli_fail(2, "info: bad option: %s", a);
    }
    if (!path)
        return lb_cli_fail(2, "info: -m FILE is required");
    /* Files without tensors (vocabularies) are shown too: peek first. */
    lb_gguf *g = NULL;
    lb_err err = { 0 };
    int rc = lb_gguf_open(path, &g, &err);
    if (rc)
        return lb_cli_fail(lb_cli_load_status(rc), "%s", err.msg);
    bool vocab_only = lb_gguf_n_tensors(g) == 0;
    lb_gguf_close(g);
    lb_model *m = NULL;
    int st = lb_cli_load(path, vocab_only, &m);
    if (st)
        return st;
    lb_model_info in;
    lb_model_get_info(m, &in);
    g = (lb_gguf *)lb_model_gguf(m);
    int64_t count[LB_TYPE_COUNT] = { 0 };
    for (int64_t i = 0; i < lb_gguf_n_tensors(g); i++)
        count[lb_gguf_tensor_at(g, i)->type]++;
    const char *isa = lb_kernels_init();
    /* Tokenizer and chat template (tok helper): the family, or the ChatML fallback. */
    const lb_vocab *vb = lb_model_vocab(m);
    const char *tmpl = lb_model_meta_str(m, "tokenizer.chat_template");
    bool chat_known = false;
    const char *chat = lb_chat_family_name(lb_chat_detect(tmpl, &chat_known));
    const char *chat_note = chat_known ? "" : tmpl ? " (template not recognised: fallback)" : " (no template: fallback)";
    if (json) {
        lb_jw w;
        lb_jw_init(&w);
        lb_jw_obj_begin(&w);
        lb_jw_key(&w, "file"); lb_jw_str(&w, path);
        lb_jw_key(&w, "file_bytes"); lb_jw_int(&w, (long long)in.file_bytes);
        lb_jw_key(&w, "gguf_version"); lb_jw_int(&w, lb_gguf_version(g));
        lb_jw_key(&w, "name"); lb_jw_str(&w, in.name);
        lb_jw_key(&w, "arch"); lb_jw_str(&w, in.arch);
        lb_jw_key(&w, "vocab_only"); lb_jw_bool(&w, vocab_only);
        lb_jw_key(&w, "n_vocab"); lb_jw_int(&w, in.n_vocab);
        lb_jw_key(&w, "n_ctx_train"); lb_jw_int(&w, in.n_ctx_train);
        lb_jw_key(&w, "n_embd"); lb_jw_int(&w, in.n_embd);
        lb_jw_key(&w, "n_layer"); lb_jw_int(&w, in.n_layer);
        lb_jw_key(&w, "n_head"); lb_jw_int(&w, in.n_head);
        lb_jw_key(&w, "n_head_kv"); lb_jw_int(&w, in.n_head_kv);
        lb_jw_key(&w, "n_ff"); lb_jw_int(&w, in.n_ff);
        lb_jw_key(&w, "rope_freq_base"); lb_jw_double(&w, in.rope_freq_base);
        lb_jw_key(&w, "norm_eps"); lb_jw_double(&w, in.norm_eps);
        lb_jw_key(&w, "n_tensors"); lb_jw_int(&w, lb_gguf_n_tensors(g));
        lb_jw_key(&w, "tensor_types");
        lb_jw_obj_begin(&w);
        for (int t = 0; t < LB_TYPE_COUNT; t++)
            if (count[t]) {
                lb_jw_key(&w, lb_type_name((uint32_t)t));
                lb_jw_int(&w, count[t]);
            }
        lb_jw_obj_end(&w);
        lb_jw_key(&w, "n_params"); lb_jw_int(&w, (long long)in.n_params);
        lb_jw_key(&w, "weight_bytes"); lb_jw_int(&w, (long long)in.weight_bytes);
        lb_jw_key(&w, "weights_memory"); lb_jw_str(&w, in.weights_memory);
        lb_jw_key(&w, "hugepage_bytes"); lb_jw_int(&w, (long long)in.hugepage_bytes);
        lb_jw_key(&w, "repacked_bytes"); lb_jw_int(&w, (long long)in.repacked_bytes);
        lb_jw_key(&w, "load_ms"); lb_jw_double(&w, in.load_ms);
        lb_jw_key(&w, "isa"); lb_jw_str(&w, isa);
        lb_jw_key(&w, "tokenizer"); lb_jw_str(&w, vb ? lb_vocab_model_name(vb) : "none");
        lb_jw_key(&w, "tokenizer_pre"); lb_jw_str(&w, vb ? lb_vocab_pre_name(vb) : "none");
        lb_jw_key(&w, "chat_template"); lb_jw_str(&w, chat);
        lb_jw_key(&w, "chat_template_known"); lb_jw_bool(&w, chat_known);
        lb_jw_obj_end(&w);
        if (!w.failed) {
            fwrite(w.buf, 1, w.len, stdout);
            putchar('\n');
        }
        st = w.failed ? lb_cli_fail(1, "info: no memory") : 0;
        lb_jw_free(&w);
    } else {
        printf("file:            %s (%llu bytes, GGUF v%u)\n", path, (unsigned long long)in.file_bytes, lb_gguf_version(g));
        printf("name:            %s\n", in.name);
        printf("architecture:    %s%s\n", in.arch[0] ? in.arch : "?", vocab_only ? " (vocabulary only)" : "");
        if (!vocab_only) {
            printf("vocab:           %d\n", in.n_vocab);
            printf("context (train): %d\n", in.n_ctx_train);
            printf("embedding:       %d\n", in.n_embd);
            printf("layers:          %d\n", in.n_layer);
            printf("heads (kv):      %d (%d)\n", in.n_head, in.n_head_kv);
            printf("feed-forward:    %d\n", in.n_ff);
            printf("rope freq base:  %g\n", in.rope_freq_base);
            printf("rms norm eps:    %g\n", in.norm_eps);
        }
        printf("tensors:         %lld:", (long long)lb_gguf_n_tensors(g));
        for (int t = 0; t < LB_TYPE_COUNT; t++)
            if (count[t])
                printf(" %s x%lld", lb_type_name((uint32_t)t), (long long)count[t]);
        printf("\n");
        printf("parameters:      %llu\n", (unsigned long long)in.n_params);
        printf("weight bytes:    %llu (%.1f MiB)\n", (unsigned long long)in.weight_bytes, in.weight_bytes / 1048576.0);
        printf("weights memory:  %s (%llu bytes on explicit hugepages)\n", in.weights_memory,
               (unsigned long long)in.hugepage_bytes);
        printf("kernels:         %s (%.1f MiB of weights repacked at load for them)\n", isa,
               in.repacked_bytes / 1048576.0);
        if (vb)
            printf("tokenizer:       %s (pre %s, %d tokens)\n", lb_vocab_model_name(vb), lb_vocab_pre_name(vb),
                   lb_vocab_n_tokens(vb));
        else
            printf("tokenizer:       none\n");
        printf("chat template:   %s%s\n", chat, chat_note);
        printf("load time:       %.1f ms\n", in.load_ms);
    }
    lb_model_free(m);
    return st;
}
