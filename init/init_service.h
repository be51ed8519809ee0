/* Supervision of the one service (llmboxd): start, notice every exit, say why it exited,
 * restart with exponential backoff, and give up (service down, PID 1 alive) when it keeps
 * failing right after start -- a broken model does not fix itself by retrying. */
#ifndef LB_INIT_SERVICE_H
#define LB_INIT_SERVICE_H

#include <stdint.h>
#include <sys/types.h>

#define LB_SVC_MAX_ARGS 40
#define LB_SVC_QUICK_MS 10000   /* an exit sooner than this after start counts as a failure */
#define LB_SVC_MAX_QUICK 5      /* consecutive quick failures before giving up */

typedef struct lb_service {
    char name[32];
    char *argv[LB_SVC_MAX_ARGS + 1];
    int argc;
    char store[4096];
    size_t used;
    pid_t pid;              /* 0 = not running */
    int64_t started_ms;
    int64_t restart_at_ms;  /* INT64_MAX = no restart pending */
    int quick_fails;
    int given_up;
    int expected_exit;      /* we stopped it ourselves (shutdown, test hook): not a failure */
    char last_reason[96];
    char tty[32];           /* "" = inherit the console; else the child's controlling tty */
} lb_service;

void lb_service_init(lb_service *s, const char *name);
/* Appends an argument (copied). Returns 0 or -1 if full. */
int lb_service_arg(lb_service *s, const char *arg);
/* Forks and execs argv; the child gets a clean signal mask and its own session. */
int lb_service_start(lb_service *s, int64_t now_ms);
/* Records the exit of s->pid (status from waitpid) and schedules a restart or gives up. */
void lb_service_exited(lb_service *s, int status, int64_t now_ms);
/* Restart delay after n consecutive quick failures (250 ms doubling, 30 s cap). */
int64_t lb_service_backoff_ms(int n);
/* "exited with status 1", "killed by signal 9 (Killed)" ... */
void lb_describe_status(int status, char *buf, size_t cap);
/* Sends SIGTERM, waits up to timeout_ms (reaping), then SIGKILL. */
void lb_service_stop(lb_service *s, int timeout_ms);

#endif
