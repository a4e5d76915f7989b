/* `vkmist data` end to end: usage errors exit 2, --help 0, a synthetic
 * folder lists complete and incomplete cases and builds then reuses the
 * slice cache, with a PNG preview. */
#include "tests/test_io_data.h"
#include "tests/testutil.h"
#include <sys/stat.h>
#include <sys/wait.h>

/* Runs `vkmist ARGS` with output captured into *out (malloc'd); returns the exit code. */
static int run(const char *args, char **out) {
    char cmd[2048], log[700];
    snprintf(log, sizeof log, "%s/cmd.log", tu_tmpdir());
    snprintf(cmd, sizeof cmd, "'%s' %s > '%s' 2>&1", tu_vkmist_bin(), args, log);
    int st = system(cmd);
    *out = NULL;
    FILE *f = fopen(log, "rb");
    if (f) {
        *out = calloc(1, 1 << 16);
        if (*out) { size_t n = fread(*out, 1, (1 << 16) - 1, f); (*out)[n] = 0; }
        fclose(f);
    }
    if (!*out) *out = calloc(1, 1);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static double blob(int64_t i, void *u) {
    (void)u;
    int x = (int)(i % 30), y = (int)(i / 30 % 30);
    return (x - 15) * (x - 15) + (y - 15) * (y - 15) < 64 ? 50 + x : 0;
}

int main(void) {
    const char *tmp = tu_tmpdir();
    char root[600], p[800], args[2048];
    snprintf(root, sizeof root, "%s/d", tmp);
    mkdir(root, 0755);
    static const char *s23[4] = {"t1n", "t1c", "t2w", "t2f"};
    for (int c = 0; c < 2; c++) {
        snprintf(p, sizeof p, "%s/BraTS-GLI-0000%d-000", root, c);
        mkdir(p, 0755);
        for (int d = 0; d < 4; d++) {
            if (c == 1 && d == 1) continue; /* case 1 lacks t1c */
            snprintf(p, sizeof p, "%s/BraTS-GLI-0000%d-000/BraTS-GLI-0000%d-000-%s.nii.gz", root, c, c, s23[d]);
            TU_CHECK(tio_write(p, DT_INT16, 30, 30, 4, 1, TIO_LPS, 1, 0, blob, NULL) == 0, "write");
        }
    }
    char *out;
    TU_CHECK(run("data --help", &out) == 0 && strstr(out, "usage: vkmist data"), "--help: %s", out);
    free(out);
    TU_CHECK(run("data", &out) == 2 && strstr(out, "--data DIR is required"), "no --data: %s", out);
    free(out);
    TU_CHECK(run("data --data . --norm zscore", &out) == 2 && strstr(out, "percentile or minmax"), "bad norm: %s", out);
    free(out);
    TU_CHECK(run("data --data /nonexistent/x", &out) == 1 && strstr(out, "/nonexistent/x"), "missing dir: %s", out);
    free(out);
    snprintf(args, sizeof args, "data --data '%s' --img 32 --cache-dir '%s/c' --preview '%s/p.png'", root, tmp, tmp);
    TU_CHECK(run(args, &out) == 0, "data: %s", out);
    TU_CHECK(strstr(out, "1 complete case, 1 incomplete") && strstr(out, "BraTS-GLI-00001-000") && strstr(out, "missing t1ce"),
             "listing: %s", out);
    TU_CHECK(strstr(out, "4 slices from 1 cases") && strstr(out, "built in"), "cache built: %s", out);
    free(out);
    snprintf(p, sizeof p, "%s/p.png", tmp);
    TU_CHECK(tio_file_size(p) > 100, "preview written");
    TU_CHECK(run(args, &out) == 0 && strstr(out, "reused"), "reuse: %s", out);
    free(out);
    return tu_finish("test_io_cmd_data");
}
