// ema: e = decay * e + (1 - decay) * p (the generator's weight average).
#version 450
#include "elem_common.glsl"

layout(push_constant) uniform P { uint n; float decay; } pc;
// vec4 bodies read through texel views, e written through e4 (elem_util.h)
layout(binding = 0) uniform samplerBuffer P4;
layout(binding = 1) readonly buffer P1 { float p1[]; };
layout(binding = 2) uniform samplerBuffer E4r;
layout(binding = 3) writeonly buffer E4 { vec4 e4[]; };
layout(binding = 4) buffer E1 { float e1[]; };

void main() {
    uint n4 = pc.n >> 2;
    float d = pc.decay, k = 1.0 - pc.decay;
    for (uint i = ELEM_GID; i < n4; i += ELEM_STRIDE)
        e4[i] = d * texelFetch(E4r, int(i)) + k * texelFetch(P4, int(i));
    if (ELEM_GID < ELEM_TAIL(pc.n)) {
        uint i = n4 * 4u + ELEM_GID;
        e1[i] = d * e1[i] + k * p1[i];
    }
}
