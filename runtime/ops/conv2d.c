/* Launchers of conv2d forward, backward-data, backward-filter and the bias
 * gradient (shaders/conv2d*.comp): argument checks, the tile-strategy and
 * workgroup choices, and push constants mirroring the shaders' blocks. */
#include "runtime/ops/ops_conv.h"
#include "runtime/ops/conv_util.h"

#define IG_LOCAL 64u  /* invocations per workgroup (at most), shaders/conv_igemm.glsl */
#define IG_TM 16      /* output channels per tile */
/* pixels per tile: 16, or 8 / 4 for rows that short (no empty columns) */
static uint32_t ig_tn(int wo) { return wo <= 4 ? 4u : wo <= 8 ? 8u : 16u; }
/* output rows per tile: short rows stack so a tile still holds 16 pixels
 * (each filter tap loaded then feeds as many FMAs as on wide maps; measured
 * on lavapipe, config tiny step: conv2d 190 -> 155 ms, bwd_data 170 -> 146) */
static uint32_t ig_tr(int wo) { return wo <= 4 ? 4u : wo <= 8 ? 2u : 1u; }
/* shaders/conv2d_bwd_filter.comp: reduction rows per workgroup on a GPU
 * (bounded by its shared array) and output channels per tile */
#define BF_RS 2u
#define BF_TM 8

/* Mirrors Params in shaders/conv_igemm.glsl. */
typedef struct {
    int B, IC, H, W, OC, Ho, Wo, pad, segs, nseg, ntiles, bias, acc, xoff, woff, boff, yoff;
} igemm_push;

static int conv_check(vkm_seq *s, const char *op, const vkm_conv2d_p *p) {
    if (p->pool && p->up) return vkm_seq_fail(s, "%s: pool and up exclude each other", op);
    if (p->up && (p->H % 2 || p->W % 2))
        return vkm_seq_fail(s, "%s: up needs an even input size (the upsampled %dx%d)", op, p->H, p->W);
    if (p->B < 1 || p->Cin < 1 || p->Cout < 1 || p->H < 1 || p->W < 1)
        return vkm_seq_fail(s, "%s: bad shape B=%d Cin=%d H=%d W=%d Cout=%d", op, p->B, p->Cin, p->H,
                            p->W, p->Cout);
    if (p->K < 1 || p->K > 4)
        return vkm_seq_fail(s, "%s: filter size K=%d unsupported (1..4)", op, p->K);
    if (p->pad < 0 || p->pad >= p->K)
        return vkm_seq_fail(s, "%s: padding %d unsupported for K=%d (0..K-1)", op, p->pad, p->K);
    if (vkm_conv2d_ho(p) < 1 || vkm_conv2d_wo(p) < 1)
        return vkm_seq_fail(s, "%s: a %dx%d input is smaller than the %dx%d filter (pad %d)", op,
                            p->H, p->W, p->K, p->K, p->pad);
    if (vkm_conv2d_yh(p) < 1 || vkm_conv2d_yw(p) < 1)
        return vkm_seq_fail(s, "%s: the %dx%d output is too small to pool", op, vkm_conv2d_ho(p), vkm_conv2d_wo(p));
    return 0;
}

/* A valid conv whose filter covers the whole input (the style encoder's 4x4
 * on a 4x4 map) is a linear layer over the flattened input: run it as GEMM,
 * which parallelizes over the output channels instead of one pixel. */
static int as_linear(const vkm_conv2d_p *p, vkm_linear_p *l) {
    if (p->pool || p->up || p->pad != 0 || p->H != p->K || p->W != p->K || p->K == 1) return 0;
    *l = (vkm_linear_p){p->B, p->Cin * p->K * p->K, p->Cout, p->bias, p->acc};
    return 1;
}


/* One implicit-GEMM dispatch: in[B,IC,H,W] -> out[B,OC,Ho,Wo]; pool 1 / 2:
 * Ho, Wo are the 2x2 means / sums of the conv's output; up 1 / 2: in is
 * stored at H/2 x W/2 (floored) and read nearest-upsampled / spread as
 * avgpool2's adjoint (x 1/4). */
static int igemm(vkm_seq *s, vkm_shader_id shader, const char *op, igemm_push *pc, vkm_buf in,
                 vkm_buf w, vkm_buf bias, vkm_buf out, int K, int pool, int up) {
    uint32_t tn = ig_tn(pc->Wo), tr = ig_tr(pc->Wo);
    pc->segs = (int)((pc->Wo + tn - 1) / tn);
    long long nseg = (long long)pc->B * ((pc->Ho + tr - 1) / tr) * pc->segs;
    /* single-channel outputs (the image's gradient): 1-channel tiles */
    uint32_t tm = pc->OC == 1 ? 1 : IG_TM;
    long long ntiles = nseg * ((pc->OC + tm - 1) / tm);
    if (ntiles > CONV_MAX_ELEMS) return vkm_seq_fail(s, "%s: output too large", op);
    pc->nseg = (int)nseg, pc->ntiles = (int)ntiles;
    uint32_t groups[3], local = conv_local(s, ntiles, IG_LOCAL);
    if (conv_grid(s, op, ntiles, local, groups)) return -1;
    /* the broadcast needs one channel block per workgroup */
    uint32_t strategy = nseg % local == 0 && tm == IG_TM ? conv_strategy(s, 0) : 0;
    vkm_buf xin = conv_view(s, in, &pc->xoff);
    /* stored rows on vec4 boundaries: X through an RGBA32F view (shaders/conv_igemm.glsl XMIS) */
    int ush = up ? 1 : 0;
    int xmis = conv_vec4(s, pc->W >> ush, pc->xoff) ? -pc->pad & ((4 << ush) - 1) : -1;
    vkm_bind binds[4] = {
        {xin, VKM_READ, xmis >= 0 ? VKM_TEXEL_VEC4 : 1},
        {conv_view(s, w, &pc->woff), VKM_READ, 1},
        {conv_view(s, bias, &pc->boff), VKM_READ, 1},
        {conv_view(s, out, &pc->yoff), pc->acc ? VKM_RW : VKM_WRITE, 0}};
    uint32_t spec[9] = {local, (uint32_t)K, strategy, tm, tn, tr, (uint32_t)pool, (uint32_t)up, (uint32_t)xmis};
    /* pooled: K*K taps per pooled pixel (the box sums' adds are not counted) */
    double flops = 2.0 * pc->B * pc->OC * pc->Ho * pc->Wo * (double)pc->IC * K * K;
    double bytes = 4.0 * ((double)pc->B * pc->IC * (pc->H >> ush) * (pc->W >> ush) + (double)pc->OC * pc->IC * K * K +
                          (double)pc->B * pc->OC * pc->Ho * pc->Wo * (pc->acc ? 2 : 1));
    vkm_dispatch_info d = {.shader = shader, .spec = spec, .nspec = 9, .push = pc,
                           .push_size = sizeof *pc, .binds = binds, .nbind = 4,
                           .groups = {groups[0], groups[1], 1}, .flops = flops, .bytes = bytes,
                           .label = op};
    return vkm_dispatch(s, &d);
}

int vkm_op_conv2d(vkm_seq *s, const vkm_conv2d_p *p, vkm_buf x, vkm_buf w, vkm_buf b, vkm_buf y) {
    const char *op = "conv2d";
    if (conv_check(s, op, p) || conv_check_buf(s, op, "x", x, vkm_conv2d_nx(p)) ||
        conv_check_buf(s, op, "w", w, vkm_conv2d_nw(p)) || conv_check_buf(s, op, "y", y, vkm_conv2d_ny(p)) ||
        (p->bias && conv_check_buf(s, op, "b", b, p->Cout)))
        return -1;
    vkm_linear_p l;   /* (its dispatch is labelled "linear") */
    if (as_linear(p, &l)) return vkm_op_linear(s, &l, x, w, b, y);
    igemm_push pc = {p->B, p->Cin, p->H, p->W, p->Cout, vkm_conv2d_yh(p), vkm_conv2d_yw(p),
                     p->pad, 0, 0, 0, p->bias != 0, p->acc != 0, 0, 0, 0, 0};
    return igemm(s, VKM_SHADER_CONV2D, op, &pc, x, w, p->bias ? b : w, y, p->K, p->pool ? 1 : 0, p->up);
}

int vkm_op_conv2d_bwd_data(vkm_seq *s, const vkm_conv2d_p *p, vkm_buf dy, vkm_buf w, vkm_buf dx) {
    const char *op = "conv2d_bwd_data";
    if (conv_check(s, op, p) || conv_check_buf(s, op, "dy", dy, vkm_conv2d_ny(p)) ||
        conv_check_buf(s, op, "w", w, vkm_conv2d_nw(p)) || conv_check_buf(s, op, "dx", dx, vkm_conv2d_nx(p)))
        return -1;
    vkm_linear_p l;
    if (as_linear(p, &l)) return vkm_op_linear_bwd_data(s, &l, dy, w, dx);
    /* the forward correlation of dy with the flipped filter, padding K-1-pad;
     * up: upsample2's adjoint sums each 2x2 block of it on the way; pool: dy
     * is read through avgpool2's adjoint (no spread copy) */
    igemm_push pc = {p->B, p->Cout, vkm_conv2d_ho(p), vkm_conv2d_wo(p), p->Cin, vkm_conv2d_xh(p), vkm_conv2d_xw(p),
                     p->K - 1 - p->pad, 0, 0, 0, 0, p->acc != 0, 0, 0, 0, 0};
    return igemm(s, VKM_SHADER_CONV2D_BWD_DATA, op, &pc, dy, w, w, dx, p->K, p->up ? 2 : 0, p->pool ? 2 : 0);
}

/* Mirrors Params in shaders/conv2d_bwd_filter.comp. */
typedef struct { int B, Cin, H, W, Cout, Ho, Wo, pad, acc, xoff, dyoff, dwoff, bias, dboff; } bwd_filter_push;

int vkm_op_conv2d_bwd_filter(vkm_seq *s, const vkm_conv2d_p *p, vkm_buf x, vkm_buf dy, vkm_buf dw,
                             vkm_buf db) {
    const char *op = "conv2d_bwd_filter";
    if (conv_check(s, op, p) || conv_check_buf(s, op, "x", x, vkm_conv2d_nx(p)) ||
        conv_check_buf(s, op, "dy", dy, vkm_conv2d_ny(p)) || conv_check_buf(s, op, "dw", dw, vkm_conv2d_nw(p)) ||
        (p->bias && conv_check_buf(s, op, "db", db, p->Cout)))
        return -1;
    vkm_linear_p l;
    if (as_linear(p, &l)) return vkm_op_linear_bwd_weight(s, &l, x, dy, dw, db);
    /* a workgroup owns BF_TM output x 8*tc input channels (see the shader);
     * measured on lavapipe: the biggest tile that the channels fill (16
     * input channels fill 2 per lane, not 4: no half-idle tiles) */
    int tc = p->Cin <= 8 ? (p->K == 1 ? 2 : 1)
             : p->Cin <= 16 ? 2
             : p->K == 1 ? (p->Cin >= 64 ? 8 : 4)
             : p->K == 3 ? 4 : 2;
    uint32_t gx = vkm_div_up((uint64_t)p->Cin, 8u * tc), gy = vkm_div_up((uint64_t)p->Cout, BF_TM);
    if (gx > 65535 || gy > 65535)
        return vkm_seq_fail(s, "%s: %d x %d channels too many for one dispatch", op, p->Cout, p->Cin);
    int Ho = vkm_conv2d_yh(p), Wo = vkm_conv2d_yw(p);   /* dy's: pooled when pool */
    bwd_filter_push pc = {p->B, p->Cin, p->H, p->W, p->Cout, Ho, Wo, p->pad, p->acc != 0, 0, 0, 0, p->bias != 0, 0};
    int wacc = p->acc ? VKM_RW : VKM_WRITE;
    vkm_buf xv = conv_view(s, x, &pc.xoff), dyv = conv_view(s, dy, &pc.dyoff);
    /* rows on vec4 boundaries: x and dy through RGBA32F views (the shader's XMIS, DV4) */
    int xmis = !p->up && conv_vec4(s, p->W, pc.xoff) ? -p->pad & 3 : -1;
    int dv4 = conv_vec4(s, Wo, pc.dyoff);
    vkm_bind binds[4] = {{xv, VKM_READ, xmis >= 0 ? VKM_TEXEL_VEC4 : 1},
                         {dyv, VKM_READ, dv4 ? VKM_TEXEL_VEC4 : 1},
                         {conv_view(s, dw, &pc.dwoff), wacc, 0},
                         {conv_view(s, p->bias ? db : dw, &pc.dboff), wacc, 0}};
    /* a CPU device runs a workgroup's invocations in turn on one thread, so
     * splitting the reduction over RS rows only adds the shared-memory meeting
     * (measured on lavapipe: config tiny step 155 -> 130-140 ms, every small
     * config shape as fast or faster); a GPU keeps the rows for parallelism */
    uint32_t rs = vkm_device(vkm_seq_ctx(s))->cpu_kernels ? 1u : BF_RS;
    uint32_t spec[8] = {rs, (uint32_t)p->K, conv_strategy(s, 1), (uint32_t)tc, (uint32_t)(p->pool != 0),
                        (uint32_t)(p->up != 0), (uint32_t)xmis, (uint32_t)dv4};
    double flops = 2.0 * p->B * p->Cout * (double)Ho * Wo * p->Cin * p->K * p->K;
    double bytes = 4.0 * ((double)vkm_conv2d_nx(p) + (double)vkm_conv2d_ny(p) + (double)vkm_conv2d_nw(p) * (p->acc ? 2 : 1));
    vkm_dispatch_info d = {.shader = VKM_SHADER_CONV2D_BWD_FILTER, .spec = spec, .nspec = 8,
                           .push = &pc, .push_size = sizeof pc, .binds = binds, .nbind = 4,
                           .groups = {gx, gy, 1}, .flops = flops, .bytes = bytes, .label = op};
    return vkm_dispatch(s, &d);
}

/* Mirrors Params in shaders/conv2d_bwd_bias.comp. */
typedef struct { int B, C, L, acc, dyoff, dboff; } bwd_bias_push;

int vkm_op_conv2d_bwd_bias(vkm_seq *s, const vkm_conv2d_p *p, vkm_buf dy, vkm_buf db) {
    const char *op = "conv2d_bwd_bias";
    if (conv_check(s, op, p) || conv_check_buf(s, op, "dy", dy, vkm_conv2d_ny(p)) ||
        conv_check_buf(s, op, "db", db, p->Cout))
        return -1;
    bwd_bias_push pc = {p->B, p->Cout, vkm_conv2d_yh(p) * vkm_conv2d_yw(p), p->acc != 0, 0, 0};
    vkm_bind binds[2] = {{conv_view(s, dy, &pc.dyoff), VKM_READ, 1},
                         {conv_view(s, db, &pc.dboff), p->acc ? VKM_RW : VKM_WRITE, 0}};
    uint32_t gx = (uint32_t)(p->Cout < 65535 ? p->Cout : 65535);
    uint32_t gy = vkm_div_up((uint64_t)p->Cout, gx);
    vkm_dispatch_info d = {.shader = VKM_SHADER_CONV2D_BWD_BIAS, .push = &pc,
                           .push_size = sizeof pc, .binds = binds, .nbind = 2,
                           .groups = {gx, gy, 1}, .flops = (double)vkm_conv2d_ny(p),
                           .bytes = 4.0 * ((double)vkm_conv2d_ny(p) + p->Cout), .label = op};
    return vkm_dispatch(s, &d);
}
