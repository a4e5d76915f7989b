/* Training hyper-parameters with the defaults of DESIGN §4-5: the one place
 * the learning rates, Adam betas, EMA decay and loss weights come from. */
#pragma once

typedef struct {
    int batch;          /* slices per iteration (paper: 2) */
    long iters;         /* total iterations (paper: 200k) */
    float lr;           /* every module but the mapping network */
    float lr_map;       /* the mapping network */
    float beta1, beta2, eps;
    float wd;           /* coupled L2 weight decay, every parameter */
    float ema_decay;    /* EMA of the generator-side parameters */
    float l_sty, l_cyc, l_ds, l_sup;
    long ds_iters;      /* l_ds decays linearly to 0 over this many iterations; 0 = iters / 2 */
} mist_train_opts;

static inline mist_train_opts mist_train_opts_default(void) {
    mist_train_opts o;
    o.batch = 2;
    o.iters = 200000;
    o.lr = 1e-4f;
    o.lr_map = 1e-6f;
    o.beta1 = 0.0f;
    o.beta2 = 0.99f;
    o.eps = 1e-8f;
    o.wd = 1e-4f;
    o.ema_decay = 0.999f;
    o.l_sty = 1.0f;
    o.l_cyc = 1.0f;
    o.l_ds = 1.0f;
    o.l_sup = 0.0f;
    o.ds_iters = 0;
    return o;
}
