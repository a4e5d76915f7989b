// Shared by instnorm.comp and instnorm_bwd.comp: the push constants (one
// layout for both directions, mirrored by runtime/ops/norm.c), the
// specialization constants, a workgroup sum and the vec4/scalar plane access.
//
// Specialization: 0 workgroup size (power of two), 1 mode (0 NONE, 1 AFFINE,
// 2 ADAIN), 2 fused LeakyReLU, 3 vec4 access (HW % 4 == 0). Planes whose size
// is not a multiple of 4 are walked one float at a time in lane .x of a vec4
// (lane_mask() zeroes the other lanes), so one loop body serves both layouts.
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int MODE = 0;
layout(constant_id = 2) const int ACT = 0;
layout(constant_id = 3) const int VEC = 0;

const uint WG = gl_WorkGroupSize.x;
// An if, not ?: : glslang folds `VEC != 0 ? vec4 : vec4` into an
// OpSpecConstantOp select on vectors, which lavapipe 22.3 evaluates as the
// default (0) whatever VEC is.
vec4 lane_mask() {
    if (VEC != 0) return vec4(1.0);
    return vec4(1.0, 0.0, 0.0, 0.0);
}

layout(push_constant) uniform Push {
    uint B, C, HW;
    uint nwork;           // workgroups with work (planes, or channels for AFFINE bwd)
    uint gx;              // workgroups per grid row (2-D grid for > 65535 planes)
    uint gstride;         // ADAIN row stride of gamma/beta
    uint goff, boff;      // element offsets of gamma / beta in their bindings
    uint dgoff, dboff;    // ... of dgamma / dbeta (bwd)
    uint moff, roff;      // ... of mean / rstd
    uint acc, acc_param;
    float eps, slope;
} pc;

#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

shared vec2 red[WG];  // one slot per subgroup is used

// Sum of v over the workgroup, returned to every invocation. Subgroups sum
// in registers; only a workgroup of several subgroups meets in shared memory
// (two barriers instead of a log2(WG)-step tree: lavapipe pays for every
// barrier, and with WG = its subgroup size there is none).
vec2 wg_sum2(vec2 v) {
    vec2 s = subgroupAdd(v);
    if (gl_NumSubgroups == 1) return s;
    if (subgroupElect()) red[gl_SubgroupID] = s;
    barrier();
    vec2 r = vec2(0.0);
    for (uint i = 0; i < gl_NumSubgroups; i++) r += red[i];
    barrier();  // red is reused by the next call
    return r;
}

// Compensated (Kahan) running sum: with one subgroup per plane (CPU devices) a
// lane adds a few hundred values in sequence, and plain float sums there
// lost enough to show in the gradients (checked against float64 PyTorch).
void kahan_add(inout vec4 sum, inout vec4 comp, vec4 v) {
    precise vec4 y = v - comp;
    precise vec4 t = sum + y;
    comp = (t - sum) - y;
    sum = t;
}

uint work_index() { return gl_WorkGroupID.y * pc.gx + gl_WorkGroupID.x; }
uint units() { return VEC != 0 ? pc.HW / 4 : pc.HW; }
// gamma/beta index of plane (b, c), without the binding offset.
uint param_index(uint b, uint c) { return MODE == 2 ? b * pc.gstride + c : c; }
// The affine factor g and shift of a plane for gamma/beta values gv, bv.
float norm_scale(float gv) { return MODE == 2 ? 1.0 + gv : gv; }
