/* Internal to the elementwise launchers: one routine that records an
 * elementwise dispatch over n floats, binding each n-float tensor twice
 * (vec4 body + float tail, see shaders/elem_common.glsl) and splitting
 * tensors bigger than one binding into several dispatches. */
#pragma once
#include "runtime/vkm.h"

/* Floats per dispatch: 128 MiB, the smallest maxStorageBufferRange Vulkan
 * allows, so no device limit needs querying. */
#define ELEM_CHUNK ((int64_t)1 << 25)
#define ELEM_LOCAL 256u        /* invocations per workgroup (a power of two) */
#define ELEM_MAX_GROUPS 4096u  /* grid-stride loops cover the rest */

enum { ELEM_PAIR = 1, ELEM_TEXEL = 2, ELEM_TEXEL_RW = 3 };
typedef struct {
    vkm_buf buf;
    int access;  /* VKM_READ / VKM_WRITE / VKM_RW */
    int pair;    /* an n-float tensor, split with the chunks: ELEM_PAIR (bound as
                  * vec4[] and float[]), ELEM_TEXEL (read-only: its vec4 body
                  * through an RGBA32F texel view, then float[]) or ELEM_TEXEL_RW
                  * (the texel view for reads, then vec4[] and float[]); 0: a
                  * small operand bound whole, once. On lavapipe a texel vec4
                  * fetch is 8 plain loads, a storage-buffer vec4 load a
                  * per-lane loop of scalar ones. */
} elem_arg;

typedef struct {
    vkm_shader_id shader;
    const char *label;
    int64_t n;
    const elem_arg *args;
    int nargs;
    void *push;          /* first word: the chunk's element count (written here) */
    uint32_t push_size;
    int base_word;       /* >= 0: words base_word, base_word+1 get the chunk's first
                          * vec4 block index (lo, hi), counted from base_block */
    int64_t base_block;
    const uint32_t *spec; /* specialization constants 1.. (0 is the workgroup size) */
    int nspec;
    double flops, bytes; /* per element */
    int per_inv;         /* vec4 items per invocation the shader loops over (0: 1) */
} elem_launch;

int vkm_elem_run(vkm_seq *s, const elem_launch *L);
/* Sets the context error "<op>: <message>" (vkm_seq_fail) and returns -1. */
int vkm_elem_err(vkm_seq *s, const char *op, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Checks that b holds at least count floats (else an error naming op and what). */
int vkm_elem_size(vkm_seq *s, const char *op, const char *what, vkm_buf b, int64_t count);
/* Workgroups for `items` vec4 items with grid-stride loops. */
uint32_t vkm_elem_groups(int64_t items);
