/* Recorded dispatch sequences: command buffers recorded once and replayed,
 * descriptors pushed (KHR_push_descriptor) or allocated once per sequence,
 * compute->compute barriers inserted from tracked read/write ranges (RAW,
 * WAR, WAW), long sequences split over several submits, host calls between
 * submits, host polling while a replay waits, optional timestamps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/internal.h"

#define DESC_POOL_SETS 256

typedef struct { VkBuffer buf; uint64_t lo, hi; int write; } access_rec;
typedef struct { VkBuffer buf; uint64_t off, size; int vec4; VkBufferView view; } view_rec;
typedef struct { int after_cb; vkm_seq_hook fn; void *user; } hook_rec;

struct vkm_seq {
    vkm_ctx *ctx;
    int flags, ended, ndispatch, nbarrier;
    VkCommandBuffer *cbs;
    int ncb, capcb;
    double cb_flops;
    int cb_dispatches;
    access_rec *acc;
    int nacc, capacc;
    view_rec *views;
    int nviews, capviews;
    VkDescriptorPool *pools;
    int npools, cappools, pool_left;
    VkQueryPool qpool;
    uint32_t qcap;
    vkm_timing *timings;
    int ntimings, captimings;
    hook_rec *hooks;           /* host calls, in order, each after a command buffer */
    int nhooks, caphooks;
    vkm_seq_hook wait_fn;      /* called while waiting for the device */
    void *wait_user;
};

static int grow(vkm_ctx *ctx, void **p, int *cap, int need, size_t elem) {
    if (need <= *cap) return 0;
    int c = *cap ? *cap : 16;
    while (c < need) c *= 2;
    void *np = realloc(*p, c * elem);
    if (!np) return vkm_fail(ctx, "out of host memory");
    *p = np;
    *cap = c;
    return 0;
}

static void full_barrier(VkCommandBuffer cb) {
    VkMemoryBarrier mb = {VK_STRUCTURE_TYPE_MEMORY_BARRIER, NULL,
                          VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                              VK_ACCESS_TRANSFER_WRITE_BIT};
    VkPipelineStageFlags st = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(cb, st, st, 0, 1, &mb, 0, NULL, 0, NULL);
}

static int new_cb(vkm_seq *s) {
    vkm_ctx *ctx = s->ctx;
    if (grow(ctx, (void **)&s->cbs, &s->capcb, s->ncb + 1, sizeof *s->cbs)) return -1;
    VkCommandBufferAllocateInfo ai = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, NULL, ctx->cmdpool,
                                      VK_COMMAND_BUFFER_LEVEL_PRIMARY, 1};
    VkCommandBuffer cb;
    if (vkm_check(ctx, vkAllocateCommandBuffers(ctx->dev, &ai, &cb), "vkAllocateCommandBuffers")) return -1;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    if (vkm_check(ctx, vkBeginCommandBuffer(cb, &bi), "vkBeginCommandBuffer")) {
        vkFreeCommandBuffers(ctx->dev, ctx->cmdpool, 1, &cb);
        return -1;
    }
    s->cbs[s->ncb++] = cb;
    if (s->ncb == 1 && s->qpool) vkCmdResetQueryPool(cb, s->qpool, 0, s->qcap);
    /* Everything earlier (the previous command buffer, the previous replay,
     * host writes before submit) is ordered before this one's dispatches. */
    full_barrier(cb);
    s->nacc = 0;
    s->cb_flops = 0;
    s->cb_dispatches = 0;
    return 0;
}

static void end_cb(vkm_seq *s) {
    VkCommandBuffer cb = s->cbs[s->ncb - 1];
    /* make every write visible to the host once the fence signals */
    VkMemoryBarrier mb = {VK_STRUCTURE_TYPE_MEMORY_BARRIER, NULL, VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
}

int vkm_seq_begin(vkm_ctx *ctx, int flags, vkm_seq **out) {
    *out = NULL;
    if (ctx->lost) return -1;
    vkm_seq *s = calloc(1, sizeof *s);
    if (!s) return vkm_fail(ctx, "out of host memory");
    s->ctx = ctx;
    s->flags = flags;
    if ((flags & VKM_SEQ_TIMESTAMPS) && ctx->timestamps) {
        s->qcap = 2 * 8192;
        VkQueryPoolCreateInfo qi = {VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO, NULL, 0, VK_QUERY_TYPE_TIMESTAMP, s->qcap, 0};
        if (vkm_check(ctx, vkCreateQueryPool(ctx->dev, &qi, NULL, &s->qpool), "vkCreateQueryPool")) {
            free(s);
            return -1;
        }
    }
    if (new_cb(s)) {
        vkm_seq_destroy(s);
        return -1;
    }
    *out = s;
    return 0;
}

static int overlaps(const access_rec *a, VkBuffer b, uint64_t lo, uint64_t hi) {
    return a->buf == b && a->lo < hi && lo < a->hi;
}

/* Inserts a barrier when this access conflicts with one since the last barrier. */
static int track(vkm_seq *s, const vkm_bind *binds, int n) {
    int need = 0;
    for (int i = 0; i < n && !need; i++) {
        uint64_t lo = binds[i].buf.offset, hi = lo + binds[i].buf.size;
        for (int k = 0; k < s->nacc && !need; k++) {
            if (!overlaps(&s->acc[k], binds[i].buf.buffer, lo, hi)) continue;
            if ((binds[i].access & VKM_WRITE) || s->acc[k].write) need = 1;
        }
    }
    if (need) {
        full_barrier(s->cbs[s->ncb - 1]);
        s->nbarrier++;
        s->nacc = 0;
    }
    if (grow(s->ctx, (void **)&s->acc, &s->capacc, s->nacc + n, sizeof *s->acc)) return -1;
    for (int i = 0; i < n; i++)
        s->acc[s->nacc++] = (access_rec){binds[i].buf.buffer, binds[i].buf.offset,
                                         binds[i].buf.offset + binds[i].buf.size, (binds[i].access & VKM_WRITE) != 0};
    return 0;
}

static int texel_view(vkm_seq *s, vkm_buf b, int vec4, VkBufferView *out) {
    vkm_ctx *ctx = s->ctx;
    for (int i = 0; i < s->nviews; i++)
        if (s->views[i].buf == b.buffer && s->views[i].off == b.offset && s->views[i].size == b.size &&
            s->views[i].vec4 == vec4) {
            *out = s->views[i].view;
            return 0;
        }
    if (b.offset % ctx->props.limits.minTexelBufferOffsetAlignment)
        return vkm_fail(ctx, "texel buffer binding at byte offset %llu is not aligned to %llu",
                        (unsigned long long)b.offset, (unsigned long long)ctx->props.limits.minTexelBufferOffsetAlignment);
    uint64_t texel = vec4 ? 16 : 4;
    if (b.size / texel > ctx->props.limits.maxTexelBufferElements)
        return vkm_fail(ctx, "tensor of %llu floats exceeds the device's texel buffer limit (%u texels); try a smaller --batch",
                        (unsigned long long)(b.size / 4), ctx->props.limits.maxTexelBufferElements);
    if (grow(ctx, (void **)&s->views, &s->capviews, s->nviews + 1, sizeof *s->views)) return -1;
    /* whole texels: a vec4 view covers the partial last one (a shader may
     * read a vec2 there; a tensor under 4 floats still gets one texel),
     * which stays inside the allocation: allocations are aligned and sized
     * to multiples of vkm_alignment() >= 16 bytes */
    uint64_t range = (b.size + texel - 1) / texel * texel;
    VkBufferViewCreateInfo ci = {VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO, NULL, 0, b.buffer,
                                 vec4 ? VK_FORMAT_R32G32B32A32_SFLOAT : VK_FORMAT_R32_SFLOAT, b.offset, range};
    if (vkm_check(ctx, vkCreateBufferView(ctx->dev, &ci, NULL, out), "vkCreateBufferView")) return -1;
    s->views[s->nviews++] = (view_rec){b.buffer, b.offset, b.size, vec4, *out};
    return 0;
}

static int alloc_set(vkm_seq *s, VkDescriptorSetLayout dsl, VkDescriptorSet *set) {
    vkm_ctx *ctx = s->ctx;
    if (!s->pool_left) {
        if (grow(ctx, (void **)&s->pools, &s->cappools, s->npools + 1, sizeof *s->pools)) return -1;
        VkDescriptorPoolSize sizes[2] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, DESC_POOL_SETS * VKM_MAX_BIND},
                                         {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, DESC_POOL_SETS * VKM_MAX_BIND}};
        VkDescriptorPoolCreateInfo ci = {VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, NULL, 0, DESC_POOL_SETS, 2, sizes};
        if (vkm_check(ctx, vkCreateDescriptorPool(ctx->dev, &ci, NULL, &s->pools[s->npools]), "vkCreateDescriptorPool"))
            return -1;
        s->npools++;
        s->pool_left = DESC_POOL_SETS;
    }
    VkDescriptorSetAllocateInfo ai = {VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO, NULL, s->pools[s->npools - 1], 1, &dsl};
    if (vkm_check(ctx, vkAllocateDescriptorSets(ctx->dev, &ai, set), "vkAllocateDescriptorSets")) return -1;
    s->pool_left--;
    return 0;
}

int vkm_dispatch(vkm_seq *s, const vkm_dispatch_info *d) {
    vkm_ctx *ctx = s->ctx;
    if (ctx->lost) return -1;
    if (s->ended) return vkm_fail(ctx, "dispatch recorded into an ended sequence");
    if (!d->groups[0] || !d->groups[1] || !d->groups[2]) return 0;
    const VkPhysicalDeviceLimits *l = &ctx->props.limits;
    for (int i = 0; i < 3; i++)
        if (d->groups[i] > l->maxComputeWorkGroupCount[i])
            return vkm_fail(ctx, "%s: %u workgroups in dimension %d exceed the device limit %u", d->label ? d->label : "dispatch",
                            d->groups[i], i, l->maxComputeWorkGroupCount[i]);
    for (int i = 0; i < d->nbind; i++) {
        const vkm_buf *b = &d->binds[i].buf;
        if (!b->buffer) return vkm_fail(ctx, "%s: binding %d has no buffer", d->label ? d->label : "dispatch", i);
        if (!d->binds[i].texel && b->size > l->maxStorageBufferRange)
            return vkm_fail(ctx, "%s: a %.1f MiB tensor exceeds the device's storage buffer range (%.1f MiB); "
                            "try a smaller --batch or --config", d->label ? d->label : "dispatch",
                            b->size / 1048576.0, l->maxStorageBufferRange / 1048576.0);
        if (b->offset % l->minStorageBufferOffsetAlignment)
            return vkm_fail(ctx, "%s: binding %d at byte offset %llu is not aligned to %llu", d->label ? d->label : "dispatch",
                            i, (unsigned long long)b->offset, (unsigned long long)l->minStorageBufferOffsetAlignment);
    }
    const vkm_pipe *p;
    if (vkm_pipeline_get(ctx, d, &p)) return -1;
    if (s->cb_dispatches >= ctx->split_dispatches ||
        (s->cb_dispatches && s->cb_flops + d->flops > ctx->split_flops)) {
        end_cb(s);
        if (vkm_check(ctx, vkEndCommandBuffer(s->cbs[s->ncb - 1]), "vkEndCommandBuffer") || new_cb(s)) return -1;
    }
    if (track(s, d->binds, d->nbind)) return -1;
    VkCommandBuffer cb = s->cbs[s->ncb - 1];

    VkDescriptorBufferInfo bufs[VKM_MAX_BIND];
    VkBufferView views[VKM_MAX_BIND];
    VkWriteDescriptorSet w[VKM_MAX_BIND];
    VkDescriptorSet set = VK_NULL_HANDLE;
    if (!ctx->info.push_descriptors && alloc_set(s, p->dsl, &set)) return -1;
    for (int i = 0; i < d->nbind; i++) {
        const vkm_buf *b = &d->binds[i].buf;
        w[i] = (VkWriteDescriptorSet){VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, NULL, set, (uint32_t)i, 0, 1,
                                      VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, NULL, NULL, NULL};
        if (d->binds[i].texel) {
            if (texel_view(s, *b, d->binds[i].texel == VKM_TEXEL_VEC4, &views[i])) return -1;
            w[i].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
            w[i].pTexelBufferView = &views[i];
        } else {
            bufs[i] = (VkDescriptorBufferInfo){b->buffer, b->offset, b->size};
            w[i].pBufferInfo = &bufs[i];
        }
    }
    vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipe);
    if (ctx->info.push_descriptors) {
        if (d->nbind) vkCmdPushDescriptorSetKHR(cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, (uint32_t)d->nbind, w);
    } else {
        vkUpdateDescriptorSets(ctx->dev, (uint32_t)d->nbind, w, 0, NULL);
        vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0, NULL);
    }
    if (d->push_size) vkCmdPushConstants(cb, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, d->push_size, d->push);
    int timed = s->qpool && 2 * (uint32_t)(s->ntimings + 1) <= s->qcap;
    if (timed) {
        if (grow(ctx, (void **)&s->timings, &s->captimings, s->ntimings + 1, sizeof *s->timings)) return -1;
        s->timings[s->ntimings] = (vkm_timing){d->label ? d->label : vkm_shader_blobs[d->shader].name, 0, d->flops, d->bytes};
        vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, s->qpool, 2 * s->ntimings);
    }
    vkCmdDispatch(cb, d->groups[0], d->groups[1], d->groups[2]);
    if (timed) {
        vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, s->qpool, 2 * s->ntimings + 1);
        s->ntimings++;
    }
    s->cb_flops += d->flops;
    s->cb_dispatches++;
    s->ndispatch++;
    return 0;
}

int vkm_seq_fill(vkm_seq *s, vkm_buf dst, uint32_t word) {
    if (s->ctx->lost) return -1;
    if (s->ended) return vkm_fail(s->ctx, "fill recorded into an ended sequence");
    if (dst.size % 4 || dst.offset % 4) return vkm_fail(s->ctx, "fill needs a 4-byte aligned range");
    vkm_bind b = {dst, VKM_WRITE, 0};
    if (track(s, &b, 1)) return -1;
    vkCmdFillBuffer(s->cbs[s->ncb - 1], dst.buffer, dst.offset, dst.size, word);
    return 0;
}

/* A host call needs the work before it finished: it closes the command
 * buffer here, and the replay waits for it before calling fn. */
int vkm_seq_host_call(vkm_seq *s, vkm_seq_hook fn, void *user) {
    vkm_ctx *ctx = s->ctx;
    if (ctx->lost) return -1;
    if (s->ended) return vkm_fail(ctx, "host call recorded into an ended sequence");
    if (grow(ctx, (void **)&s->hooks, &s->caphooks, s->nhooks + 1, sizeof *s->hooks)) return -1;
    end_cb(s);
    if (vkm_check(ctx, vkEndCommandBuffer(s->cbs[s->ncb - 1]), "vkEndCommandBuffer")) return -1;
    s->hooks[s->nhooks++] = (hook_rec){s->ncb - 1, fn, user};
    return new_cb(s);
}

int vkm_seq_end(vkm_seq *s) {
    if (s->ended) return 0;
    end_cb(s);
    if (vkm_check(s->ctx, vkEndCommandBuffer(s->cbs[s->ncb - 1]), "vkEndCommandBuffer")) return -1;
    s->ended = 1;
    return 0;
}

void vkm_seq_on_wait(vkm_seq *s, vkm_seq_hook fn, void *user) {
    s->wait_fn = fn;
    s->wait_user = user;
}

static int wait_fence(vkm_seq *s) {
    vkm_ctx *ctx = s->ctx;
    for (;;) {
        uint64_t t = s->wait_fn ? (uint64_t)VKM_SEQ_WAIT_POLL_US * 1000 : UINT64_MAX;
        VkResult r = vkWaitForFences(ctx->dev, 1, &ctx->fence, VK_TRUE, t);
        if (r != VK_TIMEOUT) return vkm_check(ctx, r, "vkWaitForFences");
        if (s->wait_fn(s->wait_user)) {
            if (!ctx->err[0]) vkm_fail(ctx, "host work while waiting for the device failed");
            return -1;
        }
    }
}

int vkm_seq_submit(vkm_seq *s) {
    vkm_ctx *ctx = s->ctx;
    if (ctx->lost) return -1;
    if (!s->ended && vkm_seq_end(s)) return -1;
    /* segments end at the last command buffer and at each host call; a host
     * call may itself use the context's fence (staged transfers), so every
     * segment resets it first */
    for (int i = 0, h = 0, seg = 1; i < s->ncb; i++) {
        if (seg && vkm_check(ctx, vkResetFences(ctx->dev, 1, &ctx->fence), "vkResetFences")) return -1;
        int last = i == s->ncb - 1 || (h < s->nhooks && s->hooks[h].after_cb == i);
        VkSubmitInfo si = {VK_STRUCTURE_TYPE_SUBMIT_INFO, NULL, 0, NULL, NULL, 1, &s->cbs[i], 0, NULL};
        if (vkm_check(ctx, vkQueueSubmit(ctx->queue, 1, &si, last ? ctx->fence : VK_NULL_HANDLE), "vkQueueSubmit"))
            return -1;
        seg = last;
        if (!last) continue;
        if (wait_fence(s)) return -1;
        for (; h < s->nhooks && s->hooks[h].after_cb == i; h++)
            if (s->hooks[h].fn(s->hooks[h].user)) {
                if (!ctx->err[0]) vkm_fail(ctx, "a host call between submits failed");
                return -1;
            }
    }
    if (s->qpool && s->ntimings) {
        uint64_t *ts = malloc(2 * s->ntimings * sizeof *ts);
        if (!ts) return vkm_fail(ctx, "out of host memory");
        VkResult r = vkGetQueryPoolResults(ctx->dev, s->qpool, 0, 2 * s->ntimings, 2 * s->ntimings * sizeof *ts, ts,
                                           sizeof *ts, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
        if (r == VK_SUCCESS)
            for (int i = 0; i < s->ntimings; i++)
                s->timings[i].ms = (double)(ts[2 * i + 1] - ts[2 * i]) * ctx->props.limits.timestampPeriod * 1e-6;
        free(ts);
        if (r != VK_SUCCESS) return vkm_check(ctx, r, "vkGetQueryPoolResults");
    }
    return 0;
}

int vkm_seq_timings(vkm_seq *s, const vkm_timing **out, int *n) {
    *out = s->timings;
    *n = s->qpool ? s->ntimings : 0;
    return s->qpool ? 0 : vkm_fail(s->ctx, "timestamps are not available on this sequence or device");
}

int vkm_seq_dispatch_count(const vkm_seq *s) { return s->ndispatch; }
int vkm_seq_barrier_count(const vkm_seq *s) { return s->nbarrier; }
vkm_ctx *vkm_seq_ctx(const vkm_seq *s) { return s->ctx; }
int vkm_seq_submit_count(const vkm_seq *s) { return s->ncb; }
int vkm_seq_host_call_count(const vkm_seq *s) { return s->nhooks; }

/* The default (2e10 flops) keeps one submit to tens of ms on a GPU, so no
 * driver watchdog trips, while costing lavapipe nothing noticeable. */
void vkm_set_submit_budget(vkm_ctx *ctx, double flops, int dispatches) {
    ctx->split_flops = flops > 0 ? flops : 2.0e10;
    ctx->split_dispatches = dispatches > 0 ? dispatches : 4096;
}

int vkm_seq_fail(vkm_seq *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->ctx->err, sizeof s->ctx->err, fmt, ap);
    va_end(ap);
    return -1;
}

void vkm_seq_destroy(vkm_seq *s) {
    if (!s) return;
    vkm_ctx *ctx = s->ctx;
    if (s->ncb) vkFreeCommandBuffers(ctx->dev, ctx->cmdpool, (uint32_t)s->ncb, s->cbs);
    for (int i = 0; i < s->nviews; i++) vkDestroyBufferView(ctx->dev, s->views[i].view, NULL);
    for (int i = 0; i < s->npools; i++) vkDestroyDescriptorPool(ctx->dev, s->pools[i], NULL);
    if (s->qpool) vkDestroyQueryPool(ctx->dev, s->qpool, NULL);
    free(s->cbs);
    free(s->acc);
    free(s->views);
    free(s->pools);
    free(s->timings);
    free(s->hooks);
    free(s);
}

int vkm_run1(vkm_ctx *ctx, const vkm_dispatch_info *d) {
    vkm_seq *s;
    if (vkm_seq_begin(ctx, 0, &s)) return -1;
    int rc = vkm_dispatch(s, d);
    if (!rc) rc = vkm_seq_submit(s);
    vkm_seq_destroy(s);
    return rc;
}
