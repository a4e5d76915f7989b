/* The conformance harness: random numbers, guarded device tensors, NMSE and
 * NaN/Inf checks, and the runner that prints one line per op. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "runtime/conform/conform.h"

/* A quiet-NaN bit pattern no op ever writes: guards and never-written
 * outputs show up as "changed guard" or "NaN in output". */
#define SENTINEL 0x7fc0deadu

uint64_t conf_next(conf_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double conf_uniform(conf_rng *r) { return (conf_next(r) >> 11) * (1.0 / 9007199254740992.0); }

int conf_int(conf_rng *r, int lo, int hi) { return lo + (int)(conf_next(r) % (uint64_t)(hi - lo + 1)); }

double conf_normal(conf_rng *r) {
    double u = conf_uniform(r), v = conf_uniform(r);
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

void conf_fill_normal(conf_rng *r, double *x, size_t n, double std) {
    for (size_t i = 0; i < n; i++) x[i] = (double)(float)(std * conf_normal(r));
}

void conf_round_f32(double *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = (double)(float)x[i];
}

int conf_tensor_new(vkm_ctx *ctx, size_t n, conf_tensor *t) {
    memset(t, 0, sizeof *t);
    uint64_t a = vkm_alignment(ctx);
    t->guard_bytes = a > 256 ? a : 256;
    t->n = n;
    uint64_t data_bytes = (n ? n : 1) * 4;
    uint64_t padded = (data_bytes + a - 1) / a * a;
    if (vkm_alloc(ctx, padded + 2 * t->guard_bytes, &t->all)) return -1;
    t->data = vkm_sub(t->all, t->guard_bytes, n * 4);
    /* the slack between the data's end and the aligned padding is guard too */
    return vkm_fill_bytes(ctx, t->all, SENTINEL);
}

void conf_tensor_free(vkm_ctx *ctx, conf_tensor *t) { vkm_free(ctx, &t->all); }

int conf_upload(vkm_ctx *ctx, conf_tensor *t, const double *src) {
    float *f = malloc((t->n ? t->n : 1) * sizeof *f);
    if (!f) return -1;
    for (size_t i = 0; i < t->n; i++) f[i] = (float)src[i];
    int rc = vkm_write(ctx, t->data, 0, f, t->n * 4);
    free(f);
    return rc;
}

int conf_upload_u32(vkm_ctx *ctx, conf_tensor *t, const uint32_t *src) {
    return vkm_write(ctx, t->data, 0, src, t->n * 4);
}

int conf_download(vkm_ctx *ctx, conf_tensor *t, double *dst) {
    float *f = malloc((t->n ? t->n : 1) * sizeof *f);
    if (!f) return -1;
    int rc = vkm_read(ctx, t->data, 0, f, t->n * 4);
    for (size_t i = 0; !rc && i < t->n; i++) dst[i] = f[i];
    free(f);
    return rc;
}

int conf_guard_ok(vkm_ctx *ctx, conf_tensor *t) {
    uint64_t total = t->all.size / 4;
    uint32_t *w = malloc(total * 4);
    if (!w) return 0;
    int ok = vkm_read(ctx, t->all, 0, w, total * 4) == 0;
    uint64_t lo = t->guard_bytes / 4, hi = lo + t->n;
    for (uint64_t i = 0; ok && i < total; i++)
        if ((i < lo || i >= hi) && w[i] != SENTINEL) ok = 0;
    free(w);
    return ok;
}

double conf_nmse(const double *got, const double *want, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = got[i] - want[i];
        num += d * d;
        den += want[i] * want[i];
    }
    if (num == 0) return 0;
    return num / (den > 1e-30 ? den : 1e-30);
}

void conf_fail(conf_result *r, const char *fmt, ...) {
    if (!r->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->msg, sizeof r->msg, fmt, ap);
        va_end(ap);
    }
    r->failed = 1;
}

int conf_check(vkm_ctx *ctx, conf_result *r, const char *what, conf_tensor *t, const double *want, double limit) {
    double *got = malloc((t->n ? t->n : 1) * sizeof *got);
    if (!got || conf_download(ctx, t, got)) {
        free(got);
        conf_fail(r, "%s: could not read the output back: %s", what, vkm_error(ctx));
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < t->n; i++)
        if (!isfinite(got[i])) {
            conf_fail(r, "%s: non-finite value %g at element %zu of %zu (unwritten or overflow)", what, got[i], i, t->n);
            rc = -1;
            break;
        }
    if (!rc && !conf_guard_ok(ctx, t)) {
        conf_fail(r, "%s: a guard region around the output was overwritten (out-of-bounds write)", what);
        rc = -1;
    }
    if (!rc) {
        double e = conf_nmse(got, want, t->n);
        if (e > r->worst_nmse) r->worst_nmse = e;
        if (!(e <= limit)) {
            size_t worst = 0;
            double wd = -1;
            for (size_t i = 0; i < t->n; i++)
                if (fabs(got[i] - want[i]) > wd) wd = fabs(got[i] - want[i]), worst = i;
            conf_fail(r, "%s: NMSE %.3e over the limit %.1e (worst element %zu: got %.6g, want %.6g)", what, e, limit,
                      worst, got[worst], want[worst]);
            rc = -1;
        }
    }
    free(got);
    return rc;
}

static uint64_t name_hash(const char *s) {
    uint64_t h = 1469598103934665603ull;
    while (*s) h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h;
}

int conf_run(vkm_ctx *ctx, const char *filter, uint64_t seed, FILE *out) {
    int failed = 0, ran = 0;
    fprintf(out, "%-22s %-6s %12s %10s %6s %8s\n", "op", "result", "worst NMSE", "limit", "cases", "seconds");
    for (int i = 0; i < conf_nrows; i++) {
        const conf_row *row = &conf_rows[i];
        if (filter && *filter && !strstr(row->name, filter)) continue;
        conf_result r = {0, 0, 0, {0}};
        conf_rng rng = {seed ^ name_hash(row->name)};
        int msgs = vkm_validation_messages(ctx);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        row->fn(ctx, &rng, row->nmse_limit, &r);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        int vmsgs = vkm_validation_messages(ctx) - msgs;
        if (vmsgs) conf_fail(&r, "%d validation-layer message(s) while it ran", vmsgs);
        fprintf(out, "%-22s %-6s %12.3e %10.1e %6d %8.2f%s%s\n", row->name, r.failed ? "FAIL" : "pass", r.worst_nmse,
                row->nmse_limit, r.cases, (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec),
                r.failed ? "  " : "", r.failed ? r.msg : "");
        fflush(out);
        failed += r.failed;
        ran++;
    }
    if (!ran) {
        fprintf(out, "no op matches '%s'\n", filter ? filter : "");
        return 1;
    }
    fprintf(out, "%d ops: %d passed, %d failed\n", ran, ran - failed, failed);
    return failed;
}
