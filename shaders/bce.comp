// bce: out[out_index] = mean softplus(x) - target * x (BCE with logits).
#version 450
layout(push_constant) uniform P { uint n; uint out_index; float inv_n; float target; } pc;
layout(binding = 0) readonly buffer X4 { vec4 x4[]; };
layout(binding = 1) readonly buffer X1 { float x1[]; };
#include "elem_softplus.glsl"
#define LOSS_OUT_BINDING 2
#define TERM4(i) (softplus4(x4[i]) - pc.target * x4[i])
#define TERM1(i) (softplus1(x1[i]) - pc.target * x1[i])
#include "elem_loss.glsl"
