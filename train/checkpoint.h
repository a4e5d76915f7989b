/* Training checkpoints as safetensors files (8-byte little-endian header
 * length, JSON header, raw little-endian tensor data), readable by Python's
 * `safetensors`. vkmist adds to "__metadata__" a format version and CRC-32s of
 * the tensor data and of the header itself, so any damage is refused rather
 * than resumed from. Files are written to "<path>.tmp.<pid>", fsynced and
 * renamed, so a crash leaves either the old or the new file, never half of
 * one (tests check this with VKMIST_INJECT_KILL_IN_CKPT=TEXT: the writer of
 * a path containing TEXT SIGKILLs itself half-way through the data). Run
 * directories keep them as RUN/ckpt/step_<8-digit step>.safetensors. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define CKPT_MAX_DIM 8
#define CKPT_FORMAT_VERSION "1"

typedef enum {
    CKPT_F64, CKPT_F32, CKPT_F16, CKPT_BF16,
    CKPT_I64, CKPT_I32, CKPT_I16, CKPT_I8,
    CKPT_U64, CKPT_U32, CKPT_U16, CKPT_U8, CKPT_BOOL,
    CKPT_NDTYPE
} ckpt_dtype;

const char *ckpt_dtype_name(ckpt_dtype t);  /* "F32", ... */
size_t ckpt_dtype_size(ckpt_dtype t);       /* bytes per element */

/* ---- writing ---- */
typedef struct ckpt_writer ckpt_writer;

ckpt_writer *ckpt_begin(void);              /* NULL only when out of memory */
/* Adds a tensor (the data is copied; shape may be NULL when ndim == 0, a
 * scalar). Names must be unique and non-empty. Returns 0, or -1 and remembers
 * the first error, which ckpt_write then reports; so a run of adds may be
 * checked once, at the write. */
int ckpt_add(ckpt_writer *w, const char *name, ckpt_dtype dtype, const void *data,
             const int64_t *shape, int ndim);
/* As ckpt_add but borrows data: it must stay valid and unchanged until
 * ckpt_write returns (saves a copy of large parameter sets). */
int ckpt_add_borrowed(ckpt_writer *w, const char *name, ckpt_dtype dtype, const void *data,
                      const int64_t *shape, int ndim);
int ckpt_add_f32(ckpt_writer *w, const char *name, const float *data, const int64_t *shape, int ndim);
int ckpt_add_u32(ckpt_writer *w, const char *name, const uint32_t *data, const int64_t *shape, int ndim);
int ckpt_add_u64(ckpt_writer *w, const char *name, const uint64_t *data, const int64_t *shape, int ndim);
/* A "__metadata__" string (JSON-valued metadata such as the config goes in as
 * JSON text). Setting a key again replaces its value; keys starting with
 * "vkmist_" are reserved for the file's own checks. */
int ckpt_meta(ckpt_writer *w, const char *key, const char *value);
/* Writes the file atomically (temp file, fsync, rename, fsync of the
 * directory). The writer may be written again or freed afterwards. */
int ckpt_write(ckpt_writer *w, const char *path, char *err, size_t errlen);
void ckpt_free(ckpt_writer *w);

/* ---- reading ---- */
typedef struct ckpt_reader ckpt_reader;

typedef struct {
    const char *name;
    ckpt_dtype dtype;
    int ndim;
    int64_t shape[CKPT_MAX_DIM];
    int64_t numel;
    uint64_t nbytes;
    const void *data;    /* into the mapped file; not necessarily aligned */
} ckpt_tensor;

/* Maps and validates the whole file: size, header length, JSON, every
 * tensor's dtype/shape/offsets (inside the data section, sized dtype x shape,
 * no overlaps or gaps), the format version and both checksums. NULL with err
 * naming the file and the problem when anything is wrong. */
ckpt_reader *ckpt_open(const char *path, char *err, size_t errlen);
void ckpt_close(ckpt_reader *r);
const char *ckpt_reader_path(const ckpt_reader *r);
int ckpt_count(const ckpt_reader *r);                     /* tensors, in file order */
const ckpt_tensor *ckpt_tensor_at(const ckpt_reader *r, int i);
const ckpt_tensor *ckpt_find(const ckpt_reader *r, const char *name);  /* NULL if absent */
/* Copies tensor `name` to out after checking it exists, has `dtype` and
 * expect_numel elements (-1 on mismatch, with an error naming both). */
int ckpt_read(const ckpt_reader *r, const char *name, ckpt_dtype dtype, void *out,
              int64_t expect_numel, char *err, size_t errlen);
int ckpt_read_f32(const ckpt_reader *r, const char *name, float *out, int64_t expect_numel,
                  char *err, size_t errlen);
int ckpt_read_u32(const ckpt_reader *r, const char *name, uint32_t *out, int64_t expect_numel,
                  char *err, size_t errlen);
int ckpt_read_u64(const ckpt_reader *r, const char *name, uint64_t *out, int64_t expect_numel,
                  char *err, size_t errlen);
/* A "__metadata__" value, NULL if absent; valid until ckpt_close. */
const char *ckpt_meta_get(const ckpt_reader *r, const char *key);

/* ---- run directories ---- */
/* RUN/ckpt/step_<8-digit step>.safetensors into out (-1 if it does not fit). */
int ckpt_step_path(char *out, size_t outlen, const char *run_dir, long step);
/* Creates RUN and RUN/ckpt if missing. */
int ckpt_prepare_dir(const char *run_dir, char *err, size_t errlen);
/* The steps of RUN/ckpt/step_*.safetensors, ascending (temp files and other
 * names ignored); *steps is malloc'd (NULL when *n == 0). A missing ckpt
 * folder is an empty list. */
int ckpt_list(const char *run_dir, long **steps, size_t *n, char *err, size_t errlen);
/* Deletes all but the newest keep_last checkpoints, and temp files left by
 * writers that are no longer running. Returns how many files were removed. */
int ckpt_prune(const char *run_dir, int keep_last, char *err, size_t errlen);

/* The usual save: ckpt_prepare_dir, ckpt_write to ckpt_step_path, then (when
 * keep_last > 0) ckpt_prune, whose failures only warn on stderr. */
int ckpt_save_step(ckpt_writer *w, const char *run_dir, long step, int keep_last, char *err, size_t errlen);

enum { CKPT_FOUND = 0, CKPT_NONE = 1, CKPT_ALL_DAMAGED = 2, CKPT_ERROR = -1 };
/* The newest checkpoint that opens cleanly; each damaged newer one is reported
 * on stderr and skipped. Returns CKPT_FOUND (path_out, *step_out and, when
 * reader_out is given, the open reader are set), CKPT_NONE (no checkpoint at
 * all), CKPT_ALL_DAMAGED (err says so) or CKPT_ERROR (err set). */
int ckpt_latest_good(const char *run_dir, char *path_out, size_t path_len, long *step_out,
                     ckpt_reader **reader_out, char *err, size_t errlen);
