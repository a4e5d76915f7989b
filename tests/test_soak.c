/* ctest: a soak of the training loop (config `test`) in this process, with
 * checkpoints and sample pictures every 50 iterations. Host RSS
 * (/proc/self/statm) and device memory (in use and allocated, through the
 * trainer's probe) are sampled every 10 iterations; after the warm-up (the
 * first quarter, at least 100 iterations: every step variant recorded, the
 * inference engine opened by the first save) both must be flat:
 *   device bytes: exactly constant (the pool is deterministic);
 *   host RSS: the least-squares slope below 1 KiB per iteration and the last
 *   sample within 4 MiB of the first (allocator noise, not a leak).
 * VKMIST_SOAK_ITERS sets the length: tools/test.sh runs the full 2,000; the
 * default, 300, keeps a plain ctest (and the ASan pass) short on lavapipe. Under ASan the
 * quarantine grows RSS by design, so only the device check applies there
 * (LeakSanitizer covers host leaks). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tests/testutil.h"
#include "train/trainer.h"

#if defined(__SANITIZE_ADDRESS__)
#define SOAK_ASAN 1
#else
#define SOAK_ASAN 0
#endif

#define EVERY 10
#define MAXS 100000

typedef struct {
    long n;
    long it[MAXS];
    double rss[MAXS];          /* bytes */
    uint64_t in_use[MAXS], alloc[MAXS];
} samples;

static double rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &res) != 2) res = 0;
        fclose(f);
    }
    return (double)res * (double)sysconf(_SC_PAGESIZE);
}

static void probe(void *user, long it, uint64_t in_use, uint64_t alloc) {
    samples *s = user;
    if (it % EVERY || s->n >= MAXS) return;
    s->it[s->n] = it;
    s->rss[s->n] = rss_bytes();
    s->in_use[s->n] = in_use;
    s->alloc[s->n] = alloc;
    s->n++;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    char err[2048], data[700], run[700];
    tu_private_cache();
    const char *env = getenv("VKMIST_SOAK_ITERS");
    long iters = env ? atol(env) : 300;
    if (iters < 200) iters = 200;
    snprintf(data, sizeof data, "%s/phantom", tu_tmpdir());
    TU_CHECK(tu_phantom(data, 4, 64, 24, err, sizeof err) == 0, "phantom: %s", err);
    snprintf(run, sizeof run, "%s/run", tu_tmpdir());

    static samples s;
    mist_trainer_opts o = mist_trainer_defaults();
    o.data_dir = data;
    o.run_dir = run;
    o.config = "test";
    o.opts.iters = iters;
    o.ckpt_every = 50;
    o.sample_every = 50;
    o.keep_ckpts = 2;
    o.quiet = 1;
    o.probe = probe;
    o.probe_user = &s;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    TU_CHECK(mist_train(&o, err, sizeof err) == 0, "train: %s", err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    TU_CHECK(s.n == iters / EVERY, "%ld samples for %ld iterations", s.n, iters);
    if (tu_failures) return tu_finish("test_soak");

    long warm = iters / 4 > 100 ? iters / 4 : 100;
    long w = 0;
    while (w < s.n && s.it[w] < warm) w++;
    long m = s.n - w;
    /* device: exactly flat */
    long dev_changes = 0;
    for (long i = w + 1; i < s.n; i++) dev_changes += s.in_use[i] != s.in_use[w] || s.alloc[i] != s.alloc[w];
    TU_CHECK(dev_changes == 0, "device memory changed %ld times after the warm-up (in use %llu -> %llu, allocated "
             "%llu -> %llu bytes)", dev_changes, (unsigned long long)s.in_use[w], (unsigned long long)s.in_use[s.n - 1],
             (unsigned long long)s.alloc[w], (unsigned long long)s.alloc[s.n - 1]);
    /* host: least-squares slope over the samples after the warm-up */
    double mx = 0, my = 0;
    for (long i = w; i < s.n; i++) mx += (double)s.it[i], my += s.rss[i];
    mx /= (double)m, my /= (double)m;
    double sxy = 0, sxx = 0;
    for (long i = w; i < s.n; i++) {
        sxy += ((double)s.it[i] - mx) * (s.rss[i] - my);
        sxx += ((double)s.it[i] - mx) * ((double)s.it[i] - mx);
    }
    double slope = sxx > 0 ? sxy / sxx : 0, growth = s.rss[s.n - 1] - s.rss[w];
    printf("soak: %ld iterations of config test in %.1f s (%.2f it/s), %ld samples, warm-up %ld iterations\n", iters,
           secs, (double)iters / secs, s.n, warm);
    printf("  host RSS: %.1f MiB at iteration %ld (%.1f MiB at %ld), %.1f MiB at the end; slope %.1f bytes/iteration\n",
           s.rss[w] / 1048576.0, s.it[w], s.rss[0] / 1048576.0, s.it[0], s.rss[s.n - 1] / 1048576.0, slope);
    printf("  device: %.2f MiB in use, %.1f MiB allocated from iteration %ld on (%ld changes after the warm-up)\n",
           (double)s.in_use[w] / 1048576.0, (double)s.alloc[w] / 1048576.0, s.it[w], dev_changes);
    if (SOAK_ASAN) {
        printf("  (ASan build: the RSS check is left to LeakSanitizer)\n");
    } else {
        TU_CHECK(slope < 1024, "host RSS grows %.0f bytes per iteration after the warm-up", slope);
        TU_CHECK(growth < 4.0 * 1048576, "host RSS grew %.1f MiB after the warm-up", growth / 1048576.0);
    }
    return tu_finish("test_soak");
}
