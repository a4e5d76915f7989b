/* Fuzz target: case discovery (io/discover.c). The input is a list of
 * entries, one a line, created under a fresh folder before io_discover runs:
 *   a/b/name      an empty file (parent folders made as needed)
 *   a/b/          a folder
 *   a/link@t      a symbolic link to t, relative, and never above the root
 * Names are any bytes but '/' and NUL (so odd, long and hidden names are
 * covered); ".", ".." and over-long names are skipped. The result must be
 * consistent: sorted, complete cases with four files, incomplete ones with a
 * reason, and output names that stay in the case's folder. */
#include "io/discover.h"
#include "tests/fuzz/fuzz.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ENTRIES 64
#define MAX_LINE 1024

/* Makes every folder on the way to rel (the last component excluded). */
static void make_parents(const char *root, const char *rel) {
    char p[4096];
    int k = snprintf(p, sizeof p, "%s/%s", root, rel);
    if (k < 0 || (size_t)k >= sizeof p) return;
    for (char *s = p + strlen(root) + 1; *s; s++)
        if (*s == '/') { *s = 0; mkdir(p, 0755); *s = '/'; }
}

/* rel's components are non-empty and at most NAME_MAX; "." and ".." only in
 * a link target (allow_dots), and ".." never above the root (depth: the
 * folders between the root and the link). */
static int sane_path(const char *rel, int allow_dots, int depth) {
    const char *c = rel;
    if (!*c || *c == '/') return 0;
    while (*c) {
        const char *e = strchr(c, '/');
        size_t n = e ? (size_t)(e - c) : strlen(c);
        if (n == 0 || n > 255) return 0;
        if (n == 1 && c[0] == '.') {
            if (!allow_dots) return 0;   /* a link to its own folder is fine */
        } else if (n == 2 && c[0] == '.' && c[1] == '.') {
            if (!allow_dots || --depth < 0) return 0;
        } else {
            depth++;
        }
        if (!e) break;
        c = e + 1;
    }
    return 1;
}

static void create(const char *root, char *line) {
    size_t n = strlen(line);
    char full[4096];
    char *at = strchr(line, '@');
    if (at) {
        *at = 0;
        const char *target = at + 1;
        int depth = 0;   /* folders between the root and the link */
        for (const char *s = line; *s; s++) depth += *s == '/';
        if (!sane_path(line, 0, 0) || !sane_path(target, 1, depth)) return;
        make_parents(root, line);
        if (snprintf(full, sizeof full, "%s/%s", root, line) < (int)sizeof full) (void)!symlink(target, full);
        return;
    }
    int dir = n > 0 && line[n - 1] == '/';
    if (dir) line[n - 1] = 0;
    if (!sane_path(line, 0, 0)) return;
    make_parents(root, line);
    if (snprintf(full, sizeof full, "%s/%s", root, line) >= (int)sizeof full) return;
    if (dir) mkdir(full, 0755);
    else {
        FILE *f = fopen(full, "wb");
        if (f) fclose(f);
    }
}

static void check_case(const io_case *c, int complete) {
    FUZZ_ASSERT(c->id && c->id[0] && c->dir, "case without id or folder");
    FUZZ_ASSERT(!strchr(c->id, '/'), "case id holds a '/'");
    if (complete) {
        FUZZ_ASSERT(!c->missing && !c->problem, "complete case with a problem");
        for (int d = 0; d < IO_NDOMAINS; d++) FUZZ_ASSERT(c->path[d] != NULL, "complete case without a file");
    } else {
        FUZZ_ASSERT(c->problem && c->problem[0], "incomplete case without a reason");
    }
    char name[4096], miss[128];
    for (int d = 0; d < IO_NDOMAINS; d++)
        if (io_case_file_name(c, d, name, sizeof name) == 0)
            FUZZ_ASSERT(!strchr(name, '/') && strstr(name, c->id) == name, "output name leaves the case folder");
    io_case_missing_str(c, miss, sizeof miss);
    FUZZ_ASSERT(strlen(miss) < sizeof miss, "missing list");
}

FUZZ_TARGET(discover) {
    char root[512];
    fuzz_path(root, sizeof root, "data");
    fuzz_rm_tree(root);
    if (mkdir(root, 0755) != 0 && errno != EEXIST) FUZZ_ASSERT(0, "mkdir root");
    char line[MAX_LINE + 1];
    size_t i = 0;
    for (int e = 0; e < MAX_ENTRIES && i < size; e++) {
        size_t k = 0;
        while (i < size && data[i] != '\n') {
            if (k < MAX_LINE && data[i]) line[k++] = (char)data[i];
            i++;
        }
        i++;
        line[k] = 0;
        create(root, line);
    }
    io_caselist cl;
    char err[1024] = "";
    int rc = io_discover(root, &cl, err, sizeof err);
    fuzz_expect_error(rc, err, NULL);
    if (!rc) {
        for (int k = 0; k < cl.n; k++) {
            check_case(&cl.cases[k], 1);
            if (k) FUZZ_ASSERT(strcmp(cl.cases[k - 1].id, cl.cases[k].id) <= 0, "cases not sorted by id");
        }
        for (int k = 0; k < cl.n_incomplete; k++) check_case(&cl.incomplete[k], 0);
    }
    io_caselist_free(&cl);
    fuzz_rm_tree(root);
    return 0;
}
