// concat: part[B, Csrc, HW] into channels [off, off+Csrc) of whole[B, Cdst, HW].
#version 450
#include "elem_chcopy.glsl"
