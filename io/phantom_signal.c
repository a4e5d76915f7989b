/* MR signal model of the phantom: tissue relaxation times, scanner sites
 * (field strength, TR/TE/TI, intensity scale, SNR, bias strength, file
 * orientation), per-case protocol jitter, and the signal equations:
 * spin echo for T1w/T2w, gadolinium T1 shortening for T1ce, magnitude
 * inversion recovery with CSF-nulling TI for FLAIR. */
#include "io/phantom_internal.h"
#include <math.h>

/* Literature-ish values at 3 T (ms, ms, relative PD). */
static const io_ph_relax TISSUE_3T[IO_PH_NTISSUE] = {
    [IO_PH_BG] = {1, 1, 0},
    [IO_PH_CSF] = {4200, 2000, 1.00},
    [IO_PH_GM] = {1350, 95, 0.82},
    [IO_PH_WM] = {820, 75, 0.69},
    [IO_PH_DGM] = {1150, 80, 0.77},
    [IO_PH_CHOROID] = {1100, 110, 0.85},
    [IO_PH_EDEMA] = {1750, 210, 0.87},
    [IO_PH_NET] = {1600, 160, 0.86},
    [IO_PH_NECROSIS] = {2800, 700, 0.95},
    [IO_PH_ENHANCING] = {1500, 110, 0.85},
};
/* fraction of the rim's gadolinium concentration each tissue takes up
 * (intact blood-brain barrier elsewhere) */
static const double GD_UPTAKE[IO_PH_NTISSUE] = {[IO_PH_ENHANCING] = 1.0, [IO_PH_CHOROID] = 0.5};

static const char *const MOD_NAMES[IO_PH_NMOD] = {"t1", "t1ce", "t2", "flair"};
static const char *const TISSUE_NAMES[IO_PH_NTISSUE] = {
    "background", "csf", "gm", "wm", "deep_gm", "choroid", "edema", "non_enhancing", "necrosis", "enhancing"};

const char *io_ph_modality_name(int m) { return m >= 0 && m < IO_PH_NMOD ? MOD_NAMES[m] : "?"; }
const char *io_ph_tissue_name(int t) { return t >= 0 && t < IO_PH_NTISSUE ? TISSUE_NAMES[t] : "?"; }

uint8_t io_ph_brats_label(uint8_t t) {
    switch (t) {
    case IO_PH_NECROSIS: case IO_PH_NET: return 1;
    case IO_PH_EDEMA: return 2;
    case IO_PH_ENHANCING: return 4;
    default: return 0;
    }
}

double io_ph_signal(const io_ph_relax *t, const io_ph_seq *s, double gd_mM, double r1) {
    if (t->pd <= 0) return 0;
    double t1 = 1.0 / (1.0 / t->t1 + r1 * gd_mM / 1000.0); /* r1 per second, times in ms */
    double e2 = exp(-s->te / t->t2);
    if (s->ti > 0) /* magnitude IR, TE << TR */
        return t->pd * fabs(1 - 2 * exp(-s->ti / t1) + exp(-s->tr / t1)) * e2;
    return t->pd * (1 - exp(-s->tr / t1)) * e2;
}

/* TI that nulls a T1 under repetition time TR (IR with full inversion). */
static double null_ti(double t1, double tr) { return t1 * log(2.0 / (1.0 + exp(-tr / t1))); }

void io_ph_site_make(uint64_t seed, int k, io_ph_site *s) {
    io_ph_rng r = io_ph_rng_make(seed, IO_PH_STREAM_SITE, (uint64_t)k);
    s->index = k;
    s->field_t = io_ph_unif(&r) < 0.5 ? 1.5 : 3.0;
    double te1 = io_ph_range(&r, 8, 20);
    s->seq[IO_PH_T1] = (io_ph_seq){io_ph_range(&r, 400, 700), te1, 0};
    s->seq[IO_PH_T1CE] = (io_ph_seq){s->seq[IO_PH_T1].tr * io_ph_range(&r, 0.9, 1.1), te1, 0};
    s->seq[IO_PH_T2] = (io_ph_seq){io_ph_range(&r, 2500, 6000), io_ph_range(&r, 80, 120), 0};
    double tr = io_ph_range(&r, 7000, 11000);
    /* some sites null CSF imperfectly: part of a FLAIR's "style" */
    double ti = null_ti(TISSUE_3T[IO_PH_CSF].t1, tr) * io_ph_range(&r, 0.95, 1.04);
    s->seq[IO_PH_FLAIR] = (io_ph_seq){tr, io_ph_range(&r, 85, 140), ti};
    for (int m = 0; m < IO_PH_NMOD; m++) {
        s->level[m] = io_ph_range(&r, 250, 900);
        s->snr[m] = io_ph_range(&r, 18, 45);
    }
    s->bias = io_ph_range(&r, 0.06, 0.22) * (s->field_t > 2 ? 1.3 : 1.0);
    s->lps = k % 2 == 0;
    s->qform_code = s->lps ? 2 : 1;  /* like BraTS 2018 (aligned) and BraTS 2023 (scanner) */
    s->sform_code = 1;
}

void io_ph_signal_describe(io_ph_rng *r, io_ph_case_info *c) {
    const io_ph_site *s = &c->site;
    for (int t = 0; t < IO_PH_NTISSUE; t++) {
        io_ph_relax v = TISSUE_3T[t];
        /* T1 lengthens with field strength; CSF barely changes */
        if (s->field_t < 2 && t != IO_PH_CSF) v.t1 *= 0.8;
        if (t != IO_PH_BG) {
            v.t1 *= io_ph_range(r, 0.96, 1.04);
            v.t2 *= io_ph_range(r, 0.96, 1.04);
            v.pd *= io_ph_range(r, 0.98, 1.02);
        }
        c->tissue[t] = v;
    }
    for (int m = 0; m < IO_PH_NMOD; m++) {
        c->seq[m] = s->seq[m];
        c->seq[m].tr *= io_ph_range(r, 0.97, 1.03);
        c->seq[m].te *= io_ph_range(r, 0.97, 1.03);
        if (c->seq[m].ti > 0) c->seq[m].ti *= io_ph_range(r, 0.98, 1.02);
        c->level[m] = s->level[m] * io_ph_range(r, 0.92, 1.08);
        c->sigma[m] = c->level[m] / (s->snr[m] * io_ph_range(r, 0.9, 1.1));
    }
    c->gd_mM = io_ph_range(r, 0.25, 0.7);
    c->r1 = s->field_t < 2 ? 4.3 : 3.9; /* gadobutrol-like relaxivity in tissue */
    for (int m = 0; m < IO_PH_NMOD; m++) {
        /* shared coil profile plus a smaller per-sequence part */
        for (int j = 0; j < 9; j++) {
            double a, b;
            io_ph_normal2(r, &a, &b);
            if (m == 0) c->bias[0][j] = a * s->bias * (j < 3 ? 1.0 : 0.5);
            else c->bias[m][j] = c->bias[0][j] + 0.4 * b * s->bias * (j < 3 ? 1.0 : 0.5);
        }
    }
}

void io_ph_tissue_levels(const io_ph_case_info *c, int m, double out[IO_PH_NTISSUE]) {
    double gd = m == IO_PH_T1CE ? c->gd_mM : 0;
    /* scanners scale so that white matter lands at the site's level */
    double wm = io_ph_signal(&c->tissue[IO_PH_WM], &c->seq[m], 0, c->r1);
    double gain = c->level[m] / fmax(wm, 1e-9);
    for (int t = 0; t < IO_PH_NTISSUE; t++)
        out[t] = gain * io_ph_signal(&c->tissue[t], &c->seq[m], gd * GD_UPTAKE[t], c->r1);
}
