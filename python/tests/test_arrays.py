"""dropblock.forward / backward on NumPy arrays and torch tensors through DLPack."""
import math
import re

import numpy as np
import pytest
import torch
import torchvision.ops

import dropblock

DTYPE_ERROR, SHAPE_ERROR, KEEP_PROB_ERROR, BLOCK_ERROR = -14, -2, -4, -5


def status_pattern(status):
    return re.escape(dropblock.status_string(status))


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# --- the drop-rate law against torchvision.ops.drop_block2d -----------------
# torchvision seeds where the whole block fits (fast=False here: valid seeds),
# one map per (n, c), with the paper's gamma, as we do by default. Its block is
# min(bs, H, W) squared and its padding centres only odd blocks, so the laws
# agree for odd blocks no larger than the short side: the shapes below.
LAW_CASES = [((8, 16, 14, 14), 3), ((8, 16, 14, 14), 7), ((4, 16, 9, 13), 5), ((8, 8, 7, 7), 7)]
LAW_DRAWS = 40
P_DROP = 0.1


def dropped_maps_ours(shape, block):
    ones = torch.ones(shape)
    return torch.stack([dropblock.forward(ones, 1 - P_DROP, block, seed=2018, step=s) == 0
                        for s in range(LAW_DRAWS)]).flatten(0, 2).double()


def dropped_maps_torchvision(shape, block):
    torch.manual_seed(2018)
    ones = torch.ones(shape)
    return torch.stack([torchvision.ops.drop_block2d(ones, P_DROP, block) == 0
                        for _ in range(LAW_DRAWS)]).flatten(0, 2).double()


@pytest.mark.parametrize("shape,block", LAW_CASES)
def test_drop_rate_law_matches_torchvision(shape, block):
    ours, peer = dropped_maps_ours(shape, block), dropped_maps_torchvision(shape, block)
    maps = ours.shape[0]  # independent maps: LAW_DRAWS * N * C of each
    # Per position: the drop frequency of every map position agrees within
    # 4.5 standard errors of the difference (about 1e-3 false alarms over all
    # positions; both generators are seeded, so the run is reproducible).
    p_ours, p_peer = ours.mean(0), peer.mean(0)
    pooled = (p_ours + p_peer) / 2
    se = torch.sqrt(2 * pooled * (1 - pooled) / maps).clamp_min(1e-12)
    z = ((p_ours - p_peer).abs() / se).max().item()
    assert z < 4.5, f"position drop frequencies differ by {z:.2f} standard errors"
    # Overall: both mean dropped fractions equal the exact expectation of the
    # paper's gamma within 5 standard errors of the per-map fractions.
    h, w = shape[2:]
    expected = 1 - dropblock.expected_keep(dropblock.gamma(1 - P_DROP, block, block, h, w), block, block, h, w)
    for name, maps_dropped in (("ours", ours), ("torchvision", peer)):
        fractions = maps_dropped.mean((1, 2))
        se = fractions.std().item() / math.sqrt(maps)
        assert abs(fractions.mean().item() - expected) < 5 * se, \
            f"{name}: dropped {fractions.mean().item():.5f}, expected {expected:.5f} (se {se:.2e})"


def test_batch_scale_is_elements_over_kept():
    ones = torch.ones(8, 16, 14, 14)
    y, stats = dropblock.forward(ones, 0.9, 7, seed=3, step=1, return_stats=True)
    kept = int((y != 0).sum())
    assert stats["kept"] == kept and stats["total"] == ones.numel()
    assert stats["scale"] == ones.numel() / kept
    assert set(torch.unique(y).tolist()) == {0.0, float(np.float32(ones.numel() / kept))}


# --- strides, layouts, no copies --------------------------------------------
def test_channels_last_and_contiguous_agree():
    x = randn(4, 8, 10, 12)
    y = dropblock.forward(x, 0.8, 3, seed=5, step=2)
    y_cl = dropblock.forward(x.contiguous(memory_format=torch.channels_last), 0.8, 3, seed=5, step=2)
    assert y_cl.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(y, y_cl)
    assert (y == 0).any() and (y != 0).any()


def test_slices_are_read_and_written_in_place():
    base = randn(4, 16, 20, 20)
    view = base[1:, ::2, 2:-3, 1::2]
    expected = dropblock.forward(view.contiguous(), 0.8, 3, seed=9, step=4)
    assert torch.equal(dropblock.forward(view, 0.8, 3, seed=9, step=4), expected)
    before = base.clone()
    result = dropblock.forward(view, 0.8, 3, seed=9, step=4, inplace=True)
    assert result is view
    assert torch.equal(base[1:, ::2, 2:-3, 1::2], expected)
    outside = torch.ones_like(base, dtype=torch.bool)
    outside[1:, ::2, 2:-3, 1::2] = False
    assert torch.equal(base[outside], before[outside])


def test_numpy_nhwc_is_the_same_logical_mask_as_torch_nchw():
    x = np.random.default_rng(1).standard_normal((3, 10, 12, 8)).astype(np.float32)  # NHWC
    y = dropblock.forward(x, 0.8, 5, seed=11, step=7, layout="NHWC")
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.shape == x.shape
    nchw = torch.from_numpy(x).permute(0, 3, 1, 2)  # a channels_last view of the same memory
    y_view = dropblock.forward(nchw, 0.8, 5, seed=11, step=7)
    y_copy = dropblock.forward(nchw.contiguous(), 0.8, 5, seed=11, step=7)
    assert torch.equal(y_view, y_copy)
    assert np.array_equal(y, y_copy.permute(0, 2, 3, 1).numpy())


def test_numpy_in_place_and_out():
    x = np.random.default_rng(2).standard_normal((2, 4, 9, 9))
    expected = dropblock.forward(x, 0.7, 3, seed=1)
    out = np.full_like(x, np.nan)
    assert dropblock.forward(x, 0.7, 3, seed=1, out=out) is out
    assert np.array_equal(out, expected)
    assert dropblock.forward(x, 0.7, 3, seed=1, inplace=True) is x
    assert np.array_equal(x, expected)


# --- element types -----------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_types_are_the_float32_call_rounded(dtype):
    x = randn(4, 8, 14, 14).to(dtype)
    y = dropblock.forward(x, 0.85, 5, seed=4, step=3)
    assert y.dtype == dtype
    # one float multiply, then one rounding to nearest even: torch's .to()
    assert torch.equal(y, dropblock.forward(x.float(), 0.85, 5, seed=4, step=3).to(dtype))


def test_float16_numpy_is_the_float32_call_rounded():
    x = np.random.default_rng(3).standard_normal((2, 3, 11, 11)).astype(np.float16)
    expected = dropblock.forward(x.astype(np.float32), 0.85, 5, seed=4).astype(np.float16)
    assert np.array_equal(dropblock.forward(x, 0.85, 5, seed=4), expected)


def test_float64_is_one_double_multiply_by_the_double_scale():
    x = randn(4, 8, 14, 14).double()
    y, stats = dropblock.forward(x, 0.85, 5, seed=4, step=3, return_stats=True)
    kept = dropblock.forward(x.float(), 0.85, 5, seed=4, step=3) != 0
    assert torch.equal(y, torch.where(kept, x * stats["scale"], torch.zeros_like(x)))


# --- determinism and threads ---------------------------------------------------
def test_same_seed_step_stream_same_output_and_each_changes_it():
    x = randn(4, 8, 14, 14)
    base = dict(seed=21, step=5, stream=3)
    y = dropblock.forward(x, 0.9, 3, **base)
    assert torch.equal(y, dropblock.forward(x, 0.9, 3, **base))
    for change in ({"seed": 22}, {"step": 6}, {"stream": 4}):
        assert not torch.equal(y, dropblock.forward(x, 0.9, 3, **dict(base, **change))), change


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_threads_give_the_one_thread_result(threads):
    x = randn(5, 8, 14, 14)
    kwargs = dict(seed=8, step=2, stream=1)
    assert torch.equal(dropblock.forward(x, 0.9, 5, threads=threads, **kwargs),
                       dropblock.forward(x, 0.9, 5, threads=1, **kwargs))
    assert torch.equal(dropblock.backward(x, 0.9, 5, threads=threads, **kwargs),
                       dropblock.backward(x, 0.9, 5, threads=1, **kwargs))


def test_backward_applies_the_forward_mask_and_scale():
    ones = torch.ones(4, 8, 14, 14)
    dy = randn(4, 8, 14, 14, seed=1)
    kwargs = dict(seed=13, step=9, stream=2, seed_anywhere=True)
    y = dropblock.forward(ones, 0.9, 5, **kwargs)  # the scale where kept, 0 where dropped
    assert torch.equal(dropblock.backward(dy, 0.9, 5, **kwargs), y * dy)


def test_five_dimensions_are_ncdhw():
    x = randn(2, 3, 6, 8, 8)
    y = dropblock.forward(x, 0.8, 3, seed=6)
    y_cl = dropblock.forward(x.contiguous(memory_format=torch.channels_last_3d), 0.8, 3, seed=6)
    assert torch.equal(y, y_cl) and (y == 0).any()
    assert torch.equal(dropblock.backward(torch.ones_like(x), 0.8, 3, seed=6) != 0, y != 0)


# --- bad arguments ---------------------------------------------------------------
def test_bad_arguments_raise_value_error_with_the_library_sentence():
    x = randn(2, 3, 8, 8)
    with pytest.raises(ValueError, match=status_pattern(KEEP_PROB_ERROR)):
        dropblock.forward(x, 1.5, 3)
    with pytest.raises(ValueError, match=status_pattern(KEEP_PROB_ERROR)):
        dropblock.forward(x, float("nan"), 3)
    with pytest.raises(ValueError, match=status_pattern(BLOCK_ERROR)):
        dropblock.forward(x, 0.9, 0)
    with pytest.raises(ValueError, match=status_pattern(DTYPE_ERROR)):
        dropblock.forward(x.to(torch.int32), 0.9, 3)
    with pytest.raises(ValueError, match=status_pattern(DTYPE_ERROR)):
        dropblock.forward(x, 0.9, 3, out=torch.empty_like(x, dtype=torch.float64))
    with pytest.raises(ValueError, match=status_pattern(SHAPE_ERROR)):
        dropblock.forward(x, 0.9, 3, out=torch.empty(2, 3, 8, 9))
    with pytest.raises(ValueError, match="dropblock_tensor_from_dlpack"):
        dropblock.forward(x[0], 0.9, 3)
    with pytest.raises(ValueError, match="scale"):
        dropblock.forward(x, 0.9, 3, scale="per-pixel")
    with pytest.raises(ValueError, match="threads"):
        dropblock.forward(x, 0.9, 3, threads=0)
    with pytest.raises(ValueError, match="seed"):
        dropblock.forward(x, 0.9, 3, seed=-1)
    with pytest.raises(TypeError, match="__dlpack__"):
        dropblock.forward([[1.0]], 0.9, 3)


def test_an_error_writes_nothing():
    x = randn(2, 3, 8, 8)
    out = torch.full_like(x, 7.0)
    with pytest.raises(ValueError):
        dropblock.forward(x, 0.9, 0, out=out)
    assert torch.equal(out, torch.full_like(x, 7.0))
