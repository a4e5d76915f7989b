/* Launchers of the optimizer-side elementwise ops: fused Adam and randn
 * (counter-based noise for z and any stochastic op). */
#include "runtime/ops/ops_elem.h"
#include "runtime/ops/elem_util.h"

int vkm_op_adam(vkm_seq *s, const vkm_adam_p *p, vkm_buf param, vkm_buf grad, vkm_buf m,
                vkm_buf v, vkm_buf steps) {
    if (p->step_index < 0 || vkm_elem_size(s, "adam", "steps", steps, (int64_t)p->step_index + 1))
        return -1;
    struct { uint32_t n; float lr, beta1, beta2, eps, wd; uint32_t step_index; } pc = {
        0, p->lr, p->beta1, p->beta2, p->eps, p->wd, (uint32_t)p->step_index};
    elem_arg args[5] = {{param, VKM_RW, 1}, {grad, VKM_READ, 1}, {m, VKM_RW, 1},
                        {v, VKM_RW, 1}, {steps, VKM_READ, 0}};
    elem_launch L = {.shader = VKM_SHADER_ADAM, .label = "adam", .n = p->n, .args = args,
                     .nargs = 5, .push = &pc, .push_size = sizeof pc, .base_word = -1,
                     .flops = 14, .bytes = 28};
    return vkm_elem_run(s, &L);
}

int vkm_op_randn(vkm_seq *s, const vkm_randn_p *p, vkm_buf seeds, vkm_buf out) {
    if (p->seed_index < 0 ||
        vkm_elem_size(s, "randn", "seeds", seeds, 2 * (int64_t)p->seed_index + 2))
        return -1;
    struct { uint32_t n, offset, seed_index; float mean, std_; uint32_t base_lo, base_hi; } pc = {
        0, p->offset, (uint32_t)p->seed_index, p->mean, p->std, 0, 0};
    elem_arg args[2] = {{seeds, VKM_READ, 0}, {out, VKM_WRITE, 1}};
    elem_launch L = {.shader = VKM_SHADER_RANDN, .label = "randn", .n = p->n, .args = args,
                     .nargs = 2, .push = &pc, .push_size = sizeof pc, .base_word = 5, .base_block = p->block0,
                     .flops = 40, .bytes = 4};
    return vkm_elem_run(s, &L);
}
