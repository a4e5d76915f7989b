/* Reference of slice: channels [off, off+Csrc) of whole copied out to part
 * (concat's backward). */
#include "runtime/ref/ref_elem.h"

void ref_slice(const vkm_chcopy_p *p, const double *whole, double *part) {
    for (int b = 0; b < p->B; b++)
        for (int c = 0; c < p->Csrc; c++) {
            const double *s = whole + ((size_t)b * p->Cdst + p->off + c) * p->HW;
            double *d = part + ((size_t)b * p->Csrc + c) * p->HW;
            for (int i = 0; i < p->HW; i++) d[i] = p->acc ? d[i] + s[i] : s[i];
        }
}
