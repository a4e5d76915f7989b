#version 450
// LeakyReLU / ReLU backward (vkm_act_p): dx = dy * (x > 0 ? 1 : slope).
#define ACT_BWD 1
#include "norm_act.glsl"
