/* PNG writer, bitmap font and labelled grid: write, read back with libpng,
 * compare pixels; unwritable paths give a clear error. */
#include "io/font.h"
#include "io/grid.h"
#include "io/png.h"
#include "tests/testutil.h"
#include <png.h>
#include <stdlib.h>
#include <string.h>

/* Reads a PNG as RGB (or gray when gray != 0); returns malloc'd pixels. */
static uint8_t *read_png(const char *path, int gray, int *w, int *h) {
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&im, path)) return NULL;
    im.format = gray ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(im));
    if (!buf || !png_image_finish_read(&im, NULL, buf, 0, NULL)) { free(buf); png_image_free(&im); return NULL; }
    *w = (int)im.width; *h = (int)im.height;
    return buf;
}

static void test_png(const char *dir) {
    char path[600], err[512];
    int w = 37, h = 23;
    uint8_t *g = malloc((size_t)w * h), *c = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h; i++) { g[i] = (uint8_t)(i * 7); c[3*i] = (uint8_t)i; c[3*i+1] = (uint8_t)(255 - i); c[3*i+2] = (uint8_t)(i * 3); }

    snprintf(path, sizeof path, "%s/g.png", dir);
    TU_CHECK(io_png_write_gray(path, g, w, h, err, sizeof err) == 0, "%s", err);
    int rw = 0, rh = 0;
    uint8_t *r = read_png(path, 1, &rw, &rh);
    TU_CHECK(r && rw == w && rh == h, "gray read back %dx%d", rw, rh);
    if (r) TU_CHECK(!memcmp(r, g, (size_t)w * h), "gray pixels differ");
    free(r);
    FILE *f = fopen(path, "rb");
    unsigned char sig[8] = {0};
    TU_CHECK(f && fread(sig, 1, 8, f) == 8 && !png_sig_cmp(sig, 0, 8), "PNG signature");
    if (f) fclose(f);

    snprintf(path, sizeof path, "%s/c.png", dir);
    TU_CHECK(io_png_write_rgb(path, c, w, h, err, sizeof err) == 0, "%s", err);
    r = read_png(path, 0, &rw, &rh);
    TU_CHECK(r && rw == w && rh == h, "rgb read back %dx%d", rw, rh);
    if (r) TU_CHECK(!memcmp(r, c, (size_t)w * h * 3), "rgb pixels differ");
    free(r);

    err[0] = 0;
    TU_CHECK(io_png_write_gray("/nonexistent-dir/x.png", g, w, h, err, sizeof err) == -1, "unwritable path");
    TU_CHECK(strstr(err, "/nonexistent-dir/x.png") != NULL, "error names the path: %s", err);
    TU_CHECK(io_png_write_gray(path, g, 0, h, err, sizeof err) == -1, "zero width refused");
    free(g); free(c);
}

static void test_font(void) {
    int w = 40, h = 12;
    uint8_t *img = calloc((size_t)w * h * 3, 1);
    int tw = io_draw_text(img, w, h, 1, 2, "I", 255, 0, 0);
    TU_CHECK(tw == IO_FONT_W, "width of one glyph %d", tw);
    /* 'I' = 0x00,0x41,0x7F,0x41,0x00: column 2 is a full vertical bar */
    int lit = 0, bar = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img + (y * w + x) * 3;
            if (p[0]) { lit++; TU_CHECK(p[1] == 0 && p[2] == 0, "colour"); TU_CHECK(x >= 1 && x < 6 && y >= 2 && y < 9, "pixel outside glyph box"); }
            if (p[0] && x == 3) bar++;
        }
    TU_CHECK(bar == 7 && lit == 11, "'I' shape: bar %d lit %d", bar, lit);
    TU_CHECK(io_text_width("T1 | T1ce") == 9 * IO_FONT_ADVANCE - 1, "text width");
    TU_CHECK(io_text_width("ab\nabcd") == 4 * IO_FONT_ADVANCE - 1, "multi-line width");
    /* every printable glyph but space draws something; clipping is safe */
    for (int ch = 33; ch < 127; ch++) {
        const uint8_t *gl = io_font_glyph((char)ch);
        int any = gl[0] | gl[1] | gl[2] | gl[3] | gl[4];
        TU_CHECK(any && !((gl[0] | gl[1] | gl[2] | gl[3] | gl[4]) & 0x80), "glyph %c", ch);
    }
    io_draw_text(img, w, h, -3, -4, "clip me off the edges ~~~", 1, 2, 3);
    io_draw_text(img, w, h, 35, 10, "\x01\xff", 1, 2, 3);
    free(img);
}

static void test_grid(const char *dir) {
    io_grid *g = io_grid_new(5, 2, 16, 12, 10);
    TU_CHECK(g != NULL, "grid");
    if (!g) return;
    float img[8 * 6], rgb[4 * 4 * 3];
    for (int i = 0; i < 48; i++) img[i] = 1.0f;
    for (int i = 0; i < 48; i++) rgb[i] = (i % 3 == 0) ? 1.0f : 0.0f;
    TU_CHECK(io_grid_put(g, 0, 0, img, 8, 6) == 0, "put");
    TU_CHECK(io_grid_put_rgb(g, 4, 1, rgb, 4, 4) == 0, "put rgb");
    TU_CHECK(io_grid_put(g, 5, 0, img, 8, 6) == -1, "out of range col");
    TU_CHECK(io_grid_label(g, 0, 0, "T1 | T1ce | T2 | FLAIR | imputed") == 0, "label");
    char path[600], err[512];
    snprintf(path, sizeof path, "%s/grid.png", dir);
    TU_CHECK(io_grid_write(g, path, err, sizeof err) == 0, "%s", err);
    int rw, rh;
    uint8_t *r = read_png(path, 0, &rw, &rh);
    TU_CHECK(r && rw == g->w && rh == g->h, "grid size");
    if (r) {
        int x0 = g->gap, y0 = g->gap + g->label_h; /* tile (0,0) is white */
        TU_CHECK(r[(y0 * rw + x0) * 3] == 255 && r[((y0 + 11) * rw + x0 + 15) * 3 + 2] == 255, "white tile");
        int x1 = g->gap + 4 * (16 + g->gap), y1 = g->gap + (12 + g->label_h + g->gap) + g->label_h;
        uint8_t *p = r + (y1 * rw + x1) * 3;
        TU_CHECK(p[0] == 255 && p[1] == 0 && p[2] == 0, "red tile %d %d %d", p[0], p[1], p[2]);
        int white_label = 0; /* label pixels are white in the strip, clipped to the tile */
        for (int y = g->gap; y < g->gap + g->label_h; y++)
            for (int x = 0; x < rw; x++)
                if (r[(y * rw + x) * 3] == 255) { white_label++; TU_CHECK(x < g->gap + 16, "label clipped"); }
        TU_CHECK(white_label > 10, "label drawn");
    }
    free(r);
    io_grid_free(g);
    TU_CHECK(io_grid_new(0, 1, 8, 8, 0) == NULL, "bad grid size");
}

int main(void) {
    const char *dir = tu_tmpdir();
    test_png(dir);
    test_font();
    test_grid(dir);
    return tu_finish("test_io_png");
}
