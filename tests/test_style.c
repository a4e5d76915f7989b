/* ctest (issue 6): `vkmist style` on a config-`test` checkpoint trained a
 * few iterations on a small three-site phantom: every action writes its
 * outputs (picture sizes, CSV rows, accuracies in [0, 1]); interpolation
 * endpoints are the two domains' mean-style outputs; diversity samples
 * differ and repeat for equal seeds; exact t-SNE separates two Gaussian
 * clusters; 1-NN accuracy on a hand-made case; clear CLI errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "io/phantom.h"
#include "tests/testutil.h"
#include "train/style_tools.h"
#include "train/trainer.h"
#include "train/tsne.h"

/* Width and height from a PNG's IHDR; -1 when it is not a PNG. */
static int png_size(const char *path, int *w, int *h) {
    unsigned char b[24];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(b, 1, sizeof b, f) : 0;
    if (f) fclose(f);
    if (n != sizeof b || memcmp(b, "\x89PNG", 4) || memcmp(b + 12, "IHDR", 4)) return -1;
    *w = b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19];
    *h = b[20] << 24 | b[21] << 16 | b[22] << 8 | b[23];
    return 0;
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

static double json_num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static cJSON *read_json(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 16);
    size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    fclose(f);
    if (!buf) return NULL;
    buf[n] = 0;
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    return j;
}

static void test_tsne(void) {
    /* two Gaussian clusters in 10-D, 8 sigma apart */
    enum { N = 60, D = 10 };
    float x[N * D], y[N * 2];
    int lab[N];
    unsigned s = 7;
    for (int i = 0; i < N; i++) {
        lab[i] = i % 2;
        for (int k = 0; k < D; k++) {
            double g = 0;
            for (int r = 0; r < 12; r++) s = s * 1103515245u + 12345u, g += (s >> 8 & 0xffff) / 65536.0;
            x[i * D + k] = (float)(g - 6 + (lab[i] && k == 0 ? 8 : 0));
        }
    }
    char err[256];
    mist_tsne_opts o = mist_tsne_defaults();
    o.iters = 500;
    TU_CHECK(mist_tsne(x, N, D, &o, y, err, sizeof err) == 0, "tsne: %s", err);
    double acc = mist_nn1_accuracy(y, N, 2, lab, NULL, NULL), acc_in = mist_nn1_accuracy(x, N, D, lab, NULL, NULL);
    TU_CHECK(acc == 1.0, "t-SNE of two separated clusters: 1-NN accuracy %.3f (input space %.3f)", acc, acc_in);
    float y2[N * 2];
    mist_tsne(x, N, D, &o, y2, err, sizeof err);
    TU_CHECK(!memcmp(y, y2, sizeof y), "t-SNE is not deterministic");
    o.pca_init = 0;
    TU_CHECK(mist_tsne(x, N, D, &o, y2, err, sizeof err) == 0 && mist_nn1_accuracy(y2, N, 2, lab, NULL, NULL) == 1.0,
             "t-SNE with random init does not separate the clusters");
    printf("t-SNE: two clusters, 1-NN accuracy %.3f in the embedding (%.3f in 10-D)\n", acc, acc_in);
    TU_CHECK(mist_tsne(x, 1, D, &o, y2, err, sizeof err) != 0, "t-SNE of one point accepted");

    /* 1-NN by hand: points on a line */
    const float p[6] = {0, 1, 10, 11, 20, 21};
    const int l[6] = {0, 0, 1, 1, 0, 1}, grp[6] = {0, 0, 0, 0, 1, 1}, ex[6] = {0, 1, 2, 2, 3, 4};
    TU_CHECK(fabs(mist_nn1_accuracy(p, 6, 1, l, NULL, NULL) - 4.0 / 6) < 1e-12, "1-NN plain");
    /* groups: 20 and 21 only see each other (labels differ: both wrong) */
    TU_CHECK(fabs(mist_nn1_accuracy(p, 6, 1, l, grp, NULL) - 4.0 / 6) < 1e-12, "1-NN grouped");
    /* excluding same key: 10 and 11 may not pair, so 10 -> 1 (wrong) and 11 -> 20 (wrong) */
    double e = mist_nn1_accuracy(p, 6, 1, l, grp, ex);
    TU_CHECK(fabs(e - 2.0 / 6) < 1e-12, "1-NN with exclusion: %.3f", e);
    const int none[2] = {-1, -1};
    TU_CHECK(isnan(mist_nn1_accuracy(p, 2, 1, none, NULL, NULL)), "1-NN with no labels is not NaN");
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_tsne();
    char data[600], run[600], err[2048];
    tu_private_cache();
    snprintf(data, sizeof data, "%s/phantom", tu_tmpdir());
    snprintf(run, sizeof run, "%s/run", tu_tmpdir());
    io_phantom_opts po;
    io_phantom_default_opts(&po);
    po.out = data;
    po.cases = 6;
    po.sites = 3;
    po.quiet = 1;
    po.nx = po.ny = 96;
    po.nz = 40;
    TU_CHECK(io_phantom_write(&po, err, sizeof err) == 0, "phantom: %s", err);
    mist_trainer_opts to = mist_trainer_defaults();
    to.data_dir = data;
    to.run_dir = run;
    to.config = "test";
    to.opts.iters = 4;
    to.ckpt_every = 4;
    to.sample_every = 0;
    to.quiet = 1;
    to.seed = 3;
    TU_CHECK(mist_train(&to, err, sizeof err) == 0, "train: %s", err);

    mist_style_model m;
    if (mist_style_model_open(&m, run, "test", -1, 0, err, sizeof err)) {
        TU_CHECK(0, "open model: %s", err);
        return tu_finish("test_style");
    }
    int img = m.cfg.img;
    size_t px = (size_t)img * img;

    /* interpolation: a = 0 and a = 1 are the mean-style outputs of from / to */
    char case1[700];
    snprintf(case1, sizeof case1, "%s/Phantom_001", data);
    mist_style_case c;
    TU_CHECK(mist_style_case_load(case1, m.norm, 0xF, 0xF, &c, err, sizeof err) == 0, "case: %s", err);
    float four[4 * 32 * 32], strip[5 * 32 * 32], ref[32 * 32];
    TU_CHECK(img == 32 && mist_style_case_four(&c, mist_style_case_mid(&c), img, four) == 0, "slice");
    TU_CHECK(c.site == 0, "Phantom_001's site from the sidecar: %d", c.site);
    mist_style_case_free(&c);
    int from = 0, to_d = 3, target = 3;
    TU_CHECK(mist_style_interp_images(&m, four, target, from, to_d, 5, strip, err, sizeof err) == 0, "interp: %s", err);
    const int ends[2] = {from, to_d};
    for (int e = 0; e < 2; e++) {
        TU_CHECK(mist_style_generate(&m, target, four, 1, m.mean_style + ends[e] * m.cfg.style_dim, ref, err, sizeof err) == 0,
                 "generate: %s", err);
        const float *got = strip + (e ? 4 : 0) * px;
        double worst = 0;
        for (size_t i = 0; i < px; i++) worst = fmax(worst, fabs(got[i] - ref[i]));
        TU_CHECK(worst == 0, "interpolation at a=%d differs from the mean-%s output by %g", e, mist_domain_name(ends[e]),
                 worst);
    }
    double mid = 0;
    for (size_t i = 0; i < px; i++) mid += fabs(strip[2 * px + i] - strip[i]) / px;
    printf("interpolation: endpoints equal the mean-style outputs; a=0.5 differs from a=0 by L1 %.4f\n", mid);

    /* diversity: K samples differ, equal seeds repeat */
    float *d1 = malloc(sizeof(float) * 3 * 2 * px), *d2 = malloc(sizeof(float) * 3 * 2 * px);
    float two[2 * 4 * 32 * 32];
    memcpy(two, four, sizeof four);
    memcpy(two + 4 * px, four, sizeof four);
    TU_CHECK(mist_style_diverse(&m, two, 2, 1, 3, 42, d1, err, sizeof err) == 0, "diverse: %s", err);
    TU_CHECK(mist_style_diverse(&m, two, 2, 1, 3, 42, d2, err, sizeof err) == 0, "diverse: %s", err);
    TU_CHECK(!memcmp(d1, d2, sizeof(float) * 3 * 2 * px), "equal seeds gave different outputs");
    double l1, ss;
    mist_style_pairwise(d1, 3, 2, img, &l1, &ss);
    TU_CHECK(l1 > 0 && ss < 1 && ss > -1, "random styles gave equal outputs: L1 %g SSIM %g", l1, ss);
    printf("diversity (T1ce, 3 samples): pairwise L1 %.4f SSIM %.4f; equal seeds repeat exactly\n", l1, ss);
    free(d1), free(d2);
    mist_style_model_close(&m);

    /* the command line: each action and its outputs */
    char args[3000], out[16384], png[800], path[800];
    int w = 0, h = 0;
    snprintf(png, sizeof png, "%s/forms.png", tu_tmpdir());
    snprintf(args, sizeof args, "style forms --model %s --case %s --target t2 --refs %s --out %s --quiet", run, case1, data, png);
    int rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 0, "forms: exit %d: %s", rc, out);
    /* 6 references + the mean style: 7 columns of 128 px tiles, 3 rows */
    TU_CHECK(png_size(png, &w, &h) == 0 && w >= 7 * 128 && w < 7 * 140 && h >= 3 * 128 && h < 3 * 150,
             "forms picture %dx%d", w, h);
    printf("forms: %dx%d picture\n", w, h);
    snprintf(path, sizeof path, "%s/Phantom_002/Phantom_002_t2.nii.gz", data);
    snprintf(args, sizeof args, "style forms --model %s --case %s --target t2w --refs %s --out %s --quiet", run, case1, path, png);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 0 && png_size(png, &w, &h) == 0 && w >= 4 * 128 && w < 4 * 140, "forms with one file: exit %d, %dx%d: %s",
             rc, w, h, out);

    snprintf(png, sizeof png, "%s/interp.png", tu_tmpdir());
    snprintf(args, sizeof args, "style interpolate --model %s --case %s --from t1 --to flair --steps 6 --out %s", run, case1, png);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 0 && png_size(png, &w, &h) == 0 && w >= 6 * 128 && w < 6 * 140 && h >= 2 * 128 && h < 2 * 150,
             "interpolate: exit %d, %dx%d: %s", rc, w, h, out);

    char prefix[700];
    snprintf(prefix, sizeof prefix, "%s/emb", tu_tmpdir());
    const int per = 12;
    snprintf(args, sizeof args, "style embed --model %s --data %s --per-domain %d --iters 300 --out %s", run, data, per, prefix);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 0, "embed: exit %d: %s", rc, out);
    printf("%s", strstr(out, "domain 1-NN") ? strstr(out, "domain 1-NN") : out);
    snprintf(path, sizeof path, "%s.csv", prefix);
    TU_CHECK(count_lines(path) == 4 * per + 1, "embed CSV: %d lines, expected %d", count_lines(path), 4 * per + 1);
    const char *pics[2] = {"_domain.png", "_site.png"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s%s", prefix, pics[i]);
        TU_CHECK(png_size(path, &w, &h) == 0 && w >= 400 && w <= 2000 && h >= 300 && h <= 2000, "%s: %dx%d", path, w, h);
    }
    snprintf(path, sizeof path, "%s.json", prefix);
    cJSON *js = read_json(path);
    double da = json_num(js, "domain_nn1_accuracy"), sa = json_num(js, "site_nn1_accuracy_mean"),
           sx = json_num(js, "site_nn1_accuracy_other_cases_mean");
    TU_CHECK(js && da >= 0 && da <= 1 && sa >= 0 && sa <= 1 && sx >= 0 && sx <= 1 && json_num(js, "sites") == 3,
             "embed JSON accuracies: domain %g site %g / %g", da, sa, sx);
    cJSON_Delete(js);

    snprintf(prefix, sizeof prefix, "%s/div", tu_tmpdir());
    snprintf(args, sizeof args, "style diversity --model %s --data %s --samples 3 --slices 2 --out %s", run, data, prefix);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 0 && strstr(out, "LPIPS") && strstr(out, "FLAIR mean pairwise L1"), "diversity: exit %d: %s", rc, out);
    snprintf(path, sizeof path, "%s.png", prefix);
    TU_CHECK(png_size(path, &w, &h) == 0 && w >= 4 * 128 && h >= 4 * 128, "diversity picture %dx%d", w, h);

    /* errors: usage (2) and failures (1), each with a clear message */
    static const struct { const char *args; int rc; const char *msg; } bad[] = {
        {"style forms --model RUN --case CASE --target t3 --refs DATA", 2, "--target expects"},
        {"style interpolate --model RUN --case CASE --from t1", 2, "--to is required"},
        {"style embed --model RUN --bogus 1", 2, "unknown option"},
        {"style sideways --model RUN", 2, "unknown action"},
        {"style embed --model TMP/none.safetensors --data DATA", 1, "no such file"},
        {"style embed --model RUN --config tiny --data DATA", 1, "not 'tiny'"},
        {"style forms --model RUN --case TMP/nocase --target t2 --refs DATA", 1, "nocase"},
        {"style forms --model RUN --case CASE --target t2 --refs TMP/norefs", 1, "no such file"},
        {"style interpolate --model RUN --case DATA --from t1 --to t2", 1, "give one case folder"},
        {"style forms --help", 0, "--refs"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* expand RUN, CASE, DATA, TMP */
        char a2[3000] = "";
        for (const char *p = bad[i].args; *p;) {
            const char *keys[4] = {"RUN", "CASE", "DATA", "TMP"}, *vals[4] = {run, case1, data, tu_tmpdir()};
            int k = 0;
            for (; k < 4; k++)
                if (!strncmp(p, keys[k], strlen(keys[k]))) break;
            size_t len = strlen(a2);
            if (k < 4) snprintf(a2 + len, sizeof a2 - len, "%s", vals[k]), p += strlen(keys[k]);
            else a2[len] = *p++, a2[len + 1] = 0;
        }
        rc = tu_run_cli(a2, out, sizeof out);
        TU_CHECK(rc == bad[i].rc && strstr(out, bad[i].msg), "'%s': exit %d (expected %d), output: %s", bad[i].args, rc,
                 bad[i].rc, out);
    }
    return tu_finish("test_style");
}
