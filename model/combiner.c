/* Combiner Comb: the N domains' contents concatenated in domain order with
 * zero-filled slots for missing ones -> conv1x1 (no bias) -> ResBlk(C, C). */
#include "model/model_internal.h"

void mist_combiner_init(mist_pb *pb, mist_comb_p *cb, const mist_config *c) {
    int C = mist_content_ch(c);
    mist_conv_init(pb, &cb->fuse, "fuse", MIST_N * C, C, 1, 0, 0);
    mist_resblk_init(pb, &cb->blk, "blk", C, C, 1, 0);
}

vkm_t mist_combiner(vkm_graph *g, const mist_model *m, const vkm_t contents[MIST_N]) {
    vkm_t h = vkm_g_concat(g, contents, MIST_N, mist_content_ch(&m->cfg));
    h = mist_conv_fwd(g, &m->comb.fuse, h);
    return mist_resblk_fwd(g, &m->comb.blk, h);
}
