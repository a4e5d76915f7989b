/* ctest: every conformance row (each shader forward and backward vs the CPU
 * reference) under the Khronos validation layer with synchronization
 * validation; any validation message fails. Optional argv[1] filters ops. */
#include <stdio.h>
#include "runtime/conform/conform.h"
#include "tests/testutil.h"

int main(int argc, char **argv) {
    vkm_opts o = vkm_default_opts();
    o.validate = 1;
    vkm_ctx *ctx = NULL;
    char err[1024];
    if (vkm_ctx_create(&o, &ctx, err, sizeof err)) {
        fprintf(stderr, "cannot create a Vulkan context: %s\n", err);
        return 1;
    }
    printf("device: %s (%s)\n", vkm_device(ctx)->name, vkm_device(ctx)->driver);
    int failed = conf_run(ctx, argc > 1 ? argv[1] : NULL, 20261125, stdout);
    TU_CHECK(failed == 0, "%d op(s) failed conformance", failed);
    TU_CHECK(conf_nrows > 0, "the conformance table is empty");
    TU_CHECK(vkm_validation_messages(ctx) == 0, "%d validation message(s)", vkm_validation_messages(ctx));
    vkm_ctx_destroy(ctx);
    return tu_finish("test_conformance");
}
