"The recipe-search script (issue: train the paper's method to a plateau) runs end to end with the tiny LLM, writes curves, and resumes."
import importlib.util, sys
from pathlib import Path
import pandas as pd, pytest

TOOL = Path(__file__).resolve().parent.parent/'tools'/'recipe_search.py'

@pytest.mark.slow
def test_recipe_search_smoke(data_root, tmp_path):
    spec = importlib.util.spec_from_file_location('recipe_search', TOOL)
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    args = ['--llm', 'tiny', '--steps', '50', '--recipes', 'lr1e-3', '--schemes', 'residual', '--val-rows', '6', '--out', str(tmp_path)]
    out = mod.main(args)
    folder = Path(out)/'lr1e-3'/'residual'
    cur = pd.read_csv(folder/'curve.csv')
    assert cur.step.tolist() == [0, 50] and (cur.n == 6).all()
    assert ((cur.gain_lo <= cur.gain) & (cur.gain <= cur.gain_hi)).all() and cur.val_loss.notna().all()
    assert (folder/'info.json').exists() and not (folder/'resume').exists()
    mtime = (folder/'adapter'/'model.safetensors').stat().st_mtime
    mod.main(args)                                                   # a rerun skips the finished training
    assert (folder/'adapter'/'model.safetensors').stat().st_mtime == mtime
    with pytest.raises(SystemExit): mod.main(['--recipes', 'lr9'])
    # --drop-weights keeps the evidence only, and a rerun neither retrains nor needs the weights
    mod.main(args + ['--drop-weights'])
    assert not (folder/'snapshots').exists() and not (folder/'adapter').exists()
    assert pd.read_csv(folder/'curve.csv').equals(cur) and (folder/'log.csv').exists()
    mod.main(args + ['--drop-weights'])
    assert pd.read_csv(folder/'curve.csv').equals(cur)

@pytest.mark.slow
def test_recipe_search_bounds(data_root, tmp_path):
    "--ceiling, --align and --disc write their evidence (tiny LLM), leave the LM recipes alone, and a rerun skips them."
    spec = importlib.util.spec_from_file_location('recipe_search', TOOL)
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    args = ['--llm', 'tiny', '--val-rows', '6', '--out', str(tmp_path), '--ceiling', '--align', '--align-steps', '30', '--disc', '--steps', '2']
    out = Path(mod.main(args))
    cei = pd.read_csv(out/'ceiling'/'ceiling.csv')
    assert cei['rank'].tolist()[-1] == cei['rank'].max() and cei.exact.tolist() == [False] * (len(cei) - 1) + [True]
    assert (cei.n == 6).all() and ((cei.gain_lo <= cei.gain) & (cei.gain <= cei.gain_hi)).all()
    assert abs(cei.cos_to_exact.iloc[-1] - 1) < 1e-5 and cei.cos_to_exact.is_monotonic_increasing
    al = pd.read_csv(out/'align'/'residual'/'curve.csv'); alog = pd.read_csv(out/'align'/'residual'/'align_log.csv')
    assert al.step.tolist() == [0, 10, 30] == alog.step.tolist() and alog.val_align_loss.iloc[-1] < alog.val_align_loss.iloc[0]
    dc = pd.read_csv(out/'disc'/'residual'/'curve.csv')
    assert dc.step.tolist() == [0, 2] and len(pd.read_csv(out/'disc'/'residual'/'disc_log.csv')) == 2
    assert not (out/'lr1e-3').exists()                                # the LM recipes did not run
    mtime = (out/'ceiling'/'ceiling.csv').stat().st_mtime
    mod.main(args)
    assert (out/'ceiling'/'ceiling.csv').stat().st_mtime == mtime
