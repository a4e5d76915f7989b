/* Shared io/ helpers (see util.h). */
#include "io/util.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int io_err(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int io_tmp_name(char *out, size_t outlen, const char *path) {
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    const char *base = slash ? slash + 1 : path;
    int n = snprintf(out, outlen, "%.*s.tmp-%ld-%s", dirlen, path, (long)getpid(), base);
    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}
