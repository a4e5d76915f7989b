/* The synthetic BraTS-layout phantom data set (DESIGN section 5): procedural
 * brains (WM, GM, CSF, ventricles, deep GM, tumours) imaged with MR signal
 * equations under per-site protocols, plus bias field and Rician noise.
 * It is vkmist's built-in default data set and the ground truth for style
 * analyses: every case's sidecar JSON records its site and protocol.
 *
 * Volumes in memory are in canonical RAS voxel order (x = left->right,
 * y = posterior->anterior, z = inferior->superior; index x + nx*(y + ny*z));
 * files are stored RAS or LPS depending on the site, like real BraTS data. */
#pragma once
#include <stddef.h>
#include <stdint.h>

enum { IO_PH_T1, IO_PH_T1CE, IO_PH_T2, IO_PH_FLAIR, IO_PH_NMOD };

/* Tissue labels of the anatomy map (not BraTS labels; see io_ph_brats_label). */
enum {
    IO_PH_BG, IO_PH_CSF, IO_PH_GM, IO_PH_WM, IO_PH_DGM /* deep grey: thalamus, basal ganglia */,
    IO_PH_CHOROID, IO_PH_EDEMA, IO_PH_NET /* non-enhancing tumour */, IO_PH_NECROSIS,
    IO_PH_ENHANCING, IO_PH_NTISSUE
};

#define IO_PH_MAX_TUMOURS 3
#define IO_PH_GYRI 700
#define IO_PH_DIM_X 240
#define IO_PH_DIM_Y 240
#define IO_PH_DIM_Z 155

typedef struct {
    const char *out;     /* output directory (created when missing) */
    int cases;           /* number of cases (default 12) */
    uint64_t seed;       /* default 1 */
    int sites;           /* number of scanner sites (default 3) */
    int force;           /* overwrite the phantom files of a non-empty directory */
    const char *preview; /* PNG path or NULL */
    int preview_cases;   /* rows of the preview (default min(cases, 4)) */
    int quiet;           /* no per-case progress lines */
    int nx, ny, nz;      /* grid; the field of view stays 240x240x155 mm (tests use coarser grids) */
} io_phantom_opts;

void io_phantom_default_opts(io_phantom_opts *o);

typedef struct { double t1, t2, pd; } io_ph_relax; /* ms, ms, relative proton density */
typedef struct { double tr, te, ti; } io_ph_seq;   /* ms; ti == 0: spin echo, else inversion recovery */

/* A scanner site: protocol centre values; each case jitters them a little. */
typedef struct {
    int index;
    double field_t;            /* 1.5 or 3 (tesla): scales tissue T1 */
    io_ph_seq seq[IO_PH_NMOD];
    double level[IO_PH_NMOD];  /* int16 value of white matter before bias */
    double snr[IO_PH_NMOD];    /* white-matter signal / noise sigma */
    double bias;               /* bias field strength (log-amplitude scale) */
    int lps;                   /* files stored LPS (BraTS 2018 style) rather than RAS */
    int qform_code, sform_code;
} io_ph_site;

typedef struct {
    double c[3];               /* centre, mm, RAS, relative to the volume centre */
    double r_core;             /* outer radius of the enhancing rim / solid core, mm */
    double r_necrosis;         /* 0 when none */
    double r_edema;
    int enhancing;             /* 0: low-grade (non-enhancing) tumour */
    double lobes[4][4];        /* shape harmonics: direction xyz, amplitude */
    double edema_lobes[4];     /* angular frequency of the edema's lobes */
} io_ph_tumour;

/* Everything that defines one case (anatomy + protocol); the volumes follow
 * deterministically from it and the case seed. */
typedef struct {
    int index;
    uint64_t seed;             /* the case's own stream seed */
    io_ph_site site;
    io_ph_seq seq[IO_PH_NMOD];
    double level[IO_PH_NMOD], sigma[IO_PH_NMOD];
    double gd_mM;              /* gadolinium concentration in the enhancing rim */
    double r1;                 /* gadolinium relaxivity, 1/(mM s) */
    io_ph_relax tissue[IO_PH_NTISSUE];
    /* anatomy */
    double radii[3];           /* cerebrum semi-axes, mm */
    double shape[6][6];        /* surface harmonics: direction, amplitude, frequency, phase */
    double gyrus_mm;           /* gyral spacing */
    int ngyri;                 /* gyral centres on the fold sphere: sulci are their Voronoi borders */
    float gyri[IO_PH_GYRI][3];
    double cortex_mm, csf_mm, sulcus_mm; /* GM ribbon, outer CSF, sulcal depth */
    double ventricle[2];       /* lateral ventricle half-width and half-height, mm */
    double midline_phase;      /* wobble of the interhemispheric fissure */
    double bias[IO_PH_NMOD][9];/* log bias field polynomial coefficients */
    int ntumour;
    io_ph_tumour tumour[IO_PH_MAX_TUMOURS];
} io_ph_case_info;

typedef struct {
    int nx, ny, nz;
    int16_t *vol[IO_PH_NMOD];  /* canonical RAS order */
    uint8_t *label;            /* IO_PH_* tissue labels (IO_PH_EDEMA where the edema weight >= 1/2) */
    uint8_t *edema;            /* edema weight 0..255: its margin fades into the tissue around */
    io_ph_case_info info;
} io_phantom_case;

/* BraTS label of a tissue label: 1 necrosis / non-enhancing core, 2 edema, 4 enhancing, else 0. */
uint8_t io_ph_brats_label(uint8_t tissue);
const char *io_ph_modality_name(int m);   /* "t1", "t1ce", "t2", "flair" */
const char *io_ph_tissue_name(int t);

/* Site k of a data set with this seed (independent of the number of cases). */
void io_ph_site_make(uint64_t seed, int k, io_ph_site *s);
/* Case i of a data set (site i % sites); fills only the description. */
void io_ph_case_describe(uint64_t seed, int i, int sites, io_ph_case_info *c);
/* Noise-free signal (arbitrary units, PD = 1 scale) of a tissue under a
 * sequence, with gd_mM gadolinium of relaxivity r1 (1/(mM s)). */
double io_ph_signal(const io_ph_relax *t, const io_ph_seq *s, double gd_mM, double r1);

/* Generates case i of the data set of o (grid o->nx x o->ny x o->nz). */
int io_phantom_generate(const io_phantom_opts *o, int i, io_phantom_case *c, char *err, size_t errlen);
void io_phantom_case_free(io_phantom_case *c);

/* Writes the whole data set (and the preview); progress on stdout unless quiet. */
int io_phantom_write(const io_phantom_opts *o, char *err, size_t errlen);
