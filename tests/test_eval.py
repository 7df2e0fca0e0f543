"End-to-end: papermill runs nbs/eval.ipynb with the quick preset and metrics.json honours the DESIGN.md contract."
import json, pathlib, shutil, subprocess, sys
import numpy as np, pandas as pd, pytest, papermill as pm

ROOT = pathlib.Path(__file__).resolve().parent.parent
HR = {'hr@10', 'ndcg@10', 'hr@20', 'ndcg@20'}

def run_eval(tmp_path, dataset, **params):
    out = tmp_path/'reports'
    pm.execute_notebook(str(ROOT/'nbs'/'eval.ipynb'), str(tmp_path/'out.ipynb'), cwd=str(ROOT/'nbs'), progress_bar=False,
                        parameters=dict(dataset=str(dataset), preset='quick', out_dir=str(out), **params))
    name = pathlib.Path(str(dataset)).name if pathlib.Path(str(dataset)).is_dir() else dataset
    return json.loads((out/name/'metrics.json').read_text())

def check_contract(m, name, n_items, recs):
    for k in ('params', 'data', 'recommenders', 'training', 'recovery', 'residual', 'oracle', 'timing', 'env'): assert k in m, k
    assert m['params']['preset'] == 'quick' and m['params']['llm'] == 'tiny'
    d = m['data']
    assert d['name'] == name and d['n_items'] == n_items and isinstance(d['partial'], bool)
    assert set(d['rows']) == {'train', 'val', 'test'} and all(v > 0 for v in d['rows'].values())
    for r in list(recs) + ['popular']:
        assert set(m['recommenders'][r]['val']) >= HR and set(m['recommenders'][r]['test']) >= HR, r
        assert all(0 <= m['recommenders'][r]['test'][k] <= 1 for k in HR)
    for r in recs:
        assert m['recommenders'][r]['train_s'] >= 0
        for scheme in ('recovery', 'residual'):
            t = m['training'][f'{scheme}/{r}']
            assert t['steps'] > 0 and np.isfinite(t['first_loss']) and np.isfinite(t['last_loss']) and t['train_s'] >= 0
    rows = list(recs) + [v for v in m['params']['adapter']['variants'] if v.split('+')[0] in recs]
    for r in rows + ['popular', 'random'] + [f'decoder/{k}/{x}' for k in ('linear', 'mlp', 'last') for x in recs]:
        rec = m['recovery'][r]
        assert {'mean_recovered', 'recall', 'n_eval', 'hist', 'cand_hr@1', 'cand_hr@1_ci', 'cand_auc', 'cand_auc_ci'} <= set(rec), r
        assert 0 <= rec['recall'] <= 1 and rec['n_eval'] > 0 and 0 <= rec['cand_hr@1'] <= 1 and 0 <= rec['cand_auc'] <= 1
        assert rec['cand_hr@1_ci'][0] <= rec['cand_hr@1'] <= rec['cand_hr@1_ci'][1]
        assert abs(sum(rec['hist'].values()) - 1) < 1e-6
        res = m['residual'][r]
        assert {'acc@1', 'grounded_acc@1', 'n_eval', 'cand_hr@1', 'cand_hr@1_ci', 'cand_hr@5', 'cand_mrr', 'cand_hr@1_uniform'} <= set(res), r
        assert 0 <= res['acc@1'] <= 1 and 0 <= res['grounded_acc@1'] <= 1 and 0 <= res['cand_hr@1'] <= res['cand_hr@5'] <= 1
        assert 1 / 20 <= res['cand_mrr'] <= 1
    for r in rows:                                     # LLM rows: controls, valid ratio, decoder and verbalised share
        for sec in ('recovery', 'residual'):
            x = m[sec][r]
            assert {'valid_ratio', 'cand_hr@1_shuffled', 'cand_hr@1_gain_ci', 'decoder', 'decoder_cand_hr@1', 'verbalised_share'} <= set(x), (sec, r)
            assert x['decoder'] in m[sec] and x['decoder'].endswith('/' + r.split('+')[0]) and 0 <= x['valid_ratio'] <= 1
            lo, hi = x['cand_hr@1_gain_ci']
            assert lo <= x['cand_hr@1'] - x['cand_hr@1_shuffled'] <= hi
        if '+catalog' in r: assert 0 <= m['residual'][r]['classifier_acc@1'] <= 1
    o = m['oracle']
    if 'dreamrec' in recs:
        assert {'n_eval', 'grounded_hr@10', 'similarity', 'judge'} <= set(o) and o['n_eval'] > 0
        assert 0 <= o['grounded_hr@10'] <= 1 and -1 <= o['similarity'] <= 1
        assert {'model', 'n', 'win_rate'} <= set(o['judge'])
    assert m['timing']['total_s'] > 0
    assert {'python', 'torch', 'transformers', 'device', 'git_sha', 'llm'} <= set(m['env'])

@pytest.mark.slow
def test_eval_ml100k(tmp_path, data_root):
    m = run_eval(tmp_path, 'ml100k')
    check_contract(m, 'ml100k', 1682, m['params']['recommender']['names'])
    assert m['data']['n_users'] == 943 and m['data']['partial'] is False
    assert (m['data']['rows']['val'], m['data']['rows']['test']) == (94, 95)

@pytest.mark.slow
def test_eval_steam(tmp_path, data_root):
    m = run_eval(tmp_path, 'steam', recommenders=['sasrec', 'dreamrec'])
    check_contract(m, 'steam', 3581, ['sasrec', 'dreamrec'])
    assert m['data']['partial'] is True and m['data']['n_users'] is None

@pytest.mark.slow
def test_eval_llara_folder(tmp_path, data_root):
    """A bring-your-own dataset as such folders come: LLaRA layout, ids as (id, rating) tuples, a train file that already holds
    one row per positive, and rows with an empty history (all padding, len_seq stored as 1) in every split."""
    rng = np.random.default_rng(0); n = 200; folder = tmp_path/'toyflix'; folder.mkdir()
    (folder/'id2name.txt').write_text('\n'.join(f'{i}::Toy Film Number {i}' for i in range(n)))
    def row(h, t):
        h = h[-10:]
        return {'seq': [(int(x), 4) for x in h] + [(n, 0)] * (10 - len(h)), 'len_seq': len(h) or 1, 'next': (int(t), 5)}
    users = [rng.integers(0, n, rng.integers(4, 16)).tolist() for _ in range(60)]
    train = [row(u[:j], u[j]) for u in users for j in range(len(u) - 2)]          # one row per positive, first ones empty
    val = [row(u[:-2], u[-2]) for u in users] + [row([], 3)]
    test = [row(u[:-1], u[-1]) for u in users] + [row([], 4)] * 2
    for stem, rows in (('train_data', train), ('Val_data', val), ('Test_data', test)): pd.DataFrame(rows).to_pickle(folder/f'{stem}.df')
    m = run_eval(tmp_path, folder, recommenders=['gru4rec'])
    check_contract(m, 'toyflix', n, ['gru4rec'])
    notes = ' '.join(m['data']['notes'])
    assert 'train_data.df: dropped 60 row(s) with an empty history' in notes and 'Test_data.df: dropped 2 row(s)' in notes
    assert 'already one row per positive' in notes
    long = lambda rows: sum(r['len_seq'] >= 3 and r['seq'][0][0] != n for r in rows)          # LLaRA keeps histories of 3+ items
    assert f'train rows not expanded: {len(train) - 60} rows, already one row per positive' in notes
    assert m['data']['rows'] == {'train': long(train), 'val': long(val), 'test': long(test)}   # nothing duplicated, nothing expanded

def test_bad_parameter_fails_early(tmp_path):
    with pytest.raises(pm.PapermillExecutionError, match='valid|must be one of'):
        pm.execute_notebook(str(ROOT/'nbs'/'eval.ipynb'), str(tmp_path/'o.ipynb'), cwd=str(ROOT/'nbs'), progress_bar=False,
                            parameters=dict(dataset='ml100k', preset='turbo', out_dir=str(tmp_path)))
