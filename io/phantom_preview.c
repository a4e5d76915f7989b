/* The phantom's --preview PNG: the middle axial slice of the first cases in
 * every modality, each windowed like the training pipeline normalises
 * (divided by the slice's 99.5th percentile of brain voxels), plus a
 * colour map of the tissue labels to check the anatomy against. */
#include "io/phantom_internal.h"
#include "io/grid.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* label colours: background, CSF, GM, WM, deep GM, choroid, edema,
 * non-enhancing, necrosis, enhancing (BraTS-viewer-like for the tumour) */
static const float LABEL_RGB[IO_PH_NTISSUE][3] = {
    {0, 0, 0}, {0.2f, 0.35f, 0.9f}, {0.5f, 0.5f, 0.5f}, {0.9f, 0.9f, 0.9f}, {0.7f, 0.65f, 0.55f},
    {0.7f, 0.3f, 0.8f}, {0.1f, 0.8f, 0.2f}, {1.0f, 0.55f, 0.1f}, {0.9f, 0.1f, 0.1f}, {1.0f, 0.95f, 0.1f},
};

io_ph_preview *io_ph_preview_new(int rows, int nx, int ny) {
    return io_grid_new(IO_PH_NMOD + 1, rows, nx, ny, 10);
}

void io_ph_preview_free(io_ph_preview *p) { io_grid_free(p); }

int io_ph_preview_write(const io_ph_preview *p, const char *path, char *err, size_t errlen) {
    return io_grid_write(p, path, err, errlen);
}

static int cmp_i16(const void *a, const void *b) {
    int16_t x = *(const int16_t *)a, y = *(const int16_t *)b;
    return (x > y) - (x < y);
}

void io_ph_preview_add(io_ph_preview *p, int row, const io_phantom_case *c, const char *name) {
    int nx = c->nx, ny = c->ny, z = c->nz / 2;
    size_t plane = (size_t)nx * ny, off = plane * (size_t)z;
    float *img = malloc(plane * 3 * sizeof *img);
    int16_t *vals = malloc(plane * sizeof *vals);
    if (!img || !vals) { free(img); free(vals); return; } /* the preview is best effort */
    static const char *const titles[IO_PH_NMOD] = {"T1", "T1ce", "T2", "FLAIR"};
    char text[96];
    for (int m = 0; m < IO_PH_NMOD; m++) {
        const int16_t *s = c->vol[m] + off;
        size_t n = 0;
        for (size_t i = 0; i < plane; i++)
            if (s[i] > 0) vals[n++] = s[i];
        float scale = 1;
        if (n) {
            qsort(vals, n, sizeof *vals, cmp_i16);
            int16_t hi = vals[(size_t)(0.995 * (double)(n - 1))];
            scale = 1.0f / (float)(hi > 0 ? hi : 1);
        }
        /* radiological view: anterior (high y) at the top, patient's right (high x) on the left */
        for (int r = 0; r < ny; r++)
            for (int col = 0; col < nx; col++)
                img[(size_t)r * nx + col] = s[(size_t)(ny - 1 - r) * nx + (size_t)(nx - 1 - col)] * scale;
        io_grid_put(p, m, row, img, nx, ny);
        snprintf(text, sizeof text, "%s %s s%d", name, titles[m], c->info.site.index);
        io_grid_label(p, m, row, text);
    }
    const uint8_t *lab = c->label + off;
    for (int r = 0; r < ny; r++)
        for (int col = 0; col < nx; col++) {
            uint8_t t = lab[(size_t)(ny - 1 - r) * nx + (size_t)(nx - 1 - col)];
            memcpy(img + ((size_t)r * nx + col) * 3, LABEL_RGB[t < IO_PH_NTISSUE ? t : 0], 3 * sizeof(float));
        }
    io_grid_put_rgb(p, IO_PH_NMOD, row, img, nx, ny);
    snprintf(text, sizeof text, "%s labels z=%d", name, z);
    io_grid_label(p, IO_PH_NMOD, row, text);
    free(img);
    free(vals);
}
