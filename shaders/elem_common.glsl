// Shared by the elementwise shaders: the workgroup size comes from
// specialization constant 0, and work is spread with a grid-stride loop so a
// capped number of workgroups (<= 65535, fewer is cheaper on lavapipe) covers
// any length. Tensors are bound twice, as vec4[] (the body) and float[] (the
// < 4 element tail), so nothing past the binding's range is ever touched.
layout(local_size_x_id = 0) in;

#define ELEM_GID gl_GlobalInvocationID.x
#define ELEM_STRIDE (gl_NumWorkGroups.x * gl_WorkGroupSize.x)
// for (uint i = ELEM_GID; i < n4; i += ELEM_STRIDE) over the vec4 body, then
// the tail element n4*4 + ELEM_GID handled by the first (n - 4*n4) invocations.
#define ELEM_TAIL(n) ((n) - ((n) & ~3u))
