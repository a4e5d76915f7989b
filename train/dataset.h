/* A training data set ready to load: discovered cases, the subject split
 * (saved in the run directory, reused on resume) and the slice cache. With
 * no data directory it uses the built-in phantom data set, generated once
 * under the user cache dir. */
#pragma once
#include <stdio.h>
#include "io/cache.h"
#include "io/discover.h"
#include "io/preprocess.h"
#include "io/split.h"

typedef struct {
    char data_dir[1024];
    io_caselist cases;
    io_split split;
    io_cache *cache;
    int phantom;          /* the built-in phantom data set */
} mist_dataset;

/* The user cache dir ($XDG_CACHE_HOME/vkmist, else ~/.cache/vkmist). */
void mist_cache_dir(char *out, size_t len);
/* The default phantom data set's folder, generated when missing. */
int mist_default_phantom(char *dir, size_t len, FILE *log, char *err, size_t errlen);
/* split_path: where the split lives (loaded when it exists, else made from
 * seed and saved there; NULL = not saved). */
int mist_dataset_open(mist_dataset *ds, const char *data_dir, int img, io_norm norm, uint64_t seed,
                      const char *split_path, FILE *log, char *err, size_t errlen);
void mist_dataset_close(mist_dataset *ds);
