/* Small helpers shared by the io/ modules: error strings into caller
 * buffers and temp-file names for write-then-rename. */
#pragma once
#include <stddef.h>

/* printf into err (if err && errlen); always returns -1 for `return io_err(...)`. */
int io_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "<dir>/.tmp-<pid>-<base>" next to path: same file system, so rename is
 * atomic, and the name keeps path's extension (libnifti picks gzip from
 * ".nii.gz"). Returns 0, or -1 when it does not fit. */
int io_tmp_name(char *out, size_t outlen, const char *path);
