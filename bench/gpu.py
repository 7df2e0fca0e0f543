"""`make bench-gpu`: the `paper` preset's adapter training steps on a GPU (bf16), with SmolLM2, and their throughput.

What it runs: the adapter runs of `resolve_params(preset='paper')` (the paper's conv adapter, frozen LLM, lr 1e-3,
batch 16, bf16 autocast) for both prompting schemes, through the same `train_adapter` that `make eval` uses, for
`--steps` steps instead of the preset's 20,000, on a SASRec trained briefly (its quality does not change the speed).
Then a batched, KV-cached generation of `--gen-batch` answers. It prints one table and writes `--out` (JSON):
target tokens/s, s/step, the model FLOP rate over the device's measured bf16 matmul rate (MFU, counted as in
`bench/run.py`), generation sequences/s and peak GPU memory.

On a GPU (the default when one is present): `python bench/gpu.py` (SmolLM2, 200 steps per scheme, a few minutes).
Without one it runs on the CPU with whatever budget you give it, e.g. the smoke run the tests use:
`python bench/gpu.py --device cpu --llm tiny --steps 2 --gen-batch 2`.
Under `accelerate launch --multi_gpu` every process trains its own slice of each batch (see 07_train); rank 0 prints.
"""
from __future__ import annotations
import argparse, json, os, platform, sys, time
from pathlib import Path

os.environ.setdefault('RECINTERPRETER_DATA', str(Path(__file__).resolve().parents[1].parent/'shared'/'data'))
import torch
from recinterpreter.core import seed_everything, atomic_write, get_device
from recinterpreter.data import load_dataset
from recinterpreter.recommender import train_or_load
from recinterpreter.llm import load_llm
from recinterpreter.pipeline import resolve_params, adapter_runs
from recinterpreter.prompts import PromptBuilder
from recinterpreter.train import train_adapter, Examples, autocast_dtype
from recinterpreter.interpret import generate_from_embeds

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import llm_counts, matmul_gflops  # noqa: E402  (the same counting and matmul timing as the CPU benchmark)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='auto', help="'auto' (CUDA when present), 'cuda', 'cuda:N' or 'cpu'")
    p.add_argument('--llm', default='smollm2', help="'smollm2', 'tiny' or a Hugging Face id / local folder")
    p.add_argument('--steps', type=int, default=200, help='adapter training steps per scheme (the paper preset: 20000)')
    p.add_argument('--dataset', default='ml100k')
    p.add_argument('--gen-batch', type=int, default=64, help='prompts generated in one call')
    p.add_argument('--max-new-tokens', type=int, default=32)
    p.add_argument('--out', default=str(HERE/'results_gpu.json'))
    a = p.parse_args(argv)
    if a.steps < 1: p.error('--steps must be >= 1')
    dev = get_device(a.device)
    seed_everything(0)
    params = resolve_params(preset='paper', dataset=a.dataset, llm=a.llm, device=str(dev))
    data = load_dataset(params.data.name)
    rec, _ = train_or_load('sasrec', data, train_overrides={'epochs': 1, 'max_steps_per_epoch': 50}, device=str(dev), progress=False)
    t = time.perf_counter(); llm, tok = load_llm(a.llm, device=str(dev)); load_s = time.perf_counter() - t
    c = llm_counts(llm)
    _, _, acfg, tcfg0 = next(r for r in adapter_runs(params) if r[1] == 'sasrec')
    amp = autocast_dtype(tcfg0.autocast, dev)
    rate = matmul_gflops(4096, 10, amp or next(llm.parameters()).dtype, dev)['median_gflops']
    rows = {}
    for scheme in ('recovery', 'residual'):
        tcfg = tcfg0.override(steps=a.steps, val_every=0, val_rows=64, ckpt_every=0, warmup=min(tcfg0.warmup, a.steps))
        if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats(dev)
        ad, info = train_adapter(scheme, rec, data, llm, tok, acfg, tcfg, progress=True)
        log = info['log']; tr = log[log.split == 'train']
        n_tok = float(tr.tokens.iloc[-1]); steps = len(tr)
        # model FLOPs per target token ~ 4N for each LLM token after the soft token + 4VD (LM head): an estimate from the
        # target tokens alone, scaled by the measured LLM-tokens-per-target-token of this scheme's prompts
        pb = PromptBuilder(tok, scheme, data.item_noun, data.verb, tcfg.max_txt_len)
        ex = Examples(scheme, rec, data, 'train', torch.arange(min(64, len(data.train))))
        st, items = ex.batch(torch.arange(ex.n), dev)
        with torch.no_grad(): b = pb.encode(ad, llm, st, items, 0)
        real = int(b.attention_mask.sum()) - (ex.n - 1) * b.n_shared
        llm_per_tgt = real / max(b.n_target_tokens, 1)
        flops_per_tgt = 4 * c['n_body'] * llm_per_tgt + 4 * c['V'] * c['D']
        tok_s = info['target_tokens_per_s']
        # generation: one batched, KV-cached call
        gst, _ = Examples(scheme, rec, data, 'test', torch.arange(min(a.gen_batch, len(data.test)))).batch(
            torch.arange(min(a.gen_batch, len(data.test))), dev)
        with torch.inference_mode():
            g = pb.encode(ad, llm, gst)
            generate_from_embeds(llm, tok, g.inputs_embeds[:2], g.attention_mask[:2], max_new_tokens=4)
            if dev.type == 'cuda': torch.cuda.synchronize(dev)
            t = time.perf_counter()
            texts = generate_from_embeds(llm, tok, g.inputs_embeds, g.attention_mask, max_new_tokens=a.max_new_tokens)
            if dev.type == 'cuda': torch.cuda.synchronize(dev)
            gen_s = time.perf_counter() - t
        rows[scheme] = dict(steps=steps, s_per_step=round(info['train_s'] / steps, 4), target_tok_s=tok_s,
                            first_val_loss=round(info['first_loss'], 4), last_val_loss=round(info['last_loss'], 4),
                            llm_tokens_per_target=round(llm_per_tgt, 2), model_tflop_s=round(flops_per_tgt * tok_s / 1e12, 3),
                            mfu=round(flops_per_tgt * tok_s / 1e9 / rate, 4), autocast=info['autocast'], attn=info['attn'],
                            gen_seq_s=round(len(texts) / gen_s, 2), gen_prompts=len(texts),
                            peak_mem_gib=round(torch.cuda.max_memory_allocated(dev) / 2**30, 2) if dev.type == 'cuda' else None)
    out = dict(device=str(dev), device_name=torch.cuda.get_device_name(dev) if dev.type == 'cuda' else platform.processor() or 'cpu',
               llm=dict(name=a.llm, dtype=str(next(llm.parameters()).dtype).replace('torch.', ''), **c), llm_load_s=round(load_s, 1),
               preset='paper', adapter=acfg.to_dict(), batch_size=tcfg0.batch_size, lr=tcfg0.lr,
               matmul_gflops=round(rate, 1), matmul_dtype=str(amp or next(llm.parameters()).dtype).replace('torch.', ''),
               schemes=rows, torch=torch.__version__, threads=torch.get_num_threads())
    with atomic_write(a.out) as f: json.dump(out, f, indent=1)
    print(f'\npaper preset on {out["device_name"]} ({out["device"]}), LLM {a.llm} in {out["llm"]["dtype"]}, batch {tcfg0.batch_size}, '
          f'{a.steps} steps per scheme; matmul {out["matmul_dtype"]} {out["matmul_gflops"]} GFLOP/s')
    print(f'{"scheme":<10}{"s/step":>9}{"target tok/s":>14}{"MFU":>8}{"val loss":>18}{"gen seq/s":>11}{"peak GiB":>10}  autocast/attn')
    for k, r in rows.items():
        print(f'{k:<10}{r["s_per_step"]:>9}{r["target_tok_s"]:>14}{r["mfu"]:>8.1%}{r["first_val_loss"]:>9}->{r["last_val_loss"]:<8}'
              f'{r["gen_seq_s"]:>11}{str(r["peak_mem_gib"]):>10}  {r["autocast"]}/{r["attn"]}')
    print(f'-> {a.out}')
    return out

if __name__ == '__main__':
    main()
