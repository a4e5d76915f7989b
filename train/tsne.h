/* Exact t-SNE (van der Maaten & Hinton 2008) for a few hundred points, and
 * leave-one-out 1-nearest-neighbour accuracy, the two tools of the style
 * embedding analysis (`vkmist style embed`). O(n^2) memory and time per
 * iteration: meant for n up to a couple of thousand. */
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef struct mist_tsne_opts {
    double perplexity;     /* 30 (lowered to (n-1)/3 for small n) */
    int iters;             /* 1000 */
    double exaggeration;   /* 12, for the first exag_iters iterations */
    int exag_iters;        /* 250 */
    int pca_init;          /* 1: start from the top two principal components; 0: seeded N(0, 1e-4) */
    uint64_t seed;         /* random init (and the PCA power iteration's start) */
} mist_tsne_opts;

mist_tsne_opts mist_tsne_defaults(void);

/* x: [n][dim] points -> y: [n][2] embedding. n >= 2. Deterministic for a
 * given input and options. Returns 0, or -1 with err set (bad sizes, out
 * of memory, non-finite input). */
int mist_tsne(const float *x, int n, int dim, const mist_tsne_opts *o, float *y, char *err, size_t errlen);

/* Leave-one-out 1-NN accuracy (Euclidean): for each point i with
 * label[i] >= 0, its nearest other point j with label[j] >= 0, and, when
 * given, group[j] == group[i] (search only within i's group, e.g. domain)
 * and exclude[j] != exclude[i] (never a point sharing i's exclude key, e.g.
 * another slice of the same case); correct when label[j] == label[i].
 * Returns the fraction correct, NaN when no point had a candidate. */
double mist_nn1_accuracy(const float *x, int n, int dim, const int *label, const int *group, const int *exclude);
