/* `vkmist style embed`: style codes of the same N slices in each domain, a
 * 2-D t-SNE of them coloured by domain and by acquisition site, and how
 * well the codes separate domains and sites (leave-one-out 1-NN). The
 * phantom records each case's site, so it is the ground truth here. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "io/util.h"
#include "train/dataset.h"
#include "train/loader.h"
#include "train/samples.h"
#include "train/style_plot.h"
#include "train/style_tools.h"
#include "train/tsne.h"

#define MAX_SITES 10

mist_style_embed_opts mist_style_embed_defaults(void) {
    mist_style_embed_opts o = {NULL, 100, "style_embed", 1, 1000, 30.0};
    return o;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int mist_style_pick(const io_cache *c, int k, int64_t *out, char *err, size_t errlen) {
    io_split s;
    memset(&s, 0, sizeof s);
    s.ids[0] = malloc(sizeof(char *) * (size_t)(c->n_cases ? c->n_cases : 1));
    if (!s.ids[0]) return io_err(err, errlen, "out of host memory");
    memcpy(s.ids[0], c->case_ids, sizeof(char *) * (size_t)c->n_cases);
    s.n[0] = c->n_cases;
    qsort(s.ids[0], (size_t)s.n[0], sizeof(char *), cmp_str); /* io_split_find bisects */
    int got = mist_pick_slices(c, &s, IO_SPLIT_TRAIN, k, out, err, errlen);
    free(s.ids[0]);
    return got;
}

static cJSON *num_or_null(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

static int write_json(const char *path, const mist_style_model *m, const mist_style_embed_result *r, char *err,
                      size_t errlen) {
    cJSON *root = cJSON_CreateObject(), *sa = cJSON_CreateObject(), *sx = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "checkpoint", m->path);
    cJSON_AddNumberToObject(root, "step", (double)m->step);
    cJSON_AddStringToObject(root, "config", m->cfg.name);
    cJSON_AddNumberToObject(root, "slices_per_domain", r->slices);
    cJSON_AddNumberToObject(root, "points", r->n);
    cJSON_AddNumberToObject(root, "cases", r->cases);
    cJSON_AddNumberToObject(root, "sites", r->nsites);
    cJSON_AddItemToObject(root, "domain_nn1_accuracy", num_or_null(r->domain_acc));
    cJSON_AddItemToObject(root, "domain_nn1_accuracy_tsne", num_or_null(r->domain_acc_tsne));
    for (int d = 0; d < 4; d++) {
        cJSON_AddItemToObject(sa, mist_domain_name(d), num_or_null(r->site_acc[d]));
        cJSON_AddItemToObject(sx, mist_domain_name(d), num_or_null(r->site_acc_xcase[d]));
    }
    cJSON_AddItemToObject(root, "site_nn1_accuracy", sa);
    cJSON_AddItemToObject(root, "site_nn1_accuracy_mean", num_or_null(r->site_acc_mean));
    cJSON_AddItemToObject(root, "site_nn1_accuracy_other_cases", sx);
    cJSON_AddItemToObject(root, "site_nn1_accuracy_other_cases_mean", num_or_null(r->site_acc_xcase_mean));
    cJSON_AddItemToObject(root, "site_chance", num_or_null(r->site_chance));
    cJSON_AddItemToObject(root, "baseline_histogram_site_nn1_accuracy_other_cases_mean",
                          num_or_null(r->hist_site_acc_xcase_mean));
    cJSON_AddStringToObject(root, "note", "leave-one-out 1-NN (Euclidean) in style space; site accuracy within each "
                                          "domain; 'other_cases' never takes a neighbour from the same case");
    char *txt = cJSON_Print(root);
    cJSON_Delete(root);
    FILE *f = txt ? fopen(path, "w") : NULL;
    int rc = f && fputs(txt, f) >= 0 && fputc('\n', f) != EOF ? 0 : -1;
    if (f && fclose(f)) rc = -1;
    free(txt);
    return rc ? io_err(err, errlen, "cannot write %s", path) : 0;
}

static int write_csv(const char *path, const mist_style_model *m, const io_cache *c, const int64_t *picks, int N,
                     const int *site, const float *codes, const float *y, char *err, size_t errlen) {
    int S = m->cfg.style_dim;
    FILE *f = fopen(path, "w");
    if (!f) return io_err(err, errlen, "cannot write %s", path);
    fprintf(f, "domain,case,site,slice,tsne_x,tsne_y");
    for (int j = 0; j < S; j++) fprintf(f, ",s%d", j);
    fputc('\n', f);
    for (int d = 0; d < 4; d++)
        for (int i = 0; i < N; i++) {
            int p = d * N + i, ci = c->info[picks[i]].case_idx;
            fprintf(f, "%s,%s,", mist_domain_name(d), c->case_ids[ci]);
            if (site[ci] >= 0) fprintf(f, "%d", site[ci]);
            fprintf(f, ",%d,%.6g,%.6g", c->info[picks[i]].z, y[2 * p], y[2 * p + 1]);
            for (int j = 0; j < S; j++) fprintf(f, ",%.7g", codes[(size_t)p * S + j]);
            fputc('\n', f);
        }
    int rc = ferror(f) ? -1 : 0;
    if (fclose(f)) rc = -1;
    return rc ? io_err(err, errlen, "writing %s failed", path) : 0;
}

/* Site of each cache case from the phantom sidecars (-1 unknown). */
static int case_sites(const mist_dataset *ds, int *site) {
    int nsites = 0;
    for (int ci = 0; ci < ds->cache->n_cases; ci++) {
        site[ci] = -1;
        for (int k = 0; k < ds->cases.n; k++)
            if (!strcmp(ds->cases.cases[k].id, ds->cache->case_ids[ci])) {
                site[ci] = mist_style_site(ds->cases.cases[k].dir, ds->cases.cases[k].id);
                break;
            }
        if (site[ci] >= MAX_SITES) site[ci] = -1; /* more than the legend can tell apart */
        if (site[ci] + 1 > nsites) nsites = site[ci] + 1;
    }
    return nsites;
}

/* Intensity histogram (HIST_BINS bins over (0, 1], non-zero pixels, as
 * fractions) of each point's slice: a model-free feature for the baseline. */
#define HIST_BINS 16
static void histograms(const io_cache *c, const int64_t *picks, int N, float *h) {
    int img = c->params.img;
    size_t px = (size_t)img * img;
    for (int d = 0; d < 4; d++)
        for (int i = 0; i < N; i++) {
            const float *s = io_cache_slice(c, picks[i]) + d * px;
            float *o = h + ((size_t)d * N + i) * HIST_BINS;
            int nz = 0;
            memset(o, 0, sizeof(float) * HIST_BINS);
            for (size_t k = 0; k < px; k++) {
                if (!(s[k] > 0)) continue;
                int b = (int)(s[k] * HIST_BINS);
                o[b >= HIST_BINS ? HIST_BINS - 1 : b] += 1;
                nz++;
            }
            for (int b = 0; nz && b < HIST_BINS; b++) o[b] /= nz;
        }
}

static int accuracies(mist_style_embed_result *r, const float *codes, const float *y, const float *hist, int N, int S,
                      const int *pt_case, const int *pt_site) {
    int n = 4 * N;
    int *dom = malloc(sizeof(int) * n), *lab = malloc(sizeof(int) * n);
    if (!dom || !lab) {
        free(dom), free(lab);
        return -1;
    }
    for (int p = 0; p < n; p++) dom[p] = p / N;
    r->domain_acc = mist_nn1_accuracy(codes, n, S, dom, NULL, NULL);
    r->domain_acc_tsne = mist_nn1_accuracy(y, n, 2, dom, NULL, NULL);
    double sum = 0, sumx = 0, sumh = 0;
    for (int d = 0; d < 4; d++) {
        for (int p = 0; p < n; p++) lab[p] = dom[p] == d ? pt_site[p] : -1;
        r->site_acc[d] = mist_nn1_accuracy(codes, n, S, lab, NULL, NULL);
        r->site_acc_xcase[d] = mist_nn1_accuracy(codes, n, S, lab, NULL, pt_case);
        sumh += mist_nn1_accuracy(hist, n, HIST_BINS, lab, NULL, pt_case);
        sum += r->site_acc[d];
        sumx += r->site_acc_xcase[d];
    }
    r->site_acc_mean = sum / 4;
    r->site_acc_xcase_mean = sumx / 4;
    r->hist_site_acc_xcase_mean = sumh / 4;
    int count[MAX_SITES] = {0}, known = 0, best = 0;
    for (int i = 0; i < N; i++)
        if (pt_site[i] >= 0) count[pt_site[i]]++, known++;
    for (int s = 0; s < MAX_SITES; s++)
        if (count[s] > best) best = count[s];
    r->site_chance = known ? (double)best / known : NAN;
    free(dom), free(lab);
    return 0;
}

int mist_style_embed(mist_style_model *m, const mist_style_embed_opts *o, mist_style_embed_result *r, FILE *log,
                     char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    int img = m->cfg.img, S = m->cfg.style_dim;
    size_t px = (size_t)img * img;
    if (o->per_domain < 2) return io_err(err, errlen, "embed: --per-domain must be at least 2");
    mist_dataset ds;
    if (mist_dataset_open(&ds, o->data_dir, img, m->norm, 1, NULL, log, err, errlen)) return -1;
    int N = o->per_domain, n = 0, rc = 0;
    int64_t *picks = malloc(sizeof(int64_t) * N);
    int *site = malloc(sizeof(int) * (size_t)ds.cache->n_cases), *pt_case = NULL, *pt_site = NULL, *pt_dom = NULL;
    float *x = NULL, *codes = NULL, *y = NULL;
    if (!picks || !site) rc = io_err(err, errlen, "out of host memory");
    if (!rc && (N = mist_style_pick(ds.cache, N, picks, err, errlen)) < 2) {
        if (N >= 0) io_err(err, errlen, "embed: the data holds %d slice(s); at least 2 are needed", N);
        rc = -1;
    }
    if (!rc) {
        n = 4 * N;
        x = malloc(sizeof(float) * px * N);
        codes = malloc(sizeof(float) * (size_t)n * S);
        y = malloc(sizeof(float) * 2 * (size_t)n);
        pt_case = malloc(sizeof(int) * n), pt_site = malloc(sizeof(int) * n), pt_dom = malloc(sizeof(int) * n);
        if (!x || !codes || !y || !pt_case || !pt_site || !pt_dom) rc = io_err(err, errlen, "out of host memory");
    }
    if (!rc) {
        r->nsites = case_sites(&ds, site);
        r->slices = N;
        r->n = n;
        for (int p = 0; p < n; p++) {
            pt_case[p] = ds.cache->info[picks[p % N]].case_idx;
            pt_site[p] = site[pt_case[p]];
            pt_dom[p] = p / N;
        }
        unsigned char *seen = calloc((size_t)ds.cache->n_cases, 1);
        for (int i = 0; seen && i < N; i++) r->cases += !seen[pt_case[i]]++;
        free(seen);
        if (log) fprintf(log, "encoding %d slices (from %d cases) in each of the 4 domains\n", N, r->cases);
    }
    for (int d = 0; d < 4 && !rc; d++) {
        for (int i = 0; i < N; i++) memcpy(x + (size_t)i * px, io_cache_slice(ds.cache, picks[i]) + d * px, sizeof(float) * px);
        rc = mist_style_encode(m, d, x, N, codes + (size_t)d * N * S, err, errlen);
    }
    if (!rc) {
        mist_tsne_opts to = mist_tsne_defaults();
        to.seed = o->seed;
        to.iters = o->iters;
        to.perplexity = o->perplexity;
        if (log) fprintf(log, "t-SNE of %d style codes (%d-D, perplexity %g, %d iterations)\n", n, S, to.perplexity, to.iters);
        rc = mist_tsne(codes, n, S, &to, y, err, errlen);
        float *hist = rc ? NULL : malloc(sizeof(float) * (size_t)n * HIST_BINS);
        if (hist) histograms(ds.cache, picks, N, hist);
        if (!rc && (!hist || accuracies(r, codes, y, hist, N, S, pt_case, pt_site)))
            rc = io_err(err, errlen, "out of host memory");
        free(hist);
    }
    char path[1200];
    if (!rc) {
        snprintf(path, sizeof path, "%s.csv", o->out);
        rc = write_csv(path, m, ds.cache, picks, N, site, codes, y, err, errlen);
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s.json", o->out);
        rc = write_json(path, m, r, err, errlen);
    }
    if (!rc) {
        const char *names[4];
        char title[160];
        for (int d = 0; d < 4; d++) names[d] = mist_domain_label(d);
        snprintf(path, sizeof path, "%s_domain.png", o->out);
        snprintf(title, sizeof title, "style codes by domain: 1-NN %.2f (chance 0.25)", r->domain_acc);
        rc = mist_scatter_png(path, y, n, pt_dom, 4, names, title, 0, 0, err, errlen);
    }
    if (!rc && r->nsites > 0) {
        char names_buf[MAX_SITES][16], title[160];
        const char *names[MAX_SITES];
        for (int s = 0; s < r->nsites; s++) snprintf(names_buf[s], sizeof names_buf[s], "site %d", s), names[s] = names_buf[s];
        snprintf(path, sizeof path, "%s_site.png", o->out);
        snprintf(title, sizeof title, "by site: 1-NN %.2f, other-case 1-NN %.2f, chance %.2f", r->site_acc_mean,
                 r->site_acc_xcase_mean, r->site_chance);
        rc = mist_scatter_png(path, y, n, pt_site, r->nsites, names, title, 0, 0, err, errlen);
    }
    if (!rc && log) {
        fprintf(log, "domain 1-NN accuracy: %.3f in style space, %.3f in the t-SNE plane (chance 0.25)\n", r->domain_acc,
                r->domain_acc_tsne);
        if (r->nsites > 0) {
            fprintf(log, "site 1-NN accuracy within each domain (%d sites, chance %.3f):\n", r->nsites, r->site_chance);
            for (int d = 0; d < 4; d++)
                fprintf(log, "  %-5s %.3f (neighbour from another case: %.3f)\n", mist_domain_label(d), r->site_acc[d],
                        r->site_acc_xcase[d]);
            fprintf(log, "  mean  %.3f (neighbour from another case: %.3f)\n", r->site_acc_mean, r->site_acc_xcase_mean);
            fprintf(log, "baseline without the model: other-case site 1-NN on the slices' intensity histograms %.3f\n",
                    r->hist_site_acc_xcase_mean);
        } else {
            fprintf(log, "no site information (no phantom sidecar JSON): site accuracy not computed\n");
        }
        fprintf(log, "wrote %s.csv, %s.json, %s_domain.png%s%s%s\n", o->out, o->out, o->out, r->nsites ? ", " : "",
                r->nsites ? o->out : "", r->nsites ? "_site.png" : "");
    }
    free(picks), free(site), free(pt_case), free(pt_site), free(pt_dom), free(x), free(codes), free(y);
    mist_dataset_close(&ds);
    return rc;
}
