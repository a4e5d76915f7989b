# Sourced by tools/test.sh, tools/demo.sh and tools/fuzz.sh: installs the Debian packages
# vkmist needs when any is missing (apt-get update first), and sets
# XDG_RUNTIME_DIR when unset (lavapipe warns otherwise). clang and
# libclang-rt-14-dev (libFuzzer, sanitizer runtimes) are for tools/fuzz.sh.
vkmist_packages="cmake make gcc pkg-config glslc libshaderc-dev glslang-tools spirv-tools libvulkan-dev \
libvulkan-volk-dev mesa-vulkan-drivers vulkan-validationlayers vulkan-tools libnifti2-dev libpng-dev \
zlib1g-dev libcjson-dev libopenmpi-dev openmpi-bin clang libclang-rt-14-dev"
# optional: lets the NIfTI geometry test cross-check with nibabel, and
# test_peer_torch / tools/bench_vs_torch.sh run the PyTorch peer
vkmist_optional_packages="python3-nibabel python3-torch"

vkmist_install_deps() {
    local missing=""
    for p in $vkmist_packages ${VKMIST_WITH_OPTIONAL:+$vkmist_optional_packages}; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "== installing:$missing"
        local sudo=""
        [ "$(id -u)" -ne 0 ] && sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
    fi
    if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
        export XDG_RUNTIME_DIR="${TMPDIR:-/tmp}/vkmist-xdg-$(id -u)"
        mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
    fi
}
