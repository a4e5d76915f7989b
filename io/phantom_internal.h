/* Internal interfaces between the phantom generator's parts: anatomy
 * (phantom_anatomy.c), signal and protocols (phantom_signal.c), case
 * volumes (phantom.c) and files (phantom_write.c). Not for other modules. */
#pragma once
#include "io/phantom.h"
#include "io/phantom_rng.h"

/* Stream tags of io_ph_rng_make: one stream per purpose keeps a case's
 * anatomy unchanged when, say, the protocol draw changes. */
enum { IO_PH_STREAM_SITE = 1, IO_PH_STREAM_CASE, IO_PH_STREAM_ANATOMY, IO_PH_STREAM_NOISE };

/* Field of view in mm (the grid may be coarser in tests). */
#define IO_PH_FOV_X 240.0
#define IO_PH_FOV_Y 240.0
#define IO_PH_FOV_Z 155.0

/* Draws the anatomy and tumours of a case. */
void io_ph_anatomy_describe(io_ph_rng *r, io_ph_case_info *c);
/* Fills label[nx*ny*nz] (canonical RAS order) with IO_PH_* tissue labels
 * and edema[] with the edema weight (0..255) of every voxel. */
void io_ph_anatomy_label(const io_ph_case_info *c, int nx, int ny, int nz, uint8_t *label, uint8_t *edema);

/* Draws the case's tissue relaxation, protocol jitter, scale and noise. */
void io_ph_signal_describe(io_ph_rng *r, io_ph_case_info *c);
/* Noise- and bias-free intensity (int16 units) of every tissue label in modality m. */
void io_ph_tissue_levels(const io_ph_case_info *c, int m, double out[IO_PH_NTISSUE]);

/* The --preview sheet: one row per case (middle axial slice, radiological
 * view: anterior up, patient's right on the left), columns T1 | T1ce | T2 |
 * FLAIR | tissue labels. */
typedef struct io_grid io_ph_preview;
io_ph_preview *io_ph_preview_new(int rows, int nx, int ny);
void io_ph_preview_add(io_ph_preview *p, int row, const io_phantom_case *c, const char *name);
int io_ph_preview_write(const io_ph_preview *p, const char *path, char *err, size_t errlen);
void io_ph_preview_free(io_ph_preview *p);
