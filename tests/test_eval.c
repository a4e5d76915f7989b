/* ctest (issue 6): `vkmist eval` with a config-`test` model trained for a
 * few iterations on a small phantom: the Table-1-shaped tables for the model
 * and both baselines, JSON (every modality and method, per-volume rows,
 * regression coefficients) and per-slice CSV; --split all; a data folder
 * missing the split's cases says so; the regression baseline (least squares
 * on the training split) beats the plain mean of the inputs inside the brain. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "io/split.h"
#include "tests/testutil.h"
#include "train/trainer.h"

static const char *const mods[4] = {"t1", "t1ce", "t2", "flair"};
static const char *const meths[3] = {"mist", "mean_of_inputs", "linear_regression"};

static cJSON *read_json(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return cJSON_Parse(buf);
}

/* The number at a NULL-terminated key path, NaN when absent. */
static double num(const cJSON *j, ...) {
    va_list ap;
    va_start(ap, j);
    for (const char *k = va_arg(ap, const char *); k && j; k = va_arg(ap, const char *)) j = cJSON_GetObjectItem(j, k);
    va_end(ap);
    return cJSON_IsNumber(j) ? j->valuedouble : NAN;
}

static int lines(const char *path) {
    FILE *f = fopen(path, "r");
    int n = 0, c;
    if (!f) return -1;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *T = tu_tmpdir();
    char err[2048], data[700], run[700], ckpt[800];
    tu_private_cache();
    snprintf(data, sizeof data, "%s/phantom", T);
    TU_CHECK(tu_phantom(data, 5, 64, 24, err, sizeof err) == 0, "phantom: %s", err);
    snprintf(run, sizeof run, "%s/run", T);
    mist_trainer_opts to = mist_trainer_defaults();
    to.data_dir = data;
    to.run_dir = run;
    to.config = "test";
    to.opts.iters = 3;
    to.ckpt_every = 3;
    to.sample_every = 0;
    to.quiet = 1;
    TU_CHECK(mist_train(&to, err, sizeof err) == 0, "train: %s", err);
    snprintf(ckpt, sizeof ckpt, "%s/ckpt/step_00000003.safetensors", run);
    if (tu_failures) return tu_finish("test_eval");

    /* the test split: tables, JSON, CSV */
    char args[4000], out[65536], json[800], csv[800];
    snprintf(json, sizeof json, "%s/eval.json", T);
    snprintf(csv, sizeof csv, "%s/eval.csv", T);
    snprintf(args, sizeof args, "eval --model %s --data %s --max-slices 6 --json %s --csv %s", ckpt, data, json, csv);
    int rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 0, "eval: exit %d: %s", rc, out);
    printf("%s", out);
    TU_CHECK(strstr(out, "MIST GAN") && strstr(out, "mean of the three inputs") && strstr(out, "linear regression"),
             "the three tables are not all there");
    TU_CHECK(strstr(out, "T1ce ") && strstr(out, "FLAIR ") && strstr(out, "SSIM") && strstr(out, "PSNR (dB)") &&
             strstr(out, "per volume"), "table rows/columns missing");
    cJSON *j = read_json(json);
    TU_CHECK(j != NULL, "%s does not parse", json);
    const cJSON *cases = cJSON_GetObjectItem(j, "cases"), *vols = cJSON_GetObjectItem(j, "volumes");
    int nc = cJSON_GetArraySize(cases);
    io_split sp;
    char spath[800];
    snprintf(spath, sizeof spath, "%s/split.json", run);
    TU_CHECK(io_split_load(spath, &sp, err, sizeof err) == 0, "split: %s", err);
    TU_CHECK(nc == sp.n[2] && nc > 0, "%d cases evaluated, the test split has %d", nc, sp.n[2]);
    for (int i = 0; i < nc; i++)
        TU_CHECK(io_split_find(&sp, cJSON_GetArrayItem(cases, i)->valuestring) == IO_SPLIT_TEST, "case %s is not a test case",
                 cJSON_GetArrayItem(cases, i)->valuestring);
    io_split_free(&sp);
    TU_CHECK(cJSON_GetArraySize(vols) == nc * 4 * 3, "%d per-volume rows", cJSON_GetArraySize(vols));
    double better = 0;
    for (int t = 0; t < 4; t++)
        for (int m = 0; m < 3; m++) {
            double ssim = num(j, "modalities", mods[t], meths[m], "slices", "ssim", "mean", NULL);
            double psnr = num(j, "modalities", mods[t], meths[m], "slices", "psnr", "mean", NULL);
            double n = num(j, "modalities", mods[t], meths[m], "slices", "psnr", "n", NULL);
            double vps = num(j, "modalities", mods[t], meths[m], "volumes", "psnr", "mean", NULL);
            double mae = num(j, "modalities", mods[t], meths[m], "slices_brain", "mae", "mean", NULL);
            TU_CHECK(ssim >= -1 && ssim <= 1 && psnr > 0 && psnr <= 100 && vps > 0 && mae >= 0 && mae <= 1,
                     "%s %s: ssim %g psnr %g volume psnr %g brain mae %g", mods[t], meths[m], ssim, psnr, vps, mae);
            TU_CHECK(n == nc * 6, "%s %s: %g slices, expected %d", mods[t], meths[m], n, nc * 6);
        }
    for (int t = 0; t < 4; t++) {
        better += num(j, "modalities", mods[t], "linear_regression", "slices_brain", "psnr", "mean", NULL) -
                  num(j, "modalities", mods[t], "mean_of_inputs", "slices_brain", "psnr", "mean", NULL);
        TU_CHECK(isfinite(num(j, "modalities", mods[t], "linear_regression", "coefficients", "intercept", NULL)),
                 "%s: no regression intercept", mods[t]);
    }
    TU_CHECK(better > 0, "the least-squares baseline is worse than the mean of the inputs (%g dB summed)", better);
    cJSON_Delete(j);
    TU_CHECK(lines(csv) == 1 + nc * 6 * 4 * 3, "csv has %d lines", lines(csv));

    /* every complete case */
    snprintf(args, sizeof args, "eval --model %s --data %s --split all --max-slices 2 --json %s", ckpt, data, json);
    rc = tu_run_cli(args, out, sizeof out);
    j = read_json(json);
    TU_CHECK(rc == 0 && j && cJSON_GetArraySize(cJSON_GetObjectItem(j, "cases")) == 5, "--split all: exit %d: %s", rc, out);
    cJSON_Delete(j);

    /* a folder with only the test case: the val split is absent, said so */
    char only[800], dst[900];
    snprintf(only, sizeof only, "%s/only", T);
    mkdir(only, 0755);
    snprintf(spath, sizeof spath, "%s/split.json", run);
    TU_CHECK(io_split_load(spath, &sp, err, sizeof err) == 0, "split: %s", err);
    char src[900];
    snprintf(src, sizeof src, "%s/%s", data, sp.ids[2][0]);
    snprintf(dst, sizeof dst, "%s/%s", only, sp.ids[2][0]);
    TU_CHECK(symlink(src, dst) == 0, "symlink %s", dst);
    snprintf(args, sizeof args, "eval --model %s --data %s --split val", ckpt, only);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, sp.ids[1][0]) && strstr(out, "is not under") && strstr(out, "none of"),
             "absent split: exit %d: %s", rc, out);
    printf("absent split cases: %s", out);
    /* the test case alone: evaluated, the regression fitted on it (said so) */
    snprintf(args, sizeof args, "eval --model %s --data %s --max-slices 3", ckpt, only);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 0 && strstr(out, "fitted on the evaluated cases"), "test case alone: exit %d: %s", rc, out);
    io_split_free(&sp);

    rc = tu_run_cli("eval --help", out, sizeof out);
    TU_CHECK(rc == 0 && strstr(out, "usage: vkmist eval"), "--help: exit %d: %s", rc, out);
    /* usage errors */
    snprintf(args, sizeof args, "eval --model %s --data %s --split bogus", ckpt, data);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 2 && strstr(out, "--split expects"), "bad split: exit %d: %s", rc, out);
    snprintf(args, sizeof args, "eval --model %s", ckpt);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 2 && strstr(out, "--data"), "no data: exit %d: %s", rc, out);
    snprintf(args, sizeof args, "eval --model %s/nope.safetensors --data %s", T, data);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, "nope.safetensors"), "missing model: exit %d: %s", rc, out);
    return tu_finish("test_eval");
}
