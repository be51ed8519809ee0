/* POST /v1/system/poweroff and /v1/system/reboot: ask our /init (PID 1) to stop the machine.
 * Convention with init: SIGUSR2 = power off, SIGTERM = reboot. Only when llmboxd was started
 * by our init (parent is PID 1 and LLMBOX_INIT=1 in the environment); otherwise 409, so a
 * llmboxd run on a workstation never signals the host's init. */
#include "api.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

bool lb_api_detect_init(void)
{
    const char *e = getenv("LLMBOX_INIT");
    return getppid() == 1 && e && strcmp(e, "1") == 0;
}

static void power(lb_api_call *call, const char *what, int sig)
{
    lb_api *api = call->api;
    if (!api->under_init) {
        lb_api_error(call, 409, "invalid_request_error", NULL, "not_under_init",
                     "%s is only available when llmboxd runs under the llmbox init (PID 1)", what);
        return;
    }
    lb_jw w;
    lb_jw_init(&w);
    lb_jw_obj_begin(&w);
    lb_jw_key(&w, "status");
    lb_jw_str(&w, what);
    lb_jw_obj_end(&w);
    lb_api_json(call, 202, &w);  /* answer first: the machine goes down after this */
    lb_jw_free(&w);
    LOG_INFO("%s requested through the API", what);
    int (*sigfn)(pid_t, int) = api->signal_init ? api->signal_init : kill;
    if (sigfn(1, sig) != 0)
        LOG_ERR("cannot signal PID 1 for %s", what);
}

void lb_api_poweroff(lb_api_call *call) { power(call, "poweroff", SIGUSR2); }
void lb_api_reboot(lb_api_call *call) { power(call, "reboot", SIGTERM); }
