/* Subject split (see split.h). */
#include "io/split.h"
#include "io/util.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const part_names[3] = {"train", "val", "test"};

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void io_split_free(io_split *s) {
    if (!s) return;
    for (int p = 0; p < 3; p++) {
        for (int i = 0; i < s->n[p]; i++) free(s->ids[p][i]);
        free(s->ids[p]);
    }
    memset(s, 0, sizeof *s);
}

/* Fills s->ids from the ordered list `order` and the part sizes; copies
 * strings, sorts each part; fails on duplicates. */
static int fill(io_split *s, char **order, const int sizes[3], char *err, size_t errlen) {
    int k = 0;
    for (int p = 0; p < 3; p++) {
        s->n[p] = 0;
        s->ids[p] = calloc((size_t)(sizes[p] ? sizes[p] : 1), sizeof(char *));
        if (!s->ids[p]) return io_err(err, errlen, "out of memory");
        for (int i = 0; i < sizes[p]; i++, k++) {
            if (!(s->ids[p][i] = strdup(order[k]))) return io_err(err, errlen, "out of memory");
            s->n[p]++;
        }
        qsort(s->ids[p], (size_t)s->n[p], sizeof(char *), cmp_str);
    }
    char **all = malloc(sizeof(char *) * (size_t)(k ? k : 1));
    if (!all) return io_err(err, errlen, "out of memory");
    memcpy(all, order, sizeof(char *) * (size_t)k);
    qsort(all, (size_t)k, sizeof(char *), cmp_str);
    int dup = -1;
    for (int i = 1; i < k && dup < 0; i++) if (!strcmp(all[i], all[i - 1])) dup = i;
    int rc = dup >= 0 ? io_err(err, errlen, "subject id %s is listed twice", all[dup]) : 0;
    free(all);
    return rc;
}

int io_split_make(const char *const *ids, int n, uint64_t seed, io_split *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    s->seed = seed;
    if (n < 0) return io_err(err, errlen, "negative subject count");
    char **order = malloc(sizeof(char *) * (size_t)(n ? n : 1));
    if (!order) return io_err(err, errlen, "out of memory");
    for (int i = 0; i < n; i++) order[i] = (char *)ids[i];
    qsort(order, (size_t)n, sizeof(char *), cmp_str);
    uint64_t st = seed;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(splitmix64(&st) % (uint64_t)(i + 1));
        char *t = order[i]; order[i] = order[j]; order[j] = t;
    }
    int sizes[3] = {n, 0, 0};
    if (n >= 3) {
        sizes[1] = sizes[2] = (n + 2) / 5 > 0 ? (n + 2) / 5 : 1; /* round(n/5), at least 1 */
        sizes[0] = n - sizes[1] - sizes[2];
    } else if (n == 2) {
        sizes[0] = sizes[1] = 1;
    }
    int rc = fill(s, order, sizes, err, errlen);
    free(order);
    if (rc) io_split_free(s);
    return rc;
}

int io_split_find(const io_split *s, const char *id) {
    for (int p = 0; p < 3; p++)
        if (s->n[p] && bsearch(&id, s->ids[p], (size_t)s->n[p], sizeof(char *), cmp_str)) return p;
    return -1;
}

int io_split_save(const io_split *s, const char *path, char *err, size_t errlen) {
    cJSON *root = cJSON_CreateObject();
    int rc = 0;
    if (!root) return io_err(err, errlen, "out of memory");
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
    cJSON_AddNumberToObject(root, "version", 1);
    /* a string: JSON numbers (doubles) cannot hold every 64-bit seed */
    cJSON_AddStringToObject(root, "seed", seed);
    for (int p = 0; p < 3; p++) {
        cJSON *arr = cJSON_AddArrayToObject(root, part_names[p]);
        for (int i = 0; arr && i < s->n[p]; i++) cJSON_AddItemToArray(arr, cJSON_CreateString(s->ids[p][i]));
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return io_err(err, errlen, "out of memory");
    char tmp[4096];
    FILE *f = NULL;
    if (io_tmp_name(tmp, sizeof tmp, path)) rc = io_err(err, errlen, "cannot write %s: path too long", path);
    else if (!(f = fopen(tmp, "w"))) rc = io_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
    else {
        int bad = fputs(text, f) < 0 || fputc('\n', f) == EOF || fflush(f) != 0 || fsync(fileno(f)) != 0;
        if (fclose(f) != 0) bad = 1;
        if (bad || rename(tmp, path) != 0) {
            rc = io_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
            unlink(tmp);
        }
    }
    free(text);
    return rc;
}

int io_split_load(const char *path, io_split *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    /* O_NONBLOCK: a FIFO must not hang the open; only regular files are read */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = fd < 0 ? errno : 0;
        if (fd >= 0) close(fd);
        return io_err(err, errlen, "cannot read split %s: %s", path, e ? strerror(e) : "not a regular file");
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) { close(fd); return io_err(err, errlen, "cannot read split %s: %s", path, strerror(errno)); }
    char *buf = NULL;
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && len < (64l << 20) && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)len + 1);
        if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len) buf[len] = 0;
        else { free(buf); buf = NULL; }
    }
    fclose(f);
    if (!buf) return io_err(err, errlen, "cannot read split %s", path);
    cJSON *root = cJSON_Parse(buf);
    free(buf);
    if (!root) return io_err(err, errlen, "split %s: not valid JSON", path);
    int rc = 0;
    cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    cJSON *seed = cJSON_GetObjectItemCaseSensitive(root, "seed");
    /* a hand-written split (train --split) may leave out version and seed:
     * version 1 is the only one, and the seed only records how a split was drawn */
    if (ver && (!cJSON_IsNumber(ver) || ver->valuedouble != 1)) rc = io_err(err, errlen, "split %s: unknown version", path);
    else if (seed && !cJSON_IsString(seed)) rc = io_err(err, errlen, "split %s: the seed is not a string", path);
    char **order = NULL;
    int sizes[3] = {0, 0, 0}, total = 0;
    for (int p = 0; !rc && p < 3; p++) {
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, part_names[p]);
        if (!cJSON_IsArray(arr)) { rc = io_err(err, errlen, "split %s: missing list \"%s\"", path, part_names[p]); break; }
        sizes[p] = cJSON_GetArraySize(arr);
        char **no = realloc(order, sizeof(char *) * (size_t)(total + sizes[p] + 1));
        if (!no) { rc = io_err(err, errlen, "out of memory"); break; }
        order = no;
        cJSON *it;
        cJSON_ArrayForEach(it, arr) {
            if (!cJSON_IsString(it) || !it->valuestring[0]) { rc = io_err(err, errlen, "split %s: \"%s\" holds a non-string id", path, part_names[p]); break; }
            order[total++] = it->valuestring;
        }
    }
    if (!rc) {
        s->seed = seed ? strtoull(seed->valuestring, NULL, 10) : 0;
        char e[512];
        if (fill(s, order, sizes, e, sizeof e)) rc = io_err(err, errlen, "split %s: %s", path, e);
    }
    free(order);
    cJSON_Delete(root);
    if (rc) io_split_free(s);
    return rc;
}
