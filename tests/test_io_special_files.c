/* Every reader handed something that is not a regular file (a FIFO with no
 * writer, a folder) where it expects one: a clear error naming the file,
 * never a hang (a FIFO blocks a plain open until a writer comes). The alarm
 * turns a hang into a failure. */
#include "io/cache_internal.h"
#include "io/discover.h"
#include "io/split.h"
#include "io/volume.h"
#include "tests/testutil.h"
#include "train/checkpoint.h"
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void expect(int rc, const char *err, const char *path, const char *what) {
    TU_CHECK(rc != 0, "%s: %s was accepted", what, path);
    TU_CHECK(strstr(err, path) != NULL, "%s: error does not name the file: %s", what, err);
}

static void readers_on(const char *path) {
    char err[1024] = "";
    ckpt_reader *r = ckpt_open(path, err, sizeof err);
    expect(r != NULL ? 0 : -1, err, path, "ckpt_open");
    ckpt_close(r);
    io_split s;
    err[0] = 0;
    expect(io_split_load(path, &s, err, sizeof err), err, path, "io_split_load");
    io_volume v;
    err[0] = 0;
    expect(io_volume_read(path, &v, err, sizeof err), err, path, "io_volume_read");
    io_volume_free(&v);
    io_cache *c = calloc(1, sizeof *c);
    io_prep_params p = io_prep_defaults(32);
    char why[256] = "";
    TU_CHECK(c && io_cache_try_open(path, "{}", &p, c, why, sizeof why) != 0 && why[0], "cache: %s accepted", path);
    free(c);
}

int main(void) {
    alarm(120);
    char fifo[600], dir[600], root[600], p[800], err[1024];
    snprintf(fifo, sizeof fifo, "%s/fifo", tu_tmpdir());
    TU_CHECK(mkfifo(fifo, 0600) == 0, "mkfifo");
    readers_on(fifo);
    snprintf(dir, sizeof dir, "%s/folder.nii", tu_tmpdir());
    mkdir(dir, 0755);
    readers_on(dir);
    /* discovery skips a FIFO named like a modality file */
    snprintf(root, sizeof root, "%s/data", tu_tmpdir());
    mkdir(root, 0755);
    snprintf(p, sizeof p, "%s/c_t1.nii", root);
    TU_CHECK(mkfifo(p, 0600) == 0, "mkfifo");
    io_caselist cl;
    TU_CHECK(io_discover(root, &cl, err, sizeof err) == 0 && cl.n == 0 && cl.n_incomplete == 0,
             "discover with a FIFO: %s", err);
    io_caselist_free(&cl);
    return tu_finish("test_io_special_files");
}
