/* The paper's style analyses (`vkmist style`), callable from tests:
 *  forms       one target imputed in the styles of K reference scans (Fig. 4a)
 *  interpolate linear path between two domains' mean styles (Fig. 4b)
 *  embed       style codes per domain -> CSV, t-SNE pictures, 1-NN accuracies
 *  diversity   K random (mapping-network) styles per slice: pairwise L1/SSIM
 * Each action takes an open model (style_model.h); progress and results go
 * to log when it is not NULL. */
#pragma once
#include <stdint.h>
#include <stdio.h>
#include "io/cache.h"
#include "train/style_case.h"
#include "train/style_model.h"

/* Grid tile side for img-pixel slices: enlarged so labels fit. */
int mist_style_tile(int img);

/* ---- forms ---- */
typedef struct mist_style_forms_opts {
    const char *case_dir;
    int target;
    const char *const *refs;   /* folders and/or files */
    int nrefs;
    int max_refs;              /* 8 */
    int ref_slices;            /* middle brain slices averaged per reference (5) */
    int slice;                 /* axial index of the case; -1 = its middle brain slice */
    const char *out;           /* PNG */
} mist_style_forms_opts;
mist_style_forms_opts mist_style_forms_defaults(void);
/* The style of a reference scan of domain d: the mean of the style codes of
 * k of its middle brain slices; shown (may be NULL) gets its middle slice. */
int mist_style_ref_code(mist_style_model *m, const mist_style_case *ref, int d, int k, float *code, float *shown, char *err,
                        size_t errlen);
int mist_style_forms(mist_style_model *m, const mist_style_forms_opts *o, FILE *log, char *err, size_t errlen);

/* ---- interpolate ---- */
typedef struct mist_style_interp_opts {
    const char *case_dir;
    int from, to, target;      /* target -1 = to */
    int steps;                 /* 11 */
    int slice;                 /* -1 = middle brain slice */
    const char *out;           /* PNG */
} mist_style_interp_opts;
mist_style_interp_opts mist_style_interp_defaults(void);
/* four: one slice [4][img][img] in [0, 1]; out [steps][img][img]: step i
 * decoded with (1 - a) s_from + a s_to, a = i / (steps - 1), the domains'
 * mean styles. */
int mist_style_interp_images(mist_style_model *m, const float *four, int target, int from, int to, int steps, float *out,
                             char *err, size_t errlen);
int mist_style_interpolate(mist_style_model *m, const mist_style_interp_opts *o, FILE *log, char *err, size_t errlen);

/* ---- embed ---- */
typedef struct mist_style_embed_opts {
    const char *data_dir;      /* NULL = the built-in phantom */
    int per_domain;            /* slices per domain (100) */
    const char *out;           /* prefix: PREFIX.csv, PREFIX.json, PREFIX_domain.png, PREFIX_site.png */
    uint64_t seed;             /* t-SNE init */
    int iters;                 /* t-SNE iterations (1000) */
    double perplexity;         /* 30 */
} mist_style_embed_opts;
mist_style_embed_opts mist_style_embed_defaults(void);
typedef struct mist_style_embed_result {
    int n;                     /* points: 4 x slices */
    int slices, cases, nsites; /* nsites 0: no site information */
    double domain_acc;         /* LOO 1-NN domain accuracy in style space (all points) */
    double domain_acc_tsne;    /* the same in the 2-D embedding */
    double site_acc[4];        /* LOO 1-NN site accuracy within each domain (NaN: no sites) */
    double site_acc_mean;
    double site_acc_xcase[4];  /* the same, never taking a neighbour from the same case */
    double site_acc_xcase_mean;
    double site_chance;        /* accuracy of always guessing the commonest site */
    double hist_site_acc_xcase_mean; /* baseline: the other-case site 1-NN on the slices' own intensity
                                        histograms instead of style codes (how separable sites are in the data) */
} mist_style_embed_result;
int mist_style_embed(mist_style_model *m, const mist_style_embed_opts *o, mist_style_embed_result *res, FILE *log,
                     char *err, size_t errlen);

/* ---- diversity ---- */
typedef struct mist_style_div_opts {
    const char *data_dir;      /* NULL = the built-in phantom */
    int samples;               /* K random styles per slice (5) */
    int slices;                /* N (8) */
    uint32_t seed;             /* sample k uses mapping seed seed + k */
    const char *out;           /* NULL, or prefix: PREFIX.json and PREFIX.png */
} mist_style_div_opts;
mist_style_div_opts mist_style_div_defaults(void);
typedef struct mist_style_div_result {
    int samples, slices;
    double l1[4], ssim[4];     /* mean pairwise L1 and SSIM per target domain, [0, 1] units */
} mist_style_div_result;
/* four: [n][4][img][img] in [0, 1]; out: [K][n][img][img], sample k
 * decoded with n style codes of the mapping network from seed + k. */
int mist_style_diverse(mist_style_model *m, const float *four, int n, int target, int K, uint32_t seed, float *out,
                       char *err, size_t errlen);
/* Mean over slices and sample pairs k < k' of L1 and SSIM. */
void mist_style_pairwise(const float *out, int K, int n, int img, double *l1, double *ssim);
int mist_style_diversity(mist_style_model *m, const mist_style_div_opts *o, mist_style_div_result *res, FILE *log,
                         char *err, size_t errlen);

/* k cache slices spread over all cases of c (round-robin over the cases
 * sorted by id, each's middle half), as mist_pick_slices does for a split
 * part. Returns the count (< k when the cache is small) or -1. */
int mist_style_pick(const io_cache *c, int k, int64_t *out, char *err, size_t errlen);
