/* Levelled, printf-checked logging to stderr (the console) and optionally /dev/kmsg. */
#ifndef LB_LOG_H
#define LB_LOG_H

enum lb_log_level { LB_LOG_ERR = 3, LB_LOG_WARN = 4, LB_LOG_INFO = 6, LB_LOG_DEBUG = 7 };

/* prefix: e.g. "init" or "llmboxd"; shown on every line. */
void lb_log_init(const char *prefix, enum lb_log_level max_level);
/* Also write each line to /dev/kmsg (PID 1 and the service in the appliance). path NULL = off. */
int lb_log_open_kmsg(const char *path);
void lb_log_set_level(enum lb_log_level max_level);
enum lb_log_level lb_log_get_level(void);
/* Redirect console output (tests); NULL restores stderr. */
void lb_log_set_stream(void *stream);

void lb_log(enum lb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_ERR(...) lb_log(LB_LOG_ERR, __VA_ARGS__)
#define LOG_WARN(...) lb_log(LB_LOG_WARN, __VA_ARGS__)
#define LOG_INFO(...) lb_log(LB_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) lb_log(LB_LOG_DEBUG, __VA_ARGS__)

#endif
