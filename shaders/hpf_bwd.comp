// High-pass filter input gradient: dx (+)= hpf(dy) (symmetric kernel); see
// conv_hpf.glsl.
#version 450
#include "conv_hpf.glsl"
