/* PNG writer on libpng (see png.h). libpng reports errors by longjmp from
 * its error callback; the callback copies the message into our context so
 * the caller gets one clear error string instead of libpng's stderr text. */
#include "io/png.h"
#include "io/util.h"
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct { jmp_buf jmp; char msg[256]; } png_errctx;

static void on_error(png_structp png, png_const_charp msg) {
    png_errctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    longjmp(c->jmp, 1);
}
static void on_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

/* Everything that libpng touches after setjmp lives in this struct, so no
 * local is modified between setjmp and longjmp (which would make it
 * indeterminate). */
typedef struct {
    const char *path, *tmp;
    const uint8_t *pix;
    int w, h, channels;
    FILE *f;
    png_structp png;
    png_infop info;
    png_errctx ec;
} png_job;

static int write_job(png_job *j) {
    j->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &j->ec, on_error, on_warning);
    if (!j->png) { snprintf(j->ec.msg, sizeof j->ec.msg, "out of memory"); return -1; }
    j->info = png_create_info_struct(j->png);
    if (!j->info) { snprintf(j->ec.msg, sizeof j->ec.msg, "out of memory"); return -1; }
    if (setjmp(j->ec.jmp)) return -1;
    png_init_io(j->png, j->f);
    png_set_IHDR(j->png, j->info, (png_uint_32)j->w, (png_uint_32)j->h, 8,
                 j->channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(j->png, j->info);
    for (int y = 0; y < j->h; y++)
        png_write_row(j->png, (png_const_bytep)(j->pix + (size_t)y * (size_t)j->w * (size_t)j->channels));
    png_write_end(j->png, j->info);
    return 0;
}

static int write_png(const char *path, const uint8_t *pix, int w, int h, int channels,
                     char *err, size_t errlen) {
    if (!path || !pix || w <= 0 || h <= 0 || w > 1000000 || h > 1000000) {
        io_err(err, errlen, "PNG %s: invalid image (%dx%d)", path ? path : "(null)", w, h);
        return -1;
    }
    char tmp[4096];
    if (io_tmp_name(tmp, sizeof tmp, path) != 0) {
        io_err(err, errlen, "PNG %s: path too long", path);
        return -1;
    }
    png_job j;
    memset(&j, 0, sizeof j);
    j.path = path; j.tmp = tmp; j.pix = pix; j.w = w; j.h = h; j.channels = channels;
    j.f = fopen(tmp, "wb");
    if (!j.f) {
        io_err(err, errlen, "cannot write PNG %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = write_job(&j);
    if (j.png) png_destroy_write_struct(&j.png, j.info ? &j.info : NULL);
    if (fflush(j.f) != 0 && rc == 0) { rc = -1; snprintf(j.ec.msg, sizeof j.ec.msg, "%s", strerror(errno)); }
    if (fclose(j.f) != 0 && rc == 0) { rc = -1; snprintf(j.ec.msg, sizeof j.ec.msg, "%s", strerror(errno)); }
    if (rc == 0 && rename(tmp, path) != 0) { rc = -1; snprintf(j.ec.msg, sizeof j.ec.msg, "rename: %s", strerror(errno)); }
    if (rc != 0) {
        unlink(tmp);
        io_err(err, errlen, "cannot write PNG %s: %s", path, j.ec.msg);
    }
    return rc;
}

int io_png_write_gray(const char *path, const uint8_t *pix, int w, int h, char *err, size_t errlen) {
    return write_png(path, pix, w, h, 1, err, errlen);
}

int io_png_write_rgb(const char *path, const uint8_t *rgb, int w, int h, char *err, size_t errlen) {
    return write_png(path, rgb, w, h, 3, err, errlen);
}
