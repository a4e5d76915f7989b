// High-pass filter forward: y (+)= hpf(x); see conv_hpf.glsl.
#version 450
#include "conv_hpf.glsl"
