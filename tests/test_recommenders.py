"""Recommenders, metrics and trainer: contract checks, resume, cache, bad input (fast: synthetic data)."""
import os, json, math
import numpy as np, pandas as pd, pytest, torch

from recinterpreter.metrics import rank_metrics, target_rank, bootstrap_ci, summarize
from recinterpreter.recommender import (RECOMMENDERS, make_recommender, check_interface, ToyData, Popular, RecTrainConfig,
                                        fit, evaluate, train_or_load, recommender_section, run_folder)
import recinterpreter.gru4rec, recinterpreter.caser, recinterpreter.sasrec  # register the models

MODELS = ['gru4rec', 'caser', 'sasrec']
SMALL = dict(d=16)
QUICK = dict(epochs=3, batch_size=64, lr=3e-3, patience=2)


@pytest.fixture(scope='module')
def toy(): return ToyData(n_items=25, n_rows=384, seed=1)


def test_metrics_hand_computed_with_ties():
    s = torch.tensor([[3., 1., 3., 0.], [0., 0., 0., 0.], [5., 4., 3., 2.]])
    y = torch.tensor([0, 2, 3])
    assert target_rank(s, y).tolist() == [1, 3, 3]             # a tie counts against the target
    m = rank_metrics(s, y, ks=(1, 2))
    assert m['hr@1'].tolist() == [0, 0, 0] and m['hr@2'].tolist() == [1, 0, 0]
    assert np.allclose(m['ndcg@2'], [1 / math.log2(3), 0, 0])


def test_metrics_bad_input():
    with pytest.raises(ValueError, match='padding is not an item'): rank_metrics(torch.zeros(2, 4), torch.tensor([0, 4]))
    with pytest.raises(ValueError, match='NaN'): rank_metrics(torch.full((1, 4), float('nan')), torch.tensor([0]))


def test_bootstrap_is_seeded_and_brackets_the_mean():
    v = np.r_[np.ones(20), np.zeros(80)]
    m, lo, hi = bootstrap_ci(v)
    assert lo < m == 0.2 < hi and bootstrap_ci(v) == (m, lo, hi)
    assert summarize({'hr@10': v})['hr@10_ci'] == [lo, hi]


@pytest.mark.parametrize('name', MODELS)
def test_interface_and_padding(name):
    torch.manual_seed(0)
    assert check_interface(make_recommender(name, 40, **SMALL), B=12)
    assert check_interface(make_recommender(name, 40, d=8, L=6), B=12, seed=5)


@pytest.mark.parametrize('name', MODELS)
def test_resume_equals_uninterrupted(name, toy, tmp_path):
    tc = RecTrainConfig(**QUICK)
    def run(stops, d):
        torch.manual_seed(0); m = make_recommender(name, toy.n_items, **SMALL)
        for s in stops: log = fit(m, toy, tc, d, seed=2, stop_after=s, progress=False)
        return m, log
    m1, l1 = run([None], tmp_path / 'a')
    m2, l2 = run([1, None], tmp_path / 'b')
    for k, v in m1.state_dict().items(): assert torch.equal(v, m2.state_dict()[k]), k
    pd.testing.assert_frame_equal(l1.drop(columns='seconds'), l2.drop(columns='seconds'))


def test_train_or_load_cache_and_frozen(toy, cache):
    m1, i1 = train_or_load('gru4rec', toy, rec_overrides=SMALL, train_overrides=QUICK, progress=False)
    m2, i2 = train_or_load('gru4rec', toy, rec_overrides=SMALL, train_overrides=QUICK, progress=False)
    assert (i1['cached'], i2['cached']) == (False, True)
    assert i1['test'] == i2['test'] and i1['val'] == i2['val']
    assert m2.n_trainable() == 0 and not m2.training
    assert evaluate(m2, toy, 'test')['ndcg@20'] == pytest.approx(i1['test']['ndcg@20'])
    assert run_folder('gru4rec', toy, 0, SMALL, QUICK).parent == cache / 'recommenders' / 'toy'
    assert run_folder('gru4rec', toy, 0, SMALL, {**QUICK, 'lr': 1e-2}) != run_folder('gru4rec', toy, 0, SMALL, QUICK)


def test_section_contract(toy, cache):
    models, table, metrics, log = recommender_section(toy, ['sasrec', 'gru4rec'], rec_overrides=SMALL, train_overrides=QUICK, progress=False)
    assert list(models) == ['popular', 'sasrec', 'gru4rec']
    for n in models:
        for split in ('val', 'test'): assert {'hr@10', 'ndcg@10', 'hr@20', 'ndcg@20'} <= set(metrics[n][split])
        assert isinstance(metrics[n]['train_s'], float)
    json.dumps(metrics)                                      # goes into metrics.json as is
    assert set(log.model) == {'sasrec', 'gru4rec'} and len(table) == 3
    # the rule is learnable: trained models beat popularity by a wide margin on this toy data
    assert metrics['gru4rec']['test']['ndcg@20'] > metrics['popular']['test']['ndcg@20']


def test_bad_input(toy):
    m = make_recommender('sasrec', 30, **SMALL)
    with pytest.raises(ValueError, match='seq ids must lie'): m(torch.full((2, 10), 31), torch.tensor([3, 3]))
    with pytest.raises(ValueError, match='len_seq must lie'): m(torch.zeros(2, 10, dtype=torch.long), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match='unknown recommender'): make_recommender('bert4rec', 30)
    with pytest.raises(ValueError, match='valid keys'): make_recommender('caser', 30, n_filters=3)
    with pytest.raises(ValueError, match='n_items'): fit(make_recommender('gru4rec', 31), toy, RecTrainConfig(**QUICK), progress=False)


def test_killed_mid_epoch_resumes(toy, tmp_path):
    "An exception in the middle of an epoch (a kill) loses only that epoch; resuming gives the uninterrupted result."
    tc = RecTrainConfig(**QUICK)
    torch.manual_seed(0); ref = make_recommender('gru4rec', toy.n_items, **SMALL)
    l_ref = fit(ref, toy, tc, tmp_path / 'ref', seed=3, progress=False)
    torch.manual_seed(0); m = make_recommender('gru4rec', toy.n_items, **SMALL)
    calls, orig = [0], m.loss
    def dying_loss(*a):
        calls[0] += 1
        if calls[0] == 8: raise KeyboardInterrupt   # epoch 2 of 6 steps per epoch
        return orig(*a)
    m.loss = dying_loss
    with pytest.raises(KeyboardInterrupt): fit(m, toy, tc, tmp_path / 'run', seed=3, progress=False)
    assert (tmp_path / 'run' / 'last').exists()
    del m.loss                                       # back to the class method
    l2 = fit(m, toy, tc, tmp_path / 'run', seed=3, progress=False)
    for k, v in ref.state_dict().items(): assert torch.equal(v, m.state_dict()[k]), k
    pd.testing.assert_frame_equal(l_ref.drop(columns='seconds'), l2.drop(columns='seconds'))
