/* Style encoder SE(x, d): the trunk, then one Linear(C -> style_dim) per
 * domain; head d. The stacked form runs several domains' images as one batch. */
#include <stdio.h>
#include "model/model_internal.h"

void mist_style_encoder_init(mist_pb *pb, mist_se_p *se, const mist_config *c) {
    char nm[32];
    mist_trunk_init(pb, &se->trunk, c);
    for (int d = 0; d < MIST_N; d++) {
        mist_pb_name(pb, nm, sizeof nm, "head.%s", mist_domain_name(d));
        mist_linear_init(pb, &se->head[d], nm, mist_se_ch(c), c->style_dim);
    }
}

vkm_t mist_style_encoder(vkm_graph *g, const mist_model *m, vkm_t x, int d) {
    vkm_t h = mist_trunk_fwd(g, &m->se.trunk, &m->cfg, x);
    return mist_linear_fwd(g, &m->se.head[d], h);
}

void mist_style_encoder_parts(vkm_graph *g, const mist_model *m, vkm_t x, const int *doms, int n, vkm_t *s) {
    vkm_t h = mist_trunk_fwd(g, &m->se.trunk, &m->cfg, x);
    for (int i = 0; i < n; i++) s[i] = mist_linear_fwd(g, &m->se.head[doms[i]], vkm_g_unstack(g, h, n, i));
}
