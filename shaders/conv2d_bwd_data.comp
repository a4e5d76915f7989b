// conv2d input gradient: dx[B,Cin,H,W] (+)= correlation of dy with the
// flipped, transposed filter (padding K-1-pad); see conv_igemm.glsl.
#version 450
#define CONV_TRANSPOSED_W 1
#include "conv_igemm.glsl"
