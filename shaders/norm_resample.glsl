// Shared body of the 2x resampling ops (vkm_resample_p). Each includer
// defines RESAMPLE_DOWN (output = SCALE * sum of a 2x2 input window:
// avgpool2 with 1/4, upsample2_bwd with 1) or not (output = SCALE * input at
// (row/2, col/2), 0 where that falls outside the input: upsample2 with 1,
// avgpool2_bwd with 1/4, whose odd last row/column gets 0) and RESAMPLE_SCALE.
//
// Grid: y = plane, x = chunks of output rows (grid-stride). A workgroup's
// lanes cover 2^lshift column units per row and WG >> lshift rows, so small
// images don't leave lanes idle and no lane divides by the plane size.
// VEC (specialization 1, when Wo % 4 == 0 and the input is exactly 2x / 0.5x
// the output's width) makes a column unit 4 output columns: vec4 stores and
// vec4 (down) / vec2 (up) loads, which lavapipe runs much faster than
// per-float gathers; they come through an RGBA32F texel view (XV), faster on
// lavapipe than storage-buffer vec4 loads.
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int VEC = 0;

layout(push_constant) uniform Push {
    uint Hi, Wi;   // input plane
    uint Ho, Wo;   // output plane
    uint units;    // column units per output row (Wo / 4 with VEC, else Wo)
    uint lshift;   // log2 of the lanes per row
    uint chunks;   // row chunks per plane
    uint acc;
} pc;

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) uniform samplerBuffer XV;
layout(binding = 2) buffer Y { float y[]; };
layout(binding = 3) buffer Y4 { vec4 y4[]; };

float one(uint ib, uint oy, uint ox) {
#ifdef RESAMPLE_DOWN
    uint i = ib + 2 * oy * pc.Wi + 2 * ox;
    return RESAMPLE_SCALE * ((x[i] + x[i + 1]) + (x[i + pc.Wi] + x[i + pc.Wi + 1]));
#else
    uint iy = oy / 2, ix = ox / 2;
    return (iy < pc.Hi && ix < pc.Wi) ? RESAMPLE_SCALE * x[ib + iy * pc.Wi + ix] : 0.0;
#endif
}

// Output columns 4u .. 4u+3 (VEC only: Wi = 2 Wo down, Wo = 2 Wi up).
vec4 four(uint ib, uint oy, uint u) {
#ifdef RESAMPLE_DOWN
    uint i = (ib + 2 * oy * pc.Wi) / 4 + 2 * u, s = pc.Wi / 4;
    vec4 a = texelFetch(XV, int(i)) + texelFetch(XV, int(i + s));
    vec4 b = texelFetch(XV, int(i + 1)) + texelFetch(XV, int(i + s + 1));
    return RESAMPLE_SCALE * vec4(a.x + a.y, a.z + a.w, b.x + b.y, b.z + b.w);
#else
    uint iy = oy / 2;
    if (iy >= pc.Hi) return vec4(0.0);
    uint h = (ib + iy * pc.Wi) / 2 + u;   // the vec2 (a row starts on one: Wi is even)
    vec4 q = texelFetch(XV, int(h / 2));
    vec2 a = (h & 1u) != 0u ? q.zw : q.xy;
    return RESAMPLE_SCALE * a.xxyy;
#endif
}

void main() {
    uint pl = gl_WorkGroupID.y, lid = gl_LocalInvocationID.x;
    uint lpr = 1u << pc.lshift, rpw = gl_WorkGroupSize.x >> pc.lshift;
    uint col = lid & (lpr - 1), rsub = lid >> pc.lshift;
    uint ib = pl * pc.Hi * pc.Wi, ob = pl * pc.Ho * pc.Wo;
    for (uint ch = gl_WorkGroupID.x; ch < pc.chunks; ch += gl_NumWorkGroups.x) {
        uint oy = ch * rpw + rsub;
        if (oy >= pc.Ho) break;  // no barriers in this shader
        for (uint u = col; u < pc.units; u += lpr) {
            if (VEC != 0) {
                uint o = (ob + oy * pc.Wo) / 4 + u;
                vec4 v = four(ib, oy, u);
                y4[o] = pc.acc != 0 ? y4[o] + v : v;
            } else {
                uint o = ob + oy * pc.Wo + u;
                float v = one(ib, oy, u);
                y[o] = pc.acc != 0 ? y[o] + v : v;
            }
        }
    }
}
