#version 450
// 2x2 average pooling backward (vkm_resample_p): dx = dy / 4 spread over
// each window; a dropped odd last row/column gets 0.
#define RESAMPLE_SCALE 0.25
#include "norm_resample.glsl"
