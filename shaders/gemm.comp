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
#version 450
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int STRATEGY = 0;

#define TM 16
#define TN 16

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
    int aoff[TM];
    [[unroll]] for (int i = 0; i < TM; i++) aoff[i] = pc.aoff + min(m0 + i, pc.M - 1) * am;

    float acc[TM][TN];
    [[unroll]] for (int i = 0; i < TM; i++)
        [[unroll]] for (int j = 0; j < TN; j++) acc[i][j] = 0.0;

    int ka[(TM + 7) / 8];
    [[unroll]] for (int h = 0; h < (TM + 7) / 8; h++) ka[h] = pc.aoff + min(m0 + h * 8 + lane, pc.M - 1) * am;
    // the first column segment's lanes also sum their rows of op(A)
    bool sums = pc.rowsum != 0 && n0 == 0;
    float rsum[TM];
    [[unroll]] for (int i = 0; i < TM; i++) rsum[i] = 0.0;
    int kb = 0;
    for (int k = 0; k < pc.K; k++, kb += bk) {
        float av[TM], bv[TN];
        if (STRATEGY == 1) {
            float al[(TM + 7) / 8];   // lane l holds rows m0 + l, m0 + 8 + l, ...
            [[unroll]] for (int h = 0; h < (TM + 7) / 8; h++) al[h] = texelFetch(A, ka[h] + k * ak).r;
            [[unroll]] for (int i = 0; i < TM; i++) av[i] = subgroupBroadcast(al[i / 8], i % 8);
        } else {
            [[unroll]] for (int i = 0; i < TM; i++) av[i] = texelFetch(A, aoff[i] + k * ak).r;
        }
        if (sums) [[unroll]] for (int i = 0; i < TM; i++) rsum[i] += av[i];
        [[unroll]] for (int j = 0; j < TN; j++) bv[j] = texelFetch(Bm, boff[j] + kb).r;
        [[unroll]] for (int i = 0; i < TM; i++)
            [[unroll]] for (int j = 0; j < TN; j++) acc[i][j] = fma(av[i], bv[j], acc[i][j]);
    }
    if (!valid) return;
    [[unroll]] for (int i = 0; i < TM; i++) {
        int m = m0 + i;
        if (m >= pc.M) break;
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
