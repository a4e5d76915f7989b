/* Ties the modules together: creates every parameter in module order,
 * counts them per module, and builds the generator (encode the present
 * domains, combine, decode). */
#include <stdio.h>
#include <string.h>
#include "model/model_internal.h"

static const struct { const char *name, *prefix; } modules[MIST_NMOD] = {
    {"content_encoder", "ce"}, {"combiner", "comb"}, {"separator", "sep"}, {"decoder", "dec"},
    {"style_encoder", "se"},   {"mapping", "map"},   {"discriminator", "dsc"},
};

const char *mist_module_name(int m) { return m >= 0 && m < MIST_NMOD ? modules[m].name : "?"; }
const char *mist_module_prefix(int m) { return m >= 0 && m < MIST_NMOD ? modules[m].prefix : "?"; }

int mist_model_init(mist_model *m, const mist_config *cfg, vkm_store *st, float lr, float lr_map,
                    char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    if (mist_config_check(cfg, err, errlen)) return -1;
    m->cfg = *cfg;
    m->st = st;
    for (int mod = 0; mod < MIST_NMOD; mod++) {
        mist_pb pb = {st, modules[mod].prefix, mod == MIST_M_MAP ? lr_map : lr, mod != MIST_M_DSC, mod, err, errlen, 0};
        switch (mod) {
        case MIST_M_CE: mist_content_encoder_init(&pb, &m->ce, cfg); break;
        case MIST_M_COMB: mist_combiner_init(&pb, &m->comb, cfg); break;
        case MIST_M_SEP: mist_separator_init(&pb, &m->sep, cfg); break;
        case MIST_M_DEC: mist_decoder_init(&pb, &m->dec, cfg); break;
        case MIST_M_SE: mist_style_encoder_init(&pb, &m->se, cfg); break;
        case MIST_M_MAP: mist_mapping_init(&pb, &m->map, cfg); break;
        default: mist_discriminator_init(&pb, &m->dsc, cfg); break;
        }
        if (pb.failed) return -1;
    }
    return 0;
}

int64_t mist_model_params(const vkm_store *st, int module) {
    int64_t n = 0;
    for (int i = 0; i < vkm_store_count(st); i++) {
        const vkm_store_entry *e = vkm_store_get(st, i);
        if (e->kind == VKM_S_PARAM && (module < 0 || e->group == module)) n += e->numel;
    }
    return n;
}

int mist_model_param_ids(const vkm_store *st, int discriminator, int *ids, int max) {
    int n = 0;
    for (int i = 0; i < vkm_store_count(st); i++) {
        const vkm_store_entry *e = vkm_store_get(st, i);
        if (e->kind != VKM_S_PARAM || (e->group == MIST_M_DSC) != !!discriminator) continue;
        if (ids && n < max) ids[n] = i;
        n++;
    }
    return n;
}

vkm_t mist_generate(vkm_graph *g, const mist_model *m, const vkm_t x[MIST_N], vkm_t s, vkm_t *cc_out,
                    vkm_t *skips_out) {
    const int nsk = mist_num_skips(&m->cfg);
    vkm_t xs[MIST_N], contents[MIST_N] = {0};
    int dom[MIST_N], np = 0;
    for (int d = 0; d < MIST_N; d++)
        if (x[d]) xs[np] = x[d], dom[np++] = d;
    if (!np) return 0;
    /* the present domains go through the shared encoder as one stacked batch:
     * one pass of bigger dispatches instead of np passes of small ones */
    vkm_t skips[MIST_MAX_LEVELS];
    vkm_t c = mist_content_encoder(g, m, vkm_g_stack(g, xs, np), skips);
    for (int i = 0; i < np; i++) contents[dom[i]] = vkm_g_unstack(g, c, np, i);
    vkm_t cc = mist_combiner(g, m, contents);
    vkm_t mean_skips[MIST_MAX_LEVELS];
    for (int k = 0; k < nsk; k++) {
        vkm_t parts[MIST_N];
        for (int i = 0; i < np; i++) parts[i] = vkm_g_unstack(g, skips[k], np, i);
        mean_skips[k] = np == 1 ? parts[0] : vkm_g_mean(g, parts, np);
    }
    if (cc_out) *cc_out = cc;
    if (skips_out)
        for (int k = 0; k < nsk; k++) skips_out[k] = mean_skips[k];
    return mist_decoder(g, m, cc, s, mean_skips);
}
