/* The config table of DESIGN §3 and the shapes derived from it. */
#include <stdio.h>
#include <string.h>
#include "model/config.h"

static const mist_config configs[] = {
    /* name     img levels ch  max_ch style latent hidden w_hpf */
    {"paper", 256, 4, 64, 512, 64, 16, 512, 1.0f},
    {"small", 128, 3, 32, 256, 64, 16, 256, 1.0f},
    {"tiny", 64, 3, 16, 128, 32, 16, 128, 1.0f},
    {"test", 32, 2, 8, 32, 16, 8, 32, 1.0f},
};
#define NCONFIGS ((int)(sizeof configs / sizeof configs[0]))

static const char *const domain_names[MIST_N] = {"t1", "t1ce", "t2", "flair"};

const char *mist_config_names(void) { return "paper, small, tiny, test"; }
int mist_config_count(void) { return NCONFIGS; }
const mist_config *mist_config_at(int i) { return i >= 0 && i < NCONFIGS ? &configs[i] : NULL; }

int mist_config_get(const char *name, mist_config *out, char *err, size_t errlen) {
    for (int i = 0; name && i < NCONFIGS; i++)
        if (!strcmp(name, configs[i].name)) {
            *out = configs[i];
            return 0;
        }
    snprintf(err, errlen, "unknown config '%s' (valid: %s)", name ? name : "(none)", mist_config_names());
    return -1;
}

const char *mist_domain_name(int d) { return d >= 0 && d < MIST_N ? domain_names[d] : "?"; }

int mist_domain_find(const char *name) {
    for (int d = 0; name && d < MIST_N; d++)
        if (!strcmp(name, domain_names[d])) return d;
    return -1;
}

int mist_level_ch(const mist_config *c, int l) {
    long ch = (long)c->ch << l;
    return ch > c->max_ch ? c->max_ch : (int)ch;
}
int mist_content_ch(const mist_config *c) { return mist_level_ch(c, c->levels); }
int mist_content_size(const mist_config *c) { return c->img >> c->levels; }
int mist_num_skips(const mist_config *c) { return c->levels - 1; }
int mist_skip_size(const mist_config *c, int k) { return c->img >> (k + 1); }
int mist_skip_ch(const mist_config *c, int k) { return mist_level_ch(c, k + 1); }

int mist_se_blocks(const mist_config *c) {
    int lg = 0;
    while ((1 << lg) < c->img) lg++;
    return lg - 2;
}
int mist_se_ch(const mist_config *c) { return mist_level_ch(c, mist_se_blocks(c)); }

int mist_config_check(const mist_config *c, char *err, size_t errlen) {
    const char *why = NULL;
    if (c->img < 8 || (c->img & (c->img - 1))) why = "img must be a power of two >= 8";
    else if (c->levels < 1 || c->levels > MIST_MAX_LEVELS || (c->img >> c->levels) < 1)
        why = "levels must be in 1..8 and leave a content of at least 1x1";
    else if (mist_se_blocks(c) > MIST_MAX_LEVELS) why = "img too large (style encoder has more than 8 blocks)";
    else if (c->ch < 1 || c->max_ch < c->ch) why = "need 1 <= ch <= max_ch";
    else if (c->style_dim < 1 || c->latent < 1 || c->map_hidden < 1) why = "style_dim, latent and mapping hidden must be >= 1";
    else if (!(c->w_hpf >= 0)) why = "w_hpf must be >= 0";
    if (why) {
        snprintf(err, errlen, "config '%s': %s", c->name ? c->name : "?", why);
        return -1;
    }
    return 0;
}
