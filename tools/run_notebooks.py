"""Execute the library notebooks (nbs/00-10) in place so they keep the outputs of their examples, tables and figures.

Runs each notebook like `nbdev_test` (IN_TEST set: small settings; cells flagged `#| slow` skipped), on the data in
RECINTERPRETER_DATA, then writes the outputs back without execution counts, stderr (progress bars, warnings) or
the outputs of cells that print nothing useful. Deterministic: seeds are fixed in every notebook.

Usage: python tools/run_notebooks.py [nbs/01_data.ipynb ...]    (default: every nbs/[0-9]*.ipynb)
"""
from __future__ import annotations
import os, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = {'slow'}

def _flags(src:str) -> set:
    "The `#| flag` directives of a cell."
    return {w for line in src.splitlines() if line.startswith('#|') for w in line[2:].split()}

def run(fn:Path) -> float:
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    nb = read_nb(fn)
    os.environ['IN_TEST'] = '1'
    t = time.perf_counter()
    sh = CaptureShell(fn)
    sh.run("import matplotlib as _mpl; _mpl.rcParams.update({'figure.dpi': 60, 'savefig.dpi': 60})")  # figures of a few tens of KB
    cwd = os.getcwd(); os.chdir(fn.parent)
    try: sh.run_all(nb, exc_stop=True, preproc=lambda c: c.cell_type != 'code' or bool(_flags(c.source) & SKIP))
    finally: os.chdir(cwd)
    for c in nb.cells:
        if c.cell_type != 'code': continue
        c.execution_count = None
        c.outputs = [o for o in c.get('outputs', []) if not (o.get('output_type') == 'stream' and o.get('name') == 'stderr')]
        for o in c.outputs:
            if 'execution_count' in o: o['execution_count'] = None
    write_nb(nb, fn)
    return time.perf_counter() - t

if __name__ == '__main__':
    files = [Path(f).resolve() for f in sys.argv[1:]] or sorted((ROOT/'nbs').glob('[0-9]*.ipynb'))
    for f in files:
        print(f'{f.name}: {run(f):.0f} s', flush=True)
