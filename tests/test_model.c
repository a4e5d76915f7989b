/* ctest: the MIST GAN model and training-step graphs: config lookup,
 * parameter counts per module against hand formulas, parameter naming and
 * init, output shapes of every module, every step variant of every config
 * builds and plans, which parameters each variant updates, the paper config
 * at batch 2 plans within 10 GB, and one CPU-reference run of the `test`
 * step (finite losses; D and G updated, M left alone on a reference step). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "train/step.h"
#include "tests/testutil.h"

/* ---- hand formulas (independent of model/) -------------------------------- */
static int64_t conv(int64_t cin, int64_t cout, int k, int bias) { return cin * cout * k * k + (bias ? cout : 0); }
static int64_t lin(int64_t in, int64_t out) { return in * out + out; }
static int64_t resblk(int64_t cin, int64_t cout, int norm) {
    return conv(cin, cin, 3, 1) + conv(cin, cout, 3, 1) + (cin != cout ? cin * cout : 0) + (norm ? 4 * cin : 0);
}
static int64_t adablk(int64_t cin, int64_t cout, int64_t sd) {
    return lin(sd, 2 * cin) + lin(sd, 2 * cout) + conv(cin, cout, 3, 1) + conv(cout, cout, 3, 1) +
           (cin != cout ? cin * cout : 0);
}
static int64_t chl(const mist_config *c, int l) { return (int64_t)c->ch << l > c->max_ch ? c->max_ch : (int64_t)c->ch << l; }
static int log2i(int v) { int k = 0; while ((1 << k) < v) k++; return k; }

static void expected_params(const mist_config *c, int64_t out[MIST_NMOD]) {
    const int64_t C = chl(c, c->levels), sd = c->style_dim, h = c->map_hidden;
    out[MIST_M_CE] = conv(1, c->ch, 3, 1) + 2 * resblk(C, C, 1);
    for (int l = 0; l < c->levels; l++) out[MIST_M_CE] += resblk(chl(c, l), chl(c, l + 1), 1);
    out[MIST_M_COMB] = MIST_N * C * C + resblk(C, C, 1);
    out[MIST_M_SEP] = MIST_N * resblk(C, C, 1);
    out[MIST_M_DEC] = 2 * adablk(C, C, sd) + 2 * c->ch + conv(c->ch, 1, 1, 1);
    for (int l = c->levels; l > 0; l--) out[MIST_M_DEC] += adablk(chl(c, l), chl(c, l - 1), sd);
    const int nb = log2i(c->img) - 2;
    const int64_t Cs = chl(c, nb);
    int64_t trunk = conv(1, c->ch, 3, 1) + conv(Cs, Cs, 4, 1);
    for (int i = 0; i < nb; i++) trunk += resblk(chl(c, i), chl(c, i + 1), 0);
    out[MIST_M_SE] = trunk + MIST_N * lin(Cs, sd);
    out[MIST_M_MAP] = lin(c->latent, h) + 3 * lin(h, h) + MIST_N * (3 * lin(h, h) + lin(h, sd));
    out[MIST_M_DSC] = trunk + conv(Cs, MIST_N, 1, 1);
}

static void test_configs(void) {
    mist_config c;
    char err[256] = "";
    TU_CHECK(mist_config_get("bogus", &c, err, sizeof err) != 0, "unknown config accepted");
    TU_CHECK(strstr(err, "bogus") && strstr(err, "paper") && strstr(err, "small") && strstr(err, "tiny") &&
                 strstr(err, "test"),
             "unclear error: %s", err);
    TU_CHECK(mist_config_get("tiny", &c, err, sizeof err) == 0 && c.img == 64 && c.levels == 3 && c.ch == 16 &&
                 c.max_ch == 128 && c.style_dim == 32 && c.latent == 16 && c.map_hidden == 128 && c.w_hpf == 1.0f,
             "tiny config wrong");
    TU_CHECK(mist_config_get("paper", &c, err, sizeof err) == 0 && mist_content_ch(&c) == 512 &&
                 mist_content_size(&c) == 16 && mist_num_skips(&c) == 3 && mist_skip_size(&c, 0) == 128 &&
                 mist_skip_ch(&c, 0) == 128 && mist_se_blocks(&c) == 6 && mist_se_ch(&c) == 512,
             "paper derived shapes wrong");
    TU_CHECK(mist_domain_find("flair") == 3 && mist_domain_find("t1ce") == 1 && mist_domain_find("pd") == -1,
             "domain names");
    mist_config bad = c;
    bad.img = 100;
    TU_CHECK(mist_config_check(&bad, err, sizeof err) != 0 && strstr(err, "power of two"), "img 100 accepted: %s", err);
}

static void test_params(const mist_net *n) {
    const mist_config *c = &n->model.cfg;
    int64_t want[MIST_NMOD], total = 0;
    expected_params(c, want);
    for (int m = 0; m < MIST_NMOD; m++) {
        int64_t got = mist_model_params(n->st, m);
        TU_CHECK(got == want[m], "%s: %s has %lld parameters, expected %lld", c->name, mist_module_name(m),
                 (long long)got, (long long)want[m]);
        total += want[m];
    }
    TU_CHECK(mist_model_params(n->st, -1) == total && vkm_store_param_numel(n->st) == total, "%s: total", c->name);
    if (!strcmp(c->name, "test")) {
        /* worked out on paper for img 32, ch 8, max_ch 32, style 16, latent 8, hidden 32 */
        TU_CHECK(mist_model_params(n->st, MIST_M_MAP) == 18240, "test mapping params");
        TU_CHECK(mist_model_params(n->st, MIST_M_DSC) == 44476, "test discriminator params");
        TU_CHECK(mist_model_params(n->st, MIST_M_COMB) == 22720, "test combiner params");
    }
    /* names, init, lr, EMA, group */
    int id = vkm_store_find(n->st, "ce.blk0.conv1.w");
    const vkm_store_entry *e = id >= 0 ? vkm_store_get(n->st, id) : NULL;
    TU_CHECK(e && fabsf(e->init_std - sqrtf(2.0f / (c->ch * 9))) < 1e-6f && e->lr == 1e-4f && e->ema &&
                 e->group == MIST_M_CE,
             "%s: ce.blk0.conv1.w", c->name);
    id = vkm_store_find(n->st, "ce.blk0.in1.g");
    e = id >= 0 ? vkm_store_get(n->st, id) : NULL;
    TU_CHECK(e && e->init_std == 0 && e->init_value == 1.0f, "%s: IN gamma init", c->name);
    id = vkm_store_find(n->st, "map.flair.fc3.w");
    e = id >= 0 ? vkm_store_get(n->st, id) : NULL;
    TU_CHECK(e && e->lr == 1e-6f && e->ema && e->group == MIST_M_MAP && e->shape.n == c->style_dim, "%s: mapping head",
             c->name);
    id = vkm_store_find(n->st, "dsc.out.w");
    e = id >= 0 ? vkm_store_get(n->st, id) : NULL;
    TU_CHECK(e && !e->ema && e->lr == 1e-4f && e->group == MIST_M_DSC && e->shape.n == MIST_N, "%s: dsc.out.w",
             c->name);
    TU_CHECK(vkm_store_find(n->st, "comb.fuse.b") < 0 && vkm_store_find(n->st, "comb.fuse.w") >= 0,
             "%s: combiner 1x1 has no bias", c->name);
}

static int same(vkm_shape a, vkm_shape b) { return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w; }

static void test_shapes(const mist_net *n) {
    const mist_config *c = &n->model.cfg;
    const mist_model *m = &n->model;
    const int B = n->batch, C = mist_content_ch(c), cs = mist_content_size(c);
    vkm_graph *g = vkm_graph_new(n->st);
    vkm_t x = vkm_g_store(g, n->ids.x[0]), s = vkm_g_store(g, n->ids.style);
    vkm_t skips[MIST_MAX_LEVELS] = {0};
    vkm_t cnt = mist_content_encoder(g, m, x, skips);
    TU_CHECK(same(vkm_g_shape(g, cnt), vkm_shp(B, C, cs, cs)), "%s: content shape", c->name);
    for (int k = 0; k < mist_num_skips(c); k++)
        TU_CHECK(same(vkm_g_shape(g, skips[k]),
                      vkm_shp(B, mist_skip_ch(c, k), mist_skip_size(c, k), mist_skip_size(c, k))),
                 "%s: skip %d shape", c->name, k);
    vkm_t contents[MIST_N] = {cnt, 0, cnt, cnt};
    vkm_t cc = mist_combiner(g, m, contents);
    TU_CHECK(same(vkm_g_shape(g, cc), vkm_shp(B, C, cs, cs)), "%s: combiner shape", c->name);
    TU_CHECK(same(vkm_g_shape(g, mist_separator(g, m, cc, 2)), vkm_shp(B, C, cs, cs)), "%s: separator", c->name);
    TU_CHECK(same(vkm_g_shape(g, mist_decoder(g, m, cc, s, skips)), vkm_shp(B, 1, c->img, c->img)), "%s: decoder",
             c->name);
    TU_CHECK(same(vkm_g_shape(g, mist_style_encoder(g, m, x, 1)), vkm_shp(B, c->style_dim, 1, 1)), "%s: SE",
             c->name);
    vkm_t z = vkm_g_randn(g, vkm_shp(B, c->latent, 1, 1), n->ids.seeds, 0, 0);
    TU_CHECK(same(vkm_g_shape(g, mist_mapping(g, m, z, 3)), vkm_shp(B, c->style_dim, 1, 1)), "%s: mapping", c->name);
    TU_CHECK(same(vkm_g_shape(g, mist_discriminator(g, m, x, 2)), vkm_shp(B, 1, 1, 1)), "%s: discriminator",
             c->name);
    vkm_t xs[MIST_N] = {x, vkm_g_store(g, n->ids.x[1]), 0, 0};
    TU_CHECK(same(vkm_g_shape(g, mist_generate(g, m, xs, s, NULL, NULL)), vkm_shp(B, 1, c->img, c->img)),
             "%s: generator (2 inputs)", c->name);
    TU_CHECK(!vkm_graph_error(g)[0], "%s: graph error %s", c->name, vkm_graph_error(g));
    vkm_graph_free(g);

    g = vkm_graph_new(n->st);
    vkm_t y = mist_infer_build(g, n, 0xFu & ~(1u << 2));
    TU_CHECK(y && same(vkm_g_shape(g, y), vkm_shp(B, 1, c->img, c->img)) && !vkm_graph_error(g)[0],
             "%s: inference graph: %s", c->name, vkm_graph_error(g));
    vkm_graph_free(g);
}

static int has(const mist_step *s, int id) {
    for (int i = 0; i < s->nupdated; i++)
        if (s->updated[i] == id) return 1;
    return 0;
}

/* Every variant builds and plans; returns the max arena bytes. */
static int64_t test_steps(const mist_net *n) {
    const char *cfg = n->model.cfg.name;
    char err[512];
    int64_t arena = 0;
    const int ndsc = mist_model_param_ids(n->st, 1, NULL, 0);
    for (int path = 0; path < MIST_NPATH; path++)
        for (int t = 0; t < MIST_N; t++) {
            mist_step s;
            int rc = mist_step_build(&s, n, t, path, err, sizeof err);
            TU_CHECK(rc == 0, "%s", err);
            if (rc) continue;
            TU_CHECK(vkm_graph_plan(s.g, 0) == 0, "%s t%d p%d: plan: %s", cfg, t, path, vkm_graph_error(s.g));
            vkm_graph_stats gs = vkm_graph_stats_of(s.g);
            TU_CHECK(gs.flops > gs.forward_flops && gs.forward_flops > 0 && gs.arena_bytes > 0 &&
                         gs.arena_bytes <= gs.naive_bytes,
                     "%s: stats", cfg);
            if (gs.arena_bytes > arena) arena = gs.arena_bytes;
            /* which parameters this variant updates */
            char nm[64];
            int dsc_updated = 0;
            for (int i = 0; i < s.nupdated; i++)
                dsc_updated += vkm_store_get(n->st, s.updated[i])->group == MIST_M_DSC;
            TU_CHECK(dsc_updated == ndsc, "%s: %d of %d D params updated", cfg, dsc_updated, ndsc);
            snprintf(nm, sizeof nm, "sep.%s.conv1.w", mist_domain_name(t));
            TU_CHECK(!has(&s, vkm_store_find(n->st, nm)), "%s: target's separator head updated", cfg);
            snprintf(nm, sizeof nm, "sep.%s.conv1.w", mist_domain_name((t + 1) % MIST_N));
            TU_CHECK(has(&s, vkm_store_find(n->st, nm)), "%s: input's separator head not updated", cfg);
            snprintf(nm, sizeof nm, "map.%s.fc0.w", mist_domain_name(t));
            TU_CHECK(has(&s, vkm_store_find(n->st, nm)) == (path == MIST_PATH_LATENT), "%s: mapping head t", cfg);
            snprintf(nm, sizeof nm, "map.%s.fc0.w", mist_domain_name((t + 2) % MIST_N));
            TU_CHECK(!has(&s, vkm_store_find(n->st, nm)), "%s: other mapping head updated", cfg);
            TU_CHECK(has(&s, vkm_store_find(n->st, "map.shared0.w")) == (path == MIST_PATH_LATENT),
                     "%s: shared mapping", cfg);
            TU_CHECK(has(&s, vkm_store_find(n->st, "ce.conv0.w")) && has(&s, vkm_store_find(n->st, "dec.to_img.w")) &&
                         has(&s, vkm_store_find(n->st, "comb.fuse.w")) &&
                         has(&s, vkm_store_find(n->st, "se.blk0.conv1.w")),
                     "%s: generator not updated", cfg);
            mist_step_free(&s);
        }
    return arena;
}

static void test_paper_budget(void) {
    mist_config c;
    char err[256];
    mist_config_get("paper", &c, err, sizeof err);
    mist_train_opts o = mist_train_opts_default();
    o.batch = 2;
    mist_net n;
    if (mist_net_init(&n, &c, &o, err, sizeof err)) {
        TU_CHECK(0, "%s", err);
        return;
    }
    double bytes = 0;
    for (int i = 0; i < vkm_store_count(n.st); i++) {
        const vkm_store_entry *e = vkm_store_get(n.st, i);
        bytes += 4.0 * e->numel * (e->kind == VKM_S_PARAM ? 4 + (e->ema ? 1 : 0) : 1);
    }
    int64_t arena = test_steps(&n);
    bytes += (double)arena;
    printf("paper, batch 2: %.2f GB planned (arena %.2f GB)\n", bytes / 1073741824.0, arena / 1073741824.0);
    TU_CHECK(bytes < 10.0 * 1073741824.0, "paper batch 2 plans %.2f GB", bytes / 1073741824.0);
    mist_net_free(&n);
}

static void test_loss_weights(void) {
    mist_train_opts o = mist_train_opts_default();
    o.iters = 1000;
    float w[MIST_NW];
    mist_step_loss_weights(&o, 0, w);
    TU_CHECK(w[MIST_W_ONE] == 1 && w[MIST_W_STY] == 1 && w[MIST_W_CYC] == 1 && w[MIST_W_DS] == -1 && w[MIST_W_SUP] == 0,
             "weights at 0");
    mist_step_loss_weights(&o, 250, w);
    TU_CHECK(fabsf(w[MIST_W_DS] + 0.5f) < 1e-6f, "l_ds at 250/500: %g", w[MIST_W_DS]);
    mist_step_loss_weights(&o, 900, w);
    TU_CHECK(w[MIST_W_DS] == 0, "l_ds after ds_iters: %g", w[MIST_W_DS]);
}

/* One training step of `test` (batch 1, reference path) on the CPU reference. */
static void test_ref_step(void) {
    mist_config c;
    char err[512];
    mist_config_get("test", &c, err, sizeof err);
    mist_train_opts o = mist_train_opts_default();
    o.batch = 1;
    mist_net n;
    mist_step s;
    if (mist_net_init(&n, &c, &o, err, sizeof err) || mist_step_build(&s, &n, 3, MIST_PATH_REF, err, sizeof err)) {
        TU_CHECK(0, "%s", err);
        return;
    }
    TU_CHECK(vkm_graph_plan(s.g, 0) == 0, "plan: %s", vkm_graph_error(s.g));
    vkm_store_ref *sr = vkm_store_ref_new(n.st);
    int64_t maxn = 0;
    for (int i = 0; i < vkm_store_count(n.st); i++)
        if (vkm_store_get(n.st, i)->numel > maxn) maxn = vkm_store_get(n.st, i)->numel;
    float *h = malloc((size_t)maxn * sizeof *h);
    unsigned rng = 12345;
    for (int i = 0; i < vkm_store_count(n.st); i++) {
        const vkm_store_entry *e = vkm_store_get(n.st, i);
        double *d = vkm_store_ref_data(sr, i, 0);
        if (e->kind == VKM_S_PARAM) {
            vkm_store_init_host(n.st, i, 7, h);
            for (int64_t k = 0; k < e->numel; k++) d[k] = vkm_store_ref_data(sr, i, 4)[k] = h[k];
        } else if (e->kind == VKM_S_INPUT) {
            for (int64_t k = 0; k < e->numel; k++) {
                rng = rng * 1664525u + 1013904223u;
                d[k] = (rng >> 8) / 8388608.0 - 1.0;
            }
        }
    }
    float w[MIST_NW];
    mist_step_loss_weights(&o, 0, w);
    for (int k = 0; k < MIST_NW; k++) vkm_store_ref_data(sr, n.ids.loss_weights, 0)[k] = w[k];
    uint32_t *seeds = vkm_store_ref_u32(sr, n.ids.seeds), *steps = vkm_store_ref_u32(sr, n.ids.adam_steps);
    for (int k = 0; k < 4; k++) seeds[k] = 1000u + k;
    for (int64_t k = 0; k < vkm_store_get(n.st, n.ids.adam_steps)->numel; k++) steps[k] = 1;
    int map_id = vkm_store_find(n.st, "map.shared0.w"), dsc_id = vkm_store_find(n.st, "dsc.out.w"),
        dec_id = vkm_store_find(n.st, "dec.to_img.w");
    double map0 = vkm_store_ref_data(sr, map_id, 0)[0], dsc0 = vkm_store_ref_data(sr, dsc_id, 0)[0],
           dec0 = vkm_store_ref_data(sr, dec_id, 0)[0];
    int rc = vkm_graph_run_ref(s.g, sr, err, sizeof err);
    TU_CHECK(rc == 0, "reference run: %s", err);
    if (!rc) {
        const double *l = vkm_store_ref_data(sr, n.ids.losses, 0);
        printf("test step (target flair, reference path) losses:");
        for (int k = 0; k < MIST_NLOSS; k++) printf(" %s %.4f", mist_loss_name(k), l[k]);
        printf("\n");
        for (int k = 0; k < MIST_NLOSS; k++) TU_CHECK(isfinite(l[k]) && l[k] >= 0, "loss %s = %g", mist_loss_name(k), l[k]);
        TU_CHECK(l[MIST_L_D_REAL] > 0 && l[MIST_L_G_ADV] > 0 && l[MIST_L_CCL] > 0 && l[MIST_L_SDL] > 0, "zero losses");
        TU_CHECK(vkm_store_ref_data(sr, map_id, 0)[0] == map0, "mapping changed on a reference step");
        TU_CHECK(vkm_store_ref_data(sr, dsc_id, 0)[0] != dsc0, "discriminator not updated");
        TU_CHECK(vkm_store_ref_data(sr, dec_id, 0)[0] != dec0, "decoder not updated");
        TU_CHECK(vkm_store_ref_data(sr, dec_id, 4)[0] != dec0 && vkm_store_ref_data(sr, dsc_id, 4)[0] == dsc0,
                 "EMA of decoder/discriminator");
    }
    free(h);
    vkm_store_ref_free(sr);
    mist_step_free(&s);
    mist_net_free(&n);
}

/* `vkmist info` runs without a device and rejects unknown configs. */
static void test_cli(void) {
    if (!getenv("VKMIST_BIN")) return; /* run outside ctest: no binary to test */
    const char *bin = tu_vkmist_bin();
    char cmd[1024], line[256];
    snprintf(cmd, sizeof cmd, "'%s' info --config test --batch 1 2>&1", bin);
    FILE *f = popen(cmd, "r");
    int params = 0, planned = 0;
    while (f && fgets(line, sizeof line, f)) {
        params |= strstr(line, "total") && strstr(line, "306,309") != NULL;
        planned |= strstr(line, "total planned") != NULL;
    }
    int rc = f ? pclose(f) : -1;
    TU_CHECK(rc == 0 && params && planned, "vkmist info --config test: rc %d, params %d, planned %d", rc, params, planned);
    snprintf(cmd, sizeof cmd, "'%s' info --config bogus >/dev/null 2>&1", bin);
    rc = system(cmd);
    TU_CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 2, "vkmist info --config bogus: status %d", rc);
}

int main(void) {
    test_configs();
    test_loss_weights();
    for (int i = 0; i < mist_config_count(); i++) {
        const mist_config *c = mist_config_at(i);
        mist_train_opts o = mist_train_opts_default();
        o.batch = 2;
        mist_net n;
        char err[512];
        if (mist_net_init(&n, c, &o, err, sizeof err)) {
            TU_CHECK(0, "%s", err);
            continue;
        }
        test_params(&n);
        test_shapes(&n);
        if (strcmp(c->name, "paper")) test_steps(&n);
        mist_net_free(&n);
    }
    test_paper_budget();
    test_ref_step();
    test_cli();
    return tu_finish("test_model");
}
