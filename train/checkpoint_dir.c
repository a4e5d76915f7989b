/* Checkpoints of a run directory (see checkpoint.h): naming, listing by
 * step, pruning and the "newest good one" fallback used by --resume. Only
 * canonical names (step_ + at least 8 digits, as ckpt_step_path writes them)
 * count, so a temp file "<name>.tmp.<pid>" left by a killed writer is never
 * mistaken for a checkpoint. */
#include "train/checkpoint_internal.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUFFIX ".safetensors"

int ckpt_step_path(char *out, size_t outlen, const char *run_dir, long step) {
    if (step < 0) return -1;
    int k = snprintf(out, outlen, "%s/ckpt/step_%08ld" SUFFIX, run_dir, step);
    return k < 0 || (size_t)k >= outlen ? -1 : 0;
}

static int mkdir_p1(const char *d, char *err, size_t errlen) {
    if (mkdir(d, 0755) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(d, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
        errno = ENOTDIR;
    }
    if (err && errlen) snprintf(err, errlen, "cannot create folder %s: %s", d, strerror(errno));
    return -1;
}

int ckpt_prepare_dir(const char *run_dir, char *err, size_t errlen) {
    char d[4096];
    if (snprintf(d, sizeof d, "%s/ckpt", run_dir) >= (int)sizeof d) {
        if (err && errlen) snprintf(err, errlen, "run folder path too long");
        return -1;
    }
    /* mkdir -p: every parent, then the folder itself */
    for (char *p = d + 1; *p; p++) {
        if (*p != '/' || p[-1] == '/') continue;
        *p = 0;
        int rc = mkdir_p1(d, err, errlen);
        *p = '/';
        if (rc) return -1;
    }
    return mkdir_p1(d, err, errlen);
}

/* The step of a canonical checkpoint name; -1 otherwise. With tmp_pid, parses
 * "<canonical name>.tmp.<pid>" instead and stores the pid. */
static long parse_name(const char *name, long *tmp_pid) {
    if (strncmp(name, "step_", 5)) return -1;
    const char *p = name + 5, *q = p;
    long step = 0;
    while (*q >= '0' && *q <= '9') {
        if (step > (LONG_MAX - 9) / 10) return -1;
        step = step * 10 + (*q++ - '0');
    }
    char canon[64];
    snprintf(canon, sizeof canon, "%08ld", step);
    if ((size_t)(q - p) != strlen(canon) || strncmp(p, canon, (size_t)(q - p))) return -1;
    if (strncmp(q, SUFFIX, strlen(SUFFIX))) return -1;
    q += strlen(SUFFIX);
    if (!tmp_pid) return *q ? -1 : step;
    if (strncmp(q, ".tmp.", 5)) return -1;
    char *end;
    errno = 0;
    long pid = strtol(q + 5, &end, 10);
    if (errno || end == q + 5 || *end || pid <= 0) return -1;
    *tmp_pid = pid;
    return step;
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

int ckpt_list(const char *run_dir, long **steps, size_t *n, char *err, size_t errlen) {
    *steps = NULL;
    *n = 0;
    char d[4096];
    snprintf(d, sizeof d, "%s/ckpt", run_dir);
    DIR *dir = opendir(d);
    if (!dir) {
        if (errno == ENOENT) return 0;
        if (err && errlen) snprintf(err, errlen, "cannot list %s: %s", d, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    long *v = NULL;
    struct dirent *e;
    while ((e = readdir(dir))) {
        long s = parse_name(e->d_name, NULL);
        if (s < 0) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 32;
            long *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                free(v);
                closedir(dir);
                *n = 0;
                if (err && errlen) snprintf(err, errlen, "out of memory listing %s", d);
                return -1;
            }
            v = nv;
        }
        v[(*n)++] = s;
    }
    closedir(dir);
    if (*n) qsort(v, *n, sizeof *v, cmp_long);
    *steps = v;
    return 0;
}

int ckpt_prune(const char *run_dir, int keep_last, char *err, size_t errlen) {
    if (keep_last < 1) {
        if (err && errlen) snprintf(err, errlen, "ckpt_prune: keep_last must be >= 1 (got %d)", keep_last);
        return -1;
    }
    long *steps;
    size_t n;
    if (ckpt_list(run_dir, &steps, &n, err, errlen) < 0) return -1;
    int removed = 0;
    char path[4096];
    for (size_t i = 0; i + (size_t)keep_last < n; i++) {
        if (ckpt_step_path(path, sizeof path, run_dir, steps[i]) < 0) continue;
        if (unlink(path) == 0) removed++;
        else if (errno != ENOENT) fprintf(stderr, "warning: cannot remove old checkpoint %s: %s\n", path, strerror(errno));
    }
    free(steps);

    /* temp files of writers that died mid-write; a live writer's are left */
    char d[4096];
    snprintf(d, sizeof d, "%s/ckpt", run_dir);
    DIR *dir = opendir(d);
    struct dirent *e;
    while (dir && (e = readdir(dir))) {
        long pid = 0;
        if (parse_name(e->d_name, &pid) < 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        if (snprintf(path, sizeof path, "%s/%s", d, e->d_name) < (int)sizeof path && unlink(path) == 0) removed++;
    }
    if (dir) closedir(dir);
    return removed;
}

int ckpt_save_step(ckpt_writer *w, const char *run_dir, long step, int keep_last, char *err, size_t errlen) {
    char path[4096];
    if (ckpt_step_path(path, sizeof path, run_dir, step) < 0) {
        if (err && errlen) snprintf(err, errlen, "checkpoint of step %ld: bad step or run folder path too long", step);
        return -1;
    }
    if (ckpt_prepare_dir(run_dir, err, errlen) < 0 || ckpt_write(w, path, err, errlen) < 0) return -1;
    char e[512];
    if (keep_last > 0 && ckpt_prune(run_dir, keep_last, e, sizeof e) < 0) fprintf(stderr, "warning: %s\n", e);
    return 0;
}

int ckpt_latest_good(const char *run_dir, char *path_out, size_t path_len, long *step_out,
                     ckpt_reader **reader_out, char *err, size_t errlen) {
    if (reader_out) *reader_out = NULL;
    long *steps;
    size_t n;
    if (ckpt_list(run_dir, &steps, &n, err, errlen) < 0) return CKPT_ERROR;
    if (!n) {
        if (err && errlen) snprintf(err, errlen, "no checkpoint in %s/ckpt", run_dir);
        return CKPT_NONE;
    }
    char path[4096], first_err[512] = "";
    int rc = CKPT_ALL_DAMAGED;
    for (size_t i = n; i-- > 0;) {
        char e[512];
        if (ckpt_step_path(path, sizeof path, run_dir, steps[i]) < 0) continue;
        ckpt_reader *r = ckpt_open(path, e, sizeof e);
        if (!r) {
            fprintf(stderr, "warning: skipping damaged %s\n", e);
            if (!first_err[0]) snprintf(first_err, sizeof first_err, "%s", e);
            continue;
        }
        if (snprintf(path_out, path_len, "%s", path) >= (int)path_len) {
            ckpt_close(r);
            if (err && errlen) snprintf(err, errlen, "checkpoint path too long: %s", path);
            rc = CKPT_ERROR;
            break;
        }
        if (step_out) *step_out = steps[i];
        if (reader_out) *reader_out = r;
        else ckpt_close(r);
        rc = CKPT_FOUND;
        break;
    }
    if (rc == CKPT_ALL_DAMAGED && err && errlen)
        snprintf(err, errlen, "all %zu checkpoints in %s/ckpt are damaged (newest: %s)", n, run_dir, first_err);
    free(steps);
    return rc;
}
