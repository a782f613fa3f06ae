/* DropBlock for darknet's CPU layers, without patching darknet.

   After parse_network_cfg(cfg_path), dropblock_darknet_attach() turns every
   [dropout] section of that file that has a block_size= key into DropBlock:
   the layer keeps darknet's probability= as 1 - keep_prob, draws its mask
   from (seed, *net->seen, layer index) and runs on darknet's own buffers.
   dropblock_darknet.c carries the library's implementation
   (DROPBLOCK_IMPLEMENTATION). See README.md for the darknet internals this
   relies on. */
#ifndef DROPBLOCK_DARKNET_H
#define DROPBLOCK_DARKNET_H

#include <darknet.h>
#include <stdint.h>

#include "dropblock.h"

/* Returns the number of layers turned into DropBlock (0 if none asks), or -1
   after saying why on stderr (the file does not match net, a block_size on
   a layer that is not a dropout layer, an invalid block or probability);
   on -1 net is unchanged. */
int dropblock_darknet_attach(network *net, const char *cfg_path, uint64_t seed);

/* The config a DropBlock layer draws with (its stream is the layer index; the
   step is *net.seen at the call), or NULL if l is not one. */
const dropblock_config *dropblock_darknet_config(const layer *l);

#endif
