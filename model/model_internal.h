/* Parameter creation of each module (called by mist_model_init in order;
 * pb carries the module's prefix, lr, EMA flag and group). */
#pragma once
#include "model/model.h"

void mist_content_encoder_init(mist_pb *pb, mist_ce_p *ce, const mist_config *c);
void mist_combiner_init(mist_pb *pb, mist_comb_p *cb, const mist_config *c);
void mist_separator_init(mist_pb *pb, mist_sep_p *sp, const mist_config *c);
void mist_decoder_init(mist_pb *pb, mist_dec_p *dec, const mist_config *c);
void mist_style_encoder_init(mist_pb *pb, mist_se_p *se, const mist_config *c);
void mist_mapping_init(mist_pb *pb, mist_map_p *mp, const mist_config *c);
void mist_discriminator_init(mist_pb *pb, mist_dsc_p *ds, const mist_config *c);

/* The style-encoder/discriminator trunk: conv3x3(1->ch), log2(img)-2 down
 * ResBlks without norm, LReLU, conv4x4 valid, LReLU -> [B, C, 1, 1]. */
void mist_trunk_init(mist_pb *pb, mist_trunk *t, const mist_config *c);
vkm_t mist_trunk_fwd(vkm_graph *g, const mist_trunk *t, const mist_config *c, vkm_t x);
