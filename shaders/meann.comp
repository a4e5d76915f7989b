// meann: out (+)= (1/count) * sum of up to 4 inputs (the skips' mean over the
// available domains). Unused input slots are bound to input 0 and not read.
#version 450
#include "elem_common.glsl"

// ACC (constant 1): add into the output(s); COUNT (constant 2): inputs, 1..4.
layout(constant_id = 1) const uint ACC = 0;
layout(constant_id = 2) const uint COUNT = 1;
layout(push_constant) uniform P { uint n; } pc;
layout(binding = 0) readonly buffer A4 { vec4 a4[]; };
layout(binding = 1) readonly buffer A1 { float a1[]; };
layout(binding = 2) readonly buffer B4 { vec4 b4[]; };
layout(binding = 3) readonly buffer B1 { float b1[]; };
layout(binding = 4) readonly buffer C4 { vec4 c4[]; };
layout(binding = 5) readonly buffer C1 { float c1[]; };
layout(binding = 6) readonly buffer D4 { vec4 d4[]; };
layout(binding = 7) readonly buffer D1 { float d1[]; };
layout(binding = 8) buffer O4 { vec4 o4[]; };
layout(binding = 9) buffer O1 { float o1[]; };

void main() {
    uint n4 = pc.n >> 2;
    float k = 1.0 / float(COUNT);
    bool acc = ACC != 0u;
    for (uint i = ELEM_GID; i < n4; i += ELEM_STRIDE) {
        vec4 s = a4[i];
        if (COUNT > 1u) s += b4[i];
        if (COUNT > 2u) s += c4[i];
        if (COUNT > 3u) s += d4[i];
        s *= k;
        o4[i] = acc ? o4[i] + s : s;
    }
    if (ELEM_GID < ELEM_TAIL(pc.n)) {
        uint i = n4 * 4u + ELEM_GID;
        float s = a1[i];
        if (COUNT > 1u) s += b1[i];
        if (COUNT > 2u) s += c1[i];
        if (COUNT > 3u) s += d1[i];
        s *= k;
        o1[i] = acc ? o1[i] + s : s;
    }
}
