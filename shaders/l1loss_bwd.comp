// l1loss_bwd: dx (+)= g[g_index] * sign(x - y) / n; with HAS_DY also
// dy (+)= -that (when both operands carry gradient).
#version 450
#include "elem_common.glsl"

layout(constant_id = 1) const uint HAS_DY = 0;
layout(constant_id = 2) const uint ACC = 0;
layout(push_constant) uniform P { uint n; uint g_index; float inv_n; } pc;
layout(binding = 0) readonly buffer X4 { vec4 x4[]; };
layout(binding = 1) readonly buffer X1 { float x1[]; };
layout(binding = 2) readonly buffer Y4 { vec4 y4[]; };
layout(binding = 3) readonly buffer Y1 { float y1[]; };
layout(binding = 4) readonly buffer G { float g[]; };
layout(binding = 5) buffer DX4 { vec4 dx4[]; };
layout(binding = 6) buffer DX1 { float dx1[]; };
layout(binding = 7) buffer DY4 { vec4 dy4[]; };
layout(binding = 8) buffer DY1 { float dy1[]; };

void main() {
    uint n4 = pc.n >> 2;
    float k = g[pc.g_index] * pc.inv_n;
    bool acc = ACC != 0u;
    for (uint i = ELEM_GID; i < n4; i += ELEM_STRIDE) {
        vec4 d = k * sign(x4[i] - y4[i]);
        dx4[i] = acc ? dx4[i] + d : d;
        if (HAS_DY != 0u) dy4[i] = acc ? dy4[i] - d : -d;
    }
    if (ELEM_GID < ELEM_TAIL(pc.n)) {
        uint i = n4 * 4u + ELEM_GID;
        float d = k * sign(x1[i] - y1[i]);
        dx1[i] = acc ? dx1[i] + d : d;
        if (HAS_DY != 0u) dy1[i] = acc ? dy1[i] - d : -d;
    }
}
