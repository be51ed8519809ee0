/* The route table. Another module adds an endpoint with one entry here (and its handler). */
#include "api.h"
#include "api_power.h"

const lb_route lb_api_routes[] = {
    /* method  path                      keyed  model  handler */
    { "GET",  "/health",                 false, false, lb_api_health },
    { "GET",  "/metrics",                true,  false, lb_api_metrics },  /* key unless --metrics-open */
    { "GET",  "/v1/models",              true,  true,  lb_api_models },
    { "POST", "/v1/chat/completions",    true,  true,  lb_api_chat_completions },
    { "POST", "/v1/completions",         true,  true,  lb_api_completions },
    { "POST", "/tokenize",               true,  true,  lb_api_tokenize },
    { "POST", "/detokenize",             true,  true,  lb_api_detokenize },
    { "POST", "/v1/system/poweroff",     true,  false, lb_api_poweroff },
    { "POST", "/v1/system/reboot",       true,  false, lb_api_reboot },
    { "GET",  "/v1/system/power",        true,  false, lb_api_power_get },
    { "PUT",  "/v1/system/power",        true,  false, lb_api_power_put },
    { NULL, NULL, false, false, NULL },
};
