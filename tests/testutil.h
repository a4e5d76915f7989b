/* Small helpers shared by the ctest executables: checks that count failures,
 * a temp dir, the shared sample data path, and a central-difference
 * gradient check for the CPU reference. */
#pragma once
#include <stddef.h>
#include <stdio.h>

extern int tu_failures;
#define TU_CHECK(cond, ...) do { if (!(cond)) { tu_failures++; \
    fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
/* Prints "N passed, N failed" style summary and returns the exit code. */
int tu_finish(const char *suite);

/* Makes (and returns) a fresh temp directory; removed by tu_finish. */
const char *tu_tmpdir(void);
/* ../shared/data/brats-sample when present, else NULL (tests then use the phantom). */
const char *tu_brats_sample(void);
/* The vkmist executable under test (VKMIST_BIN), for command-line tests. */
const char *tu_vkmist_bin(void);
/* Runs `vkmist ARGS` with stderr merged, keeping at most outlen-1 bytes of
 * its output in out; returns its exit status (-1 when it did not exit). */
int tu_run_cli(const char *args, char *out, size_t outlen);
/* Points XDG_CACHE_HOME (vkmist's slice and pipeline caches) into the temp
 * dir, but keeps Mesa's shader cache where it was: recompiling every
 * pipeline in each process costs minutes. */
void tu_private_cache(void);
/* Writes a quiet phantom data set of `cases` cases, size x size x nz voxels,
 * into dir (the small data sets the training-side tests share); returns 0
 * or -1 with the reason in err. */
int tu_phantom(const char *dir, int cases, int size, int nz, char *err, size_t errlen);

/* Central-difference check of an analytic gradient: loss(x) is a scalar
 * function of x[n]; grad[n] its claimed gradient. Checks `samples` random
 * coordinates (all if samples >= n) with step h; returns the worst
 * |num - ana| / max(1, |num|, |ana|). loss may modify nothing but reads x. */
typedef double (*tu_loss_fn)(void *user, const double *x);
double tu_gradcheck(tu_loss_fn loss, void *user, double *x, const double *grad, size_t n,
                    int samples, double h, unsigned seed);
