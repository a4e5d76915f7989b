// slice: channels [off, off+Csrc) of whole[B, Cdst, HW] out into part (concat's backward).
#version 450
#define SLICE
#include "elem_chcopy.glsl"
