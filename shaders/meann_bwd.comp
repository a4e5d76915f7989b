// meann_bwd: every input's gradient dx_k (+)= dy / count, in one dispatch.
// Unused output slots are bound to output 0 and not written.
#version 450
#include "elem_common.glsl"

// ACC (constant 1): add into the output(s); COUNT (constant 2): inputs, 1..4.
layout(constant_id = 1) const uint ACC = 0;
layout(constant_id = 2) const uint COUNT = 1;
layout(push_constant) uniform P { uint n; } pc;
layout(binding = 0) readonly buffer G4 { vec4 g4[]; };
layout(binding = 1) readonly buffer G1 { float g1[]; };
layout(binding = 2) buffer A4 { vec4 a4[]; };
layout(binding = 3) buffer A1 { float a1[]; };
layout(binding = 4) buffer B4 { vec4 b4[]; };
layout(binding = 5) buffer B1 { float b1[]; };
layout(binding = 6) buffer C4 { vec4 c4[]; };
layout(binding = 7) buffer C1 { float c1[]; };
layout(binding = 8) buffer D4 { vec4 d4[]; };
layout(binding = 9) buffer D1 { float d1[]; };

void main() {
    uint n4 = pc.n >> 2;
    float k = 1.0 / float(COUNT);
    bool acc = ACC != 0u;
    for (uint i = ELEM_GID; i < n4; i += ELEM_STRIDE) {
        vec4 g = k * g4[i];
        a4[i] = acc ? a4[i] + g : g;
        if (COUNT > 1u) b4[i] = acc ? b4[i] + g : g;
        if (COUNT > 2u) c4[i] = acc ? c4[i] + g : g;
        if (COUNT > 3u) d4[i] = acc ? d4[i] + g : g;
    }
    if (ELEM_GID < ELEM_TAIL(pc.n)) {
        uint i = n4 * 4u + ELEM_GID;
        float g = k * g1[i];
        a1[i] = acc ? a1[i] + g : g;
        if (COUNT > 1u) b1[i] = acc ? b1[i] + g : g;
        if (COUNT > 2u) c1[i] = acc ? c1[i] + g : g;
        if (COUNT > 3u) d1[i] = acc ? d1[i] + g : g;
    }
}
