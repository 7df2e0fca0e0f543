"""Would `make eval` run its LLM rows faster as two 1-thread processes than as one 2-thread process?

Two residual LLM rows of the default preset (their test rows' greedy generation, then candidate scoring of the true
item among 39 negatives, caches off) are run one after the other in one process with 2 threads, then concurrently
in two processes with 1 thread each (the LLM and the models loaded before the clock starts in each). Printed and
written to `bench/eval_workers.json`: both wall times and their ratio.

Usage: python bench/eval_workers.py [ml100k|steam]   (uses the shipped checkpoints; about 5 min on 2 cores)
"""
from __future__ import annotations
import json, os, subprocess, sys, time
from pathlib import Path

ROWS = ('sasrec+catalog', 'dreamrec+catalog')

def work(ds:str, rows:list[str], threads:int) -> float:
    "Load everything, then time generation + candidate scoring of `rows` (residual scheme) at `threads` threads."
    import torch
    torch.set_num_threads(threads)
    from recinterpreter.data import load_dataset
    from recinterpreter.pipeline import resolve_params, rec_train_overrides, rec_names, adapter_runs
    from recinterpreter.recommender import recommender_section
    from recinterpreter.llm import load_llm
    from recinterpreter.train import train_or_load_adapter
    from recinterpreter.interpret import Interpreter, GenConfig
    from recinterpreter.candidates import residual_candidates
    P = resolve_params(dataset=ds, preset='default')
    data = load_dataset(P.data.name, seed=P.data.split_seed)
    models, *_ = recommender_section(data, rec_names(P), seed=P.seed, train_overrides=rec_train_overrides(P), progress=False)
    llm, tok = load_llm(P.llm)
    its = []
    for row, rec_name, acfg, tcfg in adapter_runs(P):
        if row not in rows: continue
        ad, _ = train_or_load_adapter('residual', models[rec_name], rec_name, data, llm, tok, P.llm, acfg, tcfg,
                                      seed=P.seed, progress=False)
        its.append(Interpreter('residual', models[rec_name], ad, llm, tok, GenConfig(max_new_tokens=P.eval.max_new_tokens),
                               name=row, cache=False))
    seq, len_seq, nxt = data.rows('test', P.eval.n_eval or None)
    cand = residual_candidates(seq, len_seq, nxt, data.popularity, None, 19, P.seed)
    t = time.perf_counter()
    for it in its:
        it.generate(data, 'test', len(seq)); it.candidate_scores(data, seq, len_seq, nxt, cand)
    return time.perf_counter() - t

def main(ds:str='ml100k'):
    if len(sys.argv) > 3 and sys.argv[2] == '--worker':          # a worker: one row, its seconds on stdout
        print(f"SECONDS {work(ds, sys.argv[3].split(','), int(sys.argv[4])):.3f}", flush=True); return
    one = float(subprocess.run([sys.executable, __file__, ds, '--worker', ','.join(ROWS), '2'], capture_output=True,
                               text=True, check=True, env=dict(os.environ, OMP_NUM_THREADS='2')).stdout.split('SECONDS ')[-1])
    procs = [subprocess.Popen([sys.executable, __file__, ds, '--worker', r, '1'], stdout=subprocess.PIPE, text=True,
                              stderr=subprocess.DEVNULL, env=dict(os.environ, OMP_NUM_THREADS='1')) for r in ROWS]
    two = max(float(p.communicate()[0].split('SECONDS ')[-1]) for p in procs)   # the slower worker ends the stage
    out = {'dataset': ds, 'rows': list(ROWS), 'scheme': 'residual', 'one_process_2_threads_s': round(one, 1),
           'two_processes_1_thread_s': round(two, 1), 'ratio': round(one / two, 2), 'cpus': os.cpu_count()}
    path = Path(__file__).with_name('eval_workers.json'); path.write_text(json.dumps(out, indent=1) + '\n')
    print(json.dumps(out, indent=1)); print(f'wrote {path}')

if __name__ == '__main__':
    main(*sys.argv[1:2])
