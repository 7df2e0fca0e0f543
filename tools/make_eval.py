"""`make eval` helper.

`check` (stdlib only, run with `python -S` before anything is installed or a kernel starts): refuse a bad
DATASET, PRESET or an unknown variable given on make's command line, in one line, in milliseconds.

`run` (the project's venv): run nbs/eval.ipynb with papermill into a staging folder
`reports/.tmp-<out>-<pid>/<name>/`, render it, and only when everything succeeded swap it in as
`reports/<out>/` (`<out>` = the dataset's name for the default preset, `<name>-<preset>` otherwise, which git
ignores). A failed run leaves the previous report untouched and says where its partial output is. Progress
bars and warnings of the kernel go to this terminal (papermill's stderr_file), not into the report.
"""
from __future__ import annotations
import ast, difflib, os, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# make variables `make eval` reads from its command line (anything else there is a typo)
KNOWN_VARS = ('DATASET', 'PRESET', 'RECINTERPRETER_DATA', 'OMP_NUM_THREADS', 'VENV')

def _literal(path:Path, name:str, default):
    "The literal value (or the keys of a dict literal) assigned to `name` in the generated module `path`, without importing it (no torch)."
    try:
        for node in ast.parse(path.read_text(encoding='utf-8')).body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                if isinstance(node.value, ast.Dict): return tuple(ast.literal_eval(k) for k in node.value.keys)
                return tuple(ast.literal_eval(node.value))
    except (OSError, SyntaxError, ValueError): pass
    return default

DATASETS = _literal(ROOT/'recinterpreter'/'data.py', 'DATASETS', ('ml100k', 'steam'))
PRESETS = _literal(ROOT/'recinterpreter'/'pipeline.py', 'PRESETS', ('quick', 'default', 'paper'))

def _hint(word:str, options) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6) or [o for o in options if o.lower() == word.lower()]
    return f' (did you mean {close[0]}?)' if close else ''

def resolve(dataset:str, preset:str) -> dict:
    "The run's dataset argument, report name and output folder; ValueError with a one-line message when a value is bad."
    if not dataset.strip(): raise ValueError(f'DATASET is empty; valid: {", ".join(DATASETS)} or a folder in the LLaRA layout')
    if dataset in DATASETS: arg, name = dataset, dataset
    elif Path(dataset).expanduser().is_dir():
        folder = Path(dataset).expanduser().resolve(); arg, name = str(folder), folder.name
    else:
        raise ValueError(f'DATASET={dataset} is neither {", ".join(DATASETS)} nor an existing folder{_hint(dataset, DATASETS)}; '
                         f'valid: {", ".join(DATASETS)} or a folder in the LLaRA layout')
    if preset and preset not in PRESETS:
        raise ValueError(f'PRESET={preset} is not a preset{_hint(preset, PRESETS)}; valid: {", ".join(PRESETS)} (empty = default)')
    preset = preset or 'default'
    return dict(dataset=arg, name=name, preset=preset, out=name if preset == 'default' else f'{name}-{preset}')

def check(dataset:str, preset:str, cli_vars:list) -> str:
    "An empty string when `make eval` may start, else the one line that says why not. `cli_vars`: make's command-line `NAME=value`s."
    unknown = [v for v in cli_vars if v.partition('=')[0] not in KNOWN_VARS]
    if unknown:
        v = unknown[0]
        return (f'make eval: unknown variable {v} on the command line{_hint(v.partition("=")[0], KNOWN_VARS)}; '
                f'make eval takes DATASET={"|".join(DATASETS)}|<folder>, PRESET={"|".join(PRESETS)} (and {", ".join(KNOWN_VARS[2:])})')
    try: resolve(dataset, preset)
    except ValueError as e: return f'make eval: {e}'
    return ''

def run(dataset:str, preset:str) -> int:
    "Run the eval notebook into a staging folder and publish it as reports/<out>/ only on success."
    r = resolve(dataset, preset)
    reports = ROOT/'reports'
    tmp = reports/f'.tmp-{r["out"]}-{os.getpid()}'
    staged, dest = tmp/r['name'], reports/r['out']
    staged.mkdir(parents=True, exist_ok=True)
    nb = staged/'report.ipynb'
    rel = lambda p: os.path.relpath(p, Path.cwd())
    print(f'make eval: dataset {r["dataset"]}, preset {r["preset"]} -> {rel(dest)}/ (staging in {rel(tmp)}/)', file=sys.stderr, flush=True)
    import papermill as pm
    try:
        # the notebook writes metrics.json to <out_dir>/<name>/, i.e. next to the staged report.ipynb
        pm.execute_notebook(str(ROOT/'nbs'/'eval.ipynb'), str(nb), cwd=str(ROOT/'nbs'), progress_bar=False, stderr_file=sys.stderr,
                            parameters=dict(dataset=r['dataset'], preset=r['preset'], out_dir=str(tmp)))
        if not (staged/'metrics.json').exists(): raise FileNotFoundError(f'the notebook did not write {rel(staged/"metrics.json")}')
        from recinterpreter.pipeline import render_report, publish_report
        render_report(nb)   # drops stderr (progress bars, warnings) from report.ipynb and renders report.html
        publish_report(staged, dest)
    except BaseException as e:
        if isinstance(e, pm.PapermillExecutionError):
            what = f'{e.ename}: {e.evalue}'
            where = f'at In [{e.exec_count}]; the traceback is in {rel(nb)}'
        else: what, where = f'{type(e).__name__}: {e}', f'partial output in {rel(tmp)}/'
        print(f'\nmake eval: FAILED: {what}', file=sys.stderr)
        print(f'make eval: {where}; {rel(dest)}/ was not touched', file=sys.stderr)
        return 130 if isinstance(e, KeyboardInterrupt) else 1
    try: tmp.rmdir()
    except OSError: pass
    print(f'make eval: wrote {rel(dest)}/ ({", ".join(sorted(p.name for p in dest.iterdir()))})', file=sys.stderr)
    return 0

if __name__ == '__main__':
    cmd, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ('', [])
    if cmd == 'check' and len(args) >= 2:
        msg = check(args[0], args[1], args[2:])
        print(msg); sys.exit(2 if msg else 0)
    if cmd == 'run' and len(args) == 2:
        try: sys.exit(run(*args))
        except ValueError as e: print(f'make eval: {e}', file=sys.stderr); sys.exit(2)
    print('usage: make_eval.py check DATASET PRESET [NAME=value ...] | run DATASET PRESET', file=sys.stderr); sys.exit(2)
