/* Fuzzes the validation of completion request bodies (JSON text -> generation parameters):
 * whatever the body, the validator either accepts with values in range or names a parameter. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api_params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lb_json_doc *doc = NULL;
    lb_err err = { 0 };
    if (lb_json_parse((const char *)data, size, NULL, &doc, &err) != LB_OK)
        return 0;
    lb_sampling_params d = { .temperature = 0.8f, .top_p = 1.0f };
    for (int chat = 0; chat < 2; chat++) {
        lb_gen_params p;
        lb_param_error e;
        if (lb_gen_params_parse(lb_json_root(doc), chat, 512, 4, &d, &p, &e)) {
            if (!(p.sp.temperature >= 0 && p.sp.temperature <= 2) || p.n_stops > 4 || p.sp.n_bias > LB_MAX_BIAS ||
                (p.max_tokens != -1 && p.max_tokens < 1))
                abort();
            for (int i = 0; i < p.sp.n_bias; i++)
                if (p.sp.bias[i].token < 0 || p.sp.bias[i].token >= 512)
                    abort();
            for (int i = 0; i < p.n_prompt_tokens; i++)
                if (p.prompt_tokens[i] < 0 || p.prompt_tokens[i] >= 512)
                    abort();
            for (int i = 0; i < p.n_msgs; i++)
                if (!p.msgs[i].content || !p.msgs[i].role)
                    abort();
            if (!chat && !p.prompt && !p.prompt_tokens)
                abort();
        } else if (!e.param[0] || !e.msg[0]) {
            abort();
        }
        lb_gen_params_free(&p);
    }
    lb_json_free(doc);
    return 0;
}
