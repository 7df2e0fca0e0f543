"""Adapter training with 2 CPU processes (torchrun + gloo; what `accelerate launch --multi_gpu` does on GPUs):
both ranks end with the same weights, and only rank 0 writes files."""
import os, subprocess, sys, textwrap
from pathlib import Path
import pytest

SCRIPT = textwrap.dedent('''
    import os, sys, torch
    from pathlib import Path
    from safetensors.torch import save_file
    from recinterpreter.llm import load_llm
    from recinterpreter.adapter import AdapterConfig
    from recinterpreter.recommender import ToyData, make_recommender
    from recinterpreter.train import train_adapter, TrainConfig
    out = Path(sys.argv[1]); torch.set_num_threads(1)
    rank = int(os.environ.get('RANK', 0))  # (creating accelerate state here would pin it before train_adapter)
    data = ToyData(n_items=30, n_rows=128)
    torch.manual_seed(0); rec = make_recommender('gru4rec', data.n_items).freeze()
    llm, tok = load_llm('tiny')
    cfg = TrainConfig(steps=6, batch_size=4, lr=1e-2, warmup=2, val_every=3, val_rows=8, ckpt_every=3)
    ad, info = train_adapter('residual', rec, data, llm, tok, AdapterConfig(kind='mlp', hidden=16, lora_r=2), cfg,
                             ckpt_dir=out / f'run_{rank}', lora_name='x', progress=False)
    ts = {f'a.{k}': v.contiguous() for k, v in ad.state_dict().items()}
    ts.update({f'l.{n}': p.detach().contiguous() for n, p in llm.named_parameters() if 'lora_' in n})
    save_file(ts, str(out / f'weights_{rank}.safetensors'))
    print('rank', rank, 'world', info['world'], 'last_loss', info['last_loss'])
''')

def test_two_processes(tmp_path):
    from safetensors.torch import load_file
    import torch
    script = tmp_path / 'train2.py'; script.write_text(SCRIPT)
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    env.setdefault('RECINTERPRETER_CACHE', str(Path(__file__).resolve().parent / '_out' / 'cache'))
    # accelerate's own launcher only starts several CPU processes through MPI; torchrun sets the same
    # environment (RANK, WORLD_SIZE, MASTER_ADDR) that `Accelerator` reads, and picks gloo on CPU
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_port', '29531',
           str(script), str(tmp_path)]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert 'world 2' in r.stdout, r.stdout
    w0, w1 = load_file(tmp_path / 'weights_0.safetensors'), load_file(tmp_path / 'weights_1.safetensors')
    assert w0.keys() == w1.keys() and any(k.startswith('l.') for k in w0)
    for k in w0: assert torch.equal(w0[k], w1[k]), k                       # DDP kept the ranks identical
    assert (tmp_path / 'run_0' / 'adapter' / 'model.safetensors').exists()   # rank 0 wrote the result
    assert (tmp_path / 'run_0' / 'info.json').exists() and not (tmp_path / 'run_0' / 'resume').exists()
    assert not (tmp_path / 'run_1').exists()                                # rank 1 wrote nothing
