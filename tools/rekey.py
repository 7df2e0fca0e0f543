"""Let a refactor keep the shipped checkpoints: prove that the working tree computes what REV computed, then alias.

Every cached and shipped run's key hashes the code of the modules it depends on (`core.code_fingerprint`), so a
move that changes no number still turns all shipped runs into misses (ml100k: 85 min to retrain on 2 cores, steam:
hours), and a retrain would not even reproduce them bit for bit (thread counts differ between machines). Instead:

    python tools/rekey.py --check REV [--dataset ml100k] [--workdir DIR] [--dry-run]

1. runs the quick preset of `nbs/eval.ipynb` (tiny LLM; every recommender, the no-LLM decoders, the paper's adapter
   for both schemes, the LoRA and the warm-started catalog variants, then generation, candidate scoring and the
   oracle section) twice, one thread each, each with an empty cache and no shipped checkpoints: once with REV's code
   (a `git worktree`), once with the working tree;
2. compares every trained tensor bit for bit (matched by folder with the key hash taken out), every logged loss,
   and every number of the two `metrics.json` files outside timing and provenance;
3. only if all of them are identical, records in `recinterpreter/code_aliases.json`, for each hashed module whose
   code differs, that its new fingerprint stands for REV's (and so for what REV's stood for), with the check's
   figures. `code_fingerprint` then answers with the old hash: shipped runs and caches stay valid; nothing moves.

Exit status 1 (and no aliases written) when anything differs; the first differences are printed.
"""
from __future__ import annotations
import argparse, datetime, json, math, os, re, shutil, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALIASES = ROOT/'recinterpreter'/'code_aliases.json'
HASHED = ('recommender', 'metrics', 'gru4rec', 'caser', 'sasrec', 'dreamrec', 'adapter', 'train', 'prompts', 'llm',
          'decoders', 'interpret', 'candidates')          # every module a cache key or a shipped run's `code` names
KEY = re.compile(r'-[0-9a-f]{12}(?=$|[/._])')           # the key hash at the end of a run folder's name
SKIP_KEYS = {'timing', 'env', 'source', 'folder', 'code', 'date', 'cached', 'out_dir', 'git_sha', 'rekeyed'}

def strip_key(s:str) -> str:
    "A path or tensor name with every run key taken out (`sasrec-0123456789ab/best` -> `sasrec/best`)."
    return KEY.sub('', s)

def _timing_key(k:str) -> bool:
    return k in SKIP_KEYS or k == 'seconds' or k.endswith('_s') or 'per_s' in k or k.startswith('cpu_s')

def json_leaves(obj, path=()) -> dict:
    "Leaves of a JSON value as {path: value}, without timing, provenance and environment entries."
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not _timing_key(str(k)): out.update(json_leaves(v, path + (strip_key(str(k)),)))
        return out
    if isinstance(obj, list):
        out = {}
        for i, v in enumerate(obj): out.update(json_leaves(v, path + (i,)))
        return out
    return {path: strip_key(obj) if isinstance(obj, str) else obj}

def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b): return True
    return a == b

def compare_json(a, b, what:str) -> list[str]:
    "Differences between two JSON values (timing and provenance left out), one line each."
    la, lb = json_leaves(a), json_leaves(b)
    out = [f'{what}: {"/".join(map(str, k))} only in one run' for k in sorted(set(la) ^ set(lb), key=str)]
    out += [f'{what}: {"/".join(map(str, k))}: {la[k]!r} != {lb[k]!r}' for k in la if k in lb and not _same(la[k], lb[k])]
    return out

def _bytes(v) -> bytes:
    "A tensor's raw bytes (bit-exact, any dtype; NaNs compare equal to themselves)."
    import torch
    return v.contiguous().view(-1).view(torch.uint8).numpy().tobytes() if v.numel() else b''

def compare_tensors(fa:Path, fb:Path, what:str) -> tuple[int, list[str]]:
    "(tensors compared, differences) of two safetensors files, names matched with the run keys taken out."
    from safetensors.torch import load_file
    ta = {strip_key(k): v for k, v in load_file(fa).items()}
    tb = {strip_key(k): v for k, v in load_file(fb).items()}
    out = [f'{what}: tensor {k} only in one run' for k in sorted(set(ta) ^ set(tb))]
    for k in sorted(set(ta) & set(tb)):
        a, b = ta[k], tb[k]
        if a.shape != b.shape or a.dtype != b.dtype or _bytes(a) != _bytes(b):
            out.append(f'{what}: tensor {k} differs')
    return len(set(ta) & set(tb)), out

def _csv_rows(f:Path) -> list:
    import pandas as pd
    df = pd.read_csv(f)
    return df[[c for c in df.columns if not _timing_key(c)]].to_dict(orient='list')

def _digest(f:Path) -> str:
    "A hash of what a file holds, blind to run keys, timing and provenance (to pair files whose names collide)."
    import hashlib
    h = hashlib.sha1()
    if f.suffix == '.safetensors':
        from safetensors.torch import load_file
        for k, v in sorted((strip_key(k), v) for k, v in load_file(f).items()):
            h.update(k.encode()); h.update(str(v.dtype).encode()); h.update(_bytes(v))
    elif f.suffix == '.csv': h.update(repr(_csv_rows(f)).encode())
    else:
        try: h.update(repr(sorted(json_leaves(json.loads(f.read_text())).items(), key=str)).encode())
        except ValueError: h.update(f.read_bytes())
    return h.hexdigest()

def _compare_file(fa:Path, fb:Path, k:str) -> tuple[int, list[str]]:
    "(tensors compared, differences) of two files of one kind."
    if k.endswith('.safetensors'): return compare_tensors(fa, fb, k)
    if k.endswith('.csv'): return 0, ([] if _csv_rows(fa) == _csv_rows(fb) else [f'{k}: logged values differ'])
    try: ja, jb = json.loads(fa.read_text()), json.loads(fb.read_text())
    except ValueError: return 0, ([] if fa.read_bytes() == fb.read_bytes() else [f'{k}: differs'])
    return 0, compare_json(ja, jb, k)

def compare_trees(a:Path, b:Path) -> dict:
    """Compare two caches (trained weights, logs, infos, generation and candidate caches) and two metrics.json:
    counts and the differences. Files are matched by path with the run keys taken out; where several files of one
    side share such a path (one cache entry per split, say), they are matched by content."""
    res = {'runs': 0, 'tensors': 0, 'files': 0, 'diffs': []}
    def files(root):
        out = {}
        for p in sorted(root.rglob('*')):
            if p.is_file() and p.suffix in ('.safetensors', '.csv', '.json') and '.lock' not in p.name:
                out.setdefault(strip_key(str(p.relative_to(root))), []).append(p)
        return out
    fa, fb = files(a/'cache'), files(b/'cache')
    res['diffs'] += [f'{k}: only in one run' for k in sorted(set(fa) ^ set(fb))]
    runs = set()
    for k in sorted(set(fa) & set(fb)):
        la, lb = fa[k], fb[k]
        res['files'] += len(la)
        if k.endswith('.safetensors'):
            runs.add(str(Path(k).parent))
        if len(la) == len(lb) == 1:
            n, d = _compare_file(la[0], lb[0], k); res['tensors'] += n; res['diffs'] += d
        elif len(la) != len(lb): res['diffs'].append(f'{k}: {len(la)} files in one run, {len(lb)} in the other')
        elif sorted(map(_digest, la)) != sorted(map(_digest, lb)):
            res['diffs'].append(f'{k}: the contents of its {len(la)} files differ')
        elif k.endswith('.safetensors'):             # identical contents: count their tensors once
            from safetensors import safe_open
            for x in la:
                with safe_open(x, 'pt') as f: res['tensors'] += len(list(f.keys()))
    res['runs'] = len(runs)
    ma, mb = (next(x.glob('reports/*/metrics.json'), None) for x in (a, b))
    if ma is None or mb is None: res['diffs'].append('metrics.json missing in one run')
    else:
        ja, jb = json.loads(ma.read_text()), json.loads(mb.read_text())
        res['metrics_leaves'] = len(json_leaves(ja)); res['diffs'] += compare_json(ja, jb, 'metrics.json')
    return res

def run_side(tree:Path, work:Path, dataset:str, python:str) -> float:
    "The quick-preset eval notebook with `tree`'s code, an empty cache and no shipped checkpoints; its wall seconds."
    if work.exists(): shutil.rmtree(work)
    (work/'reports').mkdir(parents=True)
    env = dict(os.environ, PYTHONPATH=str(tree), RECINTERPRETER_CACHE=str(work/'cache'),
               RECINTERPRETER_SHIPPED=str(work/'no-shipped'), OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    env.pop('IN_TEST', None)
    cmd = [python, '-m', 'papermill', str(tree/'nbs'/'eval.ipynb'), str(work/'eval.ipynb'), '-p', 'dataset', dataset,
           '-p', 'preset', 'quick', '-p', 'out_dir', str(work/'reports'), '--cwd', str(tree/'nbs'), '--no-progress-bar']
    t = time.perf_counter()
    with open(work/'papermill.log', 'w') as log:
        r = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    if r.returncode: raise SystemExit(f'rekey: the quick eval of {tree} failed (see {work/"papermill.log"})')
    return time.perf_counter() - t

def fingerprints(tree:Path, python:str, raw:bool) -> dict:
    "code_fingerprint of every hashed module with `tree`'s code (raw: ignoring that tree's aliases)."
    code = (f'from recinterpreter.core import code_fingerprint as f; import json; '
            f'print(json.dumps(f(*{list(HASHED)!r}{", raw=True" if raw else ""})))')   # older code has no `raw`
    out = subprocess.run([python, '-c', code], env=dict(os.environ, PYTHONPATH=str(tree)), cwd=tree,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])

def new_aliases(old:dict, new_raw:dict, current:dict) -> tuple[dict, dict]:
    "(the alias table with the working tree's changed modules pointing at REV's hashes, {module: (new, old)} added)."
    table, added = {m: dict(v) for m, v in current.items()}, {}
    for m, fp in new_raw.items():
        if fp != old[m] and table.get(m, {}).get(fp) != old[m]:
            table.setdefault(m, {})[fp] = old[m]; added[m] = (fp, old[m])
    return table, added

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--check', metavar='REV', required=True, help='the revision whose code the shipped runs were made by')
    p.add_argument('--dataset', default='ml100k')
    p.add_argument('--workdir', default=None, help='keep both runs here (default: a temporary folder, removed)')
    p.add_argument('--dry-run', action='store_true', help='compare only; write no aliases')
    a = p.parse_args(argv)
    python = sys.executable
    sha = subprocess.run(['git', 'rev-parse', '--short', a.check], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    work = Path(a.workdir or tempfile.mkdtemp(prefix='rekey-')); work.mkdir(parents=True, exist_ok=True)
    old_tree = work/'old-tree'
    if old_tree.exists(): subprocess.run(['git', 'worktree', 'remove', '--force', str(old_tree)], cwd=ROOT)
    subprocess.run(['git', 'worktree', 'add', '--detach', '-f', str(old_tree), sha], cwd=ROOT, check=True,
                   capture_output=True)
    try:
        old_fp, new_raw = fingerprints(old_tree, python, raw=False), fingerprints(ROOT, python, raw=True)
        have = json.loads(ALIASES.read_text()).get('aliases', {}) if ALIASES.exists() else {}
        changed = sorted(m for m in HASHED if new_raw[m] != old_fp[m] and have.get(m, {}).get(new_raw[m]) != old_fp[m])
        print(f'rekey: modules whose code {sha} has not been proven to match: {", ".join(changed) or "none"}', flush=True)
        secs = {}
        for side, tree in (('old', old_tree), ('new', ROOT)):
            print(f'rekey: quick eval with the {side} code ({tree}) ...', flush=True)
            secs[side] = round(run_side(tree, work/side, a.dataset, python), 1)
        res = compare_trees(work/'old', work/'new')
    finally:
        subprocess.run(['git', 'worktree', 'remove', '--force', str(old_tree)], cwd=ROOT, capture_output=True)
        if not a.workdir: shutil.rmtree(work, ignore_errors=True)
    print(f'rekey: {res["runs"]} runs, {res["tensors"]} tensors, {res["files"]} files, '
          f'{res.get("metrics_leaves", 0)} metrics.json leaves compared; {len(res["diffs"])} differences '
          f'(quick eval: old {secs["old"]} s, new {secs["new"]} s)')
    for d in res['diffs'][:20]: print('  ' + d)
    if res['diffs'] or res['runs'] == 0: return 1
    current = json.loads(ALIASES.read_text()) if ALIASES.exists() else {}
    table, added = new_aliases(old_fp, new_raw, current.get('aliases', {}))
    record = dict(rev=sha, date=datetime.date.today().isoformat(), dataset=a.dataset, preset='quick',
                  runs=res['runs'], tensors=res['tensors'], files=res['files'],
                  metrics_leaves=res.get('metrics_leaves', 0), differences=0, seconds=secs,
                  modules={m: {'new': n, 'stands_for': o} for m, (n, o) in added.items()})
    if a.dry_run or not added:
        print('rekey: nothing written' + (' (dry run)' if a.dry_run else ' (no module needs an alias)'))
        return 0
    out = dict(about='Written by tools/rekey.py, never by hand: code versions proven (bit-identical quick-preset '
                     'training and evaluation) to compute what an earlier version computed. code_fingerprint answers '
                     'with the earlier hash, so shipped runs and caches stay valid.',
               aliases=table, checks=current.get('checks', []) + [record])
    tmp = ALIASES.with_suffix('.json.tmp'); tmp.write_text(json.dumps(out, indent=1) + '\n'); os.replace(tmp, ALIASES)
    print(f'rekey: {ALIASES.relative_to(ROOT)}: {", ".join(f"{m} {n} -> {o}" for m, (n, o) in added.items())}')
    return 0

if __name__ == '__main__':
    sys.exit(main())
