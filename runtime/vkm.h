/* The Vulkan compute runtime's public API: context and device choice, memory
 * (sub-allocated buffers), recorded dispatch sequences with hazard-tracked
 * barriers, host<->device transfers. Knows no network, training or files
 * (except the pipeline cache under the user cache dir). */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <volk.h>
#include "shaders_embed.h"

typedef struct vkm_ctx vkm_ctx;
typedef struct vkm_seq vkm_seq;

/* ---- context ------------------------------------------------------------ */
typedef struct {
    int device;     /* -1: VKMIST_DEVICE env, else best by type */
    int validate;   /* -1: VKMIST_VALIDATE env; 1: Khronos validation + sync validation */
    int verbose;    /* print the chosen device on stderr */
    int no_pipeline_cache; /* don't read/write the on-disk pipeline cache */
} vkm_opts;

typedef struct {
    char name[256];
    char driver[256];         /* driver name and info */
    VkPhysicalDeviceType type;
    uint64_t device_local_bytes;
    uint32_t subgroup_size;
    int subgroup_ops_ok;      /* compute shaders have the subgroup operations the shaders use */
    uint32_t vendor_id, device_id, driver_version;
    int push_descriptors;     /* VK_KHR_push_descriptor available */
    int unified;              /* every memory type is host visible (map, never stage) */
    int cpu_kernels;          /* kernel shapes for a CPU device (lavapipe runs a workgroup on one thread) */
    int vec4_reads;           /* kernels read aligned rows as RGBA32F texels (VKMIST_NO_VEC4=1 clears it) */
    int chosen;
} vkm_device_info;

/* Default options: everything from the environment. */
vkm_opts vkm_default_opts(void);
/* Returns 0 and *out on success; on failure non-zero with a message in err. */
int vkm_ctx_create(const vkm_opts *opts, vkm_ctx **out, char *err, size_t errlen);
void vkm_ctx_destroy(vkm_ctx *ctx);
/* The last error (empty when none). Every failing call below sets it. */
const char *vkm_error(const vkm_ctx *ctx);
const vkm_device_info *vkm_device(const vkm_ctx *ctx);
const VkPhysicalDeviceLimits *vkm_limits(const vkm_ctx *ctx);
/* Lists all devices (info[i].chosen marks what vkm_ctx_create would pick
 * for opts); returns the count or -1 with err set. */
int vkm_list_devices(const vkm_opts *opts, vkm_device_info *info, int max, char *err, size_t errlen);
/* Validation-layer messages (errors and warnings) seen so far. */
int vkm_validation_messages(const vkm_ctx *ctx);
/* Byte alignment of every allocation (storage + texel offset alignment, >= 16). */
uint64_t vkm_alignment(const vkm_ctx *ctx);
/* The largest piece a big multi-part buffer (the graph arena) is cut into:
 * the device's maxMemoryAllocationSize, lowered by VKMIST_ARENA_CHUNK_MB
 * (to exercise the cutting), rounded down to a multiple of 256 bytes. */
uint64_t vkm_chunk_limit(const vkm_ctx *ctx);

/* ---- memory ------------------------------------------------------------- */
/* A byte range of a device buffer. map is non-NULL when host visible. */
typedef struct {
    VkBuffer buffer;
    uint64_t offset;   /* bytes into buffer; multiple of vkm_alignment() for allocations */
    uint64_t size;     /* bytes */
    uint8_t *map;      /* host pointer to offset, or NULL */
    int32_t block;     /* pool block index, -1 for none */
} vkm_buf;

/* Sub-allocates from large blocks; fails (returns non-zero, message names the
 * request and the device memory) instead of crashing on out-of-memory. */
int vkm_alloc(vkm_ctx *ctx, uint64_t bytes, vkm_buf *out);
void vkm_free(vkm_ctx *ctx, vkm_buf *buf);
/* Sub-range of a buffer (no allocation). */
vkm_buf vkm_sub(vkm_buf b, uint64_t offset, uint64_t size);
/* Host transfers (map when host visible, staging otherwise). */
int vkm_write(vkm_ctx *ctx, vkm_buf dst, uint64_t off, const void *src, uint64_t bytes);
int vkm_read(vkm_ctx *ctx, vkm_buf src, uint64_t off, void *dst, uint64_t bytes);
int vkm_fill_bytes(vkm_ctx *ctx, vkm_buf dst, uint32_t word); /* host-side fill, whole range */
/* Bytes of device memory blocks allocated from the device; bytes of them
 * sub-allocated now (vkm_alloc minus vkm_free), and the peak of that. */
uint64_t vkm_device_bytes(const vkm_ctx *ctx);
uint64_t vkm_device_in_use_bytes(const vkm_ctx *ctx);
uint64_t vkm_device_peak_bytes(const vkm_ctx *ctx);

/* ---- recorded sequences ------------------------------------------------- */
enum { VKM_SEQ_TIMESTAMPS = 1 };
enum { VKM_READ = 1, VKM_WRITE = 2, VKM_RW = 3 };
enum { VKM_TEXEL_VEC4 = 4 };

typedef struct {
    vkm_buf buf;
    int access;   /* VKM_READ / VKM_WRITE / VKM_RW: drives barrier insertion */
    int texel;    /* bind as a uniform texel buffer (read-only operands): 1 (R32F) or
                     VKM_TEXEL_VEC4 (RGBA32F: a quarter of the fetches where a
                     shader reads 4 aligned floats at once) */
} vkm_bind;

typedef struct {
    vkm_shader_id shader;
    const uint32_t *spec;  /* specialization constants, constant_id 0..nspec-1 (32-bit words) */
    int nspec;
    const void *push;      /* push constants (<= 128 bytes) */
    uint32_t push_size;
    const vkm_bind *binds; /* binding i of set 0 = binds[i] */
    int nbind;
    uint32_t groups[3];    /* workgroup counts; 0 in any dimension records nothing */
    double flops;          /* work estimate: submit splitting and profiling */
    double bytes;          /* memory traffic estimate, for profiling */
    const char *label;     /* op name, for profiling and debug-utils */
} vkm_dispatch_info;

int vkm_seq_begin(vkm_ctx *ctx, int flags, vkm_seq **out);
/* Records one dispatch; inserts a compute->compute barrier first when it
 * reads/overwrites a range an earlier dispatch since the last barrier wrote
 * or read. Pipelines and descriptors are created/cached as needed. */
int vkm_dispatch(vkm_seq *s, const vkm_dispatch_info *d);
/* Records a buffer fill with a 32-bit word (tracked like a write). */
int vkm_seq_fill(vkm_seq *s, vkm_buf dst, uint32_t word);
int vkm_seq_end(vkm_seq *s);
/* Submits (split into several submits when long) and waits; may be called
 * again and again on an ended sequence (replay). */
int vkm_seq_submit(vkm_seq *s);
void vkm_seq_destroy(vkm_seq *s);
int vkm_seq_dispatch_count(const vkm_seq *s);
vkm_ctx *vkm_seq_ctx(const vkm_seq *s);
/* For launchers rejecting bad parameters: sets the context error
 * (printf-style, e.g. "conv2d: K=5 unsupported") and returns -1. */
int vkm_seq_fail(vkm_seq *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vkm_seq_barrier_count(const vkm_seq *s);
/* Command buffers (= submits per replay) the sequence was split into. */
int vkm_seq_submit_count(const vkm_seq *s);
/* A host call at this point of the sequence: each replay submits the work
 * recorded before it, waits for it, calls fn(user) on the calling thread
 * (non-zero fails the replay), then goes on with the rest. What fn writes
 * into mapped memory, or uploads, is seen by the dispatches after it. */
typedef int (*vkm_seq_hook)(void *user);
int vkm_seq_host_call(vkm_seq *s, vkm_seq_hook fn, void *user);
int vkm_seq_host_call_count(const vkm_seq *s);
/* While a replay waits for the device, fn(user) is called about every
 * VKM_SEQ_WAIT_POLL_US microseconds (host work that must keep moving, e.g.
 * a non-blocking exchange); NULL: plain waits. Non-zero fails the replay. */
#define VKM_SEQ_WAIT_POLL_US 500
void vkm_seq_on_wait(vkm_seq *s, vkm_seq_hook fn, void *user);
/* Work per submit before a split (defaults: 2e10 flops, 4096 dispatches). */
void vkm_set_submit_budget(vkm_ctx *ctx, double flops, int dispatches);

typedef struct { const char *label; double ms; double flops; double bytes; } vkm_timing;
/* After a submit of a VKM_SEQ_TIMESTAMPS sequence: per-dispatch GPU times. */
int vkm_seq_timings(vkm_seq *s, const vkm_timing **out, int *n);

/* One-shot helper: begin, dispatch, end, submit, destroy. */
int vkm_run1(vkm_ctx *ctx, const vkm_dispatch_info *d);

/* ---- helpers for launchers ---------------------------------------------- */
static inline uint32_t vkm_div_up(uint64_t a, uint64_t b) { return (uint32_t)((a + b - 1) / b); }
