/* Labelled image grid (see grid.h). Cells are laid out with a small gap
 * so neighbouring tiles with similar intensities stay distinguishable. */
#include "io/grid.h"
#include "io/font.h"
#include "io/png.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRID_MAX_PIXELS (1 << 28)

static uint8_t to_byte(float v) {
    if (!(v > 0.0f)) return 0; /* also NaN */
    if (v >= 1.0f) return 255;
    return (uint8_t)lrintf(v * 255.0f);
}

io_grid *io_grid_new(int cols, int rows, int tile_w, int tile_h, int label_h) {
    if (cols <= 0 || rows <= 0 || tile_w <= 0 || tile_h <= 0 || label_h < 0 ||
        cols > 4096 || rows > 4096 || tile_w > 16384 || tile_h > 16384 || label_h > 1024)
        return NULL;
    if (label_h > 0 && label_h < IO_FONT_H + 2) label_h = IO_FONT_H + 2;
    int gap = 2;
    long long w = (long long)cols * (tile_w + gap) + gap;
    long long h = (long long)rows * (tile_h + label_h + gap) + gap;
    if (w * h > GRID_MAX_PIXELS) return NULL;
    io_grid *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->cols = cols; g->rows = rows; g->tile_w = tile_w; g->tile_h = tile_h;
    g->label_h = label_h; g->gap = gap; g->w = (int)w; g->h = (int)h;
    g->rgb = calloc((size_t)(w * h * 3), 1);
    if (!g->rgb) { free(g); return NULL; }
    /* dark gray background separates the (often black-bordered) tiles */
    memset(g->rgb, 40, (size_t)(w * h * 3));
    return g;
}

static int tile_origin(const io_grid *g, int col, int row, int *x0, int *y0) {
    if (!g || col < 0 || row < 0 || col >= g->cols || row >= g->rows) return -1;
    *x0 = g->gap + col * (g->tile_w + g->gap);
    *y0 = g->gap + row * (g->tile_h + g->label_h + g->gap) + g->label_h;
    return 0;
}

static int put(io_grid *g, int col, int row, const float *img, int w, int h, int ch) {
    int x0, y0;
    if (!img || w <= 0 || h <= 0 || tile_origin(g, col, row, &x0, &y0)) return -1;
    for (int ty = 0; ty < g->tile_h; ty++) {
        int sy = (int)((long long)ty * h / g->tile_h);
        for (int tx = 0; tx < g->tile_w; tx++) {
            int sx = (int)((long long)tx * w / g->tile_w);
            const float *s = img + ((size_t)sy * (size_t)w + (size_t)sx) * (size_t)ch;
            uint8_t *d = g->rgb + ((size_t)(y0 + ty) * (size_t)g->w + (size_t)(x0 + tx)) * 3;
            for (int c = 0; c < 3; c++) d[c] = to_byte(s[ch == 3 ? c : 0]);
        }
    }
    return 0;
}

int io_grid_put(io_grid *g, int col, int row, const float *img, int w, int h) {
    return put(g, col, row, img, w, h, 1);
}

int io_grid_put_rgb(io_grid *g, int col, int row, const float *rgb, int w, int h) {
    return put(g, col, row, rgb, w, h, 3);
}

int io_grid_label(io_grid *g, int col, int row, const char *text) {
    int x0, y0;
    if (!text || tile_origin(g, col, row, &x0, &y0) || g->label_h == 0) return -1;
    /* draw into a strip the width of the tile so long labels clip there */
    int sw = g->tile_w, sh = g->label_h;
    uint8_t *strip = malloc((size_t)sw * (size_t)sh * 3);
    if (!strip) return -1;
    for (int y = 0; y < sh; y++)
        memcpy(strip + (size_t)y * (size_t)sw * 3,
               g->rgb + ((size_t)(y0 - sh + y) * (size_t)g->w + (size_t)x0) * 3, (size_t)sw * 3);
    io_draw_text(strip, sw, sh, 1, (sh - IO_FONT_H) / 2, text, 255, 255, 255);
    for (int y = 0; y < sh; y++)
        memcpy(g->rgb + ((size_t)(y0 - sh + y) * (size_t)g->w + (size_t)x0) * 3,
               strip + (size_t)y * (size_t)sw * 3, (size_t)sw * 3);
    free(strip);
    return 0;
}

int io_grid_write(const io_grid *g, const char *path, char *err, size_t errlen) {
    if (!g) {
        if (err && errlen) snprintf(err, errlen, "no grid to write");
        return -1;
    }
    return io_png_write_rgb(path, g->rgb, g->w, g->h, err, errlen);
}

void io_grid_free(io_grid *g) {
    if (!g) return;
    free(g->rgb);
    free(g);
}
