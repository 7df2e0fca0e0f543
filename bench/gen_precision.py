"""Would bfloat16 greedy generation make `make eval` faster without changing what the report says?

For every LLM row of the default preset and both schemes, the test rows' greedy answers are generated twice in
this process, with the LLM as `make eval` runs it (float32) and with its Linear weights held in bfloat16 under
autocast (how candidate scoring already runs). Printed and written to `bench/gen_precision.json`: seconds of
each, their ratio, the share of identical answers, and the report's generation metrics from both sets of texts
with the paired bootstrap CI of their difference (residual `acc@1`, `grounded_acc@1`; recovery `mean_recovered`, `recall`; the valid ratio of both).

Usage: python bench/gen_precision.py [ml100k|steam]   (uses the shipped checkpoints; about 15 min on 2 cores)
"""
from __future__ import annotations
import json, sys, time
from pathlib import Path
import numpy as np, torch

def main(ds:str='ml100k'):
    from recinterpreter.data import load_dataset
    from recinterpreter.pipeline import resolve_params, rec_train_overrides, rec_names, adapter_runs
    from recinterpreter.recommender import recommender_section
    from recinterpreter.llm import load_llm
    from recinterpreter.train import train_or_load_adapter, training_llm
    from recinterpreter.interpret import Interpreter, GenConfig
    from recinterpreter.sections import recovery_section, residual_section
    from recinterpreter.scores import with_ci
    P = resolve_params(dataset=ds, preset='default')
    data = load_dataset(P.data.name, seed=P.data.split_seed)
    models, *_ = recommender_section(data, rec_names(P), seed=P.seed, train_overrides=rec_train_overrides(P), progress=False)
    llm, tok = load_llm(P.llm)
    gen, n = GenConfig(max_new_tokens=P.eval.max_new_tokens), P.eval.n_eval or None
    N = len(data.rows('test', n)[0])
    out = {'dataset': ds, 'n_rows': N, 'threads': torch.get_num_threads(), 'max_new_tokens': gen.max_new_tokens, 'schemes': {}}
    for scheme, section, metrics in (('residual', residual_section, ('acc@1', 'grounded_acc@1')),
                                     ('recovery', recovery_section, ('mean_recovered', 'recall'))):
        texts, secs = {'fp32': {}, 'bf16': {}}, {'fp32': 0.0, 'bf16': 0.0}
        for row, rec_name, acfg, tcfg in adapter_runs(P):
            ad, _ = train_or_load_adapter(scheme, models[rec_name], rec_name, data, llm, tok, P.llm, acfg, tcfg,
                                          seed=P.seed, progress=False)
            it = Interpreter(scheme, models[rec_name], ad, llm, tok, gen, name=row, cache=False)
            t = time.perf_counter(); texts['fp32'][row] = it.generate(data, 'test', N); secs['fp32'] += time.perf_counter() - t
            t = time.perf_counter()
            with training_llm(llm, torch.bfloat16), torch.autocast('cpu', dtype=torch.bfloat16):
                texts['bf16'][row] = it.generate(data, 'test', N)
            secs['bf16'] += time.perf_counter() - t
            print(f'{scheme} {row}: identical answers {np.mean([a == b for a, b in zip(texts["fp32"][row], texts["bf16"][row])]):.3f}', flush=True)
        sec = {p: section(data, texts[p], n=n, seed=P.seed) for p in texts}
        per = {p: s.per_sample for p, s in sec.items()}
        rows = {}
        for row in texts['fp32']:
            r = {'identical_answers': round(float(np.mean([a == b for a, b in zip(texts['fp32'][row], texts['bf16'][row])])), 4)}
            for m in metrics:
                a = per['fp32'].query('model == @row')[m].to_numpy(); b = per['bf16'].query('model == @row')[m].to_numpy()
                g = {}; with_ci(g, 'diff', b - a, P.seed)                  # bf16 minus fp32, paired bootstrap
                r[m] = {'fp32': round(float(a.mean()), 4), 'bf16': round(float(b.mean()), 4),
                        'diff': g['diff'], 'diff_ci': g['diff_ci']}
            r['valid_ratio'] = {p: sec[p].metrics[row]['valid_ratio'] for p in sec}
            rows[row] = r
        out['schemes'][scheme] = {'fp32_s': round(secs['fp32'], 1), 'bf16_s': round(secs['bf16'], 1),
                                  'speedup': round(secs['fp32'] / secs['bf16'], 2), 'rows': rows}
        print(f"{scheme}: fp32 {secs['fp32']:.0f} s, bf16 {secs['bf16']:.0f} s ({secs['fp32'] / secs['bf16']:.2f}x)", flush=True)
    path = Path(__file__).with_name('gen_precision.json')
    path.write_text(json.dumps(out, indent=1) + '\n')
    print(json.dumps(out, indent=1)); print(f'wrote {path}')

if __name__ == '__main__':
    main(*sys.argv[1:2])
