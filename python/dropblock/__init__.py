"""DropBlock (Ghiasi et al. 2018) on any CPU DLPack array, over libdropblock.so.

    import dropblock
    y = dropblock.forward(x, keep_prob=0.9, block_size=7, seed=1, step=0)
    dx = dropblock.backward(dy, keep_prob=0.9, block_size=7, seed=1, step=0)

x is a NumPy array or a torch tensor (anything with __dlpack__) of float32,
float16, bfloat16 or float64 with 4 (N, C, H, W) or 5 (N, C, D, H, W)
dimensions, in any strides (channels_last, slices): the library reads it in
place through DLPack, nothing is copied. layout="NHWC" reads the dimensions
as (N, H, W, C) / (N, D, H, W, C) instead. The mask is a pure function of
(seed, step, stream) and the shape, so backward regenerates it.
forward() and backward() are plain calls, outside autograd: dropblock.torch
has the autograd Function and the DropBlock2d / DropBlock3d modules.

The library is found through the environment variable DROPBLOCK_LIBRARY (a
path to libdropblock.so: only that file is tried), else next to this
package, else by the system loader.
"""
import ctypes
import ctypes.util
import os
import sys

__all__ = ["forward", "backward", "gamma", "expected_keep", "status_string", "LibraryNotFound"]


class LibraryNotFound(ImportError):
    """libdropblock.so is not where the package looked; the message lists every place tried."""


def _candidates():
    explicit = os.environ.get("DROPBLOCK_LIBRARY")
    if explicit:
        return [("DROPBLOCK_LIBRARY", explicit)]
    here = os.path.dirname(os.path.abspath(__file__))
    found = [("next to the package", os.path.join(directory, "libdropblock.so"))
             for directory in (here, os.path.dirname(here))]
    found.append(("system loader", ctypes.util.find_library("dropblock") or "libdropblock.so"))
    return found


def _load():
    tried = []
    for how, path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError as err:
            tried.append(f"  {how}: {path}: {err}")
            continue
        missing = [name for name in ("dropblock_tensor_from_dlpack", "dropblock_pthread_parallel_for")
                   if not hasattr(lib, name)]
        if missing:
            tried.append(f"  {how}: {path}: lacks {', '.join(missing)} (not this project's src/ build of 2.0)")
            continue
        return lib
    raise LibraryNotFound("libdropblock.so not found (build it with cmake -DDROPBLOCK_BUILD_SHARED=ON "
                          "and set DROPBLOCK_LIBRARY to its path); tried:\n" + "\n".join(tried))


# Mirrors of the header's structs, field for field (include/dropblock.h).
class Config(ctypes.Structure):
    _fields_ = [("keep_prob", ctypes.c_float), ("block_h", ctypes.c_int), ("block_w", ctypes.c_int),
                ("flags", ctypes.c_uint), ("scale", ctypes.c_int), ("layout", ctypes.c_int),
                ("seed", ctypes.c_uint64), ("block_d", ctypes.c_int), ("stream", ctypes.c_uint64)]


class Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int)] + \
               [(name, ctypes.c_int) for name in ("n", "d", "h", "w", "c")] + \
               [("stride_" + name, ctypes.c_ssize_t) for name in ("n", "d", "h", "w", "c")] + \
               [("n_offset", ctypes.c_int64)]


class Stats(ctypes.Structure):
    _fields_ = [("kept", ctypes.c_uint64), ("total", ctypes.c_uint64),
                ("scale", ctypes.c_double), ("gamma", ctypes.c_double)]


class Executor(ctypes.Structure):
    _fields_ = [("parallel_for", ctypes.c_void_p), ("pool", ctypes.c_void_p), ("parts", ctypes.c_int)]


SHARE_CHANNELS, SHARE_BATCH, SEED_ANYWHERE, EXACT_RATE, FILL_NOISE = 1, 2, 4, 8, 16
_SCALES = {"batch": 0, "sample": 1, "expected": 2, "none": 3}
_LAYOUTS = {"NHWC": 0, "NDHWC": 0, "NCHW": 1, "NCDHW": 1}
_OUT_OF_MEMORY = -10
_U64 = 1 << 64

library = _load()
_P = ctypes.POINTER
library.dropblock_status_string.restype = ctypes.c_char_p
library.dropblock_status_string.argtypes = [ctypes.c_int]
library.dropblock_config_default.restype = Config
library.dropblock_config_default.argtypes = []
library.dropblock_tensor_from_dlpack.restype = ctypes.c_int
library.dropblock_tensor_from_dlpack.argtypes = [ctypes.c_void_p, ctypes.c_int, _P(Tensor)]
library.dropblock_forward_tensor.restype = ctypes.c_int
library.dropblock_forward_tensor.argtypes = [_P(Config), ctypes.c_uint64, _P(Tensor), _P(Tensor), ctypes.c_void_p,
                                             ctypes.c_size_t, _P(Executor), _P(Stats)]
library.dropblock_backward_tensor.restype = ctypes.c_int
library.dropblock_backward_tensor.argtypes = [_P(Config), ctypes.c_uint64, _P(Tensor), _P(Tensor), ctypes.c_void_p,
                                              ctypes.c_size_t, _P(Executor)]
library.dropblock_gamma.restype = ctypes.c_double
library.dropblock_gamma.argtypes = [ctypes.c_double] + [ctypes.c_int] * 4
library.dropblock_expected_keep.restype = ctypes.c_double
library.dropblock_expected_keep.argtypes = [ctypes.c_double] + [ctypes.c_int] * 4 + [ctypes.c_uint]
# The library's own threads (src/dropblock_shared.c): a ctypes callback could
# not run on C threads while this thread holds the GIL.
_PARALLEL_FOR = ctypes.cast(library.dropblock_pthread_parallel_for, ctypes.c_void_p).value

_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def status_string(status):
    """The library's sentence for a dropblock_status."""
    return library.dropblock_status_string(status).decode()


def _check(status, call):
    if status < 0:
        error = MemoryError if status == _OUT_OF_MEMORY else ValueError
        raise error(f"{call}: {status_string(status)} (status {status})")


def gamma(keep_prob, block_h, block_w, h, w):
    """The paper's seed probability (dropblock_gamma); NaN for invalid arguments."""
    return library.dropblock_gamma(keep_prob, block_h, block_w, h, w)


def expected_keep(gamma, block_h, block_w, h, w, seed_anywhere=False):
    """The exact expected kept fraction of one h x w map for seed probability gamma."""
    return library.dropblock_expected_keep(gamma, block_h, block_w, h, w, SEED_ANYWHERE if seed_anywhere else 0)


def _is_torch(x):
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _uint64(value, name):
    value = int(value)
    if not 0 <= value < _U64:
        raise ValueError(f"{name} must be in [0, 2**64), got {value}")
    return value


def _blocks(block_size):
    """(block_d, block_h, block_w) from an int (square, block_d = block_h) or a 2- or 3-tuple."""
    if isinstance(block_size, int):
        return 0, block_size, block_size
    sizes = tuple(int(b) for b in block_size)
    if len(sizes) == 2:
        return (0,) + sizes
    if len(sizes) == 3:
        return sizes
    raise ValueError(f"block_size must be an int or a tuple of 2 (h, w) or 3 (d, h, w) ints, got {block_size!r}")


def _config(keep_prob, block_size, seed, stream, share_channels, share_batch, seed_anywhere, exact_rate,
            fill_noise, scale):
    cfg = library.dropblock_config_default()
    cfg.keep_prob = keep_prob
    cfg.block_d, cfg.block_h, cfg.block_w = _blocks(block_size)
    cfg.flags = ((SHARE_CHANNELS if share_channels else 0) | (SHARE_BATCH if share_batch else 0) |
                 (SEED_ANYWHERE if seed_anywhere else 0) | (EXACT_RATE if exact_rate else 0) |
                 (FILL_NOISE if fill_noise else 0))
    if scale not in _SCALES:
        raise ValueError(f"scale must be one of {sorted(_SCALES)}, got {scale!r}")
    cfg.scale = _SCALES[scale]
    cfg.seed = _uint64(seed, "seed")
    cfg.stream = _uint64(stream, "stream")
    return cfg


def _describe(array, layout):
    """The dropblock_tensor of array (no copy) and the DLPack capsule that keeps it valid."""
    if layout not in _LAYOUTS:
        raise ValueError(f"layout must be one of {sorted(_LAYOUTS)}, got {layout!r}")
    if _is_torch(array):
        array = array.detach()  # DLPack refuses tensors that require grad; the storage is the same
    if not hasattr(array, "__dlpack__"):
        raise TypeError(f"expected an array with __dlpack__ (NumPy >= 1.22, torch), got {type(array).__name__}")
    try:
        capsule = array.__dlpack__()
    except BufferError as err:  # e.g. NumPy's read-only arrays
        raise ValueError(f"the array cannot be shared through DLPack: {err}") from err
    # A DLManagedTensor starts with its DLTensor, so its address is the DLTensor's.
    tensor = Tensor()
    _check(library.dropblock_tensor_from_dlpack(_capsule_pointer(capsule, b"dltensor"), _LAYOUTS[layout],
                                                ctypes.byref(tensor)), "dropblock_tensor_from_dlpack")
    return tensor, capsule


def _empty_like(x):
    if _is_torch(x):
        import torch
        return torch.empty_like(x, memory_format=torch.preserve_format)
    import numpy
    return numpy.empty_like(x)


def _executor(x, threads):
    if threads is None:
        threads = sys.modules["torch"].get_num_threads() if _is_torch(x) else 1
    threads = int(threads)
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    return None if threads == 1 else ctypes.byref(Executor(_PARALLEL_FOR, None, threads))


def _run(backward, x, out, inplace, layout, threads, step, cfg):
    if inplace and out is not None:
        raise ValueError("give out= or inplace=True, not both")
    y = x if inplace else (_empty_like(x) if out is None else out)
    xt, x_capsule = _describe(x, layout)
    yt, y_capsule = (xt, x_capsule) if inplace else _describe(y, layout)
    executor = _executor(x, threads)
    step = _uint64(step, "step")
    stats = Stats()
    if backward:
        _check(library.dropblock_backward_tensor(ctypes.byref(cfg), step, ctypes.byref(xt), ctypes.byref(yt),
                                                 None, 0, executor), "dropblock_backward_tensor")
    else:
        _check(library.dropblock_forward_tensor(ctypes.byref(cfg), step, ctypes.byref(xt), ctypes.byref(yt),
                                                None, 0, executor, ctypes.byref(stats)), "dropblock_forward_tensor")
    del x_capsule, y_capsule  # the call is over: the producers may free their exports now
    return y, stats


def forward(x, keep_prob=0.9, block_size=7, *, seed=0, step=0, stream=0, layout="NCHW", share_channels=False,
            share_batch=False, seed_anywhere=False, exact_rate=False, fill_noise=False, scale="batch",
            out=None, inplace=False, threads=None, return_stats=False):
    """y = DropBlock(x); a new array like x (same strides where the producer keeps them), or out, or x itself
    with inplace=True. block_size: int, (h, w) or (d, h, w). threads: None = torch.get_num_threads() for a
    torch tensor, 1 otherwise. return_stats: also return {kept, total, scale, gamma}. Invalid arguments raise
    ValueError with the library's sentence."""
    cfg = _config(keep_prob, block_size, seed, stream, share_channels, share_batch, seed_anywhere, exact_rate,
                  fill_noise, scale)
    y, stats = _run(False, x, out, inplace, layout, threads, step, cfg)
    if return_stats:
        return y, {"kept": stats.kept, "total": stats.total, "scale": stats.scale, "gamma": stats.gamma}
    return y


def backward(dy, keep_prob=0.9, block_size=7, *, seed=0, step=0, stream=0, layout="NCHW", share_channels=False,
             share_batch=False, seed_anywhere=False, exact_rate=False, fill_noise=False, scale="batch",
             out=None, inplace=False, threads=None):
    """dx for dy with the mask and scale that forward() drew for the same arguments and shape."""
    cfg = _config(keep_prob, block_size, seed, stream, share_channels, share_batch, seed_anywhere, exact_rate,
                  fill_noise, scale)
    return _run(True, dy, out, inplace, layout, threads, step, cfg)[0]
