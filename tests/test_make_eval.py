"`make eval` refuses bad input at once, never touches a committed report, and renders reports without progress output."
import os, re, shutil, subprocess, sys, time, pathlib
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

def make_env():
    "The environment for a child `make`: none of an outer make's flags or command-line variables (e.g. under `make test`)."
    env = {k: v for k, v in os.environ.items() if k not in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES')}
    env['OMP_NUM_THREADS'] = '1'
    return env

def git_status() -> str:
    return subprocess.run(['git', 'status', '--porcelain', '--ignored', 'reports'], cwd=ROOT, capture_output=True, text=True, check=True).stdout \
         + subprocess.run(['git', 'status', '--porcelain'], cwd=ROOT, capture_output=True, text=True, check=True).stdout

@pytest.mark.parametrize('args, expect', [
    (['DATASET=nonexistent'], ['DATASET=nonexistent', 'ml100k, steam', 'folder']),
    (['PRESET=fast'], ['PRESET=fast', 'quick, default, paper']),
    (['DATSET=steam'], ['unknown variable DATSET=steam', 'did you mean DATASET', 'PRESET=quick|default|paper']),
    (['dataset=steam'], ['unknown variable dataset=steam', 'did you mean DATASET']),
    (['PRESTE=quick'], ['unknown variable PRESTE=quick', 'did you mean PRESET']),
])
def test_make_eval_refuses_fast(args, expect):
    before = git_status()
    t = time.perf_counter()
    r = subprocess.run(['make', 'eval', *args], cwd=ROOT, env=make_env(), capture_output=True, text=True, timeout=60)
    dt = time.perf_counter() - t
    out = (r.stdout + r.stderr).strip()
    assert r.returncode != 0, out
    assert dt < 2, f'{args}: refused after {dt:.2f}s'
    assert len(out.splitlines()) == 1, f'expected one line, got:\n{out}'
    for e in expect: assert e in out, (e, out)
    assert 'Traceback' not in out and 'papermill' not in out.lower()
    assert git_status() == before

@pytest.mark.slow
def test_make_eval_failed_run_leaves_reports(tmp_path, data_root):
    "A run that fails inside the notebook (an empty dataset folder) says why and where its partial output is, and touches no report."
    folder = tmp_path/'emptyset'; folder.mkdir()
    reports = {p: p.stat().st_mtime_ns for p in (ROOT/'reports').rglob('*') if '.tmp-' not in str(p.relative_to(ROOT))}
    before = git_status()
    r = subprocess.run(['make', 'eval', f'DATASET={folder}', 'PRESET=quick'], cwd=ROOT, env=make_env(), capture_output=True, text=True, timeout=600)
    out = r.stdout + r.stderr
    staging = sorted((ROOT/'reports').glob('.tmp-emptyset-quick-*'))
    try:
        assert r.returncode != 0, out
        assert 'make eval: FAILED: DataError' in out and 'emptyset' in out, out
        assert staging and any(str(s.relative_to(ROOT)) in out for s in staging), out
        assert 'reports/emptyset-quick/ was not touched' in out
        assert not (ROOT/'reports'/'emptyset-quick').exists()
        assert {p: p.stat().st_mtime_ns for p in reports} == reports   # nothing committed was rewritten
        assert [l for l in git_status().splitlines() if '.tmp-emptyset-quick-' not in l] == before.splitlines()   # the staging folder is git-ignored
    finally:
        for s in staging: shutil.rmtree(s, ignore_errors=True)

@pytest.mark.slow
def test_report_has_no_progress_output(tmp_path, data_root):
    "A quick run rendered: no stderr/progress output in report.html or report.ipynb, summary first, figures embedded; progress went to stderr_file."
    import nbformat, papermill as pm
    from recinterpreter.pipeline import render_report
    out = tmp_path/'reports'; nb = out/'ml100k'/'report.ipynb'; nb.parent.mkdir(parents=True)
    with open(tmp_path/'terminal.txt', 'w') as term:   # what `make eval` shows on the terminal
        pm.execute_notebook(str(ROOT/'nbs'/'eval.ipynb'), str(nb), cwd=str(ROOT/'nbs'), progress_bar=False, stderr_file=term,
                            parameters=dict(dataset='ml100k', preset='quick', recommenders=['sasrec'], out_dir=str(out)))
    assert (out/'ml100k'/'metrics.json').exists()
    terminal = (tmp_path/'terminal.txt').read_text()
    assert 'it/s]' in terminal or 's/it]' in terminal, 'progress bars should reach the terminal'
    html = render_report(nb).read_text()
    for bad in ('it/s]', 's/it]', 'TqdmWarning', 'data-mime-type="application/vnd.jupyter.stderr"'): assert bad not in html, bad
    cleaned = nbformat.read(nb, as_version=4)
    assert not [o for c in cleaned.cells for o in c.get('outputs', []) if o.get('name') == 'stderr']
    heads = re.findall(r'<h([12])[^>]*>(.*?)</h\1>', html, flags=re.S)
    assert heads[0][0] == '1' and 'RecInterpreter evaluation report' in heads[0][1], heads[:2]
    assert heads[1][1].startswith('Results summary'), heads[:3]
    imgs = re.findall(r'<img\b[^>]*>', html)
    assert imgs and all('src="data:image/png;base64,' in i for i in imgs), [i[:120] for i in imgs if 'base64' not in i]
