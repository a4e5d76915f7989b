/* ctest (issue 5): training on config `test` over a small phantom: N
 * iterations + --resume + N more is bit-identical to 2N uninterrupted; a
 * `vkmist train` killed with SIGKILL at random moments never leaves a
 * corrupt newest checkpoint and --resume continues; a non-finite loss stops
 * the run naming the loss term and keeps the last good checkpoint; run
 * directory contents (train.csv, val.csv, samples, split.json). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tests/testutil.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

static char data[600];

static mist_trainer_opts opts(const char *run, long iters) {
    mist_trainer_opts o = mist_trainer_defaults();
    o.data_dir = data;
    o.run_dir = run;
    o.config = "test";
    o.opts.iters = iters;
    o.opts.ds_iters = 100;
    o.ckpt_every = 3;
    o.sample_every = 0;
    o.quiet = 1;
    o.seed = 5;
    return o;
}

/* All parameter tensors (and Adam state) of the newest checkpoint. */
static unsigned char *weights(const char *run, size_t *n) {
    char path[1200], err[512];
    long step;
    ckpt_reader *r = NULL;
    *n = 0;
    if (ckpt_latest_good(run, path, sizeof path, &step, &r, err, sizeof err) != CKPT_FOUND) return NULL;
    size_t total = 0;
    for (int i = 0; i < ckpt_count(r); i++) total += ckpt_tensor_at(r, i)->nbytes;
    unsigned char *buf = malloc(total), *p = buf;
    for (int i = 0; i < ckpt_count(r); i++) {
        const ckpt_tensor *t = ckpt_tensor_at(r, i);
        memcpy(p, t->data, t->nbytes);
        p += t->nbytes;
    }
    ckpt_close(r);
    *n = total;
    return buf;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    char err[2048];
    tu_private_cache();
    snprintf(data, sizeof data, "%s/phantom", tu_tmpdir());
    TU_CHECK(tu_phantom(data, 4, 96, 40, err, sizeof err) == 0, "phantom: %s", err);

    /* 6 uninterrupted vs 3 + resume + 3 */
    char a[700], b[700];
    snprintf(a, sizeof a, "%s/run_a", tu_tmpdir());
    snprintf(b, sizeof b, "%s/run_b", tu_tmpdir());
    mist_trainer_opts oa = opts(a, 6);
    TU_CHECK(mist_train(&oa, err, sizeof err) == 0, "train a: %s", err);
    /* the schedule does not depend on --iters (ds_iters is fixed), so a run
     * of 3 resumed to 6 must retrace the uninterrupted run exactly */
    mist_trainer_opts ob = opts(b, 3);
    TU_CHECK(mist_train(&ob, err, sizeof err) == 0, "train b (first half): %s", err);
    ob.opts.iters = 6;
    ob.resume = 1;
    TU_CHECK(mist_train(&ob, err, sizeof err) == 0, "train b (resumed): %s", err);
    size_t na, nb;
    unsigned char *wa = weights(a, &na), *wb = weights(b, &nb);
    TU_CHECK(wa && wb && na == nb && !memcmp(wa, wb, na), "resumed run differs from the uninterrupted one (%zu vs %zu bytes)",
             na, nb);
    printf("resume: 3 + resume + 3 iterations == 6 uninterrupted: %s (%zu bytes of parameters and Adam state)\n",
           wa && wb && na == nb && !memcmp(wa, wb, na) ? "bit-identical" : "DIFFERENT", na);
    free(wa);
    free(wb);
    char path[800];
    const char *files[] = {"train.csv", "split.json", "ckpt/step_00000006.safetensors"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", a, files[i]);
        TU_CHECK(access(path, R_OK) == 0, "missing %s", path);
    }

    /* SIGKILL at random moments of a CLI run checkpointing every iteration */
    char k[700], out[8192], args[1600];
    snprintf(k, sizeof k, "%s/run_kill", tu_tmpdir());
    srand(1234);
    int kills = 0;
    for (int round = 0; round < 3; round++) {
        pid_t pid = fork();
        if (pid == 0) {
            execl(tu_vkmist_bin(), "vkmist", "train", "--data", data, "--out", k, "--config", "test", "--iters", "400",
                  "--ckpt-every", "1", "--sample-every", "0", "--resume", "--quiet", "--seed", "5", (char *)NULL);
            _exit(127);
        }
        struct timespec ts = {1 + rand() % 2, (rand() % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        kills += WIFSIGNALED(st);
        char cp[1200];
        long step = -1;
        ckpt_reader *r = NULL;
        int found = ckpt_latest_good(k, cp, sizeof cp, &step, &r, err, sizeof err);
        if (r) ckpt_close(r);
        long *steps = NULL;
        size_t ns = 0;
        ckpt_list(k, &steps, &ns, err, sizeof err);
        /* the newest listed checkpoint must be the newest good one */
        TU_CHECK(found == CKPT_NONE || (found == CKPT_FOUND && ns > 0 && steps[ns - 1] == step),
                 "after kill %d the newest checkpoint is damaged (newest good %ld)", round, step);
        free(steps);
    }
    TU_CHECK(kills >= 2, "only %d of 3 runs were killed mid-run", kills);
    snprintf(args, sizeof args, "train --data %s --out %s --config test --iters 3 --resume --quiet --sample-every 0", data, k);
    /* resuming a run that is already past 3 iterations just stops */
    TU_CHECK(tu_run_cli(args, out, sizeof out) == 0, "resume after kills failed: %s", out);

    /* a NaN in the input at iteration 4: stops, names the loss, keeps checkpoint 3 */
    char nrun[700];
    snprintf(nrun, sizeof nrun, "%s/run_nan", tu_tmpdir());
    setenv("VKMIST_INJECT_NAN_AT", "4", 1);
    snprintf(args, sizeof args, "train --data %s --out %s --config test --iters 8 --ckpt-every 3 --sample-every 0 --quiet",
             data, nrun);
    int rc = tu_run_cli(args, out, sizeof out);
    unsetenv("VKMIST_INJECT_NAN_AT");
    TU_CHECK(rc == 1 && strstr(out, "loss became") && strstr(out, "iteration 4"), "NaN run: exit %d, output: %s", rc, out);
    char cp[1200];
    long step = -1;
    TU_CHECK(ckpt_latest_good(nrun, cp, sizeof cp, &step, NULL, err, sizeof err) == CKPT_FOUND && step == 3,
             "the last good checkpoint (3) is not kept: %ld", step);
    printf("non-finite loss: %s", out);

    /* a damaged newest checkpoint: --resume falls back to the previous one */
    snprintf(path, sizeof path, "%s/ckpt/step_00000006.safetensors", a);
    FILE *f = fopen(path, "r+b");
    if (f) {
        fseek(f, -100, SEEK_END);
        fputc(0x5a, f);
        fclose(f);
    }
    snprintf(args, sizeof args, "train --data %s --out %s --config test --iters 7 --resume --sample-every 0", data, a);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 0 && strstr(out, "step_00000003"), "fallback resume: exit %d: %s", rc, out);
    return tu_finish("test_train");
}
