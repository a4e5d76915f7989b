/* Training logs: RUN/train.csv and RUN/val.csv (one row per logged step,
 * flushed as written, trimmed back to the resumed step on --resume so the
 * file always describes the run that continues), and RUN/metrics.json
 * (sections merged in, written atomically). */
#pragma once
#include <stddef.h>
#include <stdio.h>

typedef struct cJSON cJSON;

typedef struct {
    FILE *f;
    char *path;
    int ncols;          /* including the leading step column */
} csv_log;

/* Opens path for logging with columns cols[0..ncols-1]; cols[0] names the
 * step column (e.g. "step"). resume_step < 0 starts a fresh file (an old one
 * is replaced). resume_step >= 0 continues an existing file: rows with a step
 * above resume_step, and any partial last line a crash left, are cut off; a
 * missing file is created; a file whose header differs from cols (another
 * version or config) is moved to "<path>.old" with a warning and a fresh one
 * started. -1 with err set on failure. */
int csv_log_open(csv_log *l, const char *path, const char *const *cols, int ncols, long resume_step,
                 char *err, size_t errlen);
/* Appends "step,v0,v1,..." (nvals must be ncols - 1; %.7g, nan/inf as such)
 * and flushes. */
int csv_log_row(csv_log *l, long step, const double *vals, int nvals, char *err, size_t errlen);
void csv_log_close(csv_log *l);

/* Writes root to path as indented JSON via a temp file and rename. */
int json_write_atomic(const char *path, const cJSON *root, char *err, size_t errlen);
/* Sets metrics.json[section] = value (taking ownership of value, also on
 * failure), keeping the other sections; a missing or damaged file starts
 * empty (damage is reported on stderr). */
int metrics_update(const char *path, const char *section, cJSON *value, char *err, size_t errlen);
