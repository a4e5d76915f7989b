#version 450
// Nearest 2x upsampling forward. (vkm_resample_p)
#define RESAMPLE_SCALE 1.0
#include "norm_resample.glsl"
