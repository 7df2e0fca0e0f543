"""tools/rekey.py: the comparator finds any difference (one ulp, one logged loss, one metric), and the alias table
makes `code_fingerprint` answer with the proven-equivalent earlier hash, and only for that exact code."""
import importlib.util, json, pathlib
import pytest, torch
from safetensors.torch import save_file

ROOT = pathlib.Path(__file__).resolve().parent.parent

def _rekey():
    spec = importlib.util.spec_from_file_location('rekey', ROOT/'tools'/'rekey.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

def test_strip_key():
    rk = _rekey()
    assert rk.strip_key('recommenders/ml100k/sasrec-0123456789ab/best/model.safetensors') == 'recommenders/ml100k/sasrec/best/model.safetensors'
    assert rk.strip_key('base_model.layers.0.q_proj.lora_A.sasrec-tiny-conv-lora8-abcdefabcdef.weight') == 'base_model.layers.0.q_proj.lora_A.sasrec-tiny-conv-lora8.weight'
    assert rk.strip_key('sasrec-hr@10') == 'sasrec-hr@10'            # not a key: left alone

def test_compare_tensors_catches_one_ulp(tmp_path):
    rk = _rekey()
    w = torch.randn(4, 5); b = torch.randn(3).to(torch.bfloat16)
    save_file({'lora.x-0123456789ab.w': w, 'b': b}, tmp_path/'a.safetensors')
    save_file({'lora.x-ba9876543210.w': w.clone(), 'b': b.clone()}, tmp_path/'b.safetensors')
    n, d = rk.compare_tensors(tmp_path/'a.safetensors', tmp_path/'b.safetensors', 'run')
    assert (n, d) == (2, [])                                          # names matched with the keys taken out
    w2 = w.clone(); w2[1, 2] = torch.nextafter(w2[1, 2], torch.tensor(float('inf')))
    save_file({'lora.x-ba9876543210.w': w2, 'b': b}, tmp_path/'c.safetensors')
    n, d = rk.compare_tensors(tmp_path/'a.safetensors', tmp_path/'c.safetensors', 'run')
    assert n == 2 and d == ['run: tensor lora.x.w differs']
    save_file({'b': b}, tmp_path/'d.safetensors')
    assert rk.compare_tensors(tmp_path/'a.safetensors', tmp_path/'d.safetensors', 'run')[1] == ['run: tensor lora.x.w only in one run']

def test_compare_json_ignores_timing_not_numbers():
    rk = _rekey()
    a = {'recommenders': {'sasrec': {'val': {'hr@10': 0.25}, 'train_s': 3.0, 'source': 'cache'}},
         'timing': {'total_s': 9}, 'log': [{'loss': 2.5, 'seconds': 1.0}]}
    b = {'recommenders': {'sasrec': {'val': {'hr@10': 0.25}, 'train_s': 4.0, 'source': 'shipped: x'}},
         'timing': {'total_s': 7}, 'log': [{'loss': 2.5, 'seconds': 2.0}]}
    assert rk.compare_json(a, b, 'm') == []
    b['log'][0]['loss'] = 2.5000001
    assert rk.compare_json(a, b, 'm') == ['m: log/0/loss: 2.5 != 2.5000001']
    b['log'][0]['loss'] = 2.5; b['recommenders']['sasrec']['val']['ndcg@10'] = 0.1
    assert rk.compare_json(a, b, 'm') == ['m: recommenders/sasrec/val/ndcg@10 only in one run']

def test_new_aliases_point_at_the_old_hash():
    rk = _rekey()
    old = {'train': 'aaaaaaaaaaaa', 'metrics': 'mmmmmmmmmmmm'}
    table, added = rk.new_aliases(old, {'train': 'bbbbbbbbbbbb', 'metrics': 'mmmmmmmmmmmm'}, {})
    assert table == {'train': {'bbbbbbbbbbbb': 'aaaaaaaaaaaa'}} and added == {'train': ('bbbbbbbbbbbb', 'aaaaaaaaaaaa')}
    # a second refactor: REV's hash of train is already the alias's target, so the newest code points there too
    table2, added2 = rk.new_aliases(old, {'train': 'cccccccccccc', 'metrics': 'mmmmmmmmmmmm'}, table)
    assert table2 == {'train': {'bbbbbbbbbbbb': 'aaaaaaaaaaaa', 'cccccccccccc': 'aaaaaaaaaaaa'}}
    assert rk.new_aliases(old, {'train': 'bbbbbbbbbbbb', 'metrics': 'mmmmmmmmmmmm'}, table)[1] == {}   # nothing new

def test_code_fingerprint_uses_aliases(tmp_path, monkeypatch):
    import recinterpreter.core as core
    raw = core.code_fingerprint('metrics', raw=True)['metrics']
    table = tmp_path/'aliases.json'
    table.write_text(json.dumps({'aliases': {'metrics': {raw: '0123456789ab'}}}))
    monkeypatch.setattr(core, 'CODE_ALIASES', table)
    assert core.code_fingerprint('metrics', 'core') == {'metrics': '0123456789ab', 'core': core.code_fingerprint('core', raw=True)['core']}
    assert core.code_fingerprint('metrics', raw=True)['metrics'] == raw
    table.write_text(json.dumps({'aliases': {'metrics': {'ffffffffffff': '0123456789ab'}}}))   # another version's alias
    assert core.code_fingerprint('metrics')['metrics'] == raw

def test_shipped_alias_table_is_consistent():
    "Every alias of the committed table points at a hash some check proved, and the current code's hashes resolve once."
    from recinterpreter.core import CODE_ALIASES, code_fingerprint
    if not CODE_ALIASES.exists(): pytest.skip('no code_aliases.json')
    t = json.loads(CODE_ALIASES.read_text())
    proved = {(m, v['new']) for c in t['checks'] for m, v in c['modules'].items()}
    for c in t['checks']: assert c['differences'] == 0 and c['tensors'] > 0 and c['runs'] > 0
    for m, al in t['aliases'].items():
        for new, old in al.items():
            assert (m, new) in proved, f'{m} {new} -> {old} was never checked'
            assert old not in al, f'{m}: {old} is itself an alias (chains must point at the root hash)'
