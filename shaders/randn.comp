// randn: out = mean + std * N(0,1) from Philox4x32-10. Element i is in block
// q = i/4 (q counted from the whole tensor's start: block_base + local q);
// block q's counter is (q lo, q hi, offset, 0), key = seeds[2*seed_index..+1],
// and its 4 words give the 4 normals of elements 4q..4q+3.
#version 450
#include "elem_common.glsl"
#include "philox.glsl"

layout(push_constant) uniform P {
    uint n; uint offset; uint seed_index; float mean; float std_; uint base_lo; uint base_hi;
} pc;
layout(binding = 0) readonly buffer S { uint seeds[]; };
layout(binding = 1) writeonly buffer O4 { vec4 o4[]; };
layout(binding = 2) writeonly buffer O1 { float o1[]; };

void main() {
    uvec2 key = uvec2(seeds[2u * pc.seed_index], seeds[2u * pc.seed_index + 1u]);
    uint n4 = pc.n >> 2, nblocks = (pc.n + 3u) >> 2;
    for (uint q = ELEM_GID; q < nblocks; q += ELEM_STRIDE) {
        uint lo = pc.base_lo + q;
        uint hi = pc.base_hi + (lo < q ? 1u : 0u);
        uvec4 w = philox4x32_10(uvec4(lo, hi, pc.offset, 0u), key);
        vec4 z = pc.mean + pc.std_ * vec4(box_muller(w.x, w.y), box_muller(w.z, w.w));
        if (q < n4) {
            o4[q] = z;
        } else {
            for (uint j = 0u; j < pc.n - 4u * q; j++) o1[4u * q + j] = z[j];
        }
    }
}
