/* Reference of concat: part's channels into whole at channel offset off. */
#include "runtime/ref/ref_elem.h"

void ref_concat(const vkm_chcopy_p *p, const double *part, double *whole) {
    for (int b = 0; b < p->B; b++)
        for (int c = 0; c < p->Csrc; c++) {
            const double *s = part + ((size_t)b * p->Csrc + c) * p->HW;
            double *d = whole + ((size_t)b * p->Cdst + p->off + c) * p->HW;
            for (int i = 0; i < p->HW; i++) d[i] = p->acc ? d[i] + s[i] : s[i];
        }
}
