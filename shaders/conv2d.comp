// conv2d forward: y[B,Cout,Ho,Wo] (+)= conv(x, w) (+ b); see conv_igemm.glsl.
#version 450
#include "conv_igemm.glsl"
