/* Command-line plumbing shared by the subcommands (see cli.h). */
#include "tools/cli.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cli_setup_env(void) {
    if (getenv("XDG_RUNTIME_DIR")) return;
    char dir[256];
    snprintf(dir, sizeof dir, "/tmp/vkmist-runtime-%d", (int)getuid());
    if (mkdir(dir, 0700) == 0 || errno == EEXIST) setenv("XDG_RUNTIME_DIR", dir, 0);
}

cli_args cli_begin(const char *cmd, int argc, char **argv) {
    cli_args a = {argc, argv, 1, 0, cmd};
    return a;
}

int cli_more(cli_args *a) { return !a->bad && a->i < a->argc; }

const char *cli_value(cli_args *a, const char *name) {
    const char *arg = a->argv[a->i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0) return NULL;
    if (arg[n] == '=') { a->i++; return arg + n + 1; }
    if (arg[n] != 0) return NULL;
    if (a->i + 1 >= a->argc) {
        fprintf(stderr, "vkmist %s: %s needs a value (see vkmist %s --help)\n", a->cmd, name, a->cmd);
        a->bad = 1;
        a->i++;
        return NULL;
    }
    a->i += 2;
    return a->argv[a->i - 1];
}

int cli_flag(cli_args *a, const char *name) {
    if (strcmp(a->argv[a->i], name) != 0) return 0;
    a->i++;
    return 1;
}

void cli_unknown(cli_args *a) {
    fprintf(stderr, "vkmist %s: unknown option '%s' (see vkmist %s --help)\n", a->cmd, a->argv[a->i], a->cmd);
    a->bad = 1;
    a->i++;
}

long cli_long(cli_args *a, const char *name, const char *s, long lo, long hi) {
    if (!s) return lo;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "vkmist %s: %s expects an integer in [%ld, %ld], got '%s'\n", a->cmd, name, lo, hi, s);
        a->bad = 1;
        return lo;
    }
    return v;
}

double cli_double(cli_args *a, const char *name, const char *s, double lo, double hi) {
    if (!s) return lo;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "vkmist %s: %s expects a number in [%g, %g], got '%s'\n", a->cmd, name, lo, hi, s);
        a->bad = 1;
        return lo;
    }
    return v;
}

vkm_ctx *cli_open_device(const char *cmd, int device, int verbose) {
    vkm_opts o = vkm_default_opts();
    if (device >= 0) o.device = device;
    o.verbose = verbose;
    vkm_ctx *ctx = NULL;
    char err[1024];
    if (vkm_ctx_create(&o, &ctx, err, sizeof err)) {
        fprintf(stderr, "vkmist %s: %s\n", cmd, err);
        return NULL;
    }
    return ctx;
}
