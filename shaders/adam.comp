// adam: one fused Adam step with coupled L2 weight decay and bias correction
// over several parameter tensors side by side (segments, see vkm_adam_p);
// the step t of each lives in a device buffer the host writes before
// submit, so a recorded step replays without re-recording.
#version 450
#extension GL_EXT_control_flow_attributes : require
#include "elem_common.glsl"

#define MAXSEG 12   // VKM_ADAM_MAXSEG
layout(push_constant) uniform P {
    uint n; float lr, beta1, beta2, eps, wd; uint nseg;
    uint seg_start[MAXSEG];
    int seg_step[MAXSEG];
} pc;
// vec4 bodies read through texel views (Xr), written through x4 (elem_util.h)
layout(binding = 0) uniform samplerBuffer Pr;
layout(binding = 1) writeonly buffer P4 { vec4 p4[]; };
layout(binding = 2) buffer P1 { float p1[]; };
layout(binding = 3) uniform samplerBuffer Gr;
layout(binding = 4) readonly buffer G1 { float g1[]; };
layout(binding = 5) uniform samplerBuffer Mr;
layout(binding = 6) writeonly buffer M4 { vec4 m4[]; };
layout(binding = 7) buffer M1 { float m1[]; };
layout(binding = 8) uniform samplerBuffer Vr;
layout(binding = 9) writeonly buffer V4 { vec4 v4[]; };
layout(binding = 10) buffer V1 { float v1[]; };
layout(binding = 11) readonly buffer S { uint steps[]; };

// 1 - b^t for t >= 1, to a few ulps: 1 - 0.99^t is small for small t, so
// 1.0 - pow(b, t) would cancel (and exp2/log2 are loose on some drivers,
// lavapipe's by ~1e-6). Binary powering on the pair p = b^k, q = 1 - b^k:
// doubling k gives q (1 + p), k + 1 gives (1 - b) + b q; no subtraction of
// close values anywhere (1 - b is exact for b in [0.5, 1]).
float one_minus_pow(float b, uint t) {
    float d = 1.0 - b, p = 1.0, q = 0.0;
    for (int bit = findMSB(t); bit >= 0; bit--) {
        q *= 1.0 + p;
        p *= p;
        if (((t >> uint(bit)) & 1u) != 0u) {
            q = d + b * q;
            p *= b;
        }
    }
    return q;
}

// The step index of the segment holding element e (unrolled: constant
// indices into the push constants, selects instead of a loop).
int step_of(uint e) {
    int s = pc.seg_step[0];
    [[unroll]] for (int j = 1; j < MAXSEG; j++)
        if (uint(j) < pc.nseg && e >= pc.seg_start[j]) s = pc.seg_step[j];
    return s;
}

// lr / (1 - b1^t) and 1 / (1 - b2^t) for step index si in f; invocations
// keep the last pair (f.z = its si) and recompute only on a new segment.
void factors(int si, inout vec3 f) {
    if (float(si) == f.z) return;
    uint t = steps[si];
    f = vec3(pc.lr / one_minus_pow(pc.beta1, t), 1.0 / one_minus_pow(pc.beta2, t), float(si));
}

// Each workgroup takes blocks of ADAM_R x its size consecutive vec4s (lanes
// on consecutive vec4s in every round), so an invocation meets few segments
// and its bias-correction factors, the costly part, are reused ADAM_R times.
#define ADAM_R 8   // runtime/ops/elem_optim.c: ADAM_R

void main() {
    uint n4 = pc.n >> 2, wg = gl_WorkGroupSize.x;
    uint nblk = (n4 + ADAM_R * wg - 1u) / (ADAM_R * wg);
    vec3 f = vec3(0.0, 0.0, -2.0);
    for (uint blk = gl_WorkGroupID.x; blk < nblk; blk += gl_NumWorkGroups.x)
    for (uint r = 0u; r < ADAM_R; r++) {
        uint i = (blk * ADAM_R + r) * wg + gl_LocalInvocationID.x;
        if (i >= n4) break;
        int si = step_of(i * 4u);   // starts are multiples of 4: one segment per vec4
        if (si < 0) continue;
        factors(si, f);
        float step = f.x, rc2 = f.y;
        int t = int(i);
        vec4 p = texelFetch(Pr, t);
        vec4 g = texelFetch(Gr, t) + pc.wd * p;
        vec4 m = pc.beta1 * texelFetch(Mr, t) + (1.0 - pc.beta1) * g;
        vec4 v = pc.beta2 * texelFetch(Vr, t) + (1.0 - pc.beta2) * g * g;
        m4[i] = m;
        v4[i] = v;
        p4[i] = p - step * m / (sqrt(v * rc2) + pc.eps);
    }
    if (ELEM_GID < ELEM_TAIL(pc.n)) {
        uint i = n4 * 4u + ELEM_GID;
        int si = step_of(i);
        if (si < 0) return;
        factors(si, f);
        float step = f.x, rc2 = f.y;
        float p = p1[i];
        float g = g1[i] + pc.wd * p;
        float m = pc.beta1 * m1[i] + (1.0 - pc.beta1) * g;
        float v = pc.beta2 * v1[i] + (1.0 - pc.beta2) * g * g;
        m1[i] = m;
        v1[i] = v;
        p1[i] = p - step * m / (sqrt(v * rc2) + pc.eps);
    }
}
