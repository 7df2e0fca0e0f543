"""`make train DATASET=ml100k|steam`: train the default preset's recommenders and adapters (the paper's setting with
the recipe chosen by the recipe search, and the variants) and ship them under `checkpoints/<dataset>/`.

Everything trains through the same functions `make eval` calls (`recommender_section`, `train_or_load_adapter`), so
the shipped folders carry exactly the keys a default `make eval` looks for: a fresh clone's `make eval` then loads
them instead of training (its report says so per model). Resumable: training checkpoints live in the cache
(`~/.cache/recinterpreter`), so rerunning the same command after a kill continues where it stopped, and every run
is shipped as soon as it finishes (commit `checkpoints/<dataset>/` as runs arrive). `checkpoints/<dataset>/MANIFEST.json`
records, per shipped run, the command, code version, date and training time; `timing` holds the wall time per stage.

Usage: python tools/make_train.py ml100k [--only sasrec] [--schemes residual,recovery]
"""
from __future__ import annotations
import argparse, datetime, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _manifest(path:Path, update:dict):
    "Merge `update` into the MANIFEST under a lock, so two `make train` processes (e.g. one per scheme) do not drop each other's entries."
    from recinterpreter.core import load_json, save_json, artifact_lock, cache_root
    with artifact_lock(cache_root()/f'manifest-{path.parent.name}', 'the MANIFEST'):
        m = load_json(path) if path.exists() else {'runs': {}, 'timing': {}}
        for k, v in update.items(): m[k].update(v)
        save_json(m, path)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('dataset', help="'ml100k', 'steam' (the committed reports' datasets)")
    p.add_argument('--only', default='', help='comma-separated recommenders to train adapters for (default: all of the preset)')
    p.add_argument('--schemes', default='residual,recovery')
    p.add_argument('--preset', default='default', help="what a plain `make eval` runs; others only for smoke tests (quick)")
    a = p.parse_args(argv)
    from recinterpreter.core import ship, repo_relative, shipped_root, load_json
    from recinterpreter.data import load_dataset
    from recinterpreter.pipeline import resolve_params, adapter_runs, rec_train_overrides, rec_names, Timer, git_sha
    from recinterpreter.recommender import recommender_section
    from recinterpreter.llm import load_llm
    from recinterpreter.train import train_or_load_adapter
    P = resolve_params(dataset=a.dataset, preset=a.preset)
    if P.data.name not in ('ml100k', 'steam'): p.error(f'make train ships checkpoints for ml100k and steam, got {a.dataset!r}')
    schemes = [s for s in a.schemes.split(',') if s]
    if any(s not in ('residual', 'recovery') for s in schemes): p.error(f'schemes are residual and recovery, got {a.schemes!r}')
    only = [r for r in a.only.split(',') if r]
    stamp = dict(command=f'make train DATASET={a.dataset}' + (f' (preset {a.preset})' if a.preset != 'default' else ''),
                 git_sha=git_sha(), preset=a.preset)
    timer = Timer()
    data = load_dataset(P.data.name, seed=P.data.split_seed)         # the split eval.ipynb uses
    manifest = shipped_root()/data.name/'MANIFEST.json'
    names = rec_names(P)
    with timer('recommenders'):
        models, _, rec_metrics, _ = recommender_section(data, names, seed=P.seed, train_overrides=rec_train_overrides(P))
    from recinterpreter.recommender import run_folder
    for n in names:
        folder = run_folder(n, data, P.seed, None, rec_train_overrides(P))   # the overrides are the same for every model
        twin = ship(folder, keep=('info.json', 'best'))
        _manifest(manifest, {'runs': {repo_relative(twin): dict(stamp, kind='recommender', name=n, train_s=rec_metrics[n]['train_s'],
                                                              test=rec_metrics[n]['test'], date=datetime.date.today().isoformat())}})
    print(f'recommenders: {timer.stages["recommenders_s"]:.0f} s', flush=True)
    if any(str(rec_metrics[n].get('source', '')).startswith('trained now') for n in names):  # a rerun that only loads keeps the training time
        _manifest(manifest, {'timing': {'recommenders_s': timer.stages['recommenders_s']}})
    with timer('llm_load'):
        llm, tok = load_llm(P.llm)
    for row, rec_name, acfg, tcfg in adapter_runs(P):
        if only and rec_name not in only: continue
        for scheme in schemes:
            t = time.perf_counter()
            with timer('adapters'):
                _, info = train_or_load_adapter(scheme, models[rec_name], rec_name, data, llm, tok, P.llm, acfg, tcfg, seed=P.seed)
            twin = ship(info['folder'], keep=('info.json', 'log.csv', 'adapter'))
            trained = str(info.get('source', '')).startswith('trained now')
            if trained or repo_relative(twin) not in (load_json(manifest) if manifest.exists() else {'runs': {}})['runs']:
                _manifest(manifest, {'runs': {repo_relative(twin): dict(stamp, kind='adapter', row=row, scheme=scheme, steps=info['steps'],
                                                                      train_s=info['train_s'], first_loss=info['first_loss'],
                                                                      last_loss=info['last_loss'], date=datetime.date.today().isoformat())}})
            if trained:   # a rerun that only loads a shipped run keeps the wall time of the invocation that trained it
                _manifest(manifest, {'timing': {f'adapter/{scheme}/{row}_s': round(time.perf_counter() - t, 1)}})
            print(f'{scheme} {row}: {info["steps"]} steps, {info["train_s"]:.0f} s training ({info["source"]}) -> {repo_relative(twin)}', flush=True)
    _manifest(manifest, {'timing': {f'last_run_{k}': v for k, v in timer.as_dict().items()}})  # this invocation (a resume is partial)
    print(f'make train {a.dataset}: {timer.as_dict()}')
    return manifest

if __name__ == '__main__':
    main()
