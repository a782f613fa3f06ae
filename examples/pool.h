/* pool.h - the examples' thread pool: persistent pthreads whose
   parallel_for is what a dropblock_executor takes. Every part runs once,
   taken in order by whichever thread is free (the caller's thread helps),
   so more parts than threads balance themselves.

   Include after dropblock.h (it needs dropblock_task_fn). Used by
   custom_engine.c and fashion_mnist.c; every function is static. */
#ifndef DROPBLOCK_EXAMPLES_POOL_H
#define DROPBLOCK_EXAMPLES_POOL_H

#include <pthread.h>
#include <string.h>

enum { POOL_MAX_THREADS = 64 };

typedef struct pool {
    pthread_t threads[POOL_MAX_THREADS - 1];
    int n_threads;                 /* the caller's thread included */
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    dropblock_task_fn fn;
    void *task;
    int parts, next, unfinished, quit;
} pool;

/* Takes and runs parts until none is left; called with p->mu held. */
static void pool_drain(pool *p) {
    while (p->next < p->parts) {
        int k = p->next++;
        pthread_mutex_unlock(&p->mu);
        p->fn(p->task, k, p->parts);
        pthread_mutex_lock(&p->mu);
        if (--p->unfinished == 0) pthread_cond_broadcast(&p->done);
    }
}

static void *pool_worker(void *arg) {
    pool *p = (pool *)arg;
    pthread_mutex_lock(&p->mu);
    while (!p->quit) {
        pool_drain(p);
        if (!p->quit) pthread_cond_wait(&p->work, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* dropblock_executor.parallel_for: every part once, the caller helping. */
static void pool_parallel_for(void *arg, dropblock_task_fn fn, void *task, int parts) {
    pool *p = (pool *)arg;
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->task = task;
    p->parts = parts;
    p->next = 0;
    p->unfinished = parts;
    pthread_cond_broadcast(&p->work);
    pool_drain(p);
    while (p->unfinished > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

static void pool_stop(pool *p) {
    int t;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (t = 0; t < p->n_threads - 1; ++t) pthread_join(p->threads[t], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
}

/* `threads` threads in all (1 to POOL_MAX_THREADS), the caller's included;
   0 if a thread cannot be created (those that were are stopped). */
static int pool_start(pool *p, int threads) {
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    for (p->n_threads = 1; p->n_threads < threads && p->n_threads < POOL_MAX_THREADS; ++p->n_threads)
        if (pthread_create(&p->threads[p->n_threads - 1], NULL, pool_worker, p) != 0) {
            pool_stop(p);
            return 0;
        }
    return 1;
}

#endif /* DROPBLOCK_EXAMPLES_POOL_H */
