/* `vkmist devices`: lists the Vulkan devices and which one vkmist would use. */
#include <stdio.h>
#include <string.h>
#include "tools/cli.h"
#include "train/dist.h"

static const char *type_name(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
    }
}

int cmd_devices(int argc, char **argv) {
    cli_args a = cli_begin("devices", argc, argv);
    int device = -1;
    while (cli_more(&a)) {
        const char *v;
        if (cli_flag(&a, "--help") || cli_flag(&a, "-h")) {
            printf("usage: vkmist devices [--device N]\n\n"
                   "Lists every Vulkan device (index, name, type, driver, device-local memory,\n"
                   "subgroup size) and marks the one vkmist uses: discrete > integrated >\n"
                   "virtual > CPU, unless --device N or VKMIST_DEVICE=N picks another.\n");
            return 0;
        } else if ((v = cli_value(&a, "--device"))) device = (int)cli_long(&a, "--device", v, 0, 1000);
        else if (!a.bad) cli_unknown(&a);
    }
    if (a.bad) return 2;
    vkm_opts o = vkm_default_opts();
    o.device = device;
    vkm_device_info info[16];
    char err[1024] = "";
    int n = vkm_list_devices(&o, info, 16, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "vkmist devices: %s\n", err);
        return 1;
    }
    printf("%-3s %-2s %-40s %-15s %10s %8s %5s  %s\n", "#", "", "name", "type", "memory", "subgroup", "push", "driver");
    for (int i = 0; i < n; i++)
        printf("%-3d %-2s %-40s %-15s %7.1f GiB %8u %5s  %s\n", i, info[i].chosen ? "*" : "", info[i].name,
               type_name(info[i].type), info[i].device_local_bytes / 1073741824.0, info[i].subgroup_size,
               info[i].push_descriptors ? "yes" : "no", info[i].driver);
    if (err[0]) fprintf(stderr, "vkmist devices: %s\n", err);
    printf("\n* = the device vkmist uses (choose with --device N or VKMIST_DEVICE=N)\n");
    char lib[256];
    if (mist_dist_built(lib, sizeof lib))
        printf("MPI: built in (%s): mpirun -np R vkmist train ... trains data-parallel, one device per rank\n", lib);
    else
        printf("MPI: not built in (single-process training only; install libopenmpi-dev and rebuild)\n");
    return err[0] ? 1 : 0;
}
