/* The llmbox CLI: one file per subcommand (cli_NAME.c), dispatched from main_llmbox.c's
 * table. Subcommands return the process exit status: 0 ok, 1 runtime failure, 2 bad usage
 * or a bad/corrupt/unsupported model file (one-line message on stderr). */
#ifndef LB_CLI_H
#define LB_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "err.h"

int lb_cli_run(int argc, char **argv);
int lb_cli_logits(int argc, char **argv);
int lb_cli_info(int argc, char **argv);
int lb_cli_bench(int argc, char **argv);
int lb_cli_power(int argc, char **argv);  /* cli_power.c */
int lb_cli_tokenize(int argc, char **argv);    /* cli_tokenize.c */
int lb_cli_detokenize(int argc, char **argv);  /* cli_tokenize.c */

/* Prints "llmbox: MSG" on one line to stderr and returns status. */
int lb_cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exit status for an error from loading a model: 2 (bad input) unless it is an I/O or memory failure. */
int lb_cli_load_status(int code);

/* Option scanning: argv[*i] is the option; returns its value (advancing *i) or NULL if missing. */
const char *lb_cli_value(int argc, char **argv, int *i);
bool lb_cli_int(const char *s, long min, long max, long *out);
bool lb_cli_float(const char *s, float *out);
/* "on"/"off" (also 1/0) into *out. */
bool lb_cli_onoff(const char *s, int *out);
/* Parses "1 2 3" (spaces or commas) into a malloc'd array. */
int lb_cli_parse_tokens(const char *s, int32_t **out, int *n, lb_err *err);

/* Loads a model, printing the one-line error; returns 0 or the exit status. */
int lb_cli_load(const char *path, bool vocab_only, lb_model **out);

double lb_cli_now_ms(void);

#endif
