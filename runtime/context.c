/* Vulkan instance, optional validation, device listing and choice (DESIGN
 * §2: discrete > integrated > virtual > CPU unless --device / VKMIST_DEVICE),
 * logical device and queue, and the context's error reporting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/internal.h"

#if defined(__SANITIZE_ADDRESS__)
#include <dlfcn.h>
#include <link.h>
/* Sanitizer builds only: the Vulkan loader unloads the driver and layer
 * libraries at vkDestroyInstance, after which LeakSanitizer can neither
 * name their frames nor match tools/lsan.supp against them; marking every
 * loaded library RTLD_NODELETE keeps them mapped until exit. */
static int pin_one(struct dl_phdr_info *info, size_t size, void *user) {
    (void)size, (void)user;
    if (info->dlpi_name && info->dlpi_name[0]) {
        void *h = dlopen(info->dlpi_name, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
        if (h) dlclose(h);
    }
    return 0;
}
static void pin_libraries(void) { dl_iterate_phdr(pin_one, NULL); }
#else
static void pin_libraries(void) {}
#endif

const char *vkm_result_str(VkResult r) {
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_INCOMPLETE: return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
    case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default: return "VkResult error";
    }
}

int vkm_fail(vkm_ctx *ctx, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
    va_end(ap);
    return -1;
}

int vkm_check(vkm_ctx *ctx, VkResult r, const char *what) {
    if (r == VK_SUCCESS) return 0;
    if (r == VK_ERROR_DEVICE_LOST) {
        ctx->lost = 1;
        return vkm_fail(ctx, "the Vulkan device '%s' was lost during %s (driver reset, hang or crash); "
                        "results of this run are void. Re-run; if it recurs, try a smaller batch or "
                        "another device (vkmist devices)", ctx->info.name, what);
    }
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
        return vkm_fail(ctx, "out of %s memory during %s on '%s' (%.1f MiB in use); try a smaller "
                        "--batch or --config", r == VK_ERROR_OUT_OF_HOST_MEMORY ? "host" : "device", what,
                        ctx->info.name, ctx->bytes_device / 1048576.0);
    return vkm_fail(ctx, "%s failed: %s (%d)", what, vkm_result_str(r), (int)r);
}

const char *vkm_error(const vkm_ctx *ctx) { return ctx->err; }
const vkm_device_info *vkm_device(const vkm_ctx *ctx) { return &ctx->info; }
const VkPhysicalDeviceLimits *vkm_limits(const vkm_ctx *ctx) { return &ctx->props.limits; }
int vkm_validation_messages(const vkm_ctx *ctx) { return ctx->validation_msgs; }
uint64_t vkm_alignment(const vkm_ctx *ctx) { return ctx->align; }
uint64_t vkm_chunk_limit(const vkm_ctx *ctx) { return ctx->chunk_limit; }

vkm_opts vkm_default_opts(void) {
    vkm_opts o = {-1, -1, 0, 0};
    return o;
}

static int env_int(const char *name, int dflt) {
    const char *v = getenv(name);
    if (!v || !*v) return dflt;
    char *end;
    long x = strtol(v, &end, 10);
    return *end ? dflt : (int)x;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL debug_cb(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
                                               VkDebugUtilsMessageTypeFlagsEXT type,
                                               const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    (void)type;
    vkm_ctx *ctx = user;
    if (sev & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)) {
        ctx->validation_msgs++;
        fprintf(stderr, "vkmist: validation %s: %s\n",
                (sev & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) ? "error" : "warning",
                data->pMessage ? data->pMessage : "(no message)");
    }
    return VK_FALSE;
}

static int has_layer(const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || !n) return 0;
    VkLayerProperties *p = calloc(n, sizeof *p);
    if (!p) return 0;
    int found = 0;
    if (vkEnumerateInstanceLayerProperties(&n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n; i++) found |= !strcmp(p[i].layerName, name);
    free(p);
    return found;
}

static int has_instance_ext(const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceExtensionProperties(NULL, &n, NULL) != VK_SUCCESS || !n) return 0;
    VkExtensionProperties *p = calloc(n, sizeof *p);
    if (!p) return 0;
    int found = 0;
    if (vkEnumerateInstanceExtensionProperties(NULL, &n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n; i++) found |= !strcmp(p[i].extensionName, name);
    free(p);
    return found;
}

static int has_device_ext(VkPhysicalDevice pd, const char *name) {
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || !n) return 0;
    VkExtensionProperties *p = calloc(n, sizeof *p);
    if (!p) return 0;
    int found = 0;
    if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n; i++) found |= !strcmp(p[i].extensionName, name);
    free(p);
    return found;
}

/* Instance with optional validation (+ synchronization validation). */
static int make_instance(vkm_ctx *ctx, int validate) {
    VkResult r = volkInitialize();
    if (r != VK_SUCCESS)
        return vkm_fail(ctx, "no Vulkan loader found (libvulkan.so.1); install libvulkan1 and a driver, "
                        "e.g. mesa-vulkan-drivers for the CPU driver lavapipe");
    if (volkGetInstanceVersion() < VK_API_VERSION_1_2)
        return vkm_fail(ctx, "the Vulkan loader is older than 1.2; vkmist needs Vulkan 1.2");
    const char *layers[1];
    uint32_t nlayers = 0;
    const char *exts[2];
    uint32_t nexts = 0;
    if (has_instance_ext(VK_EXT_DEBUG_UTILS_EXTENSION_NAME)) {
        exts[nexts++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
        ctx->debug_utils = 1;
    }
    if (validate) {
        if (!has_layer("VK_LAYER_KHRONOS_validation"))
            return vkm_fail(ctx, "VKMIST_VALIDATE=1 but VK_LAYER_KHRONOS_validation is not installed "
                            "(Debian: apt-get install vulkan-validationlayers)");
        layers[nlayers++] = "VK_LAYER_KHRONOS_validation";
    }
    VkApplicationInfo app = {VK_STRUCTURE_TYPE_APPLICATION_INFO, NULL, "vkmist", 1, "vkmist", 1, VK_API_VERSION_1_2};
    VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
    VkValidationFeaturesEXT vf = {VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT, NULL, 1, enables, 0, NULL};
    VkInstanceCreateInfo ci = {VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, validate ? &vf : NULL, 0, &app,
                               nlayers, layers, nexts, exts};
    r = vkCreateInstance(&ci, NULL, &ctx->instance);
    if (r != VK_SUCCESS) return vkm_check(ctx, r, "vkCreateInstance");
    volkLoadInstance(ctx->instance);
    ctx->validate = validate;
    if (ctx->debug_utils) {
        VkDebugUtilsMessengerCreateInfoEXT mi = {.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
        mi.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
        mi.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                         VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
        mi.pfnUserCallback = debug_cb;
        mi.pUserData = ctx;
        r = vkCreateDebugUtilsMessengerEXT(ctx->instance, &mi, NULL, &ctx->messenger);
        if (r != VK_SUCCESS) return vkm_check(ctx, r, "vkCreateDebugUtilsMessengerEXT");
    }
    return 0;
}

static int type_rank(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
    }
}

static int compute_queue(VkPhysicalDevice pd, uint32_t *fam, int *timestamps) {
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
    VkQueueFamilyProperties q[32];
    if (n > 32) n = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, q);
    int best = -1;
    for (uint32_t i = 0; i < n; i++) {
        if (!(q[i].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
        /* prefer a compute family without graphics (async compute) only when it has timestamps */
        if (best < 0 || (!(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) && q[i].timestampValidBits)) best = (int)i;
    }
    if (best < 0) return -1;
    *fam = (uint32_t)best;
    *timestamps = q[best].timestampValidBits > 0;
    return 0;
}

static void fill_info(VkPhysicalDevice pd, vkm_device_info *info) {
    memset(info, 0, sizeof *info);
    VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceDriverProperties dp = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES, .pNext = &sg};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &dp};
    vkGetPhysicalDeviceProperties2(pd, &p2);
    snprintf(info->name, sizeof info->name, "%s", p2.properties.deviceName);
    snprintf(info->driver, sizeof info->driver, "%.120s %.120s", dp.driverName, dp.driverInfo);
    info->type = p2.properties.deviceType;
    info->subgroup_size = sg.subgroupSize;
    /* shaders use basic and ballot (conv/GEMM broadcast) and arithmetic (norm sums) */
    const VkSubgroupFeatureFlags need = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_BALLOT_BIT |
                                        VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
    info->subgroup_ops_ok = (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) && (sg.supportedOperations & need) == need;
    info->vendor_id = p2.properties.vendorID;
    info->device_id = p2.properties.deviceID;
    info->driver_version = p2.properties.driverVersion;
    info->push_descriptors = has_device_ext(pd, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(pd, &mp);
    int unified = 1;
    for (uint32_t i = 0; i < mp.memoryHeapCount; i++)
        if (mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) info->device_local_bytes += mp.memoryHeaps[i].size;
    for (uint32_t i = 0; i < mp.memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = mp.memoryTypes[i].propertyFlags;
        if ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && !(f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)) unified = 0;
    }
    info->unified = unified;
}

/* Picks the device index for opts among n devices (-1 with err when invalid). */
static int choose(const vkm_opts *opts, VkPhysicalDevice *pds, uint32_t n, char *err, size_t errlen) {
    int want = opts->device >= 0 ? opts->device : env_int("VKMIST_DEVICE", -1);
    if (want >= 0) {
        if ((uint32_t)want >= n) {
            snprintf(err, errlen, "device %d requested (--device or VKMIST_DEVICE) but only %u Vulkan device%s "
                     "found; see `vkmist devices`", want, n, n == 1 ? "" : "s");
            return -1;
        }
        return want;
    }
    int best = -1, best_rank = -1;
    for (uint32_t i = 0; i < n; i++) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(pds[i], &p);
        uint32_t fam;
        int ts;
        if (p.apiVersion < VK_API_VERSION_1_2 || compute_queue(pds[i], &fam, &ts)) continue;
        int rk = type_rank(p.deviceType);
        if (rk > best_rank) best = (int)i, best_rank = rk;
    }
    if (best < 0) snprintf(err, errlen, "no Vulkan 1.2 device with a compute queue found");
    return best;
}

static int enum_devices(vkm_ctx *ctx, VkPhysicalDevice **pds, uint32_t *n) {
    VkResult r = vkEnumeratePhysicalDevices(ctx->instance, n, NULL);
    if (r != VK_SUCCESS) return vkm_check(ctx, r, "vkEnumeratePhysicalDevices");
    if (*n == 0)
        return vkm_fail(ctx, "no Vulkan device found; install a driver (for the CPU: apt-get install mesa-vulkan-drivers)");
    *pds = calloc(*n, sizeof **pds);
    if (!*pds) return vkm_fail(ctx, "out of host memory");
    r = vkEnumeratePhysicalDevices(ctx->instance, n, *pds);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        free(*pds);
        return vkm_check(ctx, r, "vkEnumeratePhysicalDevices");
    }
    return 0;
}

int vkm_list_devices(const vkm_opts *opts, vkm_device_info *info, int max, char *err, size_t errlen) {
    vkm_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    int count = -1;
    VkPhysicalDevice *pds = NULL;
    uint32_t n = 0;
    if (make_instance(&ctx, 0) == 0 && enum_devices(&ctx, &pds, &n) == 0) {
        int pick = choose(opts, pds, n, err, errlen);
        for (uint32_t i = 0; i < n && (int)i < max; i++) {
            fill_info(pds[i], &info[i]);
            info[i].chosen = (int)i == pick;
        }
        count = (int)n < max ? (int)n : max;
        free(pds);
    } else {
        snprintf(err, errlen, "%s", ctx.err);
    }
    if (ctx.messenger) vkDestroyDebugUtilsMessengerEXT(ctx.instance, ctx.messenger, NULL);
    pin_libraries();
    if (ctx.instance) vkDestroyInstance(ctx.instance, NULL);
    return count;
}

static int make_device(vkm_ctx *ctx) {
    int ts = 0;
    if (compute_queue(ctx->phys, &ctx->qfam, &ts))
        return vkm_fail(ctx, "device '%s' has no compute queue", ctx->info.name);
    ctx->timestamps = ts && ctx->props.limits.timestampPeriod > 0;
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qi = {VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, NULL, 0, ctx->qfam, 1, &prio};
    const char *exts[2];
    uint32_t nexts = 0;
    if (ctx->info.push_descriptors) exts[nexts++] = VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME;

    /* Enable what the shaders may use when the device has it. */
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    VkPhysicalDeviceVulkan11Features f11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES, .pNext = &f12};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f11};
    vkGetPhysicalDeviceFeatures2(ctx->phys, &f2);
    VkPhysicalDeviceVulkan12Features e12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    VkPhysicalDeviceVulkan11Features e11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES, .pNext = &e12};
    VkPhysicalDeviceFeatures2 e2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &e11};
    e2.features.shaderInt64 = f2.features.shaderInt64;
    e2.features.shaderFloat64 = f2.features.shaderFloat64;
    e11.storageBuffer16BitAccess = f11.storageBuffer16BitAccess;
    e12.shaderFloat16 = f12.shaderFloat16;
    e12.storageBuffer8BitAccess = f12.storageBuffer8BitAccess;
    e12.hostQueryReset = f12.hostQueryReset;

    VkDeviceCreateInfo di = {VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, &e2, 0, 1, &qi, 0, NULL, nexts, exts, NULL};
    VkResult r = vkCreateDevice(ctx->phys, &di, NULL, &ctx->dev);
    if (r != VK_SUCCESS) return vkm_check(ctx, r, "vkCreateDevice");
    volkLoadDevice(ctx->dev);
    vkGetDeviceQueue(ctx->dev, ctx->qfam, 0, &ctx->queue);
    VkCommandPoolCreateInfo pi = {VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, NULL,
                                  VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, ctx->qfam};
    r = vkCreateCommandPool(ctx->dev, &pi, NULL, &ctx->cmdpool);
    if (r != VK_SUCCESS) return vkm_check(ctx, r, "vkCreateCommandPool");
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    r = vkCreateFence(ctx->dev, &fi, NULL, &ctx->fence);
    if (r != VK_SUCCESS) return vkm_check(ctx, r, "vkCreateFence");
    return 0;
}

int vkm_ctx_create(const vkm_opts *opts, vkm_ctx **out, char *err, size_t errlen) {
    *out = NULL;
    vkm_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    int validate = opts->validate >= 0 ? opts->validate : env_int("VKMIST_VALIDATE", 0);
    VkPhysicalDevice *pds = NULL;
    uint32_t n = 0;
    int rc = make_instance(ctx, validate);
    if (!rc) rc = enum_devices(ctx, &pds, &n);
    if (!rc) {
        int pick = choose(opts, pds, n, ctx->err, sizeof ctx->err);
        if (pick < 0) rc = -1;
        else ctx->phys = pds[pick];
        free(pds);
    }
    if (!rc) {
        fill_info(ctx->phys, &ctx->info);
        ctx->info.chosen = 1;
        /* exercise the paths a GPU takes on lavapipe too: descriptor sets
         * instead of push descriptors, staging instead of mapping */
        if (env_int("VKMIST_NO_PUSH_DESCRIPTORS", 0)) ctx->info.push_descriptors = 0;
        if (env_int("VKMIST_FORCE_STAGING", 0)) ctx->info.unified = 0;
        ctx->info.cpu_kernels = ctx->info.type == VK_PHYSICAL_DEVICE_TYPE_CPU && !env_int("VKMIST_GPU_KERNELS", 0);
        ctx->info.vec4_reads = !env_int("VKMIST_NO_VEC4", 0);
        vkGetPhysicalDeviceProperties(ctx->phys, &ctx->props);
        vkGetPhysicalDeviceMemoryProperties(ctx->phys, &ctx->memprops);
        if (ctx->props.apiVersion < VK_API_VERSION_1_2)
            rc = vkm_fail(ctx, "device '%s' supports only Vulkan %u.%u; vkmist needs 1.2", ctx->info.name,
                          VK_API_VERSION_MAJOR(ctx->props.apiVersion), VK_API_VERSION_MINOR(ctx->props.apiVersion));
        else if (!ctx->info.subgroup_ops_ok)
            rc = vkm_fail(ctx, "device '%s' lacks the subgroup operations vkmist's compute shaders use "
                          "(basic, ballot and arithmetic in compute shaders)", ctx->info.name);
    }
    if (!rc) {
        VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
        VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3};
        vkGetPhysicalDeviceProperties2(ctx->phys, &p2);
        ctx->max_alloc = m3.maxMemoryAllocationSize;
        uint64_t a = 16;
        const VkPhysicalDeviceLimits *l = &ctx->props.limits;
        if (l->minStorageBufferOffsetAlignment > a) a = l->minStorageBufferOffsetAlignment;
        if (l->minTexelBufferOffsetAlignment > a) a = l->minTexelBufferOffsetAlignment;
        if (l->minUniformBufferOffsetAlignment > a) a = l->minUniformBufferOffsetAlignment;
        ctx->align = a;
        ctx->split_flops = 2.0e10;
        ctx->split_dispatches = 4096;
        ctx->mem_limit = (uint64_t)env_int("VKMIST_DEVICE_MEMORY_LIMIT_MB", 0) << 20;
        /* 1 GiB: the least maxMemoryAllocationSize Vulkan 1.1 allows, should a driver report 0 */
        uint64_t chunk = ctx->max_alloc ? ctx->max_alloc : 1ull << 30;
        int chunk_mb = env_int("VKMIST_ARENA_CHUNK_MB", 0);
        if (chunk_mb > 0 && ((uint64_t)chunk_mb << 20) < chunk) chunk = (uint64_t)chunk_mb << 20;
        ctx->chunk_limit = chunk / 256 * 256;
        rc = make_device(ctx);
    }
    if (!rc) rc = vkm_pool_init(ctx);
    if (!rc && !opts->no_pipeline_cache) vkm_pipeline_cache_load(ctx);
    if (!rc && !ctx->pcache) {
        VkPipelineCacheCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
        rc = vkm_check(ctx, vkCreatePipelineCache(ctx->dev, &ci, NULL, &ctx->pcache), "vkCreatePipelineCache");
    }
    if (rc) {
        snprintf(err, errlen, "%s", ctx->err);
        vkm_ctx_destroy(ctx);
        return -1;
    }
    if (opts->verbose)
        fprintf(stderr, "vkmist: device %s (%s)%s\n", ctx->info.name, ctx->info.driver,
                validate ? ", validation on" : "");
    *out = ctx;
    return 0;
}

void vkm_ctx_destroy(vkm_ctx *ctx) {
    if (!ctx) return;
    if (ctx->dev) {
        vkDeviceWaitIdle(ctx->dev);
        vkm_pipeline_cache_save(ctx);
        vkm_pipelines_destroy(ctx);
        vkm_pool_destroy(ctx);
        if (ctx->fence) vkDestroyFence(ctx->dev, ctx->fence, NULL);
        if (ctx->cmdpool) vkDestroyCommandPool(ctx->dev, ctx->cmdpool, NULL);
        vkDestroyDevice(ctx->dev, NULL);
    }
    if (ctx->messenger) vkDestroyDebugUtilsMessengerEXT(ctx->instance, ctx->messenger, NULL);
    pin_libraries();
    if (ctx->instance) vkDestroyInstance(ctx->instance, NULL);
    free(ctx);
}

int vkm_oneshot_begin(vkm_ctx *ctx, VkCommandBuffer *cb) {
    VkCommandBufferAllocateInfo ai = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, NULL, ctx->cmdpool,
                                      VK_COMMAND_BUFFER_LEVEL_PRIMARY, 1};
    if (vkm_check(ctx, vkAllocateCommandBuffers(ctx->dev, &ai, cb), "vkAllocateCommandBuffers")) return -1;
    VkCommandBufferBeginInfo bi = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO, NULL,
                                   VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT, NULL};
    if (vkm_check(ctx, vkBeginCommandBuffer(*cb, &bi), "vkBeginCommandBuffer")) {
        vkFreeCommandBuffers(ctx->dev, ctx->cmdpool, 1, cb);
        return -1;
    }
    return 0;
}

int vkm_oneshot_end(vkm_ctx *ctx, VkCommandBuffer cb) {
    int rc = vkm_check(ctx, vkEndCommandBuffer(cb), "vkEndCommandBuffer");
    if (!rc) {
        VkSubmitInfo si = {VK_STRUCTURE_TYPE_SUBMIT_INFO, NULL, 0, NULL, NULL, 1, &cb, 0, NULL};
        rc = vkm_check(ctx, vkResetFences(ctx->dev, 1, &ctx->fence), "vkResetFences");
        if (!rc) rc = vkm_check(ctx, vkQueueSubmit(ctx->queue, 1, &si, ctx->fence), "vkQueueSubmit");
        if (!rc) rc = vkm_check(ctx, vkWaitForFences(ctx->dev, 1, &ctx->fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
    }
    vkFreeCommandBuffers(ctx->dev, ctx->cmdpool, 1, &cb);
    return rc;
}
