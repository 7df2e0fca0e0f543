"""Crash-safe runs: a whole evaluation killed (SIGKILL) while training a recommender, training an adapter and generating
resumes from what it saved and ends with the metrics of an uninterrupted run; two evaluations started at once on one
cache both finish with those same metrics."""
import json, os, signal, subprocess, sys, time, pathlib
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PARAMS = dict(dataset='ml100k', preset='quick', recommenders=['sasrec', 'dreamrec'], judge='none', seed=0)
RUN = r'''
import sys, json, papermill as pm
pm.execute_notebook(sys.argv[1], sys.argv[2], cwd=sys.argv[3], progress_bar=False, parameters=json.loads(sys.argv[4]))
'''
VOLATILE = {'timing', 'env', 'train_s', 'cached', 'source', 'out_dir', 'total_s', 'precompute_s', 'target_tokens_per_s',
            'steps_per_s', 'cpu_s_per_step', 'seconds'}

def start(tmp, cache, name):
    out = tmp/name
    env = dict(os.environ, RECINTERPRETER_CACHE=str(cache), OMP_NUM_THREADS='1')
    args = [sys.executable, '-c', RUN, str(ROOT/'nbs'/'eval.ipynb'), str(tmp/f'{name}.ipynb'), str(ROOT/'nbs'), json.dumps(dict(PARAMS, out_dir=str(out)))]
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True), out

def finish(p, timeout=1200):
    _, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, err[-3000:]

def stable(x):
    "metrics without what legitimately differs between runs (seconds, where a model came from, paths)."
    if isinstance(x, dict): return {k: stable(v) for k, v in x.items() if k not in VOLATILE}
    if isinstance(x, list): return [stable(v) for v in x]
    return x

def metrics(out): return stable(json.loads((out/'ml100k'/'metrics.json').read_text()))

def kill_when(p, cond, timeout=900):
    "SIGKILL the run's whole process group as soon as `cond()` holds; False if the run ended first."
    t = time.time()
    while time.time() - t < timeout:
        if p.poll() is not None: return False
        if cond():
            os.killpg(p.pid, signal.SIGKILL); p.wait(); return True
        time.sleep(0.05)
    raise TimeoutError('the run never reached the kill point')

@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('ref')
    p, out = start(tmp, tmp/'cache', 'ref'); finish(p)
    return metrics(out)

@pytest.mark.slow
def test_killed_eval_resumes_to_the_same_metrics(tmp_path, data_root, reference):
    cache = tmp_path/'cache'
    points = {  # what is on disk when each kill lands
        'recommender training': lambda: any(cache.glob('recommenders/ml100k/*/last/model.safetensors')),
        'adapter training': lambda: any(cache.glob('adapters/ml100k/*/*/info.json')),
        'generation': lambda: any(cache.glob('generations/ml100k/*.json')),
    }
    killed = []
    for what, cond in points.items():
        p, out = start(tmp_path, cache, 'run')
        if kill_when(p, cond): killed.append(what)
    assert killed == list(points), f'the run ended before being killed during {set(points) - set(killed)}'
    assert not (out/'ml100k'/'metrics.json').exists()
    p, out = start(tmp_path, cache, 'run'); finish(p)                        # the rerun picks up what was saved
    assert metrics(out) == reference

@pytest.mark.slow
def test_two_evals_on_one_cache(tmp_path, data_root, reference):
    cache = tmp_path/'cache'
    (p1, o1), (p2, o2) = start(tmp_path, cache, 'one'), start(tmp_path, cache, 'two')
    finish(p1); finish(p2)
    assert metrics(o1) == reference and metrics(o2) == reference
    assert len(list(cache.glob('recommenders/ml100k/sasrec-*/info.json'))) == 1   # trained once, not twice into one folder
