#include "init_service.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

void lb_service_init(lb_service *s, const char *name)
{
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->restart_at_ms = INT64_MAX;
}

int lb_service_arg(lb_service *s, const char *arg)
{
    size_t n = strlen(arg) + 1;
    if (s->argc >= LB_SVC_MAX_ARGS || n > sizeof s->store - s->used)
        return -1;
    memcpy(s->store + s->used, arg, n);
    s->argv[s->argc++] = s->store + s->used;
    s->argv[s->argc] = NULL;
    s->used += n;
    return 0;
}

int64_t lb_service_backoff_ms(int n)
{
    int64_t ms = 250;
    for (int i = 0; i < n && ms < 30000; i++)
        ms *= 2;
    return ms > 30000 ? 30000 : ms;
}

void lb_describe_status(int status, char *buf, size_t cap)
{
    if (WIFEXITED(status))
        snprintf(buf, cap, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, cap, "killed by signal %d (%s)%s", WTERMSIG(status), strsignal(WTERMSIG(status)),
                 WCOREDUMP(status) ? ", core dumped" : "");
    else
        snprintf(buf, cap, "stopped (status 0x%x)", status);
}

int lb_service_start(lb_service *s, int64_t now_ms)
{
    if (!s->argc)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        LOG_ERR("%s: fork: %s", s->name, strerror(errno));
        s->restart_at_ms = now_ms + lb_service_backoff_ms(s->quick_fails);
        return -1;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < 32; sig++)
            signal(sig, SIG_DFL);
        setsid();
        if (s->tty[0]) {
            int fd = open(s->tty, O_RDWR | O_NOCTTY);
            if (fd >= 0) {
                ioctl(fd, TIOCSCTTY, 0);
                dup2(fd, 0);
                dup2(fd, 1);
                dup2(fd, 2);
                if (fd > 2)
                    close(fd);
            }
        }
        execv(s->argv[0], s->argv);
        fprintf(stderr, "init: error: exec %s: %s\n", s->argv[0], strerror(errno));
        _exit(127);
    }
    s->pid = pid;
    s->started_ms = now_ms;
    s->restart_at_ms = INT64_MAX;
    s->expected_exit = 0;
    LOG_INFO("started %s (pid %d)", s->name, (int)pid);
    return 0;
}

void lb_service_exited(lb_service *s, int status, int64_t now_ms)
{
    char why[80];
    lb_describe_status(status, why, sizeof why);
    snprintf(s->last_reason, sizeof s->last_reason, "%s", why);
    int64_t up = now_ms - s->started_ms;
    s->pid = 0;
    if (s->expected_exit) {
        LOG_INFO("%s %s (stopped on purpose after %lld ms)", s->name, why, (long long)up);
        s->expected_exit = 0;
        s->quick_fails = 0;
        s->restart_at_ms = now_ms + lb_service_backoff_ms(0);
        return;
    }
    if (up < LB_SVC_QUICK_MS)
        s->quick_fails++;
    else
        s->quick_fails = 0;
    if (s->quick_fails >= LB_SVC_MAX_QUICK) {
        s->given_up = 1;
        s->restart_at_ms = INT64_MAX;
        LOG_ERR("%s %s; it failed %d times in a row right after starting, so it stays down. "
                "Check the model and settings above, then reboot.", s->name, why, s->quick_fails);
        return;
    }
    int64_t delay = lb_service_backoff_ms(s->quick_fails);
    s->restart_at_ms = now_ms + delay;
    LOG_WARN("%s %s after %lld ms; restarting in %lld ms", s->name, why, (long long)up, (long long)delay);
}

void lb_service_stop(lb_service *s, int timeout_ms)
{
    if (!s->pid)
        return;
    s->expected_exit = 1;
    kill(s->pid, SIGTERM);
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        int status;
        pid_t r = waitpid(s->pid, &status, WNOHANG);
        if (r == s->pid) {
            s->pid = 0;
            return;
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    LOG_WARN("%s did not stop within %d ms; killing it", s->name, timeout_ms);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}
