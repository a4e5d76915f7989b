// Implicit-GEMM 2-D convolution (stride 1, zero padding), shared by
// conv2d.comp (forward) and conv2d_bwd_data.comp (input gradient = the same
// correlation of dy with the flipped, transposed filter; define
// CONV_TRANSPOSED_W). Generic names: input [B, IC, H, W] -> output
// [B, OC, Ho, Wo]; the launcher maps the backward's shapes onto them.
//
// Tiling (STRATEGY, a specialization constant, so a GPU shared-memory path
// can be added): every invocation owns a register tile of TM output channels
// x TN consecutive pixels of one output row (16 x 16 measured fastest on
// lavapipe: fewer loads per FMA beat the register spills; TN is a
// specialization constant so that rows of 8 or 4 pixels, the deep levels of
// the small configs, don't compute 16-pixel tiles half or 3/4 empty). Each input row
// segment (TN + K - 1 values) is loaded once per (channel, ky) and reused by
// all kx taps. STRATEGY 0 loads the TM filter taps per invocation (the same
// address in every lane: fastest on lavapipe); STRATEGY 1 loads them once
// per 8-lane group and broadcasts (all invocations of a workgroup share the
// channel block; subgroup size a multiple of 8). Read-only operands come
// through texel buffers (fastest on lavapipe).
//
// POOL: the output is the mean (1) or the sum (2: upsample2's adjoint, for
// the input gradient of an up conv) of each 2x2 block of the conv's output.
// That is the conv, at stride 2, of the input's 2x2 box sums, so a tile loads
// two input rows per tap row, sums each 2x2 box once for all TM channels and
// runs K*K taps per pooled pixel instead of 4*K*K.
// UP: the input is read nearest-upsampled (stored at H/2 x W/2, floored): the
// conv of upsample2(x) without the upsampled copy (1), or of avgpool2's
// adjoint, dy/4 spread over each 2x2 block (2: the input gradient of a pooled
// conv; an odd H or W leaves its last row or column zero, the one the pooling
// floor dropped).
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_EXT_control_flow_attributes : require

#define TMMAX 16
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int K = 3;         // filter size, 1..KMAX
layout(constant_id = 2) const int STRATEGY = 0;  // 0: direct loads, 1: subgroup broadcast
// Output channels per tile: TMMAX (a multiple of 8, for the broadcast), or 1
// for single-channel outputs (the image's gradient) instead of 15 idle rows.
layout(constant_id = 3) const int TM = 16;   // TMMAX or 1
layout(constant_id = 4) const int TN = 16;   // pixels per tile: 16, 8 or 4
// Output rows per tile: 1, or 2 / 4 for maps of rows of 8 / 4 pixels, so a
// tile still holds 16 pixels and each filter tap loaded feeds as many FMAs.
layout(constant_id = 5) const int TR = 1;
layout(constant_id = 6) const int POOL = 0;   // 0, 1 (mean) or 2 (sum)
layout(constant_id = 7) const int UP = 0;     // 0, 1 or 2
// XMIS >= 0: X is bound as an RGBA32F view and every stored row starts on a
// vec4 (stored width and binding offset multiples of 4), so a row segment
// comes in a few vec4 fetches instead of one scalar fetch per column (on
// lavapipe a scalar texel fetch is an 8-lane gather, the costliest
// instruction of the loop; a vec4 fetch is 8 plain 16-byte loads). XMIS is
// the segment's first read column modulo 4 << USH, (-pad) mod (4 << USH):
// ox0 is 0 or a multiple of 16, so it does not change that. -1: scalar
// fetches through an R32F view.
layout(constant_id = 8) const int XMIS = -1;
const float PSCALE = POOL == 1 || UP == 2 ? 0.25 : 1.0;
const int USH = UP != 0 ? 1 : 0;   // stored = read size >> USH
#define TRMAX 4

#define TNMAX 16
#define KMAX 4
// input columns a tile reads per row: TN + K - 1, or 2 TN + K - 1 pooled
#define SEGMAX (2 * TNMAX + KMAX - 1)
const int SX = POOL != 0 ? 2 : 1;   // input pixels per output pixel
const int SEG = SX * TN + K - 1;

layout(push_constant) uniform Params {
    int B, IC, H, W, OC, Ho, Wo, pad;
    int segs;     // TN-wide segments per output row
    int nseg;     // segments of the whole output (B * ceil(Ho / TR) * segs)
    int ntiles;   // nseg * output-channel blocks: the invocations with work
    int bias, acc;
    int xoff, woff, boff, yoff;   // float offsets of the operands in their bindings
} pc;

layout(binding = 0) uniform samplerBuffer X;
layout(binding = 1) uniform samplerBuffer Wt;
layout(binding = 2) uniform samplerBuffer Bias;
layout(binding = 3) buffer Out { float y[]; };
const int RS_SHIFT = USH;
#include "conv_rowseg.glsl"

// Filter tap (oc, ic, tap) of the effective [OC, IC, K, K] filter.
int widx(int oc, int ic, int tap) {
#ifdef CONV_TRANSPOSED_W
    return pc.woff + (ic * pc.OC + oc) * (K * K) + (K * K - 1 - tap);
#else
    return pc.woff + (oc * pc.IC + ic) * (K * K) + tap;
#endif
}

void main() {
    // One flat index over (channel block, segment) keeps workgroups full on
    // small maps without a workgroup-size variant per shape.
    int g = int((gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
                gl_LocalInvocationID.x);
    bool valid = g < pc.ntiles;
    if (!valid) {
        if (STRATEGY == 0) return;   // idle lanes of the last workgroup
        g = 0;   // the broadcast needs every lane: compute, store nothing
    }
    int cob = g / pc.nseg, seg = g - cob * pc.nseg;
    int row = seg / pc.segs;
    int ox0 = (seg - row * pc.segs) * TN;
    int rows = (pc.Ho + TR - 1) / TR;   // row groups per image
    int b = row / rows, oy = (row - b * rows) * TR;
    int oc0 = cob * TM;
    int lane = int(gl_SubgroupInvocationID) & 7;
    int ocl[TMMAX / 8];
    [[unroll]] for (int h = 0; h < TMMAX / 8; h++) ocl[h] = min(oc0 + h * 8 + lane, pc.OC - 1);

    float acc[TMMAX][TRMAX * TNMAX];   // [channel][row * TN + pixel]
    [[unroll]] for (int i = 0; i < TMMAX; i++)
        [[unroll]] for (int j = 0; j < TRMAX * TNMAX; j++) acc[i][j] = 0.0;

    // the readable extent: up, what the stored (floored) map covers
    int xw = pc.W >> USH, xh = pc.H >> USH;   // stored sizes
    int hread = xh << USH, wread = xw << USH;
    int plane = xh * xw;
    // column validity of the input row segment does not change with channel or ky
    bool colok[SEGMAX];
    int colidx[SEGMAX];
    [[unroll]] for (int t = 0; t < SEGMAX; t++) {
        int ix = SX * ox0 + t - pc.pad;
        colok[t] = ix >= 0 && ix < wread;
        colidx[t] = clamp(ix, 0, wread - 1) >> USH;
    }
    int xbase = pc.xoff + b * pc.IC * plane;
    // XMIS >= 0: the segment's first vec4 and the vec4s per stored row
    int v04 = (SX * ox0 - pc.pad - XM0) >> (2 + USH), w4 = xw >> 2;
    for (int ic = 0; ic < pc.IC; ic++, xbase += plane) {
        for (int ky = 0; ky < K; ky++) {
            float xr[TRMAX][SEGMAX];   // the taps' inputs: x, or the 2x2 box sums when pooled
            [[unroll]] for (int r = 0; r < TRMAX; r++) {
                if (r < TR) {
                    int iy = SX * (oy + r) + ky - pc.pad;
                    bool rowok = iy >= 0 && iy < hread;
                    int rbase = xbase + (clamp(iy, 0, hread - 1) >> USH) * xw;
                    bool rowok2 = iy + 1 >= 0 && iy + 1 < hread;
                    int rbase2 = xbase + (clamp(iy + 1, 0, hread - 1) >> USH) * xw;
                    float seg[SEGMAX];
                    rowseg(rbase, rbase2, rowok, rowok2, colok, colidx, v04, w4, seg);
                    [[unroll]] for (int t = 0; t < SEGMAX; t++) xr[r][t] = seg[t];
                }
            }
            [[unroll]] for (int kx = 0; kx < KMAX; kx++) {
                if (kx < K) {
                    int tap = ky * K + kx;
                    float wv[TMMAX];
                    if (STRATEGY == 1) {
                        float wl[TMMAX / 8];   // lane l holds channels oc0 + l, oc0 + 8 + l, ...
                        [[unroll]] for (int h = 0; h < TMMAX / 8; h++) wl[h] = texelFetch(Wt, widx(ocl[h], ic, tap)).r;
                        [[unroll]] for (int i = 0; i < TMMAX; i++) wv[i] = subgroupBroadcast(wl[i / 8], i % 8);
                    } else {
                        [[unroll]] for (int i = 0; i < TMMAX; i++) if (i < TM)
                            wv[i] = texelFetch(Wt, widx(min(oc0 + i, pc.OC - 1), ic, tap)).r;
                    }
                    [[unroll]] for (int i = 0; i < TMMAX; i++) if (i < TM)
                        [[unroll]] for (int r = 0; r < TRMAX; r++) if (r < TR)
                            [[unroll]] for (int j = 0; j < TNMAX; j++) if (j < TN)
                                acc[i][r * TN + j] = fma(wv[i], xr[r][SX * j + kx], acc[i][r * TN + j]);
                }
            }
        }
    }
    if (!valid) return;
    [[unroll]] for (int i = 0; i < TMMAX; i++) {
        if (i >= TM) break;
        int oc = oc0 + i;
        if (oc >= pc.OC) break;
        float bv = pc.bias != 0 ? texelFetch(Bias, pc.boff + oc).r : 0.0;
        [[unroll]] for (int r = 0; r < TRMAX; r++) {
            if (r >= TR || oy + r >= pc.Ho) break;
            int obase = pc.yoff + ((b * pc.OC + oc) * pc.Ho + oy + r) * pc.Wo + ox0;
            [[unroll]] for (int j = 0; j < TNMAX; j++) {
                if (j < TN && ox0 + j < pc.Wo) {
                    float v = PSCALE * acc[i][r * TN + j] + bv;
                    if (pc.acc != 0) v += y[obase + j];   // uniform branch: no load when overwriting
                    y[obase + j] = v;
                }
            }
        }
    }
}
