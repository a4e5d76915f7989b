/* Phantom case generation: describes a case from the data-set seed, draws
 * its tissue label map, and images it in each modality (tissue levels,
 * partial-volume smoothing, multiplicative bias field, Rician noise,
 * int16 quantisation, zero outside the brain as after skull stripping). */
#include "io/phantom_internal.h"
#include "io/util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

void io_phantom_default_opts(io_phantom_opts *o) {
    memset(o, 0, sizeof *o);
    o->cases = 12;
    o->seed = 1;
    o->sites = 3;
    o->preview_cases = 4;
    o->nx = IO_PH_DIM_X;
    o->ny = IO_PH_DIM_Y;
    o->nz = IO_PH_DIM_Z;
}

void io_ph_case_describe(uint64_t seed, int i, int sites, io_ph_case_info *c) {
    memset(c, 0, sizeof *c);
    c->index = i;
    io_ph_rng r = io_ph_rng_make(seed, IO_PH_STREAM_CASE, (uint64_t)i);
    c->seed = io_ph_next(&r);
    io_ph_site_make(seed, sites > 0 ? i % sites : 0, &c->site);
    io_ph_rng ra = io_ph_rng_make(c->seed, IO_PH_STREAM_ANATOMY, 0);
    io_ph_anatomy_describe(&ra, c);
    io_ph_signal_describe(&r, c);
}

/* [1 2 1]/4 along one axis (stride st, n samples per line): the partial
 * volume of a voxel straddling two tissues. */
static void smooth_axis(float *f, int nx, int ny, int nz, int axis, float *line) {
    int n = axis == 0 ? nx : axis == 1 ? ny : nz;
    size_t st = axis == 0 ? 1 : axis == 1 ? (size_t)nx : (size_t)nx * ny;
    int na = axis == 0 ? ny : nx, nb = axis == 2 ? ny : nz;
    size_t sa = axis == 0 ? (size_t)nx : 1, sb = axis == 2 ? (size_t)nx : (size_t)nx * ny;
    for (int b = 0; b < nb; b++)
        for (int a = 0; a < na; a++) {
            float *p = f + (size_t)a * sa + (size_t)b * sb;
            for (int k = 0; k < n; k++) line[k] = p[k * st];
            for (int k = 0; k < n; k++) {
                float l = line[k > 0 ? k - 1 : k], r = line[k < n - 1 ? k + 1 : k];
                p[k * st] = 0.25f * (l + r) + 0.5f * line[k];
            }
        }
}

/* exp of a quadratic polynomial in position (units of 100 mm). */
static double bias_at(const double co[9], const double p[3]) {
    double x = p[0] / 100, y = p[1] / 100, z = p[2] / 100;
    return exp(co[0] * x + co[1] * y + co[2] * z + co[3] * (x * x - 0.2) + co[4] * (y * y - 0.2) +
               co[5] * (z * z - 0.1) + co[6] * x * y + co[7] * x * z + co[8] * y * z);
}

static void image_modality(const io_phantom_case *c, int m, float *f, float *line) {
    int nx = c->nx, ny = c->ny, nz = c->nz;
    size_t n = (size_t)nx * ny * nz;
    const io_ph_case_info *ci = &c->info;
    double lev[IO_PH_NTISSUE];
    io_ph_tissue_levels(ci, m, lev);
    /* outside the brain take the CSF level so smoothing does not darken the
     * outer CSF layer; the mask zeroes it again below */
    lev[IO_PH_BG] = lev[IO_PH_CSF];
    for (size_t i = 0; i < n; i++) {
        uint8_t t = c->label[i];
        double v = lev[t];
        if (c->edema[i]) { /* partial edema: over its own tissue, or white matter under an edema label */
            double w = c->edema[i] / 255.0;
            v = (1 - w) * lev[t == IO_PH_EDEMA ? IO_PH_WM : t] + w * lev[IO_PH_EDEMA];
        }
        f[i] = (float)v;
    }
    for (int a = 0; a < 3; a++) smooth_axis(f, nx, ny, nz, a, line);
    io_ph_rng r = io_ph_rng_make(ci->seed, IO_PH_STREAM_NOISE, (uint64_t)m);
    double sx = IO_PH_FOV_X / nx, sy = IO_PH_FOV_Y / ny, sz = IO_PH_FOV_Z / nz, sigma = ci->sigma[m];
    int16_t *out = c->vol[m];
    size_t i = 0;
    for (int z = 0; z < nz; z++) {
        double p[3];
        p[2] = (z + 0.5) * sz - IO_PH_FOV_Z / 2;
        for (int y = 0; y < ny; y++) {
            p[1] = (y + 0.5) * sy - IO_PH_FOV_Y / 2;
            for (int x = 0; x < nx; x++, i++) {
                if (c->label[i] == IO_PH_BG) { out[i] = 0; continue; }
                p[0] = (x + 0.5) * sx - IO_PH_FOV_X / 2;
                double s = f[i] * bias_at(ci->bias[m], p), a, b;
                io_ph_normal2(&r, &a, &b);
                double v = sqrt((s + sigma * a) * (s + sigma * a) + (sigma * b) * (sigma * b)); /* Rician */
                long q = lrint(v);
                /* >= 1 keeps the brain mask recoverable from any modality */
                out[i] = (int16_t)(q < 1 ? 1 : q > 32767 ? 32767 : q);
            }
        }
    }
}

void io_phantom_case_free(io_phantom_case *c) {
    if (!c) return;
    for (int m = 0; m < IO_PH_NMOD; m++) free(c->vol[m]);
    free(c->label);
    free(c->edema);
    memset(c, 0, sizeof *c);
}

int io_phantom_generate(const io_phantom_opts *o, int i, io_phantom_case *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    if (o->nx < 16 || o->ny < 16 || o->nz < 16 || o->nx > 1024 || o->ny > 1024 || o->nz > 1024)
        return io_err(err, errlen, "phantom grid %dx%dx%d out of range (16..1024 per axis)", o->nx, o->ny, o->nz);
    if (o->sites < 1 || i < 0)
        return io_err(err, errlen, "phantom: bad case %d or site count %d", i, o->sites);
    c->nx = o->nx; c->ny = o->ny; c->nz = o->nz;
    size_t n = (size_t)c->nx * c->ny * c->nz;
    io_ph_case_describe(o->seed, i, o->sites, &c->info);
    c->label = malloc(n);
    c->edema = malloc(n);
    float *f = malloc(n * sizeof *f);
    int maxn = c->nx > c->ny ? c->nx : c->ny;
    float *line = malloc((size_t)(maxn > c->nz ? maxn : c->nz) * sizeof *line);
    int ok = c->label && c->edema && f && line;
    for (int m = 0; m < IO_PH_NMOD; m++) ok = (c->vol[m] = malloc(n * sizeof(int16_t))) && ok;
    if (!ok) {
        free(f); free(line);
        io_phantom_case_free(c);
        return io_err(err, errlen, "phantom: out of memory for a %dx%dx%d case", o->nx, o->ny, o->nz);
    }
    io_ph_anatomy_label(&c->info, c->nx, c->ny, c->nz, c->label, c->edema);
    for (int m = 0; m < IO_PH_NMOD; m++) image_modality(c, m, f, line);
    free(f);
    free(line);
    return 0;
}
