/* Scatter plots for the style analyses: 2-D points coloured by class with a
 * legend and a title, drawn with the built-in bitmap font and written as an
 * RGB PNG (no plotting library). */
#pragma once
#include <stddef.h>

/* y: [n][2] points; cls[i] in [0, ncls) picks the colour (-1: drawn gray,
 * listed as "unknown" when any); names[c] labels class c in the legend.
 * The plot is w x h pixels (0, 0 = 760 x 600). Returns 0, or -1 with err. */
int mist_scatter_png(const char *path, const float *y, int n, const int *cls, int ncls, const char *const *names,
                     const char *title, int w, int h, char *err, size_t errlen);
