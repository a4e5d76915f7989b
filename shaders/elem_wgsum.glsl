// Deterministic workgroup sum (shared-memory tree; the workgroup size must be
// a power of two). Every invocation of the workgroup must call it.
shared float wgsum_s[gl_WorkGroupSize.x];

float wg_sum(float v) {
    uint lid = gl_LocalInvocationID.x;
    wgsum_s[lid] = v;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1u) {
        if (lid < s) wgsum_s[lid] += wgsum_s[lid + s];
        barrier();
    }
    float r = wgsum_s[0];
    barrier(); // so a second call can't overwrite wgsum_s[0] before everyone read it
    return r;
}
