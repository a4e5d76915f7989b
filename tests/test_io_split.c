/* The seeded 3:1:1 subject split: sizes, determinism, disjointness, tiny
 * counts, JSON save/load and refusal of duplicates and damaged files. */
#include "io/split.h"
#include "tests/testutil.h"
#include <stdio.h>
#include <string.h>

static void test_split(void) {
    char *ids[20];
    char buf[20][16];
    for (int i = 0; i < 20; i++) { snprintf(buf[i], sizeof buf[i], "case%02d", i); ids[i] = buf[i]; }
    io_split a, b, c;
    char err[256];
    TU_CHECK(io_split_make((const char *const *)ids, 20, 42, &a, err, sizeof err) == 0, "%s", err);
    TU_CHECK(a.n[0] == 12 && a.n[1] == 4 && a.n[2] == 4, "3:1:1 sizes %d %d %d", a.n[0], a.n[1], a.n[2]);
    /* input order does not matter; the seed does */
    char *rev[20];
    for (int i = 0; i < 20; i++) rev[i] = ids[19 - i];
    TU_CHECK(io_split_make((const char *const *)rev, 20, 42, &b, err, sizeof err) == 0, "%s", err);
    int same = 1;
    for (int p = 0; p < 3; p++) for (int i = 0; i < a.n[p]; i++) same &= !strcmp(a.ids[p][i], b.ids[p][i]);
    TU_CHECK(same, "deterministic");
    TU_CHECK(io_split_make((const char *const *)ids, 20, 43, &c, err, sizeof err) == 0, "%s", err);
    same = 1;
    for (int i = 0; i < a.n[2]; i++) same &= !strcmp(a.ids[2][i], c.ids[2][i]);
    TU_CHECK(!same, "another seed gives another split");
    /* disjoint and complete */
    int cnt[3] = {0, 0, 0}, missing = 0;
    for (int i = 0; i < 20; i++) {
        int p = io_split_find(&a, ids[i]);
        if (p < 0) missing++; else cnt[p]++;
    }
    TU_CHECK(!missing && cnt[0] == 12 && cnt[1] == 4 && cnt[2] == 4, "disjoint cover");
    TU_CHECK(io_split_find(&a, "nope") == -1, "unknown id");
    /* save / load */
    char path[600];
    snprintf(path, sizeof path, "%s/split.json", tu_tmpdir());
    TU_CHECK(io_split_save(&a, path, err, sizeof err) == 0, "%s", err);
    io_split l;
    TU_CHECK(io_split_load(path, &l, err, sizeof err) == 0, "%s", err);
    same = l.seed == 42;
    for (int p = 0; p < 3; p++) { same &= l.n[p] == a.n[p]; for (int i = 0; same && i < a.n[p]; i++) same &= !strcmp(a.ids[p][i], l.ids[p][i]); }
    TU_CHECK(same, "load == save");
    io_split_free(&l);
    io_split_free(&a); io_split_free(&b); io_split_free(&c);
    /* tiny counts: every split non-empty from n = 3 */
    int want[6][3] = {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {1, 1, 1}, {2, 1, 1}, {3, 1, 1}};
    for (int n = 0; n <= 5; n++) {
        TU_CHECK(io_split_make((const char *const *)ids, n, 7, &a, err, sizeof err) == 0, "%s", err);
        TU_CHECK(a.n[0] == want[n][0] && a.n[1] == want[n][1] && a.n[2] == want[n][2], "n=%d: %d/%d/%d", n, a.n[0], a.n[1], a.n[2]);
        io_split_free(&a);
    }
    /* duplicates and damaged files are refused */
    char *dup[3] = {buf[0], buf[1], buf[0]};
    err[0] = 0;
    TU_CHECK(io_split_make((const char *const *)dup, 3, 1, &a, err, sizeof err) == -1 && strstr(err, "case00"), "duplicate: %s", err);
    FILE *f = fopen(path, "w");
    fputs("{\"version\":1,\"seed\":\"1\",\"train\":[\"a\"],\"val\":[\"a\"],\"test\":[]}", f);
    fclose(f);
    err[0] = 0;
    TU_CHECK(io_split_load(path, &l, err, sizeof err) == -1 && strstr(err, "twice"), "overlap: %s", err);
    f = fopen(path, "w");
    fputs("{\"version\":1,", f);
    fclose(f);
    err[0] = 0;
    TU_CHECK(io_split_load(path, &l, err, sizeof err) == -1 && strstr(err, "JSON"), "bad json: %s", err);
    /* a hand-written split, as `train --split` documents it: no version, no seed */
    f = fopen(path, "w");
    fputs("{\"train\":[\"a\",\"b\"],\"val\":[\"c\"],\"test\":[\"d\"]}", f);
    fclose(f);
    TU_CHECK(io_split_load(path, &l, err, sizeof err) == 0 && l.n[0] == 2 && l.n[1] == 1 && l.n[2] == 1,
             "hand-written split: %s", err);
    if (l.n[0] == 2) io_split_free(&l);
    f = fopen(path, "w");
    fputs("{\"version\":2,\"train\":[\"a\"],\"val\":[],\"test\":[]}", f);
    fclose(f);
    err[0] = 0;
    TU_CHECK(io_split_load(path, &l, err, sizeof err) == -1 && strstr(err, "version"), "version 2: %s", err);
}

int main(void) {
    test_split();
    return tu_finish("test_io_split");
}
