/* Loads the four modalities of a discovered case as RAS volumes and checks
 * that they share one grid (dims, voxel size, affine). */
#pragma once
#include <stddef.h>
#include "io/discover.h"
#include "io/volume.h"

/* vols[d] for domain d. Missing modalities, unreadable files and grid
 * mismatches give -1 with an error naming the case, the file and the
 * problem; nothing is left allocated then. */
int io_case_load(const io_case *c, io_volume vols[IO_NDOMAINS], char *err, size_t errlen);
void io_case_volumes_free(io_volume vols[IO_NDOMAINS]);
