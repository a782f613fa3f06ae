"""DropBlock for PyTorch: an autograd Function and timm-style modules.

    from dropblock.torch import DropBlock2d
    block = DropBlock2d(drop_prob=0.1, block_size=7)   # timm's arguments

The constructors take timm's arguments (drop_prob, block_size, gamma_scale,
with_noise, inplace, batchwise, fast) plus couple_channels and, keyword-only,
this library's: seed and stream (None: drawn from torch's generator / the
next module number), scale ("batch" as timm, "sample", "expected", "none"),
exact_rate and threads (None: torch.get_num_threads()). fast=True (timm's
default) lets seeds fall anywhere, blocks clipped at the border; fast=False
keeps them where the whole block fits, as the paper and torchvision do.
gamma_scale multiplies drop_prob, as it multiplies timm's gamma.

Each training forward draws a fresh mask: the module's step counter advances
by one. The backward regenerates the mask from (seed, step, stream), so
nothing but those scalars is saved for it. eval() makes the module the
identity. seed, stream and step are plain attributes, so deepcopy (timm's
model EMA) and pickle continue with the same next mask. They are not in the
state_dict, so checkpoints made with timm's DropBlock2d (which has none)
load unchanged; to resume the exact mask sequence, save and restore them.
"""
import itertools

import torch

import dropblock as _dropblock

__all__ = ["drop_block", "DropBlock2d", "DropBlock3d"]

_next_stream = itertools.count(1)


class _DropBlockFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, options):
        ctx.options = options
        if options["inplace"]:
            _dropblock.forward(x, **options)
            ctx.mark_dirty(x)
            return x
        return _dropblock.forward(x, **options)

    @staticmethod
    def backward(ctx, dy):
        options = dict(ctx.options, inplace=False)
        return _dropblock.backward(dy, **options), None


def drop_block(x, drop_prob=0.1, block_size=7, *, training=True, seed=0, step=0, stream=0, gamma_scale=1.0,
               with_noise=False, inplace=False, batchwise=False, couple_channels=False, fast=True,
               scale="batch", exact_rate=False, threads=None):
    """DropBlock of an (N, C, H, W) or (N, C, D, H, W) tensor, differentiable; x itself when not training or
    when nothing can drop."""
    drop = float(drop_prob) * float(gamma_scale)
    if not training or drop == 0.0:
        return x
    options = dict(keep_prob=1.0 - drop, block_size=block_size, seed=seed, step=step, stream=stream,
                   layout="NCHW", share_channels=couple_channels, share_batch=batchwise, seed_anywhere=fast,
                   exact_rate=exact_rate, fill_noise=with_noise, scale=scale, inplace=inplace, threads=threads)
    return _DropBlockFunction.apply(x, options)


class _DropBlockNd(torch.nn.Module):
    _dims = 0

    def __init__(self, drop_prob=0.1, block_size=7, gamma_scale=1.0, with_noise=False, inplace=False,
                 batchwise=False, fast=True, couple_channels=False, *, seed=None, stream=None, scale="batch",
                 exact_rate=False, threads=None):
        super().__init__()
        self.drop_prob = drop_prob
        self.block_size = block_size
        self.gamma_scale = gamma_scale
        self.with_noise = with_noise
        self.inplace = inplace
        self.batchwise = batchwise
        self.fast = fast
        self.couple_channels = couple_channels
        self.scale = scale
        self.exact_rate = exact_rate
        self.threads = threads
        self.seed = int(torch.empty((), dtype=torch.int64).random_().item()) if seed is None else int(seed)
        self.stream = next(_next_stream) if stream is None else int(stream)
        self.step = 0

    def forward(self, x):
        if x.dim() != self._dims:
            raise ValueError(f"{type(self).__name__} expects a {self._dims}-D tensor, got shape {tuple(x.shape)}")
        if not self.training:
            return x
        y = drop_block(x, self.drop_prob, self.block_size, seed=self.seed, step=self.step, stream=self.stream,
                       gamma_scale=self.gamma_scale, with_noise=self.with_noise, inplace=self.inplace,
                       batchwise=self.batchwise, couple_channels=self.couple_channels, fast=self.fast,
                       scale=self.scale, exact_rate=self.exact_rate, threads=self.threads)
        self.step += 1
        return y

    def extra_repr(self):
        return (f"drop_prob={self.drop_prob}, block_size={self.block_size}, fast={self.fast}, "
                f"seed={self.seed}, stream={self.stream}, step={self.step}")


class DropBlock2d(_DropBlockNd):
    """DropBlock of (N, C, H, W) tensors; block_size an int or (h, w)."""
    _dims = 4


class DropBlock3d(_DropBlockNd):
    """DropBlock of (N, C, D, H, W) tensors; block_size an int (a cube) or (d, h, w)."""
    _dims = 5
