#ifndef LB_VERSION_H
#define LB_VERSION_H
/* LLMBOX_VERSION comes from `git describe` through the Makefile. */
#ifndef LLMBOX_VERSION
#define LLMBOX_VERSION "unknown"
#endif
#endif
