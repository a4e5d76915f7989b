/* Scans for the style analyses, read straight from NIfTI files rather than
 * the slice cache: a case folder whose target modality may be missing
 * (BraSyn), or single reference volumes of one modality. Each volume is
 * normalised like the training data (io_normalize with the run's norm) and
 * sliced like the cache (io_slice_extract); "brain slices" are the axial
 * slices whose brain covers >= 2 % of the slice in the loaded modalities. */
#pragma once
#include <stddef.h>
#include "io/preprocess.h"
#include "io/volume.h"

typedef struct mist_style_case {
    char id[256];
    char dir[1024];
    io_volume vol[4];    /* RAS, normalised; data NULL where not loaded */
    int have[4];
    int dims[3];
    int *brain_z;        /* ascending */
    int n_brain;
    int site;            /* phantom sidecar's acquisition site, -1 unknown */
} mist_style_case;

/* A case folder (exactly one case under dir). want: bit d = load domain d
 * when present; need: bits that must be present (else a clear error). */
int mist_style_case_load(const char *dir, io_norm norm, unsigned want, unsigned need, mist_style_case *c, char *err,
                         size_t errlen);
/* One volume file as domain d (channel >= 0: that channel of a 4-D file). */
int mist_style_case_file(const char *path, int channel, int d, io_norm norm, const char *id, mist_style_case *c,
                         char *err, size_t errlen);
void mist_style_case_free(mist_style_case *c);

/* Axial slice z of domain d at img x img in [0, 1] (zeros when d is not
 * loaded). -1 when z is out of range. */
int mist_style_case_slice(const mist_style_case *c, int d, int z, int img, float *out);
/* All four domains of slice z: [4][img][img]. */
int mist_style_case_four(const mist_style_case *c, int z, int img, float *four);
/* The middle brain slice; -1 when the case has none. */
int mist_style_case_mid(const mist_style_case *c);
/* Up to k brain slices spread evenly over the middle third of the brain
 * (all brain slices when fewer); returns the count. */
int mist_style_case_middle(const mist_style_case *c, int k, int *zs);

/* The acquisition site in a phantom case's sidecar JSON DIR/ID.json, or -1
 * (no sidecar, or no "site" in it). */
int mist_style_site(const char *dir, const char *id);

/* Reference volumes of domain d named by specs: a folder contributes every
 * case under it that has domain d (io_discover, sorted by id), a file is
 * itself. Returns the count (capped at max) with paths/channels/ids filled
 * (each entry of paths/ids malloc'd; free with mist_style_refs_free), or -1
 * with err set. */
typedef struct mist_style_refs {
    int n;
    int found;           /* before the cap */
    char **path, **id;
    int *channel;
} mist_style_refs;
int mist_style_refs_find(const char *const *specs, int nspecs, int d, int max, mist_style_refs *r, char *err,
                         size_t errlen);
void mist_style_refs_free(mist_style_refs *r);
