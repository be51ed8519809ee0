#include "../lib/harness.h"
#include "api_params.h"

#include <math.h>

static lb_sampling_params defaults(void)
{
    lb_sampling_params sp = { 0 };
    sp.temperature = 0.8f;
    sp.top_k = 40;
    sp.top_p = 0.95f;
    return sp;
}

/* Parses body; returns true on success, leaves the error in *e. */
static bool parse(const char *body, bool chat, lb_gen_params *p, lb_param_error *e, lb_json_doc **doc)
{
    lb_err err = { 0 };
    *doc = NULL;
    if (lb_json_parse(body, strlen(body), NULL, doc, &err) != LB_OK)
        return false;
    lb_sampling_params d = defaults();
    return lb_gen_params_parse(lb_json_root(*doc), chat, 512, 4, &d, p, e);
}

#define EXPECT_BAD(body, chat, param_)                                                          \
    do {                                                                                        \
        lb_gen_params p_;                                                                       \
        lb_param_error e_;                                                                      \
        lb_json_doc *d_;                                                                        \
        CHECK_MSG(!parse(body, chat, &p_, &e_, &d_), "accepted: %s", body);                     \
        CHECK_STR(e_.param, param_);                                                            \
        CHECK(e_.msg[0] != 0);                                                                  \
        lb_gen_params_free(&p_);                                                                \
        lb_json_free(d_);                                                                       \
    } while (0)

TEST(chat_request_with_all_parameters)
{
    lb_gen_params p;
    lb_param_error e;
    lb_json_doc *doc;
    const char *body = "{\"model\":\"m\",\"messages\":[{\"role\":\"developer\",\"content\":\"be brief\"},"
                       "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi \"},{\"type\":\"text\",\"text\":\"there\"}]},"
                       "{\"role\":\"assistant\",\"content\":null}],"
                       "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"max_tokens\":50,"
                       "\"max_completion_tokens\":20,\"temperature\":0,\"top_p\":0.5,\"top_k\":3,\"min_p\":0.1,"
                       "\"seed\":42,\"stop\":[\"\\n\\n\",\"END\"],\"presence_penalty\":0.5,\"frequency_penalty\":-1,"
                       "\"logit_bias\":{\"13\":-100,\"7\":2.5},\"n\":1,\"user\":\"ignored\"}";
    CHECK(parse(body, true, &p, &e, &doc));
    CHECK_STR(p.model, "m");
    CHECK_EQ(p.n_msgs, 3);
    CHECK_STR(p.msgs[0].role, "system");
    CHECK_STR(p.msgs[1].content, "Hi there");
    CHECK_STR(p.msgs[2].content, "");
    CHECK(p.stream && p.include_usage);
    CHECK_EQ(p.max_tokens, 20);
    CHECK_NEAR(p.sp.temperature, 0, 1e-6);
    CHECK_NEAR(p.sp.top_p, 0.5, 1e-6);
    CHECK_EQ(p.sp.top_k, 3);
    CHECK_NEAR(p.sp.min_p, 0.1, 1e-6);
    CHECK(p.has_seed);
    CHECK_EQ(p.sp.seed, 42);
    CHECK_EQ(p.n_stops, 2);
    CHECK_STR(p.stops[1], "END");
    CHECK_NEAR(p.sp.presence_penalty, 0.5, 1e-6);
    CHECK_NEAR(p.sp.frequency_penalty, -1, 1e-6);
    CHECK_EQ(p.sp.n_bias, 2);
    CHECK_EQ(p.sp.bias[0].token, 13);
    CHECK(isinf(p.sp.bias[0].bias) && p.sp.bias[0].bias < 0);
    CHECK_NEAR(p.sp.bias[1].bias, 2.5, 1e-6);
    lb_gen_params_free(&p);
    lb_json_free(doc);
}

TEST(defaults_apply_when_fields_are_absent)
{
    lb_gen_params p;
    lb_param_error e;
    lb_json_doc *doc;
    CHECK(parse("{\"prompt\":\"Once\",\"stop\":\"x\"}", false, &p, &e, &doc));
    CHECK_STR(p.prompt, "Once");
    CHECK_EQ(p.max_tokens, -1);
    CHECK(!p.stream && !p.has_seed);
    CHECK_NEAR(p.sp.temperature, 0.8, 1e-6);
    CHECK_EQ(p.sp.top_k, 40);
    CHECK_EQ(p.n_stops, 1);
    CHECK(p.model == NULL);
    lb_gen_params_free(&p);
    lb_json_free(doc);
    CHECK(parse("{\"prompt\":[1,2,3]}", false, &p, &e, &doc));
    CHECK_EQ(p.n_prompt_tokens, 3);
    CHECK_EQ(p.prompt_tokens[2], 3);
    lb_gen_params_free(&p);
    lb_json_free(doc);
    CHECK(parse("{\"prompt\":[\"one\"]}", false, &p, &e, &doc));
    CHECK_STR(p.prompt, "one");
    lb_gen_params_free(&p);
    lb_json_free(doc);
}

TEST(bad_requests_name_the_parameter)
{
    EXPECT_BAD("{}", true, "messages");
    EXPECT_BAD("{\"messages\":[]}", true, "messages");
    EXPECT_BAD("{\"messages\":\"hi\"}", true, "messages");
    EXPECT_BAD("{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", true, "messages[0].role");
    EXPECT_BAD("{\"messages\":[{\"role\":\"user\",\"content\":5}]}", true, "messages[0].content");
    EXPECT_BAD("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", true, "messages[0].content");
    EXPECT_BAD("{\"model\":5,\"prompt\":\"x\"}", false, "model");
    EXPECT_BAD("{\"prompt\":5}", false, "prompt");
    EXPECT_BAD("{\"prompt\":[\"a\",\"b\"]}", false, "prompt");
    EXPECT_BAD("{\"prompt\":[1,9999]}", false, "prompt");
    EXPECT_BAD("{\"prompt\":\"x\",\"temperature\":\"hot\"}", false, "temperature");
    EXPECT_BAD("{\"prompt\":\"x\",\"temperature\":3}", false, "temperature");
    EXPECT_BAD("{\"prompt\":\"x\",\"top_p\":1.5}", false, "top_p");
    EXPECT_BAD("{\"prompt\":\"x\",\"max_tokens\":0}", false, "max_tokens");
    EXPECT_BAD("{\"prompt\":\"x\",\"max_tokens\":1.5}", false, "max_tokens");
    EXPECT_BAD("{\"prompt\":\"x\",\"max_completion_tokens\":\"9\"}", false, "max_completion_tokens");
    EXPECT_BAD("{\"prompt\":\"x\",\"n\":2}", false, "n");
    EXPECT_BAD("{\"prompt\":\"x\",\"stream\":\"yes\"}", false, "stream");
    EXPECT_BAD("{\"prompt\":\"x\",\"stream_options\":{\"include_usage\":1}}", false, "include_usage");
    EXPECT_BAD("{\"prompt\":\"x\",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", false, "stop");
    EXPECT_BAD("{\"prompt\":\"x\",\"stop\":[1]}", false, "stop");
    EXPECT_BAD("{\"prompt\":\"x\",\"logit_bias\":{\"abc\":1}}", false, "logit_bias");
    EXPECT_BAD("{\"prompt\":\"x\",\"logit_bias\":{\"600\":1}}", false, "logit_bias");
    EXPECT_BAD("{\"prompt\":\"x\",\"logit_bias\":{\"5\":101}}", false, "logit_bias");
    EXPECT_BAD("{\"prompt\":\"x\",\"presence_penalty\":-3}", false, "presence_penalty");
    EXPECT_BAD("{\"prompt\":\"x\",\"seed\":\"s\"}", false, "seed");
    EXPECT_BAD("{\"prompt\":\"x\",\"top_k\":-1}", false, "top_k");
}
