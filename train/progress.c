/* Progress display (see progress.h). The rate is an exponential moving
 * average weighted by elapsed time rather than by call, so it behaves the
 * same whether the caller updates every iteration or every hundred, and a
 * slow first iteration (pipeline creation) fades out within a few tau. */
#include "train/progress.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

double progress_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int progress_is_tty(FILE *f) {
    const char *term = getenv("TERM");
    return isatty(fileno(f)) && !(term && !strcmp(term, "dumb"));
}

void progress_fmt_duration(double s, char *out, size_t outlen) {
    if (!(s >= 0) || s > 1e9) { snprintf(out, outlen, "--"); return; }
    long t = (long)(s + 0.5);
    if (t < 60) snprintf(out, outlen, "%lds", t);
    else if (t < 3600) snprintf(out, outlen, "%ldm%02lds", t / 60, t % 60);
    else if (t < 86400) snprintf(out, outlen, "%ldh%02ldm", t / 3600, t % 3600 / 60);
    else snprintf(out, outlen, "%ldd%02ldh", t / 86400, t % 86400 / 3600);
}

static void fmt_rate(double r, char *out, size_t outlen) {
    snprintf(out, outlen, r < 10 ? "%.2f" : r < 100 ? "%.1f" : "%.0f", r);
}

void progress_init(progress *p, FILE *f, int tty, long start_iter, long total, double now) {
    memset(p, 0, sizeof *p);
    p->f = f;
    p->tty = tty;
    p->total = total;
    p->interval = 30;
    p->redraw = 0.1;
    p->tau = 10;
    p->start_iter = p->last_iter = p->printed_iter = start_iter;
    p->t_start = p->t_last = p->t_printed = now;
    p->width = 80;
    struct winsize ws;
    if (tty && ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) p->width = ws.ws_col;
    p->force = tty;   /* show the line at once on a terminal */
}

double progress_rate(const progress *p) { return p->have_rate ? p->rate : 0; }

static void draw(progress *p, long iter, const char *extra) {
    char line[512], rate[32], eta[32];
    double r = progress_rate(p);
    fmt_rate(r, rate, sizeof rate);
    progress_fmt_duration(r > 0 ? (double)(p->total - iter) / r : -1, eta, sizeof eta);
    int n = snprintf(line, sizeof line, "iter %ld/%ld  %s it/s  ETA %s%s%s", iter, p->total, rate, eta,
                     extra && extra[0] ? "  " : "", extra ? extra : "");
    size_t len = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (p->tty) {
        if (p->width > 1 && len > (size_t)p->width - 1) len = (size_t)p->width - 1;
        fprintf(p->f, "\r%.*s", (int)len, line);
        for (size_t i = len; i < p->shown; i++) fputc(' ', p->f);   /* cover a longer previous line */
        p->shown = len;
    } else {
        fprintf(p->f, "%.*s\n", (int)len, line);
    }
    fflush(p->f);
}

void progress_update(progress *p, long iter, double now, const char *extra) {
    double dt = now - p->t_last;
    if (iter > p->last_iter && dt > 0) {
        double inst = (double)(iter - p->last_iter) / dt;
        double a = 1 - exp(-dt / p->tau);
        p->rate = p->have_rate ? p->rate + a * (inst - p->rate) : inst;
        p->have_rate = 1;
        p->last_iter = iter;
        p->t_last = now;
    }
    int due;
    if (p->tty) due = p->force || now - p->t_printed >= p->redraw || iter >= p->total;
    else due = (p->every > 0 && iter - p->printed_iter >= p->every) || now - p->t_printed >= p->interval;
    if (!due) return;
    draw(p, iter, extra);
    p->printed_iter = iter;
    p->t_printed = now;
    p->force = 0;
}

void progress_clear(progress *p) {
    if (!p->tty || !p->shown) return;
    fputc('\r', p->f);
    for (size_t i = 0; i < p->shown; i++) fputc(' ', p->f);
    fputc('\r', p->f);
    fflush(p->f);
    p->shown = 0;
    p->force = 1;
}

void progress_finish(progress *p, long iter, double now, const char *extra) {
    progress_clear(p);
    double el = now - p->t_start;
    long done = iter - p->start_iter;
    char dur[32], rate[32];
    progress_fmt_duration(el, dur, sizeof dur);
    fmt_rate(el > 0 ? (double)done / el : 0, rate, sizeof rate);
    fprintf(p->f, "done: %ld iterations in %s, %s it/s%s%s\n", done, dur, rate, extra && extra[0] ? "  " : "",
            extra ? extra : "");
    fflush(p->f);
}
