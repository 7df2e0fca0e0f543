"""Recommender throughput on ML-100K: training seconds per epoch, batched evaluation (sequences/s), and the same
evaluation as a per-sequence Python loop, as a ratio.

Run: RECINTERPRETER_DATA=../shared/data .venv/bin/python bench/bench_recommenders.py [--models gru4rec,caser,sasrec]
     [--eval-rows 2000] [--loop-rows 200] [--threads N] [--out bench/results_recommenders.json]
Takes about a minute or two on 2 CPU cores. Weights are freshly initialised: throughput does not depend on them.
"""
from __future__ import annotations
import argparse, json, math, platform, time, warnings
import numpy as np, torch
from recinterpreter.core import save_json, seed_everything
from recinterpreter.data import load_dataset
from recinterpreter.metrics import rank_metrics
from recinterpreter.recommender import RecTrainConfig, make_recommender


def train_epoch_seconds(model, data, tcfg:RecTrainConfig, max_steps:int) -> tuple[float, int]:
    "Seconds for one full training epoch, estimated from `max_steps` timed steps (after 2 warm-up steps)."
    seq, lens, nxt = data.tensors('train')
    steps = math.ceil(len(seq) / tcfg.batch_size)
    opt = torch.optim.AdamW(model.parameters(), lr=tcfg.lr)
    perm = torch.randperm(len(seq), generator=torch.Generator().manual_seed(0))
    model.train()
    def step(i):
        idx = perm[i * tcfg.batch_size:(i + 1) * tcfg.batch_size]
        loss = model.loss(seq[idx], lens[idx], nxt[idx]); opt.zero_grad(); loss.backward(); opt.step()
    for i in range(2): step(i)
    n = min(max_steps, steps - 2); t0 = time.perf_counter()
    for i in range(2, 2 + n): step(i)
    return (time.perf_counter() - t0) / n * steps, steps


@torch.no_grad()
def eval_batched(model, seq, lens, nxt, batch_size=1024) -> float:
    "Sequences/s of full-catalog ranking, batched."
    model.eval(); t0 = time.perf_counter()
    for i in range(0, len(seq), batch_size):
        rank_metrics(model.scores(seq[i:i + batch_size], lens[i:i + batch_size]), nxt[i:i + batch_size])
    return len(seq) / (time.perf_counter() - t0)


@torch.no_grad()
def eval_loop(model, seq, lens, nxt) -> float:
    "Sequences/s of the same ranking, one sequence at a time (the per-sample Python loop we avoid)."
    model.eval(); t0 = time.perf_counter()
    for i in range(len(seq)):
        rank_metrics(model.scores(seq[i:i + 1], lens[i:i + 1]), nxt[i:i + 1])
    return len(seq) / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--models', default='gru4rec,caser,sasrec')
    ap.add_argument('--dataset', default='ml100k')
    ap.add_argument('--train-steps', type=int, default=40, help='timed training steps per model (epoch time is extrapolated)')
    ap.add_argument('--eval-rows', type=int, default=2000, help='rows ranked in batched mode')
    ap.add_argument('--loop-rows', type=int, default=200, help='rows ranked in the per-sequence loop')
    ap.add_argument('--threads', type=int, default=0, help='torch threads (0 = torch default); use 1 on a busy machine')
    ap.add_argument('--out', default='bench/results_recommenders.json')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore'); data = load_dataset(a.dataset)
    seq, lens, nxt = data.tensors('train')
    idx = torch.randperm(len(seq), generator=torch.Generator().manual_seed(1))[:a.eval_rows]
    seq, lens, nxt = seq[idx], lens[idx], nxt[idx]
    print(f'{data!r}; torch {torch.__version__}, {torch.get_num_threads()} threads')
    print(f"{'model':10s} {'train s/epoch':>14s} {'steps':>6s} {'eval seq/s':>11s} {'loop seq/s':>11s} {'ratio':>7s}")
    res = {}
    for name in a.models.split(','):
        seed_everything(0)
        model = make_recommender(name, data.n_items)
        tcfg = RecTrainConfig().override(**type(model).train_defaults)
        sec, steps = train_epoch_seconds(model, data, tcfg, a.train_steps)
        b = eval_batched(model, seq, lens, nxt)
        lp = eval_loop(model, seq[:a.loop_rows], lens[:a.loop_rows], nxt[:a.loop_rows])
        res[name] = {'train_s_per_epoch': sec, 'steps_per_epoch': steps, 'eval_seq_per_s': b, 'loop_seq_per_s': lp, 'speedup': b / lp}
        print(f'{name:10s} {sec:14.1f} {steps:6d} {b:11.0f} {lp:11.0f} {b / lp:6.1f}x', flush=True)
    save_json({'dataset': data.name, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
               'machine': platform.machine(), 'results': res}, a.out)
    print(f'wrote {a.out}')


if __name__ == '__main__': main()
