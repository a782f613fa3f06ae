/* libdropblock.so: the header's implementation with DLPack, for callers that
   cannot compile C (Python's ctypes, other FFIs). Only the public API is
   exported: the build hides every other symbol (-fvisibility=hidden), and
   DROPBLOCK_API marks the header's functions and the one helper below. */
#define _POSIX_C_SOURCE 200809L
#include <dlpack/dlpack.h>
#include <pthread.h>

#define DROPBLOCK_API __attribute__((visibility("default"))) extern
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

/* A dropblock_executor parallel_for that starts its own threads: an FFI
   caller cannot hand the library a callback to run on C threads (a ctypes
   callback needs the GIL, which the calling thread holds), so the library
   brings this one. pool is unused; the caller's thread takes part of the work
   and min(parts, DROPBLOCK_SHARED_MAX_THREADS) - 1 threads take the rest.
   If a thread cannot be started its parts run on the calling thread, so the
   result never depends on it. */
DROPBLOCK_API void dropblock_pthread_parallel_for(void *pool, dropblock_task_fn fn, void *task, int parts);

#define DROPBLOCK_SHARED_MAX_THREADS 64

typedef struct dropblock__shared_job {
    dropblock_task_fn fn;
    void *task;
    int first, step, parts;
} dropblock__shared_job;

static void *dropblock__shared_run(void *arg)
{
    const dropblock__shared_job *job = (const dropblock__shared_job *)arg;
    int part;
    for (part = job->first; part < job->parts; part += job->step) job->fn(job->task, part, job->parts);
    return NULL;
}

void dropblock_pthread_parallel_for(void *pool, dropblock_task_fn fn, void *task, int parts)
{
    pthread_t threads[DROPBLOCK_SHARED_MAX_THREADS];
    dropblock__shared_job jobs[DROPBLOCK_SHARED_MAX_THREADS];
    int started[DROPBLOCK_SHARED_MAX_THREADS];
    int n = parts < DROPBLOCK_SHARED_MAX_THREADS ? parts : DROPBLOCK_SHARED_MAX_THREADS;
    int t;
    (void)pool;
    for (t = 0; t < n; t++) {
        jobs[t].fn = fn;
        jobs[t].task = task;
        jobs[t].first = t;
        jobs[t].step = n;
        jobs[t].parts = parts;
        started[t] = t > 0 && pthread_create(&threads[t], NULL, dropblock__shared_run, &jobs[t]) == 0;
    }
    for (t = 0; t < n; t++)
        if (!started[t]) dropblock__shared_run(&jobs[t]);
    for (t = 1; t < n; t++)
        if (started[t]) pthread_join(threads[t], NULL);
}
