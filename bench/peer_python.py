#!/usr/bin/python3
"""Times the Python package (python/dropblock, over libdropblock.so) called from
torch against torchvision.ops.drop_block2d, in the same process, with one
thread and with two, on the peer cases of peer_torchvision.py.

usage: DROPBLOCK_LIBRARY=build/shared/src/libdropblock.so /usr/bin/python3 bench/peer_python.py [--reps N] [--quick]

Ours is dropblock.torch.drop_block(x, p, block, fast=False): the autograd
Function a model calls, valid seeds, one map per (n, c), batch scale, as
torchvision. Threads: torch.set_num_threads(t) for both; ours takes
torch.get_num_threads() and splits the work over the library's threads.
Each case runs in a fresh process, as in peer_torchvision.py, for the same
reason (malloc's adaptive mmap threshold).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))

from peer_torchvision import DEFAULT_CASES, KEEP, load_torch, median_ns, parse_args, peer_call, run_child  # noqa: E402

THREADS = (1, 2)


def our_call(torch, row):
    """A no-argument callable doing the row's work with dropblock.torch, shaped as peer_call's."""
    from dropblock.torch import drop_block
    x = torch.rand(row["n"], row["c"], row["h"], row["w"]) + 0.5
    p, block = 1.0 - row["keep"], row["block"]
    if row["kind"] == "forward_ws_inplace":
        return lambda: drop_block(x, p, block, fast=False, inplace=True, seed=1)
    if row["kind"] == "backward_ws":
        x.requires_grad_(True)
        y = drop_block(x, p, block, fast=False, seed=1)
        dy = torch.ones_like(y)
        return lambda: torch.autograd.grad(y, x, dy, retain_graph=True)
    return lambda: drop_block(x, p, block, fast=False, seed=1)


def time_one(spec, reps, warmup):
    """--one: this process times one case: torchvision and ours at each thread count (ns/elem)."""
    torch, drop_block2d = load_torch()
    torch.manual_seed(2018)
    kind, n, h, w, c, block = spec.split(",")
    row = dict(kind=kind, n=int(n), h=int(h), w=int(w), c=int(c), block=int(block), keep=KEEP)
    elems = row["n"] * row["h"] * row["w"] * row["c"]
    times = []
    for threads in THREADS:
        torch.set_num_threads(threads)
        times.append(median_ns(peer_call(torch, drop_block2d, row), warmup, reps) / elems)
        times.append(median_ns(our_call(torch, row), warmup, reps) / elems)
    print(" ".join(f"{t:.6f}" for t in times))


def main():
    args = parse_args(__doc__, with_csv=False)
    reps, warmup = args.reps, args.warmup
    if args.one:
        time_one(args.one, reps, warmup)
        return 0
    torch, _ = load_torch()
    import dropblock
    print(f"dropblock.torch.drop_block ({dropblock.library._name}) vs torchvision.ops.drop_block2d "
          f"(torch {torch.__version__}), same process, training, p = 1 - {KEEP}, NCHW; "
          f"{reps} reps (median), {warmup} warm-up, each case in a fresh process")
    header = f"{'case':<10} {'shape(NxHxWxC)':<14} {'block':>5}"
    for threads in THREADS:
        header += f" | {threads}T: {'tv ns/el':>8} {'ours':>8} {'speed-up':>8}"
    print(header)
    speedups = {threads: [] for threads in THREADS}
    for case, kind, n, h, w, c, block in DEFAULT_CASES:
        times = run_child(__file__, f"{kind},{n},{h},{w},{c},{block}", args)
        line = f"{case:<10} {f'{n}x{h}x{w}x{c}':<14} {block:>5}"
        for k, threads in enumerate(THREADS):
            peer, ours = times[2 * k], times[2 * k + 1]
            line += f" |     {peer:8.3f} {ours:8.4f} {peer / ours:7.1f}x"
            if not kind.startswith("backward"):
                speedups[threads].append(peer / ours)
        print(line + (" *" if kind.startswith("backward") else ""))
        sys.stdout.flush()
    print("* backward: both are autograd's backward on a retained graph; torchvision's multiplies by the float "
          "mask it kept, ours regenerates the mask from (seed, step, stream).")
    for threads in THREADS:
        values = speedups[threads]
        print(f"forward speed-up, {threads} thread(s): min {min(values):.1f}x, max {max(values):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
