"Editing a model's source (in a temporary copy of the package) makes its artifacts a cache miss, and only its artifacts."
import json, os, shutil, subprocess, sys, pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROBE = r'''
import json
from recinterpreter.data import load_dataset
from recinterpreter.recommender import run_folder, make_recommender
from recinterpreter.train import adapter_code
from recinterpreter.interpret import interpret_code
import recinterpreter
d = load_dataset('ml100k', seed=42)
out = {n: run_folder(n, d, 0).name for n in ('sasrec', 'gru4rec', 'caser')}
out.update({f'adapter/{n}': adapter_code(make_recommender(n, d.n_items)) for n in ('sasrec', 'gru4rec')})
out['interpret'] = interpret_code(); out['pkg'] = recinterpreter.__file__
print(json.dumps(out))
'''

def _probe(pkg_parent, data_root):
    env = dict(os.environ, PYTHONPATH=str(pkg_parent), RECINTERPRETER_DATA=str(data_root))
    r = subprocess.run([sys.executable, '-c', PROBE], env=env, cwd=pkg_parent, capture_output=True, text=True, timeout=600)  # cwd: not the repo's copy
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])

def test_editing_a_model_invalidates_only_its_artifacts(data_root, tmp_path):
    pkg = tmp_path/'recinterpreter'
    shutil.copytree(ROOT/'recinterpreter', pkg, ignore=shutil.ignore_patterns('__pycache__'))
    before = _probe(tmp_path, data_root)
    assert before['pkg'].startswith(str(tmp_path))                           # the copy is what runs
    src = (pkg/'sasrec.py').read_text()
    (pkg/'sasrec.py').write_text(src + '\n# a comment and a docstring-free formatting change only\n')
    assert _probe(tmp_path, data_root) == before                             # comments do not count
    (pkg/'sasrec.py').write_text(src + '\n_EDITED = 1\n')                    # a real code change to SASRec's module
    after = _probe(tmp_path, data_root)
    assert after['sasrec'] != before['sasrec'] and after['adapter/sasrec'] != before['adapter/sasrec']
    assert (after['gru4rec'], after['caser'], after['adapter/gru4rec'], after['interpret']) == \
           (before['gru4rec'], before['caser'], before['adapter/gru4rec'], before['interpret'])
    (pkg/'train.py').write_text((pkg/'train.py').read_text() + '\n_EDITED = 1\n')   # the adapter trainer: every adapter, no recommender
    again = _probe(tmp_path, data_root)
    assert again['adapter/gru4rec'] != after['adapter/gru4rec'] and again['gru4rec'] == after['gru4rec']
