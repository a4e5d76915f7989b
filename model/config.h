/* The MIST GAN configurations (DESIGN §3): the one table every module, tool
 * and test derives its shapes from, plus the domain names. */
#pragma once
#include <stddef.h>

#define MIST_N 4            /* domains: t1, t1ce, t2, flair (fixed order) */
#define MIST_MAX_LEVELS 8   /* bound on encoder levels / style-encoder blocks */

typedef struct {
    const char *name;
    int img;        /* H = W */
    int levels;     /* encoder down-sampling levels */
    int ch;         /* channels after the first conv */
    int max_ch;     /* channel cap */
    int style_dim;
    int latent;     /* mapping-network input size */
    int map_hidden; /* mapping-network hidden width */
    float w_hpf;    /* high-pass skip scale; 0 disables the skips */
} mist_config;

/* Copies the named config into *out; on an unknown name returns -1 with an
 * error listing the valid names. */
int mist_config_get(const char *name, mist_config *out, char *err, size_t errlen);
/* The valid names, comma separated (for help texts). */
const char *mist_config_names(void);
int mist_config_count(void);
const mist_config *mist_config_at(int i);

const char *mist_domain_name(int d);
/* Domain index of a name ("t1", "t1ce", "t2", "flair"), -1 if none. */
int mist_domain_find(const char *name);

/* Derived shapes. Level l of the encoder (0 = after the first conv) has
 * mist_level_ch(c, l) channels at resolution img / 2^l. */
int mist_level_ch(const mist_config *c, int l);
int mist_content_ch(const mist_config *c);     /* C */
int mist_content_size(const mist_config *c);   /* img / 2^levels */
int mist_num_skips(const mist_config *c);      /* levels - 1 */
/* Skip k (0-based) is the input of encoder level k+1: resolution
 * img / 2^(k+1), mist_level_ch(c, k+1) channels. */
int mist_skip_size(const mist_config *c, int k);
int mist_skip_ch(const mist_config *c, int k);
/* Style-encoder / discriminator trunk: log2(img) - 2 down blocks to 4x4,
 * block i maps mist_level_ch(i) -> mist_level_ch(i+1). */
int mist_se_blocks(const mist_config *c);
int mist_se_ch(const mist_config *c);          /* trunk output channels */
/* Checks the table invariants (power-of-two img >= 8, levels within range,
 * ...); -1 with a message when a config is unusable. */
int mist_config_check(const mist_config *c, char *err, size_t errlen);
