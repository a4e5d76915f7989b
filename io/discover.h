/* BraTS-style case discovery: scans a directory tree for the four
 * modalities of each subject under the BraTS 2018-2021 names (*_t1, *_t1ce,
 * *_t2, *_flair), the BraTS 2023 names (*-t1n, *-t1c, *-t2w, *-t2f), or the
 * Medical Segmentation Decathlon Task01 layout (imagesTr/imagesTs 4-D files,
 * channels FLAIR, T1w, T1gd, T2w). .nii and .nii.gz; segmentations, hidden
 * files and macOS "._" files are ignored. Cases come out sorted by id.
 * Symbolic links are followed, but each folder is walked once (a link loop
 * or a second link to a folder adds nothing) and at most 16 levels deep. */
#pragma once
#include <stddef.h>

#define IO_NDOMAINS 4 /* fixed order: 0 t1, 1 t1ce, 2 t2, 3 flair */
const char *io_domain_name(int d);        /* "t1", "t1ce", "t2", "flair" */
int io_domain_from_name(const char *name);  /* -1 when unknown */

typedef enum { IO_SCHEME_BRATS18 = 0, IO_SCHEME_BRATS23 = 1, IO_SCHEME_MSD = 2 } io_scheme;

typedef struct io_case {
    char *id;                    /* e.g. Brats18_TCIA_DU_7294 */
    char *dir;                   /* folder holding the files */
    char *path[IO_NDOMAINS];     /* NULL when missing; the 4-D file for MSD */
    int channel[IO_NDOMAINS];    /* -1, or the channel in the 4-D file */
    io_scheme scheme;
    int gz;                      /* files end in .nii.gz (else .nii) */
    unsigned missing;            /* bit d set: domain d missing */
    char *problem;               /* why an incomplete case is unusable */
} io_case;

typedef struct io_caselist {
    char *root;
    io_case *cases;              /* complete cases, sorted by id */
    int n;
    io_case *incomplete;         /* with `missing` / `problem` set */
    int n_incomplete;
} io_caselist;

/* Returns 0, or -1 with err set (unreadable root, duplicate case ids, no
 * NIfTI files at all is NOT an error: n = 0). */
int io_discover(const char *root, io_caselist *out, char *err, size_t errlen);
void io_caselist_free(io_caselist *cl);

/* The file name (no folder) that domain d of case c has or would have in
 * the case's own naming scheme: the BraSyn convention for writing an
 * imputed modality next to the inputs. MSD cases use the BraTS 2018 style
 * "<id>_<t1|t1ce|t2|flair>.nii.gz". Returns 0 or -1 when it does not fit. */
int io_case_file_name(const io_case *c, int d, char *out, size_t outlen);
/* Comma-separated names of the missing domains, e.g. "t1ce, flair". */
void io_case_missing_str(const io_case *c, char *out, size_t outlen);
