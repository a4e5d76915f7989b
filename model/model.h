/* The MIST GAN modules (DESIGN §3): their parameters in a vkm_store and the
 * functions that add their forward pass to a graph. Parameters are created
 * once (mist_model_init); any number of graphs reference them. Per-domain
 * heads are chosen when a graph is built (the domain is static per graph). */
#pragma once
#include <stddef.h>
#include "model/config.h"
#include "model/layers.h"

/* Module index = the `group` of its parameters in the store. */
enum {
    MIST_M_CE = 0, MIST_M_COMB, MIST_M_SEP, MIST_M_DEC, MIST_M_SE, MIST_M_MAP, MIST_M_DSC, MIST_NMOD
};
const char *mist_module_name(int m);    /* "content_encoder", ... */
const char *mist_module_prefix(int m);  /* "ce", ... (parameter-name prefix) */

typedef struct {
    mist_conv conv0;
    mist_resblk down[MIST_MAX_LEVELS];
    mist_resblk mid[2];
} mist_ce_p;

typedef struct {
    mist_conv fuse;       /* 1x1, N*C -> C, no bias */
    mist_resblk blk;
} mist_comb_p;

typedef struct { mist_resblk head[MIST_N]; } mist_sep_p;

typedef struct {
    mist_adablk mid[2];
    mist_adablk up[MIST_MAX_LEVELS];
    mist_inorm out_norm;
    mist_conv to_img;
} mist_dec_p;

/* The shared trunk of the style encoder and the discriminator. */
typedef struct {
    mist_conv conv0;
    mist_resblk down[MIST_MAX_LEVELS];
    mist_conv conv4;      /* 4x4 valid */
} mist_trunk;

typedef struct {
    mist_trunk trunk;
    mist_linear head[MIST_N];
} mist_se_p;

typedef struct {
    mist_linear shared[4];
    mist_linear head[MIST_N][4];
} mist_map_p;

typedef struct {
    mist_trunk trunk;
    mist_conv out;        /* 1x1, C -> N */
} mist_dsc_p;

typedef struct {
    mist_config cfg;
    vkm_store *st;        /* not owned */
    mist_ce_p ce;
    mist_comb_p comb;
    mist_sep_p sep;
    mist_dec_p dec;
    mist_se_p se;
    mist_map_p map;
    mist_dsc_p dsc;
} mist_model;

/* Creates every parameter in st (lr for all modules but the mapping network,
 * which gets lr_map; EMA copies for the generator side). -1 with err set on
 * failure (bad config, name clash). */
int mist_model_init(mist_model *m, const mist_config *cfg, vkm_store *st, float lr, float lr_map,
                    char *err, size_t errlen);
/* Parameter count of one module (MIST_M_*) or of all (-1). */
int64_t mist_model_params(const vkm_store *st, int module);
/* Store ids of the parameters of the generator side (ema set) or of the
 * discriminator; returns the count, fills ids when non-NULL. */
int mist_model_param_ids(const vkm_store *st, int discriminator, int *ids, int max);

/* ---- graph builders: every image/style is a graph tensor ------------------
 * x: [B, 1, img, img]; s: [B, style_dim, 1, 1]; c: [B, C, img/2^levels, ..];
 * skips[k]: [B, skip_ch(k), skip_size(k), ..] for k < levels - 1. */
vkm_t mist_content_encoder(vkm_graph *g, const mist_model *m, vkm_t x, vkm_t skips[]);
/* contents[d] = 0 for a missing domain (zero slot). */
vkm_t mist_combiner(vkm_graph *g, const mist_model *m, const vkm_t contents[MIST_N]);
vkm_t mist_separator(vkm_graph *g, const mist_model *m, vkm_t c, int d);
vkm_t mist_decoder(vkm_graph *g, const mist_model *m, vkm_t c, vkm_t s, const vkm_t skips[]);
vkm_t mist_style_encoder(vkm_graph *g, const mist_model *m, vkm_t x, int d);
/* n images stacked in the batch (vkm_g_stack), part i of domain doms[i]:
 * one trunk pass, each part through its domain's head into s[i]. */
void mist_style_encoder_parts(vkm_graph *g, const mist_model *m, vkm_t x, const int *doms, int n, vkm_t *s);
vkm_t mist_mapping(vkm_graph *g, const mist_model *m, vkm_t z, int d);
/* The logit of domain d: [B, 1, 1, 1]. */
vkm_t mist_discriminator(vkm_graph *g, const mist_model *m, vkm_t x, int d);

/* The generator: x[d] = 0 for a missing domain (returns 0 when none is present).
 * Encodes the present domains, combines, decodes with style s and the mean
 * of the present domains' skips. Optionally returns the combined content and
 * those skips (arrays of MIST_MAX_LEVELS) for reuse (e.g. a second style). */
vkm_t mist_generate(vkm_graph *g, const mist_model *m, const vkm_t x[MIST_N], vkm_t s, vkm_t *cc_out,
                    vkm_t *skips_out);
