/* Case folders and reference volumes for the style analyses (see
 * style_case.h). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "io/discover.h"
#include "train/style_case.h"

void mist_style_case_free(mist_style_case *c) {
    for (int d = 0; d < 4; d++) io_volume_free(&c->vol[d]);
    free(c->brain_z);
    memset(c, 0, sizeof *c);
}

static int read_volume(const char *path, int channel, io_volume *v, char *err, size_t errlen) {
    if (channel >= 0) return io_volume_read_channels(path, 1, &channel, v, err, errlen);
    return io_volume_read(path, v, err, errlen);
}

/* Normalises the loaded volumes and lists the brain slices. */
static int finish(mist_style_case *c, io_norm norm, char *err, size_t errlen) {
    const float *vols[4] = {0};
    int first = -1;
    for (int d = 0; d < 4; d++) {
        if (!c->have[d]) continue;
        const io_volume *v = &c->vol[d];
        if (first < 0) {
            first = d;
            memcpy(c->dims, v->dims, sizeof c->dims);
        } else if (memcmp(c->dims, v->dims, sizeof c->dims)) {
            snprintf(err, errlen, "case %s: %s is %dx%dx%d but %s is %dx%dx%d (the modalities must share one grid)", c->id,
                     io_domain_name(first), c->dims[0], c->dims[1], c->dims[2], io_domain_name(d), v->dims[0], v->dims[1],
                     v->dims[2]);
            return -1;
        }
        io_normalize(v->data, (size_t)v->dims[0] * v->dims[1] * v->dims[2], norm);
    }
    if (first < 0) {
        snprintf(err, errlen, "case %s: no modality loaded", c->id);
        return -1;
    }
    /* any modality > 0 counts as brain: a missing one just repeats a present one */
    for (int d = 0; d < 4; d++) vols[d] = c->vol[c->have[d] ? d : first].data;
    c->brain_z = malloc(sizeof(int) * (size_t)c->dims[2]);
    if (!c->brain_z) {
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    double thr = io_prep_defaults(32).slice_frac;
    for (int z = 0; z < c->dims[2]; z++)
        if (io_slice_brain_frac(vols, c->dims, z) >= thr) c->brain_z[c->n_brain++] = z;
    if (!c->n_brain) {
        snprintf(err, errlen, "case %s: no axial slice with brain (every voxel is 0?)", c->id);
        return -1;
    }
    return 0;
}

int mist_style_case_load(const char *dir, io_norm norm, unsigned want, unsigned need, mist_style_case *c, char *err,
                         size_t errlen) {
    memset(c, 0, sizeof *c);
    c->site = -1;
    io_caselist cl;
    if (io_discover(dir, &cl, err, errlen)) return -1;
    int total = cl.n + cl.n_incomplete;
    if (total != 1) {
        if (total == 0) snprintf(err, errlen, "%s: no BraTS-named NIfTI files (*_t1, *_t1ce, *_t2, *_flair or 2023 names)", dir);
        else snprintf(err, errlen, "%s holds %d cases; give one case folder", dir, total);
        io_caselist_free(&cl);
        return -1;
    }
    const io_case *k = cl.n ? &cl.cases[0] : &cl.incomplete[0];
    snprintf(c->id, sizeof c->id, "%s", k->id);
    snprintf(c->dir, sizeof c->dir, "%s", k->dir);
    int rc = 0;
    for (int d = 0; d < 4 && !rc; d++) {
        if (!k->path[d]) {
            if (need >> d & 1) {
                snprintf(err, errlen, "case %s in %s has no %s file (needed as an input)", k->id, dir, io_domain_name(d));
                rc = -1;
            }
            continue;
        }
        if (!(want >> d & 1)) continue;
        rc = read_volume(k->path[d], k->channel[d], &c->vol[d], err, errlen);
        c->have[d] = !rc;
    }
    io_caselist_free(&cl);
    if (!rc) rc = finish(c, norm, err, errlen);
    if (!rc) c->site = mist_style_site(c->dir, c->id);
    if (rc) mist_style_case_free(c);
    return rc;
}

int mist_style_case_file(const char *path, int channel, int d, io_norm norm, const char *id, mist_style_case *c,
                         char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->site = -1;
    snprintf(c->id, sizeof c->id, "%s", id ? id : path);
    if (d < 0 || d > 3) {
        snprintf(err, errlen, "bad domain %d", d);
        return -1;
    }
    int rc = read_volume(path, channel, &c->vol[d], err, errlen);
    c->have[d] = !rc;
    if (!rc) rc = finish(c, norm, err, errlen);
    if (rc) mist_style_case_free(c);
    return rc;
}

int mist_style_case_slice(const mist_style_case *c, int d, int z, int img, float *out) {
    if (z < 0 || z >= c->dims[2] || d < 0 || d > 3) return -1;
    if (!c->have[d]) {
        memset(out, 0, sizeof(float) * (size_t)img * img);
        return 0;
    }
    io_slice_extract(c->vol[d].data, c->dims, z, img, out);
    return 0;
}

int mist_style_case_four(const mist_style_case *c, int z, int img, float *four) {
    for (int d = 0; d < 4; d++)
        if (mist_style_case_slice(c, d, z, img, four + (size_t)d * img * img)) return -1;
    return 0;
}

int mist_style_case_mid(const mist_style_case *c) { return c->n_brain ? c->brain_z[c->n_brain / 2] : -1; }

int mist_style_case_middle(const mist_style_case *c, int k, int *zs) {
    int nb = c->n_brain;
    if (k <= 0 || nb <= 0) return 0;
    int lo = nb / 3, hi = nb - nb / 3; /* the middle third, [lo, hi) */
    if (hi - lo < 1) lo = 0, hi = nb;
    int span = hi - lo, m = k < span ? k : span;
    for (int i = 0; i < m; i++) zs[i] = c->brain_z[lo + (int)((i + 0.5) * span / m)];
    return m;
}

int mist_style_site(const char *dir, const char *id) {
    char path[1400];
    snprintf(path, sizeof path, "%s/%s.json", dir, id);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (!buf) return -1;
    buf[n] = 0;
    cJSON *root = cJSON_Parse(buf);
    free(buf);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "site");
    int site = cJSON_IsNumber(s) && s->valuedouble >= 0 ? (int)s->valuedouble : -1;
    cJSON_Delete(root);
    return site;
}

void mist_style_refs_free(mist_style_refs *r) {
    for (int i = 0; i < r->n; i++) free(r->path[i]), free(r->id[i]);
    free(r->path), free(r->id), free(r->channel);
    memset(r, 0, sizeof *r);
}

static int add_ref(mist_style_refs *r, int cap, const char *path, int channel, const char *id) {
    r->found++;
    if (r->n >= cap) return 0;
    r->path[r->n] = strdup(path);
    r->id[r->n] = strdup(id);
    r->channel[r->n] = channel;
    if (!r->path[r->n] || !r->id[r->n]) {
        free(r->path[r->n]), free(r->id[r->n]);
        return -1;
    }
    r->n++;
    return 0;
}

static int by_id(const void *a, const void *b) {
    return strcmp((*(const io_case *const *)a)->id, (*(const io_case *const *)b)->id);
}

/* The case id of a file: its name without folder, NIfTI extension and
 * BraTS modality suffix (so a phantom file finds its sidecar). */
static void base_id(const char *path, char *out, size_t len) {
    static const char *const sfx[] = {"_t1", "_t1ce", "_t2", "_flair", "-t1n", "-t1c", "-t2w", "-t2f"};
    const char *b = strrchr(path, '/');
    snprintf(out, len, "%s", b ? b + 1 : path);
    char *e = strstr(out, ".nii");
    if (e) *e = 0;
    size_t n = strlen(out);
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        size_t k = strlen(sfx[i]);
        if (n > k && !strcmp(out + n - k, sfx[i])) {
            out[n - k] = 0;
            break;
        }
    }
}

int mist_style_refs_find(const char *const *specs, int nspecs, int d, int max, mist_style_refs *r, char *err,
                         size_t errlen) {
    memset(r, 0, sizeof *r);
    if (max < 1) max = 1;
    r->path = calloc((size_t)max, sizeof *r->path);
    r->id = calloc((size_t)max, sizeof *r->id);
    r->channel = calloc((size_t)max, sizeof *r->channel);
    if (!r->path || !r->id || !r->channel) {
        mist_style_refs_free(r);
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    for (int s = 0; s < nspecs; s++) {
        struct stat st;
        if (stat(specs[s], &st)) {
            snprintf(err, errlen, "reference %s: no such file or folder", specs[s]);
            mist_style_refs_free(r);
            return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
            char id[256];
            base_id(specs[s], id, sizeof id);
            if (add_ref(r, max, specs[s], -1, id)) goto oom;
            continue;
        }
        io_caselist cl;
        if (io_discover(specs[s], &cl, err, errlen)) {
            mist_style_refs_free(r);
            return -1;
        }
        int total = cl.n + cl.n_incomplete, found = 0, rc = 0;
        const io_case **all = malloc(sizeof *all * (size_t)(total ? total : 1));
        if (!all) rc = -1;
        for (int i = 0; !rc && i < cl.n; i++) all[i] = &cl.cases[i];
        for (int i = 0; !rc && i < cl.n_incomplete; i++) all[cl.n + i] = &cl.incomplete[i];
        if (!rc) qsort(all, (size_t)total, sizeof *all, by_id);
        for (int i = 0; !rc && i < total; i++)
            if (all[i]->path[d]) {
                found++;
                rc = add_ref(r, max, all[i]->path[d], all[i]->channel[d], all[i]->id);
            }
        free(all);
        io_caselist_free(&cl);
        if (rc) goto oom;
        if (!found) {
            snprintf(err, errlen, "reference folder %s holds no %s file", specs[s], io_domain_name(d));
            mist_style_refs_free(r);
            return -1;
        }
    }
    if (!r->n) {
        snprintf(err, errlen, "no reference scans given");
        mist_style_refs_free(r);
        return -1;
    }
    return r->n;
oom:
    snprintf(err, errlen, "out of host memory");
    mist_style_refs_free(r);
    return -1;
}
