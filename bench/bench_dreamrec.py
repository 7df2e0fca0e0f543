"""Benchmark DreamRec's oracle sampling: 1,000 oracles with T=500 (DDPM ancestral sampling, classifier-free guidance).

Usage: python bench/bench_dreamrec.py [--n 1000] [--T 500] [--n-items 1682] [--repeats 3] [--out bench/results_dreamrec.json]
Times one thread and torch's default thread count (for matrices this small, extra threads can be slower on a busy machine).
"""
import argparse, json, platform, time
import torch
from recinterpreter.dreamrec import DreamRec, DreamRecConfig
from recinterpreter.recommender import random_batch
from recinterpreter.core import atomic_write

def bench(n:int=1000, T:int=500, n_items:int=1682, repeats:int=3, threads:int|None=None, steps:int|None=None) -> dict:
    "Best-of-`repeats` seconds to sample `n` oracles (untrained model: the cost does not depend on the weights)."
    old = torch.get_num_threads()
    if threads: torch.set_num_threads(threads)
    try:
        torch.manual_seed(0)
        m = DreamRec(n_items, DreamRecConfig(T=T)).eval()
        seq, lens = random_batch(n_items, m.cfg.L, B=n)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter(); o = m.sample_oracle(seq, lens, seed=0, steps=steps); times.append(time.perf_counter() - t0)
        assert o.shape == (n, m.cfg.d) and torch.isfinite(o).all()
        return {'n': n, 'T': T, 'steps': steps or T, 'n_items': n_items, 'threads': torch.get_num_threads(),
                'best_s': round(min(times), 3), 'all_s': [round(t, 3) for t in times]}
    finally: torch.set_num_threads(old)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=1000); p.add_argument('--T', type=int, default=500)
    p.add_argument('--n-items', type=int, default=1682); p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--out', default=None, help='optional JSON file for the results')
    a = p.parse_args()
    rows = [bench(a.n, a.T, a.n_items, a.repeats, threads=1), bench(a.n, a.T, a.n_items, a.repeats),
            bench(a.n, a.T, a.n_items, a.repeats, threads=1, steps=50)]
    for r in rows:
        print(f"DreamRec: sampled {r['n']:,} oracles (T={r['T']}, {r['steps']} reverse steps, {r['threads']} thread(s)) "
              f"in {r['best_s']:.2f} s (best of {a.repeats})")
    if a.out:
        with atomic_write(a.out) as f: json.dump({'dreamrec_sampling': rows, 'python': platform.python_version(), 'torch': torch.__version__}, f, indent=1)
