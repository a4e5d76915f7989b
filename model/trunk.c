/* The trunk shared (in structure, not in weights) by the style encoder and
 * the discriminator: conv3x3(1->ch), log2(img)-2 down ResBlks without norm
 * to 4x4, LReLU, conv4x4 valid (C->C), LReLU. */
#include <stdio.h>
#include "model/model_internal.h"

void mist_trunk_init(mist_pb *pb, mist_trunk *t, const mist_config *c) {
    char nm[32];
    mist_conv_init(pb, &t->conv0, "conv0", 1, c->ch, 3, -1, 1);
    int nb = mist_se_blocks(c);
    for (int i = 0; i < nb; i++) {
        mist_pb_name(pb, nm, sizeof nm, "blk%d", i);
        mist_resblk_init(pb, &t->down[i], nm, mist_level_ch(c, i), mist_level_ch(c, i + 1), 0, 1);
    }
    int C = mist_se_ch(c);
    mist_conv_init(pb, &t->conv4, "conv4", C, C, 4, 0, 1);
}

vkm_t mist_trunk_fwd(vkm_graph *g, const mist_trunk *t, const mist_config *c, vkm_t x) {
    vkm_t h = mist_conv_fwd(g, &t->conv0, x);
    int nb = mist_se_blocks(c);
    for (int i = 0; i < nb; i++) h = mist_resblk_fwd(g, &t->down[i], h);
    h = vkm_g_act(g, h, MIST_LRELU);
    h = mist_conv_fwd(g, &t->conv4, h);
    return vkm_g_act(g, h, MIST_LRELU);
}
