/* Builds the conformance table from table.def. */
#include "runtime/conform/conform.h"

#define ROW(op, limit) void conf_row_##op(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r);
#include "runtime/conform/table.def"
#undef ROW

const conf_row conf_rows[] = {
#define ROW(op, limit) {#op, conf_row_##op, limit},
#include "runtime/conform/table.def"
#undef ROW
    {0, 0, 0}};
const int conf_nrows = (int)(sizeof(conf_rows) / sizeof(conf_rows[0])) - 1;
