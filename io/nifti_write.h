/* NIfTI output on an input's grid: float32 data with the source dims,
 * pixdim, qform/sform codes and matrices and units. Written to a temp file
 * next to the target and renamed, so no half-written file ever appears
 * under the final name. */
#pragma once
#include <stddef.h>
#include "io/volume.h"

/* data in the stored order of g (g->dim[1..3]). path must end in .nii or
 * .nii.gz (gzip-compressed). Returns 0, or -1 with err set. */
int io_nifti_write(const char *path, const io_geom *g, const float *data, char *err, size_t errlen);
/* data in RAS order (as read): mapped back to the stored orientation of g
 * with o, then written. */
int io_nifti_write_ras(const char *path, const io_geom *g, const io_orient *o, const float *ras,
                       char *err, size_t errlen);
