/* `vkmist data`: scans a data folder (case discovery), lists complete and
 * incomplete cases, builds or opens the preprocessed slice cache and
 * reports slice count and timings; optionally a PNG preview of slices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io/cache.h"
#include "io/discover.h"
#include "io/grid.h"
#include "tools/cli.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: vkmist data --data DIR [--img N] [--norm percentile|minmax] [--cache-dir D]\n"
        "                   [--slice-frac F] [--no-cache] [--preview PNG] [--quiet]\n\n"
        "Finds the cases under DIR (recursively): BraTS 2018-2021 names (*_t1, *_t1ce, *_t2,\n"
        "*_flair), BraTS 2023 names (*-t1n, *-t1c, *-t2w, *-t2f) or Medical Segmentation\n"
        "Decathlon Task01 4-D files (imagesTr/*.nii.gz), .nii or .nii.gz. Lists complete cases and\n"
        "incomplete ones with what is missing, then builds (or reuses) the slice cache: every\n"
        "axial slice whose brain covers >= F of the slice, each modality normalised, padded and\n"
        "downsampled to N x N. A stale or damaged cache is rebuilt.\n\n"
        "  --data DIR         data folder (required)\n"
        "  --img N            model image size (default 64; 256, 128, 64 or 32 for the configs)\n"
        "  --norm M           percentile (default: /99.5th percentile, clip) or minmax\n"
        "  --cache-dir D      cache folder (default $XDG_CACHE_HOME/vkmist or ~/.cache/vkmist)\n"
        "  --slice-frac F     minimum brain fraction of a slice (default 0.02)\n"
        "  --no-cache         only list the cases\n"
        "  --preview PNG      write a sheet of 6 cached slices: T1 | T1ce | T2 | FLAIR\n"
        "  --quiet            no per-case lines\n");
}

static void default_cache_dir(char *out, size_t len) {
    const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (x && *x) snprintf(out, len, "%s/vkmist", x);
    else snprintf(out, len, "%s/.cache/vkmist", h && *h ? h : "/tmp");
}

static int preview(const io_cache *c, const char *path) {
    int rows = c->n_slices < 6 ? (int)c->n_slices : 6, img = c->params.img;
    int tile = img < 128 ? 128 : img;
    io_grid *g = io_grid_new(4, rows, tile, tile, 10);
    if (!g) { fprintf(stderr, "vkmist data: out of memory for the preview\n"); return 1; }
    static const char *names[4] = {"T1", "T1ce", "T2", "FLAIR"};
    for (int r = 0; r < rows; r++) {
        int64_t i = (int64_t)r * c->n_slices / rows;
        const float *s = io_cache_slice(c, i);
        for (int d = 0; d < 4; d++) {
            char label[160];
            snprintf(label, sizeof label, "%s %s z%d", names[d], c->case_ids[c->info[i].case_idx], (int)c->info[i].z);
            io_grid_put(g, d, r, s + (size_t)d * img * img, img, img);
            io_grid_label(g, d, r, label);
        }
    }
    char err[1024];
    int rc = io_grid_write(g, path, err, sizeof err);
    io_grid_free(g);
    if (rc) { fprintf(stderr, "vkmist data: %s\n", err); return 1; }
    printf("preview: %s\n", path);
    return 0;
}

int cmd_data(int argc, char **argv) {
    const char *data = NULL, *cache_dir = NULL, *png = NULL;
    io_prep_params p = io_prep_defaults(64);
    int no_cache = 0, quiet = 0;
    cli_args a = cli_begin("data", argc, argv);
    const char *v = NULL;
#define OPT(name) (!a.bad && (v = cli_value(&a, name)))
#define FLAG(name) (!a.bad && cli_flag(&a, name))
    while (cli_more(&a)) {
        if (FLAG("--help") || FLAG("-h")) { usage(stdout); return 0; }
        else if (OPT("--data")) data = v;
        else if (OPT("--img")) p.img = (int)cli_long(&a, "--img", v, 8, 1024);
        else if (OPT("--norm")) {
            if (io_norm_parse(v, &p.norm)) {
                fprintf(stderr, "vkmist data: --norm expects percentile or minmax, got '%s'\n", v);
                a.bad = 1;
            }
        }
        else if (OPT("--cache-dir")) cache_dir = v;
        else if (OPT("--slice-frac")) p.slice_frac = cli_double(&a, "--slice-frac", v, 0, 1);
        else if (OPT("--preview")) png = v;
        else if (FLAG("--no-cache")) no_cache = 1;
        else if (FLAG("--quiet")) quiet = 1;
        else if (!a.bad) cli_unknown(&a);
    }
#undef OPT
#undef FLAG
    if (a.bad) return 2;
    if (!data || !*data) {
        fprintf(stderr, "vkmist data: --data DIR is required (see vkmist data --help)\n");
        return 2;
    }
    char err[2048], cdir[4096];
    io_caselist cl;
    if (io_discover(data, &cl, err, sizeof err)) {
        fprintf(stderr, "vkmist data: %s\n", err);
        return 1;
    }
    static const char *scheme[3] = {"BraTS 2018-2021", "BraTS 2023", "MSD Task01"};
    printf("%s: %d complete case%s, %d incomplete\n", data, cl.n, cl.n == 1 ? "" : "s", cl.n_incomplete);
    for (int i = 0; i < cl.n && !quiet; i++) printf("  %-40s %s\n", cl.cases[i].id, scheme[cl.cases[i].scheme]);
    for (int i = 0; i < cl.n_incomplete; i++)
        printf("  incomplete: %-28s %s (skipped for training)\n", cl.incomplete[i].id, cl.incomplete[i].problem);
    int rc = 0;
    if (!no_cache && cl.n > 0) {
        if (!cache_dir) { default_cache_dir(cdir, sizeof cdir); cache_dir = cdir; }
        io_cache *c = NULL;
        if (io_cache_open(&cl, cache_dir, &p, quiet ? NULL : stdout, &c, err, sizeof err)) {
            fprintf(stderr, "vkmist data: %s\n", err);
            rc = 1;
        } else {
            printf("slice cache %s\n", c->path);
            printf("  img %d, norm %s, slice threshold %.3f: %lld slices from %d cases (%d skipped)\n", p.img,
                   io_norm_name(p.norm), p.slice_frac, (long long)c->n_slices, c->n_cases - c->n_skipped, c->n_skipped);
            if (c->rebuilt) printf("  built in %.2f s (%s), verified and mapped in %.3f s\n", c->build_s, c->why, c->load_s);
            else printf("  reused: verified and mapped in %.3f s\n", c->load_s);
            if (png && c->n_slices > 0) rc = preview(c, png);
            io_cache_close(c);
        }
    } else if (!no_cache) {
        printf("no complete cases: no slice cache\n");
    }
    io_caselist_free(&cl);
    return rc;
}
