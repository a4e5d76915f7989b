/* Shared test helpers (see testutil.h). */
#include "io/phantom.h"
#include "tests/testutil.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

int tu_failures = 0;
static char tu_dir[512];

const char *tu_tmpdir(void) {
    if (!tu_dir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tu_dir, sizeof tu_dir, "%s/vkmist-test-XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(tu_dir)) { perror("mkdtemp"); exit(2); }
    }
    return tu_dir;
}

int tu_finish(const char *suite) {
    if (tu_dir[0] && !getenv("VKMIST_KEEP_TMP")) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tu_dir);
        if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", tu_dir);
    }
    printf("%s: %d passed, %d failed\n", suite, tu_failures ? 0 : 1, tu_failures ? 1 : 0);
    return tu_failures ? 1 : 0;
}

const char *tu_brats_sample(void) {
    static char path[1024];
    const char *shared = getenv("VKMIST_SHARED");
    if (!shared) return NULL;
    snprintf(path, sizeof path, "%s/data/brats-sample", shared);
    return access(path, R_OK) == 0 ? path : NULL;
}

const char *tu_vkmist_bin(void) {
    const char *b = getenv("VKMIST_BIN");
    return b ? b : "vkmist";
}

int tu_run_cli(const char *args, char *out, size_t outlen) {
    char cmd[4000];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", tu_vkmist_bin(), args);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, outlen - 1, p) : 0;
    out[n] = 0;
    int st = p ? pclose(p) : -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void tu_private_cache(void) {
    if (!getenv("MESA_SHADER_CACHE_DIR")) {
        char mesa[700];
        const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
        if (x && *x) snprintf(mesa, sizeof mesa, "%s/mesa_shader_cache", x);
        else snprintf(mesa, sizeof mesa, "%s/.cache/mesa_shader_cache", h ? h : "/tmp");
        setenv("MESA_SHADER_CACHE_DIR", mesa, 1);
    }
    char cache[600];
    snprintf(cache, sizeof cache, "%s/cache", tu_tmpdir());
    setenv("XDG_CACHE_HOME", cache, 1);
}

double tu_gradcheck(tu_loss_fn loss, void *user, double *x, const double *grad, size_t n,
                    int samples, double h, unsigned seed) {
    double worst = 0;
    unsigned s = seed ? seed : 1;
    size_t count = (samples <= 0 || (size_t)samples >= n) ? n : (size_t)samples;
    for (size_t k = 0; k < count; k++) {
        size_t i = k;
        if (count < n) { s = s * 1103515245u + 12345u; i = (size_t)(s >> 8) % n; }
        double old = x[i];
        x[i] = old + h; double lp = loss(user, x);
        x[i] = old - h; double lm = loss(user, x);
        x[i] = old;
        double num = (lp - lm) / (2 * h);
        double den = fmax(1.0, fmax(fabs(num), fabs(grad[i])));
        double e = fabs(num - grad[i]) / den;
        if (e > worst) worst = e;
    }
    return worst;
}

int tu_phantom(const char *dir, int cases, int size, int nz, char *err, size_t errlen) {
    io_phantom_opts po;
    io_phantom_default_opts(&po);
    po.out = dir;
    po.cases = cases;
    po.quiet = 1;
    po.nx = po.ny = size;
    po.nz = nz;
    return io_phantom_write(&po, err, errlen);
}
