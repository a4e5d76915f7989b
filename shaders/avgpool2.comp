#version 450
// 2x2 average pooling forward: y = mean of each 2x2 window (floor for odd H/W). (vkm_resample_p)
#define RESAMPLE_DOWN 1
#define RESAMPLE_SCALE 0.25
#include "norm_resample.glsl"
