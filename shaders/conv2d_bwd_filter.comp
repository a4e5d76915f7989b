// conv2d filter gradient: dw[Cout,Cin,K,K] (+)= sum over batch and output
// pixels of dy[b,co,p] * x[b,ci,p + tap - pad]; with bias also db[Cout]
// (+)= sum of dy (the workgroups of the first input-channel block sum the dy
// values they load anyway: no second dispatch, no second pass over dy).
//
// Tiling (STRATEGY, a specialization constant): a workgroup owns TM output
// channels x 8*TC input channels and all their taps. Lane l of each 8-lane
// row (local x) owns input channels ci0 + c*8 + l (c < TC) and keeps TM x
// TC x K*K sums in registers. The reduction runs over segments of P
// consecutive output pixels of one row: each input row segment (P + K - 1
// values) is loaded once per (channel, ky) and reused by every kx and pixel,
// each dy value once per segment and reused by every channel and tap.
// The RS rows of the workgroup (local y) take every RS-th segment and are
// summed through shared memory at the end; with RS = 1 (CPU devices) each
// lane stores its sums directly. STRATEGY 0 loads the dy values
// per invocation (same address in every lane: fastest on lavapipe);
// STRATEGY 1 (subgroup size exactly 8) loads one per lane and broadcasts.
// TM is 8; TC is the launcher's choice (big tiles measured fastest on
// lavapipe, as long as the input channels fill them): 4 for K=3 (288 sums),
// 2 for K=4 (256), 4 or 8 for K=1, fewer when Cin <= 8.
//
// POOL: the gradient of conv2d's pooled forward (dy is the 2x2 mean's):
// dw = 1/4 of the stride-2 correlation of dy with the input's 2x2 box sums,
// so a segment loads two input rows per tap row and sums each box once.
#version 450
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x = 8, local_size_y_id = 0) in;
layout(constant_id = 1) const int K = 3;
layout(constant_id = 2) const int STRATEGY = 0;

#define P 4        // output pixels per reduction step
#define KMAX 4
#define TCMAX 8
const int KK = K * K;
const int TM = 8;   // output channels per tile
// input channels per lane (launcher's choice: fewer when Cin is small)
layout(constant_id = 3) const int TC = 4;
layout(constant_id = 4) const int POOL = 0;
// UP: x is read nearest-upsampled (stored at H/2 x W/2; the up conv's filter gradient)
layout(constant_id = 5) const int UP = 0;
// XMIS >= 0: X is bound as an RGBA32F view and every row starts on a vec4
// (W and the binding offset multiples of 4, no UP): a row segment comes in
// vec4 fetches instead of one scalar fetch per column (on lavapipe a scalar
// texel fetch is an 8-lane gather; a vec4 fetch, 8 plain 16-byte loads).
// XMIS = (-pad) mod 4, the segment's start within its first vec4 (ox0 is a
// multiple of P = 4). DV4 1: dy likewise (Wo and its offset multiples of 4),
// one vec4 per output channel and segment.
layout(constant_id = 6) const int XMIS = -1;
layout(constant_id = 7) const int DV4 = 0;
const int SX = POOL != 0 ? 2 : 1;   // input pixels per dy pixel
const int SEG = SX * P + K - 1;     // input columns per row segment
#define SEGMAX (2 * P + KMAX - 1)
const float WSCALE = POOL != 0 ? 0.25 : 1.0;
const int NT = TC * KK;   // sums per output channel per lane
const int RS = int(gl_WorkGroupSize.y);

layout(push_constant) uniform Params { int B, Cin, H, W, Cout, Ho, Wo, pad, acc, xoff, dyoff, dwoff, bias, dboff; } pc;

layout(binding = 0) uniform samplerBuffer X;
layout(binding = 1) uniform samplerBuffer DY;
layout(binding = 2) buffer Out { float dw[]; };
layout(binding = 3) buffer OutB { float db[]; };   // bound (to dw) but untouched without bias
const int RS_SHIFT = 0;   // the vec4 path reads no upsampled rows (the launcher's XMIS)
#include "conv_rowseg.glsl"

shared float red[2 * 8 * 288];   // RS (<= 2) rows x 8 lanes x TM*NT (<= 288) sums
shared float bred[2 * 8 * TM];   // RS rows x 8 lanes x TM bias sums

void main() {
    int lane = STRATEGY == 1 ? int(gl_SubgroupInvocationID) : int(gl_LocalInvocationID.x);
    int split = int(gl_LocalInvocationID.y);
    int ci0 = int(gl_WorkGroupID.x) * 8 * TC;
    int co0 = int(gl_WorkGroupID.y) * TM;
    int coL = min(co0 + lane, pc.Cout - 1);

    float acc[TM][TCMAX * KMAX * KMAX];
    [[unroll]] for (int i = 0; i < TM; i++)
        [[unroll]] for (int j = 0; j < TCMAX * KMAX * KMAX; j++) acc[i][j] = 0.0;

    int xw = pc.W >> UP;   // stored row length
    int plane = (pc.H >> UP) * xw, oplane = pc.Ho * pc.Wo;
    int cbase[TCMAX];   // plane offsets of this lane's (clamped) input channels
    [[unroll]] for (int c = 0; c < TCMAX; c++)
        if (c < TC) cbase[c] = min(ci0 + c * 8 + lane, pc.Cin - 1) * plane;

    // dy sums of the tile's output channels: lane l takes every 8th segment
    // of its row, compensated (Kahan), so the sum of a gradient that is zero
    // in exact arithmetic (a bias feeding instance norm) stays at noise level
    float bsum[TM], bcomp[TM];
    [[unroll]] for (int i = 0; i < TM; i++) bsum[i] = 0.0, bcomp[i] = 0.0;
    int turn = 0;

    int segs = (pc.Wo + P - 1) / P;
    int nseg = pc.B * pc.Ho * segs;
    for (int sg = split; sg < nseg; sg += RS) {
        int row = sg / segs;
        int ox0 = (sg - row * segs) * P;
        int b = row / pc.Ho, oy = row - b * pc.Ho;
        // dy of the segment: g[i][t] for output channel co0 + i, pixel ox0 + t
        float g[TM][P];
        int dbase = pc.dyoff + b * pc.Cout * oplane + oy * pc.Wo + ox0;
        if (DV4 != 0) {   // a whole vec4 per channel: the segment is inside the row
            [[unroll]] for (int i = 0; i < TM; i++) {
                vec4 q = texelFetch(DY, (dbase + min(co0 + i, pc.Cout - 1) * oplane) >> 2);
                [[unroll]] for (int t = 0; t < P; t++) g[i][t] = q[t];
            }
        } else [[unroll]] for (int t = 0; t < P; t++) {
            bool ok = ox0 + t < pc.Wo;
            if (STRATEGY == 1) {
                float gl = ok ? texelFetch(DY, dbase + coL * oplane + t).r : 0.0;
                [[unroll]] for (int i = 0; i < TM; i++)
                    g[i][t] = subgroupBroadcast(gl, i);
            } else {
                [[unroll]] for (int i = 0; i < TM; i++)
                    g[i][t] = ok ? texelFetch(DY, dbase + min(co0 + i, pc.Cout - 1) * oplane + t).r : 0.0;
            }
        }
        if (RS == 1 || (turn++ & 7) == (int(gl_LocalInvocationID.x) & 7)) {
            [[unroll]] for (int i = 0; i < TM; i++) {
                float seg = 0.0;
                [[unroll]] for (int t = 0; t < P; t++) seg += g[i][t];
                precise float y = seg - bcomp[i];
                precise float t = bsum[i] + y;
                bcomp[i] = (t - bsum[i]) - y;
                bsum[i] = t;
            }
        }
        bool colok[SEGMAX];
        int colidx[SEGMAX];
        [[unroll]] for (int u = 0; u < SEGMAX; u++) {
            int ix = SX * ox0 + u - pc.pad;
            colok[u] = ix >= 0 && ix < pc.W;
            colidx[u] = clamp(ix, 0, pc.W - 1) >> UP;
        }
        int xb = pc.xoff + b * pc.Cin * plane;
        int v04 = (SX * ox0 - pc.pad - XM0) >> 2, w4 = pc.W >> 2;   // XMIS >= 0: the segment's first vec4
        [[unroll]] for (int c = 0; c < TCMAX; c++) {
            if (c < TC) {
                [[unroll]] for (int ky = 0; ky < KMAX; ky++) {
                    if (ky < K) {
                        int iy = SX * oy + ky - pc.pad;
                        bool rowok = iy >= 0 && iy < pc.H;
                        int rb = xb + cbase[c] + (clamp(iy, 0, pc.H - 1) >> UP) * xw;
                        bool rowok2 = iy + 1 < pc.H;   // (iy + 1 >= 0 always)
                        int rb2 = xb + cbase[c] + (clamp(iy + 1, 0, pc.H - 1) >> UP) * xw;
                        float xr[SEGMAX];   // x, or the 2x2 box sums when pooled
                        rowseg(rb, rb2, rowok, rowok2, colok, colidx, v04, w4, xr);
                        [[unroll]] for (int kx = 0; kx < KMAX; kx++) {
                            if (kx < K) {
                                int j = c * KK + ky * K + kx;
                                [[unroll]] for (int t = 0; t < P; t++)
                                    [[unroll]] for (int i = 0; i < TM; i++)
                                        acc[i][j] = fma(g[i][t], xr[SX * t + kx], acc[i][j]);
                            }
                        }
                    }
                }
            }
        }
    }

    if (RS == 1) {
        // One row: no partial tiles to meet; each lane stores its own sums
        // (every lane summed the whole of dy for the bias, lane 0 stores it).
        [[unroll]] for (int i = 0; i < TM; i++) {
            int co = co0 + i;
            if (co >= pc.Cout) break;
            [[unroll]] for (int c = 0; c < TCMAX; c++) {
                int ci = ci0 + c * 8 + lane;
                if (c < TC && ci < pc.Cin) {
                    [[unroll]] for (int tap = 0; tap < KMAX * KMAX; tap++) {
                        if (tap < KK) {
                            int idx = pc.dwoff + (co * pc.Cin + ci) * KK + tap;
                            float v = WSCALE * acc[i][c * KK + tap];
                            dw[idx] = pc.acc != 0 ? dw[idx] + v : v;
                        }
                    }
                }
            }
            if (pc.bias != 0 && gl_WorkGroupID.x == 0 && lane == 0) {
                int idx = pc.dboff + co;
                db[idx] = pc.acc != 0 ? db[idx] + bsum[i] : bsum[i];
            }
        }
        return;
    }
    // Sum the RS partial tiles; every invocation then finishes a share of the
    // workgroup's 8 x TM x NT outputs.
    int me = (split * 8 + lane) * TM * NT;
    [[unroll]] for (int i = 0; i < TM; i++)
        [[unroll]] for (int j = 0; j < TCMAX * KMAX * KMAX; j++)
            if (j < NT) red[me + i * NT + j] = acc[i][j];
    [[unroll]] for (int i = 0; i < TM; i++) bred[(split * 8 + int(gl_LocalInvocationID.x)) * TM + i] = bsum[i];
    barrier();
    if (pc.bias != 0 && gl_WorkGroupID.x == 0 && split == 0 && int(gl_LocalInvocationID.x) < TM) {
        int i = int(gl_LocalInvocationID.x), co = co0 + i;
        float s = 0.0;
        for (int r = 0; r < 8 * RS; r++) s += bred[r * TM + i];
        if (co < pc.Cout) {
            int idx = pc.dboff + co;
            db[idx] = pc.acc != 0 ? db[idx] + s : s;
        }
    }
    int nout = 8 * TM * NT;
    for (int o = split * 8 + int(gl_LocalInvocationID.x); o < nout; o += 8 * RS) {
        float s = 0.0;
        for (int r = 0; r < RS; r++) s += red[r * nout + o];
        int l = o / (TM * NT), rem = o - l * (TM * NT);
        int i = rem / NT, j = rem - i * NT;
        int c = j / KK, tap = j - c * KK;
        int co = co0 + i, ci = ci0 + c * 8 + l;
        if (co < pc.Cout && ci < pc.Cin) {
            int idx = pc.dwoff + (co * pc.Cin + ci) * KK + tap;
            s *= WSCALE;
            dw[idx] = pc.acc != 0 ? dw[idx] + s : s;
        }
    }
}
