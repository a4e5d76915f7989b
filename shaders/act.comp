#version 450
// LeakyReLU / ReLU forward (vkm_act_p): y = x > 0 ? x : slope * x.
#include "norm_act.glsl"
