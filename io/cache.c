/* Slice cache build, verification and mapping (see cache.h).
 *
 * Layout: a 4096-byte header block (cache_hdr, then zeros), the slice data
 * (page aligned, so slices can be handed to mmap users directly), the
 * per-slice table, then two NUL-terminated JSON texts: the key (parameters
 * and every input file with size and mtime; compared byte for byte with the
 * key computed from the current inputs) and notes (case ids, skipped cases). */
#include "io/cache.h"
#include "io/cache_internal.h"
#include "io/caseload.h"
#include "io/util.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define DATA_OFF IO_CACHE_DATA_OFF
typedef io_cache_hdr cache_hdr;
static const char cache_magic[8] = IO_CACHE_MAGIC;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t fnv64(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 0x100000001b3ull; }
    return h;
}

static uint32_t crc(uint32_t c, const void *p, size_t n) { return (uint32_t)crc32_z(c, p, n); }

uint32_t io_cache_hdr_crc(const cache_hdr *h) {
    return crc(0, h, offsetof(cache_hdr, hdr_crc));
}

static int mkdir_p(const char *dir, char *err, size_t errlen) {
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) return io_err(err, errlen, "cache folder name too long");
    for (char *s = p + 1; *s; s++)
        if (*s == '/') { *s = 0; if (mkdir(p, 0755) && errno != EEXIST) goto fail; *s = '/'; }
    if (mkdir(p, 0755) && errno != EEXIST) goto fail;
    return 0;
fail:
    return io_err(err, errlen, "cannot create cache folder %s: %s", p, strerror(errno));
}

/* Identity of the data set (absolute root + parameters): names the file. */
static uint64_t dataset_key(const io_caselist *cl, const io_prep_params *p) {
    char abs[PATH_MAX], id[PATH_MAX + 128];
    if (!realpath(cl->root, abs)) snprintf(abs, sizeof abs, "%s", cl->root);
    snprintf(id, sizeof id, "%s|%d|%d|%.6f|%d", abs, p->img, (int)p->norm, p->slice_frac, IO_CACHE_VERSION);
    return fnv64(id);
}

int io_cache_path(const io_caselist *cl, const char *cache_dir, const io_prep_params *p, char *out, size_t outlen) {
    int n = snprintf(out, outlen, "%s/slices-%d-%s-%016llx.cache", cache_dir, p->img, io_norm_name(p->norm),
                     (unsigned long long)dataset_key(cl, p));
    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

/* The key text: parameters and every input file's absolute path, size and
 * mtime (ns). Any change to an input or parameter changes it. */
static char *make_key(const io_caselist *cl, const io_prep_params *p, char *err, size_t errlen) {
    cJSON *root = cJSON_CreateObject(), *cases;
    if (!root) { io_err(err, errlen, "out of memory"); return NULL; }
    cJSON_AddNumberToObject(root, "version", IO_CACHE_VERSION);
    cJSON_AddNumberToObject(root, "img", p->img);
    cJSON_AddStringToObject(root, "norm", io_norm_name(p->norm));
    char frac[32];
    snprintf(frac, sizeof frac, "%.6f", p->slice_frac);
    cJSON_AddStringToObject(root, "slice_frac", frac);
    cases = cJSON_AddArrayToObject(root, "cases");
    int bad = 0;
    for (int i = 0; i < cl->n && !bad; i++) {
        const io_case *c = &cl->cases[i];
        cJSON *jc = cJSON_CreateObject(), *files;
        cJSON_AddItemToArray(cases, jc);
        cJSON_AddStringToObject(jc, "id", c->id);
        files = cJSON_AddArrayToObject(jc, "files");
        for (int d = 0; d < IO_NDOMAINS && !bad; d++) {
            struct stat st;
            char abs[PATH_MAX];
            if (!c->path[d] || stat(c->path[d], &st) || !realpath(c->path[d], abs)) {
                io_err(err, errlen, "case %s: %s: %s", c->id, c->path[d] ? c->path[d] : io_domain_name(d), strerror(errno));
                bad = 1;
                break;
            }
            char line[PATH_MAX + 96];
            snprintf(line, sizeof line, "%s|%d|%lld|%lld.%09ld", abs, c->channel[d], (long long)st.st_size,
                     (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
            cJSON_AddItemToArray(files, cJSON_CreateString(line));
        }
    }
    char *s = bad ? NULL : cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!s && !bad) io_err(err, errlen, "out of memory");
    return s;
}

typedef struct {
    FILE *f;
    uint32_t crc;
    uint64_t bytes;
    io_slice_info *info;
    int64_t n, cap;
} build_state;

static int add_slice(build_state *b, const float *four, size_t nfloat, io_slice_info inf) {
    if (b->n == b->cap) {
        int64_t cap = b->cap ? b->cap * 2 : 1024;
        io_slice_info *ni = realloc(b->info, (size_t)cap * sizeof *ni);
        if (!ni) return -1;
        b->info = ni; b->cap = cap;
    }
    if (fwrite(four, sizeof(float), nfloat, b->f) != nfloat) return -1;
    b->crc = crc(b->crc, four, nfloat * sizeof(float));
    b->bytes += nfloat * sizeof(float);
    b->info[b->n++] = inf;
    return 0;
}

/* Preprocesses one loaded case into b; returns -1 on a write error. */
static int add_case(build_state *b, int ci, io_volume v[IO_NDOMAINS], const io_prep_params *p, float *four) {
    size_t n = (size_t)v[0].dims[0] * v[0].dims[1] * v[0].dims[2], plane = (size_t)p->img * p->img;
    for (int d = 0; d < IO_NDOMAINS; d++) io_normalize(v[d].data, n, p->norm);
    const float *const vols[4] = {v[0].data, v[1].data, v[2].data, v[3].data};
    for (int z = 0; z < v[0].dims[2]; z++) {
        double frac = io_slice_brain_frac(vols, v[0].dims, z);
        if (frac < p->slice_frac) continue;
        for (int d = 0; d < IO_NDOMAINS; d++) io_slice_extract(vols[d], v[0].dims, z, p->img, four + d * plane);
        io_slice_info inf = {ci, z, (float)frac};
        if (add_slice(b, four, 4 * plane, inf)) return -1;
    }
    return 0;
}

static int build(const io_caselist *cl, const io_prep_params *p, const char *path, const char *key,
                 uint64_t dkey, FILE *log, char *err, size_t errlen) {
    char tmp[PATH_MAX];
    if (io_tmp_name(tmp, sizeof tmp, path)) return io_err(err, errlen, "cache path too long");
    build_state b = {0};
    b.f = fopen(tmp, "wb");
    if (!b.f) return io_err(err, errlen, "cannot write cache %s: %s", tmp, strerror(errno));
    size_t plane = (size_t)p->img * p->img;
    float *four = malloc(4 * plane * sizeof(float));
    cJSON *notes = cJSON_CreateObject();
    cJSON *ids = cJSON_AddArrayToObject(notes, "case_ids"), *skipped = cJSON_AddArrayToObject(notes, "skipped");
    char *notes_s = NULL;
    int rc = 0, wfail = 0;
    static const char zeros[DATA_OFF];
    if (!four || !notes || !ids || !skipped) { rc = io_err(err, errlen, "out of memory"); goto out; }
    if (fwrite(zeros, 1, DATA_OFF, b.f) != DATA_OFF) { wfail = 1; goto out; }
    for (int i = 0; i < cl->n; i++) {
        const io_case *c = &cl->cases[i];
        cJSON_AddItemToArray(ids, cJSON_CreateString(c->id));
        io_volume v[IO_NDOMAINS];
        char e[1024];
        if (io_case_load(c, v, e, sizeof e) != 0) {
            if (log) fprintf(log, "warning: skipping %s\n", e);
            cJSON *s = cJSON_CreateObject();
            cJSON_AddStringToObject(s, "id", c->id);
            cJSON_AddStringToObject(s, "error", e);
            cJSON_AddItemToArray(skipped, s);
            continue;
        }
        for (int d = 0; d < IO_NDOMAINS; d++)
            if (v[d].n_nonfinite && log)
                fprintf(log, "warning: %s: %lld NaN/Inf voxels replaced by 0\n", c->path[d], (long long)v[d].n_nonfinite);
        int64_t before = b.n;
        int w = add_case(&b, i, v, p, four);
        io_case_volumes_free(v);
        if (w) { wfail = 1; goto out; }
        if (log) fprintf(log, "  cached %-40s %3lld slices  (%d/%d)\n", c->id, (long long)(b.n - before), i + 1, cl->n);
    }
    notes_s = cJSON_PrintUnformatted(notes);
    if (!notes_s) { rc = io_err(err, errlen, "out of memory"); goto out; }
    cache_hdr h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, cache_magic, sizeof h.magic);
    h.version = IO_CACHE_VERSION;
    h.img = (uint32_t)p->img;
    h.norm = (uint32_t)p->norm;
    h.n_cases = (uint32_t)cl->n;
    h.slice_frac = p->slice_frac;
    h.n_slices = (uint64_t)b.n;
    h.data_off = DATA_OFF;
    h.data_bytes = b.bytes;
    h.info_off = DATA_OFF + b.bytes;
    h.meta_off = h.info_off + (uint64_t)b.n * sizeof(io_slice_info);
    size_t klen = strlen(key) + 1, nlen = strlen(notes_s) + 1;
    h.meta_len = klen + nlen;
    h.file_size = h.meta_off + h.meta_len;
    h.dataset_key = dkey;
    h.data_crc = b.crc;
    h.info_crc = crc(0, b.info, (size_t)b.n * sizeof(io_slice_info));
    h.meta_crc = crc(crc(0, key, klen), notes_s, nlen);
    h.hdr_crc = io_cache_hdr_crc(&h);
    if ((b.n && fwrite(b.info, sizeof(io_slice_info), (size_t)b.n, b.f) != (size_t)b.n) ||
        fwrite(key, 1, klen, b.f) != klen || fwrite(notes_s, 1, nlen, b.f) != nlen ||
        fseek(b.f, 0, SEEK_SET) != 0 || fwrite(&h, sizeof h, 1, b.f) != 1 ||
        fflush(b.f) != 0 || fsync(fileno(b.f)) != 0)
        wfail = 1;
out:
    if (wfail && !rc) rc = io_err(err, errlen, "cannot write cache %s: %s (disk full?)", path, strerror(errno));
    if (fclose(b.f) != 0 && !rc) rc = io_err(err, errlen, "cannot write cache %s: %s", path, strerror(errno));
    if (!rc && rename(tmp, path) != 0) rc = io_err(err, errlen, "cannot write cache %s: rename: %s", path, strerror(errno));
    if (rc) unlink(tmp);
    free(b.info);
    free(four);
    free(notes_s);
    cJSON_Delete(notes);
    return rc;
}

/* Every size and offset in the header is checked against the file size
 * before it is used: the header checksum guards against damage, not against
 * a file crafted to pass it. The caller rebuilds on any failure. */
int io_cache_try_open(const char *path, const char *key, const io_prep_params *p, io_cache *c, char *why, size_t whylen) {
    /* O_NONBLOCK: a FIFO in its place must not hang the open */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) { io_err(why, whylen, errno == ENOENT ? "no cache yet" : "cannot open (%s)", strerror(errno)); return 1; }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        io_err(why, whylen, "damaged: not a regular file");
        return 1;
    }
    if ((size_t)st.st_size < sizeof(cache_hdr)) {
        close(fd);
        io_err(why, whylen, "damaged: truncated");
        return 1;
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) { io_err(why, whylen, "cannot map (%s)", strerror(errno)); return 1; }
    const char *base = map;
    cache_hdr h;
    memcpy(&h, base, sizeof h);
    uint64_t fsz = (uint64_t)st.st_size, plane = (uint64_t)p->img * (uint64_t)p->img;
    cJSON *notes = NULL;
    const char *nt;
#define BAD(...) do { io_err(why, whylen, __VA_ARGS__); goto bad; } while (0)
    if (memcmp(h.magic, cache_magic, sizeof h.magic)) BAD("damaged: bad magic (not a vkmist slice cache)");
    if (h.hdr_crc != io_cache_hdr_crc(&h)) BAD("damaged: header checksum mismatch");
    if (h.version != IO_CACHE_VERSION) BAD("stale: cache format version %u, this build uses %d", h.version, IO_CACHE_VERSION);
    if (h.file_size != fsz) BAD("damaged: truncated (file has %llu bytes, header says %llu)", (unsigned long long)fsz, (unsigned long long)h.file_size);
    if (h.img != (uint32_t)p->img || h.norm != (uint32_t)p->norm || h.slice_frac != p->slice_frac) BAD("stale: parameters changed");
    if (p->img < 1) BAD("stale: parameters changed");
    /* n_slices <= fsz / 16 first, so no product or sum below can wrap; the
     * metadata must end exactly at the end of the file */
    if (h.data_off != DATA_OFF || h.n_slices > (fsz / (4 * plane * sizeof(float))) ||
        h.data_bytes != h.n_slices * 4 * plane * sizeof(float) || h.info_off != DATA_OFF + h.data_bytes ||
        h.meta_off != h.info_off + h.n_slices * sizeof(io_slice_info) || h.meta_off > fsz ||
        h.meta_len != fsz - h.meta_off || h.meta_len < 2)
        BAD("damaged: inconsistent header");
    if (crc(0, base + h.meta_off, h.meta_len) != h.meta_crc || base[fsz - 1] != 0) BAD("damaged: metadata checksum mismatch");
    if (strcmp(base + h.meta_off, key) != 0) BAD("stale: input files or parameters changed");
    if (crc(0, base + h.info_off, h.n_slices * sizeof(io_slice_info)) != h.info_crc) BAD("damaged: slice table checksum mismatch");
    if (crc(0, base + DATA_OFF, h.data_bytes) != h.data_crc) BAD("damaged: slice data checksum mismatch");
    nt = base + h.meta_off + strlen(base + h.meta_off) + 1;
    if (nt >= base + fsz) BAD("damaged: no notes after the key");
    notes = cJSON_Parse(nt);
    cJSON *ids = cJSON_GetObjectItemCaseSensitive(notes, "case_ids");
    if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) != (int)h.n_cases) BAD("damaged: case list");
    c->case_ids = calloc(h.n_cases ? h.n_cases : 1, sizeof(char *));
    if (!c->case_ids) BAD("out of memory");
    c->n_cases = (int)h.n_cases;
    cJSON *it;
    int k = 0;
    cJSON_ArrayForEach(it, ids) {
        if (!cJSON_IsString(it) || !(c->case_ids[k++] = strdup(it->valuestring))) BAD("damaged: case list");
    }
    c->n_skipped = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(notes, "skipped"));
    c->info = (const io_slice_info *)(base + h.info_off);
    for (uint64_t i = 0; i < h.n_slices; i++)
        if (c->info[i].case_idx < 0 || c->info[i].case_idx >= (int32_t)h.n_cases) BAD("damaged: slice table");
#undef BAD
    cJSON_Delete(notes);
    c->map = map;
    c->map_len = (size_t)fsz;
    c->n_slices = (int64_t)h.n_slices;
    c->data = (const float *)(base + DATA_OFF);
    return 0;
bad:
    cJSON_Delete(notes);
    if (c->case_ids) for (int i = 0; i < c->n_cases; i++) free(c->case_ids[i]);
    free(c->case_ids);
    c->case_ids = NULL;
    c->n_cases = 0;
    c->info = NULL;
    munmap(map, (size_t)st.st_size);
    return 1;
}

int io_cache_open(const io_caselist *cl, const char *cache_dir, const io_prep_params *p, FILE *log,
                  io_cache **out, char *err, size_t errlen) {
    *out = NULL;
    if (p->img < 4 || p->img > 4096) return io_err(err, errlen, "image size %d out of range", p->img);
    if (!(p->slice_frac >= 0 && p->slice_frac <= 1)) return io_err(err, errlen, "slice threshold %g out of [0, 1]", p->slice_frac);
    if (cl->n == 0) return io_err(err, errlen, "no complete cases under %s: nothing to cache", cl->root);
    if (mkdir_p(cache_dir, err, errlen)) return -1;
    io_cache *c = calloc(1, sizeof *c);
    if (!c) return io_err(err, errlen, "out of memory");
    c->params = *p;
    if (io_cache_path(cl, cache_dir, p, c->path, sizeof c->path)) { free(c); return io_err(err, errlen, "cache path too long"); }
    char *key = make_key(cl, p, err, errlen);
    if (!key) { free(c); return -1; }
    double t0 = now_s();
    int need = io_cache_try_open(c->path, key, p, c, c->why, sizeof c->why);
    c->load_s = now_s() - t0;
    if (need) {
        if (log) fprintf(log, "building slice cache %s (%s)\n", c->path, c->why);
        t0 = now_s();
        int rc = build(cl, p, c->path, key, dataset_key(cl, p), log, err, errlen);
        c->build_s = now_s() - t0;
        c->rebuilt = 1;
        char why2[256];
        t0 = now_s();
        if (!rc && io_cache_try_open(c->path, key, p, c, why2, sizeof why2))
            rc = io_err(err, errlen, "cache %s just built fails verification (%s)", c->path, why2);
        c->load_s = now_s() - t0;
        if (rc) { free(key); io_cache_close(c); return -1; }
    }
    free(key);
    *out = c;
    return 0;
}

const float *io_cache_slice(const io_cache *c, int64_t i) {
    if (!c || i < 0 || i >= c->n_slices) return NULL;
    return c->data + (size_t)i * 4 * (size_t)c->params.img * (size_t)c->params.img;
}

void io_cache_close(io_cache *c) {
    if (!c) return;
    if (c->map) munmap(c->map, c->map_len);
    for (int i = 0; i < c->n_cases; i++) free(c->case_ids[i]);
    free(c->case_ids);
    free(c);
}
