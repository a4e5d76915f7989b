/* Checkpoint writer (see checkpoint.h) and the dtype/CRC helpers the reader
 * shares. The header is built with cJSON, padded with spaces so the data
 * section starts 8-byte aligned (as safetensors does), and tensors are laid
 * out back to back in the order they were added, which is what Python's
 * safetensors requires (no gaps). */
#include "train/checkpoint_internal.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static const struct { const char *name; size_t size; } dtypes[CKPT_NDTYPE] = {
    [CKPT_F64] = {"F64", 8}, [CKPT_F32] = {"F32", 4}, [CKPT_F16] = {"F16", 2}, [CKPT_BF16] = {"BF16", 2},
    [CKPT_I64] = {"I64", 8}, [CKPT_I32] = {"I32", 4}, [CKPT_I16] = {"I16", 2}, [CKPT_I8] = {"I8", 1},
    [CKPT_U64] = {"U64", 8}, [CKPT_U32] = {"U32", 4}, [CKPT_U16] = {"U16", 2}, [CKPT_U8] = {"U8", 1},
    [CKPT_BOOL] = {"BOOL", 1},
};

const char *ckpt_dtype_name(ckpt_dtype t) { return (unsigned)t < CKPT_NDTYPE ? dtypes[t].name : "?"; }
size_t ckpt_dtype_size(ckpt_dtype t) { return (unsigned)t < CKPT_NDTYPE ? dtypes[t].size : 0; }

int ckpt_dtype_parse(const char *s) {
    for (int i = 0; i < CKPT_NDTYPE; i++)
        if (!strcmp(s, dtypes[i].name)) return i;
    return -1;
}

uint32_t ckpt_crc32(uint32_t crc, const void *p, uint64_t n) {
    const unsigned char *b = p;
    while (n) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, b, chunk);
        b += chunk;
        n -= chunk;
    }
    return crc;
}

int64_t ckpt_hdr_crc_pos(const char *hdr, size_t len) {
    static const char pat[] = "\"" CKPT_KEY_HDR_CRC "\":\"";
    const size_t pl = sizeof pat - 1;
    const char *hit = memmem(hdr, len, pat, pl);
    if (!hit) return -1;
    size_t pos = (size_t)(hit - hdr) + pl;
    if (pos + 9 > len || hit[pl + 8] != '"') return -1;
    if (memmem(hit + 1, len - (size_t)(hit + 1 - hdr), pat, pl)) return -1;
    return (int64_t)pos;
}

uint32_t ckpt_hdr_crc(const char *hdr, size_t len, size_t pos) {
    uint32_t c = ckpt_crc32(0, hdr, pos);
    c = ckpt_crc32(c, "00000000", 8);
    return ckpt_crc32(c, hdr + pos + 8, len - pos - 8);
}

/* ---- writer ---- */

/* The header must be UTF-8 (serde_json in Python's safetensors refuses
 * anything else); cJSON passes bytes through unchecked. */
static int valid_utf8(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p++, extra = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 9;
        if (extra == 9 || (extra == 1 && c < 0xc2) || (c == 0xf4 && p[0] > 0x8f) || c > 0xf4) return 0;
        if (extra == 2 && ((c == 0xe0 && p[0] < 0xa0) || (c == 0xed && p[0] > 0x9f))) return 0;
        if (extra == 3 && c == 0xf0 && p[0] < 0x90) return 0;
        for (unsigned i = 0; i < extra; i++)
            if ((*p++ & 0xc0) != 0x80) return 0;
    }
    return 1;
}

typedef struct {
    char *name;
    ckpt_dtype dtype;
    int ndim;
    int64_t shape[CKPT_MAX_DIM];
    uint64_t nbytes;
    const void *data;
    void *owned;        /* the copy, when ckpt_add copied */
} wentry;

struct ckpt_writer {
    wentry *t;
    size_t nt, cap;
    char **mkey, **mval;
    size_t nm, mcap;
    char err[256];      /* first error of an add or meta call */
};

static int werr(ckpt_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int werr(ckpt_writer *w, const char *fmt, ...) {
    if (!w->err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->err, sizeof w->err, fmt, ap);
        va_end(ap);
    }
    return -1;
}

ckpt_writer *ckpt_begin(void) { return calloc(1, sizeof(ckpt_writer)); }

static int add(ckpt_writer *w, const char *name, ckpt_dtype dtype, const void *data,
               const int64_t *shape, int ndim, int copy) {
    if (!w) return -1;
    if (!name || !name[0]) return werr(w, "tensor with an empty name");
    if (!strcmp(name, "__metadata__")) return werr(w, "\"__metadata__\" is not a tensor name");
    if (!valid_utf8(name)) return werr(w, "tensor name is not UTF-8");
    if ((unsigned)dtype >= CKPT_NDTYPE) return werr(w, "tensor %s: unknown dtype %d", name, (int)dtype);
    if (ndim < 0 || ndim > CKPT_MAX_DIM || (ndim > 0 && !shape))
        return werr(w, "tensor %s: %d dimensions (at most %d)", name, ndim, CKPT_MAX_DIM);
    uint64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        /* 2^53 keeps every size exact as a JSON number (a double) */
        if (shape[i] < 0 || (shape[i] > 0 && numel > (UINT64_C(1) << 53) / (uint64_t)shape[i]))
            return werr(w, "tensor %s: bad or too large shape", name);
        numel *= (uint64_t)shape[i];
    }
    uint64_t nbytes = numel * dtypes[dtype].size;
    if (nbytes > (UINT64_C(1) << 53) || (nbytes && !data))
        return werr(w, "tensor %s: no data or too large", name);
    for (size_t i = 0; i < w->nt; i++)
        if (!strcmp(w->t[i].name, name)) return werr(w, "tensor %s added twice", name);
    if (w->nt == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        wentry *t = realloc(w->t, cap * sizeof *t);
        if (!t) return werr(w, "out of memory");
        w->t = t;
        w->cap = cap;
    }
    wentry *e = &w->t[w->nt];
    memset(e, 0, sizeof *e);
    e->name = strdup(name);
    if (!e->name) return werr(w, "out of memory");
    if (copy && nbytes) {
        if (nbytes > SIZE_MAX || !(e->owned = malloc((size_t)nbytes))) {
            free(e->name);
            return werr(w, "tensor %s: out of memory (%llu bytes)", name, (unsigned long long)nbytes);
        }
        memcpy(e->owned, data, (size_t)nbytes);
        data = e->owned;
    }
    e->dtype = dtype;
    e->ndim = ndim;
    for (int i = 0; i < ndim; i++) e->shape[i] = shape[i];
    e->nbytes = nbytes;
    e->data = data;
    w->nt++;
    return 0;
}

int ckpt_add(ckpt_writer *w, const char *name, ckpt_dtype dtype, const void *data,
             const int64_t *shape, int ndim) {
    return add(w, name, dtype, data, shape, ndim, 1);
}
int ckpt_add_borrowed(ckpt_writer *w, const char *name, ckpt_dtype dtype, const void *data,
                      const int64_t *shape, int ndim) {
    return add(w, name, dtype, data, shape, ndim, 0);
}
int ckpt_add_f32(ckpt_writer *w, const char *name, const float *data, const int64_t *shape, int ndim) {
    return add(w, name, CKPT_F32, data, shape, ndim, 1);
}
int ckpt_add_u32(ckpt_writer *w, const char *name, const uint32_t *data, const int64_t *shape, int ndim) {
    return add(w, name, CKPT_U32, data, shape, ndim, 1);
}
int ckpt_add_u64(ckpt_writer *w, const char *name, const uint64_t *data, const int64_t *shape, int ndim) {
    return add(w, name, CKPT_U64, data, shape, ndim, 1);
}

int ckpt_meta(ckpt_writer *w, const char *key, const char *value) {
    if (!w) return -1;
    if (!key || !key[0] || !value) return werr(w, "metadata with an empty key or no value");
    if (!valid_utf8(key) || !valid_utf8(value)) return werr(w, "metadata %s: not UTF-8", valid_utf8(key) ? key : "key");
    if (!strncmp(key, CKPT_RESERVED_PREFIX, strlen(CKPT_RESERVED_PREFIX)))
        return werr(w, "metadata key %s: the prefix " CKPT_RESERVED_PREFIX " is reserved", key);
    char *v = strdup(value);
    if (!v) return werr(w, "out of memory");
    for (size_t i = 0; i < w->nm; i++)
        if (!strcmp(w->mkey[i], key)) {
            free(w->mval[i]);
            w->mval[i] = v;
            return 0;
        }
    if (w->nm == w->mcap) {
        size_t cap = w->mcap ? 2 * w->mcap : 16;
        char **k = realloc(w->mkey, cap * sizeof *k);
        if (k) w->mkey = k;
        char **vv = k ? realloc(w->mval, cap * sizeof *vv) : NULL;
        if (!vv) { free(v); return werr(w, "out of memory"); }
        w->mval = vv;
        w->mcap = cap;
    }
    w->mkey[w->nm] = strdup(key);
    if (!w->mkey[w->nm]) { free(v); return werr(w, "out of memory"); }
    w->mval[w->nm++] = v;
    return 0;
}

void ckpt_free(ckpt_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->nt; i++) { free(w->t[i].name); free(w->t[i].owned); }
    for (size_t i = 0; i < w->nm; i++) { free(w->mkey[i]); free(w->mval[i]); }
    free(w->t);
    free(w->mkey);
    free(w->mval);
    free(w);
}

/* The serialized, padded header (malloc'd; *len set) with both checksums in. */
static char *build_header(const ckpt_writer *w, size_t *len) {
    uint32_t dcrc = 0;
    for (size_t i = 0; i < w->nt; i++) dcrc = ckpt_crc32(dcrc, w->t[i].data, w->t[i].nbytes);
    char hex[9];
    snprintf(hex, sizeof hex, "%08x", (unsigned)dcrc);

    cJSON *root = cJSON_CreateObject(), *meta = cJSON_CreateObject();
    int ok = root && meta && cJSON_AddItemToObject(root, "__metadata__", meta);
    if (!ok) cJSON_Delete(meta);
    for (size_t i = 0; ok && i < w->nm; i++) ok = cJSON_AddStringToObject(meta, w->mkey[i], w->mval[i]) != NULL;
    ok = ok && cJSON_AddStringToObject(meta, CKPT_KEY_VERSION, CKPT_FORMAT_VERSION)
            && cJSON_AddStringToObject(meta, CKPT_KEY_DATA_CRC, hex)
            && cJSON_AddStringToObject(meta, CKPT_KEY_HDR_CRC, "00000000");
    uint64_t off = 0;
    for (size_t i = 0; ok && i < w->nt; i++) {
        const wentry *e = &w->t[i];
        cJSON *o = cJSON_AddObjectToObject(root, e->name);
        cJSON *shape = o ? cJSON_AddArrayToObject(o, "shape") : NULL;
        ok = o && cJSON_AddStringToObject(o, "dtype", dtypes[e->dtype].name) && shape;
        for (int d = 0; ok && d < e->ndim; d++) {
            cJSON *n = cJSON_CreateNumber((double)e->shape[d]);
            ok = n && cJSON_AddItemToArray(shape, n);
        }
        cJSON *offs = ok ? cJSON_AddArrayToObject(o, "data_offsets") : NULL;
        cJSON *b = offs ? cJSON_CreateNumber((double)off) : NULL;
        ok = b && cJSON_AddItemToArray(offs, b);
        off += e->nbytes;
        cJSON *en = ok ? cJSON_CreateNumber((double)off) : NULL;
        ok = en && cJSON_AddItemToArray(offs, en);
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) return NULL;
    size_t tl = strlen(text), padded = (tl + 8 + 7) / 8 * 8 - 8;
    char *hdr = malloc(padded);
    if (hdr) {
        memcpy(hdr, text, tl);
        memset(hdr + tl, ' ', padded - tl);
        int64_t pos = ckpt_hdr_crc_pos(hdr, padded);
        if (pos < 0) {   /* cannot happen: reserved keys are ours alone */
            free(hdr);
            hdr = NULL;
        } else {
            snprintf(hex, sizeof hex, "%08x", (unsigned)ckpt_hdr_crc(hdr, padded, (size_t)pos));
            memcpy(hdr + pos, hex, 8);
            *len = padded;
        }
    }
    cJSON_free(text);
    return hdr;
}

static int write_all(int fd, const void *p, uint64_t n) {
    const char *b = p;
    while (n) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : (size_t)n;
        ssize_t k = write(fd, b, chunk);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        b += k;
        n -= (uint64_t)k;
    }
    return 0;
}

/* fsync of the folder holding path, so the rename itself is durable. */
static int sync_parent(const char *path) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) >= sizeof dir) return -1;
    else { memcpy(dir, path, (size_t)(slash - path)); dir[slash - path] = 0; }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    /* some file systems refuse fsync on folders; the rename already happened */
    if (rc < 0 && (errno == EINVAL || errno == EBADF)) rc = 0;
    close(fd);
    return rc;
}

int ckpt_write(ckpt_writer *w, const char *path, char *err, size_t errlen) {
    if (!w || !path) { if (err && errlen) snprintf(err, errlen, "ckpt_write: no writer or path"); return -1; }
    if (w->err[0]) { if (err && errlen) snprintf(err, errlen, "cannot write %s: %s", path, w->err); return -1; }
    size_t hlen = 0;
    char *hdr = build_header(w, &hlen);
    if (!hdr) { if (err && errlen) snprintf(err, errlen, "cannot write %s: out of memory building the header", path); return -1; }
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        free(hdr);
        if (err && errlen) snprintf(err, errlen, "cannot write %s: path too long", path);
        return -1;
    }
    const char *what = "create";
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -1 : 0;
    if (!rc) {
        unsigned char lenb[8];
        for (int i = 0; i < 8; i++) lenb[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
        what = "write";
        /* fault injection for tests: a writer of a path containing this text
         * dies half-way through the tensors, as a crash or power cut would */
        const char *kill_at = getenv("VKMIST_INJECT_KILL_IN_CKPT");
        int die = kill_at && kill_at[0] && strstr(path, kill_at);
        rc = write_all(fd, lenb, 8) || write_all(fd, hdr, hlen) ? -1 : 0;
        for (size_t i = 0; !rc && i < w->nt; i++) {
            if (die && i == w->nt / 2) raise(SIGKILL);
            rc = write_all(fd, w->t[i].data, w->t[i].nbytes);
        }
        if (!rc) { what = "fsync"; rc = fsync(fd); }
    }
    int saved = errno;
    if (fd >= 0 && close(fd) < 0 && !rc) { what = "close"; rc = -1; saved = errno; }
    if (!rc) { what = "rename"; rc = rename(tmp, path); saved = errno; }
    free(hdr);
    if (rc) {
        if (fd >= 0) unlink(tmp);
        if (err && errlen) snprintf(err, errlen, "cannot write %s: %s %s: %s", path, what, tmp, strerror(saved));
        return -1;
    }
    if (sync_parent(path) < 0) {
        if (err && errlen) snprintf(err, errlen, "wrote %s but could not fsync its folder: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
