/* Launchers of the plain elementwise ops: axpby, concat/slice, fill, meann and
 * its backward, EMA. */
#include <string.h>
#include "runtime/ops/ops_elem.h"
#include "runtime/ops/elem_util.h"

int vkm_op_axpby(vkm_seq *s, const vkm_axpby_p *p, vkm_buf x, vkm_buf y, vkm_buf out) {
    struct { uint32_t n; float a, b; } pc = {0, p->a, p->b};
    uint32_t spec[2] = {p->acc ? 1u : 0u, p->b != 0.0f};
    elem_arg args[3] = {{x, VKM_READ, ELEM_TEXEL}, {p->b != 0.0f ? y : x, VKM_READ, ELEM_TEXEL},
                        {out, p->acc ? VKM_RW : VKM_WRITE, ELEM_PAIR}};
    elem_launch L = {.shader = VKM_SHADER_AXPBY, .label = "axpby", .n = p->n, .args = args,
                     .nargs = 3, .push = &pc, .push_size = sizeof pc, .base_word = -1,
                     .spec = spec, .nspec = 2,
                     .flops = 3, .bytes = 4.0 * (2 + (p->b != 0.0f) + (p->acc != 0))};
    return vkm_elem_run(s, &L);
}

static int chcopy(vkm_seq *s, const vkm_chcopy_p *p, vkm_buf part, vkm_buf whole, int slice) {
    const char *op = slice ? "slice" : "concat";
    if (p->B < 0 || p->Csrc < 0 || p->HW < 0 || p->off < 0 || p->off + p->Csrc > p->Cdst)
        return vkm_elem_err(s, op, "channels [%d, %d) do not fit in %d (B %d, HW %d)", p->off,
                            p->off + p->Csrc, p->Cdst, p->B, p->HW);
    int64_t npart = (int64_t)p->B * p->Csrc * p->HW, nwhole = (int64_t)p->B * p->Cdst * p->HW;
    if (npart == 0) return 0;
    if (nwhole > ELEM_CHUNK)
        return vkm_elem_err(s, op, "%lld floats exceed one binding (%lld)", (long long)nwhole,
                            (long long)ELEM_CHUNK);
    if (vkm_elem_size(s, op, "part", part, npart) || vkm_elem_size(s, op, "whole", whole, nwhole))
        return -1;
    part = vkm_sub(part, 0, (uint64_t)npart * 4);
    whole = vkm_sub(whole, 0, (uint64_t)nwhole * 4);
    int out_access = p->acc ? VKM_RW : VKM_WRITE;
    int pa = slice ? out_access : VKM_READ, wa = slice ? VKM_READ : out_access;
    vkm_bind b[4] = {{part, pa, 0}, {part, pa, 0}, {whole, wa, 0}, {whole, wa, 0}};
    uint32_t vec = p->HW % 4 == 0, spec[3] = {ELEM_LOCAL, vec, p->acc ? 1u : 0u};
    struct { uint32_t B, Csrc, Cdst, HW, off; } pc = {
        (uint32_t)p->B, (uint32_t)p->Csrc, (uint32_t)p->Cdst, (uint32_t)p->HW, (uint32_t)p->off};
    vkm_dispatch_info d = {
        .shader = slice ? VKM_SHADER_SLICE : VKM_SHADER_CONCAT, .spec = spec, .nspec = 3,
        .push = &pc, .push_size = sizeof pc, .binds = b, .nbind = 4,
        .groups = {vkm_elem_groups(vec ? npart / 4 : npart), 1, 1},
        .flops = p->acc ? (double)npart : 0, .bytes = 4.0 * npart * (2 + (p->acc != 0)),
        .label = op};
    return vkm_dispatch(s, &d);
}

int vkm_op_concat(vkm_seq *s, const vkm_chcopy_p *p, vkm_buf part, vkm_buf whole) {
    return chcopy(s, p, part, whole, 0);
}

int vkm_op_slice(vkm_seq *s, const vkm_chcopy_p *p, vkm_buf whole, vkm_buf part) {
    return chcopy(s, p, part, whole, 1);
}

int vkm_op_fill(vkm_seq *s, vkm_buf dst, float value) {
    uint32_t w;
    memcpy(&w, &value, 4);
    if (dst.size % 4) return vkm_elem_err(s, "fill", "%llu bytes is not whole floats",
                                          (unsigned long long)dst.size);
    return dst.size ? vkm_seq_fill(s, dst, w) : 0;
}

int vkm_op_fill_slot(vkm_seq *s, const vkm_chcopy_p *p, vkm_buf whole, float value) {
    if (p->B < 0 || p->Csrc < 0 || p->HW < 0 || p->off < 0 || p->off + p->Csrc > p->Cdst)
        return vkm_elem_err(s, "fill", "slot [%d, %d) does not fit in %d channels", p->off,
                            p->off + p->Csrc, p->Cdst);
    if (vkm_elem_size(s, "fill", "whole", whole, (int64_t)p->B * p->Cdst * p->HW)) return -1;
    uint64_t slot = (uint64_t)p->Csrc * p->HW * 4, rowb = (uint64_t)p->Cdst * p->HW * 4;
    for (int b = 0; b < p->B && slot; b++) {
        int rc = vkm_op_fill(s, vkm_sub(whole, b * rowb + (uint64_t)p->off * p->HW * 4, slot), value);
        if (rc) return rc;
    }
    return 0;
}

static int meann_check(vkm_seq *s, const vkm_meann_p *p, const char *op) {
    if (p->count < 1 || p->count > 4)
        return vkm_elem_err(s, op, "count %d is not in 1..4", p->count);
    return 0;
}

int vkm_op_meann(vkm_seq *s, const vkm_meann_p *p, const vkm_buf *x, vkm_buf out) {
    if (meann_check(s, p, "meann")) return -1;
    struct { uint32_t n; } pc = {0};
    uint32_t spec[2] = {p->acc ? 1u : 0u, (uint32_t)p->count};
    elem_arg args[5];
    for (int k = 0; k < 4; k++) args[k] = (elem_arg){x[k < p->count ? k : 0], VKM_READ, ELEM_PAIR};
    args[4] = (elem_arg){out, p->acc ? VKM_RW : VKM_WRITE, ELEM_PAIR};
    elem_launch L = {.shader = VKM_SHADER_MEANN, .label = "meann", .n = p->n, .args = args,
                     .nargs = 5, .push = &pc, .push_size = sizeof pc, .base_word = -1,
                     .spec = spec, .nspec = 2, .flops = p->count + 1, .bytes = 4.0 * (p->count + 1 + (p->acc != 0))};
    return vkm_elem_run(s, &L);
}

int vkm_op_meann_bwd(vkm_seq *s, const vkm_meann_p *p, vkm_buf dy, const vkm_buf *dx) {
    if (meann_check(s, p, "meann_bwd")) return -1;
    struct { uint32_t n; } pc = {0};
    uint32_t spec[2] = {p->acc ? 1u : 0u, (uint32_t)p->count};
    int acc = p->acc ? VKM_RW : VKM_WRITE;
    elem_arg args[5] = {{dy, VKM_READ, ELEM_PAIR}};
    /* unused slots alias dx[0] with its own access, so barrier tracking stays exact */
    for (int k = 0; k < 4; k++) args[1 + k] = (elem_arg){dx[k < p->count ? k : 0], acc, ELEM_PAIR};
    elem_launch L = {.shader = VKM_SHADER_MEANN_BWD, .label = "meann_bwd", .n = p->n,
                     .args = args, .nargs = 5, .push = &pc, .push_size = sizeof pc,
                     .base_word = -1, .spec = spec, .nspec = 2, .flops = p->count,
                     .bytes = 4.0 * (1 + p->count * (1 + (p->acc != 0)))};
    return vkm_elem_run(s, &L);
}

int vkm_op_ema(vkm_seq *s, const vkm_ema_p *p, vkm_buf param, vkm_buf ema) {
    struct { uint32_t n; float decay; } pc = {0, p->decay};
    elem_arg args[2] = {{param, VKM_READ, ELEM_TEXEL}, {ema, VKM_RW, ELEM_TEXEL_RW}};
    elem_launch L = {.shader = VKM_SHADER_EMA, .label = "ema", .n = p->n, .args = args,
                     .nargs = 2, .push = &pc, .push_size = sizeof pc, .base_word = -1,
                     .flops = 3, .bytes = 12};
    return vkm_elem_run(s, &L);
}
