/* Launchers of the losses (L1, BCE with logits; forward = one deterministic
 * single-workgroup dispatch writing one scalar) and of reduce. */
#include "runtime/ops/ops_elem.h"
#include "runtime/ops/elem_util.h"

/* Losses sum in one workgroup: one binding, no chunking (n is a few images). */
static int loss_check(vkm_seq *s, const char *op, const vkm_loss_p *p) {
    if (p->n < 1 || p->n > ELEM_CHUNK)
        return vkm_elem_err(s, op, "n = %lld is not in 1..%lld", (long long)p->n,
                            (long long)ELEM_CHUNK);
    if (p->out_index < 0 || p->g_index < 0)
        return vkm_elem_err(s, op, "negative scalar index");
    if (p->parts < 0 || (p->parts > 1 && p->n % p->parts))
        return vkm_elem_err(s, op, "%lld elements do not split into %d equal parts", (long long)p->n, p->parts);
    return 0;
}

static int loss_fwd(vkm_seq *s, const char *op, vkm_shader_id sh, const vkm_loss_p *p,
                    vkm_buf x, vkm_buf y, vkm_buf out, int two) {
    if (loss_check(s, op, p) || vkm_elem_size(s, op, "x", x, p->n) ||
        (two && vkm_elem_size(s, op, "y", y, p->n)) ||
        vkm_elem_size(s, op, "out", out, (int64_t)p->out_index + 1))
        return -1;
    x = vkm_sub(x, 0, (uint64_t)p->n * 4);
    y = two ? vkm_sub(y, 0, (uint64_t)p->n * 4) : x;
    struct { uint32_t n, out_index; float inv_n, target; } pc = {
        (uint32_t)p->n, (uint32_t)p->out_index, (float)vkm_loss_scale(p), p->target};
    vkm_bind b[5] = {{x, VKM_READ, 0}, {x, VKM_READ, 0}, {y, VKM_READ, 0}, {y, VKM_READ, 0}};
    int nb = two ? 4 : 2;
    b[nb++] = (vkm_bind){out, VKM_WRITE, 0};
    uint32_t spec[1] = {ELEM_LOCAL};
    vkm_dispatch_info d = {.shader = sh, .spec = spec, .nspec = 1, .push = &pc,
                           .push_size = two ? 12 : 16, .binds = b, .nbind = nb,
                           .groups = {1, 1, 1}, .flops = 4.0 * p->n,
                           .bytes = 4.0 * p->n * (two ? 2 : 1), .label = op};
    return vkm_dispatch(s, &d);
}

int vkm_op_l1loss(vkm_seq *s, const vkm_loss_p *p, vkm_buf x, vkm_buf y, vkm_buf out) {
    return loss_fwd(s, "l1loss", VKM_SHADER_L1LOSS, p, x, y, out, 1);
}

int vkm_op_bce(vkm_seq *s, const vkm_loss_p *p, vkm_buf x, vkm_buf out) {
    return loss_fwd(s, "bce", VKM_SHADER_BCE, p, x, x, out, 0);
}

int vkm_op_l1loss_bwd(vkm_seq *s, const vkm_loss_p *p, vkm_buf x, vkm_buf y, vkm_buf g,
                      vkm_buf dx, vkm_buf dy) {
    if (loss_check(s, "l1loss_bwd", p) || vkm_elem_size(s, "l1loss_bwd", "g", g, p->g_index + 1))
        return -1;
    int has_dy = dy.buffer != VK_NULL_HANDLE, acc = p->acc ? VKM_RW : VKM_WRITE;
    struct { uint32_t n, g_index; float inv_n; } pc = {
        0, (uint32_t)p->g_index, (float)vkm_loss_scale(p)};
    elem_arg args[5] = {{x, VKM_READ, ELEM_PAIR}, {y, VKM_READ, ELEM_PAIR}, {g, VKM_READ, 0},
                        {dx, acc, ELEM_PAIR}, {has_dy ? dy : dx, acc, ELEM_PAIR}};
    uint32_t spec[2] = {(uint32_t)has_dy, p->acc ? 1u : 0u};
    elem_launch L = {.shader = VKM_SHADER_L1LOSS_BWD, .label = "l1loss_bwd", .n = p->n,
                     .args = args, .nargs = 5, .push = &pc, .push_size = sizeof pc,
                     .base_word = -1, .spec = spec, .nspec = 2, .flops = 3 + has_dy,
                     .bytes = 4.0 * (3 + (1 + has_dy) * (p->acc != 0))};
    return vkm_elem_run(s, &L);
}

int vkm_op_bce_bwd(vkm_seq *s, const vkm_loss_p *p, vkm_buf x, vkm_buf g, vkm_buf dx) {
    if (loss_check(s, "bce_bwd", p) || vkm_elem_size(s, "bce_bwd", "g", g, p->g_index + 1))
        return -1;
    struct { uint32_t n, g_index; float inv_n, target; } pc = {
        0, (uint32_t)p->g_index, (float)(1.0 / (double)p->n), p->target};
    uint32_t spec[1] = {p->acc ? 1u : 0u};
    elem_arg args[3] = {{x, VKM_READ, ELEM_PAIR}, {g, VKM_READ, 0}, {dx, p->acc ? VKM_RW : VKM_WRITE, ELEM_PAIR}};
    elem_launch L = {.shader = VKM_SHADER_BCE_BWD, .label = "bce_bwd", .n = p->n,
                     .args = args, .nargs = 3, .push = &pc, .push_size = sizeof pc,
                     .base_word = -1, .spec = spec, .nspec = 1, .flops = 8,
                     .bytes = 4.0 * (2 + (p->acc != 0))};
    return vkm_elem_run(s, &L);
}

int vkm_op_reduce(vkm_seq *s, const vkm_reduce_p *p, vkm_buf x, vkm_buf out) {
    int64_t total = (int64_t)p->rows * p->n;
    if (p->rows < 0 || p->n < 0) return vkm_elem_err(s, "reduce", "negative shape");
    if (p->rows == 0) return 0;
    if (total > ELEM_CHUNK)
        return vkm_elem_err(s, "reduce", "%lld floats exceed one binding (%lld)",
                            (long long)total, (long long)ELEM_CHUNK);
    if (vkm_elem_size(s, "reduce", "out", out, p->rows)) return -1;
    if (total > 0 && vkm_elem_size(s, "reduce", "x", x, total)) return -1;
    /* n == 0: sums are 0; bind out in x's place so no empty range is bound */
    vkm_buf xs = total > 0 ? vkm_sub(x, 0, (uint64_t)total * 4) : out;
    out = vkm_sub(out, 0, (uint64_t)p->rows * 4);
    /* rows of <= 32 floats: one invocation per row (see reduce.comp) */
    uint32_t per_thread = p->n <= 32, vec = p->n % 4 == 0;
    /* short rows get a smaller workgroup: fewer idle invocations and barriers */
    uint32_t local = 32;
    while (local < ELEM_LOCAL && (int64_t)local * 16 < p->n) local *= 2;
    uint32_t spec[3] = {per_thread ? ELEM_LOCAL : local, vec, per_thread};
    uint32_t units = per_thread ? vkm_div_up((uint64_t)p->rows, ELEM_LOCAL) : (uint32_t)p->rows;
    struct { uint32_t rows, n; float scale; uint32_t acc; } pc = {
        (uint32_t)p->rows, (uint32_t)p->n,
        (p->mean && p->n > 0) ? (float)(1.0 / (double)p->n) : 1.0f, p->acc ? 1u : 0u};
    vkm_bind b[3] = {{xs, VKM_READ, 0}, {xs, VKM_READ, 0},
                     {out, p->acc ? VKM_RW : VKM_WRITE, 0}};
    uint32_t gx = units < 65535 ? units : 65535u;
    vkm_dispatch_info d = {.shader = VKM_SHADER_REDUCE, .spec = spec, .nspec = 3, .push = &pc,
                           .push_size = sizeof pc, .binds = b, .nbind = 3,
                           .groups = {gx, vkm_div_up(units, gx), 1},
                           .flops = (double)total, .bytes = 4.0 * (total + p->rows),
                           .label = "reduce"};
    return vkm_dispatch(s, &d);
}
