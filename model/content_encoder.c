/* Content encoder CE(x): conv3x3(1->ch), `levels` down ResBlks (norm), two
 * ResBlk(C, C); the skips are the inputs of encoder levels 1..levels-1. */
#include <stdio.h>
#include "model/model_internal.h"

void mist_content_encoder_init(mist_pb *pb, mist_ce_p *ce, const mist_config *c) {
    char nm[32];
    mist_conv_init(pb, &ce->conv0, "conv0", 1, c->ch, 3, -1, 1);
    for (int l = 0; l < c->levels; l++) {
        mist_pb_name(pb, nm, sizeof nm, "blk%d", l);
        mist_resblk_init(pb, &ce->down[l], nm, mist_level_ch(c, l), mist_level_ch(c, l + 1), 1, 1);
    }
    int C = mist_content_ch(c);
    for (int i = 0; i < 2; i++) {
        mist_pb_name(pb, nm, sizeof nm, "mid%d", i);
        mist_resblk_init(pb, &ce->mid[i], nm, C, C, 1, 0);
    }
}

vkm_t mist_content_encoder(vkm_graph *g, const mist_model *m, vkm_t x, vkm_t skips[]) {
    const mist_ce_p *ce = &m->ce;
    vkm_t h = mist_conv_fwd(g, &ce->conv0, x);
    for (int l = 0; l < m->cfg.levels; l++) {
        if (l > 0 && skips) skips[l - 1] = h;
        h = mist_resblk_fwd(g, &ce->down[l], h);
    }
    for (int i = 0; i < 2; i++) h = mist_resblk_fwd(g, &ce->mid[i], h);
    return h;
}
