/* Training logs and progress: CSV header/append/flush, resume trimming
 * (rows past the resumed step, a crash's partial line, another header moved
 * aside), metrics.json merging and damage, and the progress display with a
 * fake clock on a memory stream in terminal and plain modes. */
#include "train/log.h"
#include "train/progress.h"
#include "tests/testutil.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = calloc((size_t)n + 1, 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    return b;
}

static void append_raw(const char *path, const char *text) {
    FILE *f = fopen(path, "a");
    TU_CHECK(f && fputs(text, f) >= 0, "append %s", path);
    if (f) fclose(f);
}

static const char *const cols[] = {"step", "d_real", "g_adv", "lr", "it_s"};

static void rows(csv_log *l, long from, long to, double base) {
    char err[256];
    for (long s = from; s <= to; s += 10) {
        double v[4] = {base + (double)s / 100, 1.25, 1e-4, 3.5};
        TU_CHECK(csv_log_row(l, s, v, 4, err, sizeof err) == 0, "%s", err);
    }
}

static void test_csv(const char *dir) {
    char path[600], err[256];
    snprintf(path, sizeof path, "%s/train.csv", dir);
    csv_log l;
    TU_CHECK(csv_log_open(&l, path, cols, 5, -1, err, sizeof err) == 0, "%s", err);
    rows(&l, 10, 100, 0);
    /* flushed per row: visible before close */
    char *s = slurp(path);
    TU_CHECK(s && !strncmp(s, "step,d_real,g_adv,lr,it_s\n10,0.1,1.25,0.0001,3.5\n20,0.2,", 45), "fresh file:\n%s", s ? s : "");
    TU_CHECK(s && strstr(s, "\n100,1,1.25,0.0001,3.5\n"), "last row");
    free(s);
    double bad[3] = {0, 0, 0};
    TU_CHECK(csv_log_row(&l, 110, bad, 3, err, sizeof err) < 0 && strstr(err, "3 values"), "value count: %s", err);
    double nanv[4] = {NAN, INFINITY, -1.5e-9, 123456789};
    TU_CHECK(csv_log_row(&l, 110, nanv, 4, err, sizeof err) == 0, "%s", err);
    csv_log_close(&l);
    s = slurp(path);
    TU_CHECK(s && strstr(s, "\n110,nan,inf,-1.5e-09,1.234568e+08\n"), "nan/inf/exponent formatting:\n%s", s ? s : "");
    free(s);

    /* resume at 50: rows 60..110 go, new rows follow 50 */
    TU_CHECK(csv_log_open(&l, path, cols, 5, 50, err, sizeof err) == 0, "%s", err);
    rows(&l, 60, 70, 5);
    csv_log_close(&l);
    s = slurp(path);
    TU_CHECK(s && strstr(s, "\n50,0.5,1.25,0.0001,3.5\n60,5.6,1.25,0.0001,3.5\n70,5.7,1.25,0.0001,3.5\n") &&
             !strstr(s, "\n80,") && !strstr(s, "\n110,") && !strncmp(s, "step,", 5) && !strstr(s + 1, "step,"),
             "after resume at 50:\n%s", s ? s : "");
    free(s);

    /* a crash left half a row: resuming past it still cuts it */
    append_raw(path, "80,0.8,1.2");
    TU_CHECK(csv_log_open(&l, path, cols, 5, 1000, err, sizeof err) == 0, "%s", err);
    rows(&l, 80, 80, 9);
    csv_log_close(&l);
    s = slurp(path);
    TU_CHECK(s && strstr(s, "\n70,5.7,1.25,0.0001,3.5\n80,9.8,1.25,0.0001,3.5\n") && !strstr(s, "1.280"),
             "partial line trimmed:\n%s", s ? s : "");
    free(s);

    /* resume at a step before every row: only the header stays */
    TU_CHECK(csv_log_open(&l, path, cols, 5, 0, err, sizeof err) == 0, "%s", err);
    csv_log_close(&l);
    s = slurp(path);
    TU_CHECK(s && !strcmp(s, "step,d_real,g_adv,lr,it_s\n"), "resume at 0:\n%s", s ? s : "");
    free(s);

    /* other columns: the old file is moved aside, a fresh one started */
    static const char *const cols2[] = {"step", "d_real", "g_adv", "csl", "lr", "it_s"};
    append_raw(path, "10,1,2,3,4\n");
    fprintf(stderr, "(a 'moved to .old' warning expected next)\n");
    TU_CHECK(csv_log_open(&l, path, cols2, 6, 10, err, sizeof err) == 0, "%s", err);
    csv_log_close(&l);
    s = slurp(path);
    TU_CHECK(s && !strcmp(s, "step,d_real,g_adv,csl,lr,it_s\n"), "new header:\n%s", s ? s : "");
    free(s);
    char old[700];
    snprintf(old, sizeof old, "%s.old", path);
    s = slurp(old);
    TU_CHECK(s && !strcmp(s, "step,d_real,g_adv,lr,it_s\n10,1,2,3,4\n"), "old file kept");
    free(s);

    /* resume without a file, and with an empty one: header written */
    snprintf(path, sizeof path, "%s/val.csv", dir);
    TU_CHECK(csv_log_open(&l, path, cols, 5, 500, err, sizeof err) == 0, "%s", err);
    rows(&l, 510, 510, 0);
    csv_log_close(&l);
    s = slurp(path);
    TU_CHECK(s && !strncmp(s, "step,d_real,g_adv,lr,it_s\n510,", 30), "resume creates:\n%s", s ? s : "");
    free(s);
    FILE *f = fopen(path, "w");
    if (f) fclose(f);
    TU_CHECK(csv_log_open(&l, path, cols, 5, 500, err, sizeof err) == 0, "%s", err);
    csv_log_close(&l);
    s = slurp(path);
    TU_CHECK(s && !strcmp(s, "step,d_real,g_adv,lr,it_s\n"), "empty file gets a header");
    free(s);

    /* fresh start replaces an old log */
    append_raw(path, "1,2,3,4,5\n");
    TU_CHECK(csv_log_open(&l, path, cols, 5, -1, err, sizeof err) == 0, "%s", err);
    csv_log_close(&l);
    s = slurp(path);
    TU_CHECK(s && !strcmp(s, "step,d_real,g_adv,lr,it_s\n"), "fresh replaces");
    free(s);

    /* bad input */
    static const char *const badcols[] = {"step", "a,b"};
    TU_CHECK(csv_log_open(&l, path, badcols, 2, -1, err, sizeof err) < 0 && strstr(err, "comma"), "comma: %s", err);
    snprintf(path, sizeof path, "%s/nope/train.csv", dir);
    TU_CHECK(csv_log_open(&l, path, cols, 5, -1, err, sizeof err) < 0 && strstr(err, "nope/train.csv"), "no folder: %s", err);
}

static void test_metrics(const char *dir) {
    char path[600], err[256];
    snprintf(path, sizeof path, "%s/metrics.json", dir);
    cJSON *t = cJSON_CreateObject();
    cJSON_AddNumberToObject(t, "iters", 2000);
    cJSON_AddNumberToObject(t, "seconds", 12.5);
    TU_CHECK(metrics_update(path, "train", t, err, sizeof err) == 0, "%s", err);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "psnr_t2", 25.25);
    TU_CHECK(metrics_update(path, "eval", e, err, sizeof err) == 0, "%s", err);
    t = cJSON_CreateObject();
    cJSON_AddNumberToObject(t, "iters", 4000);
    TU_CHECK(metrics_update(path, "train", t, err, sizeof err) == 0, "%s", err);
    char *s = slurp(path);
    cJSON *root = s ? cJSON_Parse(s) : NULL;
    free(s);
    cJSON *tr = cJSON_GetObjectItem(root, "train"), *ev = cJSON_GetObjectItem(root, "eval");
    TU_CHECK(tr && cJSON_GetObjectItem(tr, "iters")->valuedouble == 4000 && !cJSON_GetObjectItem(tr, "seconds"),
             "train section replaced");
    TU_CHECK(ev && cJSON_GetObjectItem(ev, "psnr_t2")->valuedouble == 25.25, "eval section kept");
    cJSON_Delete(root);
    /* damaged: started afresh with a warning */
    FILE *f = fopen(path, "w");
    if (f) { fputs("{\"train\": {", f); fclose(f); }
    fprintf(stderr, "(a 'damaged' warning expected next)\n");
    TU_CHECK(metrics_update(path, "eval", cJSON_CreateNumber(1), err, sizeof err) == 0, "%s", err);
    s = slurp(path);
    root = s ? cJSON_Parse(s) : NULL;
    free(s);
    TU_CHECK(root && cJSON_GetArraySize(root) == 1 && cJSON_GetObjectItem(root, "eval"), "damaged file replaced");
    cJSON_Delete(root);
    snprintf(path, sizeof path, "%s/nope/metrics.json", dir);
    TU_CHECK(metrics_update(path, "x", cJSON_CreateNumber(1), err, sizeof err) < 0 && strstr(err, "nope/metrics.json"),
             "no folder: %s", err);
}

static void test_duration(void) {
    static const struct { double s; const char *want; } c[] = {
        {0, "0s"}, {42, "42s"}, {59.6, "1m00s"}, {725, "12m05s"}, {4920, "1h22m"}, {4949, "1h22m"},
        {86399, "23h59m"}, {3 * 86400 + 3 * 3600, "3d03h"}, {-1, "--"}, {NAN, "--"}, {INFINITY, "--"}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char out[32];
        progress_fmt_duration(c[i].s, out, sizeof out);
        TU_CHECK(!strcmp(out, c[i].want), "%g s -> %s, want %s", c[i].s, out, c[i].want);
    }
}

static size_t count(const char *s, char ch) {
    size_t n = 0;
    for (; *s; s++) n += *s == ch;
    return n;
}

static void test_progress_plain(void) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    progress p;
    /* 2 it/s, updated every iteration: a line every 30 s */
    progress_init(&p, f, 0, 0, 1000, 100.0);
    for (long i = 1; i <= 130; i++) progress_update(&p, i, 100.0 + 0.5 * (double)i, "D 1.000  G 2.000");
    fflush(f);
    TU_CHECK(!strcmp(buf, "iter 60/1000  2.00 it/s  ETA 7m50s  D 1.000  G 2.000\n"
                          "iter 120/1000  2.00 it/s  ETA 7m20s  D 1.000  G 2.000\n"), "plain lines:\n%s", buf);
    TU_CHECK(fabs(progress_rate(&p) - 2.0) < 1e-9, "steady rate %g", progress_rate(&p));
    fclose(f);
    free(buf);
    /* every N iterations too, and the summary */
    f = open_memstream(&buf, &len);
    progress_init(&p, f, 0, 0, 1000, 0.0);
    p.every = 100;
    for (long i = 1; i <= 350; i++) progress_update(&p, i, (double)i / 128, NULL);
    progress_finish(&p, 350, 350.0 / 128, "D 0.5");
    fflush(f);
    TU_CHECK(!strcmp(buf, "iter 100/1000  128 it/s  ETA 7s\niter 200/1000  128 it/s  ETA 6s\n"
                          "iter 300/1000  128 it/s  ETA 5s\ndone: 350 iterations in 3s, 128 it/s  D 0.5\n"),
             "every 100:\n%s", buf);
    fclose(f);
    free(buf);
}

static void test_progress_tty(void) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    progress p;
    progress_init(&p, f, 1, 500, 20000, 0.0);   /* a resumed run */
    p.width = 60;
    p.redraw = 0.125;
    /* drawn at once, then at most every 0.125 s (times are exact binary fractions) */
    progress_update(&p, 500, 0.0, NULL);
    fflush(f);
    TU_CHECK(!strcmp(buf, "\riter 500/20000  0.00 it/s  ETA --"), "first draw: [%s]", buf);
    for (long i = 501; i <= 540; i++) progress_update(&p, i, (double)(i - 500) / 32, "D 1.234  G 2.345");
    fflush(f);
    TU_CHECK(!strchr(buf, '\n') && count(buf, '\r') == 11, "one line redrawn 11 times (%zu):\n%s", count(buf, '\r'), buf);
    const char *last = strrchr(buf, '\r');
    TU_CHECK(!strcmp(last, "\riter 540/20000  32.0 it/s  ETA 10m08s  D 1.234  G 2.345"), "latest line [%s]", last);
    size_t prev = strlen(last);
    /* a shorter line covers the longer one; an overlong one is cut to width - 1 */
    progress_update(&p, 545, 1.5, NULL);
    fflush(f);
    last = strrchr(buf, '\r');
    TU_CHECK(strlen(last) == prev && !strncmp(last, "\riter 545/20000  ", 17) && last[prev - 1] == ' ',
             "padded [%s] %zu", last, strlen(last));
    progress_update(&p, 550, 1.75, "D 1.234  G 2.345  CSL 0.123  CCL 0.456  SDL 0.789  SUP 0.000");
    fflush(f);
    last = strrchr(buf, '\r');
    TU_CHECK(strlen(last) == 1 + 59, "cut to 59 columns: %zu", strlen(last) - 1);
    /* clear for a message, then redraw on the next update */
    size_t before = strlen(buf);
    progress_clear(&p);
    fprintf(f, "saved checkpoint\n");
    progress_update(&p, 551, 1.8125, NULL);
    fflush(f);
    char want[200];
    snprintf(want, sizeof want, "\r%59s\rsaved checkpoint\n\riter 551/20000  ", "");
    TU_CHECK(!strncmp(buf + before, want, strlen(want)), "clear + message + redraw: [%s]", buf + before);
    /* the rate follows a change of speed within a few tau */
    for (long i = 1; i <= 1000; i++) progress_update(&p, 551 + i, 1.8125 + 0.125 * (double)i, NULL);
    TU_CHECK(fabs(progress_rate(&p) - 8.0) < 0.01, "rate after the change %g", progress_rate(&p));
    before = strlen(buf);
    snprintf(want, sizeof want, "\r%*s\rdone: 1051 iterations in 2m07s, 8.29 it/s  D 0.7\n", (int)p.shown, "");
    progress_finish(&p, 1551, 126.8125, "D 0.7");
    fflush(f);
    TU_CHECK(!strcmp(buf + before, want), "summary: [%s]", buf + before);
    fclose(f);
    free(buf);
}

int main(void) {
    const char *dir = tu_tmpdir();
    test_csv(dir);
    test_metrics(dir);
    test_duration();
    test_progress_plain();
    test_progress_tty();
    return tu_finish("test_train_log");
}
