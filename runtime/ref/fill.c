/* Reference of fill (the device side is vkCmdFillBuffer, no shader). */
#include "runtime/ref/ref_elem.h"

void ref_fill(size_t n, double value, double *out) {
    for (size_t i = 0; i < n; i++) out[i] = value;
}
