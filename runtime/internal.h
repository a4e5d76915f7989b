/* The context struct and the runtime's internal helpers, shared by
 * context.c, pool.c, pipeline.c and seq.c. Not part of the public API. */
#pragma once
#include <stdarg.h>
#include "runtime/vkm.h"

#define VKM_MAX_SPEC 16
#define VKM_MAX_BIND 16

typedef struct {
    uint64_t off, size;
} vkm_range;

typedef struct {
    VkDeviceMemory mem;
    VkBuffer buffer;
    uint64_t size;
    uint8_t *map;
    vkm_range *free; /* sorted, coalesced free ranges */
    int nfree, capfree;
} vkm_block;

typedef struct {
    vkm_shader_id shader;
    int nspec, nbind;
    uint32_t spec[VKM_MAX_SPEC];
    uint32_t texel_mask;
    uint32_t push_size;
    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    VkPipeline pipe;
} vkm_pipe;

struct vkm_ctx {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    int validate;
    int validation_msgs;
    int debug_utils;
    VkPhysicalDevice phys;
    VkDevice dev;
    VkQueue queue;
    uint32_t qfam;
    VkCommandPool cmdpool;
    VkFence fence;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties memprops;
    vkm_device_info info;
    uint64_t align;
    uint64_t max_alloc;        /* maxMemoryAllocationSize */
    uint64_t chunk_limit;      /* max_alloc lowered by VKMIST_ARENA_CHUNK_MB, a multiple of 256 */
    uint64_t mem_limit;        /* VKMIST_DEVICE_MEMORY_LIMIT_MB (fault injection), 0 = none */
    int timestamps;            /* queue supports timestamps */
    int lost;                  /* device lost: every later call fails fast */
    double split_flops;        /* work per submit before a split */
    int split_dispatches;
    char err[1024];

    /* memory pool */
    uint32_t memtype;
    int mapped;                /* memtype is host visible + coherent: map directly */
    vkm_block *blocks;
    int nblocks, capblocks;
    uint64_t bytes_in_use, bytes_peak, bytes_device;

    /* pipelines */
    VkShaderModule modules[VKM_SHADER_COUNT];
    vkm_pipe *pipes;
    int npipes, cappipes;
    VkPipelineCache pcache;
    int pcache_dirty;
    char pcache_path[1024];
};

/* Sets ctx->err (printf-style) and returns -1. */
int vkm_fail(vkm_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Checks a VkResult: on failure sets an error naming `what` and the result
 * (device loss and out-of-memory get the user-facing explanation). */
int vkm_check(vkm_ctx *ctx, VkResult r, const char *what);
const char *vkm_result_str(VkResult r);

/* pool.c */
void vkm_pool_destroy(vkm_ctx *ctx);
int vkm_pool_init(vkm_ctx *ctx);
/* pipeline.c */
int vkm_pipeline_get(vkm_ctx *ctx, const vkm_dispatch_info *d, const vkm_pipe **out);
void vkm_pipelines_destroy(vkm_ctx *ctx);
void vkm_pipeline_cache_load(vkm_ctx *ctx);
void vkm_pipeline_cache_save(vkm_ctx *ctx);
/* One-shot command buffer for transfers (staging), submitted and waited. */
int vkm_oneshot_begin(vkm_ctx *ctx, VkCommandBuffer *cb);
int vkm_oneshot_end(vkm_ctx *ctx, VkCommandBuffer cb);
