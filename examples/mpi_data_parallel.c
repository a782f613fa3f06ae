/* mpi_data_parallel.c - DropBlock in data-parallel training over MPI.

   The global batch of N samples is cut into one window per rank: rank r
   holds samples lo..hi-1 (lo = N*r/size), as a tensor with n_offset = lo.
   The mask of a sample must not depend on which rank holds it, and the
   batch scale (SCALE_BATCH: total / kept over the WHOLE batch) needs every
   rank's counts. So each rank
     1. dropblock_mask_init on its window, dropblock_mask_build (here in
        rank + 1 parts, to show that any split gives the same mask);
     2. dropblock_mask_stats, then MPI_Allreduce (sum) of kept and total;
     3. dropblock_mask_set_batch with the sums;
     4. dropblock_mask_forward x -> y and dropblock_mask_backward dy -> dx.
   Rank 0 gathers y and dx and compares them bit for bit with
   dropblock_forward_tensor / dropblock_backward_tensor on the whole batch in
   one process, for SCALE_BATCH and SCALE_SAMPLE, per-channel masks,
   SHARE_CHANNELS, SHARE_BATCH and both, in F32, F64, F16 and BF16.

   Run: mpirun -np 3 ./mpi_data_parallel   (1 to N ranks; exit 0 iff all match) */
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 7, H = 13, W = 11, C = 3, BLOCK = 3, STEP = 5, LAYER_STREAM = 2 };
#define KEEP_PROB 0.8f
#define SEED 2018u

typedef struct { dropblock_dtype dtype; const char *name; size_t size; } element_type;
static const element_type types[] = {
    {DROPBLOCK_F32, "F32", 4}, {DROPBLOCK_F64, "F64", 8}, {DROPBLOCK_F16, "F16", 2}, {DROPBLOCK_BF16, "BF16", 2}};

/* Element e of the global batch: a multiple of 1/16 in [-3, 3], exact in
   every dtype, so the windows and the whole batch hold the same values. */
static double value(size_t e, unsigned salt) {
    uint32_t h = (uint32_t)e * 2654435761u ^ salt * 40503u;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    return (double)((int)(h % 97u) - 48) / 16.0;
}

static void store(void *buf, dropblock_dtype dt, size_t k, double v) {
    float f = (float)v;
    uint32_t bits;
    uint16_t half;
    memcpy(&bits, &f, 4);
    switch (dt) {
    case DROPBLOCK_F32: memcpy((char *)buf + 4 * k, &f, 4); return;
    case DROPBLOCK_F64: memcpy((char *)buf + 8 * k, &v, 8); return;
    case DROPBLOCK_BF16: half = (uint16_t)(bits >> 16); break; /* exact: the low half is zero */
    default: {                                                  /* F16; |v| >= 1/16 is normal */
        int e;
        double m = frexp(fabs(v), &e); /* |v| = 2m * 2^(e-1), 2m in [1, 2) */
        half = v == 0.0 ? 0
                        : (uint16_t)((v < 0 ? 0x8000u : 0u) | (unsigned)(e + 14) << 10 |
                                     (unsigned)((2.0 * m - 1.0) * 1024.0));
    }
    }
    memcpy((char *)buf + 2 * k, &half, 2);
}

static void die(const char *what, const char *why) {
    fprintf(stderr, "mpi_data_parallel: %s: %s\n", what, why);
    MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1); /* MPI_Abort does not return, but is not declared so */
}

static void check(dropblock_status st, const char *what) {
    if (st != DROPBLOCK_OK) die(what, dropblock_status_string(st));
}

/* One configuration on every rank; returns 1 on rank 0 if the gathered
   window outputs equal the single-process outputs bit for bit. */
static int run(int rank, int size, const element_type *type, dropblock_scale scale, unsigned flags,
               const char *label) {
    const dropblock_dtype dt = type->dtype;
    const size_t es = type->size;
    const int lo = N * rank / size, hi = N * (rank + 1) / size, n = hi - lo, parts = rank + 1;
    const size_t sample = (size_t)H * W * C, local = (size_t)n * sample, global = (size_t)N * sample;
    dropblock_config cfg = dropblock_config_default();
    dropblock_tensor like, x, y, dy, dx;
    dropblock_mask mask;
    dropblock_stats mine;
    uint64_t counts[2], sums[2];
    size_t k, bytes;
    int p, ok = 1, *recv_counts = NULL, *displs = NULL;
    char *buf = malloc(4 * local * es), *all = NULL;
    void *workspace;

    cfg.keep_prob = KEEP_PROB;
    cfg.block_h = BLOCK;
    cfg.flags = flags;
    cfg.scale = scale;
    cfg.seed = SEED;
    cfg.stream = LAYER_STREAM;

    if (!buf) die("buffers", "out of memory");
    for (k = 0; k < local; ++k) {
        store(buf, dt, k, value((size_t)lo * sample + k, 1));              /* x  */
        store(buf + 2 * local * es, dt, k, value((size_t)lo * sample + k, 2)); /* dy */
    }
    x = dropblock_tensor_nhwc(buf, dt, n, H, W, C);
    y = dropblock_tensor_nhwc(buf + local * es, dt, n, H, W, C);
    dy = dropblock_tensor_nhwc(buf + 2 * local * es, dt, n, H, W, C);
    dx = dropblock_tensor_nhwc(buf + 3 * local * es, dt, n, H, W, C);
    x.n_offset = y.n_offset = dy.n_offset = dx.n_offset = lo;
    like = x;

    check(dropblock_mask_workspace_size(&like, &bytes), "dropblock_mask_workspace_size");
    if (!(workspace = malloc(bytes))) die("workspace", "out of memory");
    check(dropblock_mask_init(&mask, &cfg, STEP, &like, workspace, bytes), "dropblock_mask_init");
    for (p = 0; p < parts; ++p) check(dropblock_mask_build(&mask, p, parts), "dropblock_mask_build");
    check(dropblock_mask_stats(&mask, &mine), "dropblock_mask_stats");
    counts[0] = mine.kept;
    counts[1] = mine.total;
    MPI_Allreduce(counts, sums, 2, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    check(dropblock_mask_set_batch(&mask, sums[0], sums[1]), "dropblock_mask_set_batch");
    for (p = 0; p < parts; ++p) {
        check(dropblock_mask_forward(&mask, &x, &y, p, parts), "dropblock_mask_forward");
        check(dropblock_mask_backward(&mask, &dy, &dx, p, parts), "dropblock_mask_backward");
    }

    /* Gather y and dx of every window, in rank order = sample order. */
    if (rank == 0) {
        all = malloc(4 * global * es);
        recv_counts = malloc(sizeof(int) * (size_t)size);
        displs = malloc(sizeof(int) * (size_t)size);
        if (!all || !recv_counts || !displs) die("gather buffers", "out of memory");
        for (p = 0; p < size; ++p) {
            int plo = N * p / size, phi = N * (p + 1) / size;
            recv_counts[p] = (int)((size_t)(phi - plo) * sample * es);
            displs[p] = (int)((size_t)plo * sample * es);
        }
    }
    MPI_Gatherv(y.data, (int)(local * es), MPI_BYTE, all, recv_counts, displs, MPI_BYTE, 0, MPI_COMM_WORLD);
    MPI_Gatherv(dx.data, (int)(local * es), MPI_BYTE, rank == 0 ? all + global * es : NULL, recv_counts, displs,
                MPI_BYTE, 0, MPI_COMM_WORLD);

    if (rank == 0) {
        char *ref = all + 2 * global * es;
        dropblock_tensor gx = dropblock_tensor_nhwc(ref, dt, N, H, W, C), gy, gdy, gdx;
        dropblock_stats whole;
        for (k = 0; k < global; ++k) {
            store(ref, dt, k, value(k, 1));
            store(ref + global * es, dt, k, value(k, 2));
        }
        gdy = dropblock_tensor_nhwc(ref + global * es, dt, N, H, W, C);
        gy = gx; /* in place: the inputs are not needed afterwards */
        gdx = gdy;
        check(dropblock_forward_tensor(&cfg, STEP, &gx, &gy, NULL, 0, NULL, &whole), "dropblock_forward_tensor");
        check(dropblock_backward_tensor(&cfg, STEP, &gdy, &gdx, NULL, 0, NULL), "dropblock_backward_tensor");
        ok = memcmp(all, ref, 2 * global * es) == 0 && sums[0] == whole.kept && sums[1] == whole.total;
        printf("%-4s %-12s %-28s kept %5llu of %5llu: %s\n", type->name, scale == DROPBLOCK_SCALE_BATCH ?
               "SCALE_BATCH" : "SCALE_SAMPLE", label, (unsigned long long)sums[0], (unsigned long long)sums[1],
               ok ? "bit-identical" : "DIFFERENT");
    }
    free(all);
    free(recv_counts);
    free(displs);
    free(workspace);
    free(buf);
    return ok;
}

int main(int argc, char **argv) {
    static const unsigned flag_sets[] = {0, DROPBLOCK_SHARE_CHANNELS, DROPBLOCK_SHARE_BATCH,
                                         DROPBLOCK_SHARE_CHANNELS | DROPBLOCK_SHARE_BATCH};
    static const char *const flag_names[] = {"per-channel", "SHARE_CHANNELS", "SHARE_BATCH",
                                             "SHARE_CHANNELS|SHARE_BATCH"};
    static const dropblock_scale scales[] = {DROPBLOCK_SCALE_BATCH, DROPBLOCK_SCALE_SAMPLE};
    int rank, size, t, s, f, ok = 1, runs = 0;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size > N) {
        if (rank == 0) fprintf(stderr, "mpi_data_parallel: at most %d ranks (one sample each), not %d\n", N, size);
        MPI_Finalize();
        return 2;
    }
    if (rank == 0)
        printf("DropBlock %s: a batch of %d samples %dx%dx%d on %d rank(s), block %d, keep_prob %.1f\n",
               DROPBLOCK_VERSION_STRING, N, H, W, C, size, BLOCK, (double)KEEP_PROB);
    for (t = 0; t < (int)(sizeof types / sizeof *types); ++t)
        for (s = 0; s < 2; ++s)
            for (f = 0; f < 4; ++f, ++runs)
                ok &= run(rank, size, &types[t], scales[s], flag_sets[f], flag_names[f]);
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rank == 0)
        printf("%s: %d configurations, windows on %d rank(s) %s one process\n", ok ? "PASS" : "FAIL", runs, size,
               ok ? "reproduce" : "do NOT reproduce");
    MPI_Finalize();
    return ok ? 0 : 1;
}
