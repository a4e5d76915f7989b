/* Data set preparation for training and evaluation (see dataset.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "io/phantom.h"
#include "train/dataset.h"

void mist_cache_dir(char *out, size_t len) {
    const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (x && *x) snprintf(out, len, "%s/vkmist", x);
    else snprintf(out, len, "%s/.cache/vkmist", h && *h ? h : "/tmp");
}

int mist_default_phantom(char *dir, size_t len, FILE *log, char *err, size_t errlen) {
    char base[900];
    mist_cache_dir(base, sizeof base);
    snprintf(dir, len, "%s/phantom-default", base);
    char marker[1100];
    snprintf(marker, sizeof marker, "%s/phantom.json", dir);
    if (access(marker, R_OK) == 0) return 0; /* written last: its presence means complete */
    io_phantom_opts o;
    io_phantom_default_opts(&o);
    o.out = dir;
    o.cases = 16;
    o.force = 1;
    o.quiet = log == NULL;
    if (log) fprintf(log, "building the built-in phantom data set (once) in %s\n", dir);
    return io_phantom_write(&o, err, errlen);
}

int mist_dataset_open(mist_dataset *ds, const char *data_dir, int img, io_norm norm, uint64_t seed,
                      const char *split_path, FILE *log, char *err, size_t errlen) {
    memset(ds, 0, sizeof *ds);
    if (!data_dir) {
        if (mist_default_phantom(ds->data_dir, sizeof ds->data_dir, log, err, errlen)) return -1;
        ds->phantom = 1;
    } else {
        snprintf(ds->data_dir, sizeof ds->data_dir, "%s", data_dir);
    }
    if (io_discover(ds->data_dir, &ds->cases, err, errlen)) return -1;
    for (int i = 0; log && i < ds->cases.n_incomplete; i++) {
        char miss[256];
        io_case_missing_str(&ds->cases.incomplete[i], miss, sizeof miss);
        fprintf(log, "skipping incomplete case %s: %s\n", ds->cases.incomplete[i].id, miss);
    }
    if (ds->cases.n < 2) {
        snprintf(err, errlen, "%s holds %d complete case%s (T1, T1ce, T2 and FLAIR); at least 2 are needed",
                 ds->data_dir, ds->cases.n, ds->cases.n == 1 ? "" : "s");
        mist_dataset_close(ds);
        return -1;
    }
    int have_split = split_path && access(split_path, R_OK) == 0;
    if (have_split) {
        if (io_split_load(split_path, &ds->split, err, errlen)) {
            mist_dataset_close(ds);
            return -1;
        }
    } else {
        const char **ids = malloc(ds->cases.n * sizeof *ids);
        if (!ids) {
            snprintf(err, errlen, "out of host memory");
            mist_dataset_close(ds);
            return -1;
        }
        for (int i = 0; i < ds->cases.n; i++) ids[i] = ds->cases.cases[i].id;
        int rc = io_split_make(ids, ds->cases.n, seed, &ds->split, err, errlen);
        free(ids);
        if (!rc && split_path) rc = io_split_save(&ds->split, split_path, err, errlen);
        if (rc) {
            mist_dataset_close(ds);
            return -1;
        }
    }
    char cdir[1024];
    mist_cache_dir(cdir, sizeof cdir);
    io_prep_params pp = io_prep_defaults(img);
    pp.norm = norm;
    if (io_cache_open(&ds->cases, cdir, &pp, log, &ds->cache, err, errlen)) {
        mist_dataset_close(ds);
        return -1;
    }
    if (log)
        fprintf(log, "data: %s, %d cases (train %d / val %d / test %d), %lld slices at %dx%d (%s cache, %.2f s)\n",
                ds->data_dir, ds->cases.n, ds->split.n[0], ds->split.n[1], ds->split.n[2],
                (long long)ds->cache->n_slices, img, img, ds->cache->rebuilt ? "built the" : "reused the",
                ds->cache->rebuilt ? ds->cache->build_s : ds->cache->load_s);
    return 0;
}

void mist_dataset_close(mist_dataset *ds) {
    if (ds->cache) io_cache_close(ds->cache);
    ds->cache = NULL;
    io_split_free(&ds->split);
    io_caselist_free(&ds->cases);
}
