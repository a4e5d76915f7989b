/* `vkmist phantom`: writes the synthetic BraTS-layout phantom data set
 * (io/phantom.h), optionally with a PNG preview sheet. */
#include <stdio.h>
#include <string.h>
#include "io/phantom.h"
#include "tools/cli.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: vkmist phantom --out DIR [--cases N] [--seed S] [--sites K] [--preview PNG]\n"
        "                      [--preview-cases R] [--force] [--quiet]\n\n"
        "Writes a synthetic BraTS-2018-layout data set: DIR/Phantom_NNN/Phantom_NNN_{t1,t1ce,t2,flair,seg}.nii.gz\n"
        "(240x240x155, 1 mm, int16; seg holds BraTS labels 1 necrosis/non-enhancing core, 2 edema,\n"
        "4 enhancing), a sidecar DIR/Phantom_NNN/Phantom_NNN.json (site, TR/TE/TI per modality,\n"
        "tumour parameters, tissue relaxation and mean intensities, seed) and DIR/phantom.json\n"
        "(sites and cases; written last, so its presence means the set is complete).\n"
        "Brains are procedural (WM, GM ribbon, sulcal CSF, ventricles, deep grey, tumours) and\n"
        "imaged with spin-echo T1/T2, gadolinium-shortened T1ce and CSF-nulling inversion-recovery\n"
        "FLAIR under per-site protocols, with a bias field and Rician noise. The same seed gives\n"
        "byte-identical files; case i belongs to site i mod K and does not depend on --cases.\n\n"
        "  --out DIR          output directory (created if missing). A non-empty DIR is refused\n"
        "                     unless --force, which overwrites the phantom files there (other\n"
        "                     files are left alone)\n"
        "  --cases N          number of cases (default 12)\n"
        "  --seed S           data-set seed, a non-negative integer (default 1)\n"
        "  --sites K          number of scanner sites, each with its own protocol (default 3)\n"
        "  --preview PNG      also write a sheet of the middle axial slice of the first cases:\n"
        "                     T1 | T1ce | T2 | FLAIR | tissue labels (radiological view)\n"
        "  --preview-cases R  rows of the preview (default 4)\n"
        "  --force            write into a non-empty --out\n"
        "  --quiet            no per-case progress lines\n");
}

int cmd_phantom(int argc, char **argv) {
    io_phantom_opts o;
    io_phantom_default_opts(&o);
    cli_args a = cli_begin("phantom", argc, argv);
    const char *v = NULL;
    /* a missing value sets a.bad and moves past the end: test nothing more */
#define OPT(name) (!a.bad && (v = cli_value(&a, name)))
#define FLAG(name) (!a.bad && cli_flag(&a, name))
    while (cli_more(&a)) {
        if (FLAG("--help") || FLAG("-h")) { usage(stdout); return 0; }
        else if (OPT("--out")) o.out = v;
        else if (OPT("--cases")) o.cases = (int)cli_long(&a, "--cases", v, 1, 100000);
        else if (OPT("--seed")) o.seed = (uint64_t)cli_long(&a, "--seed", v, 0, (1L << 53));
        else if (OPT("--sites")) o.sites = (int)cli_long(&a, "--sites", v, 1, 1000);
        else if (OPT("--preview")) o.preview = v;
        else if (OPT("--preview-cases")) o.preview_cases = (int)cli_long(&a, "--preview-cases", v, 1, 64);
        else if (FLAG("--force")) o.force = 1;
        else if (FLAG("--quiet")) o.quiet = 1;
        else if (!a.bad) cli_unknown(&a);
    }
#undef OPT
#undef FLAG
    if (a.bad) return 2;
    if (!o.out || !*o.out) {
        fprintf(stderr, "vkmist phantom: --out DIR is required (see vkmist phantom --help)\n");
        return 2;
    }
    if (o.preview && !*o.preview) {
        fprintf(stderr, "vkmist phantom: --preview needs a file name\n");
        return 2;
    }
    char err[512] = "";
    if (io_phantom_write(&o, err, sizeof err)) {
        fprintf(stderr, "vkmist phantom: %s\n", err);
        return 1;
    }
    if (!o.quiet) printf("phantom: %d cases from seed %llu in %s\n", o.cases, (unsigned long long)o.seed, o.out);
    return 0;
}
