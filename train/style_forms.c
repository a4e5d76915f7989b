/* `vkmist style forms` (Fig. 4a): one target modality of a case imputed from
 * its other three in the styles of K reference scans of the target
 * modality, plus the mean style (see style_tools.h). */
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "io/font.h"
#include "io/grid.h"
#include "io/metrics.h"
#include "train/samples.h"
#include "train/style_tools.h"

int mist_style_tile(int img) { return img * ((128 + img - 1) / img); }

mist_style_forms_opts mist_style_forms_defaults(void) {
    mist_style_forms_opts o;
    memset(&o, 0, sizeof o);
    o.target = -1;
    o.max_refs = 8;
    o.ref_slices = 5;
    o.slice = -1;
    o.out = "style_forms.png";
    return o;
}

int mist_style_ref_code(mist_style_model *m, const mist_style_case *ref, int d, int k, float *code, float *shown,
                        char *err, size_t errlen) {
    int img = m->cfg.img, S = m->cfg.style_dim;
    size_t px = (size_t)img * img;
    if (k < 1) k = 1;
    int *zs = malloc(sizeof(int) * (size_t)k);
    float *x = malloc(sizeof(float) * px * (size_t)k), *codes = malloc(sizeof(float) * (size_t)S * k);
    int rc = 0;
    if (!zs || !x || !codes) {
        snprintf(err, errlen, "out of host memory");
        rc = -1;
    }
    int nz = rc ? 0 : mist_style_case_middle(ref, k, zs);
    if (!rc && nz < 1) {
        snprintf(err, errlen, "reference %s has no brain slice", ref->id);
        rc = -1;
    }
    for (int i = 0; i < nz && !rc; i++) mist_style_case_slice(ref, d, zs[i], img, x + (size_t)i * px);
    if (!rc) rc = mist_style_encode(m, d, x, nz, codes, err, errlen);
    for (int j = 0; j < S && !rc; j++) {
        double acc = 0;
        for (int i = 0; i < nz; i++) acc += codes[(size_t)i * S + j];
        code[j] = (float)(acc / nz);
    }
    if (!rc && shown) mist_style_case_slice(ref, d, mist_style_case_mid(ref), img, shown);
    free(zs), free(x), free(codes);
    return rc;
}

static int draw(const mist_style_forms_opts *o, const mist_style_case *c, const mist_style_refs *refs, int img,
                const float *four, const float *shown, const float *out, char *err, size_t errlen) {
    int K = refs->n, t = o->target, cols = K + 1 > 4 ? K + 1 : 4, tile = mist_style_tile(img);
    size_t px = (size_t)img * img;
    io_grid *g = io_grid_new(cols, 3, tile, tile, 11);
    if (!g) {
        snprintf(err, errlen, "cannot make a %d x 3 picture grid", cols);
        return -1;
    }
    char lab[96];
    int col = 0;
    for (int d = 0; d < 4; d++) {
        if (d == t) continue;
        io_grid_put(g, col, 0, four + d * px, img, img);
        snprintf(lab, sizeof lab, "input %s", mist_domain_label(d));
        io_grid_label(g, col++, 0, lab);
    }
    if (c->have[t]) io_grid_put(g, 3, 0, four + t * px, img, img);
    snprintf(lab, sizeof lab, c->have[t] ? "truth %s" : "(no %s)", mist_domain_label(t));
    io_grid_label(g, 3, 0, lab);
    for (int k = 0; k < K; k++) {
        io_grid_put(g, k, 1, shown + k * px, img, img);
        /* long ids (BraTS-GLI-01234-000) differ at the end: keep the tail */
        int maxc = tile / IO_FONT_ADVANCE - 3 - (k + 1 >= 10), len = (int)strlen(refs->id[k]);
        if (len > maxc && maxc > 4) snprintf(lab, sizeof lab, "%d:..%s", k + 1, refs->id[k] + len - (maxc - 2));
        else snprintf(lab, sizeof lab, "%d:%s", k + 1, refs->id[k]);
        io_grid_label(g, k, 1, lab);
        io_grid_put(g, k, 2, out + k * px, img, img);
        snprintf(lab, sizeof lab, "style %d", k + 1);
        io_grid_label(g, k, 2, lab);
    }
    io_grid_label(g, K, 1, "(mean style)");
    io_grid_put(g, K, 2, out + K * px, img, img);
    io_grid_label(g, K, 2, "mean style");
    int rc = io_grid_write(g, o->out, err, errlen);
    io_grid_free(g);
    return rc;
}

int mist_style_forms(mist_style_model *m, const mist_style_forms_opts *o, FILE *log, char *err, size_t errlen) {
    int img = m->cfg.img, S = m->cfg.style_dim, t = o->target;
    size_t px = (size_t)img * img;
    if (t < 0 || t > 3) {
        snprintf(err, errlen, "forms: no target modality");
        return -1;
    }
    mist_style_case c;
    if (mist_style_case_load(o->case_dir, m->norm, 0xFu, 0xFu & ~(1u << t), &c, err, errlen)) return -1;
    int z = o->slice >= 0 ? o->slice : mist_style_case_mid(&c);
    mist_style_refs refs = {0};
    float *four = NULL, *shown = NULL, *codes = NULL, *batch = NULL, *out = NULL;
    int rc = 0;
    if (z >= c.dims[2]) {
        snprintf(err, errlen, "--slice %d is outside case %s (0..%d)", z, c.id, c.dims[2] - 1);
        rc = -1;
    }
    if (!rc && mist_style_refs_find(o->refs, o->nrefs, t, o->max_refs, &refs, err, errlen) < 0) rc = -1;
    int K = refs.n;
    if (!rc && log && refs.found > K)
        fprintf(log, "using the first %d of %d reference scans (--max-refs)\n", K, refs.found);
    if (!rc) {
        four = malloc(sizeof(float) * 4 * px);
        shown = calloc((size_t)K * px, sizeof(float));
        codes = malloc(sizeof(float) * (size_t)(K + 1) * S);
        batch = malloc(sizeof(float) * 4 * px * (size_t)(K + 1));
        out = malloc(sizeof(float) * px * (size_t)(K + 1));
        if (!four || !shown || !codes || !batch || !out) {
            snprintf(err, errlen, "out of host memory");
            rc = -1;
        }
    }
    if (!rc) rc = mist_style_case_four(&c, z, img, four);
    for (int k = 0; k < K && !rc; k++) {
        mist_style_case ref;
        char *pc = strdup(refs.path[k]);
        rc = !pc || mist_style_case_file(refs.path[k], refs.channel[k], t, m->norm, refs.id[k], &ref, err, errlen);
        if (!rc) {
            ref.site = mist_style_site(dirname(pc), refs.id[k]);
            rc = mist_style_ref_code(m, &ref, t, o->ref_slices, codes + (size_t)k * S, shown + (size_t)k * px, err,
                                     errlen);
            if (log && !rc) {
                double dist = 0;
                for (int j = 0; j < S; j++) dist += fabs(codes[(size_t)k * S + j] - m->mean_style[t * S + j]) / S;
                char site[32] = "";
                if (ref.site >= 0) snprintf(site, sizeof site, " (site %d)", ref.site);
                fprintf(log, "reference %d: %s%s, style L1 to the mean %s style %.4f\n", k + 1, refs.id[k], site,
                        mist_domain_label(t), dist);
            }
            mist_style_case_free(&ref);
        }
        free(pc);
    }
    if (!rc) {
        memcpy(codes + (size_t)K * S, m->mean_style + (size_t)t * S, sizeof(float) * S);
        for (int k = 0; k <= K; k++) memcpy(batch + (size_t)k * 4 * px, four, sizeof(float) * 4 * px);
        rc = mist_style_generate(m, t, batch, K + 1, codes, out, err, errlen);
    }
    if (!rc && log) {
        fprintf(log, "case %s, slice %d: %s imputed in %d reference styles + the mean style\n", c.id, z,
                mist_domain_label(t), K);
        for (int k = 0; k <= K; k++) {
            double l1 = io_mae(out + (size_t)k * px, out + (size_t)K * px, px, NULL);
            fprintf(log, "  %-12s L1 to the mean-style output %.4f", k < K ? refs.id[k] : "mean style", l1);
            if (c.have[t])
                fprintf(log, ", vs truth: L1 %.4f SSIM %.4f", io_mae(out + (size_t)k * px, four + (size_t)t * px, px, NULL),
                        io_ssim(out + (size_t)k * px, four + (size_t)t * px, img, img, NULL));
            fputc('\n', log);
        }
    }
    if (!rc) rc = draw(o, &c, &refs, img, four, shown, out, err, errlen);
    if (!rc && log) fprintf(log, "wrote %s\n", o->out);
    free(four), free(shown), free(codes), free(batch), free(out);
    mist_style_refs_free(&refs);
    mist_style_case_free(&c);
    return rc;
}
