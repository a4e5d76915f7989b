/* `vkmist selftest`: runs the op conformance suite (every shader, forward and
 * backward, against the CPU reference) on the chosen device, so users can
 * check their own GPU and driver. */
#include <stdio.h>
#include <stdlib.h>
#include "runtime/conform/conform.h"
#include "tools/cli.h"

int cmd_selftest(int argc, char **argv) {
    cli_args a = cli_begin("selftest", argc, argv);
    int device = -1, validate = -1;
    const char *op = NULL;
    long seed = 1;
    while (cli_more(&a)) {
        const char *v;
        if (cli_flag(&a, "--help") || cli_flag(&a, "-h")) {
            printf("usage: vkmist selftest [--device N] [--op NAME] [--seed S] [--validate]\n\n"
                   "Runs every op's shader on the device against the double-precision CPU\n"
                   "reference over random shapes (odd sizes included), with guard regions\n"
                   "around outputs and NaN/Inf checks. Prints one row per op (pass/fail,\n"
                   "worst NMSE, its limit). --op runs the ops whose name contains NAME;\n"
                   "--validate turns on the Khronos validation layer (any message fails).\n"
                   "Exit status 0 when every op passes.\n");
            return 0;
        } else if ((v = cli_value(&a, "--device"))) device = (int)cli_long(&a, "--device", v, 0, 1000);
        else if ((v = cli_value(&a, "--op"))) op = v;
        else if ((v = cli_value(&a, "--seed"))) seed = cli_long(&a, "--seed", v, 0, 0x7fffffff);
        else if (cli_flag(&a, "--validate")) validate = 1;
        else if (!a.bad) cli_unknown(&a);
    }
    if (a.bad) return 2;
    vkm_opts o = vkm_default_opts();
    o.device = device;
    o.validate = validate;
    vkm_ctx *ctx = NULL;
    char err[1024];
    if (vkm_ctx_create(&o, &ctx, err, sizeof err)) {
        fprintf(stderr, "vkmist selftest: %s\n", err);
        return 1;
    }
    printf("device: %s (%s)%s\n", vkm_device(ctx)->name, vkm_device(ctx)->driver,
           vkm_validation_messages(ctx) >= 0 && (validate == 1 || getenv("VKMIST_VALIDATE")) ? ", validation layer on" : "");
    int failed = conf_run(ctx, op, (uint64_t)seed, stdout);
    vkm_ctx_destroy(ctx);
    return failed ? 1 : 0;
}
