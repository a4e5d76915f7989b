// Shared body of act.comp (y = x * f(x)) and act_bwd.comp (dx = dy * f(x)),
// f(x) = x > 0 ? 1 : slope (vkm_act_p). With ACT_BWD undefined the "dy"
// operand is x itself. vec4 over n / 4 units with a grid-stride loop; the
// n % 4 tail elements go to the first invocations through the float views.
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push {
    uint n4;     // whole vec4 units
    uint n;      // elements
    uint acc;
    float slope;
} pc;

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) uniform samplerBuffer X4;   // vec4 reads through RGBA32F views (cheaper on lavapipe)
#ifdef ACT_BWD
layout(binding = 2) readonly buffer DY { float dy[]; };
layout(binding = 3) uniform samplerBuffer DY4;
layout(binding = 4) buffer O { float o[]; };
layout(binding = 5) buffer O4 { vec4 o4[]; };
#define UP(i) dy[i]
#define UP4(i) texelFetch(DY4, int(i))
#else
layout(binding = 2) buffer O { float o[]; };
layout(binding = 3) buffer O4 { vec4 o4[]; };
#define UP(i) x[i]
#define UP4(i) xv
#endif

void main() {
    uint gid = gl_GlobalInvocationID.x;
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gid; i < pc.n4; i += stride) {
        vec4 xv = texelFetch(X4, int(i));
        vec4 v = UP4(i) * mix(vec4(pc.slope), vec4(1.0), greaterThan(xv, vec4(0.0)));
        o4[i] = pc.acc != 0 ? o4[i] + v : v;
    }
    uint t = pc.n4 * 4 + gid;
    if (t < pc.n) {
        float v = UP(t) * (x[t] > 0.0 ? 1.0 : pc.slope);
        o[t] = pc.acc != 0 ? o[t] + v : v;
    }
}
