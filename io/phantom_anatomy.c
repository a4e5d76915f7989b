/* Procedural brain anatomy of the phantom: a deformed ellipsoidal cerebrum
 * with a folded cortical ribbon, sulcal and outer CSF, the interhemispheric
 * fissure, lateral and third ventricles with choroid plexus, deep grey
 * nuclei, cerebellum and brainstem, and tumours (necrotic core, enhancing
 * rim or non-enhancing core, edema spreading through white matter).
 * Everything is an analytic function of position in mm, so the same case
 * can be sampled on the full 1 mm grid or a coarse test grid. */
#include "io/phantom_internal.h"
#include <math.h>
#include <string.h>

#define TAU 6.283185307179586
/* Cerebrum centre relative to the volume centre, mm (RAS). BraTS (SRI24)
 * brains sit above the middle of the 155 slices: the cerebellum is below. */
static const double CEREBRUM_C[3] = {0.0, -4.0, 2.0};
/* lateral ventricles: centre (relative to the cerebrum centre) */
static const double VENT_Y0 = -4.0, VENT_Z0 = -2.0;
#define SULCUS_HALF_MM 0.45
#define BOX_P 2.25
#define EDEMA_MARGIN 0.3
#define MASS_K 0.6
#define FOLD_R 70.0 /* mm: radius of the sphere the outer folds are drawn on */

static double sq(double v) { return v * v; }
static double dot3(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

static void draw_tumour(io_ph_rng *r, const io_ph_case_info *c, io_ph_tumour *t, int metastasis) {
    double q[3];
    do {
        for (int k = 0; k < 3; k++) q[k] = io_ph_range(r, -1, 1);
    } while (dot3(q, q) > 1.0);
    static const double spread[3] = {0.62, 0.62, 0.45}; /* mostly mid-level hemispheres */
    for (int k = 0; k < 3; k++) t->c[k] = CEREBRUM_C[k] + spread[k] * c->radii[k] * q[k];
    t->c[2] = fmax(t->c[2], CEREBRUM_C[2] - 0.45 * c->radii[2]);
    t->enhancing = metastasis || io_ph_unif(r) < 0.8;
    t->r_core = metastasis ? io_ph_range(r, 4, 11) : io_ph_range(r, 7, 22);
    t->r_necrosis = (t->enhancing && t->r_core > 8) ? t->r_core * io_ph_range(r, 0.35, 0.7) : 0;
    t->r_edema = t->r_core + io_ph_range(r, 4, metastasis ? 16 : 22);
    for (int k = 0; k < 4; k++) {
        io_ph_unit(r, t->lobes[k]);
        t->lobes[k][3] = io_ph_range(r, 0.04, 0.15);
        t->edema_lobes[k] = io_ph_range(r, 2, 5.5);
    }
}

void io_ph_anatomy_describe(io_ph_rng *r, io_ph_case_info *c) {
    double scale = io_ph_range(r, 0.92, 1.06);
    static const double base[3] = {68, 84, 60};
    for (int k = 0; k < 3; k++) c->radii[k] = base[k] * scale * io_ph_range(r, 0.95, 1.05);
    for (int k = 0; k < 6; k++) {
        io_ph_unit(r, c->shape[k]);
        c->shape[k][3] = io_ph_range(r, 0.01, 0.03);
        c->shape[k][4] = io_ph_range(r, 1.0, 3.0);
        c->shape[k][5] = io_ph_range(r, 0, TAU);
    }
    /* gyral centres: dart throwing on the fold sphere keeps them evenly
     * spaced, so every part of the cortex is folded alike */
    c->gyrus_mm = io_ph_range(r, 10, 14);
    c->ngyri = 0;
    for (int tries = 0; tries < 20000 && c->ngyri < IO_PH_GYRI; tries++) {
        double n[3];
        io_ph_unit(r, n);
        int ok = 1;
        for (int k = 0; k < c->ngyri && ok; k++) {
            double d2 = 0;
            for (int j = 0; j < 3; j++) d2 += sq(n[j] * FOLD_R - c->gyri[k][j]);
            ok = d2 >= sq(c->gyrus_mm);
        }
        if (ok) {
            for (int j = 0; j < 3; j++) c->gyri[c->ngyri][j] = (float)(n[j] * FOLD_R);
            c->ngyri++;
        }
    }
    c->cortex_mm = io_ph_range(r, 2.6, 3.6);
    c->csf_mm = io_ph_range(r, 0.8, 2.4);
    c->sulcus_mm = io_ph_range(r, 17, 25);
    c->ventricle[0] = io_ph_unif(r) < 0.15 ? io_ph_range(r, 7, 10) : io_ph_range(r, 3.5, 7);
    c->ventricle[1] = io_ph_range(r, 6.5, 9.5);
    c->midline_phase = io_ph_range(r, 0, TAU);
    /* every 8th case is tumour-free; the rest mostly one glioma, some metastases */
    double u = io_ph_unif(r);
    c->ntumour = c->index % 8 == 7 ? 0 : u < 0.83 ? 1 : 2;
    for (int k = 0; k < c->ntumour; k++) draw_tumour(r, c, &c->tumour[k], c->ntumour > 1);
}

/* Ventricles, choroid plexus and deep grey nuclei; q relative to the cerebrum centre. */
static int deep_tissue(const io_ph_case_info *c, const double q[3]) {
    double w = c->ventricle[0], h = c->ventricle[1];
    double L = 30 + 1.5 * w;
    double ax = fabs(q[0]); /* the two hemispheres mirror each other */
    double t = (q[1] - VENT_Y0) / L;
    if (fabs(t) < 1) {
        /* banana-shaped: the occipital horns diverge and dip */
        /* xc - wt >= 1.2 mm: the septum pellucidum stays between them */
        double xc = 1.2 + w * (1.15 + 0.4 * fmax(0, -t)) + (t < 0 ? 12 : 4) * t * t;
        double wt = w * (1.1 + 0.5 * fmax(0, -t));
        double zc = VENT_Z0 - 5 * t * t;
        double e = sq((ax - xc) / wt) + sq((q[2] - zc) / h) + t * t;
        if (e < 1) {
            if (t < -0.35 && t > -0.8 &&
                sq((ax - xc) / (0.55 * wt)) + sq((q[2] - zc + 0.35 * h) / (0.45 * h)) < 1)
                return IO_PH_CHOROID;
            return IO_PH_CSF;
        }
    }
    /* third ventricle: a midline slit below the lateral ones */
    if (ax < 1.3 && q[1] > VENT_Y0 - 18 && q[1] < VENT_Y0 + 8 && q[2] < VENT_Z0 - 0.5 * h &&
        q[2] > VENT_Z0 - 24)
        return IO_PH_CSF;
    static const double nuclei[3][6] = {
        /* centre x, y, z (relative to ventricle origin), semi-axes */
        {11, -14, -10, 9, 14, 9},  /* thalamus */
        {0, 0, 1, 5, 10, 7},       /* caudate head (x set from the ventricle width) */
        {22, 4, -6, 6, 15, 10},    /* lentiform nucleus */
    };
    for (int k = 0; k < 3; k++) {
        double cx = k == 1 ? 5.5 + 1.7 * w : nuclei[k][0] + (k == 2 ? 0.5 * w : 0);
        double cy = VENT_Y0 + (k == 1 ? 0.55 * L : nuclei[k][1]);
        double cz = VENT_Z0 + nuclei[k][2];
        if (sq((ax - cx) / nuclei[k][3]) + sq((q[1] - cy) / nuclei[k][4]) + sq((q[2] - cz) / nuclei[k][5]) < 1)
            return IO_PH_DGM;
    }
    return IO_PH_BG;
}

/* Gyral centres bucketed in a cube grid so the two nearest are found
 * among the 27 cells around a point. */
#define GRID_N 12
typedef struct {
    double cs, off;
    int start[GRID_N * GRID_N * GRID_N + 1];
    int idx[IO_PH_GYRI];
} fold_grid;

static int grid_cell(const fold_grid *g, double v) {
    int k = (int)floor((v + g->off) / g->cs);
    return k < 0 ? 0 : k >= GRID_N ? GRID_N - 1 : k;
}

static void grid_build(const io_ph_case_info *c, fold_grid *g) {
    g->off = FOLD_R + 12;
    g->cs = 2 * g->off / GRID_N;
    int count[GRID_N * GRID_N * GRID_N] = {0}, cell[IO_PH_GYRI];
    for (int k = 0; k < c->ngyri; k++) {
        cell[k] = grid_cell(g, c->gyri[k][0]) + GRID_N * (grid_cell(g, c->gyri[k][1]) + GRID_N * grid_cell(g, c->gyri[k][2]));
        count[cell[k]]++;
    }
    g->start[0] = 0;
    for (int i = 0; i < GRID_N * GRID_N * GRID_N; i++) g->start[i + 1] = g->start[i] + count[i];
    for (int k = 0; k < c->ngyri; k++) g->idx[g->start[cell[k] + 1] - count[cell[k]]--] = k;
}

/* Distance (fold-sphere mm) from P to the nearest border between two gyri. */
static double gyral_border(const io_ph_case_info *c, const fold_grid *g, const double P[3]) {
    double d1 = 1e30, d2 = 1e30;
    int i1 = -1, i2 = -1;
    int cx = grid_cell(g, P[0]), cy = grid_cell(g, P[1]), cz = grid_cell(g, P[2]);
    for (int z = cz - 1; z <= cz + 1; z++)
        for (int y = cy - 1; y <= cy + 1; y++)
            for (int x = cx - 1; x <= cx + 1; x++) {
                if (x < 0 || y < 0 || z < 0 || x >= GRID_N || y >= GRID_N || z >= GRID_N) continue;
                int cell = x + GRID_N * (y + GRID_N * z);
                for (int e = g->start[cell]; e < g->start[cell + 1]; e++) {
                    int k = g->idx[e];
                    double d = sq(P[0] - c->gyri[k][0]) + sq(P[1] - c->gyri[k][1]) + sq(P[2] - c->gyri[k][2]);
                    if (d < d1) { d2 = d1; i2 = i1; d1 = d; i1 = k; }
                    else if (d < d2) { d2 = d; i2 = k; }
                }
            }
    if (i2 < 0) return 100;
    double sep = sqrt(sq(c->gyri[i1][0] - c->gyri[i2][0]) + sq(c->gyri[i1][1] - c->gyri[i2][1]) +
                      sq(c->gyri[i1][2] - c->gyri[i2][2]));
    return (d2 - d1) / (2 * fmax(sep, 1e-6)); /* to the bisecting plane */
}

/* Cortical ribbon. D is the depth below the pial surface (mm); P the
 * point of the fold sphere the voxel lies under and J the scale of P
 * against position. Sulci are the borders between gyral cells, warped so
 * gyri wind, and leaning with depth. */
static int cortex_tissue(const io_ph_case_info *c, const fold_grid *g, double D, const double *P, double J,
                         const double u[3], double depth_scale) {
    double deep = depth_scale * c->sulcus_mm * (0.65 + 0.35 * sin(3 * dot3(c->shape[0], u) + c->shape[0][5]));
    if (D >= deep + c->cortex_mm) return IO_PH_WM;
    double Pw[3];
    for (int j = 0; j < 3; j++)
        Pw[j] = P[j] + 5.0 * sin(0.15 * P[(j + 1) % 3] + c->shape[j + 1][5]) +
                0.5 * D * sin(0.09 * P[(j + 1) % 3] + 0.07 * P[(j + 2) % 3] + c->shape[j][5]);
    double dist = gyral_border(c, g, Pw) / J; /* mm to the sulcus mid-plane */
    double half = SULCUS_HALF_MM + 0.2 * c->csf_mm;
    if (D < deep && dist < half) return IO_PH_CSF;
    if (D < c->cortex_mm) return IO_PH_GM;
    if (dist < half + c->cortex_mm) return IO_PH_GM;
    return IO_PH_WM;
}

/* Cerebellum (folia as concentric shells) and brainstem; p relative to the volume centre. */
static int hindbrain_tissue(const io_ph_case_info *c, const double p[3]) {
    double sc = c->radii[0] / 68.0;
    double cb[3] = {p[0], p[1] - (CEREBRUM_C[1] - 44 * sc), p[2] - (CEREBRUM_C[2] - 50 * sc)};
    double e = sqrt(sq(cb[0] / (50 * sc)) + sq(cb[1] / (28 * sc)) + sq(cb[2] / (21 * sc)));
    if (e < 1) {
        double qn = sqrt(dot3(cb, cb));
        double depth = e > 1e-6 ? (1 - e) * qn / e : 100;
        if (depth < 1.0) return IO_PH_CSF;
        if (e < 0.35 + 0.1 * sin(cb[0] * 0.3)) return IO_PH_WM;
        double f = sin(TAU * (e * 9 + 0.15 * sin(cb[0] * 0.12 + cb[1] * 0.08)));
        return f > 0.8 ? IO_PH_CSF : IO_PH_GM;
    }
    double bx = p[0] / (12 * sc), by = (p[1] - (CEREBRUM_C[1] - 14 * sc)) / (11 * sc);
    if (bx * bx + by * by < 1 && p[2] < CEREBRUM_C[2] + VENT_Z0 - 8) return IO_PH_WM;
    return IO_PH_BG;
}

static int brain_tissue(const io_ph_case_info *c, const fold_grid *g, const double p[3]) {
    double q[3] = {p[0] - CEREBRUM_C[0], p[1] - CEREBRUM_C[1], p[2] - CEREBRUM_C[2]};
    double ax = c->radii[0] * (1 - 0.07 * q[1] / c->radii[1]); /* narrower frontal lobes */
    double az = q[2] < 0 ? 0.9 * c->radii[2] : c->radii[2];
    double e0 = fabs(q[0] / ax), e1 = fabs(q[1] / c->radii[1]), e2 = q[2] / az;
    if (e0 * e0 + e1 * e1 + e2 * e2 > 1.5) return hindbrain_tissue(c, p);
    /* a superellipse across the axial plane: brains are boxier than ellipsoids */
    double exy = e0 + e1 > 0 ? pow(pow(e0, BOX_P) + pow(e1, BOX_P), 1.0 / BOX_P) : 0;
    double rho = sqrt(exy * exy + e2 * e2);
    if (rho > 1.2) return hindbrain_tissue(c, p);
    double qn = sqrt(dot3(q, q));
    double u[3] = {0, 0, 1};
    if (qn > 1e-9)
        for (int j = 0; j < 3; j++) u[j] = q[j] / qn;
    double surf = 1;
    for (int k = 0; k < 6; k++)
        surf += c->shape[k][3] * sin(c->shape[k][4] * dot3(c->shape[k], u) + c->shape[k][5]);
    if (rho >= surf) return hindbrain_tissue(c, p);
    double D = (rho > 1e-6 ? (surf - rho) * qn / rho : 100) - c->csf_mm;
    /* outer surface: fold coordinates on a sphere of radius FOLD_R */
    double P[3] = {u[0] * FOLD_R, u[1] * FOLD_R, u[2] * FOLD_R}, J = FOLD_R / fmax(qn, 1.0);
    int medial = 0;
    /* interhemispheric fissure, absent where the corpus callosum bridges it */
    double h = c->ventricle[1];
    int callosum = fabs(q[1] - VENT_Y0) < 32 + 1.5 * c->ventricle[0] && q[2] < VENT_Z0 + h + 5;
    if (!callosum) {
        double mx = fabs(q[0] - 1.5 * sin(q[1] / 35 + c->midline_phase)) - 1.0;
        if (mx < D) { /* medial surface: folds depend on (y, z) only, so sulci cross it at right angles */
            D = mx;
            double v[3] = {q[0] < 0 ? -0.3 * FOLD_R : 0.3 * FOLD_R, q[1], q[2]}, vn = sqrt(dot3(v, v));
            for (int j = 0; j < 3; j++) P[j] = v[j] * FOLD_R / vn;
            J = FOLD_R / vn;
            medial = 1;
        }
    }
    if (D < 0) return IO_PH_CSF;
    int t = deep_tissue(c, q);
    if (t != IO_PH_BG) return t;
    return cortex_tissue(c, g, D, P, J, u, medial ? 0.5 : 1.0);
}

/* Tumour tissue at p over tissue t; raises *w to the edema weight there
 * (1 inside, fading to 0 over the outer EDEMA_MARGIN of the edema radius,
 * as vasogenic edema has no sharp border). */
static int tumour_tissue(const io_ph_tumour *tm, const double p[3], int t, double *w) {
    double v[3] = {p[0] - tm->c[0], p[1] - tm->c[1], p[2] - tm->c[2]};
    double r2 = dot3(v, v);
    if (r2 > sq(1.7 * tm->r_edema)) return t;
    double r = sqrt(r2), lob = 1, led = 1;
    if (r > 1e-9) {
        for (int k = 0; k < 4; k++) {
            double d = dot3(tm->lobes[k], v) / r;
            lob += tm->lobes[k][3] * sin(3 * d + 1.7 * k);
            led += 2.2 * tm->lobes[k][3] * cos(tm->edema_lobes[k] * d + 0.9 * k);
        }
    }
    if (r < tm->r_necrosis * lob) return IO_PH_NECROSIS;
    if (r < tm->r_core * lob) return tm->enhancing ? IO_PH_ENHANCING : IO_PH_NET;
    /* vasogenic edema spreads along white matter and mostly spares cortex */
    double re = tm->r_edema * led;
    if (r < re && (t == IO_PH_WM || t == IO_PH_DGM ||
                   (t == IO_PH_GM && r < (tm->r_core + 0.3 * (tm->r_edema - tm->r_core)) * led))) {
        double x = (1 - r / re) / EDEMA_MARGIN;
        *w = fmax(*w, x >= 1 ? 1 : x * x * (3 - 2 * x));
    }
    return t;
}

static int is_core(int t) { return t == IO_PH_NECROSIS || t == IO_PH_ENHANCING || t == IO_PH_NET; }

/* Mass effect: the tissue now at p came from p0, pushed radially away
 * from each tumour as if a MASS_K share of its core's volume had been
 * inserted (volume conserving: r0^3 = r^3 - MASS_K R^3), fading out towards
 * the brain surface, which the skull holds in place. */
static void displace(const io_ph_case_info *c, const double p[3], double p0[3]) {
    for (int j = 0; j < 3; j++) p0[j] = p[j];
    for (int k = 0; k < c->ntumour; k++) {
        const io_ph_tumour *tm = &c->tumour[k];
        double v[3] = {p0[0] - tm->c[0], p0[1] - tm->c[1], p0[2] - tm->c[2]};
        double r2 = dot3(v, v), R = tm->r_core;
        if (r2 > sq(5 * R) || r2 < 1e-12) continue;
        double rho = sqrt(sq((p0[0] - CEREBRUM_C[0]) / c->radii[0]) + sq((p0[1] - CEREBRUM_C[1]) / c->radii[1]) +
                          sq((p0[2] - CEREBRUM_C[2]) / c->radii[2]));
        double fade = fmin(1, fmax(0, (1 - rho) / 0.3));
        double r = sqrt(r2), r3 = r2 * r - MASS_K * R * R * R;
        double s = r3 > 0 ? cbrt(r3) / r : 0;
        for (int j = 0; j < 3; j++) p0[j] += fade * (s - 1) * v[j];
    }
}

void io_ph_anatomy_label(const io_ph_case_info *c, int nx, int ny, int nz, uint8_t *label, uint8_t *edema) {
    double sx = IO_PH_FOV_X / nx, sy = IO_PH_FOV_Y / ny, sz = IO_PH_FOV_Z / nz;
    size_t i = 0;
    fold_grid g;
    grid_build(c, &g);
    for (int z = 0; z < nz; z++) {
        double p[3];
        p[2] = (z + 0.5) * sz - IO_PH_FOV_Z / 2;
        for (int y = 0; y < ny; y++) {
            p[1] = (y + 0.5) * sy - IO_PH_FOV_Y / 2;
            for (int x = 0; x < nx; x++, i++) {
                p[0] = (x + 0.5) * sx - IO_PH_FOV_X / 2;
                double p0[3];
                displace(c, p, p0);
                int t = brain_tissue(c, &g, p0);
                double w = 0;
                if (t != IO_PH_BG)
                    for (int k = 0; k < c->ntumour; k++) t = tumour_tissue(&c->tumour[k], p, t, &w);
                if (is_core(t)) w = 0;
                if (w >= 0.5) t = IO_PH_EDEMA;
                label[i] = (uint8_t)t;
                edema[i] = (uint8_t)lrint(w * 255);
            }
        }
    }
}
