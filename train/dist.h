/* Data-parallel training across processes with MPI: the only place that
 * knows MPI. Without MPI at build time (or when not started by a launcher
 * such as mpirun/srun) the same calls describe one process of size 1 and
 * every collective is a no-op. One process drives one device; ranks on the
 * same node are told apart by their local rank (MPI_Comm_split_type SHARED),
 * which picks the device. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "runtime/graph.h"

typedef struct {
    int rank, size;          /* in the world communicator */
    int local_rank, local_size; /* on this node */
    int active;              /* MPI was initialised here (finalize it) */
    int64_t bucket_elems;    /* all-reduce granularity (floats) */
    struct mist_dist_pending *pending; /* exchanges started and not finished */
} mist_dist;

/* 1 when vkmist was built with MPI; lib gets the MPI library's version. */
int mist_dist_built(char *lib, size_t liblen);
/* One process, no MPI (what mist_dist_init gives without a launcher). */
void mist_dist_single(mist_dist *d);
/* Initialises MPI when built with it and the process was started by an MPI
 * launcher (VKMIST_MPI=0 never, =1 always); else a single process. */
int mist_dist_init(mist_dist *d, char *err, size_t errlen);
void mist_dist_finalize(mist_dist *d);
/* Ends every process of the job with msg on stderr (from this rank): one
 * rank's error must not leave the others waiting in a collective. */
void mist_dist_abort(const mist_dist *d, const char *msg) __attribute__((noreturn));

/* In place: every span becomes the mean over the ranks (sum / size),
 * exchanged in buckets of bucket_elems floats, all in flight at once. */
int mist_dist_allreduce_mean(const mist_dist *d, const vkm_span *spans, int n);
/* The same in steps, so that the exchange overlaps other work: start puts
 * the spans' buckets in flight (non-blocking; the spans must stay valid and
 * unwritten until finish), progress lets them advance (call it now and then
 * meanwhile), finish waits for every span started since the last finish and
 * turns the sums into means. Every rank starts the same spans in the same
 * order. */
int mist_dist_allreduce_start(const mist_dist *d, const vkm_span *spans, int n);
int mist_dist_progress(const mist_dist *d);
int mist_dist_allreduce_finish(const mist_dist *d);
/* Rank root's bytes to every rank. */
int mist_dist_bcast(const mist_dist *d, void *buf, size_t bytes, int root);
int mist_dist_barrier(const mist_dist *d);
