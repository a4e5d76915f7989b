/* Internal to the conv-family launchers: operand checks, rebinding operands
 * that sit at unaligned float offsets, and the tile-strategy choice. */
#pragma once
#include "runtime/vkm.h"

/* Shader indices are 32-bit ints. */
#define CONV_MAX_ELEMS 0x7fffffffll

/* Checks that b holds `floats` floats (and that the count fits the shaders'
 * int indices); sets the sequence error naming op and what, returns -1. */
int conv_check_buf(vkm_seq *s, const char *op, const char *what, vkm_buf b, long long floats);
/* b rebound from the alignment boundary at or below it; *eoff = the float
 * index of b's first element in the returned range. */
vkm_buf conv_view(vkm_seq *s, vkm_buf b, int *eoff);
/* Register-tile variant: 0 = direct loads (default), 1 = subgroup broadcast
 * (VKMIST_TILE_STRATEGY=1, only where the device's subgroups are whole 8-lane
 * groups of the workgroup; exact8: subgroups of exactly 8). A shared-memory
 * variant for GPUs would be 2. */
uint32_t conv_strategy(vkm_seq *s, int exact8);
/* Whether a kernel may read rows of `row` floats starting at float offset
 * `off` in vec4 texels (an RGBA32F view): both multiples of 4, and the
 * device's vec4_reads switch on. */
int conv_vec4(vkm_seq *s, long long row, int off);
/* Workgroup size for `items` invocations: max_local, except on a CPU device
 * (lavapipe), where each workgroup runs whole on one thread: there it shrinks
 * (to the subgroup size at the least) until every thread gets two workgroups,
 * so the small deep-level convolutions don't leave cores idle. */
uint32_t conv_local(vkm_seq *s, long long items, uint32_t max_local);
/* A 2-D grid of `local`-invocation workgroups covering `items` invocations
 * (the shaders flatten it back); fails on grids past 65535 x 65535. */
int conv_grid(vkm_seq *s, const char *op, long long items, uint32_t local, uint32_t groups[3]);
