/* Shared by the fuzz targets (tests/fuzz/fuzz_*.c) and their replay test
 * (tests/test_fuzz_regress.c). FUZZ_TARGET(name) defines fuzz_<name>(); in
 * the libFuzzer build it also defines LLVMFuzzerTestOneInput to call it, and
 * with VKMIST_FUZZ_REPLAY (the ctest build) it does not, so every target can
 * be linked into one replay executable. A target aborts (a crash to
 * libFuzzer, a failure to the replay) when a reader breaks its contract:
 * success with inconsistent results, or an error without a message naming
 * the file. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef VKMIST_FUZZ_REPLAY
#define FUZZ_TARGET(name) int fuzz_##name(const uint8_t *data, size_t size)
#else
#define FUZZ_TARGET(name)                                                       \
    int fuzz_##name(const uint8_t *data, size_t size);                          \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);               \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_##name(data, size); } \
    int fuzz_##name(const uint8_t *data, size_t size)
#endif

/* This process's scratch folder (made on first use, removed at exit). */
const char *fuzz_dir(void);
/* dir/name into out (aborts when it does not fit). */
void fuzz_path(char *out, size_t outlen, const char *name);
/* Writes n bytes to path (aborts on failure: the harness, not the reader). */
void fuzz_write(const char *path, const void *p, size_t n);
/* Removes path and everything under it, never following links. */
void fuzz_rm_tree(const char *path);
/* The contract on a failure: rc != 0 must come with a message that
 * contains `names` (the file); aborts with both printed otherwise. */
void fuzz_expect_error(int rc, const char *err, const char *names);
/* Aborts with the message when cond is false. */
#define FUZZ_ASSERT(cond, msg) fuzz_assert((cond), (msg), __FILE__, __LINE__)
void fuzz_assert(int cond, const char *msg, const char *file, int line);
