/* Launchers of GEMM (shaders/gemm.comp) and of the linear layers built on
 * it: argument checks, tile strategy, push constants. */
#include "runtime/ops/ops_conv.h"
#include "runtime/ops/conv_util.h"
#include "runtime/ref/ref_conv.h"

#define GEMM_LOCAL 64u  /* invocations per workgroup (at most), shaders/gemm.comp */
#define GEMM_TM 16      /* tile rows (at most), shaders/gemm.comp */
#define GEMM_TN 16      /* tile columns */

/* Mirrors Params in shaders/gemm.comp. */
typedef struct {
    int M, N, K, ta, tb, bias, acc;
    float alpha;
    int aoff, boff, biasoff, coff, nseg, ntiles, rowsum, rsoff;
} gemm_push;

/* rs: when it has a buffer, also rs[M] (+)= the row sums of op(A) */
static int gemm_as(vkm_seq *s, const char *op, const vkm_gemm_p *p, vkm_buf a, vkm_buf b,
                   vkm_buf bias, vkm_buf c, vkm_buf rs) {
    if (p->M < 1 || p->N < 1 || p->K < 1)
        return vkm_seq_fail(s, "%s: bad shape M=%d N=%d K=%d", op, p->M, p->N, p->K);
    if (conv_check_buf(s, op, "A", a, (long long)p->M * p->K) ||
        conv_check_buf(s, op, "B", b, (long long)p->K * p->N) ||
        conv_check_buf(s, op, "C", c, (long long)p->M * p->N) ||
        (p->bias && conv_check_buf(s, op, "bias", bias, p->N)) ||
        (rs.buffer && conv_check_buf(s, op, "row sums", rs, p->M)))
        return -1;
    /* short outputs (a linear layer's batch rows) get short tiles */
    int tm = p->M <= 4 ? 4 : p->M <= 8 ? 8 : GEMM_TM;
    long long nseg = (p->N + GEMM_TN - 1) / GEMM_TN;
    long long ntiles = nseg * ((p->M + tm - 1) / tm);
    uint32_t groups[3], local = conv_local(s, ntiles, GEMM_LOCAL);
    if (conv_grid(s, op, ntiles, local, groups)) return -1;
    gemm_push pc = {p->M, p->N, p->K, p->ta != 0, p->tb != 0, p->bias != 0, p->acc != 0, p->alpha,
                    0, 0, 0, 0, (int)nseg, (int)ntiles, rs.buffer != VK_NULL_HANDLE, 0};
    /* the broadcast needs one row block per workgroup */
    uint32_t strategy = nseg % local == 0 && tm == GEMM_TM ? conv_strategy(s, 0) : 0;
    int cacc = p->acc ? VKM_RW : VKM_WRITE;
    vkm_buf av = conv_view(s, a, &pc.aoff), bv = conv_view(s, b, &pc.boff);
    /* vec4 fetches where rows start on vec4 boundaries (the shader's AV, BV):
     * along k for A stored [M,K] and B stored [N,K], else along m / n */
    uint32_t a4 = !p->ta ? (uint32_t)conv_vec4(s, p->K, pc.aoff) : conv_vec4(s, p->M, pc.aoff) * 2u;
    uint32_t b4 = p->tb ? (uint32_t)conv_vec4(s, p->K, pc.boff) : conv_vec4(s, p->N, pc.boff) * 2u;
    if (a4) strategy = 0;   /* the broadcast serves scalar A fetches only */
    vkm_bind binds[5] = {{av, VKM_READ, a4 ? VKM_TEXEL_VEC4 : 1},
                         {bv, VKM_READ, b4 ? VKM_TEXEL_VEC4 : 1},
                         {conv_view(s, p->bias ? bias : a, &pc.biasoff), VKM_READ, 1},
                         {conv_view(s, c, &pc.coff), cacc, 0},
                         {conv_view(s, rs.buffer ? rs : c, &pc.rsoff), cacc, 0}};
    uint32_t spec[5] = {local, strategy, (uint32_t)tm, a4, b4};
    double mn = (double)p->M * p->N;
    vkm_dispatch_info d = {.shader = VKM_SHADER_GEMM, .spec = spec, .nspec = 5, .push = &pc,
                           .push_size = sizeof pc, .binds = binds, .nbind = 5,
                           .groups = {groups[0], groups[1], 1},
                           .flops = 2.0 * mn * p->K + (rs.buffer ? (double)p->M * p->K : 0),
                           .bytes = 4.0 * ((double)p->M * p->K + (double)p->K * p->N + mn * (p->acc ? 2 : 1)),
                           .label = op};
    return vkm_dispatch(s, &d);
}

int vkm_op_gemm(vkm_seq *s, const vkm_gemm_p *p, vkm_buf a, vkm_buf b, vkm_buf bias, vkm_buf c) {
    return gemm_as(s, "gemm", p, a, b, bias, c, (vkm_buf){0});
}

static int linear_check(vkm_seq *s, const char *op, const vkm_linear_p *p) {
    if (p->B < 1 || p->in < 1 || p->out < 1)
        return vkm_seq_fail(s, "%s: bad shape B=%d in=%d out=%d", op, p->B, p->in, p->out);
    return 0;
}

int vkm_op_linear(vkm_seq *s, const vkm_linear_p *p, vkm_buf x, vkm_buf w, vkm_buf b, vkm_buf y) {
    if (linear_check(s, "linear", p)) return -1;
    vkm_gemm_p g = vkm_linear_fwd_gemm(p);
    return gemm_as(s, "linear", &g, x, w, b, y, (vkm_buf){0});
}

int vkm_op_linear_bwd_data(vkm_seq *s, const vkm_linear_p *p, vkm_buf dy, vkm_buf w, vkm_buf dx) {
    if (linear_check(s, "linear_bwd_data", p)) return -1;
    vkm_gemm_p g = vkm_linear_bwd_data_gemm(p);
    return gemm_as(s, "linear_bwd_data", &g, dy, w, w, dx, (vkm_buf){0});
}

int vkm_op_linear_bwd_weight(vkm_seq *s, const vkm_linear_p *p, vkm_buf x, vkm_buf dy, vkm_buf dw,
                             vkm_buf db) {
    if (linear_check(s, "linear_bwd_weight", p)) return -1;
    vkm_gemm_p g = vkm_linear_bwd_weight_gemm(p);
    /* db = the row sums of op(A) = dy^T, in the same dispatch */
    return gemm_as(s, "linear_bwd_weight", &g, dy, x, dy, dw, p->bias ? db : (vkm_buf){0});
}
