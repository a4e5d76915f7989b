/* Scatter plot PNGs (see style_plot.h). Text is the 5x7 font drawn at 2x so
 * legends stay readable in a plot of several hundred pixels. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io/font.h"
#include "io/png.h"
#include "io/util.h"
#include "train/style_plot.h"

#define MAX_CLASSES 10

/* Tableau 10: distinguishable, and still tellable apart in gray-ish print */
static const uint8_t palette[MAX_CLASSES][3] = {
    {31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189},
    {140, 86, 75}, {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
static const uint8_t unknown_rgb[3] = {170, 170, 170};

typedef struct { uint8_t *rgb; int w, h; } canvas;

static void pixel(canvas *c, int x, int y, const uint8_t col[3]) {
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
    memcpy(c->rgb + ((size_t)y * c->w + x) * 3, col, 3);
}

static void rect(canvas *c, int x0, int y0, int x1, int y1, const uint8_t col[3], int filled) {
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            if (filled || y == y0 || y == y1 || x == x0 || x == x1) pixel(c, x, y, col);
}

static void disc(canvas *c, int cx, int cy, int r, const uint8_t col[3]) {
    static const uint8_t edge[3] = {40, 40, 40};
    for (int y = -r - 1; y <= r + 1; y++)
        for (int x = -r - 1; x <= r + 1; x++) {
            int d2 = x * x + y * y;
            if (d2 <= r * r) pixel(c, cx + x, cy + y, col);
            else if (d2 <= (r + 1) * (r + 1)) pixel(c, cx + x, cy + y, edge);
        }
}

/* Text at an integer scale: rendered at 1x into a strip, then enlarged. */
static void text(canvas *c, int x, int y, const char *s, int scale) {
    int tw = io_text_width(s) + 1, th = IO_FONT_H + 1;
    uint8_t *tmp = calloc((size_t)tw * th * 3, 1);
    if (!tmp) return;
    io_draw_text(tmp, tw, th, 0, 0, s, 255, 255, 255);
    static const uint8_t ink[3] = {20, 20, 20};
    for (int ty = 0; ty < th; ty++)
        for (int tx = 0; tx < tw; tx++)
            if (tmp[((size_t)ty * tw + tx) * 3])
                rect(c, x + tx * scale, y + ty * scale, x + tx * scale + scale - 1, y + ty * scale + scale - 1, ink, 1);
    free(tmp);
}

int mist_scatter_png(const char *path, const float *y, int n, const int *cls, int ncls, const char *const *names,
                     const char *title, int w, int h, char *err, size_t errlen) {
    if (w <= 0 || h <= 0) w = 760, h = 600;
    if (!path || !y || !cls || n < 1 || ncls < 1 || ncls > MAX_CLASSES || w < 200 || h < 150 || w > 8192 || h > 8192)
        return io_err(err, errlen, "scatter plot: bad arguments (n %d, %d classes, %dx%d)", n, ncls, w, h);
    canvas c = {calloc((size_t)w * h * 3, 1), w, h};
    if (!c.rgb) return io_err(err, errlen, "scatter plot: out of memory");
    memset(c.rgb, 255, (size_t)w * h * 3);
    int any_unknown = 0, longest = 0;
    for (int i = 0; i < n; i++) any_unknown |= cls[i] < 0 || cls[i] >= ncls;
    for (int k = 0; k < ncls; k++) {
        int tw = io_text_width(names && names[k] ? names[k] : "?");
        if (tw > longest) longest = tw;
    }
    int legend_w = 2 * longest + 44, top = 40, left = 16, bottom = h - 30, right = w - legend_w - 16;
    if (right - left < 100) right = left + 100;
    static const uint8_t frame[3] = {90, 90, 90};
    rect(&c, left, top, right, bottom, frame, 0);
    if (title) text(&c, left, 12, title, 2);
    text(&c, left, bottom + 8, "t-SNE plane (axes arbitrary, equal scale)", 2);
    /* fit the points with a margin, one scale for both axes (t-SNE distances are isotropic) */
    float x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int i = 0; i < n; i++) {
        float a = y[2 * i], b = y[2 * i + 1];
        if (!isfinite(a) || !isfinite(b)) continue;
        if (a < x0) x0 = a;
        if (a > x1) x1 = a;
        if (b < y0) y0 = b;
        if (b > y1) y1 = b;
    }
    if (!(x1 >= x0)) x0 = -1, x1 = 1, y0 = -1, y1 = 1;
    double pw = right - left - 24, ph = bottom - top - 24;
    double sx = x1 > x0 ? pw / (x1 - x0) : 1, sy = y1 > y0 ? ph / (y1 - y0) : 1, s = sx < sy ? sx : sy;
    double cx = (left + right) / 2.0, cy = (top + bottom) / 2.0, mx = (x0 + x1) / 2.0, my = (y0 + y1) / 2.0;
    /* unknown first, so the coloured points sit on top */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            int known = cls[i] >= 0 && cls[i] < ncls;
            if (known != pass || !isfinite(y[2 * i]) || !isfinite(y[2 * i + 1])) continue;
            int px = (int)lround(cx + (y[2 * i] - mx) * s), py = (int)lround(cy - (y[2 * i + 1] - my) * s);
            disc(&c, px, py, 4, known ? palette[cls[i]] : unknown_rgb);
        }
    int lx = right + 16, ly = top + 4;
    for (int k = 0; k <= ncls; k++) {
        if (k == ncls && !any_unknown) break;
        const uint8_t *col = k < ncls ? palette[k] : unknown_rgb;
        disc(&c, lx + 6, ly + 7, 5, col);
        text(&c, lx + 18, ly, k < ncls ? (names && names[k] ? names[k] : "?") : "unknown", 2);
        ly += 24;
    }
    int rc = io_png_write_rgb(path, c.rgb, w, h, err, errlen);
    free(c.rgb);
    return rc;
}
