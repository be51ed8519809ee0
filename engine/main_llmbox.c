/* llmbox: the engine as a command-line tool. Each subcommand lives in engine/cli_NAME.c;
 * adding one is a file plus a line in the table below. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "version.h"

struct subcommand {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static const struct subcommand g_cmds[] = {
    { "run", lb_cli_run, "run -m FILE (-p TEXT | --tokens \"1 2 3\") -n N [--temp T] [--seed S] [-t THREADS] [-c CTX] [--json] [--flash-attn on|off]" },
    { "logits", lb_cli_logits, "logits -m FILE --tokens \"1 2 3\" [-t THREADS] [--flash-attn on|off]   (JSON logits of the last position)" },
    { "info", lb_cli_info, "info -m FILE [--json]" },
    { "bench", lb_cli_bench, "bench -m FILE [-p 128] [-n 64] [-t THREADS] [-r REPS] [--json]" },
    { "tokenize", lb_cli_tokenize, "tokenize -m FILE [--no-bos] [--special]   (text on stdin -> token ids)" },
    { "detokenize", lb_cli_detokenize, "detokenize -m FILE [--special]   (token ids on stdin -> text)" },
    { "power", lb_cli_power, "power status|apply busy|apply idle [--sysfs-root DIR] [--proc-root DIR]" },
};

static int usage(FILE *f)
{
    fprintf(f, "usage: llmbox COMMAND [options]   (llmbox --version)\n");
    for (size_t i = 0; i < sizeof g_cmds / sizeof g_cmds[0]; i++)
        fprintf(f, "  llmbox %s\n", g_cmds[i].help);
    return f == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
    lb_log_init("llmbox", LB_LOG_WARN);
    if (argc < 2)
        return usage(stderr);
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("llmbox %s\n", LLMBOX_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
        return usage(stdout);
    for (size_t i = 0; i < sizeof g_cmds / sizeof g_cmds[0]; i++)
        if (!strcmp(argv[1], g_cmds[i].name))
            return g_cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "llmbox: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
