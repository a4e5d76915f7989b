/* Command-line plumbing shared by the subcommands: environment set-up, a
 * tiny long-option parser with clear errors, and device options. */
#pragma once
#include <stdio.h>
#include "runtime/vkm.h"

/* Sets XDG_RUNTIME_DIR to a private temp dir when unset (lavapipe warns). */
void cli_setup_env(void);

/* Iterates argv from index 1. For `--name value` or `--name=value` options
 * cli_value returns the value (and advances), printing a clear error and
 * setting a->bad when the value is missing. cli_flag matches a bare flag. */
typedef struct { int argc; char **argv; int i; int bad; const char *cmd; } cli_args;
cli_args cli_begin(const char *cmd, int argc, char **argv);
int cli_more(cli_args *a);                      /* 1 while arguments are left */
const char *cli_value(cli_args *a, const char *name);
int cli_flag(cli_args *a, const char *name);
/* Reports the current argument as unknown (sets bad). */
void cli_unknown(cli_args *a);
/* Parses an integer/float option value within [lo, hi]; on error prints
 * "vkmist CMD: --name expects ..." and sets a->bad. */
long cli_long(cli_args *a, const char *name, const char *s, long lo, long hi);
double cli_double(cli_args *a, const char *name, const char *s, double lo, double hi);

/* Creates the Vulkan context for --device (-1 = auto); prints the error. */
vkm_ctx *cli_open_device(const char *cmd, int device, int verbose);
