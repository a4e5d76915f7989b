/* Progress display for long loops (training, evaluation): on a terminal one
 * line redrawn in place, "iter 1234/20000  3.4 it/s  ETA 1h22m  <extra>";
 * elsewhere (logs, pipes) a plain line every `every` iterations or `interval`
 * seconds; and a final summary. Time and the stream are parameters so tests
 * drive it with a fake clock and a memory FILE. */
#pragma once
#include <stddef.h>
#include <stdio.h>

typedef struct {
    FILE *f;
    int tty;            /* redraw one line in place */
    int width;          /* tty: lines are cut to width - 1 columns */
    long total;         /* iteration count of the whole run */
    long every;         /* not a tty: a line every this many iterations (0: by time only) */
    double interval;    /* not a tty: ... or after this many seconds (default 30) */
    double redraw;      /* tty: redraw at most this often (default 0.1 s) */
    double tau;         /* time constant of the it/s moving average (default 10 s) */
    /* state */
    long start_iter, last_iter, printed_iter;
    double t_start, t_last, t_printed, rate;
    int have_rate, force;
    size_t shown;       /* tty: columns of the line now on screen */
} progress;

/* isatty(f), and TERM is not "dumb". */
int progress_is_tty(FILE *f);
/* Starts at start_iter (a resumed run) of total; now in seconds on any
 * monotonic clock (progress_now()). The width is read from the terminal. */
void progress_init(progress *p, FILE *f, int tty, long start_iter, long total, double now);
/* iter iterations are done by now; extra (may be NULL) is appended, e.g.
 * "D 1.234  G 2.345". Cheap enough to call every iteration. */
void progress_update(progress *p, long iter, double now, const char *extra);
/* Erases the terminal line so the caller can print a message; the next
 * update redraws it. No-op when not a tty. */
void progress_clear(progress *p);
/* Final line: "done: N iterations in 1h22m, 3.40 it/s  <extra>". */
void progress_finish(progress *p, long iter, double now, const char *extra);
/* The moving-average rate in it/s (0 before the second call). */
double progress_rate(const progress *p);
/* 42s, 12m05s, 1h22m, 2d03h; "--" for negative or non-finite. */
void progress_fmt_duration(double seconds, char *out, size_t outlen);
/* Seconds on CLOCK_MONOTONIC. */
double progress_now(void);
