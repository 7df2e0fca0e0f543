"""Wall time of `make train DATASET=<dataset>` from a fresh clone, end to end (venv included), per stage.

Clones REV into a work folder, removes the shipped recommenders, decoders and adapters of the dataset (the recipe
search's curves stay: `make train` does not make them), points `RECINTERPRETER_CACHE` at an empty folder inside it,
and runs `/usr/bin/time -v make train DATASET=<dataset> JOBS=<jobs>` there. Writes `bench/make_train_<dataset>.json`:
the wall time and peak RSS that `time -v` measured, `make train`'s own per-stage timing (the clone's MANIFEST), and
how many of the runs it shipped landed on the keys of the committed checkpoints (the same key = the same settings,
data and code; training is not bit-reproducible across thread counts, so the weights may still differ).

Usage: python bench/make_train_time.py [--dataset ml100k] [--jobs 2] [--rev HEAD] [--workdir /tmp/make-train-bench] [--beside TEXT]
       python bench/make_train_time.py --summarise WORKDIR   (re-read a finished or interrupted run)
Takes about 1.5 hours for ml100k on 2 cores; run it on an otherwise quiet machine and say what else ran.
"""
from __future__ import annotations
import argparse, json, os, re, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ('recommenders', 'decoders', 'adapters')

def time_v_fields(text:str) -> dict:
    "Wall seconds, peak RSS (MB) and exit status from `/usr/bin/time -v`'s report (None where absent)."
    out = {'wall_s': None, 'peak_rss_mb': None, 'exit_status': None}
    m = re.search(r'Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)', text)
    if m:
        parts = [float(p) for p in m.group(1).split(':')]
        out['wall_s'] = round(sum(p * 60 ** i for i, p in enumerate(reversed(parts))), 1)
    m = re.search(r'Maximum resident set size \(kbytes\): (\d+)', text)
    if m: out['peak_rss_mb'] = round(int(m.group(1)) / 1024, 1)
    m = re.search(r'Exit status: (\d+)', text)
    if m: out['exit_status'] = int(m.group(1))
    return out

def stage_seconds(timing:dict) -> dict:
    "make train's per-stage seconds from a MANIFEST `timing` (recommenders, decoders, adapters, total of its own)."
    out = {'recommenders_s': timing.get('last_run_recommenders_s'), 'decoders_s': timing.get('last_run_decoders_s'),
           'adapters_s': timing.get('last_run_adapters_s'), 'llm_load_s': timing.get('last_run_llm_load_s'),
           'make_train_total_s': timing.get('last_run_total_s')}
    return {k: (round(v, 1) if isinstance(v, (int, float)) else None) for k, v in out.items()}

def run_folders(ds_dir:Path) -> dict:
    "The shipped run folders under `checkpoints/<dataset>/`, as kind -> set of repo-relative paths."
    pats = {'recommender': 'recommenders/*', 'decoder': 'decoders/*', 'adapter': 'adapters/*/*'}
    return {k: {f'checkpoints/{ds_dir.name}/{p.relative_to(ds_dir)}' for p in ds_dir.glob(g) if p.is_dir()}
            for k, g in pats.items()}

def same_keys(shipped:dict, made:dict) -> dict:
    "Per kind: how many runs the measured `make train` shipped, and how many of them carry a committed run's key."
    return {k: {'made': len(made.get(k, ())), 'same_key': len(made.get(k, set()) & shipped.get(k, set()))}
            for k in sorted(set(shipped) | set(made))}

def summarise(work:Path, dataset:str) -> dict:
    "Read a finished (or interrupted) measurement in `work` into one dict."
    log = (work/'time-v.txt').read_text() if (work/'time-v.txt').exists() else ''
    res = time_v_fields(log)
    man = work/'repo'/'checkpoints'/dataset/'MANIFEST.json'
    made = json.loads(man.read_text()) if man.exists() else {'runs': {}, 'timing': {}}
    res.update(stage_seconds(made.get('timing', {})))
    if res['wall_s'] is not None and res['make_train_total_s'] is not None:
        res['install_and_overhead_s'] = round(res['wall_s'] - res['make_train_total_s'], 1)
    res['runs'] = same_keys(run_folders(ROOT/'checkpoints'/dataset), run_folders(work/'repo'/'checkpoints'/dataset))
    meta = work/'meta.json'
    if meta.exists(): res.update(json.loads(meta.read_text()))
    return res

def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--dataset', default='ml100k')
    p.add_argument('--jobs', type=int, default=2)
    p.add_argument('--rev', default='HEAD')
    p.add_argument('--workdir', default='/tmp/make-train-bench')
    p.add_argument('--summarise', metavar='WORKDIR', help='only read a measurement made earlier in WORKDIR')
    p.add_argument('--out', default=None, help='JSON output (default bench/make_train_<dataset>.json)')
    p.add_argument('--make-args', default='', help='extra arguments for make (tests: a smaller run)')
    p.add_argument('--beside', default='', help='what else ran on the machine meanwhile (recorded with the figures)')
    a = p.parse_args(argv)
    out = Path(a.out or ROOT/'bench'/f'make_train_{a.dataset}.json')
    if a.summarise:
        res = summarise(Path(a.summarise), a.dataset)
    else:
        work = Path(a.workdir)
        if work.exists(): shutil.rmtree(work)
        work.mkdir(parents=True)
        sha = subprocess.run(['git', 'rev-parse', '--short', a.rev], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
        subprocess.run(['git', 'clone', '-q', '--no-hardlinks', str(ROOT), str(work/'repo')], check=True)
        subprocess.run(['git', 'checkout', '-q', sha], cwd=work/'repo', check=True)
        for s in STAGES: shutil.rmtree(work/'repo'/'checkpoints'/a.dataset/s, ignore_errors=True)
        (work/'meta.json').write_text(json.dumps({'rev': sha, 'dataset': a.dataset, 'jobs': a.jobs,
                                                   'started': time.strftime('%Y-%m-%d %H:%M:%S'),
                                                   'cpus': os.cpu_count()}))
        env = dict(os.environ, RECINTERPRETER_CACHE=str(work/'cache'))
        env.pop('VIRTUAL_ENV', None)
        cmd = ['/usr/bin/time', '-v', '-o', str(work/'time-v.txt'), 'make', 'train', f'DATASET={a.dataset}',
               f'JOBS={a.jobs}', *a.make_args.split()]
        print('running:', ' '.join(cmd), f'(in {work/"repo"}; log {work/"make-train.log"})', flush=True)
        with open(work/'make-train.log', 'w') as log:
            subprocess.run(cmd, cwd=work/'repo', env=env, stdout=log, stderr=subprocess.STDOUT)
        res = summarise(work, a.dataset)
    if a.beside: res['beside'] = a.beside
    out.write_text(json.dumps(res, indent=1) + '\n')
    print(json.dumps(res, indent=1))
    return res

if __name__ == '__main__':
    main()
