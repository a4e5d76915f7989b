/* Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/)
 * with vkmist's own writers and libnifti: small valid files of each kind the
 * readers accept, so fuzzing starts from deep inside the formats. Run once
 * (tools/fuzz.sh --seeds) and commit the output; the files are deterministic
 * (fixed work folder and mtimes). Usage: fuzz_make_corpus CORPUS_DIR */
#include "io/cache.h"
#include "io/split.h"
#include "tests/test_io_data.h"
#include "train/checkpoint.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>

#define WORK "/tmp/vkmist-fuzz-seed"

static int die(const char *what, const char *err) {
    fprintf(stderr, "fuzz_make_corpus: %s: %s\n", what, err);
    exit(1);
}

static void put(const char *corpus, const char *target, const char *name, const void *p, size_t n, int prefix) {
    char dir[1024], path[1200];
    snprintf(dir, sizeof dir, "%s/%s", corpus, target);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    unsigned char pre = (unsigned char)prefix;
    if (!f || (prefix >= 0 && fwrite(&pre, 1, 1, f) != 1) || (n && fwrite(p, 1, n, f) != n) || fclose(f))
        die(path, strerror(errno));
}

static void *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) die(path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *b = malloc(len > 0 ? (size_t)len : 1);
    if (!b || fread(b, 1, (size_t)len, f) != (size_t)len) die(path, "read");
    fclose(f);
    *n = (size_t)len;
    return b;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)flag; (void)ftw;
    return remove(p);
}

static void checkpoints(const char *corpus) {
    char err[512], path[256];
    float w[6] = {1, -2, 3.5f, 0, 1e-3f, -7};
    uint32_t steps[2] = {3, 4};
    uint64_t one = 42;
    int16_t h[4] = {1, 2, 3, 4};
    int64_t s23[2] = {2, 3}, s2[1] = {2}, s4[1] = {4}, s0[1] = {0};
    snprintf(path, sizeof path, WORK "/c.safetensors");
    ckpt_writer *c = ckpt_begin();
    ckpt_add_f32(c, "gen.conv0.w", w, s23, 2);
    ckpt_add_u32(c, "adam_steps", steps, s2, 1);
    ckpt_add_u64(c, "rng", &one, NULL, 0);
    ckpt_add(c, "h16", CKPT_I16, h, s4, 1);
    ckpt_add(c, "empty", CKPT_BOOL, NULL, s0, 1);
    ckpt_meta(c, "format", "mist-1");
    ckpt_meta(c, "config", "tiny");
    ckpt_meta(c, "step", "100");
    ckpt_meta(c, "split", "{\"version\":1,\"seed\":\"7\",\"train\":[\"a\",\"b\",\"c\"],\"val\":[\"d\"],\"test\":[\"e\"]}");
    if (ckpt_write(c, path, err, sizeof err)) die("checkpoint", err);
    ckpt_free(c);
    size_t n;
    void *b = slurp(path, &n);
    put(corpus, "checkpoint", "tensors.safetensors", b, n, -1);
    free(b);
    c = ckpt_begin();
    ckpt_meta(c, "note", "no tensors");
    if (ckpt_write(c, path, err, sizeof err)) die("checkpoint", err);
    ckpt_free(c);
    b = slurp(path, &n);
    put(corpus, "checkpoint", "empty.safetensors", b, n, -1);
    free(b);
    /* a split file as io_split_save writes it */
    const char *ids[5] = {"c1", "c2", "c3", "c4", "c5"};
    io_split s;
    snprintf(path, sizeof path, WORK "/split.json");
    if (io_split_make(ids, 5, 3, &s, err, sizeof err) || io_split_save(&s, path, err, sizeof err)) die("split", err);
    io_split_free(&s);
    b = slurp(path, &n);
    put(corpus, "checkpoint", "split.json", b, n, -1);
    free(b);
}

static double ramp(int64_t i, void *u) { (void)u; return (double)(i % 37) - 5; }

/* One NIfTI seed per datatype / layout; byte 0 is fuzz_nifti's mode. */
static void niftis(const char *corpus) {
    static const struct { const char *name; int dt, nt, kind, mode; double slope; } v[] = {
        {"u8.nii", DT_UINT8, 1, TIO_RAS, 0, 1}, {"i16_lps.nii", DT_INT16, 1, TIO_LPS, 0, 2},
        {"f32_perm.nii", DT_FLOAT32, 1, TIO_PERM, 0, 0}, {"f64_oblique.nii", DT_FLOAT64, 1, TIO_OBLIQUE, 0, 1},
        {"rgb24.nii", DT_RGB24, 1, TIO_RAS, 0, 1}, {"c64.nii", DT_COMPLEX64, 1, TIO_RAS, 0, 1},
        {"u16_gz.nii", DT_UINT16, 1, TIO_RAS, 2, 1}, {"i32_4ch.nii", DT_INT32, 4, TIO_RAS, 4, 0.5},
    };
    char path[256];
    snprintf(path, sizeof path, WORK "/v.nii");
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        if (tio_write(path, v[i].dt, 5, 4, 3, v[i].nt, v[i].kind, v[i].slope, 0, ramp, NULL)) die(path, "nifti write");
        size_t n;
        void *b = slurp(path, &n);
        put(corpus, "nifti", v[i].name, b, n, v[i].mode);
        free(b);
    }
    /* a real gzip file stored as is (mode 1) */
    snprintf(path, sizeof path, WORK "/v.nii.gz");
    if (tio_write(path, DT_INT16, 5, 4, 3, 1, TIO_LPS, 1, 0, ramp, NULL)) die(path, "nifti write");
    size_t n;
    void *b = slurp(path, &n);
    put(corpus, "nifti", "i16.nii.gz", b, n, 1);
    free(b);
    /* NIfTI-2: header, the 4-byte extension flag, data */
    int64_t dims[8] = {3, 4, 3, 2, 1, 1, 1, 1};
    nifti_image *nim = nifti_make_new_nim(dims, DT_FLOAT32, 1);
    if (!nim) die("nifti-2", "make");
    for (int64_t i = 0; i < nim->nvox; i++) ((float *)nim->data)[i] = (float)i;
    nifti_2_header h2;
    if (nifti_convert_nim2n2hdr(nim, &h2)) die("nifti-2", "header");
    memcpy(h2.magic, "n+2\0\r\n\032\n", 8);
    h2.vox_offset = 544;
    snprintf(path, sizeof path, WORK "/v2.nii");
    FILE *f = fopen(path, "wb");
    static const char ext[4] = {0};
    if (!f || fwrite(&h2, sizeof h2, 1, f) != 1 || fwrite(ext, 4, 1, f) != 1 ||
        fwrite(nim->data, (size_t)nim->nbyper, (size_t)nim->nvox, f) != (size_t)nim->nvox || fclose(f))
        die(path, "write");
    nifti_image_free(nim);
    b = slurp(path, &n);
    put(corpus, "nifti", "nifti2.nii", b, n, 0);
    free(b);
}

static void discover(const char *corpus) {
    static const struct { const char *name, *text; } v[] = {
        {"brats18.txt", "Brats18_A_1/Brats18_A_1_t1.nii.gz\nBrats18_A_1/Brats18_A_1_t1ce.nii.gz\n"
                        "Brats18_A_1/Brats18_A_1_t2.nii.gz\nBrats18_A_1/Brats18_A_1_flair.nii.gz\n"
                        "Brats18_A_1/Brats18_A_1_seg.nii.gz\nB2/B2_t1.nii\nB2/B2_t2.nii\n"},
        {"brats23.txt", "X-001/X-001-t1n.nii.gz\nX-001/X-001-t1c.nii.gz\nX-001/X-001-t2w.nii.gz\n"
                        "X-001/X-001-t2f.nii.gz\n.hidden/._X-001-t1n.nii.gz\n"},
        {"msd.txt", "Task01/imagesTr/BRATS_001.nii.gz\nTask01/imagesTs/BRATS_002.nii\nTask01/labelsTr/BRATS_001.nii.gz\n"},
        {"links.txt", "d/c_t1.nii\nd/c_t1ce.nii\nd/c_t2.nii\nd/c_flair.nii\nd/loop@..\nd/again@.\ne@d\n"},
        {"dups.txt", "a/x_t1.nii\na/x_t1.nii.gz\nb/x_t2.nii\nempty/\n"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) put(corpus, "discover", v[i].name, v[i].text, strlen(v[i].text), -1);
}

static double blob(int64_t i, void *u) {
    int dom = *(int *)u, x = (int)(i % 8), y = (int)(i / 8 % 8), z = (int)(i / 64);
    double dx = x - 3.5, dy = y - 3.5;
    return dx * dx + dy * dy < (2 + z) * (2 + z) ? 100 + 10 * dom + x : 0;
}

static void cache(const char *corpus) {
    static const char *suf[4] = {"t1", "t1ce", "t2", "flair"};
    char root[256], p[512], err[1024];
    snprintf(root, sizeof root, WORK "/data");
    mkdir(root, 0755);
    for (int c = 0; c < 2; c++)
        for (int d = 0; d < 4; d++) {
            snprintf(p, sizeof p, "%s/c%d_%s.nii", root, c, suf[d]);
            int dom = d + c;
            if (tio_write(p, DT_INT16, 8, 8, 3, 1, c ? TIO_LPS : TIO_RAS, 1, 0, blob, &dom)) die(p, "write");
            struct timespec t[2] = {{1700000000, 0}, {1700000000, 0}};
            utimensat(AT_FDCWD, p, t, 0);
        }
    io_caselist cl;
    if (io_discover(root, &cl, err, sizeof err)) die("discover", err);
    for (int img = 4; img <= 8; img += 4) {
        io_prep_params pp = io_prep_defaults(img);
        io_cache *c = NULL;
        if (io_cache_open(&cl, WORK "/cache", &pp, NULL, &c, err, sizeof err)) die("cache", err);
        size_t n;
        void *b = slurp(c->path, &n);
        snprintf(p, sizeof p, "img%d.cache", img);
        put(corpus, "cache", p, b, n, -1);
        free(b);
        io_cache_close(c);
    }
    io_caselist_free(&cl);
}

int main(int argc, char **argv) {
    if (argc != 2) return die("usage", "fuzz_make_corpus CORPUS_DIR");
    nftw(WORK, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    if (mkdir(WORK, 0755)) die(WORK, strerror(errno));
    mkdir(argv[1], 0755);
    checkpoints(argv[1]);
    niftis(argv[1]);
    discover(argv[1]);
    cache(argv[1]);
    nftw(WORK, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
