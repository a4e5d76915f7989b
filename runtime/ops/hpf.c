/* Launchers of the fixed high-pass filter and its input gradient
 * (shaders/hpf.comp, hpf_bwd.comp: the same correlation). */
#include "runtime/ops/ops_conv.h"
#include "runtime/ops/conv_util.h"

#define HPF_LOCAL 64u

/* Mirrors Params in shaders/conv_hpf.glsl. */
typedef struct { int planes, H, W, acc; float scale; int xoff, yoff; } hpf_push;

static int hpf_run(vkm_seq *s, vkm_shader_id shader, const char *op, const vkm_hpf_p *p, vkm_buf x,
                   vkm_buf y) {
    if (p->B < 1 || p->C < 1 || p->H < 1 || p->W < 1)
        return vkm_seq_fail(s, "%s: bad shape B=%d C=%d H=%d W=%d", op, p->B, p->C, p->H, p->W);
    long long n = (long long)p->B * p->C * p->H * p->W;
    if (conv_check_buf(s, op, "input", x, n) || conv_check_buf(s, op, "output", y, n)) return -1;
    hpf_push pc = {p->B * p->C, p->H, p->W, p->acc != 0, p->scale, 0, 0};
    vkm_buf xv = conv_view(s, x, &pc.xoff), yv = conv_view(s, y, &pc.yoff);
    /* rows on vec4 boundaries: 4 pixels per invocation (the shader's V4) */
    uint32_t v4 = conv_vec4(s, p->W, pc.xoff) && pc.yoff % 4 == 0;
    int yacc = p->acc ? VKM_RW : VKM_WRITE;
    vkm_bind binds[3] = {{xv, VKM_READ, v4 ? VKM_TEXEL_VEC4 : 1}, {yv, yacc, 0}, {yv, yacc, 0}};
    uint32_t gx = vkm_div_up((uint64_t)p->H * p->W / (v4 ? 4 : 1), HPF_LOCAL);
    uint32_t gy = (uint32_t)(pc.planes < 65535 ? pc.planes : 65535);
    uint32_t gz = vkm_div_up((uint64_t)pc.planes, gy);
    if (gx > 65535 || gz > 65535) return vkm_seq_fail(s, "%s: tensor too large for one dispatch", op);
    vkm_dispatch_info d = {.shader = shader, .spec = &v4, .nspec = 1, .push = &pc, .push_size = sizeof pc,
                           .binds = binds, .nbind = 3, .groups = {gx, gy, gz}, .flops = 10.0 * n,
                           .bytes = 4.0 * n * (p->acc ? 3 : 2), .label = op};
    return vkm_dispatch(s, &d);
}

int vkm_op_hpf(vkm_seq *s, const vkm_hpf_p *p, vkm_buf x, vkm_buf y) {
    return hpf_run(s, VKM_SHADER_HPF, "hpf", p, x, y);
}

int vkm_op_hpf_bwd(vkm_seq *s, const vkm_hpf_p *p, vkm_buf dy, vkm_buf dx) {
    return hpf_run(s, VKM_SHADER_HPF_BWD, "hpf_bwd", p, dy, dx);
}
