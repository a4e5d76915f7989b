/* PNG output (libpng): 8-bit gray and RGB images for sample grids and
 * phantom previews. Files are written to a temp name and renamed, so a
 * reader never sees a half-written PNG. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* pix: w*h bytes, row-major, top row first. Returns 0 on success, -1 with a
 * message in err (which may be NULL) on failure. */
int io_png_write_gray(const char *path, const uint8_t *pix, int w, int h, char *err, size_t errlen);
/* rgb: w*h*3 bytes (r,g,b per pixel), row-major, top row first. */
int io_png_write_rgb(const char *path, const uint8_t *rgb, int w, int h, char *err, size_t errlen);
