#include "../lib/harness.h"
#include "init_service.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static int wait_exit(lb_service *s, int64_t now)
{
    int status;
    pid_t pid = waitpid(s->pid, &status, 0);
    if (pid != s->pid)
        return -1;
    lb_service_exited(s, status, now);
    return status;
}

TEST(backoff_doubles_and_caps)
{
    CHECK_EQ(lb_service_backoff_ms(0), 250);
    CHECK_EQ(lb_service_backoff_ms(1), 500);
    CHECK_EQ(lb_service_backoff_ms(3), 2000);
    CHECK_EQ(lb_service_backoff_ms(20), 30000);
}

TEST(exit_reasons_are_described)
{
    char buf[80];
    lb_describe_status(3 << 8, buf, sizeof buf);
    CHECK_STR(buf, "exited with status 3");
    lb_describe_status(SIGKILL, buf, sizeof buf);
    CHECK(strstr(buf, "killed by signal 9") != NULL);
}

TEST(quick_failures_restart_with_backoff_then_give_up)
{
    lb_service s;
    lb_service_init(&s, "svc");
    lb_service_arg(&s, "/bin/sh");
    lb_service_arg(&s, "-c");
    lb_service_arg(&s, "exit 7");
    int64_t now = 1000;
    for (int i = 0; i < LB_SVC_MAX_QUICK; i++) {
        CHECK_EQ(lb_service_start(&s, now), 0);
        CHECK(s.pid > 0);
        int st = wait_exit(&s, now + 100);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
        CHECK_EQ(s.pid, 0);
        CHECK_STR(s.last_reason, "exited with status 7");
        if (i < LB_SVC_MAX_QUICK - 1) {
            CHECK_EQ(s.restart_at_ms, now + 100 + lb_service_backoff_ms(i + 1));
            CHECK(!s.given_up);
            now = s.restart_at_ms;
        }
    }
    CHECK(s.given_up);
    CHECK_EQ(s.restart_at_ms, INT64_MAX);
}

TEST(long_run_resets_failure_count_and_crash_is_restarted)
{
    lb_service s;
    lb_service_init(&s, "svc");
    lb_service_arg(&s, "/bin/sh");
    lb_service_arg(&s, "-c");
    lb_service_arg(&s, "kill -SEGV $$");
    s.quick_fails = 3;
    CHECK_EQ(lb_service_start(&s, 0), 0);
    int st = wait_exit(&s, LB_SVC_QUICK_MS + 1);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(s.quick_fails, 0);
    CHECK(strstr(s.last_reason, "signal 11") != NULL);
    CHECK_EQ(s.restart_at_ms, LB_SVC_QUICK_MS + 1 + 250);
}

TEST(stop_terminates_and_is_not_a_failure)
{
    lb_service s;
    lb_service_init(&s, "svc");
    lb_service_arg(&s, "/bin/sleep");
    lb_service_arg(&s, "30");
    CHECK_EQ(lb_service_start(&s, 0), 0);
    pid_t pid = s.pid;
    lb_service_stop(&s, 2000);
    CHECK_EQ(s.pid, 0);
    CHECK(kill(pid, 0) != 0); /* gone and reaped */
}

TEST(missing_binary_exits_127)
{
    lb_service s;
    lb_service_init(&s, "svc");
    lb_service_arg(&s, "/nonexistent/llmboxd");
    CHECK_EQ(lb_service_start(&s, 0), 0);
    int st = wait_exit(&s, 10);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 127);
    CHECK_EQ(s.quick_fails, 1);
}

TEST(argv_is_bounded)
{
    lb_service s;
    lb_service_init(&s, "svc");
    int ok = 0;
    for (int i = 0; i < LB_SVC_MAX_ARGS + 5; i++)
        ok += lb_service_arg(&s, "x") == 0;
    CHECK_EQ(ok, LB_SVC_MAX_ARGS);
    CHECK(s.argv[LB_SVC_MAX_ARGS] == NULL);
}
