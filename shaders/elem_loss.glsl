// Loss forwards: out[out_index] = (1/n) * sum of a per-element term, in ONE
// workgroup that loops over all elements (per-invocation partial sums in a
// fixed order, then a tree), so the result is deterministic and needs no
// float atomics nor a second dispatch. n here is at most a few batches of
// images, which one workgroup streams in tens of microseconds.
// The including shader defines TERM4(i) / TERM1(i) (vec4 / scalar term of
// body element i / tail element i) and declares its inputs.
#include "elem_common.glsl"
#include "elem_wgsum.glsl"

layout(binding = LOSS_OUT_BINDING) buffer O { float outv[]; };

void main() {
    uint n4 = pc.n >> 2;
    vec4 acc4 = vec4(0.0);
    for (uint i = gl_LocalInvocationID.x; i < n4; i += gl_WorkGroupSize.x) acc4 += TERM4(i);
    float s = (acc4.x + acc4.y) + (acc4.z + acc4.w);
    if (gl_LocalInvocationID.x < ELEM_TAIL(pc.n)) s += TERM1(n4 * 4u + gl_LocalInvocationID.x);
    s = wg_sum(s);
    if (gl_LocalInvocationID.x == 0u) outv[pc.out_index] = s * pc.inv_n;
}
