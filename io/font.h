/* A built-in 5x7 bitmap font (ASCII 32..126) for labelling PNG grids
 * without any font library. */
#pragma once
#include <stdint.h>

#define IO_FONT_W 5       /* glyph width in pixels */
#define IO_FONT_H 7       /* glyph height in pixels */
#define IO_FONT_ADVANCE 6 /* horizontal step per character (1 px gap) */

/* Column bitmasks of a character (bit 0 = top row); characters outside
 * 32..126 render as '?'. */
const uint8_t *io_font_glyph(char c);

/* Draws s into an RGB image (w*h*3 bytes) with its top-left corner at
 * (x, y); pixels outside the image are clipped. '\n' starts a new line.
 * Returns the width in pixels of the longest line drawn. */
int io_draw_text(uint8_t *rgb, int w, int h, int x, int y, const char *s,
                 uint8_t r, uint8_t g, uint8_t b);
/* Pixel width of s as io_draw_text would draw it (longest line). */
int io_text_width(const char *s);
