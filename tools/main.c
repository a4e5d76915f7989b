/* vkmist: the command line. Dispatches to the subcommands of commands.def. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "tools/cli.h"

#define CMD(name, fn, help) int fn(int argc, char **argv);
#include "tools/commands.def"
#undef CMD

static const struct { const char *name; int (*fn)(int, char **); const char *help; } cmds[] = {
#define CMD(name, fn, help) {#name, fn, help},
#include "tools/commands.def"
#undef CMD
};

static void usage(FILE *f) {
    fprintf(f, "vkmist %s: MIST GAN (missing MRI modality imputation) on Vulkan compute\n\n"
               "usage: vkmist <command> [options]   (vkmist <command> --help for details)\n\n",
            VKMIST_VERSION_STRING);
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
    fprintf(f, "\nDevice choice: --device N or VKMIST_DEVICE=N (see `vkmist devices`);\n"
               "VKMIST_VALIDATE=1 enables the Khronos validation layer.\n");
}

int main(int argc, char **argv) {
    cli_setup_env();
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) { printf("vkmist %s\n", VKMIST_VERSION_STRING); return 0; }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(argv[1], cmds[i].name)) return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "vkmist: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
