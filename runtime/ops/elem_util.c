/* The shared elementwise dispatch routine (see elem_util.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "runtime/ops/elem_util.h"

int vkm_elem_err(vkm_seq *s, const char *op, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vkm_seq_fail(s, "%s: %s", op, msg);
}

int vkm_elem_size(vkm_seq *s, const char *op, const char *what, vkm_buf b, int64_t count) {
    if (count < 0 || b.buffer == VK_NULL_HANDLE || b.size < (uint64_t)count * 4)
        return vkm_elem_err(s, op, "%s holds %llu bytes, needs %lld floats", what,
                            (unsigned long long)b.size, (long long)count);
    return 0;
}

uint32_t vkm_elem_groups(int64_t items) {
    int64_t g = (items + ELEM_LOCAL - 1) / ELEM_LOCAL;
    if (g > ELEM_MAX_GROUPS) g = ELEM_MAX_GROUPS;
    return g < 1 ? 1u : (uint32_t)g;
}

int vkm_elem_run(vkm_seq *s, const elem_launch *L) {
    enum { MAXB = 24, MAXS = 8 };
    vkm_bind binds[MAXB];
    uint32_t spec[MAXS];
    uint8_t push[128];
    int nb = 0;
    if (L->n < 0) return vkm_elem_err(s, L->label, "negative element count %lld", (long long)L->n);
    if (L->push_size > sizeof push || L->nspec + 1 > MAXS)
        return vkm_elem_err(s, L->label, "launcher bug: push/spec too large");
    for (int a = 0; a < L->nargs; a++) {
        if (L->args[a].pair && vkm_elem_size(s, L->label, "a tensor operand", L->args[a].buf, L->n))
            return -1;
        nb += L->args[a].pair == ELEM_TEXEL_RW ? 3 : L->args[a].pair ? 2 : 1;
    }
    if (nb > MAXB) return vkm_elem_err(s, L->label, "launcher bug: too many bindings");
    spec[0] = ELEM_LOCAL;
    if (L->nspec) memcpy(spec + 1, L->spec, sizeof(uint32_t) * (size_t)L->nspec);
    memcpy(push, L->push, L->push_size);
    for (int64_t first = 0; first < L->n; first += ELEM_CHUNK) {
        int64_t count = L->n - first < ELEM_CHUNK ? L->n - first : ELEM_CHUNK;
        uint32_t w = (uint32_t)count;
        memcpy(push, &w, 4);
        if (L->base_word >= 0) {
            uint64_t blk = (uint64_t)first / 4 + (uint64_t)L->base_block;
            uint32_t lohi[2] = {(uint32_t)blk, (uint32_t)(blk >> 32)};
            memcpy(push + 4 * L->base_word, lohi, 8);
        }
        nb = 0;
        for (int a = 0; a < L->nargs; a++) {
            const elem_arg *g = &L->args[a];
            if (g->pair) {
                vkm_buf c = vkm_sub(g->buf, (uint64_t)first * 4, (uint64_t)count * 4);
                if (g->pair != ELEM_PAIR) binds[nb++] = (vkm_bind){c, VKM_READ, VKM_TEXEL_VEC4};
                if (g->pair != ELEM_TEXEL) binds[nb++] = (vkm_bind){c, g->access, 0};
                binds[nb++] = (vkm_bind){c, g->access, 0};
            } else {
                binds[nb++] = (vkm_bind){g->buf, g->access, 0};
            }
        }
        vkm_dispatch_info d = {
            .shader = L->shader, .spec = spec, .nspec = L->nspec + 1,
            .push = push, .push_size = L->push_size, .binds = binds, .nbind = nb,
            .groups = {vkm_elem_groups(((count + 3) / 4 + (L->per_inv > 1 ? L->per_inv : 1) - 1) /
                                       (L->per_inv > 1 ? L->per_inv : 1)), 1, 1},
            .flops = L->flops * (double)count, .bytes = L->bytes * (double)count,
            .label = L->label};
        int rc = vkm_dispatch(s, &d);
        if (rc) return rc;
    }
    return 0;
}
