// Fixed depthwise 3x3 high-pass [[-1,-1,-1],[-1,8,-1],[-1,-1,-1]] * scale,
// zero padding 1, shared by hpf.comp and hpf_bwd.comp (the kernel is
// symmetric, so the input gradient is the same correlation of dy).
// One output pixel per invocation: x over the pixels of a plane, y (and z
// past 65535) over the B*C planes.
layout(local_size_x = 64) in;
layout(push_constant) uniform Params { int planes, H, W, acc; float scale; int xoff, yoff; } pc;
layout(binding = 0) uniform samplerBuffer X;
layout(binding = 1) buffer Out { float y[]; };

void main() {
    int p = int(gl_GlobalInvocationID.x);
    int pl = int(gl_WorkGroupID.z * gl_NumWorkGroups.y + gl_WorkGroupID.y);
    if (p >= pc.H * pc.W || pl >= pc.planes) return;
    int r = p / pc.W, c = p - r * pc.W;
    int base = pl * pc.H * pc.W, xb = pc.xoff + base, yb = pc.yoff + base;
    float s = 0.0;
    for (int dr = -1; dr <= 1; dr++) {
        int rr = r + dr;
        if (rr < 0 || rr >= pc.H) continue;
        for (int dc = -1; dc <= 1; dc++) {
            int cc = c + dc;
            if (cc >= 0 && cc < pc.W) s += texelFetch(X, xb + rr * pc.W + cc).r;
        }
    }
    float v = pc.scale * (9.0 * texelFetch(X, xb + p).r - s);
    y[yb + p] = pc.acc != 0 ? y[yb + p] + v : v;
}
