"""dropblock.torch: the autograd Function and the timm-style modules."""
import copy
import pickle

import torch
import pytest

import dropblock
from dropblock.torch import DropBlock2d, DropBlock3d, drop_block


def randn(*shape, seed=0, **kwargs):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), **kwargs)


def test_gradcheck_float64_default_tolerances():
    x = randn(2, 3, 9, 9, dtype=torch.float64).requires_grad_()
    for fast in (False, True):
        assert torch.autograd.gradcheck(lambda t: drop_block(t, 0.2, 3, seed=7, step=5, fast=fast), (x,))


def test_autograd_backward_is_the_library_backward():
    x = randn(4, 8, 14, 14).requires_grad_()
    y = drop_block(x, 0.1, 5, seed=3, step=2, stream=4)
    dy = randn(4, 8, 14, 14, seed=1)
    y.backward(dy)
    expected = dropblock.backward(dy, 0.9, 5, seed=3, step=2, stream=4, seed_anywhere=True)
    assert torch.equal(x.grad, expected)
    assert torch.equal(x.grad == 0, y == 0)


def test_timm_arguments_and_their_flags():
    x = randn(4, 8, 12, 12)
    cases = [(dict(batchwise=True), dict(share_batch=True)),
             (dict(couple_channels=True), dict(share_channels=True)),
             (dict(fast=False), dict(seed_anywhere=False)),
             (dict(gamma_scale=0.5), dict(keep_prob=0.9))]
    for module_args, call_args in cases:
        module = DropBlock2d(0.2, 3, seed=5, stream=6, **module_args)
        expected = dropblock.forward(x, **dict(dict(keep_prob=0.8, block_size=3, seed=5, stream=6, step=0,
                                                    seed_anywhere=True), **call_args))
        assert torch.equal(module(x), expected), module_args


def test_with_noise_fills_the_dropped_blocks_and_keeps_the_rest_unscaled():
    x = randn(8, 16, 14, 14) + 3  # nowhere zero
    module = DropBlock2d(0.2, 5, with_noise=True, seed=1, stream=1)
    y = module(x)
    dropped = dropblock.forward(x, 0.8, 5, seed=1, stream=1, seed_anywhere=True, scale="none") == 0
    assert torch.equal(y[~dropped], x[~dropped])
    noise = y[dropped]
    assert noise.numel() > 5000
    assert abs(noise.mean().item()) < 0.05 and abs(noise.std().item() - 1) < 0.05


def test_eval_is_the_identity_and_training_draws_a_fresh_mask_each_step():
    x = randn(4, 8, 14, 14)
    module = DropBlock2d(0.2, 3)
    first, second = module(x), module(x)
    assert module.step == 2 and not torch.equal(first, second)
    module.eval()
    assert module(x) is x and module.step == 2


def test_default_seed_follows_torch_manual_seed_and_streams_differ():
    torch.manual_seed(0)
    a = DropBlock2d()
    torch.manual_seed(0)
    b = DropBlock2d()
    assert a.seed == b.seed and a.stream != b.stream
    x = randn(2, 4, 14, 14)
    assert not torch.equal(a(x), b(x))


def next_masks(module, x, count=2):
    return [module(x) for _ in range(count)]


def test_deepcopy_and_pickle_continue_the_same_masks():
    x = randn(4, 8, 14, 14)
    module = DropBlock2d(0.2, 5, stream=9)
    next_masks(module, x, 3)
    copies = [copy.deepcopy(module), pickle.loads(pickle.dumps(module))]
    expected = next_masks(module, x)
    for other in copies:
        assert (other.seed, other.stream, other.step) == (module.seed, module.stream, 3)
        assert all(torch.equal(a, b) for a, b in zip(next_masks(other, x), expected))


def test_state_dict_is_timms_so_its_checkpoints_load():
    conv = torch.nn.Conv2d(3, 8, 3)
    timm_like = torch.nn.Sequential(conv, torch.nn.Identity())  # timm's DropBlock2d has no state either
    ours = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), DropBlock2d())
    ours.load_state_dict(timm_like.state_dict(), strict=True)
    assert torch.equal(ours[0].weight, conv.weight)


def test_inplace_module_writes_its_input_and_differentiates():
    leaf = randn(4, 8, 14, 14).requires_grad_()
    hidden = leaf * 1  # in place needs a non-leaf, as for any torch in-place op
    module = DropBlock2d(0.2, 3, inplace=True, seed=4, stream=2)
    y = module(hidden)
    assert y is hidden
    y.backward(torch.ones_like(y))
    expected = dropblock.backward(torch.ones_like(y), 0.8, 3, seed=4, stream=2, seed_anywhere=True)
    assert torch.equal(leaf.grad, expected)


def test_inside_a_network_one_sgd_step():
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), DropBlock2d(0.2, 3, inplace=True),
                              torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8 * 12 * 12, 2))
    x, target = randn(16, 3, 12, 12), torch.arange(16) % 2
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = torch.nn.functional.cross_entropy(net(x), target)
    loss.backward()
    optimizer.step()
    assert net[1].step == 1 and torch.isfinite(net[0].weight.grad).all()
    net.eval()
    assert torch.equal(net[1](x), x)


def test_drop_block_3d():
    x = randn(2, 4, 6, 8, 8)
    module = DropBlock3d(0.2, (3, 3, 3), seed=2, stream=3)
    y = module(x)
    assert torch.equal(y, dropblock.forward(x, 0.8, (3, 3, 3), seed=2, stream=3, seed_anywhere=True))
    assert torch.equal(DropBlock3d(0.2, 3, seed=2, stream=3)(x), y)  # an int is a cube
    with pytest.raises(ValueError, match="5-D"):
        module(randn(2, 4, 8, 8))


def test_threads_follow_torch_and_give_the_same_result():
    x = randn(4, 8, 14, 14)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        two = DropBlock2d(0.2, 5, seed=1, stream=1)(x)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(two, DropBlock2d(0.2, 5, seed=1, stream=1, threads=1)(x))
