// Fixed depthwise 3x3 high-pass [[-1,-1,-1],[-1,8,-1],[-1,-1,-1]] * scale,
// zero padding 1, shared by hpf.comp and hpf_bwd.comp (the kernel is
// symmetric, so the input gradient is the same correlation of dy).
// One output pixel per invocation (V4: 4 consecutive pixels of a row, where
// W and the offsets are multiples of 4, X then an RGBA32F view: vec4 fetches
// and stores, no gathers): x over the pixels of a plane, y (and z past 65535)
// over the B*C planes.
layout(local_size_x = 64) in;
layout(constant_id = 0) const int V4 = 0;
layout(push_constant) uniform Params { int planes, H, W, acc; float scale; int xoff, yoff; } pc;
layout(binding = 0) uniform samplerBuffer X;
layout(binding = 1) buffer Out { float y[]; };
layout(binding = 2) buffer Out4 { vec4 y4[]; };   // the same range as Out

void main4() {
    int q = int(gl_GlobalInvocationID.x), w4 = pc.W >> 2;
    int pl = int(gl_WorkGroupID.z * gl_NumWorkGroups.y + gl_WorkGroupID.y);
    if (q >= pc.H * w4 || pl >= pc.planes) return;
    int r = q / w4, c4 = q - r * w4;
    int base4 = (pc.xoff + pl * pc.H * pc.W) >> 2;
    vec4 s = vec4(0.0), mid = vec4(0.0);
    for (int dr = -1; dr <= 1; dr++) {
        int rr = r + dr;
        if (rr < 0 || rr >= pc.H) continue;
        int rb = base4 + rr * w4;
        vec4 m = texelFetch(X, rb + c4);
        float lw = c4 > 0 ? texelFetch(X, rb + c4 - 1).w : 0.0;
        float rx = c4 + 1 < w4 ? texelFetch(X, rb + c4 + 1).x : 0.0;
        s += vec4(lw + m.x + m.y, m.x + m.y + m.z, m.y + m.z + m.w, m.z + m.w + rx);
        if (dr == 0) mid = m;
    }
    vec4 v = pc.scale * (9.0 * mid - s);
    int o = ((pc.yoff + pl * pc.H * pc.W) >> 2) + q;
    y4[o] = pc.acc != 0 ? y4[o] + v : v;
}

void main() {
    if (V4 != 0) {
        main4();
        return;
    }
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
