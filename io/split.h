/* Seeded 3:1:1 train/val/test split of subject ids, saved as JSON in the
 * run directory so a resumed or evaluated run uses the same subjects.
 *
 * Rule: ids are sorted, shuffled by a splitmix64-driven Fisher-Yates from
 * the seed, then n_val = n_test = round(n / 5) with at least 1 each when
 * n >= 3 (so 3 cases give 1/1/1, 4 give 2/1/1, 5 give 3/1/1), train takes
 * the rest. n = 2: 1 train, 1 val; n = 1: train only. The result does not
 * depend on the order the ids were given in. */
#pragma once
#include <stddef.h>
#include <stdint.h>

enum { IO_SPLIT_TRAIN = 0, IO_SPLIT_VAL = 1, IO_SPLIT_TEST = 2 };

typedef struct io_split {
    uint64_t seed;
    int n[3];        /* sizes of train, val, test */
    char **ids[3];   /* each sorted by id */
} io_split;

int io_split_make(const char *const *ids, int n, uint64_t seed, io_split *s, char *err, size_t errlen);
/* Which part id is in (IO_SPLIT_*), or -1. */
int io_split_find(const io_split *s, const char *id);
/* JSON {"version":1,"seed":..,"train":[..],"val":[..],"test":[..]},
 * written to a temp file and renamed. */
int io_split_save(const io_split *s, const char *path, char *err, size_t errlen);
/* Refuses malformed files, unknown versions and ids listed twice; "version"
 * and "seed" may be left out (hand-written splits). */
int io_split_load(const char *path, io_split *s, char *err, size_t errlen);
void io_split_free(io_split *s);
