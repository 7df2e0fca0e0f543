"Untrusted LLaRA files: restricted unpickling, the parquet/csv alternatives, both train-file shapes, file permissions."
import os, warnings
import numpy as np, pandas as pd, pytest
from recinterpreter.core import atomic_write, save_json
from recinterpreter.data import (DataError, UnsafePickleError, safe_read_pickle, read_llara_file, save_llara_frame,
                                 load_llara, load_dataset, LLARA_SPLITS)

REFERENCE = ['ml-100k/llara/Val_data.df', 'ml-100k/llara/Test_data.df', 'ml-100k/llara/train_data.df100',
             'steam/llara/Val_data.df', 'steam/llara/Test_data.df', 'steam/llara/train_data.df1000']

class _CreatesFile:
    "Pickles as a call to os.system that would create `path` when loaded."
    def __init__(self, path): self.path = path
    def __reduce__(self): return (os.system, (f'touch {self.path}',))

def _titles(folder, n): (folder/'id2name.txt').write_text('\n'.join(f'{i}::Item {i}' for i in range(n)))

def test_crafted_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path/'created-by-the-pickle'
    folder = tmp_path/'evil'; folder.mkdir(); _titles(folder, 5)
    ok = pd.DataFrame({'seq': [[0, 1, 2] + [5]*7], 'len_seq': [3], 'next': [3]})
    ok.to_pickle(folder/'Val_data.df'); ok.to_pickle(folder/'Test_data.df')
    pd.DataFrame({'seq': [[0, 1, 2] + [5]*7], 'len_seq': [3], 'next': [_CreatesFile(marker)]}).to_pickle(folder/'train_data.df')
    for load in (lambda: safe_read_pickle(folder/'train_data.df'), lambda: load_dataset(folder)):
        with pytest.raises(UnsafePickleError) as e: load()
        msg = str(e.value)
        assert f'refusing to load {folder}/train_data.df: it asks for posix.system' in msg and '.parquet or .csv' in msg
        assert isinstance(e.value, DataError)
    assert not marker.exists()

def test_other_globals_refused(tmp_path):
    (tmp_path/'a.df').write_bytes(b"cbuiltins\neval\n(S'1+1'\ntR.")
    with pytest.raises(UnsafePickleError, match='builtins.eval'): safe_read_pickle(tmp_path/'a.df')
    (tmp_path/'b.df').write_bytes(b"cnumpy\nload\n(S'x'\ntR.")  # a real numpy function, not on the list
    with pytest.raises(UnsafePickleError, match='numpy.load'): safe_read_pickle(tmp_path/'b.df')
    (tmp_path/'c.df').write_bytes(b'\x80\x04cpandas.core.indexes.base\n_new_Index\n}X\x04\x00\x00\x00evilK\x01sb.')
    with pytest.raises(UnsafePickleError, match='changes pandas.core.indexes.base._new_Index.evil'): safe_read_pickle(tmp_path/'c.df')
    assert not hasattr(pd.core.indexes.base._new_Index, 'evil')

@pytest.mark.parametrize('rel', REFERENCE)
def test_reference_pickles_load(data_root, rel):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        assert safe_read_pickle(data_root/rel).equals(pd.read_pickle(data_root/rel))  # our own reference copies

def _converted(src, dst, ext):
    dst.mkdir()
    for p in src.iterdir():
        if p.name.startswith(tuple(LLARA_SPLITS.values())): save_llara_frame(safe_read_pickle(p), dst/f'{p.name}.{ext}')
        else: (dst/p.name).write_bytes(p.read_bytes())
    return dst

@pytest.mark.parametrize('ext', ['parquet', 'csv'])
@pytest.mark.parametrize('sub', ['steam/llara', 'ml-100k/llara'])
def test_parquet_csv_give_the_same_dataset(tmp_path, data_root, sub, ext):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # PARTIAL DATA
        ref = load_llara(data_root/sub, name='x')
        got = load_llara(_converted(data_root/sub, tmp_path/'conv', ext), name='x')
    assert (got.n_items, got.pad_id, got.partial) == (ref.n_items, ref.pad_id, ref.partial)
    for k in ('train', 'val', 'test'):
        a, b = got.tensors(k), ref.tensors(k)
        assert all(bool((x == y).all()) and x.shape == y.shape for x, y in zip(a, b)), k
        assert got.split(k).equals(ref.split(k))

def test_safe_format_preferred(tmp_path):
    f = tmp_path/'pref'; f.mkdir(); _titles(f, 6)
    good = pd.DataFrame({'seq': [[0, 1, 2] + [6]*7], 'len_seq': [3], 'next': [3]})
    for stem in LLARA_SPLITS.values():
        good.assign(next=[4]).to_pickle(f/f'{stem}.df'); save_llara_frame(good, f/f'{stem}.parquet')
    d = load_llara(f)
    assert d.val['next'].tolist() == [3] and d.test['next'].tolist() == [3]
    assert 'read Val_data.parquet; ignored Val_data.df (.parquet wins over .csv over .df)' in d.notes

def test_malformed_csv_names_the_line(tmp_path):
    (tmp_path/'v.csv').write_text('seq,len_seq,next\n"[1, 2, 3]",3,4\n"[1, 2, open(\'x\')]",3,4\n')
    with pytest.raises(DataError, match=r"v.csv, line 3: seq must be a list literal of ids like \[12, 7, 3581\]"):
        read_llara_file(tmp_path/'v.csv', L=3)
    (tmp_path/'w.csv').write_text('seq,len_seq,next\n"[1, 2, 3]",three,4\n')
    with pytest.raises(DataError, match='w.csv, line 2: len_seq must be an integer'): read_llara_file(tmp_path/'w.csv', L=3)

def _toy(folder, users, per_positive, n=40, L=10, fmt='df'):
    folder.mkdir(); _titles(folder, n)
    def row(h, t): h = h[-L:]; return {'seq': h + [n]*(L - len(h)), 'len_seq': len(h) or 1, 'next': t}  # LLaRA: empty -> len_seq 1
    per_user = [row(u[:-1], u[-1]) for u in users]
    train = [row(u[:j], u[j]) for u in users for j in range(len(u))] if per_positive else per_user
    for stem, rows in (('train_data', train), ('Val_data', per_user + [row([], 7)]), ('Test_data', per_user + [row([], 8)]*2)):
        if fmt == 'df': pd.DataFrame(rows).to_pickle(folder/f'{stem}.df')
        else: save_llara_frame(pd.DataFrame(rows), folder/f'{stem}.{fmt}')
    return folder

def test_train_file_shapes(tmp_path):
    users = [np.random.default_rng(s).choice(40, m, replace=False).tolist() for s, m in enumerate((2, 5, 8, 11, 15))]
    pos = load_llara(_toy(tmp_path/'pos', users, True))
    assert (len(pos.train), len(pos.val), len(pos.test)) == (0 + 2 + 5 + 8 + 12, 4, 4)
    assert any(x.startswith('train_data.df: dropped 5 row(s) with an empty history') for x in pos.notes)
    assert any(x.startswith('Val_data.df: dropped 1 row(s) with an empty history') for x in pos.notes)
    assert any(x.startswith('Test_data.df: dropped 2 row(s) with an empty history') for x in pos.notes)
    assert any('100% of rows' in x and 'already one row per positive, kept as is' in x for x in pos.notes)
    assert 'train rows not expanded: 36 rows, already one row per positive' in pos.notes  # 41 rows less 5 empty
    hist = load_llara(_toy(tmp_path/'hist', users, False, fmt='csv'))
    assert len(hist.train) == 1 + 2 + 5 + 8 + 8 - 1  # one per prefix of >= 3 items plus the row; the 1-item row dropped
    assert any(x.startswith('train_data.csv: 0% of rows') and 'expanded into prefixes' in x for x in hist.notes)
    # an extra earlier row of one user is kept once: its prefixes are not generated again
    both = load_llara(_toy(tmp_path/'both', users + [users[2][:6]], False, fmt='parquet'))
    assert len(both.train) == len(hist.train)
    keys = list(zip(map(tuple, both.train.seq), both.train.next))
    assert len(set(keys)) == len(keys)

def test_written_files_get_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        save_json({'a': 1}, tmp_path/'a.json')
        os.umask(0o077)
        with atomic_write(tmp_path/'b.bin', 'wb') as f: f.write(b'x')
    finally: os.umask(old)
    assert (tmp_path/'a.json').stat().st_mode & 0o777 == 0o644
    assert (tmp_path/'b.bin').stat().st_mode & 0o777 == 0o600
