// reduce: out[r] (+)= sum (times scale: 1, or 1/n for the mean) of the
// contiguous segment x[r*n .. r*n+n). One workgroup per row (a 2-D grid when
// rows > 65535), per-invocation strided sums then a tree: deterministic.
// VEC (specialization constant 1) says n % 4 == 0, so rows are vec4-aligned.
// Short rows (PER_THREAD, constant 2) take one invocation per row instead: a
// workgroup and its barriers per 2-element row would cost far more than the sum.
#version 450
#include "elem_common.glsl"
#include "elem_wgsum.glsl"

layout(constant_id = 1) const uint VEC = 0;
layout(constant_id = 2) const uint PER_THREAD = 0;
layout(push_constant) uniform P { uint rows; uint n; float scale; uint acc; } pc;
layout(binding = 0) readonly buffer X4 { vec4 x4[]; };
layout(binding = 1) readonly buffer X1 { float x1[]; };
layout(binding = 2) buffer O { float outv[]; };

void main() {
    if (PER_THREAD != 0u) {
        uint r = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
                 gl_LocalInvocationID.x;
        if (r >= pc.rows) return;
        float s = 0.0;
        for (uint i = 0u; i < pc.n; i++) s += x1[r * pc.n + i];
        s *= pc.scale;
        outv[r] = pc.acc != 0u ? outv[r] + s : s;
        return;
    }
    uint r = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (r >= pc.rows) return; // uniform per workgroup, so wg_sum's barriers stay safe
    uint lid = gl_LocalInvocationID.x;
    float s = 0.0;
    if (VEC != 0u) {
        uint base = r * (pc.n / 4u);
        vec4 a = vec4(0.0);
        for (uint i = lid; i < pc.n / 4u; i += gl_WorkGroupSize.x) a += x4[base + i];
        s = (a.x + a.y) + (a.z + a.w);
    } else {
        uint base = r * pc.n;
        for (uint i = lid; i < pc.n; i += gl_WorkGroupSize.x) s += x1[base + i];
    }
    s = wg_sum(s) * pc.scale;
    if (lid == 0u) outv[r] = pc.acc != 0u ? outv[r] + s : s;
}
