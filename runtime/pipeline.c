/* Compute pipelines: shader modules from the embedded SPIR-V, one pipeline per
 * (shader, specialization constants, binding kinds, push size), created once
 * and kept for the context's life; a VkPipelineCache persisted on disk per
 * device (UUID + driver version) under the user cache dir. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "runtime/internal.h"

static int mkdirs(const char *path) {
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

static void cache_path(vkm_ctx *ctx) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char dir[900];
    if (xdg && *xdg) snprintf(dir, sizeof dir, "%s/vkmist", xdg);
    else if (home && *home) snprintf(dir, sizeof dir, "%s/.cache/vkmist", home);
    else return;
    if (mkdirs(dir)) return;
    char uuid[2 * VK_UUID_SIZE + 1];
    for (unsigned i = 0; i < VK_UUID_SIZE; i++) sprintf(uuid + 2 * i, "%02x", ctx->props.pipelineCacheUUID[i]);
    snprintf(ctx->pcache_path, sizeof ctx->pcache_path, "%s/pipelines-%04x-%04x-%s-%08x.bin", dir,
             ctx->props.vendorID, ctx->props.deviceID, uuid, ctx->props.driverVersion);
}

/* Loads the cache when its header matches this device; a stale or damaged
 * file is ignored (and replaced on save). */
void vkm_pipeline_cache_load(vkm_ctx *ctx) {
    cache_path(ctx);
    if (!ctx->pcache_path[0]) return;
    FILE *f = fopen(ctx->pcache_path, "rb");
    void *data = NULL;
    long n = 0;
    if (f) {
        if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 32 && n < (256l << 20) && fseek(f, 0, SEEK_SET) == 0) {
            data = malloc((size_t)n);
            if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
                free(data);
                data = NULL;
            }
        }
        fclose(f);
    }
    if (data) {
        const uint8_t *h = data;
        uint32_t hlen, ver, vendor, device;
        memcpy(&hlen, h, 4);
        memcpy(&ver, h + 4, 4);
        memcpy(&vendor, h + 8, 4);
        memcpy(&device, h + 12, 4);
        if (hlen < 32 || ver != VK_PIPELINE_CACHE_HEADER_VERSION_ONE || vendor != ctx->props.vendorID ||
            device != ctx->props.deviceID || memcmp(h + 16, ctx->props.pipelineCacheUUID, VK_UUID_SIZE)) {
            free(data);
            data = NULL;
            n = 0;
        }
    }
    VkPipelineCacheCreateInfo ci = {VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO, NULL, 0, data ? (size_t)n : 0, data};
    if (vkCreatePipelineCache(ctx->dev, &ci, NULL, &ctx->pcache) != VK_SUCCESS) ctx->pcache = VK_NULL_HANDLE;
    free(data);
}

void vkm_pipeline_cache_save(vkm_ctx *ctx) {
    if (!ctx->pcache || !ctx->pcache_dirty || !ctx->pcache_path[0]) return;
    size_t n = 0;
    if (vkGetPipelineCacheData(ctx->dev, ctx->pcache, &n, NULL) != VK_SUCCESS || !n) return;
    void *data = malloc(n);
    if (!data) return;
    if (vkGetPipelineCacheData(ctx->dev, ctx->pcache, &n, data) == VK_SUCCESS) {
        char tmp[1100];
        snprintf(tmp, sizeof tmp, "%s.%d.tmp", ctx->pcache_path, (int)getpid());
        FILE *f = fopen(tmp, "wb");
        int ok = f && fwrite(data, 1, n, f) == n;
        if (f && fclose(f)) ok = 0;
        if (!ok || rename(tmp, ctx->pcache_path)) unlink(tmp); /* the cache is an optimisation: never fatal */
    }
    free(data);
}

static int module(vkm_ctx *ctx, vkm_shader_id id, VkShaderModule *out) {
    if ((int)id < 0 || id >= VKM_SHADER_COUNT) return vkm_fail(ctx, "unknown shader id %d", (int)id);
    if (!ctx->modules[id]) {
        const vkm_shader_blob *b = &vkm_shader_blobs[id];
        VkShaderModuleCreateInfo ci = {VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, NULL, 0, b->bytes, b->code};
        if (vkm_check(ctx, vkCreateShaderModule(ctx->dev, &ci, NULL, &ctx->modules[id]), "vkCreateShaderModule"))
            return -1;
    }
    *out = ctx->modules[id];
    return 0;
}

static int same_key(const vkm_pipe *p, const vkm_dispatch_info *d, uint32_t mask) {
    return p->shader == d->shader && p->nspec == d->nspec && p->nbind == d->nbind && p->texel_mask == mask &&
           p->push_size == d->push_size && (!d->nspec || !memcmp(p->spec, d->spec, d->nspec * sizeof(uint32_t)));
}

int vkm_pipeline_get(vkm_ctx *ctx, const vkm_dispatch_info *d, const vkm_pipe **out) {
    if (d->nspec < 0 || d->nspec > VKM_MAX_SPEC || d->nbind < 0 || d->nbind > VKM_MAX_BIND || d->push_size > 128 ||
        (d->nspec && !d->spec))
        return vkm_fail(ctx, "bad dispatch description for %s", d->label ? d->label : "?");
    uint32_t mask = 0;
    for (int i = 0; i < d->nbind; i++) mask |= d->binds[i].texel ? 1u << i : 0;
    for (int i = 0; i < ctx->npipes; i++)
        if (same_key(&ctx->pipes[i], d, mask)) {
            *out = &ctx->pipes[i];
            return 0;
        }
    if (ctx->npipes == ctx->cappipes) {
        int cap = ctx->cappipes ? 2 * ctx->cappipes : 32;
        vkm_pipe *np = realloc(ctx->pipes, cap * sizeof *np);
        if (!np) return vkm_fail(ctx, "out of host memory");
        ctx->pipes = np;
        ctx->cappipes = cap;
    }
    vkm_pipe *p = &ctx->pipes[ctx->npipes];
    memset(p, 0, sizeof *p);
    p->shader = d->shader;
    p->nspec = d->nspec;
    p->nbind = d->nbind;
    p->texel_mask = mask;
    p->push_size = d->push_size;
    if (d->nspec) memcpy(p->spec, d->spec, d->nspec * sizeof(uint32_t));

    VkDescriptorSetLayoutBinding lb[VKM_MAX_BIND];
    for (int i = 0; i < d->nbind; i++)
        lb[i] = (VkDescriptorSetLayoutBinding){(uint32_t)i,
                                               d->binds[i].texel ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
                                                                 : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                               1, VK_SHADER_STAGE_COMPUTE_BIT, NULL};
    VkDescriptorSetLayoutCreateInfo dci = {VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO, NULL,
                                           ctx->info.push_descriptors ? VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR : 0,
                                           (uint32_t)d->nbind, lb};
    if (vkm_check(ctx, vkCreateDescriptorSetLayout(ctx->dev, &dci, NULL, &p->dsl), "vkCreateDescriptorSetLayout"))
        return -1;
    VkPushConstantRange pr = {VK_SHADER_STAGE_COMPUTE_BIT, 0, d->push_size};
    VkPipelineLayoutCreateInfo lci = {VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO, NULL, 0, 1, &p->dsl,
                                      d->push_size ? 1u : 0u, d->push_size ? &pr : NULL};
    VkShaderModule mod = VK_NULL_HANDLE;
    if (vkm_check(ctx, vkCreatePipelineLayout(ctx->dev, &lci, NULL, &p->layout), "vkCreatePipelineLayout") ||
        module(ctx, d->shader, &mod)) {
        vkDestroyDescriptorSetLayout(ctx->dev, p->dsl, NULL);
        if (p->layout) vkDestroyPipelineLayout(ctx->dev, p->layout, NULL);
        return -1;
    }
    VkSpecializationMapEntry me[VKM_MAX_SPEC];
    for (int i = 0; i < d->nspec; i++) me[i] = (VkSpecializationMapEntry){(uint32_t)i, (uint32_t)(4 * i), 4};
    VkSpecializationInfo si = {(uint32_t)d->nspec, me, 4 * (size_t)d->nspec, p->spec};
    VkComputePipelineCreateInfo ci = {VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO, NULL, 0,
                                      {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, NULL, 0,
                                       VK_SHADER_STAGE_COMPUTE_BIT, mod, "main", d->nspec ? &si : NULL},
                                      p->layout, VK_NULL_HANDLE, 0};
    VkResult r = vkCreateComputePipelines(ctx->dev, ctx->pcache, 1, &ci, NULL, &p->pipe);
    if (r != VK_SUCCESS) {
        vkDestroyPipelineLayout(ctx->dev, p->layout, NULL);
        vkDestroyDescriptorSetLayout(ctx->dev, p->dsl, NULL);
        return vkm_check(ctx, r, vkm_shader_blobs[d->shader].name);
    }
    ctx->pcache_dirty = 1;
    ctx->npipes++;
    *out = p;
    return 0;
}

void vkm_pipelines_destroy(vkm_ctx *ctx) {
    for (int i = 0; i < ctx->npipes; i++) {
        vkDestroyPipeline(ctx->dev, ctx->pipes[i].pipe, NULL);
        vkDestroyPipelineLayout(ctx->dev, ctx->pipes[i].layout, NULL);
        vkDestroyDescriptorSetLayout(ctx->dev, ctx->pipes[i].dsl, NULL);
    }
    free(ctx->pipes);
    ctx->pipes = NULL;
    ctx->npipes = 0;
    for (int i = 0; i < VKM_SHADER_COUNT; i++)
        if (ctx->modules[i]) vkDestroyShaderModule(ctx->dev, ctx->modules[i], NULL);
    if (ctx->pcache) vkDestroyPipelineCache(ctx->dev, ctx->pcache, NULL);
    ctx->pcache = VK_NULL_HANDLE;
}
