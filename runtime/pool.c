/* Device memory: a few large VkDeviceMemory blocks, each with one VkBuffer
 * over all of it, sub-allocated first-fit with coalescing free lists. On
 * unified memory (lavapipe) blocks are mapped once and host transfers are
 * plain copies; otherwise transfers go through a temporary staging buffer. */
#include <stdlib.h>
#include <string.h>
#include "runtime/internal.h"

#define VKM_BLOCK_BYTES (256ull << 20)

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

static VkBufferUsageFlags usage_flags(void) {
    return VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
           VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
           VK_BUFFER_USAGE_TRANSFER_DST_BIT;
}

/* Memory type for tensors: device local; mapped directly when that type is
 * also host visible and coherent (unified memory). */
int vkm_pool_init(vkm_ctx *ctx) {
    VkBufferCreateInfo bi = {VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, NULL, 0, 4096, usage_flags(),
                             VK_SHARING_MODE_EXCLUSIVE, 0, NULL};
    VkBuffer b;
    if (vkm_check(ctx, vkCreateBuffer(ctx->dev, &bi, NULL, &b), "vkCreateBuffer")) return -1;
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(ctx->dev, b, &req);
    vkDestroyBuffer(ctx->dev, b, NULL);
    const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int best = -1, best_score = -1;
    for (uint32_t i = 0; i < ctx->memprops.memoryTypeCount; i++) {
        if (!(req.memoryTypeBits & (1u << i))) continue;
        VkMemoryPropertyFlags f = ctx->memprops.memoryTypes[i].propertyFlags;
        int score = 0;
        if (f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) score += 4;
        if (ctx->info.unified && (f & hv) == hv) score += 2;
        if (ctx->info.unified && (f & VK_MEMORY_PROPERTY_HOST_CACHED_BIT)) score += 1;
        if (score > best_score) best = (int)i, best_score = score;
    }
    if (best < 0) return vkm_fail(ctx, "device '%s' has no memory type usable for storage buffers", ctx->info.name);
    ctx->memtype = (uint32_t)best;
    ctx->mapped = ctx->info.unified && (ctx->memprops.memoryTypes[best].propertyFlags & hv) == hv;
    return 0;
}

static int new_block(vkm_ctx *ctx, uint64_t size) {
    if (ctx->mem_limit && ctx->bytes_device + size > ctx->mem_limit)
        return vkm_fail(ctx, "out of device memory: %.1f MiB more requested with %.1f MiB in use, over the "
                        "%.0f MiB limit (VKMIST_DEVICE_MEMORY_LIMIT_MB); try a smaller --batch or --config",
                        size / 1048576.0, ctx->bytes_device / 1048576.0, ctx->mem_limit / 1048576.0);
    if (ctx->nblocks == ctx->capblocks) {
        int cap = ctx->capblocks ? ctx->capblocks * 2 : 8;
        vkm_block *nb = realloc(ctx->blocks, cap * sizeof *nb);
        if (!nb) return vkm_fail(ctx, "out of host memory");
        ctx->blocks = nb;
        ctx->capblocks = cap;
    }
    vkm_block *blk = &ctx->blocks[ctx->nblocks];
    memset(blk, 0, sizeof *blk);
    VkMemoryAllocateInfo ai = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, NULL, size, ctx->memtype};
    VkResult r = vkAllocateMemory(ctx->dev, &ai, NULL, &blk->mem);
    if (r != VK_SUCCESS) {
        if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
            return vkm_fail(ctx, "out of device memory: could not allocate %.1f MiB on '%s' with %.1f MiB "
                            "already in use (device-local heap %.0f MiB); try a smaller --batch or --config",
                            size / 1048576.0, ctx->info.name, ctx->bytes_device / 1048576.0,
                            ctx->info.device_local_bytes / 1048576.0);
        return vkm_check(ctx, r, "vkAllocateMemory");
    }
    VkBufferCreateInfo bi = {VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, NULL, 0, size, usage_flags(),
                             VK_SHARING_MODE_EXCLUSIVE, 0, NULL};
    r = vkCreateBuffer(ctx->dev, &bi, NULL, &blk->buffer);
    if (r == VK_SUCCESS) r = vkBindBufferMemory(ctx->dev, blk->buffer, blk->mem, 0);
    if (r == VK_SUCCESS && ctx->mapped) r = vkMapMemory(ctx->dev, blk->mem, 0, VK_WHOLE_SIZE, 0, (void **)&blk->map);
    if (r != VK_SUCCESS) {
        if (blk->buffer) vkDestroyBuffer(ctx->dev, blk->buffer, NULL);
        vkFreeMemory(ctx->dev, blk->mem, NULL);
        return vkm_check(ctx, r, "creating a memory block");
    }
    blk->size = size;
    blk->free = malloc(4 * sizeof *blk->free);
    if (!blk->free) {
        vkDestroyBuffer(ctx->dev, blk->buffer, NULL);
        vkFreeMemory(ctx->dev, blk->mem, NULL);
        return vkm_fail(ctx, "out of host memory");
    }
    blk->capfree = 4;
    blk->nfree = 1;
    blk->free[0] = (vkm_range){0, size};
    ctx->bytes_device += size;
    return ctx->nblocks++;
}

static int take(vkm_block *blk, uint64_t bytes, uint64_t *off) {
    for (int i = 0; i < blk->nfree; i++) {
        if (blk->free[i].size < bytes) continue;
        *off = blk->free[i].off;
        blk->free[i].off += bytes;
        blk->free[i].size -= bytes;
        if (!blk->free[i].size) {
            memmove(&blk->free[i], &blk->free[i + 1], (blk->nfree - i - 1) * sizeof *blk->free);
            blk->nfree--;
        }
        return 0;
    }
    return -1;
}

int vkm_alloc(vkm_ctx *ctx, uint64_t bytes, vkm_buf *out) {
    memset(out, 0, sizeof *out);
    out->block = -1;
    if (ctx->lost) return -1;
    if (bytes == 0) bytes = 4;
    uint64_t need = align_up(bytes, ctx->align);
    uint64_t off = 0;
    int b = -1;
    for (int i = 0; i < ctx->nblocks && b < 0; i++)
        if (take(&ctx->blocks[i], need, &off) == 0) b = i;
    if (b < 0) {
        uint64_t size = need > VKM_BLOCK_BYTES ? need : VKM_BLOCK_BYTES;
        if (ctx->max_alloc && size > ctx->max_alloc) size = need;
        if (ctx->max_alloc && need > ctx->max_alloc)
            return vkm_fail(ctx, "a single tensor of %.1f MiB exceeds the device's largest allocation (%.1f MiB); "
                            "try a smaller --batch or --config", need / 1048576.0, ctx->max_alloc / 1048576.0);
        b = new_block(ctx, size);
        if (b < 0 && size > need) b = new_block(ctx, need); /* retry with an exact-size block */
        if (b < 0) return -1;
        ctx->err[0] = 0;
        take(&ctx->blocks[b], need, &off);
    }
    vkm_block *blk = &ctx->blocks[b];
    out->buffer = blk->buffer;
    out->offset = off;
    out->size = bytes;
    out->map = blk->map ? blk->map + off : NULL;
    out->block = b;
    ctx->bytes_in_use += need;
    if (ctx->bytes_in_use > ctx->bytes_peak) ctx->bytes_peak = ctx->bytes_in_use;
    return 0;
}

void vkm_free(vkm_ctx *ctx, vkm_buf *buf) {
    if (!buf || buf->block < 0 || buf->block >= ctx->nblocks) return;
    vkm_block *blk = &ctx->blocks[buf->block];
    uint64_t off = buf->offset, size = align_up(buf->size ? buf->size : 4, ctx->align);
    int i = 0;
    while (i < blk->nfree && blk->free[i].off < off) i++;
    if (blk->nfree == blk->capfree) {
        vkm_range *nf = realloc(blk->free, 2 * blk->capfree * sizeof *nf);
        if (!nf) return; /* leaks the range into the block: harmless, freed with the block */
        blk->free = nf;
        blk->capfree *= 2;
    }
    memmove(&blk->free[i + 1], &blk->free[i], (blk->nfree - i) * sizeof *blk->free);
    blk->free[i] = (vkm_range){off, size};
    blk->nfree++;
    if (i + 1 < blk->nfree && blk->free[i].off + blk->free[i].size == blk->free[i + 1].off) {
        blk->free[i].size += blk->free[i + 1].size;
        memmove(&blk->free[i + 1], &blk->free[i + 2], (blk->nfree - i - 2) * sizeof *blk->free);
        blk->nfree--;
    }
    if (i > 0 && blk->free[i - 1].off + blk->free[i - 1].size == blk->free[i].off) {
        blk->free[i - 1].size += blk->free[i].size;
        memmove(&blk->free[i], &blk->free[i + 1], (blk->nfree - i - 1) * sizeof *blk->free);
        blk->nfree--;
    }
    ctx->bytes_in_use -= size;
    memset(buf, 0, sizeof *buf);
    buf->block = -1;
}

void vkm_pool_destroy(vkm_ctx *ctx) {
    for (int i = 0; i < ctx->nblocks; i++) {
        vkm_block *blk = &ctx->blocks[i];
        if (blk->map) vkUnmapMemory(ctx->dev, blk->mem);
        vkDestroyBuffer(ctx->dev, blk->buffer, NULL);
        vkFreeMemory(ctx->dev, blk->mem, NULL);
        free(blk->free);
    }
    free(ctx->blocks);
    ctx->blocks = NULL;
    ctx->nblocks = 0;
}

vkm_buf vkm_sub(vkm_buf b, uint64_t offset, uint64_t size) {
    vkm_buf s = b;
    s.offset = b.offset + offset;
    s.size = size;
    s.map = b.map ? b.map + offset : NULL;
    return s;
}

uint64_t vkm_device_bytes(const vkm_ctx *ctx) { return ctx->bytes_device; }
uint64_t vkm_device_in_use_bytes(const vkm_ctx *ctx) { return ctx->bytes_in_use; }
uint64_t vkm_device_peak_bytes(const vkm_ctx *ctx) { return ctx->bytes_peak; }

/* Staged copy for memory the host cannot map: a temporary host-visible buffer. */
static int staged(vkm_ctx *ctx, vkm_buf dev, uint64_t off, void *host, uint64_t bytes, int upload) {
    const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    VkBufferCreateInfo bi = {VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, NULL, 0, bytes,
                             VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                             VK_SHARING_MODE_EXCLUSIVE, 0, NULL};
    VkBuffer sb = VK_NULL_HANDLE;
    VkDeviceMemory sm = VK_NULL_HANDLE;
    void *map = NULL;
    int rc = vkm_check(ctx, vkCreateBuffer(ctx->dev, &bi, NULL, &sb), "vkCreateBuffer (staging)");
    if (!rc) {
        VkMemoryRequirements req;
        vkGetBufferMemoryRequirements(ctx->dev, sb, &req);
        int type = -1;
        for (uint32_t i = 0; i < ctx->memprops.memoryTypeCount && type < 0; i++)
            if ((req.memoryTypeBits & (1u << i)) && (ctx->memprops.memoryTypes[i].propertyFlags & hv) == hv) type = (int)i;
        if (type < 0) rc = vkm_fail(ctx, "no host-visible memory for staging on '%s'", ctx->info.name);
        VkMemoryAllocateInfo ai = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, NULL, req.size, (uint32_t)type};
        if (!rc) rc = vkm_check(ctx, vkAllocateMemory(ctx->dev, &ai, NULL, &sm), "allocating staging memory");
        if (!rc) rc = vkm_check(ctx, vkBindBufferMemory(ctx->dev, sb, sm, 0), "vkBindBufferMemory");
        if (!rc) rc = vkm_check(ctx, vkMapMemory(ctx->dev, sm, 0, VK_WHOLE_SIZE, 0, &map), "vkMapMemory");
    }
    if (!rc && upload) memcpy(map, host, bytes);
    VkCommandBuffer cb;
    if (!rc) rc = vkm_oneshot_begin(ctx, &cb);
    if (!rc) {
        VkMemoryBarrier mb = {VK_STRUCTURE_TYPE_MEMORY_BARRIER, NULL,
                              VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_HOST_WRITE_BIT,
                              VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
        vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
                             VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
        VkBufferCopy c = {upload ? 0 : dev.offset + off, upload ? dev.offset + off : 0, bytes};
        vkCmdCopyBuffer(cb, upload ? sb : dev.buffer, upload ? dev.buffer : sb, 1, &c);
        VkMemoryBarrier mb2 = {VK_STRUCTURE_TYPE_MEMORY_BARRIER, NULL, VK_ACCESS_TRANSFER_WRITE_BIT,
                               VK_ACCESS_HOST_READ_BIT | VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT};
        vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT,
                             VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb2, 0, NULL, 0, NULL);
        rc = vkm_oneshot_end(ctx, cb);
    }
    if (!rc && !upload) memcpy(host, map, bytes);
    if (map) vkUnmapMemory(ctx->dev, sm);
    if (sb) vkDestroyBuffer(ctx->dev, sb, NULL);
    if (sm) vkFreeMemory(ctx->dev, sm, NULL);
    return rc;
}

static int range_ok(vkm_ctx *ctx, vkm_buf b, uint64_t off, uint64_t bytes, const char *what) {
    if (ctx->lost) return -1;
    if (off > b.size || bytes > b.size - off)
        return vkm_fail(ctx, "%s of %llu bytes at %llu is outside a %llu-byte buffer", what,
                        (unsigned long long)bytes, (unsigned long long)off, (unsigned long long)b.size);
    return 0;
}

int vkm_write(vkm_ctx *ctx, vkm_buf dst, uint64_t off, const void *src, uint64_t bytes) {
    if (range_ok(ctx, dst, off, bytes, "write")) return -1;
    if (!bytes) return 0;
    if (dst.map) {
        memcpy(dst.map + off, src, bytes);
        return 0;
    }
    return staged(ctx, dst, off, (void *)src, bytes, 1);
}

int vkm_read(vkm_ctx *ctx, vkm_buf src, uint64_t off, void *dst, uint64_t bytes) {
    if (range_ok(ctx, src, off, bytes, "read")) return -1;
    if (!bytes) return 0;
    if (src.map) {
        memcpy(dst, src.map + off, bytes);
        return 0;
    }
    return staged(ctx, src, off, dst, bytes, 0);
}

int vkm_fill_bytes(vkm_ctx *ctx, vkm_buf dst, uint32_t word) {
    if (dst.map) {
        uint64_t n = dst.size / 4;
        uint32_t *p = (uint32_t *)dst.map;
        for (uint64_t i = 0; i < n; i++) p[i] = word;
        for (uint64_t i = n * 4; i < dst.size; i++) dst.map[i] = (uint8_t)(word >> (8 * (i & 3)));
        return 0;
    }
    uint64_t n = (dst.size + 3) / 4;
    uint32_t *tmp = malloc(n * 4);
    if (!tmp) return vkm_fail(ctx, "out of host memory");
    for (uint64_t i = 0; i < n; i++) tmp[i] = word;
    int rc = vkm_write(ctx, dst, 0, tmp, dst.size);
    free(tmp);
    return rc;
}
