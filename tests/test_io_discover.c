/* Case discovery under the BraTS 2018-2021, BraTS 2023 and MSD Task01
 * layouts (synthetic trees of tiny NIfTI files), incomplete cases, output
 * names in a case's own scheme, same-grid checks, symbolic link loops and
 * fan-outs (each folder walked once), and the real sample. */
#include "io/caseload.h"
#include "io/discover.h"
#include "tests/test_io_data.h"
#include "tests/testutil.h"
#include <sys/stat.h>
#include <unistd.h>

static void mkdirs(const char *root, const char *rel) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    mkdir(root, 0755);
    for (char *s = p + strlen(root) + 1; *s; s++)
        if (*s == '/') { *s = 0; mkdir(p, 0755); *s = '/'; }
    mkdir(p, 0755);
}

/* A tiny volume at root/rel with value `v` everywhere. */
static void vol(const char *root, const char *rel, double v, int kind, int nz, int nt) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    TU_CHECK(tio_write(p, DT_INT16, 6, 5, nz, nt, kind, 1, 0, tio_const, &v) == 0, "write %s", p);
}

static const io_case *find(const io_caselist *cl, const char *id) {
    for (int i = 0; i < cl->n; i++) if (!strcmp(cl->cases[i].id, id)) return &cl->cases[i];
    return NULL;
}

static void test_synthetic(void) {
    char root[600];
    snprintf(root, sizeof root, "%s/data", tu_tmpdir());
    mkdirs(root, "HGG/Brats18_A_1");
    mkdirs(root, "LGG/Brats18_B_2");
    mkdirs(root, "BraTS-GLI-00001-000");
    mkdirs(root, "Task01_BrainTumour/imagesTr");
    mkdirs(root, "Task01_BrainTumour/labelsTr");
    static const char *s18[4] = {"t1", "t1ce", "t2", "flair"}, *s23[4] = {"t1n", "t1c", "t2w", "t2f"};
    char rel[256];
    for (int d = 0; d < 4; d++) {
        snprintf(rel, sizeof rel, "HGG/Brats18_A_1/Brats18_A_1_%s.nii.gz", s18[d]);
        vol(root, rel, 10 + d, TIO_LPS, 4, 1);
        if (d != 3) { /* flair missing */
            snprintf(rel, sizeof rel, "LGG/Brats18_B_2/Brats18_B_2_%s.nii.gz", s18[d]);
            vol(root, rel, 1, TIO_LPS, 4, 1);
        }
        snprintf(rel, sizeof rel, "BraTS-GLI-00001-000/BraTS-GLI-00001-000-%s.nii", s23[d]);
        vol(root, rel, 20 + d, TIO_RAS, 4, 1);
    }
    vol(root, "HGG/Brats18_A_1/Brats18_A_1_seg.nii.gz", 1, TIO_LPS, 4, 1);
    vol(root, "BraTS-GLI-00001-000/BraTS-GLI-00001-000-seg.nii", 1, TIO_RAS, 4, 1);
    vol(root, "Task01_BrainTumour/imagesTr/BRATS_001.nii.gz", 0, TIO_RAS, 4, 4);
    vol(root, "Task01_BrainTumour/labelsTr/BRATS_001.nii.gz", 1, TIO_RAS, 4, 1);
    char junk[800];
    snprintf(junk, sizeof junk, "%s/Task01_BrainTumour/imagesTr/._BRATS_001.nii.gz", root);
    tio_write_text(junk, "macOS resource fork");
    snprintf(junk, sizeof junk, "%s/HGG/notes.txt", root);
    tio_write_text(junk, "ignored");

    io_caselist cl;
    char err[1024];
    TU_CHECK(io_discover(root, &cl, err, sizeof err) == 0, "%s", err);
    TU_CHECK(cl.n == 3 && cl.n_incomplete == 1, "cases %d incomplete %d", cl.n, cl.n_incomplete);
    if (cl.n == 3) {
        TU_CHECK(!strcmp(cl.cases[0].id, "BRATS_001") && !strcmp(cl.cases[1].id, "BraTS-GLI-00001-000") &&
                 !strcmp(cl.cases[2].id, "Brats18_A_1"), "sorted ids");
    }
    if (cl.n_incomplete == 1) {
        const io_case *c = &cl.incomplete[0];
        char m[64];
        io_case_missing_str(c, m, sizeof m);
        TU_CHECK(!strcmp(c->id, "Brats18_B_2") && c->missing == 8u && !strcmp(m, "flair"), "incomplete %s missing %s", c->id, m);
        TU_CHECK(c->problem && strstr(c->problem, "missing flair"), "problem text");
        char name[256];
        TU_CHECK(io_case_file_name(c, 3, name, sizeof name) == 0 && !strcmp(name, "Brats18_B_2_flair.nii.gz"), "BraSyn name %s", name);
    }
    const io_case *g = find(&cl, "BraTS-GLI-00001-000"), *a = find(&cl, "Brats18_A_1"), *m = find(&cl, "BRATS_001");
    char name[256];
    if (g) {
        TU_CHECK(g->scheme == IO_SCHEME_BRATS23 && !g->gz, "2023 scheme");
        TU_CHECK(io_case_file_name(g, 1, name, sizeof name) == 0 && !strcmp(name, "BraTS-GLI-00001-000-t1c.nii"), "name %s", name);
        TU_CHECK(strstr(g->path[3], "-t2f.nii") != NULL, "flair path");
    }
    if (m) {
        TU_CHECK(m->scheme == IO_SCHEME_MSD && m->channel[0] == 1 && m->channel[1] == 2 && m->channel[2] == 3 && m->channel[3] == 0,
                 "MSD channels");
        TU_CHECK(io_case_file_name(m, 2, name, sizeof name) == 0 && !strcmp(name, "BRATS_001_t2.nii.gz"), "MSD name %s", name);
    }
    io_volume v[4];
    if (a && io_case_load(a, v, err, sizeof err) == 0) {
        for (int d = 0; d < 4; d++) TU_CHECK(v[d].data[0] == 10 + d, "domain %d value", d);
        io_case_volumes_free(v);
    } else TU_CHECK(0, "load A: %s", err);
    if (m && io_case_load(m, v, err, sizeof err) == 0) {
        /* tio_const wrote 0 everywhere; just check grid and channel split */
        for (int d = 0; d < 4; d++) TU_CHECK(v[d].dims[0] == 6 && v[d].dims[2] == 4, "MSD dims");
        io_case_volumes_free(v);
    } else TU_CHECK(0, "load MSD: %s", err);
    io_caselist_free(&cl);

    /* grid mismatches: another t2 with different dims, then a flipped affine */
    vol(root, "HGG/Brats18_A_1/Brats18_A_1_t2.nii.gz", 1, TIO_LPS, 5, 1);
    TU_CHECK(io_discover(root, &cl, err, sizeof err) == 0, "%s", err);
    a = find(&cl, "Brats18_A_1");
    err[0] = 0;
    TU_CHECK(a && io_case_load(a, v, err, sizeof err) == -1, "dims mismatch refused");
    TU_CHECK(strstr(err, "Brats18_A_1") && strstr(err, "_t2.nii.gz") && strstr(err, "dims 6x5x4 vs 6x5x5"), "message: %s", err);
    io_caselist_free(&cl);
    vol(root, "HGG/Brats18_A_1/Brats18_A_1_t2.nii.gz", 1, TIO_RAS, 4, 1);
    TU_CHECK(io_discover(root, &cl, err, sizeof err) == 0, "%s", err);
    a = find(&cl, "Brats18_A_1");
    err[0] = 0;
    TU_CHECK(a && io_case_load(a, v, err, sizeof err) == -1, "affine mismatch refused");
    TU_CHECK(strstr(err, "_t2.nii.gz") && strstr(err, "affine"), "message: %s", err);
    io_caselist_free(&cl);

    /* the same id in two folders is ambiguous */
    mkdirs(root, "copy/Brats18_A_1");
    vol(root, "copy/Brats18_A_1/Brats18_A_1_t1.nii.gz", 1, TIO_LPS, 4, 1);
    err[0] = 0;
    TU_CHECK(io_discover(root, &cl, err, sizeof err) == -1 && strstr(err, "Brats18_A_1") && strstr(err, "two folders"), "duplicate: %s", err);
    err[0] = 0;
    TU_CHECK(io_discover("/nonexistent/data", &cl, err, sizeof err) == -1 && strstr(err, "/nonexistent/data"), "missing root: %s", err);
    snprintf(junk, sizeof junk, "%s/empty", tu_tmpdir());
    mkdir(junk, 0755);
    TU_CHECK(io_discover(junk, &cl, err, sizeof err) == 0 && cl.n == 0 && cl.n_incomplete == 0, "empty dir");
    io_caselist_free(&cl);
}

static void test_real(void) {
    const char *root = tu_brats_sample();
    if (!root) { printf("brats sample not found: real-data checks skipped\n"); return; }
    io_caselist cl;
    char err[1024];
    TU_CHECK(io_discover(root, &cl, err, sizeof err) == 0, "%s", err);
    TU_CHECK(cl.n == 3 && cl.n_incomplete == 0, "3 real cases, got %d (+%d)", cl.n, cl.n_incomplete);
    int n18 = 0, n23 = 0;
    for (int i = 0; i < cl.n; i++) {
        const io_case *c = &cl.cases[i];
        n18 += c->scheme == IO_SCHEME_BRATS18;
        n23 += c->scheme == IO_SCHEME_BRATS23;
        io_volume v[4];
        if (io_case_load(c, v, err, sizeof err)) { TU_CHECK(0, "%s", err); continue; }
        for (int d = 0; d < 4; d++)
            TU_CHECK(v[d].dims[0] == 240 && v[d].dims[1] == 240 && v[d].dims[2] == 155, "%s dims", c->id);
        char name[256];
        io_case_file_name(c, 1, name, sizeof name);
        printf("%s: scheme %d, t1ce file name %s\n", c->id, c->scheme, name);
        TU_CHECK(strstr(c->path[1], name) != NULL, "own file name round trip: %s", name);
        io_case_volumes_free(v);
    }
    TU_CHECK(n18 == 2 && n23 == 1, "schemes: %d BraTS 2018, %d BraTS 2023", n18, n23);
    io_caselist_free(&cl);
}

/* Links back up the tree: without the walked-once rule, 3 links to their
 * own folder and one to the root made 3^16 walks (a hang), and the one case
 * was found in many "folders" (an error). */
static void test_symlink_loops(void) {
    char root[600], p[800], err[1024];
    snprintf(root, sizeof root, "%s/loops", tu_tmpdir());
    mkdirs(root, "d");
    static const char *s18[4] = {"t1", "t1ce", "t2", "flair"};
    for (int d = 0; d < 4; d++) {
        char rel[64];
        snprintf(rel, sizeof rel, "d/c_%s.nii", s18[d]);
        vol(root, rel, 1 + d, TIO_RAS, 2, 1);
    }
    static const char *const links[][2] = {{"d/l1", "."}, {"d/l2", "."}, {"d/l3", "."}, {"d/up", ".."}, {"alias", "d"}};
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s/%s", root, links[i][0]);
        TU_CHECK(symlink(links[i][1], p) == 0, "symlink %s", p);
    }
    io_caselist cl;
    int rc = io_discover(root, &cl, err, sizeof err);
    TU_CHECK(rc == 0, "discover with link loops: %s", err);
    TU_CHECK(rc || (cl.n == 1 && cl.n_incomplete == 0 && !strcmp(cl.cases[0].id, "c")), "one case c expected, got %d", cl.n);
    if (!rc) io_caselist_free(&cl);
}

int main(void) {
    test_synthetic();
    test_symlink_loops();
    test_real();
    return tu_finish("test_io_discover");
}
