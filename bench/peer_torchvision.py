#!/usr/bin/python3
"""Times torchvision.ops.drop_block2d, one thread, on the cases of dropblock_bench.

usage: /usr/bin/python3 bench/peer_torchvision.py [OURS.csv | -] [--reps N] [--quick]

With our bench's CSV (dropblock_bench --csv PATH; "-" reads it from stdin)
the cases are taken from it and each row gets our speed-up = peer / ours.
Without it, the issue-3 cases torchvision can express are timed alone.
torchvision's drop_block2d is the paper's default (valid seeds, one map per
(n, c), batch scale), so rows with other flags or scales have no peer.
"""
import argparse
import csv
import statistics
import subprocess
import sys
import time

INSTALL_HINT = "install the peer with: sudo apt-get install python3-torch python3-torchvision"
TARGET_SPEEDUP = 50.0
KEEP = 0.9

# (case, kind, n, h, w, c, block) when no CSV is given: issue 3's shared rows.
DEFAULT_CASES = [
    ("forward", "forward_ws", 16, 14, 14, 1024, 1),
    ("forward", "forward_ws", 16, 14, 14, 1024, 3),
    ("forward", "forward_ws", 16, 14, 14, 1024, 5),
    ("forward", "forward_ws", 16, 14, 14, 1024, 7),
    ("forward", "forward_ws", 16, 7, 7, 2048, 3),
    ("forward", "forward_ws", 16, 7, 7, 2048, 7),
    ("forward", "forward_ws", 16, 28, 28, 512, 7),
    ("forward", "forward_ws", 16, 56, 56, 256, 7),
    ("in-place", "forward_ws_inplace", 16, 14, 14, 1024, 7),
    ("backward", "backward_ws", 16, 14, 14, 1024, 7),
]


def load_torch():
    try:
        import torch
        import torchvision.ops
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        sys.exit(2)
    return torch, torchvision.ops.drop_block2d


def read_ours(path):
    handle = sys.stdin if path == "-" else open(path, newline="")
    with handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for key in ("n", "h", "w", "c", "block"):
            row[key] = int(row[key])
        for key in ("keep", "ns_per_elem"):
            row[key] = float(row[key])
    return rows


def default_rows():
    keys = ("case", "kind", "n", "h", "w", "c", "block")
    return [dict(zip(keys, case), flags="-", scale="batch", keep=KEEP, ns_per_elem=None) for case in DEFAULT_CASES]


def has_peer(row):
    return row["flags"] == "-" and row["scale"] == "batch"


def median_ns(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - t0)
    return statistics.median(times)


def peer_call(torch, drop_block2d, row):
    """A no-argument callable doing the row's work with torchvision."""
    x = torch.rand(row["n"], row["c"], row["h"], row["w"]) + 0.5  # NCHW, same logical shape
    p, block = 1.0 - row["keep"], row["block"]
    if row["kind"] == "forward_ws_inplace":
        return lambda: drop_block2d(x, p, block, inplace=True, training=True)
    if row["kind"] == "backward_ws":
        # autograd's backward of input * noise * scale on a retained graph
        x.requires_grad_(True)
        y = drop_block2d(x, p, block, training=True)
        dy = torch.ones_like(y)
        return lambda: torch.autograd.grad(y, x, dy, retain_graph=True)
    return lambda: drop_block2d(x, p, block, training=True)


def time_one(spec, reps, warmup):
    """--one: time a single case in this process and print its ns/elem."""
    torch, drop_block2d = load_torch()
    torch.set_num_threads(1)
    torch.manual_seed(2018)
    kind, n, h, w, c, block = spec.split(",")
    row = dict(kind=kind, n=int(n), h=int(h), w=int(w), c=int(c), block=int(block), keep=KEEP)
    ns = median_ns(peer_call(torch, drop_block2d, row), warmup, reps)
    print(ns / (row["n"] * row["h"] * row["w"] * row["c"]))


def time_in_child(row, args):
    """Each case in a fresh process: torch's large temporaries go through
    malloc, whose mmap threshold adapts to earlier sizes, and a case timed
    after a bigger one measured up to 2x slower in the same process."""
    spec = ",".join(str(row[k]) for k in ("kind", "n", "h", "w", "c", "block"))
    return run_child(__file__, spec, args)[-1]


def run_child(script, spec, args):
    """The numbers that `script --one spec` prints, in a fresh process."""
    cmd = [sys.executable, script, "--one", spec, "--reps", str(args.reps)] + (["--quick"] if args.quick else [])
    return [float(v) for v in subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()]


def parse_args(description, with_csv):
    """The options of this script and of peer_python.py; args.warmup follows --quick."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    if with_csv:
        parser.add_argument("ours", nargs="?", help="dropblock_bench --csv output, or - for stdin")
    parser.add_argument("--reps", type=int, default=11, help="timed repetitions per case (default 11)")
    parser.add_argument("--quick", action="store_true", help="1 repetition, no warm-up")
    parser.add_argument("--one", metavar="KIND,N,H,W,C,BLOCK", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.reps, args.warmup = (1, 0) if args.quick else (max(1, args.reps), 2)
    return args


def main():
    args = parse_args(__doc__, with_csv=True)
    reps, warmup = args.reps, args.warmup
    if args.one:
        time_one(args.one, reps, warmup)
        return 0
    torch, _ = load_torch()
    rows = read_ours(args.ours) if args.ours else default_rows()

    print(f"torchvision.ops.drop_block2d (torch {torch.__version__}), 1 thread (torch.set_num_threads(1)), "
          f"training, p = 1 - keep, NCHW tensors; {reps} reps (median), {warmup} warm-up, each case in a fresh process")
    print(f"{'case':<15} {'shape(NxHxWxC)':<14} {'block':>5} {'peer ns/elem':>12} {'ours ns/elem':>12} {'speed-up':>9}")
    speedups = []
    for row in rows:
        shape = f"{row['n']}x{row['h']}x{row['w']}x{row['c']}"
        label = f"{row['case']:<15} {shape:<14} {row['block']:>5}"
        if not has_peer(row):
            print(f"{label} {'no peer':>12}")
            continue
        peer = time_in_child(row, args)
        if row["ns_per_elem"] is None:
            print(f"{label} {peer:12.3f}")
            continue
        speedup = peer / row["ns_per_elem"]
        backward = row["kind"].startswith("backward")
        if not backward:
            speedups.append((speedup, row["case"], row["block"], shape))
        print(f"{label} {peer:12.3f} {row['ns_per_elem']:12.4f} {speedup:8.1f}x{' *' if backward else ''}")
        sys.stdout.flush()

    if any(row["kind"].startswith("backward") for row in rows):
        print("* backward: the peer's is autograd of `input * noise * scale`, which multiplies by the float mask "
              "it kept (32 bits/elem); ours regenerates the mask. Not a drop_block2d call: outside the target.")
    if speedups:
        worst = min(speedups)
        verdict = "PASS" if worst[0] >= TARGET_SPEEDUP else "MISS"
        print(f"\nsummary: min forward speed-up over torchvision {worst[0]:.1f}x ({worst[1]} {worst[3]} block {worst[2]})"
              f"  >= {TARGET_SPEEDUP:.0f}x  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
