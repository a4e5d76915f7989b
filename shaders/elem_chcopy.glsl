// Channel copy between whole[B, Cdst, HW] (channels [off, off+Csrc)) and
// part[B, Csrc, HW]: concat (part -> whole) or, with SLICE defined, slice
// (whole -> part). Specialization constant 1 (VEC) says HW % 4 == 0, so every
// row is vec4-aligned in both tensors; otherwise scalar copies.
#include "elem_common.glsl"

layout(constant_id = 1) const uint VEC = 0;
layout(constant_id = 2) const uint ACC = 0; // add into the destination
layout(push_constant) uniform P { uint B, Csrc, Cdst, HW, off; } pc;
#ifdef SLICE
#define PART_Q
#define WHOLE_Q readonly
#else
#define PART_Q readonly
#define WHOLE_Q
#endif
layout(binding = 0) PART_Q buffer A4 { vec4 part4[]; };
layout(binding = 1) PART_Q buffer A1 { float part1[]; };
layout(binding = 2) WHOLE_Q buffer W4 { vec4 whole4[]; };
layout(binding = 3) WHOLE_Q buffer W1 { float whole1[]; };

// Index into whole of part element e.
uint whole_index(uint e) {
    uint row = e / pc.HW, col = e - row * pc.HW;
    uint b = row / pc.Csrc, c = row - b * pc.Csrc;
    return (b * pc.Cdst + pc.off + c) * pc.HW + col;
}

void main() {
    uint total = pc.B * pc.Csrc * pc.HW;
    bool acc = ACC != 0u;
    if (VEC != 0u) {
        for (uint i = ELEM_GID; i < total / 4u; i += ELEM_STRIDE) {
            uint w = whole_index(i * 4u) / 4u;
#ifdef SLICE
            part4[i] = acc ? part4[i] + whole4[w] : whole4[w];
#else
            whole4[w] = acc ? whole4[w] + part4[i] : part4[i];
#endif
        }
    } else {
        for (uint i = ELEM_GID; i < total; i += ELEM_STRIDE) {
            uint w = whole_index(i);
#ifdef SLICE
            part1[i] = acc ? part1[i] + whole1[w] : whole1[w];
#else
            whole1[w] = acc ? whole1[w] + part1[i] : part1[i];
#endif
        }
    }
}
