/* ctest: faults and bad input end to end through `vkmist` (RELIABILITY.md):
 * SIGKILL after a checkpoint and in the middle of writing one (--resume
 * continues from the last whole checkpoint); a full disk while writing a
 * checkpoint or an imputed volume (a small tmpfs in a private mount
 * namespace, else RLIMIT_FSIZE); a read-only output folder; a config too
 * large for the device; truncated checkpoints and slice caches; NaN voxels
 * in input volumes. Each must end with a clear error or a warning, and leave
 * every earlier file as it was. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include "io/discover.h"
#include "io/nifti_write.h"
#include "io/volume.h"
#include "tests/testutil.h"
#include "train/checkpoint.h"

static char T[600], data[700], args[4000], out[16384];
static const io_case *kase; /* the case whose T1, T1ce, T2 are imputed from */
static char model[900];     /* a checkpoint of config test */

/* ---- small helpers ---- */

static long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f) return NULL;
    long sz = file_size(path);
    unsigned char *b = malloc(sz > 0 ? (size_t)sz : 1);
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) { free(b); b = NULL; }
    fclose(f);
    if (b) *n = (size_t)sz;
    return b;
}

static int same_bytes(const unsigned char *a, size_t na, const char *path) {
    size_t nb;
    unsigned char *b = slurp(path, &nb);
    int same = a && b && na == nb && !memcmp(a, b, na);
    free(b);
    return same;
}

/* Files in dir whose name contains ".tmp" (a writer's leftovers). */
static int count_tmp(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, ".tmp") != NULL;
    if (d) closedir(d);
    return n;
}

/* The newest good checkpoint step of a run (-1: none). */
static long good_step(const char *run) {
    char p[1200], err[512];
    long step = -1;
    return ckpt_latest_good(run, p, sizeof p, &step, NULL, err, sizeof err) == CKPT_FOUND ? step : -1;
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return tu_run_cli(args, out, sizeof out);
}

#define TRAIN "train --data %s --config test --sample-every 0 --seed 5 "

/* ---- SIGKILL ---- */

/* Kills a run as soon as its first checkpoint exists; --resume continues from
 * that checkpoint's iteration and the log has each iteration exactly once. */
static void kill_after_checkpoint(void) {
    char rdir[800];
    snprintf(rdir, sizeof rdir, "%s/kill", T);
    pid_t pid = fork();
    if (pid == 0) {
        execl(tu_vkmist_bin(), "vkmist", "train", "--data", data, "--out", rdir, "--config", "test", "--iters", "1000",
              "--ckpt-every", "3", "--sample-every", "0", "--seed", "5", "--quiet", (char *)NULL);
        _exit(127);
    }
    long step = -1;
    for (int i = 0; i < 6000 && step < 0; i++) { /* up to 5 minutes (the ASan build is slow) */
        struct timespec ts = {0, 50000000L};
        nanosleep(&ts, NULL);
        step = good_step(rdir);
    }
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    TU_CHECK(WIFSIGNALED(st), "the run ended before it was killed (status %d)", st);
    TU_CHECK(step >= 3, "no checkpoint appeared");
    long at_kill = good_step(rdir);
    long end = at_kill + 3;
    int rc = run(TRAIN "--out %s --iters %ld --ckpt-every 3 --resume", data, rdir, end);
    char want[64];
    snprintf(want, sizeof want, "(iteration %ld)", at_kill);
    TU_CHECK(rc == 0 && strstr(out, want), "resume after SIGKILL: exit %d, wanted \"%s\": %s", rc, want, out);
    TU_CHECK(good_step(rdir) == end, "resumed run did not reach %ld (newest %ld)", end, good_step(rdir));
    /* train.csv: one row per iteration 1..end, the killed run's extra rows dropped */
    char csv[900];
    snprintf(csv, sizeof csv, "%s/train.csv", rdir);
    FILE *f = fopen(csv, "r");
    long rows = 0, last = 0, ok = 1;
    char line[4096];
    while (f && fgets(line, sizeof line, f))
        if (line[0] >= '0' && line[0] <= '9') {
            long s = atol(line);
            ok &= s == last + 1;
            last = s;
            rows++;
        }
    if (f) fclose(f);
    TU_CHECK(ok && rows == end, "train.csv after resume: %ld rows, last %ld (want 1..%ld)", rows, last, end);
    printf("SIGKILL after checkpoint %ld (first seen %ld): resumed from it to %ld, train.csv rows 1..%ld\n", at_kill,
           step, end, last);
}

/* VKMIST_INJECT_KILL_IN_CKPT kills the writer half-way through checkpoint 6:
 * checkpoint 3 is intact and resumed from, the half file is never listed and
 * the next save removes it. */
static void kill_in_checkpoint_write(void) {
    char rdir[800], cdir[900];
    snprintf(rdir, sizeof rdir, "%s/midwrite", T);
    snprintf(cdir, sizeof cdir, "%s/ckpt", rdir);
    setenv("VKMIST_INJECT_KILL_IN_CKPT", "step_00000006", 1);
    int rc = run(TRAIN "--out %s --iters 9 --ckpt-every 3 --quiet", data, rdir);
    unsetenv("VKMIST_INJECT_KILL_IN_CKPT");
    TU_CHECK(rc != 0, "the writer was not killed: exit %d: %s", rc, out);
    int tmp = count_tmp(cdir);
    long *steps = NULL;
    size_t n = 0;
    char err[512];
    ckpt_list(rdir, &steps, &n, err, sizeof err);
    TU_CHECK(n == 1 && steps[0] == 3 && good_step(rdir) == 3 && tmp == 1,
             "after the kill: %zu checkpoints listed, newest good %ld, %d temp files", n, good_step(rdir), tmp);
    free(steps);
    rc = run(TRAIN "--out %s --iters 9 --ckpt-every 3 --resume", data, rdir);
    TU_CHECK(rc == 0 && strstr(out, "step_00000003") && strstr(out, "(iteration 3)"), "resume: exit %d: %s", rc, out);
    TU_CHECK(good_step(rdir) == 9 && count_tmp(cdir) == 0, "after resume: newest %ld, %d temp files left",
             good_step(rdir), count_tmp(cdir));
    printf("SIGKILL half-way through writing checkpoint 6: checkpoint 3 intact (%d partial temp file, unlisted), "
           "resumed from 3 to 9, temp file pruned\n", tmp);
}

/* ---- a small file system: tmpfs in our own mount namespace, else RLIMIT_FSIZE ---- */

typedef struct {
    int tmpfs;          /* 1: dir is a tmpfs we can resize; 0: RLIMIT_FSIZE */
    char dir[800];
} smallfs;

static void smallfs_init(smallfs *s, int can_mount) {
    snprintf(s->dir, sizeof s->dir, "%s/small", T);
    mkdir(s->dir, 0755);
    s->tmpfs = can_mount && mount("vkmist-test", s->dir, "tmpfs", 0, "size=64m") == 0;
    printf("disk-full tests use %s\n", s->tmpfs ? "a tmpfs in a private mount namespace"
                                                 : "RLIMIT_FSIZE (mounting not permitted, or VKMIST_TEST_NO_MOUNT)");
}

/* From now on about `spare` bytes can be written (per file, with RLIMIT_FSIZE). */
static void smallfs_limit(smallfs *s, long spare) {
    if (s->tmpfs) {
        struct statvfs v;
        statvfs(s->dir, &v);
        long used = (long)((v.f_blocks - v.f_bfree) * v.f_frsize);
        char opt[64];
        snprintf(opt, sizeof opt, "size=%ld", used + spare);
        TU_CHECK(mount(NULL, s->dir, NULL, MS_REMOUNT, opt) == 0, "remount %s: %s", opt, strerror(errno));
    } else {
        struct rlimit r;
        getrlimit(RLIMIT_FSIZE, &r);
        r.rlim_cur = (rlim_t)spare;
        signal(SIGXFSZ, SIG_IGN); /* inherited: writes fail with EFBIG instead of killing */
        TU_CHECK(setrlimit(RLIMIT_FSIZE, &r) == 0, "setrlimit: %s", strerror(errno));
    }
}

static void smallfs_unlimit(smallfs *s) {
    if (s->tmpfs) {
        TU_CHECK(mount(NULL, s->dir, NULL, MS_REMOUNT, "size=64m") == 0, "remount: %s", strerror(errno));
    } else {
        struct rlimit r;
        getrlimit(RLIMIT_FSIZE, &r);
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_FSIZE, &r);
    }
}

static const char *full_msg(const smallfs *s) { return s->tmpfs ? "No space left on device" : "File too large"; }

/* Checkpoint 2 written, then the disk fills: saving checkpoint 4 fails with a
 * clear error, checkpoint 2 stays intact, no temp file is left, and once
 * there is space again --resume continues from 2. */
static void disk_full_checkpoint(smallfs *s) {
    char rdir[900], ck[1200];
    snprintf(rdir, sizeof rdir, "%s/run", s->dir);
    int rc = run(TRAIN "--out %s --iters 2 --ckpt-every 2 --quiet", data, rdir);
    TU_CHECK(rc == 0 && good_step(rdir) == 2, "first run: exit %d: %s", rc, out);
    ckpt_step_path(ck, sizeof ck, rdir, 2);
    size_t n2;
    unsigned char *c2 = slurp(ck, &n2);
    smallfs_limit(s, (long)n2 / 2);
    rc = run(TRAIN "--out %s --iters 4 --ckpt-every 2 --resume --quiet", data, rdir);
    smallfs_unlimit(s);
    TU_CHECK(rc == 1 && strstr(out, "cannot write") && strstr(out, "step_00000004") && strstr(out, full_msg(s)),
             "checkpoint on a full disk: exit %d: %s", rc, out);
    printf("checkpoint on a full disk: %s", out);
    char cdir[1000];
    snprintf(cdir, sizeof cdir, "%s/ckpt", rdir);
    TU_CHECK(same_bytes(c2, n2, ck) && good_step(rdir) == 2 && count_tmp(cdir) == 0,
             "checkpoint 2 changed or temp files left (%d) after the failed save", count_tmp(cdir));
    free(c2);
    rc = run(TRAIN "--out %s --iters 4 --ckpt-every 2 --resume", data, rdir);
    TU_CHECK(rc == 0 && strstr(out, "(iteration 2)") && good_step(rdir) == 4, "resume with space again: exit %d: %s",
             rc, out);
    snprintf(model, sizeof model, "%s/model.safetensors", T);
    ckpt_step_path(ck, sizeof ck, rdir, 4);
    snprintf(args, sizeof args, "cp %s %s", ck, model);
    TU_CHECK(system(args) == 0, "cp %s", ck);
}

static int impute_to(const char *dst) {
    return run("impute --model %s --t1 %s --t1ce %s --t2 %s --out %s", model, kase->path[0], kase->path[1],
               kase->path[2], dst);
}

/* An imputed volume that does not fit: a clear error, the previous output
 * under that name unchanged, no temp file. */
static void disk_full_impute(smallfs *s) {
    static const char *const names[2] = {"out.nii", "out.nii.gz"};
    for (int k = 0; k < 2; k++) {
        char dst[1000];
        snprintf(dst, sizeof dst, "%s/%s", s->dir, names[k]);
        int rc = impute_to(dst);
        TU_CHECK(rc == 0, "impute %s: exit %d: %s", names[k], rc, out);
        size_t n;
        unsigned char *before = slurp(dst, &n);
        smallfs_limit(s, 4096);
        rc = impute_to(dst);
        smallfs_unlimit(s);
        TU_CHECK(rc == 1 && strstr(out, "cannot write") && strstr(out, dst), "%s on a full disk: exit %d: %s",
                 names[k], rc, out);
        TU_CHECK(same_bytes(before, n, dst) && count_tmp(s->dir) == 0,
                 "%s: the previous output changed or a temp file is left (%d)", names[k], count_tmp(s->dir));
        printf("%s on a full disk (previous %zu bytes kept): %s", names[k], n, out);
        free(before);
    }
}

/* ---- read-only output folders ---- */

/* Runs `vkmist ARGS` in a child that has lost CAP_DAC_OVERRIDE and
 * CAP_DAC_READ_SEARCH (root otherwise ignores permission bits); for other
 * users the bits apply anyway. -2: cannot drop them. */
static int run_unprivileged(void) {
    int fd[2];
    if (pipe(fd)) return -2;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        if (geteuid() == 0 && (prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) ||
                               prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH, 0, 0, 0)))
            _exit(200);
        int rc = tu_run_cli(args, out, sizeof out);
        size_t len = strlen(out);
        _exit(write(fd[1], out, len) == (ssize_t)len ? rc : 201);
    }
    close(fd[1]);
    size_t n = 0;
    for (ssize_t k; n < sizeof out - 1 && (k = read(fd[0], out + n, sizeof out - 1 - n)) > 0;) n += (size_t)k;
    out[n] = 0;
    close(fd[0]);
    int st;
    waitpid(pid, &st, 0);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return rc == 200 ? -2 : rc;
}

static void read_only(void) {
    char ro[800], rdir[900], cdir[1000];
    snprintf(ro, sizeof ro, "%s/readonly", T);
    mkdir(ro, 0755);
    snprintf(rdir, sizeof rdir, "%s/kill", T); /* the resumed run of kill_after_checkpoint */
    snprintf(cdir, sizeof cdir, "%s/ckpt", rdir);
    snprintf(args, sizeof args, "chmod 0555 %s && chmod -R a-w %s", ro, rdir);
    TU_CHECK(system(args) == 0, "chmod");
    long before = good_step(rdir);
    char ck[1200];
    ckpt_step_path(ck, sizeof ck, rdir, before);
    size_t n;
    unsigned char *cb = slurp(ck, &n);

    snprintf(args, sizeof args, TRAIN "--out %s/run --iters 2 --quiet", data, ro);
    int rc = run_unprivileged();
    if (rc == -2) {
        printf("read-only tests skipped: cannot drop CAP_DAC_OVERRIDE here\n");
        free(cb);
        return;
    }
    TU_CHECK(rc == 1 && strstr(out, "cannot create the run directory") && strstr(out, "Permission denied"),
             "train into a read-only folder: exit %d: %s", rc, out);
    printf("train into a read-only folder: %s", out);
    snprintf(args, sizeof args, TRAIN "--out %s --iters %ld --resume --quiet", data, rdir, before + 3);
    rc = run_unprivileged();
    TU_CHECK(rc == 1 && strstr(out, "Permission denied"), "resume in a read-only run: exit %d: %s", rc, out);
    TU_CHECK(good_step(rdir) == before && same_bytes(cb, n, ck), "the read-only run's checkpoint changed");
    printf("resume in a read-only run folder: %s", out);
    snprintf(args, sizeof args, "impute --model %s --t1 %s --t1ce %s --t2 %s --out %s/x.nii.gz", model, kase->path[0],
             kase->path[1], kase->path[2], ro);
    rc = run_unprivileged();
    TU_CHECK(rc == 1 && strstr(out, "cannot write") && strstr(out, "Permission denied"),
             "impute into a read-only folder: exit %d: %s", rc, out);
    printf("impute into a read-only folder: %s", out);
    snprintf(args, sizeof args, "chmod -R u+w %s %s", ro, rdir);
    TU_CHECK(system(args) == 0, "chmod back");
    free(cb);
}

/* ---- device memory ---- */

/* VKMIST_DEVICE_MEMORY_LIMIT_MB makes the device too small for config test:
 * training (4 MiB) and imputing (1 MiB) stop with an error naming the
 * config, and write nothing. */
static void device_memory(void) {
    char rdir[800];
    snprintf(rdir, sizeof rdir, "%s/oom", T);
    setenv("VKMIST_DEVICE_MEMORY_LIMIT_MB", "4", 1);
    int rc = run(TRAIN "--out %s --iters 2 --quiet", data, rdir);
    TU_CHECK(rc == 1 && strstr(out, "config test") && strstr(out, "out of device memory"),
             "train over the device memory: exit %d: %s", rc, out);
    TU_CHECK(good_step(rdir) == -1, "a checkpoint was written");
    printf("train, config too large for the device: %s", out);
    char dst[800];
    snprintf(dst, sizeof dst, "%s/oom.nii.gz", T);
    setenv("VKMIST_DEVICE_MEMORY_LIMIT_MB", "1", 1);
    rc = impute_to(dst);
    TU_CHECK(rc == 1 && strstr(out, "config test") && strstr(out, "out of device memory") && file_size(dst) < 0,
             "impute over the device memory: exit %d: %s", rc, out);
    printf("impute, config too large for the device: %s", out);
    unsetenv("VKMIST_DEVICE_MEMORY_LIMIT_MB");
}

/* ---- damaged checkpoints and caches ---- */

static void damaged_files(void) {
    char rdir[800], ck[1200], ck2[1200];
    snprintf(rdir, sizeof rdir, "%s/midwrite", T); /* checkpoints 3, 6, 9 */
    ckpt_step_path(ck, sizeof ck, rdir, 9);
    ckpt_step_path(ck2, sizeof ck2, rdir, 6);
    /* truncated newest: --resume falls back to the one before */
    TU_CHECK(truncate(ck, file_size(ck) / 2) == 0, "truncate");
    int rc = run(TRAIN "--out %s --iters 9 --ckpt-every 3 --resume", data, rdir);
    TU_CHECK(rc == 0 && strstr(out, "step_00000009") && strstr(out, "(iteration 6)"),
             "resume past a truncated checkpoint: exit %d: %s", rc, out);
    printf("resume past a truncated newest checkpoint: %s", out);
    /* every checkpoint damaged: refused, nothing started over them */
    char cdir[900];
    snprintf(cdir, sizeof cdir, "%s/ckpt", rdir);
    DIR *d = opendir(cdir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strstr(e->d_name, ".safetensors")) {
            char p[1200];
            snprintf(p, sizeof p, "%s/%s", cdir, e->d_name);
            TU_CHECK(truncate(p, 100) == 0, "truncate %s", p);
        }
    if (d) closedir(d);
    rc = run(TRAIN "--out %s --iters 12 --ckpt-every 3 --resume --quiet", data, rdir);
    TU_CHECK(rc == 1 && strstr(out, "are damaged"), "resume with every checkpoint damaged: exit %d: %s", rc, out);
    TU_CHECK(file_size(ck) == 100 && file_size(ck2) == 100, "damaged checkpoints were replaced");
    printf("resume with every checkpoint damaged: %s", out);
    /* impute refuses a truncated model, naming it */
    rc = run("impute --model %s --t1 %s --t1ce %s --t2 %s --out %s/never.nii.gz", ck, kase->path[0], kase->path[1],
             kase->path[2], T);
    char never[900];
    snprintf(never, sizeof never, "%s/never.nii.gz", T);
    TU_CHECK(rc == 1 && strstr(out, ck) && file_size(never) < 0, "impute with a truncated model: exit %d: %s", rc, out);
    printf("impute with a truncated model: %s", out);

    /* the slice cache truncated, then a flipped byte: rebuilt, training goes on */
    char vdir[900];
    snprintf(vdir, sizeof vdir, "%s/cache/vkmist", T);
    for (int k = 0; k < 2; k++) {
        char cache[1200] = "";
        d = opendir(vdir);
        for (struct dirent *e; d && (e = readdir(d));)
            if (strstr(e->d_name, "slices")) snprintf(cache, sizeof cache, "%s/%s", vdir, e->d_name);
        if (d) closedir(d);
        long sz = file_size(cache);
        TU_CHECK(sz > 0, "no slice cache in %s", vdir);
        if (sz <= 0) return;
        if (k == 0) {
            TU_CHECK(truncate(cache, sz / 2) == 0, "truncate cache");
        } else {
            FILE *f = fopen(cache, "r+b");
            if (f) fseek(f, sz / 2, SEEK_SET), fputc(fgetc(f) ^ 0x40, f), fclose(f);
        }
        snprintf(rdir, sizeof rdir, "%s/cache_run%d", T, k);
        rc = run(TRAIN "--out %s --iters 1", data, rdir);
        TU_CHECK(rc == 0 && strstr(out, "building slice cache") && strstr(out, "damaged") && good_step(rdir) == 1,
                 "training over a %s cache: exit %d: %s", k ? "corrupted" : "truncated", rc, out);
        const char *why = strstr(out, "building slice cache");
        printf("%s slice cache: %.*s\n", k ? "corrupted" : "truncated", why ? (int)strcspn(why, "\n") : 0,
               why ? why : "");
    }
}

/* ---- NaN voxels ---- */

static void nan_voxels(void) {
    /* a copy of the data set whose T2 volumes hold NaN and Inf voxels */
    char ndata[800], err[1024];
    snprintf(ndata, sizeof ndata, "%s/nandata", T);
    io_caselist cl;
    TU_CHECK(io_discover(data, &cl, err, sizeof err) == 0, "discover: %s", err);
    mkdir(ndata, 0755);
    char nan_t2[1200] = "";
    for (int i = 0; i < cl.n; i++) {
        char cdir[1000];
        snprintf(cdir, sizeof cdir, "%s/%s", ndata, cl.cases[i].id);
        mkdir(cdir, 0755);
        for (int d = 0; d < 4; d++) {
            const char *src = cl.cases[i].path[d], *base = strrchr(src, '/') + 1;
            char dst[1200];
            snprintf(dst, sizeof dst, "%s/%s", cdir, base);
            if (d != 2) {
                TU_CHECK(symlink(src, dst) == 0, "symlink %s", dst);
                continue;
            }
            io_volume v;
            TU_CHECK(io_volume_read(src, &v, err, sizeof err) == 0, "read: %s", err);
            size_t nv = (size_t)v.dims[0] * v.dims[1] * v.dims[2];
            for (size_t j = 0; j < nv; j += 97) v.data[j] = j % 2 ? NAN : -INFINITY;
            TU_CHECK(io_nifti_write_ras(dst, &v.geom, &v.orient, v.data, err, sizeof err) == 0, "write: %s", err);
            io_volume_free(&v);
            if (i == 1) snprintf(nan_t2, sizeof nan_t2, "%s", dst);
        }
    }
    char rdir[900];
    snprintf(rdir, sizeof rdir, "%s/nanrun", T);
    int rc = run(TRAIN "--out %s --iters 2 --ckpt-every 2 --quiet", ndata, rdir);
    TU_CHECK(rc == 0 && good_step(rdir) == 2, "training on NaN voxels: exit %d: %s", rc, out);
    /* every logged loss finite */
    char csv[1000], line[4096];
    snprintf(csv, sizeof csv, "%s/train.csv", rdir);
    FILE *f = fopen(csv, "r");
    int rows = 0, finite = 1;
    while (f && fgets(line, sizeof line, f)) {
        if (line[0] < '0' || line[0] > '9') continue;
        rows++;
        for (char *p = line; p; p = strchr(p, ',')) {
            if (*p == ',') p++;
            finite &= isfinite(strtod(p, NULL));
        }
    }
    if (f) fclose(f);
    TU_CHECK(rows == 2 && finite, "train.csv: %d rows, all finite: %d", rows, finite);
    printf("training on T2 volumes with NaN/Inf voxels: exit %d, %d iterations, all losses finite\n", rc, rows);
    /* libnifti zeroes NaN/Inf of float files as it loads them, so the
     * output is checked byte by byte (uncompressed, data after 352 bytes) */
    char dst[900];
    snprintf(dst, sizeof dst, "%s/nan_out.nii", T);
    rc = run("impute --model %s --t1 %s --t1ce %s --t2 %s --out %s", model, cl.cases[1].path[0], cl.cases[1].path[1],
             nan_t2, dst);
    TU_CHECK(rc == 0, "impute with a NaN input: exit %d: %s", rc, out);
    size_t n = 0, bad = 0;
    unsigned char *raw = slurp(dst, &n);
    for (size_t j = 352; raw && j + 4 <= n; j += 4) {
        float x;
        memcpy(&x, raw + j, 4);
        bad += !(x >= 0 && x <= 1e6f);
    }
    TU_CHECK(raw && n > 352 && bad == 0, "the imputed volume has %zu NaN/Inf/negative voxels", bad);
    free(raw);
    printf("impute from a T2 with NaN/Inf voxels: %s", out);
    io_caselist_free(&cl);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* first, while single-threaded: a private mount namespace for the tmpfs
     * (it vanishes with this process), unless forced off or not permitted */
    int can_mount = !getenv("VKMIST_TEST_NO_MOUNT") && unshare(CLONE_NEWNS) == 0 &&
                    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
    snprintf(T, sizeof T, "%s", tu_tmpdir());
    tu_private_cache();
    char err[1024];
    snprintf(data, sizeof data, "%s/phantom", T);
    TU_CHECK(tu_phantom(data, 4, 64, 24, err, sizeof err) == 0, "phantom: %s", err);
    io_caselist cl;
    TU_CHECK(io_discover(data, &cl, err, sizeof err) == 0 && cl.n == 4, "discover: %s", err);
    if (tu_failures) return tu_finish("test_faults");
    kase = &cl.cases[2];

    kill_after_checkpoint();
    kill_in_checkpoint_write();
    smallfs s;
    smallfs_init(&s, can_mount);
    disk_full_checkpoint(&s);
    disk_full_impute(&s);
    if (s.tmpfs) TU_CHECK(umount(s.dir) == 0, "umount %s: %s", s.dir, strerror(errno));
    read_only();
    device_memory();
    damaged_files();
    nan_voxels();
    io_caselist_free(&cl);
    return tu_finish("test_faults");
}
