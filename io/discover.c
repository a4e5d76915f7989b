/* Case discovery (see discover.h). Files are collected in one recursive
 * walk, classified by their suffix, then grouped by (folder, id) and sorted,
 * so the result does not depend on readdir order. */
#include "io/discover.h"
#include "io/util.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const domain_names[IO_NDOMAINS] = {"t1", "t1ce", "t2", "flair"};

const char *io_domain_name(int d) {
    return d >= 0 && d < IO_NDOMAINS ? domain_names[d] : "?";
}

int io_domain_from_name(const char *name) {
    for (int d = 0; d < IO_NDOMAINS; d++)
        if (!strcasecmp(name, domain_names[d])) return d;
    return -1;
}

/* Modality suffixes per scheme, in domain order. */
static const char *const suffix18[IO_NDOMAINS] = {"_t1", "_t1ce", "_t2", "_flair"};
static const char *const suffix23[IO_NDOMAINS] = {"-t1n", "-t1c", "-t2w", "-t2f"};
/* MSD Task01 channel of each of our domains (its order: FLAIR, T1w, T1gd, T2w). */
static const int msd_channel[IO_NDOMAINS] = {1, 2, 3, 0};

#define MAX_DEPTH 16

typedef struct { char *id, *dir, *path; io_scheme scheme; int domain, gz; } found_file;
typedef struct { dev_t dev; ino_t ino; } dir_id;
/* seen: every folder walked so far, so a symlink loop (or two links to one
 * folder) is walked once instead of up to MAX_DEPTH levels of copies. */
typedef struct { found_file *v; size_t n, cap; int oom; dir_id *seen; size_t nseen, capseen; } file_vec;

/* 1 when the folder was walked before, else records it (0; -1 out of memory). */
static int seen_before(file_vec *fv, const struct stat *st) {
    for (size_t i = 0; i < fv->nseen; i++)
        if (fv->seen[i].dev == st->st_dev && fv->seen[i].ino == st->st_ino) return 1;
    if (fv->nseen == fv->capseen) {
        size_t cap = fv->capseen ? fv->capseen * 2 : 64;
        dir_id *nv = realloc(fv->seen, cap * sizeof *nv);
        if (!nv) return -1;
        fv->seen = nv; fv->capseen = cap;
    }
    fv->seen[fv->nseen++] = (dir_id){st->st_dev, st->st_ino};
    return 0;
}

static void push(file_vec *fv, found_file f) {
    if (fv->n == fv->cap) {
        size_t cap = fv->cap ? fv->cap * 2 : 64;
        found_file *nv = realloc(fv->v, cap * sizeof *nv);
        if (!nv) { fv->oom = 1; free(f.id); free(f.dir); free(f.path); return; }
        fv->v = nv; fv->cap = cap;
    }
    fv->v[fv->n++] = f;
}

static int ends_with_ci(const char *s, size_t n, const char *suf) {
    size_t m = strlen(suf);
    return n >= m && strncasecmp(s + n - m, suf, m) == 0;
}

/* Classifies one file name; returns 1 and fills f (minus dir/path) when
 * it is a modality file we use. */
static int classify(const char *dirname, const char *name, found_file *f) {
    size_t n = strlen(name);
    int gz;
    if (ends_with_ci(name, n, ".nii.gz")) { gz = 1; n -= 7; }
    else if (ends_with_ci(name, n, ".nii")) { gz = 0; n -= 4; }
    else return 0;
    const char *slash = strrchr(dirname, '/');
    const char *parent = slash ? slash + 1 : dirname;
    for (int d = 0; d < IO_NDOMAINS; d++) {
        const char *suf[2] = {suffix18[d], suffix23[d]};
        for (int s = 0; s < 2; s++) {
            size_t m = strlen(suf[s]);
            if (n > m && ends_with_ci(name, n, suf[s])) {
                f->id = strndup(name, n - m);
                f->scheme = s ? IO_SCHEME_BRATS23 : IO_SCHEME_BRATS18;
                f->domain = d; f->gz = gz;
                return f->id ? 1 : 0;
            }
        }
    }
    if (!strcasecmp(parent, "imagesTr") || !strcasecmp(parent, "imagesTs")) {
        f->id = strndup(name, n);
        f->scheme = IO_SCHEME_MSD;
        f->domain = -1; f->gz = gz;
        return f->id ? 1 : 0;
    }
    return 0;
}

static int walk(const char *dir, int depth, file_vec *fv, char *err, size_t errlen) {
    struct stat dst;
    if (stat(dir, &dst) == 0) {
        int seen = seen_before(fv, &dst);
        if (seen < 0) return io_err(err, errlen, "out of memory");
        if (seen) return 0;
    }
    DIR *dp = opendir(dir);
    if (!dp) return io_err(err, errlen, "cannot read directory %s: %s", dir, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(dp))) {
        if (e->d_name[0] == '.') continue; /* ., .., hidden, macOS ._ files */
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        if (!p) { rc = io_err(err, errlen, "out of memory"); break; }
        snprintf(p, len, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0) { free(p); continue; } /* dangling link */
        if (S_ISDIR(st.st_mode)) {
            if (depth < MAX_DEPTH) rc = walk(p, depth + 1, fv, err, errlen);
            free(p);
            continue;
        }
        found_file f = {0};
        if (S_ISREG(st.st_mode) && classify(dir, e->d_name, &f)) {
            f.dir = strdup(dir);
            f.path = p;
            if (!f.dir) { free(f.id); free(p); rc = io_err(err, errlen, "out of memory"); break; }
            push(fv, f);
            if (fv->oom) rc = io_err(err, errlen, "out of memory");
        } else {
            free(p);
        }
    }
    closedir(dp);
    return rc;
}

static int cmp_file(const void *a, const void *b) {
    const found_file *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (!c) c = strcmp(x->dir, y->dir);
    if (!c) c = x->domain - y->domain;
    if (!c) c = strcmp(x->path, y->path);
    return c;
}

static int append_case(io_case **arr, int *n, io_case *c) {
    io_case *nv = realloc(*arr, (size_t)(*n + 1) * sizeof *nv);
    if (!nv) return -1;
    *arr = nv;
    nv[(*n)++] = *c;
    return 0;
}

static void free_case(io_case *c) {
    free(c->id); free(c->dir); free(c->problem);
    for (int d = 0; d < IO_NDOMAINS; d++) free(c->path[d]);
}

void io_case_missing_str(const io_case *c, char *out, size_t outlen) {
    size_t k = 0;
    if (outlen) out[0] = 0;
    for (int d = 0; d < IO_NDOMAINS; d++)
        if (c->missing >> d & 1) {
            int w = snprintf(out + k, outlen > k ? outlen - k : 0, "%s%s", k ? ", " : "", domain_names[d]);
            if (w > 0) k += (size_t)w;
            if (k >= outlen) break;
        }
}

/* Builds the case for files fv[i0..i1) (same id and folder). */
static int make_case(const found_file *fv, size_t i0, size_t i1, io_case *c) {
    memset(c, 0, sizeof *c);
    for (int d = 0; d < IO_NDOMAINS; d++) c->channel[d] = -1;
    c->id = strdup(fv[i0].id);
    c->dir = strdup(fv[i0].dir);
    c->scheme = fv[i0].scheme;
    c->gz = fv[i0].gz;
    if (!c->id || !c->dir) return -1;
    char prob[512] = "";
    for (size_t i = i0; i < i1; i++) {
        const found_file *f = &fv[i];
        if (f->scheme == IO_SCHEME_MSD) {
            if (c->path[0]) { snprintf(prob, sizeof prob, "two 4-D files: %s and %s", c->path[0], f->path); continue; }
            for (int d = 0; d < IO_NDOMAINS; d++) {
                c->path[d] = strdup(f->path);
                if (!c->path[d]) return -1;
                c->channel[d] = msd_channel[d];
            }
            c->scheme = IO_SCHEME_MSD;
            continue;
        }
        if (c->path[f->domain]) {
            snprintf(prob, sizeof prob, "two files for %s: %s and %s", domain_names[f->domain], c->path[f->domain], f->path);
            continue;
        }
        c->path[f->domain] = strdup(f->path);
        if (!c->path[f->domain]) return -1;
    }
    for (int d = 0; d < IO_NDOMAINS; d++)
        if (!c->path[d]) c->missing |= 1u << d;
    if (c->missing && !prob[0]) {
        char m[64];
        io_case_missing_str(c, m, sizeof m);
        snprintf(prob, sizeof prob, "missing %s", m);
    }
    if (prob[0] && !(c->problem = strdup(prob))) return -1;
    return 0;
}

int io_discover(const char *root, io_caselist *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    struct stat st;
    if (!root || stat(root, &st) != 0)
        return io_err(err, errlen, "data directory %s: %s", root ? root : "(none)", strerror(errno));
    if (!S_ISDIR(st.st_mode)) return io_err(err, errlen, "data directory %s: not a directory", root);
    out->root = strdup(root);
    file_vec fv = {0};
    int rc = out->root ? walk(root, 0, &fv, err, errlen) : io_err(err, errlen, "out of memory");
    if (!rc && fv.n) qsort(fv.v, fv.n, sizeof *fv.v, cmp_file);
    for (size_t i = 0; !rc && i < fv.n;) {
        size_t j = i + 1;
        while (j < fv.n && !strcmp(fv.v[j].id, fv.v[i].id) && !strcmp(fv.v[j].dir, fv.v[i].dir)) j++;
        if (j < fv.n && !strcmp(fv.v[j].id, fv.v[i].id)) {
            rc = io_err(err, errlen, "case id %s appears in two folders: %s and %s (remove one copy)",
                        fv.v[i].id, fv.v[i].dir, fv.v[j].dir);
            break;
        }
        io_case c;
        if (make_case(fv.v, i, j, &c) != 0 ||
            append_case(c.problem ? &out->incomplete : &out->cases, c.problem ? &out->n_incomplete : &out->n, &c) != 0) {
            free_case(&c);
            rc = io_err(err, errlen, "out of memory");
        }
        i = j;
    }
    for (size_t i = 0; i < fv.n; i++) { free(fv.v[i].id); free(fv.v[i].dir); free(fv.v[i].path); }
    free(fv.v);
    free(fv.seen);
    if (rc) io_caselist_free(out);
    return rc;
}

void io_caselist_free(io_caselist *cl) {
    if (!cl) return;
    for (int i = 0; i < cl->n; i++) free_case(&cl->cases[i]);
    for (int i = 0; i < cl->n_incomplete; i++) free_case(&cl->incomplete[i]);
    free(cl->cases);
    free(cl->incomplete);
    free(cl->root);
    memset(cl, 0, sizeof *cl);
}

int io_case_file_name(const io_case *c, int d, char *out, size_t outlen) {
    if (d < 0 || d >= IO_NDOMAINS) return -1;
    const char *suf = c->scheme == IO_SCHEME_BRATS23 ? suffix23[d] : suffix18[d];
    int n = snprintf(out, outlen, "%s%s%s", c->id, suf, c->gz || c->scheme == IO_SCHEME_MSD ? ".nii.gz" : ".nii");
    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}
