/* `vkmist style interpolate` (Fig. 4b): a case's content decoded with styles
 * on the straight line between two domains' mean styles (see style_tools.h). */
#include <stdlib.h>
#include <string.h>
#include "io/grid.h"
#include "train/samples.h"
#include "train/style_tools.h"

mist_style_interp_opts mist_style_interp_defaults(void) {
    mist_style_interp_opts o;
    memset(&o, 0, sizeof o);
    o.from = o.to = o.target = -1;
    o.steps = 11;
    o.slice = -1;
    o.out = "style_interpolate.png";
    return o;
}

int mist_style_interp_images(mist_style_model *m, const float *four, int target, int from, int to, int steps, float *out,
                             char *err, size_t errlen) {
    int S = m->cfg.style_dim;
    size_t px = (size_t)m->cfg.img * m->cfg.img;
    if (steps < 2 || from < 0 || from > 3 || to < 0 || to > 3 || target < 0 || target > 3) {
        snprintf(err, errlen, "interpolate: bad domains (%d -> %d, target %d) or steps %d", from, to, target, steps);
        return -1;
    }
    float *st = malloc(sizeof(float) * (size_t)steps * S), *batch = malloc(sizeof(float) * 4 * px * (size_t)steps);
    if (!st || !batch) {
        free(st), free(batch);
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    const float *a = m->mean_style + (size_t)from * S, *b = m->mean_style + (size_t)to * S;
    for (int i = 0; i < steps; i++) {
        /* exact endpoints: alpha 0 and 1 reproduce the domains' own mean styles */
        float al = (float)i / (float)(steps - 1);
        for (int j = 0; j < S; j++) st[(size_t)i * S + j] = (1 - al) * a[j] + al * b[j];
        memcpy(batch + (size_t)i * 4 * px, four, sizeof(float) * 4 * px);
    }
    int rc = mist_style_generate(m, target, batch, steps, st, out, err, errlen);
    free(st), free(batch);
    return rc;
}

int mist_style_interpolate(mist_style_model *m, const mist_style_interp_opts *o, FILE *log, char *err, size_t errlen) {
    int img = m->cfg.img, target = o->target >= 0 ? o->target : o->to, steps = o->steps;
    size_t px = (size_t)img * img;
    if (o->from < 0 || o->to < 0 || target < 0 || steps < 2) {
        snprintf(err, errlen, "interpolate: --from and --to are needed, and at least 2 steps");
        return -1;
    }
    mist_style_case c;
    if (mist_style_case_load(o->case_dir, m->norm, 0xFu, 0xFu & ~(1u << target), &c, err, errlen)) return -1;
    int z = o->slice >= 0 ? o->slice : mist_style_case_mid(&c), rc = 0;
    float *four = malloc(sizeof(float) * 4 * px), *out = malloc(sizeof(float) * px * (size_t)steps);
    io_grid *g = NULL;
    if (!four || !out) {
        snprintf(err, errlen, "out of host memory");
        rc = -1;
    } else if (z >= c.dims[2]) {
        snprintf(err, errlen, "--slice %d is outside case %s (0..%d)", z, c.id, c.dims[2] - 1);
        rc = -1;
    }
    if (!rc) rc = mist_style_case_four(&c, z, img, four);
    if (!rc) rc = mist_style_interp_images(m, four, target, o->from, o->to, steps, out, err, errlen);
    if (!rc && !(g = io_grid_new(steps, 2, mist_style_tile(img), mist_style_tile(img), 11))) {
        snprintf(err, errlen, "cannot make a %d x 2 picture grid", steps);
        rc = -1;
    }
    if (!rc) {
        char lab[64];
        for (int i = 0; i < steps; i++) {
            io_grid_put(g, i, 0, out + (size_t)i * px, img, img);
            snprintf(lab, sizeof lab, "a=%.2f", (double)i / (steps - 1));
            io_grid_label(g, i, 0, lab);
        }
        /* the real from/to scans of the case under the ends, for comparison */
        const int ends[2] = {o->from, o->to};
        for (int e = 0; e < 2; e++) {
            int col = e ? steps - 1 : 0, d = ends[e];
            if (!c.have[d]) continue;
            io_grid_put(g, col, 1, four + (size_t)d * px, img, img);
            snprintf(lab, sizeof lab, "real %s", mist_domain_label(d));
            io_grid_label(g, col, 1, lab);
        }
        if (steps > 2) {
            snprintf(lab, sizeof lab, "%s->%s", mist_domain_label(o->from), mist_domain_label(o->to));
            io_grid_label(g, steps / 2, 1, lab);
        }
        rc = io_grid_write(g, o->out, err, errlen);
    }
    if (!rc && log)
        fprintf(log, "case %s, slice %d: target %s (from the other three) decoded from the mean %s style to the mean %s "
                     "style in %d steps\nwrote %s\n",
                c.id, z, mist_domain_label(target), mist_domain_label(o->from), mist_domain_label(o->to), steps, o->out);
    io_grid_free(g);
    free(four), free(out);
    mist_style_case_free(&c);
    return rc;
}
