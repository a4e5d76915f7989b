/* The MIST GAN training step of DESIGN §4 as one static graph per variant
 * (target domain x style path): generator forward, D loss, D backward + Adam,
 * G losses against the updated D, G backward + Adam, EMA. Also the store
 * layout (parameters + the per-iteration inputs the host writes) and the
 * generator-only inference graph. */
#pragma once
#include <stddef.h>
#include "model/model.h"
#include "train/options.h"

enum { MIST_PATH_LATENT = 0, MIST_PATH_REF = 1, MIST_NPATH };

/* Slots of the "loss_weights" input (the host writes them every iteration;
 * the sign of the style-diversification term is folded into its weight). */
enum { MIST_W_ONE = 0, MIST_W_STY, MIST_W_CYC, MIST_W_DS, MIST_W_SUP, MIST_NW };

/* Slots of the "losses" state tensor (read back by the host). */
enum {
    MIST_L_D_REAL = 0, MIST_L_D_FAKE, MIST_L_G_ADV, MIST_L_CSL, MIST_L_CCL, MIST_L_SDL, MIST_L_SUP, MIST_NLOSS
};
const char *mist_loss_name(int l);   /* "d_real", "d_fake", "g_adv", "csl", "ccl", "sdl", "sup" */

/* Store ids of the non-parameter tensors. */
typedef struct {
    int x[MIST_N];     /* INPUT "x_d0".."x_d3" [B,1,img,img], data in [-1, 1] */
    int xref, xref2;   /* INPUT "xref", "xref2" [B,1,img,img]: target-domain slices (reference path) */
    int style;         /* INPUT "style" [B,style_dim,1,1] (inference graph) */
    int seeds;         /* U32 "seeds" [4]: Philox keys of z (seed index 0) and z2 (index 1) */
    int loss_weights;  /* INPUT "loss_weights" [MIST_NW] */
    int losses;        /* STATE "losses" [MIST_NLOSS] */
    int x_hat;         /* STATE "x_hat" [B,1,img,img]: this step's generated image */
    int adam_steps;    /* U32 "adam_steps" [one word per store id] */
} mist_step_ids;

/* A model with its store and step inputs for one config and batch. */
typedef struct {
    mist_train_opts opts;
    int batch;
    vkm_store *st;     /* owned */
    mist_model model;
    mist_step_ids ids;
    /* data-parallel training (train/dist.h), set before building steps: */
    int sample0;       /* this process's first sample in the global batch (its z rows) */
    int grad_sync;     /* a host sync point between each backward and its Adam */
} mist_net;

/* Ids of the step's host sync points (vkm_g_host_sync). */
enum { MIST_SYNC_D = 0, MIST_SYNC_G = 1 };

/* Builds the store: every parameter (lrs from o) then the step tensors for
 * batch o->batch. -1 with err set on failure. */
int mist_net_init(mist_net *n, const mist_config *cfg, const mist_train_opts *o, char *err, size_t errlen);
void mist_net_free(mist_net *n);

typedef struct {
    vkm_graph *g;      /* owned; built, not yet planned */
    int target, path;
    vkm_t x_hat;
    /* parameters Adam-updated by this graph (D's then the generator's): the
     * host advances their adam_steps words after each submit */
    int *updated;
    int nupdated;
} mist_step;

/* Builds the training-step graph of one variant. -1 with err set on failure
 * (also when the graph recorded an error). */
int mist_step_build(mist_step *s, const mist_net *n, int target, int path, char *err, size_t errlen);
/* One phase's losses alone (which 0: L_D, 1: L_G with D as the store holds
 * it), with their backward when asked, and no Adam/EMA: what the
 * conformance test checks by central differences. */
int mist_loss_build(mist_step *s, const mist_net *n, int target, int path, int which, int backward, char *err,
                    size_t errlen);
void mist_step_free(mist_step *s);

/* The per-iteration loss weights: 1, l_sty, l_cyc, -l_ds(it), l_sup with
 * l_ds(it) = l_ds * max(0, 1 - it / ds_iters) (ds_iters 0: iters / 2). */
void mist_step_loss_weights(const mist_train_opts *o, long it, float w[MIST_NW]);

/* Generator-only inference: x_hat from the "x_d*" inputs of the domains set
 * in `present` (bit d = domain d available; the others are zero slots, e.g.
 * 0xF & ~(1u << target)) and the "style" input (the target's style), on
 * whatever values the store holds (e.g. a store loaded from the EMA
 * weights). Returns x_hat, 0 on error (vkm_graph_error says why). */
vkm_t mist_infer_build(vkm_graph *g, const mist_net *n, unsigned present);
