/* Scratch folder and contract checks shared by the fuzz targets (fuzz.h). */
#include "tests/fuzz/fuzz.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The harness's one piece of process state: the scratch folder. */
static struct { char dir[256]; } fuzz_ctx;

static void remove_dir(void) {
    if (fuzz_ctx.dir[0]) fuzz_rm_tree(fuzz_ctx.dir);
}

const char *fuzz_dir(void) {
    if (!fuzz_ctx.dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(fuzz_ctx.dir, sizeof fuzz_ctx.dir, "%s/vkmist-fuzz-XXXXXX", t && t[0] && strlen(t) < 200 ? t : "/tmp");
        if (!mkdtemp(fuzz_ctx.dir)) { perror("fuzz: mkdtemp"); abort(); }
        atexit(remove_dir);
    }
    return fuzz_ctx.dir;
}

void fuzz_path(char *out, size_t outlen, const char *name) {
    int k = snprintf(out, outlen, "%s/%s", fuzz_dir(), name);
    if (k < 0 || (size_t)k >= outlen) { fprintf(stderr, "fuzz: path too long\n"); abort(); }
}

void fuzz_write(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) { perror(path); abort(); }
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)flag; (void)ftw;
    remove(p);
    return 0;
}

void fuzz_rm_tree(const char *path) {
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void fuzz_expect_error(int rc, const char *err, const char *names) {
    if (!rc) return;
    if (!err[0] || (names && !strstr(err, names))) {
        fprintf(stderr, "fuzz: error without a message naming %s: \"%s\"\n", names ? names : "?", err);
        abort();
    }
}

void fuzz_assert(int cond, const char *msg, const char *file, int line) {
    if (cond) return;
    fprintf(stderr, "fuzz: %s:%d: %s\n", file, line, msg);
    abort();
}
