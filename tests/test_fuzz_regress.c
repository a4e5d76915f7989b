/* Replays every committed fuzz input through the fuzz targets' own entry
 * points (tests/fuzz/fuzz_*.c built with VKMIST_FUZZ_REPLAY, see
 * cmake/fuzz.cmake): the seed corpora in tests/fuzz/corpus/<target>/ and
 * the crashing inputs kept in tests/fuzz/regress/<target>/. A target aborts
 * on a broken contract (crash, inconsistent success, error without a message
 * naming the file), which fails this test; the last "replay" line printed
 * names the input. */
#include "tests/fuzz/fuzz.h"
#include "tests/testutil.h"
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

int fuzz_checkpoint(const uint8_t *data, size_t size);
int fuzz_nifti(const uint8_t *data, size_t size);
int fuzz_discover(const uint8_t *data, size_t size);
int fuzz_cache(const uint8_t *data, size_t size);

static const struct { const char *name; int (*fn)(const uint8_t *, size_t); } targets[] = {
    {"checkpoint", fuzz_checkpoint}, {"nifti", fuzz_nifti}, {"discover", fuzz_discover}, {"cache", fuzz_cache},
};

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Replays the files of dir in name order; returns how many (-1: no dir). */
static int replay_dir(const char *dir, int (*fn)(const uint8_t *, size_t)) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    char *names[4096];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 4096)
        if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_name);
    for (int i = 0; i < n; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        uint8_t *buf = NULL;
        long len = -1;
        if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            buf = malloc(len ? (size_t)len : 1);
            if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) { free(buf); buf = NULL; }
        }
        if (f) fclose(f);
        TU_CHECK(buf != NULL, "cannot read %s", path);
        if (buf) {
            printf("replay %s (%ld bytes)\n", path, len);
            fflush(stdout);
            fn(buf, (size_t)len);
        }
        free(buf);
        free(names[i]);
    }
    return n;
}

int main(void) {
    const char *src = getenv("VKMIST_SOURCE");
    TU_CHECK(src != NULL, "VKMIST_SOURCE is not set");
    if (!src) return tu_finish("fuzz_regress");
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", src, targets[t].name);
        int seeds = replay_dir(dir, targets[t].fn);
        TU_CHECK(seeds > 0, "no seed corpus in %s", dir);
        snprintf(dir, sizeof dir, "%s/tests/fuzz/regress/%s", src, targets[t].name);
        int regress = replay_dir(dir, targets[t].fn);
        printf("%s: %d seeds, %d regression inputs replayed\n", targets[t].name, seeds, regress < 0 ? 0 : regress);
    }
    return tu_finish("fuzz_regress");
}
