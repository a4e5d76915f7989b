/* ctest: data-parallel training with MPI (train/dist.c). On config `test`,
 * `mpirun -np 2 vkmist train --batch 1` for N iterations must reach the
 * weights of `vkmist train --batch 2` for N iterations (one process, the same
 * global batch): every parameter, Adam moment and EMA tensor, within a
 * tolerance for float summation order (the two runs reduce over the batch
 * in different orders), and the same losses at every iteration. And a 2-rank
 * run stopped at a checkpoint and resumed by 1 rank with batch 2 reaches the
 * same losses and weights too (see RESUME_LOOSER_*). Skipped (exit 77,
 * with the reason) only when this build has no MPI or mpirun is missing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/testutil.h"
#include "train/checkpoint.h"
#include "train/dist.h"

/* Two iterations: beyond that the runs drift apart by rounding noise that
 * Adam amplifies in the gradient-free conv biases (below); measured with the
 * fused norm+activation and in-filter bias gradients: 9.7e-8 in parameters
 * after 2 iterations, 1.3e-6 after 4, 5.9e-5 after 6, with every averaged
 * gradient of iteration 2 equal to 1e-6 of its scale (m = the last gradient
 * as beta1 = 0). A gradient error would show in iteration 1 or 2. Dropping
 * the biases of convs that feed an instance norm would remove the drift. */
#define ITERS 2
#define LR 1e-4
/* Tolerances (float summation order differs between the runs):
 * - parameters and their EMA: |a - b| <= 2e-6 + 1e-4 |b| per element
 *   (2e-6 is 2 % of one Adam step of lr 1e-4);
 * - Adam moments (m is the last gradient, as beta1 = 0; v its running square):
 *   |a - b| <= 1e-4 max|b| over the tensor (single gradient elements may
 *   cancel to near 0, so their error is relative to the tensor's scale);
 * - "gradient-free" parameters, whose RMS gradient (sqrt of Adam's v) in the
 *   reference run is below 1e-6, five orders under any other: the conv
 *   biases in front of an instance norm, whose gradient is mathematically 0
 *   and numerically rounding noise that Adam scales up to lr-sized steps. Two
 *   runs move them differently; they only must stay within Adam's bound
 *   |a - b| <= 2 lr ITERS (and their moments stay at noise level, < 1e-5). */
#define ATOL 2e-6
#define RTOL 1e-4
#define QUIET_GRAD 1e-6
/* The 2-rank run resumed by 1 rank agrees with the uninterrupted runs in its
 * losses to 1e-7, but its weights only to about 0.1 lr (measured 1.1e-5,
 * FLAIR separator) and its Adam moments to about 1e-3 of their scale
 * (2.3e-4), more than the uninterrupted 2-rank run (1.2e-7 and 1.2e-6): the
 * check loosens by these factors there. No state is lost in the switch; it
 * is float noise, amplified. Measured by hand with checkpoints after every
 * iteration and tensors swapped between checkpoints:
 * - the resumed run matches the 1-rank run to 1e-6 after iterations 4 and
 *   5; the whole gap appears in the gradient of iteration 6 (m = that
 *   gradient: 1e-3 relative in the style/content encoders and decoder);
 * - resuming with 1 rank from the 1-rank run's own iteration-5 checkpoint
 *   reproduces that run bit for bit, but the same checkpoint with only the
 *   25 gradient-free conv biases (those right before an instance norm)
 *   taken from the 2-rank lineage gives exactly the resumed run's gap, and
 *   the resumed run's checkpoint with those biases taken from the 1-rank
 *   run gives no gap (1.6e-6). Adam drives those biases by rounding noise
 *   to different lr-sized values in the two lineages; they cannot change
 *   the function, only the rounding of the activations behind them, and
 *   iteration 6 is
 *   sensitive to that (most likely an |x - y| of an L1 loss near 0 whose
 *   sign flips). Which tiny perturbation tips it is chance: the 2-rank
 *   continuation of the same checkpoint, or 2 ranks resuming the 1-rank
 *   run, show no gap. So any other perturbation of the same size may
 *   produce one; the bounds below hold what one such event measures with
 *   headroom (weights 2e-5 + 1e-3 |w| against 1.1e-5; moments 1e-2 of the
 *   tensor's scale against 8e-4). Resumes with the same rank count are
 *   bit-exact (test_train; checked by hand for 2 ranks); Adam step counters
 *   are compared exactly and the losses of every iteration to 1e-5 below. */
#define RESUME_LOOSER_W 10
#define RESUME_LOOSER_M 100

static char data[600];

static int run(const char *launcher, const char *run_dir, int batch, long iters, int resume) {
    char cmd[3000], out[16384];
    snprintf(cmd, sizeof cmd,
             "%s %s train --data %s --out %s --config test --batch %d --iters %ld --ds-iters 100 --ckpt-every 3 "
             "--sample-every 0 --seed 5 --quiet%s 2>&1",
             launcher, tu_vkmist_bin(), data, run_dir, batch, iters, resume ? " --resume" : "");
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = 0;
    int st = p ? pclose(p) : -1;
    if (st != 0) fprintf(stderr, "%s\n-> status %d:\n%s\n", cmd, st, out);
    return st;
}

static float at(const ckpt_tensor *t, int64_t k) {
    float v;
    memcpy(&v, (const char *)t->data + 4 * k, 4);
    return v;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* RMS gradient of parameter tensor `name` (any copy's name) in reader r. */
static double rms_grad(const ckpt_reader *r, const char *name) {
    char base[200], vn[220];
    snprintf(base, sizeof base, "%s", name);
    static const char *const sfx[] = {".adam_m", ".adam_v", ".ema"};
    for (int i = 0; i < 3; i++)
        if (ends_with(base, sfx[i])) base[strlen(base) - strlen(sfx[i])] = 0;
    snprintf(vn, sizeof vn, "%s.adam_v", base);
    const ckpt_tensor *v = ckpt_find(r, vn);
    double m = 0;
    for (int64_t k = 0; v && k < v->numel; k++)
        if (at(v, k) > m) m = at(v, k);
    return v ? sqrt(m) : 1;
}

/* Compares every tensor of the newest checkpoints of run a and reference b. */
static void compare(const char *a, const char *b, const char *what, double looser_w, double looser_m) {
    char pa[1200], pb[1200], err[512];
    long sa = 0, sb = 0;
    ckpt_reader *ra = NULL, *rb = NULL;
    int fa = ckpt_latest_good(a, pa, sizeof pa, &sa, &ra, err, sizeof err);
    int fb = ckpt_latest_good(b, pb, sizeof pb, &sb, &rb, err, sizeof err);
    TU_CHECK(fa == CKPT_FOUND && fb == CKPT_FOUND && sa == ITERS && sb == ITERS, "%s: checkpoints %ld / %ld", what, sa, sb);
    if (!ra || !rb) {
        if (ra) ckpt_close(ra);
        if (rb) ckpt_close(rb);
        return;
    }
    TU_CHECK(ckpt_count(ra) == ckpt_count(rb), "%s: %d vs %d tensors", what, ckpt_count(ra), ckpt_count(rb));
    double worst_p = 0, worst_m = 0, worst_q = 0;
    int bad = 0, quiet = 0;
    for (int i = 0; i < ckpt_count(ra); i++) {
        const ckpt_tensor *x = ckpt_tensor_at(ra, i), *y = ckpt_find(rb, x->name);
        if (!y || y->dtype != x->dtype || y->numel != x->numel) {
            TU_CHECK(0, "%s: tensor %s missing or differently shaped", what, x->name);
            continue;
        }
        if (x->dtype == CKPT_U32) { /* Adam step counters: exact */
            TU_CHECK(!memcmp(x->data, y->data, x->nbytes), "%s: %s differs", what, x->name);
            continue;
        }
        if (x->dtype != CKPT_F32) continue;
        int moment = ends_with(x->name, ".adam_m") || ends_with(x->name, ".adam_v") || !strcmp(x->name, "mean_style");
        int noise = strcmp(x->name, "mean_style") && rms_grad(rb, x->name) < QUIET_GRAD;
        quiet += noise && !moment;
        double scale = 0;
        for (int64_t k = 0; k < y->numel; k++) scale = fmax(scale, fabs(at(y, k)));
        int tbad = 0;
        for (int64_t k = 0; k < x->numel; k++) {
            double u = at(x, k), v = at(y, k), d = fabs(u - v);
            double lim = noise ? (moment ? 10 * QUIET_GRAD : 2 * LR * ITERS)
                               : moment ? looser_m * RTOL * scale : looser_w * (ATOL + RTOL * fabs(v));
            tbad += !(d <= lim);
            double *w = noise ? &worst_q : moment ? &worst_m : &worst_p;
            if (d > *w) *w = d;
        }
        if (tbad) fprintf(stderr, "%s: %s: %d of %lld elements beyond the tolerance\n", what, x->name, tbad,
                          (long long)x->numel);
        bad += tbad;
    }
    printf("%s: %d tensors; max |diff| %.3g in parameters and EMA, %.3g in Adam moments, %.3g in the %d "
           "gradient-free parameter tensors\n", what, ckpt_count(ra), worst_p, worst_m, worst_q, quiet);
    TU_CHECK(bad == 0, "%s: %d elements differ beyond the tolerance", what, bad);
    ckpt_close(ra);
    ckpt_close(rb);
}

/* The loss columns of train.csv of run a vs reference b, every iteration:
 * equal inputs, noise and targets give equal losses up to float order. */
static void compare_losses(const char *a, const char *b, const char *what) {
    char pa[800], pb[800], la[512], lb[512];
    snprintf(pa, sizeof pa, "%s/train.csv", a);
    snprintf(pb, sizeof pb, "%s/train.csv", b);
    FILE *fa = fopen(pa, "r"), *fb = fopen(pb, "r");
    int rows = 0, bad = 0;
    double worst = 0;
    while (fa && fb && fgets(la, sizeof la, fa) && fgets(lb, sizeof lb, fb)) {
        if (!rows++) continue; /* the header */
        char *ea = la, *eb = lb;
        /* step, then d_real ... loss_g */
        for (int c = 0; c < 10; c++) {
            double x = strtod(ea, &ea), y = strtod(eb, &eb);
            if (c && fabs(x - y) > worst) worst = fabs(x - y);
            if (c && !(fabs(x - y) <= 1e-5 * (1 + fabs(y)))) bad++;
            if (!c && x != y) bad++;
            ea += *ea == ',', eb += *eb == ',';
        }
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    printf("%s: losses of %d iterations, max |diff| %.3g\n", what, rows - 1, worst);
    TU_CHECK(rows == ITERS + 1 && bad == 0, "%s: %d rows, %d loss values differ beyond 1e-5", what, rows, bad);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    char lib[256];
    if (!mist_dist_built(lib, sizeof lib)) {
        printf("SKIP: this build has no MPI (install libopenmpi-dev openmpi-bin and reconfigure)\n");
        return 77;
    }
    if (system("command -v mpirun >/dev/null 2>&1") != 0) {
        printf("SKIP: mpirun is not installed (openmpi-bin)\n");
        return 77;
    }
    printf("MPI: %s\n", lib);
    char err[2048];
    tu_private_cache();
    /* mpirun as root (CI containers) and without ptrace-based single copy */
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 1);
    /* plug-ins stay loaded, so LeakSanitizer can name Open MPI's own leaks */
    setenv("OMPI_MCA_mca_base_component_disable_dlclose", "1", 1);
    snprintf(data, sizeof data, "%s/phantom", tu_tmpdir());
    TU_CHECK(tu_phantom(data, 4, 96, 40, err, sizeof err) == 0, "phantom: %s", err);

    /* Under ASan, the ranks started by mpirun run without LeakSanitizer: Open
     * MPI (no frame pointers) leaks at MPI_Finalize through stacks the fast
     * unwinder cannot name, so no suppression can match them, and the slow
     * unwinder makes a run take over ten minutes. The same training code runs
     * under LeakSanitizer in this test's 1-rank runs and in test_train. */
    char mpi2[1200] = "mpirun --oversubscribe --bind-to none -np 2";
    const char *asan = getenv("ASAN_OPTIONS");
    if (asan && strlen(asan) < 1000)
        snprintf(mpi2, sizeof mpi2, "env ASAN_OPTIONS=%s:detect_leaks=0 mpirun --oversubscribe --bind-to none -np 2", asan);
    char one[700], two[700], mixed[700];
    snprintf(one, sizeof one, "%s/one_rank_b2", tu_tmpdir());
    snprintf(two, sizeof two, "%s/two_ranks_b1", tu_tmpdir());
    snprintf(mixed, sizeof mixed, "%s/two_then_one", tu_tmpdir());
    /* the one-process run first: it builds the slice cache the others share */
    TU_CHECK(run("", one, 2, ITERS, 0) == 0, "1 rank, batch 2");
    TU_CHECK(run(mpi2, two, 1, ITERS, 0) == 0, "2 ranks, batch 1");
    compare(two, one, "2 ranks x batch 1 vs 1 rank x batch 2", 1, 1);

    /* stop the 2-rank run at its checkpoint, finish with 1 rank */
    TU_CHECK(run(mpi2, mixed, 1, ITERS / 2, 0) == 0, "2 ranks, first half");
    TU_CHECK(run("", mixed, 2, ITERS, 1) == 0, "1 rank resumes");
    compare(mixed, one, "2 ranks then --resume with 1 rank vs 1 rank", RESUME_LOOSER_W,
            RESUME_LOOSER_M);
    compare_losses(two, one, "2 ranks vs 1 rank");
    compare_losses(mixed, one, "2 ranks then 1 rank vs 1 rank");

    /* rank 0 alone wrote the logs: one header and one row per iteration */
    char path[800];
    snprintf(path, sizeof path, "%s/train.csv", two);
    FILE *f = fopen(path, "r");
    int lines = 0;
    for (int c; f && (c = fgetc(f)) != EOF;) lines += c == '\n';
    if (f) fclose(f);
    TU_CHECK(lines == ITERS + 1, "train.csv of the 2-rank run has %d lines, want %d", lines, ITERS + 1);
    return tu_finish("mpi");
}
