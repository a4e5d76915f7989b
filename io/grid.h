/* A labelled image grid for sample sheets: cols x rows tiles, each with a
 * text strip above it (e.g. "T1 | T1ce | T2 | FLAIR | imputed"), written
 * as one RGB PNG. Float images in [0, 1] map to 0..255 (clamped; NaN -> 0). */
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef struct io_grid {
    int cols, rows, tile_w, tile_h, label_h, gap;
    int w, h;        /* canvas size in pixels */
    uint8_t *rgb;    /* w*h*3 */
} io_grid;

/* label_h may be 0 (no labels); it is raised to fit one text line when
 * non-zero but too small. Returns NULL for bad sizes or out of memory. */
io_grid *io_grid_new(int cols, int rows, int tile_w, int tile_h, int label_h);
/* Places a w x h gray image (row-major) in a tile, nearest-neighbour
 * resized to the tile size. Out-of-range col/row: returns -1. */
int io_grid_put(io_grid *g, int col, int row, const float *img, int w, int h);
/* Same for an interleaved RGB float image (w*h*3). */
int io_grid_put_rgb(io_grid *g, int col, int row, const float *rgb, int w, int h);
/* Writes text in the label strip above a tile (clipped to the tile width). */
int io_grid_label(io_grid *g, int col, int row, const char *text);
int io_grid_write(const io_grid *g, const char *path, char *err, size_t errlen);
void io_grid_free(io_grid *g);
