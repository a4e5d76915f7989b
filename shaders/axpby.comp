// out = a*x + b*y (+ out if acc): add, scale, residual/sqrt(2) and their
// backwards. y is not read when b == 0 (it may then be any buffer).
#version 450
#include "elem_common.glsl"

// Specialization constants (uniform branches inside the loop cost ~12% on
// lavapipe): ACC (1) adds into out; USE_Y (2) says b != 0, so y is read.
layout(constant_id = 1) const uint ACC = 0;
layout(constant_id = 2) const uint USE_Y = 1;
layout(push_constant) uniform P { uint n; float a; float b; } pc;
layout(binding = 0) uniform samplerBuffer X4;   // vec4 bodies: texel views (elem_util.h)
layout(binding = 1) readonly buffer X1 { float x1[]; };
layout(binding = 2) uniform samplerBuffer Y4;
layout(binding = 3) readonly buffer Y1 { float y1[]; };
layout(binding = 4) buffer O4 { vec4 o4[]; };
layout(binding = 5) buffer O1 { float o1[]; };

void main() {
    uint n4 = pc.n >> 2;
    bool useb = USE_Y != 0u, acc = ACC != 0u;
    for (uint i = ELEM_GID; i < n4; i += ELEM_STRIDE) {
        vec4 v = pc.a * texelFetch(X4, int(i));
        if (useb) v += pc.b * texelFetch(Y4, int(i));
        if (acc) v += o4[i];
        o4[i] = v;
    }
    if (ELEM_GID < ELEM_TAIL(pc.n)) {
        uint i = n4 * 4u + ELEM_GID;
        float v = pc.a * x1[i];
        if (useb) v += pc.b * y1[i];
        if (acc) v += o1[i];
        o1[i] = v;
    }
}
