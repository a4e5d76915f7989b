/* Decoder Dec(c, s, skips): 2 AdaResBlk(C, C), `levels` up AdaResBlks that
 * mirror the encoder channels, HPF(skip) added after the block whose output
 * resolution equals the skip's, then IN_affine -> LReLU -> conv1x1(ch->1). */
#include <stdio.h>
#include "model/model_internal.h"

void mist_decoder_init(mist_pb *pb, mist_dec_p *dec, const mist_config *c) {
    char nm[32];
    int C = mist_content_ch(c);
    for (int i = 0; i < 2; i++) {
        mist_pb_name(pb, nm, sizeof nm, "mid%d", i);
        mist_adablk_init(pb, &dec->mid[i], nm, C, C, c->style_dim, 0);
    }
    for (int j = 0; j < c->levels; j++) {
        int l = c->levels - j; /* input level */
        mist_pb_name(pb, nm, sizeof nm, "up%d", j);
        mist_adablk_init(pb, &dec->up[j], nm, mist_level_ch(c, l), mist_level_ch(c, l - 1), c->style_dim, 1);
    }
    mist_inorm_init(pb, &dec->out_norm, "out_in", c->ch);
    mist_conv_init(pb, &dec->to_img, "to_img", c->ch, 1, 1, 0, 1);
}

vkm_t mist_decoder(vkm_graph *g, const mist_model *m, vkm_t c, vkm_t s, const vkm_t skips[]) {
    const mist_config *cf = &m->cfg;
    const mist_dec_p *dec = &m->dec;
    vkm_t h = c;
    for (int i = 0; i < 2; i++) h = mist_adablk_fwd(g, &dec->mid[i], h, s);
    for (int j = 0; j < cf->levels; j++) {
        h = mist_adablk_fwd(g, &dec->up[j], h, s);
        /* the output is at level l = levels-j-1; skip k sits at level k+1 */
        int k = cf->levels - j - 2;
        if (k >= 0 && skips) h = mist_hpf_add(g, h, skips[k], cf->w_hpf);
    }
    h = mist_inorm_act_fwd(g, &dec->out_norm, h, MIST_LRELU);
    return mist_conv_fwd(g, &dec->to_img, h);
}
