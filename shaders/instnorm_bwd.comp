#version 450
// Instance norm / AdaIN backward (vkm_instnorm_p): per plane
// dx = g * rstd * (d - mean(d) - xhat * mean(d * xhat)), d = dy (times the
// slope where the recomputed pre-activation g * xhat + beta is not positive,
// when the activation is fused). xhat is recomputed from x, mean and rstd.
// AFFINE: one workgroup per channel walks the batch, so dgamma[c] / dbeta[c]
// accumulate without atomics; otherwise one workgroup per (b, c) plane and
// ADAIN writes per-sample dgamma / dbeta.
#include "norm_instnorm.glsl"

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) uniform samplerBuffer X4;   // vec4 reads through RGBA32F views (cheaper on lavapipe)
layout(binding = 2) readonly buffer M { float mean_in[]; };
layout(binding = 3) readonly buffer R { float rstd_in[]; };
layout(binding = 4) readonly buffer G { float gam[]; };
layout(binding = 5) readonly buffer Bt { float bet[]; };
layout(binding = 6) readonly buffer DY { float dy[]; };
layout(binding = 7) uniform samplerBuffer DY4;
layout(binding = 8) buffer DX { float dx[]; };
layout(binding = 9) buffer DX4 { vec4 dx4[]; };
layout(binding = 10) buffer DG { float dgam[]; };
layout(binding = 11) buffer DB { float dbet[]; };

vec4 ld_x(uint base, uint j) { return VEC != 0 ? texelFetch(X4, int(base / 4 + j)) : vec4(x[base + j], 0.0, 0.0, 0.0); }
vec4 ld_dy(uint base, uint j) { return VEC != 0 ? texelFetch(DY4, int(base / 4 + j)) : vec4(dy[base + j], 0.0, 0.0, 0.0); }

// d = dy through the fused activation. The pre-activation is recomputed
// exactly as the forward computed it ((x - mean) * (g * rstd) + beta, same
// rounding), so the slope taken here is the one the forward output took.
vec4 act_grad(vec4 d, vec4 xv, float mean, float a, float sh) {
    if (ACT != 0) d = mix(d * pc.slope, d, greaterThan((xv - mean) * a + sh, vec4(0.0)));
    return d;
}

void main() {
    uint w = work_index();
    if (w >= pc.nwork) return;  // whole workgroup: uniform
    uint lid = gl_LocalInvocationID.x, n = units();
    uint c = MODE == 1 ? w : w % pc.C;
    uint b0 = MODE == 1 ? 0 : w / pc.C, b1 = MODE == 1 ? pc.B : b0 + 1;
    float inv_hw = 1.0 / float(pc.HW);
    vec2 ptot = vec2(0.0);  // (dgamma, dbeta) of this workgroup

    for (uint b = b0; b < b1; b++) {
        uint pl = b * pc.C + c, base = pl * pc.HW;
        float mean = mean_in[pc.moff + pl], rs = rstd_in[pc.roff + pl];
        float g = 1.0, sh = 0.0;
        if (MODE != 0) {
            uint k = param_index(b, c);
            g = norm_scale(gam[pc.goff + k]);
            if (ACT != 0) sh = bet[pc.boff + k];
        }
        float a = g * rs;
        vec4 s1 = vec4(0.0), s2 = vec4(0.0), c1 = vec4(0.0), c2 = vec4(0.0);
        for (uint j = lid; j < n; j += WG) {
            vec4 xv = ld_x(base, j), xh = (xv - mean) * rs;
            vec4 d = act_grad(ld_dy(base, j), xv, mean, a, sh);
            kahan_add(s1, c1, d);
            kahan_add(s2, c2, d * xh);
        }
        // sums.x = sum d, sums.y = sum d * xhat (lanes beyond the plane load 0)
        vec2 sums = wg_sum2(vec2(dot(s1, lane_mask()), dot(s2, lane_mask())));
        ptot += sums.yx;
        float md = sums.x * inv_hw, mdx = sums.y * inv_hw;
        for (uint j = lid; j < n; j += WG) {
            vec4 xv = ld_x(base, j), xh = (xv - mean) * rs;
            vec4 d = act_grad(ld_dy(base, j), xv, mean, a, sh);
            vec4 v = a * (d - md - xh * mdx);
            if (VEC != 0) {
                uint i = base / 4 + j;
                dx4[i] = pc.acc != 0 ? dx4[i] + v : v;
            } else {
                uint i = base + j;
                dx[i] = pc.acc != 0 ? dx[i] + v.x : v.x;
            }
        }
    }
    if (MODE != 0 && lid == 0) {
        uint k = param_index(b0, c);
        bool add = MODE == 1 || pc.acc_param != 0;
        uint ig = pc.dgoff + k, ib = pc.dboff + k;
        dgam[ig] = add ? dgam[ig] + ptot.x : ptot.x;
        dbet[ib] = add ? dbet[ib] + ptot.y : ptot.y;
    }
}
