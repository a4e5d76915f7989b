#version 450
// Instance norm / AdaIN forward (vkm_instnorm_p): one workgroup per (b, c)
// plane. Mean by a first pass, then the variance of x - mean with the
// rounding error of that mean corrected (sum d^2 - (sum d)^2 / n), so large
// offsets don't cancel; then y = g * xhat + beta (optionally LeakyReLU).
#include "norm_instnorm.glsl"

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) uniform samplerBuffer X4;   // x's vec4s through an RGBA32F view (cheaper reads on lavapipe)
layout(binding = 2) readonly buffer G { float gam[]; };
layout(binding = 3) readonly buffer Bt { float bet[]; };
layout(binding = 4) buffer Y { float y[]; };
layout(binding = 5) buffer Y4 { vec4 y4[]; };
layout(binding = 6) writeonly buffer M { float mean_out[]; };
layout(binding = 7) writeonly buffer R { float rstd_out[]; };

vec4 ld_x(uint base, uint j) { return VEC != 0 ? texelFetch(X4, int(base / 4 + j)) : vec4(x[base + j], 0.0, 0.0, 0.0); }

void main() {
    uint pl = work_index();
    if (pl >= pc.nwork) return;  // whole workgroup: uniform
    uint lid = gl_LocalInvocationID.x, n = units();
    uint base = pl * pc.HW, b = pl / pc.C, c = pl % pc.C;
    float inv_hw = 1.0 / float(pc.HW);

    vec4 s4 = vec4(0.0), c4 = vec4(0.0);
    for (uint j = lid; j < n; j += WG) kahan_add(s4, c4, ld_x(base, j));
    float m0 = wg_sum2(vec2(dot(s4, vec4(1.0)), 0.0)).x * inv_hw;

    vec4 d1 = vec4(0.0), d2 = vec4(0.0), e1 = vec4(0.0), e2 = vec4(0.0);
    for (uint j = lid; j < n; j += WG) {
        vec4 d = (ld_x(base, j) - m0) * lane_mask();
        kahan_add(d1, e1, d);
        kahan_add(d2, e2, d * d);
    }
    vec2 sd = wg_sum2(vec2(dot(d1, vec4(1.0)), dot(d2, vec4(1.0))));
    float mean = m0 + sd.x * inv_hw;
    float var = max((sd.y - sd.x * sd.x * inv_hw) * inv_hw, 0.0);
    float rs = inversesqrt(var + pc.eps);

    float g = 1.0, sh = 0.0;
    if (MODE != 0) {
        uint k = param_index(b, c);
        g = norm_scale(gam[pc.goff + k]);
        sh = bet[pc.boff + k];
    }
    float a = g * rs;
    for (uint j = lid; j < n; j += WG) {
        // (x - mean) first: a * x + (beta - a * mean) would cancel when
        // |mean| >> std.
        vec4 v = (ld_x(base, j) - mean) * a + sh;
        if (ACT != 0) v = mix(v * pc.slope, v, greaterThan(v, vec4(0.0)));
        if (VEC != 0) {
            uint i = base / 4 + j;
            y4[i] = pc.acc != 0 ? y4[i] + v : v;
        } else {
            uint i = base + j;
            y[i] = pc.acc != 0 ? y[i] + v.x : v.x;
        }
    }
    if (lid == 0) {
        mean_out[pc.moff + pl] = mean;
        rstd_out[pc.roff + pl] = rs;
    }
}
