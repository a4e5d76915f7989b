/* NIfTI writer on libnifti (see nifti_write.h). libnifti's write call
 * reports failure only on stderr, so we use the variant that leaves the file
 * open (it returns NULL on any error), close it ourselves and check that. */
#include "io/nifti_write.h"
#include "io/util.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nifti2_io.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcasecmp(s + n - m, suf);
}

/* A clear message for the common failure (missing or read-only folder)
 * before libnifti gets a chance to fail less clearly. */
static int check_dir(const char *path, char *err, size_t errlen) {
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    struct stat st;
    if (stat(dir, &st) != 0) return io_err(err, errlen, "cannot write %s: folder %s: %s", path, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return io_err(err, errlen, "cannot write %s: %s is not a folder", path, dir);
    if (access(dir, W_OK) != 0) return io_err(err, errlen, "cannot write %s: folder %s: %s", path, dir, strerror(errno));
    return 0;
}

int io_nifti_write(const char *path, const io_geom *g, const float *data, char *err, size_t errlen) {
    if (!path || !g || !data) return io_err(err, errlen, "NIfTI write: missing argument");
    if (!ends_with(path, ".nii") && !ends_with(path, ".nii.gz"))
        return io_err(err, errlen, "cannot write %s: the name must end in .nii or .nii.gz", path);
    for (int i = 1; i <= 3; i++)
        if (g->dim[i] <= 0 || g->dim[i] > IO_MAX_DIM)
            return io_err(err, errlen, "cannot write %s: invalid dims in the source geometry", path);
    if (check_dir(path, err, errlen)) return -1;
    char tmp[PATH_MAX];
    if (io_tmp_name(tmp, sizeof tmp, path)) return io_err(err, errlen, "cannot write %s: path too long", path);

    /* create the temp file ourselves: a clear error (libnifti would print
     * its own to stderr) for folders that refuse files despite access() */
    int tfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (tfd < 0) return io_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
    close(tfd);

    int64_t dims[8] = {3, g->dim[1], g->dim[2], g->dim[3], 1, 1, 1, 1};
    nifti_set_debug_level(0);
    nifti_image *nim = nifti_make_new_nim(dims, NIFTI_TYPE_FLOAT32, 0);
    if (!nim) { unlink(tmp); return io_err(err, errlen, "cannot write %s: out of memory", path); }
    nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
    for (int i = 1; i <= 3; i++) nim->pixdim[i] = g->pixdim[i];
    nim->dx = g->pixdim[1]; nim->dy = g->pixdim[2]; nim->dz = g->pixdim[3];
    nim->qform_code = g->qform_code;
    nim->sform_code = g->sform_code;
    nim->quatern_b = g->quatern_b; nim->quatern_c = g->quatern_c; nim->quatern_d = g->quatern_d;
    nim->qoffset_x = g->qoffset_x; nim->qoffset_y = g->qoffset_y; nim->qoffset_z = g->qoffset_z;
    nim->qfac = g->qfac < 0 ? -1 : 1;
    nim->pixdim[0] = nim->qfac;
    memcpy(nim->qto_xyz.m, g->qto_xyz, sizeof g->qto_xyz);
    memcpy(nim->sto_xyz.m, g->sto_xyz, sizeof g->sto_xyz);
    nim->xyz_units = g->xyz_units;
    nim->time_units = g->time_units;
    nim->scl_slope = 1;
    nim->scl_inter = 0;
    snprintf(nim->descrip, sizeof nim->descrip, "vkmist");
    int rc = 0;
    if (nifti_set_filenames(nim, tmp, 0, 1) != 0) {
        rc = io_err(err, errlen, "cannot write %s: libnifti refused the file name", path);
    } else {
        /* libnifti writes the header; the data we write ourselves, because
         * libnifti ignores a failed data write (disk full) when leaving the
         * file open, and a short file would then be renamed into place */
        znzFile fp = nifti_image_write_hdr_img(nim, 2 /* header only, leave open */, "wb");
        if (!fp) rc = io_err(err, errlen, "cannot write %s: writing the header failed (disk full or I/O error?)", path);
        size_t left = (size_t)nim->nvox * sizeof(float);
        const char *p = (const char *)data;
        while (!rc && left) {
            size_t chunk = left < (1u << 30) ? left : (1u << 30);
            errno = 0;
            if (znzwrite(p, 1, chunk, fp) != chunk)
                rc = io_err(err, errlen, "cannot write %s: %s", path, errno ? strerror(errno) : "short write");
            p += chunk;
            left -= chunk;
        }
        if (fp && znzclose(fp) != 0 && !rc)
            rc = io_err(err, errlen, "cannot write %s: closing failed: %s", path, strerror(errno));
    }
    nifti_image_free(nim);
    if (!rc) { /* make the data durable before the rename publishes it */
        int fd = open(tmp, O_RDONLY);
        if (fd < 0 || fsync(fd) != 0) rc = io_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
    }
    if (!rc && rename(tmp, path) != 0) rc = io_err(err, errlen, "cannot write %s: rename: %s", path, strerror(errno));
    if (rc) unlink(tmp);
    return rc;
}

int io_nifti_write_ras(const char *path, const io_geom *g, const io_orient *o, const float *ras,
                       char *err, size_t errlen) {
    int dims[3] = {(int)g->dim[1], (int)g->dim[2], (int)g->dim[3]}, rd[3];
    for (int c = 0; c < 3; c++) {
        if (dims[c] <= 0 || dims[c] > IO_MAX_DIM) return io_err(err, errlen, "cannot write %s: invalid dims", path);
        rd[o->axis[c]] = dims[c];
    }
    float *stored = malloc((size_t)dims[0] * dims[1] * dims[2] * sizeof *stored);
    if (!stored) return io_err(err, errlen, "cannot write %s: out of memory", path);
    io_reorient_from_ras(ras, rd, o, stored);
    int rc = io_nifti_write(path, g, stored, err, errlen);
    free(stored);
    return rc;
}
