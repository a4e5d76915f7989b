/* Exact t-SNE and 1-NN accuracy (see tsne.h). The optimiser follows the
 * reference implementation's recipe (as scikit-learn does): Gaussian
 * affinities calibrated per point to the perplexity by bisection on the
 * precision, symmetrised; Student-t similarities in 2-D; gradient descent
 * with momentum 0.5 -> 0.8, per-coordinate adaptive gains, early
 * exaggeration, and learning rate max(n / exaggeration / 4, 50). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "train/tsne.h"

mist_tsne_opts mist_tsne_defaults(void) {
    mist_tsne_opts o = {30.0, 1000, 12.0, 250, 1, 1};
    return o;
}

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double gauss(uint64_t *s) {
    double u1 = ((splitmix(s) >> 11) + 0.5) / 9007199254740992.0, u2 = (splitmix(s) >> 11) / 9007199254740992.0;
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/* Row i of the conditional affinities p_{j|i} with entropy log(perp). */
static void calibrate_row(const double *d, int n, int i, double perp, double *p) {
    double target = log(perp), beta = 1, lo = 0, hi = INFINITY, dmin = INFINITY;
    for (int j = 0; j < n; j++)
        if (j != i && d[j] < dmin) dmin = d[j];
    for (int it = 0; it < 100; it++) {
        double sum = 0, dp = 0;
        for (int j = 0; j < n; j++) {
            p[j] = j == i ? 0 : exp(-(d[j] - dmin) * beta);
            sum += p[j];
            dp += (d[j] - dmin) * p[j];
        }
        if (sum <= 0) sum = 1e-300;
        double h = log(sum) + beta * dp / sum;
        for (int j = 0; j < n; j++) p[j] /= sum;
        if (fabs(h - target) < 1e-5) break;
        if (h > target) { /* too flat: sharpen */
            lo = beta;
            beta = isinf(hi) ? beta * 2 : (beta + hi) / 2;
        } else {
            hi = beta;
            beta = (beta + lo) / 2;
        }
    }
}

/* Top-two principal component scores of x, scaled so PC1 has std 1e-4. */
static int pca_init(const double *x, int n, int dim, uint64_t seed, double *y) {
    double *mean = calloc((size_t)dim, sizeof *mean), *cov = calloc((size_t)dim * dim, sizeof *cov);
    double *v = malloc(sizeof(double) * 2 * (size_t)dim), *w = malloc(sizeof(double) * (size_t)dim);
    int rc = -1;
    if (!mean || !cov || !v || !w) goto out;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < dim; k++) mean[k] += x[(size_t)i * dim + k] / n;
    for (int i = 0; i < n; i++)
        for (int a = 0; a < dim; a++)
            for (int b = 0; b < dim; b++)
                cov[a * dim + b] += (x[(size_t)i * dim + a] - mean[a]) * (x[(size_t)i * dim + b] - mean[b]);
    uint64_t s = seed ^ 0x7ca11ab1eull;
    for (int c = 0; c < 2; c++) {
        double *e = v + (size_t)c * dim;
        for (int k = 0; k < dim; k++) e[k] = gauss(&s);
        for (int it = 0; it < 300; it++) {
            for (int a = 0; a < dim; a++) {
                double acc = 0;
                for (int b = 0; b < dim; b++) acc += cov[a * dim + b] * e[b];
                w[a] = acc;
            }
            if (c == 1) { /* deflate: stay orthogonal to the first component */
                double dot = 0;
                for (int k = 0; k < dim; k++) dot += w[k] * v[k];
                for (int k = 0; k < dim; k++) w[k] -= dot * v[k];
            }
            double nn = 0;
            for (int k = 0; k < dim; k++) nn += w[k] * w[k];
            nn = sqrt(nn);
            if (!(nn > 0)) break; /* rank-deficient data: keep the random direction */
            for (int k = 0; k < dim; k++) e[k] = w[k] / nn;
        }
    }
    double m1 = 0, m2 = 0;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < 2; c++) {
            double acc = 0;
            for (int k = 0; k < dim; k++) acc += (x[(size_t)i * dim + k] - mean[k]) * v[(size_t)c * dim + k];
            y[2 * i + c] = acc;
        }
    for (int i = 0; i < n; i++) m1 += y[2 * i] / n;
    for (int i = 0; i < n; i++) m2 += (y[2 * i] - m1) * (y[2 * i] - m1) / n;
    if (m2 > 0) {
        double sc = 1e-4 / sqrt(m2);
        for (int i = 0; i < 2 * n; i++) y[i] *= sc;
        rc = 0;
    }
out:
    free(mean), free(cov), free(v), free(w);
    return rc;
}

static int fail(char *err, size_t errlen, const char *msg) {
    if (err && errlen) {
        strncpy(err, msg, errlen - 1);
        err[errlen - 1] = 0;
    }
    return -1;
}

int mist_tsne(const float *xf, int n, int dim, const mist_tsne_opts *o, float *yout, char *err, size_t errlen) {
    if (n < 2 || dim < 1 || !xf || !yout) return fail(err, errlen, "t-SNE needs at least 2 points of dimension >= 1");
    mist_tsne_opts opt = o ? *o : mist_tsne_defaults();
    size_t nn = (size_t)n * n;
    double *x = malloc(sizeof(double) * (size_t)n * dim), *d = malloc(sizeof(double) * nn);
    double *p = malloc(sizeof(double) * nn), *num = malloc(sizeof(double) * nn);
    double *y = calloc(2 * (size_t)n, sizeof(double)), *upd = calloc(2 * (size_t)n, sizeof(double));
    double *gain = malloc(sizeof(double) * 2 * n), *grad = malloc(sizeof(double) * 2 * n);
    int rc = 0;
    if (!x || !d || !p || !num || !y || !upd || !gain || !grad) {
        rc = fail(err, errlen, "t-SNE: out of memory");
        goto out;
    }
    for (size_t i = 0; i < (size_t)n * dim; i++) {
        if (!isfinite(xf[i])) {
            rc = fail(err, errlen, "t-SNE: non-finite input coordinate");
            goto out;
        }
        x[i] = xf[i];
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double acc = 0;
            for (int k = 0; k < dim; k++) {
                double t = x[(size_t)i * dim + k] - x[(size_t)j * dim + k];
                acc += t * t;
            }
            d[(size_t)i * n + j] = acc;
        }
    /* with few points a perplexity of 30 is unattainable */
    double perp = opt.perplexity;
    if (perp > (n - 1) / 3.0) perp = (n - 1) / 3.0;
    if (perp < 1) perp = 1;
    for (int i = 0; i < n; i++) calibrate_row(d + (size_t)i * n, n, i, perp, p + (size_t)i * n);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double v = (p[(size_t)i * n + j] + p[(size_t)j * n + i]) / (2.0 * n);
            if (v < 1e-12) v = 1e-12;
            p[(size_t)i * n + j] = p[(size_t)j * n + i] = v;
        }
    for (int i = 0; i < n; i++) p[(size_t)i * n + i] = 0;
    uint64_t s = opt.seed;
    if (!opt.pca_init || pca_init(x, n, dim, opt.seed, y))
        for (int i = 0; i < 2 * n; i++) y[i] = 1e-4 * gauss(&s);
    for (int i = 0; i < 2 * n; i++) gain[i] = 1;
    double exag = opt.exaggeration > 0 ? opt.exaggeration : 1;
    double lr = n / exag / 4;
    if (lr < 50) lr = 50;
    for (int it = 0; it < opt.iters; it++) {
        int early = it < opt.exag_iters;
        double pe = early ? exag : 1, mom = early ? 0.5 : 0.8, qsum = 0;
        for (int i = 0; i < n; i++) {
            num[(size_t)i * n + i] = 0;
            for (int j = i + 1; j < n; j++) {
                double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
                double q = 1 / (1 + dx * dx + dy * dy);
                num[(size_t)i * n + j] = num[(size_t)j * n + i] = q;
                qsum += 2 * q;
            }
        }
        if (qsum < 1e-300) qsum = 1e-300;
        for (int i = 0; i < n; i++) {
            double gx = 0, gy = 0;
            for (int j = 0; j < n; j++) {
                double q = num[(size_t)i * n + j], f = (pe * p[(size_t)i * n + j] - q / qsum) * q;
                gx += f * (y[2 * i] - y[2 * j]);
                gy += f * (y[2 * i + 1] - y[2 * j + 1]);
            }
            grad[2 * i] = 4 * gx;
            grad[2 * i + 1] = 4 * gy;
        }
        for (int k = 0; k < 2 * n; k++) {
            /* delta-bar-delta: grow the step while the gradient keeps its sign */
            gain[k] = (grad[k] > 0) != (upd[k] > 0) ? gain[k] + 0.2 : gain[k] * 0.8;
            if (gain[k] < 0.01) gain[k] = 0.01;
            upd[k] = mom * upd[k] - lr * gain[k] * grad[k];
            y[k] += upd[k];
        }
        double cx = 0, cy = 0;
        for (int i = 0; i < n; i++) cx += y[2 * i] / n, cy += y[2 * i + 1] / n;
        for (int i = 0; i < n; i++) y[2 * i] -= cx, y[2 * i + 1] -= cy;
    }
    for (int i = 0; i < 2 * n; i++) {
        if (!isfinite(y[i])) {
            rc = fail(err, errlen, "t-SNE diverged (non-finite coordinates)");
            break;
        }
        yout[i] = (float)y[i];
    }
out:
    free(x), free(d), free(p), free(num), free(y), free(upd), free(gain), free(grad);
    return rc;
}

double mist_nn1_accuracy(const float *x, int n, int dim, const int *label, const int *group, const int *exclude) {
    int tried = 0, right = 0;
    for (int i = 0; i < n; i++) {
        if (label[i] < 0) continue;
        int best = -1;
        double bd = INFINITY;
        for (int j = 0; j < n; j++) {
            if (j == i || label[j] < 0) continue;
            if (group && group[j] != group[i]) continue;
            if (exclude && exclude[j] == exclude[i]) continue;
            double acc = 0;
            for (int k = 0; k < dim; k++) {
                double t = (double)x[(size_t)i * dim + k] - x[(size_t)j * dim + k];
                acc += t * t;
            }
            if (acc < bd) bd = acc, best = j;
        }
        if (best < 0) continue;
        tried++;
        right += label[best] == label[i];
    }
    return tried ? (double)right / tried : NAN;
}
