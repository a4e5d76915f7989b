/* `vkmist train`: command-line front of train/trainer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/cli.h"
#include "train/trainer.h"

static void usage(void) {
    printf("usage: vkmist train [--data DIR] [--out RUN] [--config NAME] [--iters N] [--batch B] [--seed S]\n"
           "                    [--device N] [--resume] [--lr X] [--lambda-sty X] [--lambda-cyc X] [--lambda-ds X]\n"
           "                    [--lambda-sup X] [--ckpt-every N] [--sample-every N] [--eval-every N]\n"
           "                    [--minutes M] [--ds-iters N] [--norm percentile|minmax] [--no-flip] [--keep K]\n"
           "                    [--split FILE] [--ema-decay X] [--quiet]\n\n"
           "Trains MIST GAN (DESIGN §4): each iteration picks a random target modality, alternates the latent\n"
           "and reference style paths, updates the discriminator then the generator (adversarial, cyclic style,\n"
           "cyclic content and style-diversification losses; optional supervised L1).\n\n"
           "  --data DIR        BraTS-layout data (2018-2021 or 2023 names, MSD Task01); default: the built-in\n"
           "                    phantom data set, generated once under ~/.cache/vkmist\n"
           "  --out RUN         run directory (default runs/CONFIG): train.csv, val.csv, samples/, ckpt/, split.json\n"
           "  --split FILE      subject split JSON {\"train\": [ids], \"val\": [...], \"test\": [...]} instead of the\n"
           "                    seeded 3:1:1 split (e.g. train on two sample cases, validate on the third)\n"
           "  --config NAME     paper | small | tiny | test (default tiny)\n"
           "  --iters N         iterations (default 20000; the paper: 200000)     --batch B  slices per step (2)\n"
           "  --seed S          seed of init, split, batches and styles (1)      --device N  Vulkan device\n"
           "  --resume          continue from the newest good checkpoint in RUN (exactly, with the same options)\n"
           "  --lr X            learning rate (1e-4; the mapping network uses 1e-6)\n"
           "  --lambda-sty/-cyc/-ds X   loss weights (1, 1, 1); lambda-ds decays linearly to 0 over --ds-iters\n"
           "                    (default half the run)\n"
           "  --lambda-sup X    supervised L1 to the real target (default 0: the paper trains blind)\n"
           "  --ema-decay X     decay of the generator's weight average used for inference (0.999; a run of only\n"
           "                    a few thousand iterations wants ~0.99 so the average forgets the initial weights)\n"
           "  --ckpt-every N    checkpoint period (1000); --keep K checkpoints kept (3)\n"
           "  --sample-every N  sample picture period (500); --eval-every N validation PSNR/SSIM period (0: off)\n"
           "  --minutes M       stop after M minutes of training with a checkpoint (resume later)\n"
           "  --norm            intensity normalisation: percentile (99.5th, default) or minmax (the paper's)\n"
           "  --no-flip         no random horizontal flips\n\n"
           "Data parallel (built with MPI, see `vkmist devices`): mpirun -np R vkmist train ... (or srun) runs R\n"
           "processes, one device each (by node-local rank unless --device/VKMIST_DEVICE pins one); --batch B is\n"
           "per process, the global batch is R x B (rank r trains its samples r*B..r*B+B-1), the gradients are\n"
           "averaged before every identical optimizer step, and rank 0 alone writes logs, samples and checkpoints.\n"
           "Checkpoints hold the global state: --resume works with another R (keep R x B for the same run).\n");
}

int cmd_train(int argc, char **argv) {
    cli_args a = cli_begin("train", argc, argv);
    mist_trainer_opts o = mist_trainer_defaults();
    const char *out = NULL, *v;
    int batch_set = 0;
    while (cli_more(&a)) {
        if (cli_flag(&a, "--help") || cli_flag(&a, "-h")) {
            usage();
            return 0;
        } else if ((v = cli_value(&a, "--data"))) o.data_dir = v;
        else if ((v = cli_value(&a, "--out"))) out = v;
        else if ((v = cli_value(&a, "--config"))) o.config = v;
        else if ((v = cli_value(&a, "--split"))) o.split_file = v;
        else if ((v = cli_value(&a, "--iters"))) o.opts.iters = cli_long(&a, "--iters", v, 1, 100000000);
        else if ((v = cli_value(&a, "--batch"))) o.opts.batch = (int)cli_long(&a, "--batch", v, 1, 4096), batch_set = 1;
        else if ((v = cli_value(&a, "--seed"))) o.seed = (uint64_t)cli_long(&a, "--seed", v, 0, 0x7fffffffffffffffl);
        else if ((v = cli_value(&a, "--device"))) o.device = (int)cli_long(&a, "--device", v, 0, 1000);
        else if (cli_flag(&a, "--resume")) o.resume = 1;
        else if ((v = cli_value(&a, "--lr"))) o.opts.lr = (float)cli_double(&a, "--lr", v, 0, 1);
        else if ((v = cli_value(&a, "--lambda-sty"))) o.opts.l_sty = (float)cli_double(&a, "--lambda-sty", v, 0, 1e4);
        else if ((v = cli_value(&a, "--lambda-cyc"))) o.opts.l_cyc = (float)cli_double(&a, "--lambda-cyc", v, 0, 1e4);
        else if ((v = cli_value(&a, "--lambda-ds"))) o.opts.l_ds = (float)cli_double(&a, "--lambda-ds", v, 0, 1e4);
        else if ((v = cli_value(&a, "--lambda-sup"))) o.opts.l_sup = (float)cli_double(&a, "--lambda-sup", v, 0, 1e4);
        else if ((v = cli_value(&a, "--ema-decay"))) o.opts.ema_decay = (float)cli_double(&a, "--ema-decay", v, 0, 1);
        else if ((v = cli_value(&a, "--ds-iters"))) o.opts.ds_iters = cli_long(&a, "--ds-iters", v, 0, 100000000);
        else if ((v = cli_value(&a, "--ckpt-every"))) o.ckpt_every = cli_long(&a, "--ckpt-every", v, 0, 100000000);
        else if ((v = cli_value(&a, "--sample-every"))) o.sample_every = cli_long(&a, "--sample-every", v, 0, 100000000);
        else if ((v = cli_value(&a, "--eval-every"))) o.eval_every = cli_long(&a, "--eval-every", v, 0, 100000000);
        else if ((v = cli_value(&a, "--minutes"))) o.max_minutes = cli_double(&a, "--minutes", v, 0, 1e7);
        else if ((v = cli_value(&a, "--keep"))) o.keep_ckpts = (int)cli_long(&a, "--keep", v, 1, 100000);
        else if ((v = cli_value(&a, "--norm"))) {
            if (io_norm_parse(v, &o.norm)) {
                fprintf(stderr, "vkmist train: --norm expects percentile or minmax, got '%s'\n", v);
                a.bad = 1;
            }
        } else if (cli_flag(&a, "--no-flip")) o.flip = 0;
        else if (cli_flag(&a, "--quiet")) o.quiet = 1;
        else if (!a.bad) cli_unknown(&a);
    }
    if (a.bad) return 2;
    (void)batch_set;
    char run[1024];
    if (!out) snprintf(run, sizeof run, "runs/%s", o.config);
    o.run_dir = out ? out : run;
    char err[2048];
    mist_dist dist;
    if (mist_dist_init(&dist, err, sizeof err)) {
        fprintf(stderr, "vkmist train: %s\n", err);
        return 1;
    }
    o.dist = &dist;
    if (mist_train(&o, err, sizeof err)) {
        char msg[2100];
        snprintf(msg, sizeof msg, "vkmist train: %s", err);
        if (dist.size > 1) mist_dist_abort(&dist, msg); /* the other ranks would wait for this one forever */
        fprintf(stderr, "%s\n", msg);
        mist_dist_finalize(&dist);
        return 1;
    }
    mist_dist_finalize(&dist);
    if (!o.quiet && dist.rank == 0) printf("samples: %s/samples/   losses: %s/train.csv   checkpoints: %s/ckpt/\n", o.run_dir, o.run_dir, o.run_dir);
    return 0;
}
