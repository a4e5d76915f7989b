// GEMM: C[M,N] = alpha op(A) op(B) (+ bias[N]) (+ C), op(A) [M,K] (A stored
// [K,M] when ta), op(B) [K,N] (B stored [N,K] when tb). Linear layers and
// their backwards run on it (runtime/ops/gemm.c).
//
// Tiling (STRATEGY, a specialization constant, so a GPU shared-memory path
// can be added): every invocation owns a register tile of TM rows x TN
// consecutive columns (16 x 16 measured fastest on lavapipe). STRATEGY 0
// loads op(A)'s TM values of column k per invocation (the same address in
// every lane: fastest on lavapipe); STRATEGY 1 loads them once per 8-lane
// group and broadcasts (all invocations of a workgroup share the row block;
// subgroup size a multiple of 8). A and B come through texel buffers.
//
// TM (specialization 2): 16, or 8 / 4 for outputs of so few rows (a linear
// layer's batch), so short tiles don't compute 16 rows of which 2 are kept.
// AV / BV (3, 4): 0 scalar fetches; 1 vec4 fetches along k (A stored [M,K],
// B stored [N,K]: the k loop then steps by 4); 2 vec4 fetches along m / n
// (A stored [K,M], B stored [K,N]). The launcher picks them where the rows
// and offsets are multiples of 4: on lavapipe a scalar texel fetch is an
// 8-lane gather, a vec4 fetch 8 plain loads for 4 values.
#version 450
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int STRATEGY = 0;

#define TMMAX 16
#define TN 16
layout(constant_id = 2) const int TM = 16;   // 16, 8 or 4
layout(constant_id = 3) const int AV = 0;
layout(constant_id = 4) const int BV = 0;
const int KU = AV == 1 || BV == 1 ? 4 : 1;   // k per step of the loop

layout(push_constant) uniform Params {
    int M, N, K, ta, tb, bias, acc;
    float alpha;
    int aoff, boff, biasoff, coff;   // float offsets of the operands in their bindings
    int nseg, ntiles;   // TN-wide column segments; nseg * row blocks
    int rowsum, rsoff;
} pc;
layout(binding = 0) uniform samplerBuffer A;
layout(binding = 1) uniform samplerBuffer Bm;
layout(binding = 2) uniform samplerBuffer Bias;
layout(binding = 3) buffer Out { float c[]; };
layout(binding = 4) buffer RowSum { float rs[]; };

void main() {
    // one flat index over (row block, column segment): full workgroups for narrow outputs
    int g = int((gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
                gl_LocalInvocationID.x);
    bool valid = g < pc.ntiles;
    if (!valid) {
        if (STRATEGY == 0) return;   // idle lanes of the last workgroup
        g = 0;   // the broadcast needs every lane: compute, store nothing
    }
    int rb = g / pc.nseg;
    int n0 = (g - rb * pc.nseg) * TN;
    int m0 = rb * TM;
    int lane = int(gl_SubgroupInvocationID) & 7;
    // clamped indices keep every load in range; out-of-range results are dropped
    int am = pc.ta != 0 ? 1 : pc.K, ak = pc.ta != 0 ? pc.M : 1;   // A strides (m, k)
    int bn = pc.tb != 0 ? pc.K : 1, bk = pc.tb != 0 ? 1 : pc.N;   // B strides (n, k)
    int boff[TN];
    [[unroll]] for (int j = 0; j < TN; j++) boff[j] = pc.boff + min(n0 + j, pc.N - 1) * bn;
    int aoff[TMMAX];
    [[unroll]] for (int i = 0; i < TMMAX; i++) aoff[i] = pc.aoff + min(m0 + i, pc.M - 1) * am;

    float acc[TMMAX][TN];
    [[unroll]] for (int i = 0; i < TMMAX; i++)
        [[unroll]] for (int j = 0; j < TN; j++) acc[i][j] = 0.0;

    int ka[(TMMAX + 7) / 8];
    [[unroll]] for (int h = 0; h < (TMMAX + 7) / 8; h++) ka[h] = pc.aoff + min(m0 + h * 8 + lane, pc.M - 1) * am;
    // vec4 along m / n: the tile's 4-row / 4-column groups, the last clamped
    // inside the row (M, N multiples of 4: rows past M or N are dropped)
    int am4[TMMAX / 4], bn4[TN / 4];
    [[unroll]] for (int h = 0; h < TMMAX / 4; h++) am4[h] = min(m0 + 4 * h, pc.M - 4);
    [[unroll]] for (int h = 0; h < TN / 4; h++) bn4[h] = min(n0 + 4 * h, pc.N - 4);
    // the first column segment's lanes also sum their rows of op(A)
    bool sums = pc.rowsum != 0 && n0 == 0;
    float rsum[TMMAX];
    [[unroll]] for (int i = 0; i < TMMAX; i++) rsum[i] = 0.0;
    for (int k0 = 0; k0 < pc.K; k0 += KU) {
        float av[4][TMMAX], bv[4][TN];   // [k - k0][row / column]
        if (AV == 1) {
            [[unroll]] for (int i = 0; i < TMMAX; i++) if (i < TM) {
                vec4 q = texelFetch(A, (aoff[i] + k0) >> 2);
                [[unroll]] for (int u = 0; u < 4; u++) av[u][i] = q[u];
            }
        }
        if (BV == 1) {
            [[unroll]] for (int j = 0; j < TN; j++) {
                vec4 q = texelFetch(Bm, (boff[j] + k0) >> 2);
                [[unroll]] for (int u = 0; u < 4; u++) bv[u][j] = q[u];
            }
        }
        [[unroll]] for (int u = 0; u < KU; u++) {
            int k = k0 + u;
            if (AV == 2) {
                [[unroll]] for (int h = 0; h < TMMAX / 4; h++) if (4 * h < TM) {
                    vec4 q = texelFetch(A, (pc.aoff + k * pc.M + am4[h]) >> 2);
                    [[unroll]] for (int e = 0; e < 4; e++) av[u][4 * h + e] = q[e];
                }
            } else if (AV == 0) {
                if (STRATEGY == 1) {
                    float al[(TMMAX + 7) / 8];   // lane l holds rows m0 + l, m0 + 8 + l, ...
                    [[unroll]] for (int h = 0; h < (TMMAX + 7) / 8; h++) al[h] = texelFetch(A, ka[h] + k * ak).r;
                    [[unroll]] for (int i = 0; i < TMMAX; i++) av[u][i] = subgroupBroadcast(al[i / 8], i % 8);
                } else {
                    [[unroll]] for (int i = 0; i < TMMAX; i++) if (i < TM) av[u][i] = texelFetch(A, aoff[i] + k * ak).r;
                }
            }
            if (BV == 2) {
                [[unroll]] for (int h = 0; h < TN / 4; h++) {
                    vec4 q = texelFetch(Bm, (pc.boff + k * pc.N + bn4[h]) >> 2);
                    [[unroll]] for (int e = 0; e < 4; e++) bv[u][4 * h + e] = q[e];
                }
            } else if (BV == 0) {
                [[unroll]] for (int j = 0; j < TN; j++) bv[u][j] = texelFetch(Bm, boff[j] + k * bk).r;
            }
            if (sums) [[unroll]] for (int i = 0; i < TMMAX; i++) if (i < TM) rsum[i] += av[u][i];
            [[unroll]] for (int i = 0; i < TMMAX; i++) if (i < TM)
                [[unroll]] for (int j = 0; j < TN; j++) acc[i][j] = fma(av[u][i], bv[u][j], acc[i][j]);
        }
    }
    if (!valid) return;
    [[unroll]] for (int i = 0; i < TMMAX; i++) {
        int m = m0 + i;
        if (i >= TM || m >= pc.M) break;
        if (sums) {
            int o = pc.rsoff + m;
            rs[o] = pc.acc != 0 ? rs[o] + rsum[i] : rsum[i];
        }
        [[unroll]] for (int j = 0; j < TN; j++) {
            int n = n0 + j;
            if (n < pc.N) {
                float v = pc.alpha * acc[i][j];
                if (pc.bias != 0) v += texelFetch(Bias, pc.biasoff + n).r;
                int o = pc.coff + m * pc.N + n;
                c[o] = pc.acc != 0 ? c[o] + v : v;
            }
        }
    }
}
