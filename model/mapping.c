/* Mapping network M(z, d): shared Linear(latent->hidden)+ReLU and 3 x
 * (Linear+ReLU); per domain 3 x (Linear+ReLU) + Linear(hidden->style_dim). */
#include <stdio.h>
#include "model/model_internal.h"

#define MAP_RELU 0.0f

void mist_mapping_init(mist_pb *pb, mist_map_p *mp, const mist_config *c) {
    char nm[40];
    for (int i = 0; i < 4; i++) {
        mist_pb_name(pb, nm, sizeof nm, "shared%d", i);
        mist_linear_init(pb, &mp->shared[i], nm, i ? c->map_hidden : c->latent, c->map_hidden);
    }
    for (int d = 0; d < MIST_N; d++)
        for (int i = 0; i < 4; i++) {
            mist_pb_name(pb, nm, sizeof nm, "%s.fc%d", mist_domain_name(d), i);
            mist_linear_init(pb, &mp->head[d][i], nm, c->map_hidden, i < 3 ? c->map_hidden : c->style_dim);
        }
}

vkm_t mist_mapping(vkm_graph *g, const mist_model *m, vkm_t z, int d) {
    vkm_t h = z;
    for (int i = 0; i < 4; i++) h = vkm_g_act(g, mist_linear_fwd(g, &m->map.shared[i], h), MAP_RELU);
    for (int i = 0; i < 3; i++) h = vkm_g_act(g, mist_linear_fwd(g, &m->map.head[d][i], h), MAP_RELU);
    return mist_linear_fwd(g, &m->map.head[d][3], h);
}
