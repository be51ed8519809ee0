/* lb_chat_render against what the real Jinja templates render (tests/data/chat/, made by
 * scripts/gen_chat_expected.py), family detection and the fallback. */
#include "../lib/harness.h"
#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = malloc(1 << 16);
    size_t n = b ? fread(b, 1, (1 << 16) - 1, f) : 0;
    fclose(f);
    if (b)
        b[n] = 0;
    return b;
}

static const struct {
    const char *name;
    lb_chat_family family;
    const char *bos, *eos;
} k_models[] = {
    { "Qwen-Qwen2.5-7B-Instruct", LB_CHAT_QWEN, "", "<|im_end|>" },
    { "google-gemma-2-2b-it", LB_CHAT_GEMMA, "<bos>", "<eos>" },
    { "meta-llama-Llama-3.2-3B-Instruct", LB_CHAT_LLAMA3, "<|begin_of_text|>", "<|eot_id|>" },
    { "microsoft-Phi-3.5-mini-instruct", LB_CHAT_PHI3, "<s>", "<|endoftext|>" },
    { "mistralai-Mistral-Nemo-Instruct-2407", LB_CHAT_MISTRAL, "<s>", "</s>" },
};

/* The conversations of scripts/gen_chat_expected.py. */
static const lb_chat_msg SYS = { "system", "You are a helpful assistant." };
static const lb_chat_msg USER = { "user", " What is 2+2? " };
static const lb_chat_msg ASSIST = { "assistant", "2+2 equals 4.\n" };
static const lb_chat_msg USER2 = { "user", "And 3+3?" };

TEST(render_matches_jinja)
{
    const lb_chat_msg conv_sys[] = { SYS, USER, ASSIST }, conv_nosys[] = { USER, ASSIST },
                      conv_multi[] = { SYS, USER, ASSIST, USER2 }, conv_nogen[] = { SYS, USER };
    const struct {
        const char *name;
        const lb_chat_msg *m;
        int n;
        bool gen;
    } convs[] = { { "sys", conv_sys, 3, true }, { "nosys", conv_nosys, 2, true },
                  { "multi", conv_multi, 4, true }, { "nogen", conv_nogen, 2, false } };
    int compared = 0;
    for (size_t k = 0; k < sizeof k_models / sizeof k_models[0]; k++) {
        char rel[256];
        snprintf(rel, sizeof rel, "testdata/chat-templates/%s.jinja", k_models[k].name);
        char *tmpl = slurp(lb_test_shared(rel));
        CHECK_MSG(tmpl != NULL, "missing %s", rel);
        bool known = false;
        lb_chat_family f = lb_chat_detect(tmpl, &known);
        CHECK_MSG(known && f == k_models[k].family, "%s detected as %s", k_models[k].name,
                  lb_chat_family_name(f));
        free(tmpl);
        for (size_t c = 0; c < sizeof convs / sizeof convs[0]; c++) {
            char path[512];
            snprintf(path, sizeof path, "tests/data/chat/%s.%s.txt", k_models[k].name, convs[c].name);
            char *want = slurp(path);
            if (!want)
                continue;  /* the template refuses this conversation */
            char *got = NULL;
            lb_err err = { 0 };
            int rc = lb_chat_render(k_models[k].family, convs[c].m, convs[c].n, convs[c].gen,
                                    k_models[k].bos, k_models[k].eos, &got, &err);
            CHECK_MSG(rc == 0 && got && strcmp(got, want) == 0, "%s.%s:\n got [%s]\nwant [%s]",
                      k_models[k].name, convs[c].name, got ? got : err.msg, want);
            compared++;
            free(got);
            free(want);
        }
    }
    CHECK_EQ(compared, 17);
}

TEST(detect_other_families_and_fallback)
{
    bool known = true;
    CHECK_EQ(lb_chat_detect("{{ '<|im_start|>' + message['role'] }}", &known), LB_CHAT_CHATML);
    CHECK(known);
    CHECK_EQ(lb_chat_detect("{{ bos_token + '[INST] <<SYS>>\\n' }}", &known), LB_CHAT_LLAMA2);
    CHECK_EQ(lb_chat_detect("{{ '<|user|>\\n' + message['content'] + eos_token }}{{ '<|assistant|>' }}", &known),
             LB_CHAT_ZEPHYR);
    /* Qwen1.5/2: ChatML with a default system prompt (template as the models ship it) */
    const char *qwen2 = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
                        "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
                        "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
                        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    CHECK_EQ(lb_chat_detect(qwen2, &known), LB_CHAT_QWEN2);
    const lb_chat_msg u[] = { { "user", "Hi" } };
    char *got = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_chat_render(LB_CHAT_QWEN2, u, 1, true, "", "", &got, &err), 0);
    CHECK_STR(got, "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                   "<|im_start|>assistant\n");
    free(got);
    /* Mistral 7B v0.1/v0.2 (spaces inside [INST] ... [/INST]) */
    const char *mv1 = "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
                      "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
                      "{{ message['content'] + eos_token}}{% endif %}{% endfor %}";
    CHECK_EQ(lb_chat_detect(mv1, &known), LB_CHAT_MISTRAL_V1);
    const lb_chat_msg ua[] = { { "user", "Hi" }, { "assistant", "Hello" }, { "user", "Bye" } };
    CHECK_EQ(lb_chat_render(LB_CHAT_MISTRAL_V1, ua, 3, true, "<s>", "</s>", &got, &err), 0);
    CHECK_STR(got, "<s>[INST] Hi [/INST]Hello</s>[INST] Bye [/INST]");
    free(got);
    /* Llama 3.0's template (no dates header) vs 3.1+ */
    CHECK_EQ(lb_chat_detect("{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' %}", &known),
             LB_CHAT_LLAMA3_0);
    CHECK_EQ(lb_chat_detect("<|start_header_id|><|end_header_id|>Cutting Knowledge Date: December 2023", &known),
             LB_CHAT_LLAMA3);
    CHECK_EQ(lb_chat_detect("{{'<\xef\xbd\x9cUser\xef\xbd\x9c>' + message['content']}}", &known), LB_CHAT_DEEPSEEK);
    CHECK_EQ(lb_chat_detect("{% for m in messages %}{{ m.content }}{% endfor %}", &known), LB_CHAT_CHATML);
    CHECK(!known);
    CHECK_EQ(lb_chat_detect(NULL, &known), LB_CHAT_CHATML);
    CHECK(!known);
    CHECK_STR(lb_chat_family_name(LB_CHAT_GEMMA), "gemma");
    CHECK_STR(lb_chat_family_name(LB_CHAT_CHATML), "chatml");
}

TEST(render_other_families)
{
    const lb_chat_msg m[] = { { "system", "Be brief." }, { "user", "Hi" }, { "assistant", "Hello" },
                              { "user", "Bye" } };
    struct {
        lb_chat_family f;
        const char *want;
    } cases[] = {
        { LB_CHAT_CHATML, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                          "<|im_start|>assistant\nHello<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n"
                          "<|im_start|>assistant\n" },
        { LB_CHAT_LLAMA2, "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello </s><s>[INST] Bye [/INST]" },
        { LB_CHAT_LLAMA3_0, "<s><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                            "<|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>"
                            "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>"
                            "<|start_header_id|>assistant<|end_header_id|>\n\n" },
        { LB_CHAT_ZEPHYR, "<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\nHello</s>\n"
                          "<|user|>\nBye</s>\n<|assistant|>\n" },
        { LB_CHAT_GEMMA, "<s><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n"
                         "Hello<end_of_turn>\n<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n" },
        { LB_CHAT_DEEPSEEK, "<s>Be brief.<\xef\xbd\x9cUser\xef\xbd\x9c>Hi<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>Hello"
                            "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c><\xef\xbd\x9cUser\xef\xbd\x9c>Bye"
                            "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = NULL;
        lb_err err = { 0 };
        CHECK_EQ(lb_chat_render(cases[i].f, m, 4, true, "<s>", "</s>", &got, &err), 0);
        CHECK_STR(got, cases[i].want);
        free(got);
    }
    char *got = NULL;
    lb_err err = { 0 };
    CHECK_EQ(lb_chat_render(LB_CHAT_QWEN, NULL, 0, true, NULL, NULL, &got, &err), 0);
    CHECK(got && strstr(got, "You are Qwen") != NULL);
    free(got);
    CHECK_EQ(lb_chat_render(LB_CHAT_CHATML, NULL, -1, true, NULL, NULL, &got, &err), LB_EINVAL);
}
