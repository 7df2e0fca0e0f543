"""DreamRec: interface contract, sampling (guidance, seeds, respacing), checkpoint round trip, bad input (fast: synthetic data)."""
import math, pytest, torch
import torch.nn.functional as F
from recinterpreter.recommender import (make_recommender, check_interface, random_batch, ToyData, RecTrainConfig, fit,
                                        train_or_load, RECOMMENDERS)
from recinterpreter.dreamrec import DreamRec, DreamRecConfig, beta_schedule, alpha_bar, posterior_coefs, SCHEDULES

SMALL = dict(d=16, T=40)


@pytest.mark.parametrize('kind', SCHEDULES)
@pytest.mark.parametrize('T', [1, 7, 500])
def test_schedules(kind, T):
    b = beta_schedule(kind, T); ab = alpha_bar(b)
    assert b.shape == (T,) and ((b > 0) & (b < 1)).all()
    assert ((ab > 0) & (ab <= 1)).all() and (ab[1:] < ab[:-1]).all()
    pc = posterior_coefs(b)
    assert torch.allclose(pc['c_x0'][0], torch.tensor(1.0)) and pc['sigma'][0] == 0


def test_registered_and_contract():
    assert RECOMMENDERS['dreamrec'] is DreamRec
    torch.manual_seed(0)
    assert check_interface(make_recommender('dreamrec', 40, **SMALL), B=12)
    assert check_interface(make_recommender('dreamrec', 40, d=8, L=6, T=20, schedule='linear', denoiser='mlp2'), B=12, seed=5)


def test_sampling_guidance_seed_and_batching():
    torch.manual_seed(0)
    m = make_recommender('dreamrec', 30, **SMALL).eval()
    seq, lens = random_batch(30, 10, B=8)
    a, b = m.sample_oracle(seq, lens, seed=1), m.sample_oracle(seq, lens, seed=1)
    assert torch.equal(a, b) and not torch.allclose(a, m.sample_oracle(seq, lens, seed=2))
    # w = 0: the guided combination equals the conditional denoiser alone (same noise)
    calls = []
    orig = m.denoiser.forward
    def spy(x): calls.append(x.shape[0]); return orig(x)
    m.denoiser.forward = spy
    m.sample_oracle(seq, lens, seed=1, w=0)
    assert calls == [16] * m.cfg.T                         # one forward pass of 2B rows per step, no per-sample loop
    del m.denoiser.forward
    # scores are the oracle's dot products with the catalog, reproducible
    assert torch.equal(m.scores(seq, lens), m.scores(seq, lens))
    o = m.oracle_from_state(m.user_state(seq, lens), seed=m.cfg.sample_seed)
    assert torch.allclose(m.scores(seq, lens), o @ m.item_emb.weight[:30].T, atol=1e-5)
    assert m.sample_oracle(seq, lens, seed=1, steps=5).shape == (8, 16)


def test_train_or_load_roundtrip_and_frozen(cache):
    toy = ToyData(n_items=20, n_rows=256, seed=0)
    kw = dict(rec_overrides=SMALL, train_overrides=dict(epochs=2, batch_size=64), progress=False)
    m1, i1 = train_or_load('dreamrec', toy, **kw)
    m2, i2 = train_or_load('dreamrec', toy, **kw)
    assert i2['cached'] and not i1['cached'] and m2.n_trainable() == 0 and not m2.training
    seq, lens, _ = toy.tensors('test')
    assert torch.equal(m1.scores(seq, lens), m2.scores(seq, lens))
    assert i1['test']['ndcg@20'] == pytest.approx(i2['test']['ndcg@20'])


def test_bad_input():
    with pytest.raises(ValueError, match='schedule must be one of'): DreamRec(10, {'schedule': 'sqrt'})
    with pytest.raises(ValueError, match='denoiser must be'): DreamRec(10, {'denoiser': 'unet'})
    with pytest.raises(ValueError, match='p_uncond'): DreamRec(10, {'p_uncond': 1.0})
    with pytest.raises(ValueError, match='valid keys'): DreamRec(10, {'guidance': 1.0})
    m = DreamRec(10, DreamRecConfig(d=8, T=10)).eval()
    seq, lens = random_batch(10, 10, B=2)
    with pytest.raises(ValueError, match='either generator or seed'): m.sample_oracle(seq, lens, seed=0, generator=torch.Generator())
    with pytest.raises(ValueError, match='steps must be'): m.sample_oracle(seq, lens, steps=11)
    with pytest.raises(ValueError, match='len_seq must lie'): m.sample_oracle(seq, torch.tensor([0, 3]))
    with pytest.raises(ValueError, match='w must be'): m.sample_oracle(seq, lens, w=math.inf)
