// bce_bwd: dx (+)= g[g_index] * (sigmoid(x) - target) / n.
#version 450
#include "elem_common.glsl"
#include "elem_softplus.glsl"

layout(constant_id = 1) const uint ACC = 0;
layout(push_constant) uniform P { uint n; uint g_index; float inv_n; float target; } pc;
layout(binding = 0) readonly buffer X4 { vec4 x4[]; };
layout(binding = 1) readonly buffer X1 { float x1[]; };
layout(binding = 2) readonly buffer G { float g[]; };
layout(binding = 3) buffer DX4 { vec4 dx4[]; };
layout(binding = 4) buffer DX1 { float dx1[]; };

void main() {
    uint n4 = pc.n >> 2;
    float k = g[pc.g_index] * pc.inv_n;
    bool acc = ACC != 0u;
    for (uint i = ELEM_GID; i < n4; i += ELEM_STRIDE) {
        vec4 d = k * (sigmoid4(x4[i]) - pc.target);
        dx4[i] = acc ? dx4[i] + d : d;
    }
    if (ELEM_GID < ELEM_TAIL(pc.n)) {
        uint i = n4 * 4u + ELEM_GID;
        float d = k * (sigmoid1(x1[i]) - pc.target);
        dx1[i] = acc ? dx1[i] + d : d;
    }
}
