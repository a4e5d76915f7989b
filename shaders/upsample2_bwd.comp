#version 450
// Nearest 2x upsampling backward: dx = sum of the four children in dy. (vkm_resample_p)
#define RESAMPLE_DOWN 1
#define RESAMPLE_SCALE 1.0
#include "norm_resample.glsl"
