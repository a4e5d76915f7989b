// l1loss: out[out_index] = mean |x - y| (deterministic single-workgroup sum).
#version 450
layout(push_constant) uniform P { uint n; uint out_index; float inv_n; } pc;
layout(binding = 0) readonly buffer X4 { vec4 x4[]; };
layout(binding = 1) readonly buffer X1 { float x1[]; };
layout(binding = 2) readonly buffer Y4 { vec4 y4[]; };
layout(binding = 3) readonly buffer Y1 { float y1[]; };
#define LOSS_OUT_BINDING 4
#define TERM4(i) abs(x4[i] - y4[i])
#define TERM1(i) abs(x1[i] - y1[i])
#include "elem_loss.glsl"
