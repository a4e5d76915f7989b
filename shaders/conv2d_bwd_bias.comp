// Bias gradient: db[c] (+)= sum over b < B, i < L of dy[(b*C + c)*L + i]
// (conv2d with L = Ho*Wo; linear layers with L = 1). One workgroup per
// channel (rows of the 2-D grid fold channels past 65535); lanes stride
// over the elements, then a shared-memory tree sums the lanes.
#version 450
layout(local_size_x = 64) in;
layout(push_constant) uniform Params { int B, C, L, acc, dyoff, dboff; } pc;
layout(binding = 0) uniform samplerBuffer DY;
layout(binding = 1) buffer Out { float db[]; };

shared float part[64];

void main() {
    int c = int(gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x);
    if (c >= pc.C) return;   // whole workgroup leaves together
    int t = int(gl_LocalInvocationID.x);
    float s = 0.0;
    for (int b = 0; b < pc.B; b++) {
        int base = pc.dyoff + (b * pc.C + c) * pc.L;
        for (int i = t; i < pc.L; i += 64) s += texelFetch(DY, base + i).r;
    }
    part[t] = s;
    barrier();
    for (int w = 32; w > 0; w >>= 1) {
        if (t < w) part[t] += part[t + w];
        barrier();
    }
    int o = pc.dboff + c;
    if (t == 0) db[o] = pc.acc != 0 ? db[o] + part[0] : part[0];
}
