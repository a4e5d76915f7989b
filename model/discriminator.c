/* Discriminator Dsc(x, d): its own trunk, conv1x1(C -> N); the logit of
 * domain d. */
#include "model/model_internal.h"

void mist_discriminator_init(mist_pb *pb, mist_dsc_p *ds, const mist_config *c) {
    mist_trunk_init(pb, &ds->trunk, c);
    mist_conv_init(pb, &ds->out, "out", mist_se_ch(c), MIST_N, 1, 0, 1);
}

vkm_t mist_discriminator(vkm_graph *g, const mist_model *m, vkm_t x, int d) {
    vkm_t h = mist_trunk_fwd(g, &m->dsc.trunk, &m->cfg, x);
    h = mist_conv_fwd(g, &m->dsc.out, h);
    return vkm_g_slice(g, h, d, 1);
}
