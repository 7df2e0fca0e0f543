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
