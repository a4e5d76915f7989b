/* Reference of the bias gradient: db[c] = sum of dy[:, c, :, :]. */
#include "runtime/ref/ref_conv.h"
#include <stddef.h>

void ref_conv2d_bwd_bias(const vkm_conv2d_p *p, const double *dy, double *db) {
    size_t L = (size_t)vkm_conv2d_yh(p) * vkm_conv2d_yw(p);   /* dy's pixels (pooled with pool) */
    for (int co = 0; co < p->Cout; co++) {
        double s = 0;
        for (int n = 0; n < p->B; n++)
            for (size_t i = 0; i < L; i++) s += dy[((size_t)n * p->Cout + co) * L + i];
        db[co] = p->acc ? db[co] + s : s;
    }
}
