/* Checkpoint reader (see checkpoint.h): maps the file and validates it fully
 * before handing out anything. Every size read from the file is bounds-checked
 * before use and all arithmetic on sizes is overflow-checked, so a damaged or
 * hostile file yields an error naming the file and the problem, never a
 * crash. The file is mapped, not read: checkpoints are only ever replaced by
 * rename (a new inode), never rewritten in place, so a mapping cannot shrink
 * under the reader. */
#include "train/checkpoint_internal.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct ckpt_reader {
    char *path;
    void *map;
    size_t map_len;
    cJSON *root;
    cJSON *meta;        /* "__metadata__" (an object of strings) */
    ckpt_tensor *t;     /* by data offset */
    ckpt_tensor **by_name;
    int nt;
};

static int rerr(char *err, size_t errlen, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int rerr(char *err, size_t errlen, const char *path, const char *fmt, ...) {
    if (err && errlen) {
        int k = snprintf(err, errlen, "checkpoint %s: ", path);
        if (k >= 0 && (size_t)k < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

static int by_offset(const void *a, const void *b) {
    const ckpt_tensor *x = a, *y = b;
    const char *xa = x->data, *ya = y->data;
    if (xa != ya) return xa < ya ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}
static int by_name(const void *a, const void *b) {
    return strcmp((*(ckpt_tensor *const *)a)->name, (*(ckpt_tensor *const *)b)->name);
}

/* A JSON number that is an exact integer in [0, 2^53]. */
static int json_u53(const cJSON *n, uint64_t *out) {
    if (!cJSON_IsNumber(n)) return -1;
    double v = n->valuedouble;
    if (!(v >= 0 && v <= 9007199254740992.0) || v != (double)(uint64_t)v) return -1;
    *out = (uint64_t)v;
    return 0;
}

/* Fills r->t[i] from a tensor entry; data offsets are checked against the
 * data section of length dlen starting at data. */
static int parse_tensor(const cJSON *e, ckpt_tensor *t, const char *data, uint64_t dlen,
                        const char *path, char *err, size_t errlen) {
    const char *name = e->string;
    if (!name || !name[0]) return rerr(err, errlen, path, "header has a tensor with an empty name");
    if (!cJSON_IsObject(e)) return rerr(err, errlen, path, "tensor %s: entry is not an object", name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of))
        return rerr(err, errlen, path, "tensor %s: needs a dtype string, a shape and data_offsets", name);
    int d = ckpt_dtype_parse(dt->valuestring);
    if (d < 0) return rerr(err, errlen, path, "tensor %s: unknown dtype \"%.16s\"", name, dt->valuestring);
    int nd = cJSON_GetArraySize(sh);
    if (nd > CKPT_MAX_DIM) return rerr(err, errlen, path, "tensor %s: %d dimensions (at most %d)", name, nd, CKPT_MAX_DIM);
    memset(t, 0, sizeof *t);
    t->name = name;
    t->dtype = (ckpt_dtype)d;
    t->ndim = nd;
    uint64_t numel = 1;
    int i = 0;
    for (const cJSON *x = sh->child; x; x = x->next, i++) {
        uint64_t v;
        if (json_u53(x, &v) < 0) return rerr(err, errlen, path, "tensor %s: shape[%d] is not a size", name, i);
        if (v && numel > (UINT64_C(1) << 53) / v) return rerr(err, errlen, path, "tensor %s: shape too large", name);
        numel *= v;
        t->shape[i] = (int64_t)v;
    }
    t->numel = (int64_t)numel;
    uint64_t b, en;
    if (cJSON_GetArraySize(of) != 2 || json_u53(of->child, &b) < 0 || json_u53(of->child->next, &en) < 0)
        return rerr(err, errlen, path, "tensor %s: data_offsets is not [begin, end]", name);
    uint64_t nbytes = numel * ckpt_dtype_size(t->dtype);   /* <= 2^56: no overflow */
    if (en < b || en > dlen)
        return rerr(err, errlen, path, "tensor %s: data_offsets [%llu, %llu] outside the %llu-byte data section (truncated?)",
                    name, (unsigned long long)b, (unsigned long long)en, (unsigned long long)dlen);
    if (en - b != nbytes)
        return rerr(err, errlen, path, "tensor %s: %llu bytes in the file, but %s x %llu elements needs %llu",
                    name, (unsigned long long)(en - b), dt->valuestring, (unsigned long long)numel,
                    (unsigned long long)nbytes);
    t->nbytes = nbytes;
    t->data = data + b;
    return 0;
}

/* Everything after the mapping: header JSON, metadata, tensors, checksums. */
static int validate(ckpt_reader *r, char *err, size_t errlen) {
    const char *path = r->path, *base = r->map;
    uint64_t size = r->map_len, hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)(unsigned char)base[i] << (8 * i);
    if (hlen == 0 || hlen > size - 8)
        return rerr(err, errlen, path, "header length %llu does not fit the %llu-byte file (truncated or not safetensors)",
                    (unsigned long long)hlen, (unsigned long long)size);
    if (hlen > CKPT_MAX_HEADER)
        return rerr(err, errlen, path, "header length %llu is over the %u-byte limit", (unsigned long long)hlen, CKPT_MAX_HEADER);
    const char *hdr = base + 8, *data = hdr + hlen;
    uint64_t dlen = size - 8 - hlen;
    if (hdr[0] != '{') return rerr(err, errlen, path, "header does not start with '{' (not safetensors, or damaged)");
    const char *end = NULL;
    r->root = cJSON_ParseWithLengthOpts(hdr, (size_t)hlen, &end, 0);
    if (!r->root || !cJSON_IsObject(r->root))
        return rerr(err, errlen, path, "header is not valid JSON (damaged) near byte %lld",
                    (long long)(8 + (cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - hdr : 0)));
    for (const char *p = end; p && p < hdr + hlen; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            return rerr(err, errlen, path, "header has data after the JSON at byte %lld (damaged)", (long long)(8 + (p - hdr)));

    r->meta = cJSON_GetObjectItemCaseSensitive(r->root, "__metadata__");
    if (!cJSON_IsObject(r->meta)) return rerr(err, errlen, path, "no __metadata__ object: not a vkmist checkpoint");
    for (const cJSON *m = r->meta->child; m; m = m->next)
        if (!cJSON_IsString(m)) return rerr(err, errlen, path, "metadata %s is not a string", m->string ? m->string : "?");
    const char *ver = ckpt_meta_get(r, CKPT_KEY_VERSION);
    if (!ver) return rerr(err, errlen, path, "no " CKPT_KEY_VERSION " in the metadata: not a vkmist checkpoint");
    if (strcmp(ver, CKPT_FORMAT_VERSION))
        return rerr(err, errlen, path, "format version \"%.16s\" is not the known \"" CKPT_FORMAT_VERSION "\"", ver);
    const char *hc = ckpt_meta_get(r, CKPT_KEY_HDR_CRC), *dc = ckpt_meta_get(r, CKPT_KEY_DATA_CRC);
    int64_t pos = ckpt_hdr_crc_pos(hdr, (size_t)hlen);
    if (!hc || !dc || pos < 0 || strncmp(hdr + pos, hc, 8))
        return rerr(err, errlen, path, "checksums missing from the metadata (damaged)");
    char hex[9];
    snprintf(hex, sizeof hex, "%08x", (unsigned)ckpt_hdr_crc(hdr, (size_t)hlen, (size_t)pos));
    if (strcmp(hex, hc)) return rerr(err, errlen, path, "header checksum mismatch (stored %.8s, computed %s): damaged", hc, hex);

    int n = 0, nmeta = 0;
    for (const cJSON *e = r->root->child; e; e = e->next) {
        if (e->string && !strcmp(e->string, "__metadata__")) nmeta++;
        else n++;
    }
    if (nmeta != 1) return rerr(err, errlen, path, "%d __metadata__ entries (damaged)", nmeta);
    r->t = calloc(n > 0 ? (size_t)n : 1, sizeof *r->t);
    r->by_name = calloc(n > 0 ? (size_t)n : 1, sizeof *r->by_name);
    if (!r->t || !r->by_name) return rerr(err, errlen, path, "out of memory");
    for (const cJSON *e = r->root->child; e; e = e->next) {
        if (e->string && !strcmp(e->string, "__metadata__")) continue;
        if (parse_tensor(e, &r->t[r->nt], data, dlen, path, err, errlen) < 0) return -1;
        r->nt++;
    }
    qsort(r->t, (size_t)r->nt, sizeof *r->t, by_offset);
    const char *at = data;   /* tensors must tile the data section exactly */
    for (int i = 0; i < r->nt; i++) {
        const char *b = r->t[i].data;
        if (b != at)
            return rerr(err, errlen, path, "tensor %s at data offset %llu %s the previous tensor's end %llu",
                        r->t[i].name, (unsigned long long)(b - data), b < at ? "overlaps" : "leaves a gap after",
                        (unsigned long long)(at - data));
        at = b + r->t[i].nbytes;
    }
    if ((uint64_t)(at - data) != dlen)
        return rerr(err, errlen, path, "tensors cover %llu of the %llu data bytes (trailing garbage)",
                    (unsigned long long)(at - data), (unsigned long long)dlen);
    for (int i = 0; i < r->nt; i++) r->by_name[i] = &r->t[i];
    qsort(r->by_name, (size_t)r->nt, sizeof *r->by_name, by_name);
    for (int i = 1; i < r->nt; i++)
        if (!strcmp(r->by_name[i - 1]->name, r->by_name[i]->name))
            return rerr(err, errlen, path, "tensor %s appears twice", r->by_name[i]->name);

    snprintf(hex, sizeof hex, "%08x", (unsigned)ckpt_crc32(0, data, dlen));
    if (strcmp(hex, dc)) return rerr(err, errlen, path, "tensor data checksum mismatch (stored %.8s, computed %s): damaged", dc, hex);
    return 0;
}

ckpt_reader *ckpt_open(const char *path, char *err, size_t errlen) {
    ckpt_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        rerr(err, errlen, path, "out of memory");
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);   /* a FIFO must not hang it */
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        rerr(err, errlen, path, "cannot open: %s", strerror(errno));
        if (fd >= 0) close(fd);
        ckpt_close(r);
        return NULL;
    }
    int rc = 0;
    if (!S_ISREG(st.st_mode)) rc = rerr(err, errlen, path, "not a regular file");
    else if (st.st_size < 8) rc = rerr(err, errlen, path, "only %lld bytes: truncated", (long long)st.st_size);
    else if ((uint64_t)st.st_size > SIZE_MAX) rc = rerr(err, errlen, path, "too large to map");
    if (!rc) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) rc = rerr(err, errlen, path, "cannot map: %s", strerror(errno));
        else { r->map = m; r->map_len = (size_t)st.st_size; }
    }
    close(fd);
    if (!rc) rc = validate(r, err, errlen);
    if (rc) { ckpt_close(r); return NULL; }
    return r;
}

void ckpt_close(ckpt_reader *r) {
    if (!r) return;
    if (r->map) munmap(r->map, r->map_len);
    cJSON_Delete(r->root);
    free(r->t);
    free(r->by_name);
    free(r->path);
    free(r);
}

const char *ckpt_reader_path(const ckpt_reader *r) { return r->path; }
int ckpt_count(const ckpt_reader *r) { return r->nt; }
const ckpt_tensor *ckpt_tensor_at(const ckpt_reader *r, int i) { return i >= 0 && i < r->nt ? &r->t[i] : NULL; }

const ckpt_tensor *ckpt_find(const ckpt_reader *r, const char *name) {
    ckpt_tensor key = {.name = name}, *kp = &key;
    ckpt_tensor **hit = bsearch(&kp, r->by_name, (size_t)r->nt, sizeof *r->by_name, by_name);
    return hit ? *hit : NULL;
}

const char *ckpt_meta_get(const ckpt_reader *r, const char *key) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(r->meta, key);
    return cJSON_IsString(m) ? m->valuestring : NULL;
}

int ckpt_read(const ckpt_reader *r, const char *name, ckpt_dtype dtype, void *out,
              int64_t expect_numel, char *err, size_t errlen) {
    const ckpt_tensor *t = ckpt_find(r, name);
    if (!t) return rerr(err, errlen, r->path, "no tensor %s", name);
    if (t->dtype != dtype)
        return rerr(err, errlen, r->path, "tensor %s is %s, expected %s", name, ckpt_dtype_name(t->dtype), ckpt_dtype_name(dtype));
    if (t->numel != expect_numel)
        return rerr(err, errlen, r->path, "tensor %s has %lld elements, expected %lld (another model config?)",
                    name, (long long)t->numel, (long long)expect_numel);
    if (t->nbytes) memcpy(out, t->data, (size_t)t->nbytes);
    return 0;
}
int ckpt_read_f32(const ckpt_reader *r, const char *name, float *out, int64_t expect_numel, char *err, size_t errlen) {
    return ckpt_read(r, name, CKPT_F32, out, expect_numel, err, errlen);
}
int ckpt_read_u32(const ckpt_reader *r, const char *name, uint32_t *out, int64_t expect_numel, char *err, size_t errlen) {
    return ckpt_read(r, name, CKPT_U32, out, expect_numel, err, errlen);
}
int ckpt_read_u64(const ckpt_reader *r, const char *name, uint64_t *out, int64_t expect_numel, char *err, size_t errlen) {
    return ckpt_read(r, name, CKPT_U64, out, expect_numel, err, errlen);
}
