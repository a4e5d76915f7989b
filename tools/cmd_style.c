/* `vkmist style`: the paper's style analyses (forms, interpolate, embed,
 * diversity) — command-line front of train/style_tools. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/cli.h"
#include "train/style_tools.h"

enum { A_FORMS = 1, A_INTERP = 2, A_EMBED = 4, A_DIV = 8, A_ALL = 15 };
#define MAX_REFS_ARGS 64

static const struct { const char *name; unsigned mask; } actions[] = {
    {"forms", A_FORMS}, {"interpolate", A_INTERP}, {"embed", A_EMBED}, {"diversity", A_DIV}};

/* Every option, and the actions that take it. */
enum {
    O_MODEL, O_CONFIG, O_DEVICE, O_OUT, O_CASE, O_TARGET, O_REFS, O_SLICE, O_MAXREFS, O_REFSLICES, O_FROM, O_TO,
    O_STEPS, O_DATA, O_PERDOMAIN, O_SEED, O_ITERS, O_PERPLEXITY, O_SAMPLES, O_SLICES, O_COUNT
};
static const struct { const char *name; unsigned mask; } opts[O_COUNT] = {
    {"--model", A_ALL}, {"--config", A_ALL}, {"--device", A_ALL}, {"--out", A_ALL}, {"--case", A_FORMS | A_INTERP},
    {"--target", A_FORMS | A_INTERP}, {"--refs", A_FORMS}, {"--slice", A_FORMS | A_INTERP}, {"--max-refs", A_FORMS},
    {"--ref-slices", A_FORMS}, {"--from", A_INTERP}, {"--to", A_INTERP}, {"--steps", A_INTERP},
    {"--data", A_EMBED | A_DIV}, {"--per-domain", A_EMBED}, {"--seed", A_EMBED | A_DIV}, {"--iters", A_EMBED},
    {"--perplexity", A_EMBED}, {"--samples", A_DIV}, {"--slices", A_DIV}};

static void usage(unsigned a) {
    const char *common =
        "  --model CKPT      a checkpoint file, or a run directory (its newest good checkpoint)\n"
        "  --config NAME     refuse a checkpoint of another config (default: the checkpoint's own)\n"
        "  --device N        Vulkan device (see vkmist devices)     --quiet  only errors\n"
        "Modalities: t1, t1ce, t2, flair (or the BraTS 2023 names t1n, t1c, t2w, t2f).\n";
    if (a == A_FORMS)
        printf("usage: vkmist style forms --model CKPT --case DIR --target MOD --refs DIR|FILE[,...] [--out PNG]\n"
               "                          [--slice Z] [--max-refs K] [--ref-slices M]\n\n"
               "One target modality of a case imputed from its other three modalities in the styles of K reference\n"
               "scans of the target modality (the paper's Fig. 4a). A reference's style is the mean style code of M\n"
               "of its middle brain slices (EMA style encoder). The picture: the case's inputs (and the real target\n"
               "when present), the reference slices, and under each the imputation in its style, plus the imputation\n"
               "with the checkpoint's mean style.\n\n"
               "  --case DIR        one case folder (BraTS names; the target file may be missing)\n"
               "  --target MOD      the modality to impute\n"
               "  --refs SPEC       a folder (every case under it with a MOD file contributes it) or NIfTI files,\n"
               "                    comma separated or repeated\n"
               "  --out PNG         picture (default style_forms.png)\n"
               "  --slice Z         axial slice of the case in RAS order (default: its middle brain slice)\n"
               "  --max-refs K      at most K references (default 8)   --ref-slices M  slices per reference (5)\n%s",
               common);
    else if (a == A_INTERP)
        printf("usage: vkmist style interpolate --model CKPT --case DIR --from MOD --to MOD [--steps N] [--target MOD]\n"
               "                                [--out PNG] [--slice Z]\n\n"
               "Decodes a case's content with styles on the line between two domains' mean styles (Fig. 4b):\n"
               "s(a) = (1 - a) s_from + a s_to for a = 0, 1/(N-1), ..., 1. The content comes from the three\n"
               "modalities other than --target (default: --to), so a = 1 is the ordinary imputation of --to.\n\n"
               "  --case DIR        one case folder          --steps N   columns of the strip (default 11)\n"
               "  --out PNG         picture (default style_interpolate.png); the case's real --from/--to slices\n"
               "                    are shown under the ends\n"
               "  --slice Z         axial slice (default: the middle brain slice)\n%s",
               common);
    else if (a == A_EMBED)
        printf("usage: vkmist style embed --model CKPT [--data DIR] [--per-domain N] [--out PREFIX] [--seed S]\n"
               "                          [--iters N] [--perplexity P]\n\n"
               "Style codes (EMA style encoder) of the same N slices, spread over all cases, in each domain:\n"
               "  PREFIX.csv         domain, case, site (phantom sidecar, when known), slice, t-SNE x/y, code...\n"
               "  PREFIX.json        leave-one-out 1-NN accuracies: domain (all points), site (within each domain;\n"
               "                     also never using a neighbour from the same case), chance level\n"
               "  PREFIX_domain.png  2-D t-SNE (exact; PCA init) coloured by domain\n"
               "  PREFIX_site.png    the same coloured by acquisition site (when the data has sites: the phantom)\n\n"
               "  --data DIR        BraTS-layout data (default: the built-in phantom data set)\n"
               "  --per-domain N    slices per domain (default 100; 4N points)   --out PREFIX  (style_embed)\n"
               "  --seed S          t-SNE seed (1)   --iters N  t-SNE iterations (1000)   --perplexity P  (30)\n%s",
               common);
    else if (a == A_DIV)
        printf("usage: vkmist style diversity --model CKPT [--data DIR] [--samples K] [--slices N] [--seed S] [--out PREFIX]\n\n"
               "For N slices and each target domain, K outputs with random styles from the mapping network (seeds\n"
               "S .. S+K-1); prints the mean pairwise L1 and mean pairwise SSIM between the K outputs per domain\n"
               "(images in [0, 1]; low SSIM / high L1 = diverse). LPIPS, the paper's diversity measure, needs\n"
               "pretrained network weights that vkmist does not ship, so it is not reported.\n\n"
               "  --data DIR        BraTS-layout data (default: the built-in phantom data set)\n"
               "  --samples K       styles per slice (default 5)    --slices N  slices (default 8)\n"
               "  --seed S          first mapping seed (1)          --out PREFIX  also PREFIX.json and PREFIX.png\n%s",
               common);
    else
        printf("usage: vkmist style ACTION [options]   (vkmist style ACTION --help for details)\n\n"
               "  forms        one target imputed in the styles of K reference scans (Fig. 4a)\n"
               "  interpolate  a strip between two domains' mean styles (Fig. 4b)\n"
               "  embed        style codes per domain: CSV, t-SNE pictures by domain and site, 1-NN accuracies\n"
               "  diversity    pairwise L1 / SSIM of outputs under random styles (LPIPS not reported)\n");
}

static int domain_arg(cli_args *a, const char *name, const char *v) {
    if (!v) return -1;
    int d = mist_style_domain(v);
    if (d < 0) {
        fprintf(stderr, "vkmist %s: %s expects t1, t1ce, t2 or flair, got '%s'\n", a->cmd, name, v);
        a->bad = 1;
    }
    return d;
}

static int need(cli_args *a, const char *v, const char *name) {
    if (v) return 1;
    if (!a->bad) fprintf(stderr, "vkmist %s: %s is required (see vkmist %s --help)\n", a->cmd, name, a->cmd);
    a->bad = 1;
    return 0;
}

/* --refs values, comma-split into buf-backed strings. */
static int split_refs(const char *const *vals, int nvals, char *buf, size_t buflen, const char **out) {
    int n = 0;
    size_t used = 0;
    for (int i = 0; i < nvals; i++) {
        size_t len = strlen(vals[i]);
        if (used + len + 1 > buflen) return -1;
        char *s = buf + used;
        memcpy(s, vals[i], len + 1);
        used += len + 1;
        for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ","))
            if (n < MAX_REFS_ARGS) out[n++] = tok;
    }
    return n;
}

int cmd_style(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(0);
        return argc < 2 ? 2 : 0;
    }
    unsigned act = 0;
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (!strcmp(argv[1], actions[i].name)) act = actions[i].mask;
    if (!act) {
        fprintf(stderr, "vkmist style: unknown action '%s' (forms, interpolate, embed or diversity)\n", argv[1]);
        return 2;
    }
    char cmdname[64];
    snprintf(cmdname, sizeof cmdname, "style %s", argv[1]);
    cli_args a = cli_begin(cmdname, argc - 1, argv + 1);
    const char *val[O_COUNT] = {0}, *refv[MAX_REFS_ARGS];
    int nrefv = 0, quiet = 0;
    while (cli_more(&a)) {
        if (cli_flag(&a, "--help") || cli_flag(&a, "-h")) {
            usage(act);
            return 0;
        }
        if (cli_flag(&a, "--quiet")) {
            quiet = 1;
            continue;
        }
        int hit = 0;
        for (int o = 0; o < O_COUNT && !hit && !a.bad; o++) {
            if (!(opts[o].mask & act)) continue;
            const char *v = cli_value(&a, opts[o].name);
            if (!v) continue;
            hit = 1;
            if (o == O_REFS && nrefv < MAX_REFS_ARGS) refv[nrefv++] = v;
            else val[o] = v;
        }
        if (!hit && !a.bad) cli_unknown(&a);
    }
    if (a.bad) return 2;
    need(&a, val[O_MODEL], "--model");
    int device = val[O_DEVICE] ? (int)cli_long(&a, "--device", val[O_DEVICE], 0, 1000) : -1;
    if (val[O_CONFIG]) {
        mist_config c;
        char e[512];
        if (mist_config_get(val[O_CONFIG], &c, e, sizeof e)) {
            fprintf(stderr, "vkmist %s: %s\n", a.cmd, e);
            a.bad = 1;
        }
    }
    mist_style_forms_opts fo = mist_style_forms_defaults();
    mist_style_interp_opts io = mist_style_interp_defaults();
    mist_style_embed_opts eo = mist_style_embed_defaults();
    mist_style_div_opts dvo = mist_style_div_defaults();
    const char *refs[MAX_REFS_ARGS];
    char refbuf[16384];
    if (act & (A_FORMS | A_INTERP)) {
        need(&a, val[O_CASE], "--case");
        int slice = val[O_SLICE] ? (int)cli_long(&a, "--slice", val[O_SLICE], 0, 100000) : -1;
        fo.case_dir = io.case_dir = val[O_CASE];
        fo.slice = io.slice = slice;
    }
    if (act == A_FORMS) {
        if (need(&a, val[O_TARGET], "--target")) fo.target = domain_arg(&a, "--target", val[O_TARGET]);
        if (need(&a, nrefv ? refv[0] : NULL, "--refs")) {
            fo.nrefs = split_refs(refv, nrefv, refbuf, sizeof refbuf, refs);
            fo.refs = refs;
            if (fo.nrefs <= 0) {
                fprintf(stderr, "vkmist %s: --refs: no reference given (or the list is too long)\n", a.cmd);
                a.bad = 1;
            }
        }
        if (val[O_MAXREFS]) fo.max_refs = (int)cli_long(&a, "--max-refs", val[O_MAXREFS], 1, 64);
        if (val[O_REFSLICES]) fo.ref_slices = (int)cli_long(&a, "--ref-slices", val[O_REFSLICES], 1, 256);
        if (val[O_OUT]) fo.out = val[O_OUT];
    } else if (act == A_INTERP) {
        if (need(&a, val[O_FROM], "--from")) io.from = domain_arg(&a, "--from", val[O_FROM]);
        if (need(&a, val[O_TO], "--to")) io.to = domain_arg(&a, "--to", val[O_TO]);
        if (val[O_TARGET]) io.target = domain_arg(&a, "--target", val[O_TARGET]);
        if (val[O_STEPS]) io.steps = (int)cli_long(&a, "--steps", val[O_STEPS], 2, 101);
        if (val[O_OUT]) io.out = val[O_OUT];
    } else if (act == A_EMBED) {
        eo.data_dir = val[O_DATA];
        if (val[O_PERDOMAIN]) eo.per_domain = (int)cli_long(&a, "--per-domain", val[O_PERDOMAIN], 2, 5000);
        if (val[O_SEED]) eo.seed = (uint64_t)cli_long(&a, "--seed", val[O_SEED], 0, 0x7fffffffl);
        if (val[O_ITERS]) eo.iters = (int)cli_long(&a, "--iters", val[O_ITERS], 0, 100000);
        if (val[O_PERPLEXITY]) eo.perplexity = cli_double(&a, "--perplexity", val[O_PERPLEXITY], 1, 1000);
        if (val[O_OUT]) eo.out = val[O_OUT];
    } else {
        dvo.data_dir = val[O_DATA];
        if (val[O_SAMPLES]) dvo.samples = (int)cli_long(&a, "--samples", val[O_SAMPLES], 2, 256);
        if (val[O_SLICES]) dvo.slices = (int)cli_long(&a, "--slices", val[O_SLICES], 1, 10000);
        if (val[O_SEED]) dvo.seed = (uint32_t)cli_long(&a, "--seed", val[O_SEED], 0, 0xffffffffl);
        dvo.out = val[O_OUT];
    }
    if (a.bad) return 2;

    char err[2048];
    mist_style_model m;
    FILE *log = quiet ? NULL : stdout;
    if (mist_style_model_open(&m, val[O_MODEL], val[O_CONFIG], device, !quiet, err, sizeof err)) {
        fprintf(stderr, "vkmist %s: %s\n", a.cmd, err);
        return 1;
    }
    if (log) fprintf(log, "model: %s (config %s, step %ld)\n", m.path, m.cfg.name, m.step);
    int rc;
    if (act == A_FORMS) rc = mist_style_forms(&m, &fo, log, err, sizeof err);
    else if (act == A_INTERP) rc = mist_style_interpolate(&m, &io, log, err, sizeof err);
    else if (act == A_EMBED) {
        mist_style_embed_result r;
        rc = mist_style_embed(&m, &eo, &r, log, err, sizeof err);
    } else {
        mist_style_div_result r;
        rc = mist_style_diversity(&m, &dvo, &r, log, err, sizeof err);
    }
    mist_style_model_close(&m);
    if (rc) {
        fprintf(stderr, "vkmist %s: %s\n", a.cmd, err);
        return 1;
    }
    return 0;
}
