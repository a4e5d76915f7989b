/* Launchers of the norm family (see ops_norm.h): argument checks, the
 * specialization choices (workgroup size, mode, fused activation, vec4
 * access) and the push constants of shaders/instnorm*.comp, act*.comp,
 * avgpool2*.comp and upsample2*.comp. */
#include <stdarg.h>
#include <stdio.h>
#include "runtime/ops/ops_norm.h"

/* Storage-buffer offsets must be multiples of minStorageBufferOffsetAlignment,
 * which is at most 256 on every device. Small parameter tensors (gamma, beta,
 * AdaIN rows at gamma + C, mean, rstd) may sit at any float offset: they are
 * bound from the 256-byte boundary below and indexed from there. */
#define NORM_MAX_ALIGN 256u
/* Bindings are indexed with 32-bit uints. */
#define NORM_MAX_ELEMS 0xffffffffull

static int norm_fail(const char *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int norm_fail(const char *op, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vkmist: %s: ", op);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

static int check_buf(const char *op, const char *name, vkm_buf b, uint64_t floats) {
    if (b.buffer == VK_NULL_HANDLE) return norm_fail(op, "%s: no buffer", name);
    if (b.size < floats * 4)
        return norm_fail(op, "%s: buffer holds %llu bytes, needs %llu", name,
                         (unsigned long long)b.size, (unsigned long long)floats * 4);
    return 0;
}

/* Rebinds b from the 256-byte boundary at or below it; *eoff = the float
 * index of b's start in the new range. */
static vkm_buf param_view(vkm_buf b, uint32_t *eoff) {
    uint64_t d = b.offset % NORM_MAX_ALIGN;
    b.offset -= d;
    b.size += d;
    if (b.map) b.map -= d;
    *eoff = (uint32_t)(d / 4);
    return b;
}

/* Invocations per plane. A CPU device (lavapipe) runs one subgroup per
 * plane: its workgroups go to threads whole, so more lanes per plane only
 * add barriers (measured: instance norm forward + backward of a config tiny
 * step, 74 -> 34 ms on lavapipe); a GPU wants enough lanes to hide memory
 * latency. */
static uint32_t wg_size_for(vkm_seq *s, uint64_t units) {
    const vkm_device_info *dev = vkm_device(vkm_seq_ctx(s));
    if (dev->cpu_kernels && dev->subgroup_size >= 4 && dev->subgroup_size <= 128)
        return dev->subgroup_size;
    return units <= 32 ? 32 : units <= 64 ? 64 : 128;
}

/* ---- instance norm ------------------------------------------------------ */

/* Mirrors `Push` in shaders/norm_instnorm.glsl. */
typedef struct {
    uint32_t B, C, HW, nwork, gx, gstride, goff, boff, dgoff, dboff, moff, roff, acc, acc_param;
    float eps, slope;
} instnorm_push;

static int instnorm_check(const char *op, const vkm_instnorm_p *p) {
    if (p->B < 1 || p->C < 1 || p->HW < 1)
        return norm_fail(op, "bad shape B=%d C=%d HW=%d", p->B, p->C, p->HW);
    if (p->mode < VKM_NORM_NONE || p->mode > VKM_NORM_ADAIN)
        return norm_fail(op, "unknown mode %d", p->mode);
    if (p->mode == VKM_NORM_ADAIN && p->gstride < p->C)
        return norm_fail(op, "AdaIN gstride %d < C %d", p->gstride, p->C);
    if (!(p->eps > 0)) return norm_fail(op, "eps must be > 0 (got %g)", p->eps);
    if ((uint64_t)p->B * p->C * p->HW > NORM_MAX_ELEMS)
        return norm_fail(op, "tensor of %d x %d x %d is too large", p->B, p->C, p->HW);
    return 0;
}

/* Elements of gamma / beta a mode reads. */
static uint64_t instnorm_nparam(const vkm_instnorm_p *p) {
    return p->mode == VKM_NORM_ADAIN ? (uint64_t)(p->B - 1) * p->gstride + p->C : (uint64_t)p->C;
}

static void instnorm_setup(vkm_seq *s, const vkm_instnorm_p *p, uint32_t nwork, instnorm_push *pc,
                           uint32_t spec[4], vkm_dispatch_info *d) {
    const int vec = p->HW % 4 == 0;
    *pc = (instnorm_push){.B = (uint32_t)p->B, .C = (uint32_t)p->C, .HW = (uint32_t)p->HW,
                          .nwork = nwork, .gstride = (uint32_t)p->gstride,
                          .acc = p->acc != 0, .acc_param = p->acc_param != 0,
                          .eps = p->eps, .slope = p->slope};
    pc->gx = nwork < 65535 ? nwork : 65535;
    spec[0] = wg_size_for(s, vec ? (uint64_t)p->HW / 4 : (uint64_t)p->HW);
    spec[1] = (uint32_t)p->mode;
    spec[2] = p->act != 0;
    spec[3] = (uint32_t)vec;
    d->spec = spec;
    d->nspec = 4;
    d->push = pc;
    d->push_size = sizeof *pc;
    d->groups[0] = pc->gx;
    d->groups[1] = vkm_div_up(nwork, pc->gx);
    d->groups[2] = 1;
}

int vkm_op_instnorm(vkm_seq *s, const vkm_instnorm_p *p, vkm_buf x, vkm_buf gamma,
                    vkm_buf beta, vkm_buf y, vkm_buf mean, vkm_buf rstd) {
    const char *op = "instnorm";
    if (instnorm_check(op, p)) return -1;
    const uint64_t n = (uint64_t)p->B * p->C * p->HW, planes = (uint64_t)p->B * p->C;
    if (check_buf(op, "x", x, n) || check_buf(op, "y", y, n) || check_buf(op, "mean", mean, planes) ||
        check_buf(op, "rstd", rstd, planes))
        return -1;
    if (p->mode == VKM_NORM_NONE) {
        gamma = beta = x;
    } else if (check_buf(op, "gamma", gamma, instnorm_nparam(p)) ||
               check_buf(op, "beta", beta, instnorm_nparam(p))) {
        return -1;
    }
    instnorm_push pc;
    uint32_t spec[4];
    vkm_dispatch_info d = {.shader = VKM_SHADER_INSTNORM, .label = op};
    instnorm_setup(s, p, (uint32_t)planes, &pc, spec, &d);
    x = vkm_sub(x, 0, n * 4);
    y = vkm_sub(y, 0, n * 4);
    const vkm_bind b[8] = {
        {x, VKM_READ, 0},
        {x, VKM_READ, VKM_TEXEL_VEC4},
        {param_view(gamma, &pc.goff), VKM_READ, 0},
        {param_view(beta, &pc.boff), VKM_READ, 0},
        {y, p->acc ? VKM_RW : VKM_WRITE, 0},
        {y, p->acc ? VKM_RW : VKM_WRITE, 0},
        {param_view(vkm_sub(mean, 0, planes * 4), &pc.moff), VKM_WRITE, 0},
        {param_view(vkm_sub(rstd, 0, planes * 4), &pc.roff), VKM_WRITE, 0},
    };
    d.binds = b;
    d.nbind = 8;
    d.flops = 8.0 * (double)n;
    d.bytes = 4.0 * (double)n * (p->acc ? 5 : 4);
    return vkm_dispatch(s, &d);
}

int vkm_op_instnorm_bwd(vkm_seq *s, const vkm_instnorm_p *p, vkm_buf x, vkm_buf mean,
                        vkm_buf rstd, vkm_buf gamma, vkm_buf beta, vkm_buf dy,
                        vkm_buf dx, vkm_buf dgamma, vkm_buf dbeta) {
    const char *op = "instnorm_bwd";
    if (instnorm_check(op, p)) return -1;
    const uint64_t n = (uint64_t)p->B * p->C * p->HW, planes = (uint64_t)p->B * p->C;
    if (check_buf(op, "x", x, n) || check_buf(op, "dy", dy, n) || check_buf(op, "dx", dx, n) ||
        check_buf(op, "mean", mean, planes) || check_buf(op, "rstd", rstd, planes))
        return -1;
    const uint64_t np = instnorm_nparam(p);
    int pacc = VKM_RW;  /* parameter gradients: AFFINE always adds */
    if (p->mode == VKM_NORM_NONE) {
        gamma = beta = dgamma = dbeta = x;
        pacc = VKM_READ;  /* bound but untouched */
    } else {
        if (check_buf(op, "gamma", gamma, np) || check_buf(op, "dgamma", dgamma, np) ||
            check_buf(op, "dbeta", dbeta, np))
            return -1;
        if (!p->act) beta = gamma;  /* not read */
        else if (check_buf(op, "beta", beta, np)) return -1;
        if (p->mode == VKM_NORM_ADAIN && !p->acc_param) pacc = VKM_WRITE;
    }
    instnorm_push pc;
    uint32_t spec[4];
    vkm_dispatch_info d = {.shader = VKM_SHADER_INSTNORM_BWD, .label = op};
    /* AFFINE: one workgroup per channel sums dgamma/dbeta over the batch. */
    instnorm_setup(s, p, (uint32_t)(p->mode == VKM_NORM_AFFINE ? (uint64_t)p->C : planes), &pc, spec, &d);
    x = vkm_sub(x, 0, n * 4);
    dy = vkm_sub(dy, 0, n * 4);
    dx = vkm_sub(dx, 0, n * 4);
    const vkm_bind b[12] = {
        {x, VKM_READ, 0},
        {x, VKM_READ, VKM_TEXEL_VEC4},
        {param_view(vkm_sub(mean, 0, planes * 4), &pc.moff), VKM_READ, 0},
        {param_view(vkm_sub(rstd, 0, planes * 4), &pc.roff), VKM_READ, 0},
        {param_view(gamma, &pc.goff), VKM_READ, 0},
        {param_view(beta, &pc.boff), VKM_READ, 0},
        {dy, VKM_READ, 0},
        {dy, VKM_READ, VKM_TEXEL_VEC4},
        {dx, p->acc ? VKM_RW : VKM_WRITE, 0},
        {dx, p->acc ? VKM_RW : VKM_WRITE, 0},
        {param_view(dgamma, &pc.dgoff), pacc, 0},
        {param_view(dbeta, &pc.dboff), pacc, 0},
    };
    d.binds = b;
    d.nbind = 12;
    d.flops = 14.0 * (double)n;
    d.bytes = 4.0 * (double)n * (p->acc ? 6 : 5);
    return vkm_dispatch(s, &d);
}

/* ---- activation --------------------------------------------------------- */

/* Mirrors `Push` in shaders/norm_act.glsl. */
typedef struct { uint32_t n4, n, acc; float slope; } act_push;

static int act_launch(vkm_seq *s, const vkm_act_p *p, vkm_buf x, vkm_buf dy, vkm_buf out, int bwd) {
    const char *op = bwd ? "act_bwd" : "act";
    if (p->n < 0 || (uint64_t)p->n > NORM_MAX_ELEMS)
        return norm_fail(op, "bad element count %lld", (long long)p->n);
    if (p->n == 0) return 0;
    const uint64_t n = (uint64_t)p->n;
    if (check_buf(op, "x", x, n) || (bwd && check_buf(op, "dy", dy, n)) ||
        check_buf(op, bwd ? "dx" : "y", out, n))
        return -1;
    x = vkm_sub(x, 0, n * 4);
    out = vkm_sub(out, 0, n * 4);
    const int oacc = p->acc ? VKM_RW : VKM_WRITE;
    act_push pc = {(uint32_t)(n / 4), (uint32_t)n, p->acc != 0, p->slope};
    const uint32_t spec[1] = {128};
    /* At least ~4 vec4 per invocation and a bounded group count: lavapipe
     * pays per workgroup; a grid-stride loop covers the rest. */
    uint32_t groups = vkm_div_up(pc.n4, 4u * spec[0]);
    groups = groups < 1 ? 1 : groups > 4096 ? 4096 : groups;
    vkm_bind b[6];
    int nb = 0;
    b[nb++] = (vkm_bind){x, VKM_READ, 0};
    b[nb++] = (vkm_bind){x, VKM_READ, VKM_TEXEL_VEC4};
    if (bwd) {
        dy = vkm_sub(dy, 0, n * 4);
        b[nb++] = (vkm_bind){dy, VKM_READ, 0};
        b[nb++] = (vkm_bind){dy, VKM_READ, VKM_TEXEL_VEC4};
    }
    b[nb++] = (vkm_bind){out, oacc, 0};
    b[nb++] = (vkm_bind){out, oacc, 0};
    vkm_dispatch_info d = {.shader = bwd ? VKM_SHADER_ACT_BWD : VKM_SHADER_ACT,
                           .spec = spec, .nspec = 1, .push = &pc, .push_size = sizeof pc,
                           .binds = b, .nbind = nb, .groups = {groups, 1, 1},
                           .flops = 2.0 * (double)n,
                           .bytes = 4.0 * (double)n * (2 + bwd + (p->acc != 0)), .label = op};
    return vkm_dispatch(s, &d);
}

int vkm_op_act(vkm_seq *s, const vkm_act_p *p, vkm_buf x, vkm_buf y) {
    return act_launch(s, p, x, x, y, 0);
}

int vkm_op_act_bwd(vkm_seq *s, const vkm_act_p *p, vkm_buf x, vkm_buf dy, vkm_buf dx) {
    return act_launch(s, p, x, dy, dx, 1);
}

/* ---- 2x resampling ------------------------------------------------------ */

/* Mirrors `Push` in shaders/norm_resample.glsl. */
typedef struct { uint32_t Hi, Wi, Ho, Wo, units, lshift, chunks, acc; } resample_push;

#define RESAMPLE_WG 64u

/* in/out planes of Hi x Wi and Ho x Wo; down: each output sums a 2x2 input
 * window, else each output reads input (row/2, col/2). */
static int resample_launch(vkm_seq *s, const char *op, vkm_shader_id sh, const vkm_resample_p *p,
                           int down, uint32_t Hi, uint32_t Wi, uint32_t Ho, uint32_t Wo, vkm_buf in,
                           vkm_buf out) {
    if (p->B < 1 || p->C < 1 || p->H < 1 || p->W < 1)
        return norm_fail(op, "bad shape B=%d C=%d H=%d W=%d", p->B, p->C, p->H, p->W);
    const uint64_t planes = (uint64_t)p->B * p->C;
    const uint64_t nin = planes * Hi * Wi, nout = planes * Ho * Wo;
    if (4 * (uint64_t)p->B * p->C * p->H * p->W > NORM_MAX_ELEMS)
        return norm_fail(op, "tensor of %d x %d x %d x %d is too large", p->B, p->C, p->H, p->W);
    if (planes > 65535) return norm_fail(op, "B*C = %llu planes is over 65535", (unsigned long long)planes);
    if (nout == 0) return 0;  /* avgpool2 of a single row or column */
    if (check_buf(op, "output", out, nout)) return -1;
    out = vkm_sub(out, 0, nout * 4);
    if (nin == 0) /* avgpool2_bwd of a single row or column: dx is all zero */
        return p->acc ? 0 : vkm_seq_fill(s, out, 0);
    if (check_buf(op, "input", in, nin)) return -1;
    in = vkm_sub(in, 0, nin * 4);
    /* 4 output columns per lane where rows stay vec4-aligned on both sides */
    const int vec = Wo % 4 == 0 && (down ? Wi == 2 * Wo : Wo == 2 * Wi);
    resample_push pc = {Hi, Wi, Ho, Wo, vec ? Wo / 4 : Wo, 0, 0, p->acc != 0};
    while ((1u << pc.lshift) < pc.units && (1u << pc.lshift) < RESAMPLE_WG) pc.lshift++;
    pc.chunks = vkm_div_up(Ho, RESAMPLE_WG >> pc.lshift);
    /* A few thousand workgroups at most (lavapipe pays per workgroup); each
     * walks row chunks with a stride. */
    uint32_t gx = 4096u / (uint32_t)planes;
    gx = gx < 1 ? 1 : gx > pc.chunks ? pc.chunks : gx;
    const uint32_t spec[2] = {RESAMPLE_WG, (uint32_t)vec};
    const int oacc = p->acc ? VKM_RW : VKM_WRITE;
    const vkm_bind b[4] = {{in, VKM_READ, 0}, {in, VKM_READ, VKM_TEXEL_VEC4}, {out, oacc, 0}, {out, oacc, 0}};
    vkm_dispatch_info d = {.shader = sh, .spec = spec, .nspec = 2, .push = &pc,
                           .push_size = sizeof pc, .binds = b, .nbind = 4,
                           .groups = {gx, (uint32_t)planes, 1},
                           .flops = (double)(nin > nout ? nin : nout),
                           .bytes = 4.0 * (double)(nin + nout * (p->acc ? 2 : 1)), .label = op};
    return vkm_dispatch(s, &d);
}

int vkm_op_avgpool2(vkm_seq *s, const vkm_resample_p *p, vkm_buf x, vkm_buf y) {
    return resample_launch(s, "avgpool2", VKM_SHADER_AVGPOOL2, p, 1, (uint32_t)p->H, (uint32_t)p->W,
                           (uint32_t)(p->H / 2), (uint32_t)(p->W / 2), x, y);
}

int vkm_op_avgpool2_bwd(vkm_seq *s, const vkm_resample_p *p, vkm_buf dy, vkm_buf dx) {
    return resample_launch(s, "avgpool2_bwd", VKM_SHADER_AVGPOOL2_BWD, p, 0, (uint32_t)(p->H / 2),
                           (uint32_t)(p->W / 2), (uint32_t)p->H, (uint32_t)p->W, dy, dx);
}

int vkm_op_upsample2(vkm_seq *s, const vkm_resample_p *p, vkm_buf x, vkm_buf y) {
    return resample_launch(s, "upsample2", VKM_SHADER_UPSAMPLE2, p, 0, (uint32_t)p->H, (uint32_t)p->W,
                           2u * (uint32_t)p->H, 2u * (uint32_t)p->W, x, y);
}

int vkm_op_upsample2_bwd(vkm_seq *s, const vkm_resample_p *p, vkm_buf dy, vkm_buf dx) {
    return resample_launch(s, "upsample2_bwd", VKM_SHADER_UPSAMPLE2_BWD, p, 1, 2u * (uint32_t)p->H,
                           2u * (uint32_t)p->W, (uint32_t)p->H, (uint32_t)p->W, dy, dx);
}
