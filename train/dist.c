/* MPI wrappers of train/dist.h; a size-1 stand-in when built without MPI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train/dist.h"
#ifdef VKMIST_HAVE_MPI
#include <mpi.h>
#endif

/* 4 MiB of floats per all-reduce: large enough to reach the network's
 * bandwidth, small enough that the buckets of a span pipeline. */
#define BUCKET_ELEMS (1 << 20)

void mist_dist_single(mist_dist *d) {
    memset(d, 0, sizeof *d);
    d->size = d->local_size = 1;
    d->bucket_elems = BUCKET_ELEMS;
}

/* Started by mpirun/mpiexec (Open MPI, MPICH/Hydra) or srun (PMI/PMIx)? */
static int launched(void) {
    const char *mode = getenv("VKMIST_MPI");
    if (mode && *mode) return atoi(mode) != 0;
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MV2_COMM_WORLD_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

#ifdef VKMIST_HAVE_MPI
/* The buckets in flight: one request and one span (to scale) each. */
struct mist_dist_pending {
    MPI_Request *req;
    vkm_span *span;
    int n, cap, failed;
};

int mist_dist_built(char *lib, size_t liblen) {
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int n = 0;
    if (MPI_Get_library_version(v, &n) != MPI_SUCCESS) snprintf(v, sizeof v, "unknown");
    v[strcspn(v, ",\n")] = 0; /* the first line/clause names library and version */
    snprintf(lib, liblen, "%s", v);
    return 1;
}

static int mpi_err(int rc, const char *what, char *err, size_t errlen) {
    char s[MPI_MAX_ERROR_STRING];
    int n = 0;
    if (MPI_Error_string(rc, s, &n) != MPI_SUCCESS) snprintf(s, sizeof s, "error %d", rc);
    snprintf(err, errlen, "%s: %s", what, s);
    return -1;
}

int mist_dist_init(mist_dist *d, char *err, size_t errlen) {
    mist_dist_single(d);
    if (!launched()) return 0;
    int rc = MPI_Init(NULL, NULL);
    if (rc != MPI_SUCCESS) return mpi_err(rc, "MPI_Init", err, errlen);
    d->active = 1;
    /* errors come back as codes (and end in mist_dist_abort), not as a silent hang */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    MPI_Comm node;
    rc = MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, d->rank, MPI_INFO_NULL, &node);
    if (rc != MPI_SUCCESS) return mpi_err(rc, "MPI_Comm_split_type", err, errlen);
    MPI_Comm_rank(node, &d->local_rank);
    MPI_Comm_size(node, &d->local_size);
    MPI_Comm_free(&node);
    d->pending = calloc(1, sizeof *d->pending);
    if (!d->pending) {
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    return 0;
}

void mist_dist_finalize(mist_dist *d) {
    if (d->pending) {
        free(d->pending->req);
        free(d->pending->span);
        free(d->pending);
        d->pending = NULL;
    }
    if (d->active) MPI_Finalize();
    d->active = 0;
}

void mist_dist_abort(const mist_dist *d, const char *msg) {
    fprintf(stderr, "vkmist (rank %d of %d): %s\n", d->rank, d->size, msg);
    fflush(stderr);
    if (d->active) MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1);
}

int mist_dist_allreduce_start(const mist_dist *d, const vkm_span *spans, int n) {
    if (d->size <= 1) return 0;
    struct mist_dist_pending *p = d->pending;
    int64_t be = d->bucket_elems > 0 ? d->bucket_elems : BUCKET_ELEMS;
    for (int i = 0; i < n; i++)
        for (int64_t off = 0; off < spans[i].n; off += be) {
            if (p->n == p->cap) {
                int c = p->cap ? 2 * p->cap : 64;
                MPI_Request *r = realloc(p->req, (size_t)c * sizeof *r);
                if (r) p->req = r;
                vkm_span *s = realloc(p->span, (size_t)c * sizeof *s);
                if (s) p->span = s;
                if (!r || !s) return p->failed = -1;
                p->cap = c;
            }
            int count = (int)(spans[i].n - off < be ? spans[i].n - off : be);
            p->span[p->n] = (vkm_span){spans[i].data + off, count};
            if (MPI_Iallreduce(MPI_IN_PLACE, spans[i].data + off, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                               &p->req[p->n]) != MPI_SUCCESS)
                return p->failed = -1;
            p->n++;
        }
    return 0;
}

int mist_dist_progress(const mist_dist *d) {
    if (d->size <= 1 || !d->pending->n) return 0;
    int done = 0;
    return MPI_Testall(d->pending->n, d->pending->req, &done, MPI_STATUSES_IGNORE) == MPI_SUCCESS ? 0 : -1;
}

int mist_dist_allreduce_finish(const mist_dist *d) {
    if (d->size <= 1) return 0;
    struct mist_dist_pending *p = d->pending;
    int rc = MPI_Waitall(p->n, p->req, MPI_STATUSES_IGNORE) == MPI_SUCCESS && !p->failed ? 0 : -1;
    float inv = 1.0f / (float)d->size;
    for (int i = 0; i < p->n && !rc; i++)
        for (int64_t j = 0; j < p->span[i].n; j++) p->span[i].data[j] *= inv;
    p->n = 0;
    p->failed = 0;
    return rc;
}

int mist_dist_allreduce_mean(const mist_dist *d, const vkm_span *spans, int n) {
    int rc = mist_dist_allreduce_start(d, spans, n);
    return mist_dist_allreduce_finish(d) || rc ? -1 : 0;
}

int mist_dist_bcast(const mist_dist *d, void *buf, size_t bytes, int root) {
    if (d->size <= 1) return 0;
    for (size_t off = 0; off < bytes;) {
        int count = bytes - off > (1u << 30) ? 1 << 30 : (int)(bytes - off);
        if (MPI_Bcast((char *)buf + off, count, MPI_BYTE, root, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
        off += (size_t)count;
    }
    return 0;
}

int mist_dist_barrier(const mist_dist *d) {
    return d->size <= 1 ? 0 : MPI_Barrier(MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
}

#else /* built without MPI: one process */

int mist_dist_built(char *lib, size_t liblen) {
    if (liblen) lib[0] = 0;
    return 0;
}

int mist_dist_init(mist_dist *d, char *err, size_t errlen) {
    mist_dist_single(d);
    /* several copies each training alone into one run directory would be
     * worse than useless: refuse */
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    if (!n) n = getenv("PMI_SIZE");
    if (!n) n = getenv("SLURM_NTASKS");
    if (launched() && n && atoi(n) > 1) {
        snprintf(err, errlen, "started as one of %s processes, but this vkmist was built without MPI "
                 "(install libopenmpi-dev and rebuild; `vkmist devices` tells)", n);
        return -1;
    }
    return 0;
}

void mist_dist_finalize(mist_dist *d) { d->active = 0; }

void mist_dist_abort(const mist_dist *d, const char *msg) {
    (void)d;
    fprintf(stderr, "vkmist: %s\n", msg);
    exit(1);
}

int mist_dist_allreduce_mean(const mist_dist *d, const vkm_span *spans, int n) {
    (void)d, (void)spans, (void)n;
    return 0;
}

int mist_dist_allreduce_start(const mist_dist *d, const vkm_span *spans, int n) {
    (void)d, (void)spans, (void)n;
    return 0;
}

int mist_dist_progress(const mist_dist *d) {
    (void)d;
    return 0;
}

int mist_dist_allreduce_finish(const mist_dist *d) {
    (void)d;
    return 0;
}

int mist_dist_bcast(const mist_dist *d, void *buf, size_t bytes, int root) {
    (void)d, (void)buf, (void)bytes, (void)root;
    return 0;
}

int mist_dist_barrier(const mist_dist *d) {
    (void)d;
    return 0;
}
#endif
