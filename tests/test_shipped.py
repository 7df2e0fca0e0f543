"Every checkpoint shipped under checkpoints/<dataset>/ (by `make train`) loads, and its key is one a default `make eval` of the current code asks for."
import pathlib, pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHIPPED = sorted(p for p in (ROOT/'checkpoints').glob('*') if any((p/k).is_dir() for k in ('recommenders', 'adapters', 'decoders')))

def test_shipped_layout():
    "Only run folders (recommenders/<run>, adapters/<scheme>/<run>, decoders/<run>), the recipe search and the manifest live in checkpoints/<dataset>/."
    from recinterpreter.decoders import DECODER_FILES
    for ds in SHIPPED:
        assert (ds/'MANIFEST.json').exists(), f'{ds} has no MANIFEST.json: ship with make train'
        for p in ds.iterdir():
            assert p.name in ('recommenders', 'adapters', 'decoders', 'search', 'MANIFEST.json'), f'unexpected {p} in shipped checkpoints'
        for run in (ds/'recommenders').glob('*'):
            assert {f.name for f in run.iterdir()} == {'info.json', 'best'}, f'{run}: ship only info.json and best/'
        for run in (ds/'adapters').glob('*/*'):
            assert run.parent.name in ('residual', 'recovery') and {f.name for f in run.iterdir()} == {'info.json', 'log.csv', 'adapter'}, run
        for run in (ds/'decoders').glob('*'):
            assert {f.name for f in run.iterdir()} == set(DECODER_FILES), f'{run}: ship only {DECODER_FILES}'

@pytest.mark.slow
@pytest.mark.parametrize('ds', SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_keys_match_current_code(ds, data_root, tmp_path, monkeypatch):
    monkeypatch.setenv('RECINTERPRETER_CACHE', str(tmp_path/'cache'))         # nothing cached: only the shipped folders count
    monkeypatch.setenv('RECINTERPRETER_SHIPPED', str(ROOT/'checkpoints'))
    from recinterpreter.core import load_json
    from recinterpreter.data import load_dataset
    from recinterpreter.pipeline import resolve_params, adapter_runs, rec_train_overrides, decoder_config
    from recinterpreter.decoders import DECODER_KINDS, decoder_folder, train_or_load_decoder
    from recinterpreter.recommender import run_folder, train_or_load
    from recinterpreter.train import adapter_folder, scheme_adapter_cfg, train_or_load_adapter
    from recinterpreter.llm import load_llm
    P = resolve_params(dataset=ds.name, preset='default')
    data = load_dataset(P.data.name, seed=P.data.split_seed)
    names = list(P.recommender.names)
    expected = {run_folder(n, data, P.seed, None, rec_train_overrides(P)).name: n for n in names}
    shipped = sorted(p.name for p in (ds/'recommenders').glob('*'))
    stale = [s for s in shipped if s not in expected]
    assert not stale, f'{ds.name}: shipped recommenders {stale} have keys no default make eval asks for (code or preset changed): rerun make train DATASET={ds.name}'
    models = {}
    for folder, n in expected.items():
        if folder not in shipped: continue
        models[n], info = train_or_load(n, data, seed=P.seed, train_overrides=rec_train_overrides(P))
        assert info['source'].startswith('shipped: checkpoints/'), info['source']
        ref = load_json(ds/'MANIFEST.json')['runs'][f'checkpoints/{ds.name}/recommenders/{folder}']['test']
        assert abs(info['test']['ndcg@20'] - ref['ndcg@20']) < 1e-6, 'the shipped recommender no longer scores what it scored when shipped'
    want = {decoder_folder(task, kind, models[n], n, data, decoder_config(P)).name: (task, kind, n)
            for n in models for task in ('residual', 'recovery') for kind in DECODER_KINDS}
    shipped_dec = sorted(p.name for p in (ds/'decoders').glob('*'))
    stale = [s for s in shipped_dec if s not in want]
    assert not stale, f'{ds.name}: shipped decoders {stale} have keys no default make eval asks for: rerun make train DATASET={ds.name}'
    for k in shipped_dec:
        task, kind, n = want[k]
        dec, info = train_or_load_decoder(task, kind, models[n], n, data, decoder_config(P))
        assert info['source'].startswith('shipped: checkpoints/') and info['kind'] == kind, (k, info['source'])
        ref = load_json(ds/'MANIFEST.json')['runs'][f'checkpoints/{ds.name}/decoders/{k}']
        assert abs(info['best_val_loss'] - ref['best_val_loss']) < 1e-9 and dec.shape[0] == (2 if task == 'residual' else 1)
    llm, tok = load_llm(P.llm)
    want = {}
    for row, rec_name, acfg, tcfg in adapter_runs(P):
        if rec_name not in models: continue
        for scheme in ('residual', 'recovery'):
            f = adapter_folder(scheme, models[rec_name], rec_name, data, llm, P.llm, scheme_adapter_cfg(acfg, scheme, data), tcfg, P.seed)
            want[f'{scheme}/{f.name}'] = (row, rec_name, acfg, tcfg, scheme)
    shipped_ad = sorted(f'{p.parent.name}/{p.name}' for p in (ds/'adapters').glob('*/*'))
    stale = [s for s in shipped_ad if s not in want]
    assert not stale, f'{ds.name}: shipped adapters {stale} have keys no default make eval asks for: rerun make train DATASET={ds.name}'
    for k in shipped_ad:
        row, rec_name, acfg, tcfg, scheme = want[k]
        ad, info = train_or_load_adapter(scheme, models[rec_name], rec_name, data, llm, tok, P.llm, acfg, tcfg, seed=P.seed, progress=False)
        assert info['source'].startswith('shipped: ') and info['steps'] == tcfg.steps, (k, info['source'])

def _make_train():
    import importlib.util
    spec = importlib.util.spec_from_file_location('make_train', ROOT/'tools'/'make_train.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

def test_split_runs_balances_cost():
    "Runs are dealt heaviest first to the least loaded worker; a bad --jobs is refused before any work."
    mt = _make_train()
    runs = [('a', 'recovery', mt.run_cost('recovery', 400)), ('a', 'residual', 400.0), ('b', 'recovery', 560.0),
            ('b', 'residual', 400.0), ('c', 'residual', 10.0)]
    parts = mt.split_runs(runs, 2)
    loads = sorted(sum(c for *_, c in p) for p in parts)
    assert loads == [960.0, 970.0] and sorted(r for p in parts for r in p) == sorted(runs)
    assert mt.split_runs(runs[:1], 3) == [runs[:1]]                              # no empty workers
    assert mt.run_cost('recovery', 10) > mt.run_cost('residual', 10)
    with pytest.raises(SystemExit): mt.main(['ml100k', '--jobs', 'two'])

@pytest.mark.slow
def test_make_train_ships_what_eval_loads(data_root, tmp_path, monkeypatch):
    "make train (quick preset, tiny LLM) ships every run; a fresh cache then loads them all from the shipped folder, training nothing."
    import json
    monkeypatch.setenv('RECINTERPRETER_CACHE', str(tmp_path/'cache'))
    monkeypatch.setenv('RECINTERPRETER_SHIPPED', str(tmp_path/'shipped'))
    mod = _make_train()
    manifest = mod.main(['ml100k', '--preset', 'quick', '--only', 'sasrec', '--schemes', 'residual'])
    m = json.loads(manifest.read_text())
    kinds = sorted(v['kind'] for v in m['runs'].values())
    from recinterpreter.pipeline import resolve_params
    P = resolve_params(dataset='ml100k', preset='quick')
    assert kinds.count('recommender') == len(P.recommender.names) and kinds.count('adapter') == 1 + sum(v.startswith('sasrec+') for v in P.adapter.variants)
    from recinterpreter.decoders import DECODER_KINDS, train_or_load_decoder
    assert kinds.count('decoder') == len(P.recommender.names) * len(DECODER_KINDS)   # every recommender's, on the residual scheme
    assert 'decoders_s' in m['timing']
    assert {'recommenders_s', 'last_run_adapters_s', 'last_run_total_s', 'last_run_jobs'} <= set(m['timing'])
    assert m['timing']['last_run_jobs'] == mod.default_jobs()     # 2 worker processes here (CPU, 2 cores)
    if m['timing']['last_run_jobs'] > 1: assert m['timing']['last_run_worker_peak_rss_mb'] > 100   # each loads the LLM
    assert all(v['command'].startswith('make train DATASET=ml100k') for v in m['runs'].values())
    import shutil; shutil.rmtree(tmp_path/'cache')                                   # a fresh clone's empty cache
    from recinterpreter.data import load_dataset
    from recinterpreter.recommender import recommender_section
    from recinterpreter.pipeline import rec_train_overrides
    _, table, metrics, _ = recommender_section(load_dataset('ml100k', seed=P.data.split_seed), list(P.recommender.names), seed=P.seed,
                                               train_overrides=rec_train_overrides(P), progress=False)
    assert all(metrics[n]['source'].startswith('shipped: ') for n in P.recommender.names), table[('', 'from')]
    from recinterpreter.pipeline import decoder_config
    from recinterpreter.recommender import train_or_load
    rec, _ = train_or_load('sasrec', load_dataset('ml100k', seed=P.data.split_seed), seed=P.seed, train_overrides=rec_train_overrides(P))
    _, info = train_or_load_decoder('residual', 'last', rec, 'sasrec', load_dataset('ml100k', seed=P.data.split_seed), decoder_config(P))
    assert info['source'].startswith('shipped: '), info['source']                # the fresh cache fits no decoder
