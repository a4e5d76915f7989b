/* CSV training logs and metrics.json (see log.h). Rows are flushed one by
 * one so a crash loses at most the line being written; resume trims the file
 * back to the checkpoint's step so rows from the lost stretch of the crashed
 * run never mix with those of the continued one. */
#include "train/log.h"
#include "io/util.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "c0,c1,...\n" (malloc'd), or NULL when a name would need quoting. */
static char *header_line(const char *const *cols, int ncols) {
    size_t len = 2;
    for (int i = 0; i < ncols; i++) {
        if (!cols[i] || !cols[i][0] || strpbrk(cols[i], ",\"\r\n")) return NULL;
        len += strlen(cols[i]) + 1;
    }
    char *h = malloc(len);
    if (!h) return NULL;
    h[0] = 0;
    for (int i = 0; i < ncols; i++) {
        if (i) strcat(h, ",");
        strcat(h, cols[i]);
    }
    strcat(h, "\n");
    return h;
}

/* Cuts an existing log back to its header and the complete rows with
 * step <= resume_step. Returns 1 when the file was trimmed and can be
 * appended to, 0 when a fresh file is needed (missing, or another header:
 * then moved aside), -1 on error. */
static int trim_existing(const char *path, const char *header, long resume_step, char *err, size_t errlen) {
    FILE *f = fopen(path, "r+");
    if (!f) return errno == ENOENT ? 0 : io_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    if (n < 0) {   /* empty: crashed before the header made it out */
        fclose(f);
        free(line);
        return 0;
    }
    if (strcmp(line, header)) {
        fclose(f);
        free(line);
        char old[4096];
        snprintf(old, sizeof old, "%s.old", path);
        if (rename(path, old) != 0) return io_err(err, errlen, "cannot move %s aside: %s", path, strerror(errno));
        fprintf(stderr, "warning: %s has other columns than this run; moved to %s\n", path, old);
        return 0;
    }
    long keep = ftell(f), dropped = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        char *end;
        errno = 0;
        long step = strtol(line, &end, 10);
        if (line[n - 1] != '\n' || errno || end == line || (*end != ',' && *end != '\n') || step > resume_step) {
            dropped = 1;
            break;
        }
        keep = ftell(f);
    }
    free(line);
    int rc = 1;
    if (dropped && ftruncate(fileno(f), keep) != 0)
        rc = io_err(err, errlen, "cannot trim %s: %s", path, strerror(errno));
    if (fclose(f) != 0 && rc == 1) rc = io_err(err, errlen, "cannot trim %s: %s", path, strerror(errno));
    return rc;
}

int csv_log_open(csv_log *l, const char *path, const char *const *cols, int ncols, long resume_step,
                 char *err, size_t errlen) {
    memset(l, 0, sizeof *l);
    if (ncols < 1) return io_err(err, errlen, "log %s: no columns", path);
    char *header = header_line(cols, ncols);
    if (!header) return io_err(err, errlen, "log %s: a column name is empty, has a comma or quote, or out of memory", path);
    int append = resume_step >= 0 ? trim_existing(path, header, resume_step, err, errlen) : 0;
    if (append < 0) { free(header); return -1; }
    l->f = fopen(path, append ? "a" : "w");
    if (!l->f) {
        free(header);
        return io_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
    }
    int bad = !append && (fputs(header, l->f) < 0 || fflush(l->f) != 0);
    free(header);
    l->path = strdup(path);
    l->ncols = ncols;
    if (bad || !l->path) {
        int e = errno;
        csv_log_close(l);
        return io_err(err, errlen, "cannot write %s: %s", path, strerror(e));
    }
    return 0;
}

int csv_log_row(csv_log *l, long step, const double *vals, int nvals, char *err, size_t errlen) {
    if (!l->f) return io_err(err, errlen, "log not open");
    if (nvals != l->ncols - 1)
        return io_err(err, errlen, "log %s: %d values for %d columns after the step", l->path, nvals, l->ncols - 1);
    int bad = fprintf(l->f, "%ld", step) < 0;
    for (int i = 0; i < nvals && !bad; i++) bad = fprintf(l->f, ",%.7g", vals[i]) < 0;
    bad = bad || fputc('\n', l->f) == EOF || fflush(l->f) != 0;
    return bad ? io_err(err, errlen, "cannot write %s: %s", l->path, strerror(errno)) : 0;
}

void csv_log_close(csv_log *l) {
    if (l->f) fclose(l->f);
    free(l->path);
    memset(l, 0, sizeof *l);
}

int json_write_atomic(const char *path, const cJSON *root, char *err, size_t errlen) {
    char tmp[4096];
    if (io_tmp_name(tmp, sizeof tmp, path)) return io_err(err, errlen, "cannot write %s: path too long", path);
    char *text = cJSON_Print(root);
    if (!text) return io_err(err, errlen, "cannot write %s: out of memory", path);
    FILE *f = fopen(tmp, "w");
    int bad = !f;
    if (f) {
        bad = fputs(text, f) < 0 || fputc('\n', f) == EOF || fflush(f) != 0 || fsync(fileno(f)) != 0;
        bad |= fclose(f) != 0;
    }
    int e = errno;
    cJSON_free(text);
    if (!bad && rename(tmp, path) == 0) return 0;
    if (!bad) e = errno;
    if (f) unlink(tmp);
    return io_err(err, errlen, "cannot write %s: %s", path, strerror(e));
}

/* The existing metrics object, or a new empty one. */
static cJSON *load_metrics(const char *path) {
    FILE *f = fopen(path, "rb");
    cJSON *root = NULL;
    if (f) {
        char *buf = NULL;
        size_t len = 0, cap = 0, k;
        char chunk[4096];
        while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
            if (len + k > cap) {
                cap = 2 * (len + k);
                char *nb = realloc(buf, cap);
                if (!nb) break;
                buf = nb;
            }
            memcpy(buf + len, chunk, k);
            len += k;
        }
        fclose(f);
        root = buf ? cJSON_ParseWithLength(buf, len) : NULL;
        free(buf);
        if (!cJSON_IsObject(root)) {
            fprintf(stderr, "warning: %s is damaged or not a JSON object; starting it afresh\n", path);
            cJSON_Delete(root);
            root = NULL;
        }
    }
    return root ? root : cJSON_CreateObject();
}

int metrics_update(const char *path, const char *section, cJSON *value, char *err, size_t errlen) {
    cJSON *root = load_metrics(path);
    if (!root || !value) {
        cJSON_Delete(root);
        cJSON_Delete(value);
        return io_err(err, errlen, "cannot update %s: out of memory", path);
    }
    int ok = cJSON_GetObjectItemCaseSensitive(root, section)
                 ? cJSON_ReplaceItemInObjectCaseSensitive(root, section, value)
                 : cJSON_AddItemToObject(root, section, value);
    if (!ok) {
        cJSON_Delete(value);
        cJSON_Delete(root);
        return io_err(err, errlen, "cannot update %s: out of memory", path);
    }
    int rc = json_write_atomic(path, root, err, errlen);
    cJSON_Delete(root);
    return rc;
}
