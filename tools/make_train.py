"""`make train DATASET=ml100k|steam`: train the default preset's recommenders, no-LLM decoders and adapters (the paper's
setting with the recipe chosen by the recipe search, and the variants) and ship them under `checkpoints/<dataset>/`.

Everything trains through the same functions `make eval` calls (`recommender_section`, `train_or_load_adapter`), so
the shipped folders carry exactly the keys a default `make eval` looks for: a fresh clone's `make eval` then loads
them instead of training (its report says so per model). Resumable: training checkpoints live in the cache
(`~/.cache/recinterpreter`), so rerunning the same command after a kill continues where it stopped, and every run
is shipped as soon as it finishes (commit `checkpoints/<dataset>/` as runs arrive). `checkpoints/<dataset>/MANIFEST.json`
records, per shipped run, the command, code version, date and training time; `timing` holds the wall time per stage.

Parallel: after the recommenders, the adapter runs are split over `--jobs` worker processes (default: 2 on a CPU
machine with 2 or more cores, 1 with a GPU), each with `cores // jobs` threads. Small models on 2 cores train more
steps per second as two 1-thread processes than as one 2-thread process; each worker's step bars go to its log file
(named on start), the terminal shows one bar over the runs.

Usage: python tools/make_train.py ml100k [--only sasrec] [--schemes residual,recovery] [--jobs 2]
"""
from __future__ import annotations
import argparse, datetime, os, subprocess, sys, threading, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _manifest(path:Path, update:dict):
    "Merge `update` into the MANIFEST under a lock, so two `make train` processes (e.g. one per scheme) do not drop each other's entries."
    from recinterpreter.core import load_json, save_json, artifact_lock, cache_root
    with artifact_lock(cache_root()/f'manifest-{path.parent.name}', 'the MANIFEST'):
        m = load_json(path) if path.exists() else {'runs': {}, 'timing': {}}
        for k, v in update.items(): m[k].update(v)
        save_json(m, path)

def default_jobs() -> int:
    "2 worker processes on a CPU machine with at least 2 cores, else 1 (one GPU is best used by one process)."
    try:
        import torch
        if torch.cuda.is_available(): return 1
    except ImportError: pass
    return 2 if (os.cpu_count() or 1) >= 2 else 1

def run_cost(scheme:str, steps:int) -> float:
    "Relative cost of one adapter run: its LM steps, recovery steps about 1.4x residual ones (longer answers)."
    return steps * (1.4 if scheme == 'recovery' else 1.0)

def split_runs(runs:list, jobs:int) -> list[list]:
    "Runs `(row, scheme, cost)` dealt to `jobs` workers, heaviest first, each to the least loaded (empty workers dropped)."
    load, parts = [0.0] * jobs, [[] for _ in range(jobs)]
    for r in sorted(runs, key=lambda r: -r[2]):
        i = min(range(jobs), key=lambda j: load[j]); parts[i].append(r); load[i] += r[2]
    return [p for p in parts if p]

def _spawn(a, parts:list, logs_dir:Path) -> float:
    "Run one worker process per part, echo their result lines, one bar over all runs; returns the stage's wall time."
    from tqdm.auto import tqdm
    threads = str(max(1, (os.cpu_count() or 1) // len(parts)))
    env = dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    logs_dir.mkdir(parents=True, exist_ok=True)
    t0, procs = time.perf_counter(), []
    bar = tqdm(total=sum(len(p) for p in parts), desc=f'adapter runs ({len(parts)} workers x {threads} threads)', unit='run')
    def echo(i, proc):
        for line in proc.stdout:
            tqdm.write(f'[worker {i}] {line.rstrip()}')
            if line.startswith('run done: '): bar.update(1)
    for i, part in enumerate(parts):
        log = logs_dir/f'make-train-{a.dataset}-worker{i}.log'
        cmd = [sys.executable, str(Path(__file__).resolve()), a.dataset, '--preset', a.preset, '--jobs', '1',
               '--runs', ','.join(f'{row}:{scheme}' for row, scheme, _ in part)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(log, 'w'), text=True, env=env, cwd=ROOT)
        tqdm.write(f'[worker {i}] {len(part)} runs ({", ".join(f"{s} {r}" for r, s, _ in part)}); step bars: tail -f {log}')
        procs.append((proc, threading.Thread(target=echo, args=(i, proc), daemon=True), log))
        procs[-1][1].start()
    failed = []
    for i, (proc, th, log) in enumerate(procs):
        proc.wait(); th.join()
        if proc.returncode: failed.append(f'worker {i} exited with {proc.returncode} (see {log})')
    bar.close()
    if failed: raise SystemExit('make train: ' + '; '.join(failed) + '; rerun the same command to resume')
    return time.perf_counter() - t0

def _ship_decoders(P, data, models:dict, schemes:list, stamp:dict, manifest:Path, timer):
    """Fit (or load) the no-LLM decoders a default `make eval` scores, for every recommender of the preset, and ship
    them: with them shipped, a fresh clone's report fits none (they were most of its time outside the LLM)."""
    from tqdm.auto import tqdm
    from recinterpreter.core import ship, repo_relative, load_json
    from recinterpreter.decoders import DECODER_KINDS, DECODER_FILES, train_or_load_decoder
    from recinterpreter.pipeline import decoder_config
    cfg, trained = decoder_config(P), False
    jobs = [(n, task, kind) for n in P.recommender.names for task in schemes for kind in DECODER_KINDS]
    with timer('decoders'):
        for n, task, kind in tqdm(jobs, desc='decoders', unit='decoder'):
            _, info = train_or_load_decoder(task, kind, models[n], n, data, cfg)
            twin = ship(info['folder'], keep=DECODER_FILES)
            now = str(info['source']).startswith('trained now'); trained |= now
            if now or repo_relative(twin) not in (load_json(manifest) if manifest.exists() else {'runs': {}})['runs']:
                _manifest(manifest, {'runs': {repo_relative(twin): dict(stamp, kind='decoder', name=n, task=task, decoder=kind,
                                                                      epochs=info['epochs'], best_epoch=info['best_epoch'],
                                                                      best_val_loss=info['best_val_loss'], train_s=info['train_s'],
                                                                      date=datetime.date.today().isoformat())}})
    print(f'decoders: {len(jobs)} in {timer.stages["decoders_s"]:.0f} s', flush=True)
    if trained:   # a rerun that only loads keeps the fitting time
        _manifest(manifest, {'timing': {'decoders_s': timer.stages['decoders_s']}})

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('dataset', help="'ml100k', 'steam' (the committed reports' datasets)")
    p.add_argument('--only', default='', help='comma-separated recommenders to train adapters for (default: all of the preset)')
    p.add_argument('--schemes', default='residual,recovery')
    p.add_argument('--preset', default='default', help="what a plain `make eval` runs; others only for smoke tests (quick)")
    p.add_argument('--jobs', default='auto', help="worker processes for the adapter runs ('auto': 2 on a CPU machine, 1 with a GPU)")
    p.add_argument('--runs', default='', help=argparse.SUPPRESS)   # a worker's share: row:scheme,...
    a = p.parse_args(argv)
    if a.jobs != 'auto' and not (a.jobs.isdigit() and int(a.jobs) >= 1): p.error(f"--jobs must be 'auto' or a whole number >= 1, got {a.jobs!r}")
    jobs = default_jobs() if a.jobs == 'auto' else int(a.jobs)
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
    mine = {tuple(r.split(':')) for r in a.runs.split(',') if r}     # a worker's runs (row, scheme)
    if not mine: _ship_decoders(P, data, models, schemes, stamp, manifest, timer)
    from recinterpreter.recommender import run_folder
    for n in ([] if mine else names):   # the parent ships the recommenders, its workers only load them
        folder = run_folder(n, data, P.seed, None, rec_train_overrides(P))   # the overrides are the same for every model
        twin = ship(folder, keep=('info.json', 'best'))
        _manifest(manifest, {'runs': {repo_relative(twin): dict(stamp, kind='recommender', name=n, train_s=rec_metrics[n]['train_s'],
                                                              test=rec_metrics[n]['test'], date=datetime.date.today().isoformat())}})
    print(f'recommenders: {timer.stages["recommenders_s"]:.0f} s', flush=True)
    if not mine and any(str(rec_metrics[n].get('source', '')).startswith('trained now') for n in names):  # a rerun that only loads keeps the training time
        _manifest(manifest, {'timing': {'recommenders_s': timer.stages['recommenders_s']}})
    todo = [(row, scheme, run_cost(scheme, tcfg.steps)) for row, rec_name, _, tcfg in adapter_runs(P)
            if not only or rec_name in only for scheme in schemes if not mine or (row, scheme) in mine]
    if jobs > 1 and not mine and len(todo) > 1:
        from recinterpreter.core import cache_root
        with timer('adapters'):
            _spawn(a, split_runs(todo, jobs), cache_root()/'logs')
        import resource   # the workers' peak memory: the largest of them (Linux: KiB)
        rss = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**10, 1)
        _manifest(manifest, {'timing': {f'last_run_{k}': v for k, v in timer.as_dict().items()}
                                       | {'last_run_jobs': jobs, 'last_run_worker_peak_rss_mb': rss}})
        print(f'make train {a.dataset}: {timer.as_dict()} ({jobs} workers)')
        return manifest
    with timer('llm_load'):
        llm, tok = load_llm(P.llm)
    for row, rec_name, acfg, tcfg in adapter_runs(P):
        if only and rec_name not in only: continue
        for scheme in schemes:
            if mine and (row, scheme) not in mine: continue
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
            print(f'run done: {scheme} {row}: {info["steps"]} steps, {info["train_s"]:.0f} s training ({info["source"]}) -> {repo_relative(twin)}', flush=True)
    if not mine:  # this invocation (a resume is partial); a worker's timing is its parent's
        _manifest(manifest, {'timing': {f'last_run_{k}': v for k, v in timer.as_dict().items()} | {'last_run_jobs': 1}})
    print(f'make train {a.dataset}: {timer.as_dict()}')
    return manifest

if __name__ == '__main__':
    main()
