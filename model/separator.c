/* Separator Sep(c, d): one unshared ResBlk(C, C, norm) per domain. */
#include "model/model_internal.h"

void mist_separator_init(mist_pb *pb, mist_sep_p *sp, const mist_config *c) {
    int C = mist_content_ch(c);
    for (int d = 0; d < MIST_N; d++) mist_resblk_init(pb, &sp->head[d], mist_domain_name(d), C, C, 1, 0);
}

vkm_t mist_separator(vkm_graph *g, const mist_model *m, vkm_t c, int d) {
    return mist_resblk_fwd(g, &m->sep.head[d], c);
}
