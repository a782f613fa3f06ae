/* See dropblock_darknet.h and README.md. This file also carries the
   library's implementation, so a program links it instead of defining
   DROPBLOCK_IMPLEMENTATION itself. */
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock_darknet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a DropBlock layer keeps at the start of its l.rand (darknet's dropout
   layer allocates batch * inputs floats there for its float mask); the mask
   workspace follows at DROPBLOCK_DARKNET_HEADER bytes, a cache line in. */
typedef struct dropblock_darknet_state {
    dropblock_config cfg;
    size_t workspace_bytes;
} dropblock_darknet_state;

#define DROPBLOCK_DARKNET_HEADER 64
typedef char dropblock_darknet_header_fits[sizeof(dropblock_darknet_state) <= DROPBLOCK_DARKNET_HEADER ? 1 : -1];

static dropblock_tensor dropblock_darknet_tensor(const layer *l, float *data)
{
    /* darknet's activations: batch-major, then channel, row, column */
    return dropblock_tensor_nchw(data, DROPBLOCK_F32, l->batch, l->out_c, l->out_h, l->out_w);
}

/* Forward (backward 0) or backward of the layer, in place on data, as
   darknet's dropout runs: l.output and l.delta are the previous layer's,
   which is what net.input and net.delta point at when darknet calls. */
static void dropblock_darknet_apply(const layer *l, const network *net, float *data, int backward)
{
    const dropblock_darknet_state *state = (const dropblock_darknet_state *)(void *)l->rand;
    void *workspace = (char *)l->rand + DROPBLOCK_DARKNET_HEADER;
    dropblock_tensor t = dropblock_darknet_tensor(l, data);
    uint64_t step = (uint64_t)*net->seen;
    dropblock_status status =
        backward ? dropblock_backward_tensor(&state->cfg, step, &t, &t, workspace, state->workspace_bytes, NULL)
                 : dropblock_forward_tensor(&state->cfg, step, &t, &t, workspace, state->workspace_bytes, NULL, NULL);
    if (status != DROPBLOCK_OK) {
        /* attach validated the layer; only a resized network gets here */
        fprintf(stderr, "dropblock_darknet: layer %d: %s\n", net->index, dropblock_status_string(status));
        exit(EXIT_FAILURE);
    }
}

static void dropblock_darknet_forward(layer l, network net)
{
    if (net.train) dropblock_darknet_apply(&l, &net, net.input, 0);
}

static void dropblock_darknet_backward(layer l, network net)
{
    if (net.delta) dropblock_darknet_apply(&l, &net, net.delta, 1);
}

const dropblock_config *dropblock_darknet_config(const layer *l)
{
    if (l->forward != dropblock_darknet_forward) return NULL;
    return &((const dropblock_darknet_state *)(void *)l->rand)->cfg;
}

/* darknet's read_cfg: every line loses its spaces, tabs and newlines; empty
   lines and lines starting with '#' or ';' are skipped; "[...]" starts a
   section (the first is [net], the k-th after it builds layer k - 1);
   anything else is key=value. blocks[k] (zeroed by the caller) receives
   the block_size of layer k. Returns the number of layers, or -1. */
static int dropblock_darknet_read_blocks(const char *path, int *blocks, int max_layers)
{
    FILE *file = fopen(path, "r");
    char line[4096];
    int sections = 0, in_dropout = 0;
    if (!file) {
        perror(path);
        return -1;
    }
    while (fgets(line, sizeof line, file)) {
        size_t i, kept = 0;
        for (i = 0; line[i]; i++)
            if (line[i] != ' ' && line[i] != '\t' && line[i] != '\n') line[kept++] = line[i];
        line[kept] = '\0';
        if (line[0] == '[') {
            in_dropout = strcmp(line, "[dropout]") == 0;
            sections++;
        } else if (strncmp(line, "block_size=", 11) == 0) {
            char *end;
            long value = strtol(line + 11, &end, 10);
            if (sections < 2 || sections - 1 > max_layers || !in_dropout) {
                fprintf(stderr, "dropblock_darknet: %s: block_size outside a [dropout] section\n", path);
                fclose(file);
                return -1;
            }
            if (*end != '\0' || value < 1 || value > 1 << 20) {
                fprintf(stderr, "dropblock_darknet: %s: block_size=%s is not a positive integer\n", path, line + 11);
                fclose(file);
                return -1;
            }
            blocks[sections - 2] = (int)value;
        }
    }
    fclose(file);
    return sections > 0 ? sections - 1 : 0;
}

/* The state of layer index as DropBlock with the given block, validated
   against its buffers; DROPBLOCK_OK or why not. */
static dropblock_status dropblock_darknet_prepare(const layer *l, int index, int block, uint64_t seed,
                                                  dropblock_darknet_state *state)
{
    dropblock_tensor like = dropblock_darknet_tensor(l, NULL);
    size_t available = (size_t)l->batch * (size_t)l->inputs * sizeof(float);
    dropblock_mask mask;
    dropblock_status status;
    state->cfg = dropblock_config_default();
    state->cfg.keep_prob = 1.0f - l->probability;
    state->cfg.block_h = block;
    state->cfg.seed = seed;
    state->cfg.stream = (uint64_t)index;
    status = dropblock_mask_workspace_size(&like, &state->workspace_bytes);
    if (status != DROPBLOCK_OK) return status;
    if (!l->rand || available < DROPBLOCK_DARKNET_HEADER ||
        state->workspace_bytes > available - DROPBLOCK_DARKNET_HEADER)
        return DROPBLOCK_ERR_WORKSPACE;
    /* init validates the config and the sizes and draws nothing */
    return dropblock_mask_init(&mask, &state->cfg, 0, &like, (char *)l->rand + DROPBLOCK_DARKNET_HEADER,
                               state->workspace_bytes);
}

int dropblock_darknet_attach(network *net, const char *cfg_path, uint64_t seed)
{
    int *blocks = (int *)calloc((size_t)net->n + 1, sizeof(int));
    dropblock_darknet_state *states = (dropblock_darknet_state *)calloc((size_t)net->n + 1, sizeof *states);
    int i, attached = -1, layers;
    if (!blocks || !states) goto done;
    layers = dropblock_darknet_read_blocks(cfg_path, blocks, net->n);
    if (layers != net->n) {
        if (layers >= 0)
            fprintf(stderr, "dropblock_darknet: %s has %d layers, the network %d\n", cfg_path, layers, net->n);
        goto done;
    }
    /* every layer is validated before any changes, so that -1 leaves net as it was */
    for (i = 0; i < net->n; i++) {
        const layer *l = &net->layers[i];
        dropblock_status status;
        if (!blocks[i]) continue;
        if (l->type != DROPOUT) {
            fprintf(stderr, "dropblock_darknet: layer %d has a block_size but is not a [dropout] layer\n", i);
            goto done;
        }
        status = dropblock_darknet_prepare(l, i, blocks[i], seed, &states[i]);
        if (status != DROPBLOCK_OK) {
            fprintf(stderr, "dropblock_darknet: layer %d (block_size=%d, probability=%g): %s\n", i, blocks[i],
                    (double)l->probability, dropblock_status_string(status));
            goto done;
        }
    }
    attached = 0;
    for (i = 0; i < net->n; i++) {
        layer *l = &net->layers[i];
        if (!blocks[i]) continue;
        memcpy(l->rand, &states[i], sizeof states[i]);
        l->forward = dropblock_darknet_forward;
        l->backward = dropblock_darknet_backward;
        attached++;
    }
done:
    free(blocks);
    free(states);
    return attached;
}
