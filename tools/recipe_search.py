"""The recipe search of the issue "Train the paper's method to a plateau": the paper's `conv` adapter (one soft token per
state, frozen LLM) trained for SASRec with several recipes, snapshots along the way, and learning curves measured on
validation rows (candidate HR@1, its shuffled-state control, the paired gain, the soft-token norm).

Resumable: every run checkpoints every 50 steps under checkpoints/<dataset>/search/<recipe>/<scheme>/ (small: the conv
adapter and its AdamW state); rerun the same command to continue, finished runs and curves are skipped. Run it in the
background on a quiet machine (2 cores: about 2.5 s per step with SmolLM2), commit the folders as they finish.

`--drop-weights` keeps only the evidence (info.json, log.csv, curve.csv) once a run's curve is measured: LoRA snapshots
are about 7 MB each, too large to commit seven of.

Two bounds on what any recipe can reach (see nbs/08b_curves.ipynb, "Can a frozen SmolLM2 read one soft token at all?"):
`--ceiling` reads oracle soft tokens (the LLM's own title vectors, exact and at ranks 16..384) and writes
search/ceiling/ceiling.csv; `--align` trains SASRec's conv adapter with no LLM in the loop (`align_adapter`) and measures
its snapshots like any recipe's (search/align/residual/); `--disc` trains it with the candidate-softmax loss
(`disc_adapter`, --steps steps, search/disc/residual/). With any of these flags only those run, not the LM recipes.

Usage: python tools/recipe_search.py [--dataset ml100k] [--recipes lr1e-3,lr1e-4] [--schemes residual,recovery]
                                     [--steps 3200] [--llm smollm2] [--val-rows 0] [--drop-weights] [--ceiling] [--align] [--align-steps 3000] [--disc]
"""
from __future__ import annotations
import argparse, json, shutil, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPES = {                                       # TrainConfig overrides (+ AdapterConfig ones under 'adapter'); batch 16 as the paper
    'lr1e-3': dict(lr=1e-3, warmup=20),                              # the paper's learning rate, constant
    'lr3e-4': dict(lr=3e-4, warmup=100),
    'lr1e-4': dict(lr=1e-4, warmup=100),
    'lr1e-3-cosine': dict(lr=1e-3, warmup=100, decay='cosine'),
    'lr1e-3-norm1': dict(lr=1e-3, warmup=20, adapter=dict(out_norm=1.0)),   # soft token held at the word-embedding norm
    'lora16': dict(lr=1e-3, warmup=20, adapter=dict(lora_r=16)),    # the fallback (the `+lora` rows): LoRA on the LLM learns to decode
    'lora16-long': dict(lr=1e-3, warmup=20, adapter=dict(lora_r=16)), # the same, its own folder for a longer run (--steps 1600)
}
SNAPSHOTS = (0, 50, 100, 200, 400, 800, 1600, 3200, 6400, 12800)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--dataset', default='ml100k')
    p.add_argument('--recipes', default=','.join(RECIPES), help=f'comma-separated, from {", ".join(RECIPES)}')
    p.add_argument('--schemes', default='residual,recovery')
    p.add_argument('--steps', type=int, default=3200)
    p.add_argument('--llm', default='smollm2', help="'smollm2', or 'tiny' for a smoke run")
    p.add_argument('--val-rows', type=int, default=0, help='validation rows for the curves (0 = all)')
    p.add_argument('--out', default=None, help='default: checkpoints/<dataset>/search')
    p.add_argument('--drop-weights', action='store_true', help='delete the snapshots and final weights once the curve is written')
    p.add_argument('--ceiling', action='store_true', help='oracle title-vector soft tokens, exact and low-rank -> search/ceiling/')
    p.add_argument('--align', action='store_true', help="SASRec's conv adapter aligned with no LLM -> search/align/residual/")
    p.add_argument('--align-steps', type=int, default=3000, help='alignment steps (snapshots at 0, a third, all)')
    p.add_argument('--disc', action='store_true', help="SASRec's conv adapter trained with the candidate softmax -> search/disc/residual/")
    a = p.parse_args(argv)
    bad = [r for r in a.recipes.split(',') if r not in RECIPES] + [s for s in a.schemes.split(',') if s not in ('residual', 'recovery')]
    if bad: p.error(f'unknown recipe or scheme {bad}; recipes: {", ".join(RECIPES)}; schemes: residual, recovery')
    from recinterpreter.data import load_dataset
    from recinterpreter.recommender import train_or_load
    from recinterpreter.llm import load_llm
    from recinterpreter.adapter import AdapterConfig
    from recinterpreter.train import TrainConfig, train_adapter
    from recinterpreter.curves import learning_curve
    from recinterpreter.pipeline import PRESETS
    data = load_dataset(a.dataset, seed=42)
    rec, _ = train_or_load('sasrec', data, train_overrides={'epochs': PRESETS['default']['rec_epochs']})  # the eval's SASRec
    llm, tok = load_llm(a.llm)
    out = Path(a.out) if a.out else ROOT/'checkpoints'/data.name/'search'
    if a.ceiling or a.align or a.disc:
        from recinterpreter.curves import token_ceiling, align_adapter, disc_adapter
        n = a.val_rows or None
        if a.ceiling and not (out/'ceiling'/'ceiling.csv').exists():
            t = time.perf_counter(); c = token_ceiling(data, llm, tok, n=n)
            (out/'ceiling').mkdir(parents=True, exist_ok=True); c.to_csv(out/'ceiling'/'ceiling.csv', index=False)
            print(f'ceiling: {time.perf_counter() - t:.0f} s\n{c.round(3).to_string(index=False)}', flush=True)
        def bound_run(name, train):                          # train -> its log, then the curve of its snapshots
            folder = out/name/'residual'
            if (folder/'curve.csv').exists(): return
            t = time.perf_counter(); log = train(folder)
            log.to_csv(folder/f'{name}_log.csv', index=False)
            curve = learning_curve('residual', folder, rec, data, llm, tok, split='val', n=n)
            curve.to_csv(folder/'curve.csv', index=False)
            print(f'{name}: {time.perf_counter() - t:.0f} s\n{curve.round(3).to_string(index=False)}', flush=True)
        if a.align:
            bound_run('align', lambda f: align_adapter(rec, data, llm, tok, f, steps=a.align_steps,
                                                      snapshots=(0, a.align_steps // 3, a.align_steps)))
        if a.disc:
            bound_run('disc', lambda f: disc_adapter(rec, data, llm, tok, f, steps=a.steps,
                                                    snapshots=tuple(sorted({s for s in SNAPSHOTS if s <= a.steps} | {a.steps}))))
        return out
    for scheme in a.schemes.split(','):
        for name in a.recipes.split(','):
            folder = out/name/scheme
            t = time.perf_counter()
            if (folder/'curve.csv').exists() and not (folder/'snapshots').exists():   # measured, weights dropped
                print(f'{scheme} {name}: done earlier (weights dropped)', flush=True); continue
            if not (folder/'info.json').exists():
                over = dict(RECIPES[name]); acfg = AdapterConfig(kind='conv', **over.pop('adapter', {}))
                cfg = TrainConfig(steps=a.steps, batch_size=16, val_every=50, ckpt_every=50, val_rows=0, **over)
                train_adapter(scheme, rec, data, llm, tok, acfg, cfg, seed=0, ckpt_dir=folder,
                              snapshots=tuple(s for s in SNAPSHOTS if s <= a.steps))
            curve = learning_curve(scheme, folder, rec, data, llm, tok, split='val', n=a.val_rows or None)
            curve.to_csv(folder/'curve.csv', index=False)
            if a.drop_weights:
                for sub in ('snapshots', 'adapter'): shutil.rmtree(folder/sub, ignore_errors=True)
            print(f'{scheme} {name}: {time.perf_counter() - t:.0f} s\n{curve.round(3).to_string(index=False)}', flush=True)
    return out

if __name__ == '__main__':
    main()
