/* Launchers of the optimizer-side elementwise ops: fused Adam and randn
 * (counter-based noise for z and any stochastic op). */
#include "runtime/ops/ops_elem.h"
#include "runtime/ops/elem_util.h"

#define ADAM_R 8 /* vec4s per invocation, shaders/adam.comp */

int vkm_op_adam(vkm_seq *s, const vkm_adam_p *p, vkm_buf param, vkm_buf grad, vkm_buf m,
                vkm_buf v, vkm_buf steps) {
    /* the segment table is relative to one dispatch: no chunking */
    if (p->n > ELEM_CHUNK) return vkm_elem_err(s, "adam", "%lld elements in one node (at most %lld)",
                                               (long long)p->n, (long long)ELEM_CHUNK);
    if (p->nseg < 1 || p->nseg > VKM_ADAM_MAXSEG || p->seg_start[0] != 0)
        return vkm_elem_err(s, "adam", "bad segment table (%d segments)", p->nseg);
    /* Mirrors P in shaders/adam.comp. */
    struct {
        uint32_t n; float lr, beta1, beta2, eps, wd; uint32_t nseg;
        uint32_t seg_start[VKM_ADAM_MAXSEG];
        int32_t seg_step[VKM_ADAM_MAXSEG];
    } pc = {0, p->lr, p->beta1, p->beta2, p->eps, p->wd, (uint32_t)p->nseg, {0}, {0}};
    for (int k = 0; k < p->nseg; k++) {
        if (p->seg_start[k] % 4 || (k && p->seg_start[k] <= p->seg_start[k - 1]) || p->seg_start[k] >= p->n ||
            p->seg_step[k] < -1)
            return vkm_elem_err(s, "adam", "segment %d: start %u (ascending multiples of 4 below n) or step index %d",
                                k, p->seg_start[k], p->seg_step[k]);
        if (p->seg_step[k] >= 0 && vkm_elem_size(s, "adam", "steps", steps, (int64_t)p->seg_step[k] + 1)) return -1;
        pc.seg_start[k] = p->seg_start[k];
        pc.seg_step[k] = p->seg_step[k];
    }
    elem_arg args[5] = {{param, VKM_RW, ELEM_TEXEL_RW}, {grad, VKM_READ, ELEM_TEXEL}, {m, VKM_RW, ELEM_TEXEL_RW},
                        {v, VKM_RW, ELEM_TEXEL_RW}, {steps, VKM_READ, 0}};
    elem_launch L = {.shader = VKM_SHADER_ADAM, .label = "adam", .n = p->n, .args = args,
                     .nargs = 5, .push = &pc, .push_size = sizeof pc, .base_word = -1,
                     .flops = 14, .bytes = 28, .per_inv = ADAM_R};
    return vkm_elem_run(s, &L);
}

int vkm_op_randn(vkm_seq *s, const vkm_randn_p *p, vkm_buf seeds, vkm_buf out) {
    if (p->seed_index < 0 ||
        vkm_elem_size(s, "randn", "seeds", seeds, 2 * (int64_t)p->seed_index + 2))
        return -1;
    struct { uint32_t n, offset, seed_index; float mean, std_; uint32_t base_lo, base_hi; } pc = {
        0, p->offset, (uint32_t)p->seed_index, p->mean, p->std, 0, 0};
    elem_arg args[2] = {{seeds, VKM_READ, 0}, {out, VKM_WRITE, ELEM_PAIR}};
    elem_launch L = {.shader = VKM_SHADER_RANDN, .label = "randn", .n = p->n, .args = args,
                     .nargs = 2, .push = &pc, .push_size = sizeof pc, .base_word = 5, .base_block = p->block0,
                     .flops = 40, .bytes = 4};
    return vkm_elem_run(s, &L);
}
