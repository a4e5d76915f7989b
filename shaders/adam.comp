// adam: one fused Adam step with coupled L2 weight decay and bias correction;
// the step t = steps[step_index] lives in a device buffer the host writes
// before submit, so a recorded step replays without re-recording.
#version 450
#include "elem_common.glsl"

layout(push_constant) uniform P { uint n; float lr, beta1, beta2, eps, wd; uint step_index; } pc;
layout(binding = 0) buffer P4 { vec4 p4[]; };
layout(binding = 1) buffer P1 { float p1[]; };
layout(binding = 2) readonly buffer G4 { vec4 g4[]; };
layout(binding = 3) readonly buffer G1 { float g1[]; };
layout(binding = 4) buffer M4 { vec4 m4[]; };
layout(binding = 5) buffer M1 { float m1[]; };
layout(binding = 6) buffer V4 { vec4 v4[]; };
layout(binding = 7) buffer V1 { float v1[]; };
layout(binding = 8) readonly buffer S { uint steps[]; };

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

void main() {
    uint t = steps[pc.step_index];
    float c1 = one_minus_pow(pc.beta1, t), c2 = one_minus_pow(pc.beta2, t);
    float step = pc.lr / c1, rc2 = 1.0 / c2;
    uint n4 = pc.n >> 2;
    for (uint i = ELEM_GID; i < n4; i += ELEM_STRIDE) {
        vec4 p = p4[i];
        vec4 g = g4[i] + pc.wd * p;
        vec4 m = pc.beta1 * m4[i] + (1.0 - pc.beta1) * g;
        vec4 v = pc.beta2 * v4[i] + (1.0 - pc.beta2) * g * g;
        m4[i] = m;
        v4[i] = v;
        p4[i] = p - step * m / (sqrt(v * rc2) + pc.eps);
    }
    if (ELEM_GID < ELEM_TAIL(pc.n)) {
        uint i = n4 * 4u + ELEM_GID;
        float p = p1[i];
        float g = g1[i] + pc.wd * p;
        float m = pc.beta1 * m1[i] + (1.0 - pc.beta1) * g;
        float v = pc.beta2 * v1[i] + (1.0 - pc.beta2) * g * g;
        m1[i] = m;
        v1[i] = v;
        p1[i] = p - step * m / (sqrt(v * rc2) + pc.eps);
    }
}
