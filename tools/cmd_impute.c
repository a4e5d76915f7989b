/* `vkmist impute`: command-line front of train/impute (three NIfTI inputs
 * -> the missing modality on their grid). */
#include <stdio.h>
#include <string.h>
#include "io/discover.h"
#include "tools/cli.h"
#include "train/impute.h"

static void usage(void) {
    printf("usage: vkmist impute --model CKPT (--case DIR | --t1 F --t1ce F --t2 F --flair F) [--target MOD]\n"
           "                     [--out PATH] [--style mean|ref:FILE|seed:N] [--preview PNG] [--device N]\n\n"
           "Imputes the missing modality of one case from the other three with a trained checkpoint.\n"
           "The inputs are preprocessed as in training (the checkpoint's normalisation, RAS slices, padding,\n"
           "downsampling to the model size); the result is resampled back onto the inputs' grid and\n"
           "orientation (same dims, voxel size, qform/sform), float32 in [0, 1], zero outside the brain.\n\n"
           "  --model CKPT      a checkpoint (RUN/ckpt/step_*.safetensors)\n"
           "  --case DIR        a case folder with three of the four modalities (BraTS 2018-2021 or 2023\n"
           "                    names); the output is named after the missing one in the folder's own scheme\n"
           "  --t1/--t1ce/--t2/--flair F   the inputs as files (any three; all four with --target)\n"
           "  --target MOD      t1 | t1ce | t2 | flair: needed when all four are given\n"
           "  --out PATH        output file (.nii or .nii.gz) or folder (default: next to the inputs)\n"
           "  --style S         mean (default: the checkpoint's mean style of the target, deterministic),\n"
           "                    ref:FILE (the style of a scan of the target modality), seed:N (drawn through\n"
           "                    the mapping network)\n"
           "  --preview PNG     a labelled picture of a middle slice: the three inputs and the imputed one\n"
           "  --device N        Vulkan device (see vkmist devices)\n");
}

int cmd_impute(int argc, char **argv) {
    cli_args a = cli_begin("impute", argc, argv);
    mist_impute_opts o;
    mist_impute_defaults(&o);
    o.log = stderr;
    char err[2048];
    const char *v;
    while (cli_more(&a)) {
        int dom = -1;
        if (cli_flag(&a, "--help") || cli_flag(&a, "-h")) {
            usage();
            return 0;
        } else if ((v = cli_value(&a, "--model"))) o.model = v;
        else if ((v = cli_value(&a, "--case"))) o.case_dir = v;
        else if ((v = cli_value(&a, "--t1"))) dom = 0;
        else if ((v = cli_value(&a, "--t1ce"))) dom = 1;
        else if ((v = cli_value(&a, "--t2"))) dom = 2;
        else if ((v = cli_value(&a, "--flair"))) dom = 3;
        else if ((v = cli_value(&a, "--target"))) {
            if ((o.target = io_domain_from_name(v)) < 0) {
                fprintf(stderr, "vkmist impute: --target expects t1, t1ce, t2 or flair, got '%s'\n", v);
                a.bad = 1;
            }
        } else if ((v = cli_value(&a, "--out"))) o.out = v;
        else if ((v = cli_value(&a, "--style"))) {
            if (mist_style_parse(v, &o.style, err, sizeof err)) {
                fprintf(stderr, "vkmist impute: %s\n", err);
                a.bad = 1;
            }
        } else if ((v = cli_value(&a, "--preview"))) o.preview = v;
        else if ((v = cli_value(&a, "--device"))) o.device = (int)cli_long(&a, "--device", v, 0, 1000);
        else if (!a.bad) cli_unknown(&a);
        if (dom >= 0) o.input[dom] = v;
    }
    if (a.bad) return 2;
    if (!o.model) {
        fprintf(stderr, "vkmist impute: --model CKPT is required (see vkmist impute --help)\n");
        return 2;
    }
    mist_impute_result r;
    if (mist_impute(&o, &r, err, sizeof err)) {
        fprintf(stderr, "vkmist impute: %s\n", err);
        return 1;
    }
    printf("imputed %s%s%s: %d of %d slices in %.2f s -> %s\n", io_domain_name(r.target), r.case_id[0] ? " of " : "",
           r.case_id, r.slices, r.nz, r.seconds, r.out_path);
    if (o.preview) printf("preview: %s\n", o.preview);
    return 0;
}
