/* `vkmist eval`: command-line front of train/evaluate (imputation quality
 * per modality on a split, next to two baselines). */
#include <stdio.h>
#include <string.h>
#include "tools/cli.h"
#include "train/evaluate.h"

static void usage(void) {
    printf("usage: vkmist eval --model CKPT --data DIR [--split test|val|train|all] [--json F] [--csv F]\n"
           "                   [--device N] [--max-slices N]\n\n"
           "Imputes every modality of every case of a split from the other three (the checkpoint's mean\n"
           "style) and scores it on the preprocessed [0,1] slices used in training: SSIM, PSNR and MAE per\n"
           "slice (mean ± std, whole slice and inside the brain mask, like the paper's Table 1) and per\n"
           "volume (3-D), next to two baselines scored by the same code on the same slices: the mean of\n"
           "the three inputs, and a per-target linear regression from them fitted on the training split.\n\n"
           "  --model CKPT      a checkpoint (RUN/ckpt/step_*.safetensors)\n"
           "  --data DIR        the data folder (BraTS 2018-2021 / 2023 names, MSD Task01)\n"
           "  --split S         the checkpoint's own test (default), val or train cases found under DIR,\n"
           "                    or all complete cases\n"
           "  --json F          everything as JSON (per modality, per volume, baselines, coefficients)\n"
           "  --csv F           one row per slice, target and method\n"
           "  --max-slices N    at most N evenly spaced slices per volume (default: all)\n"
           "  --device N        Vulkan device (see vkmist devices)\n");
}

int cmd_eval(int argc, char **argv) {
    cli_args a = cli_begin("eval", argc, argv);
    mist_eval_opts o;
    mist_eval_defaults(&o);
    o.log = stderr;
    const char *v;
    while (cli_more(&a)) {
        if (cli_flag(&a, "--help") || cli_flag(&a, "-h")) {
            usage();
            return 0;
        } else if ((v = cli_value(&a, "--model"))) o.model = v;
        else if ((v = cli_value(&a, "--data"))) o.data = v;
        else if ((v = cli_value(&a, "--split"))) {
            if (mist_eval_split_parse(v, &o.split)) {
                fprintf(stderr, "vkmist eval: --split expects test, val, train or all, got '%s'\n", v);
                a.bad = 1;
            }
        } else if ((v = cli_value(&a, "--json"))) o.json = v;
        else if ((v = cli_value(&a, "--csv"))) o.csv = v;
        else if ((v = cli_value(&a, "--max-slices"))) o.max_slices = (int)cli_long(&a, "--max-slices", v, 1, 100000);
        else if ((v = cli_value(&a, "--device"))) o.device = (int)cli_long(&a, "--device", v, 0, 1000);
        else if (!a.bad) cli_unknown(&a);
    }
    if (a.bad) return 2;
    if (!o.model || !o.data) {
        fprintf(stderr, "vkmist eval: --model CKPT and --data DIR are required (see vkmist eval --help)\n");
        return 2;
    }
    char err[2048];
    if (mist_eval(&o, err, sizeof err)) {
        fprintf(stderr, "vkmist eval: %s\n", err);
        return 1;
    }
    if (o.json) printf("json: %s\n", o.json);
    if (o.csv) printf("csv: %s\n", o.csv);
    return 0;
}
