"""`make bench`: throughput of adapter training and of evaluation generation, and the share of the machine's matmul rate reached.

All figures come from one process, so ratios compare like with like on the same (possibly busy) machine; the two
sides of each ratio are run in alternation (A, B, B, A, ...) so that load changes hit both alike.

Figures (printed as a table and written to bench/results.json):
- train_batched_tok_s / train_loop_tok_s: adapter-training throughput in *target* tokens per second (the answer
  tokens the loss is taken on), one step = forward + backward + gradient clipping + AdamW step, batch 16,
  'recovery' scheme, ML-100K rows, a SASRec recommender, the paper's conv adapter, frozen LLM.
  "batched" is our path (`recinterpreter.train.Reader`: `PromptBuilder.encode` splices the whole batch with tensor
  ops, `spliced_loss` runs the shared prompt prefix once and the LM head only where a target is predicted).
  "loop" is a per-sample splice-and-pad loop like the paper's reference code: for each sample tokenise its prompt
  pieces and answer, concatenate their embeddings with its soft token in Python, then right-pad the list and run
  the LLM with `labels` (full-sequence logits, Hugging Face loss). Same LLM, rows, phrasing, autocast, batch size
  and adapter initialisation (each side trains its own copy). train_ratio = batched / loop.
  Our path runs inside `recinterpreter.train.training_llm`, as `train_adapter` does: the frozen Linear weights held
  in bf16 once instead of recast by autocast on every call, and the eager attention on CPU (TrainConfig.attn='auto').
  The loop runs on the LLM as loaded (float32 weights under the same autocast, the model's own SDPA attention), as
  the paper's code would. train_ratio_same_llm is the ratio against a third side, the same loop inside the same
  `training_llm` settings: it isolates what batching and splicing alone buy.
  train_ratio_cpu is the same ratio in process CPU time (tokens per CPU-second of this process), which is steadier
  than wall time when other jobs share the CPUs.
- gen_batched_seq_s / gen_single_seq_s: evaluation generation in sequences per second with
  `recinterpreter.interpret.generate_from_embeds` (greedy, KV-cached), 16 test prompts in one call against the same
  16 prompts one call each, same max_new_tokens. generate_ratio = batched / single.
- cand_batched_per_s / cand_single_per_s: candidate-likelihood scoring (the residual scheme's 20 candidates per row:
  the true item and 19 popularity-drawn negatives) in candidates per second. "batched" is
  `recinterpreter.candidates.candidate_loglik`: a batch of rows' prompts (soft tokens spliced) run once, the tokens
  every candidate shares moved into that pass, then the row's candidates packed end to end into one continuation
  (attention mask: each sees the prompt and its own earlier tokens). "single" scores one candidate at a time as its
  own full sequence (prompt + answer, one forward pass, summed log-probabilities of the answer tokens), as a naive
  evaluation would. "repeated" is the earlier batched path, the baseline of the packing: the same prompt pass, then
  the KV cache repeated for each of the row's C candidates, run as C right-padded continuations (`repeated_loglik`
  below). All three run as `Interpreter.candidate_scores` does (inside `training_llm`, bf16 autocast where the CPU has
  it). cand_ratio = batched / single, cand_ratio_repeated = batched / repeated; cand_max_gap_diff checks that batched
  and single give the same gaps between a row's candidates (they differ only by a per-row constant, the shared
  words' log-prob), cand.repeated_max_diff that batched and repeated give the same scores.
- matmul_fp32_gflops / matmul_bf16_gflops: median rate of an n x n `torch.matmul` (2 n^3 FLOPs) timed in this run.
- mfu: model FLOP/s of batched training over the matmul rate of the dtype the LLM computes in (bf16 when training
  autocasts to bf16, else fp32); mfu_vs_fp32 / mfu_vs_bf16 give it against each rate. Model FLOPs per step count the
  frozen LLM as 2N per prompt token run forward only (the shared prefix, which needs no backward because nothing
  before the soft token requires grad), 4N per token after the soft token (forward 2N + backward to the inputs 2N;
  no weight gradients: the LLM is frozen), N = non-embedding parameters, plus 4*V*D per target token for the LM
  head (forward + backward to its input). Padding positions are not counted. Attention-score FLOPs (short prompts)
  and the adapter (tiny) are left out. The same count is given for the loop (mfu_loop), whose LM head runs on
  every position, so it does more (wasted) FLOPs than counted.

Usage: python bench/run.py [--llm smollm2|tiny] [--steps 5] [--threads N] [--autocast auto|bf16|off]
"""
from __future__ import annotations
import argparse, copy, json, os, platform, random, statistics, sys, time
from pathlib import Path

os.environ.setdefault('RECINTERPRETER_DATA', str(Path(__file__).resolve().parents[1].parent/'shared'/'data'))
import torch, torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence
from recinterpreter.core import seed_everything, atomic_write
from recinterpreter.data import load_dataset
from recinterpreter.recommender import train_or_load
from recinterpreter.llm import load_llm, count_trainable
from recinterpreter.adapter import AdapterConfig, build_adapter
from recinterpreter.prompts import PromptBuilder, SPLICE
from recinterpreter.train import Examples, Reader, TrainConfig, autocast_dtype, cpu_has_bf16, training_llm, attn_for
from recinterpreter.interpret import generate_from_embeds
from recinterpreter.candidates import candidate_loglik, residual_candidates, shared_prompt_pass

HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------- matmul rate
def matmul_gflops(n:int=2048, reps:int=5, dtype=torch.float32, device='cpu') -> dict:
    "Median and best GFLOP/s of an n x n matmul in `dtype` on `device` (after one warm-up)."
    g = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, n, generator=g).to(device=device, dtype=dtype) for _ in range(2))
    sync = torch.cuda.synchronize if torch.device(device).type == 'cuda' else (lambda: None)
    torch.matmul(a, b); sync()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); torch.matmul(a, b); sync(); ts.append(time.perf_counter() - t)
    fl = 2 * n ** 3 / 1e9
    return dict(n=n, reps=reps, median_gflops=round(fl / statistics.median(ts), 1), best_gflops=round(fl / min(ts), 1))

# ---------------------------------------------------------------- the per-sample reference path
def loop_loss(adapter, llm, tok, pb:PromptBuilder, states, items, which, amp):
    "The paper-style step: per-sample tokenise + splice in Python, pad the list, run the LLM with labels."
    embed = llm.get_input_embeddings()
    soft = adapter(*states[0])                                 # (B, 1, D): the projector runs on the batch
    text, targets = pb.text(which), pb.targets(items)
    pieces = text.split(SPLICE)
    pieces = [pieces[0] + '<Seq>', '</Seq>' + pieces[1]]
    embs, labs = [], []
    for i in range(len(targets)):                              # the per-sample loop being measured
        pre = tok(pieces[0], add_special_tokens=False, return_tensors='pt').input_ids[0]
        post = tok(pieces[1], add_special_tokens=False, return_tensors='pt').input_ids[0]
        ans = tok(targets[i], add_special_tokens=False, truncation=True, max_length=pb.max_txt_len).input_ids + [pb.eos_id]
        ans = torch.tensor(ans)
        e = torch.cat([embed(pre), soft[i].to(embed.weight.dtype), embed(post), embed(ans)], 0)
        embs.append(e)
        labs.append(torch.cat([torch.full((len(pre) + soft.shape[1] + len(post),), -100), ans]))
    x = pad_sequence(embs, batch_first=True)                   # right padding (B, S, D)
    lab = pad_sequence(labs, batch_first=True, padding_value=-100)
    mask = pad_sequence([torch.ones(len(e), dtype=torch.long) for e in embs], batch_first=True)
    with torch.autocast('cpu', dtype=amp or torch.float32, enabled=amp is not None):
        out = llm(inputs_embeds=x, attention_mask=mask, labels=lab)
    n_pre = len(pre)
    return out.loss, int((lab != -100).sum()), dict(real=int(mask.sum()), prefix=0, target=int((lab != -100).sum()),
                                                    before_soft=n_pre * len(targets))

# ---------------------------------------------------------------- one timed training step
def step(fn, adapter, opt, clip=1.0):
    t, c = time.perf_counter(), time.process_time()
    loss, n_tok, cnt = fn()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(list(adapter.parameters()), clip)
    opt.step(); opt.zero_grad(set_to_none=True)
    return time.perf_counter() - t, float(loss.detach()), n_tok, cnt, time.process_time() - c

def llm_counts(llm) -> dict:
    "Non-embedding parameter count N, vocabulary V and width D."
    W = llm.get_input_embeddings().weight
    n_all = sum(p.numel() for p in llm.parameters())
    out = llm.get_output_embeddings().weight
    n_emb = W.numel() + (0 if out.data_ptr() == W.data_ptr() else out.numel())
    return dict(n_params=n_all, n_body=n_all - n_emb, V=W.shape[0], D=W.shape[1], tied=out.data_ptr() == W.data_ptr())

def model_flops(c:dict, llm_c:dict) -> float:
    "FLOPs of one step by the counting rule in the module docstring."
    N, V, D = llm_c['n_body'], llm_c['V'], llm_c['D']
    fwd_only = c['prefix'] + c['before_soft']                 # tokens that need no backward
    return 2 * N * fwd_only + 4 * N * (c['real'] - fwd_only) + 4 * V * D * c['target']

@torch.no_grad()
def repeated_loglik(llm, prompt, targets, pad_id:int=0, keep_tail:int|None=1) -> torch.Tensor:
    "The baseline of `candidate_loglik`'s packing: the prompt pass's KV cache repeated per candidate, C padded continuations."
    out, M, pos, rest = shared_prompt_pass(llm, prompt, targets, keep_tail)
    B, C, dev = len(targets), len(targets[0]), M.device
    T = max(len(r) for r in rest)
    dec, head = llm.get_decoder(), llm.get_output_embeddings()
    lens = torch.tensor([len(r) for r in rest], device=dev)
    ids = pad_sequence([torch.tensor(r, dtype=torch.long) for r in rest], batch_first=True, padding_value=pad_id).to(dev)  # (BC, T)
    tm = torch.arange(T, device=dev)[None] < lens[:, None]
    h = out.last_hidden_state[:, -1:].repeat_interleave(C, 0)                           # (BC, 1, D)
    if T > 1:
        cache = out.cache; cache.batch_repeat_interleave(C)
        Mx = torch.cat([M.repeat_interleave(C, 0), tm[:, :T - 1].to(M.dtype)], 1)
        px = pos[:, -1:].repeat_interleave(C, 0) + 1 + torch.arange(T - 1, device=dev)[None]
        h = torch.cat([h, dec(input_ids=ids[:, :T - 1], attention_mask=Mx, position_ids=px, cache=cache).last_hidden_state], 1)
    lp = torch.zeros(B * C, T, device=dev)
    lp[tm] = head(h[tm]).float().log_softmax(-1).gather(1, ids[tm][:, None])[:, 0]
    return lp.sum(1).view(B, C).cpu()

@torch.no_grad()
def cand_bench(rec, data, llm, tok, adapter, n_rows:int=8, amp=None) -> dict:
    "Candidates/s of `candidate_loglik` (packed) against one full sequence per candidate and the repeated-cache path (alternated)."
    from recinterpreter.prompts import scheme_states
    adapter = copy.deepcopy(adapter).eval()
    pb = PromptBuilder(tok, 'residual', data.item_noun, data.verb, TrainConfig().max_txt_len)
    seq, lens, nxt = (t[:n_rows] for t in data.tensors('test'))
    ids = residual_candidates(seq, lens, nxt, data.popularity, n_neg=19)[:, :20]          # (R, 20): true + 19 popular
    tid = pb.target_ids(pb.targets([data.titles[i] for i in range(data.n_items)]))
    st = scheme_states('residual', rec, seq, lens, nxt)
    emb = llm.get_input_embeddings()
    tg = lambda: [[tid[j] for j in row] for row in ids.tolist()]
    def batched(): return candidate_loglik(llm, pb.encode(adapter, llm, st), tg(), pb.eos_id)
    def repeated(): return repeated_loglik(llm, pb.encode(adapter, llm, st), tg(), pb.eos_id)
    def single():
        out = torch.zeros(ids.shape)
        for r in range(len(ids)):
            soft = [adapter(H[r:r+1], l[r:r+1]) for H, l in st]
            for c, j in enumerate(ids[r].tolist()):
                x = pb.build(emb, soft, targets=[pb.targets([data.titles[j]])[0]])
                lp = llm(inputs_embeds=x.inputs_embeds, attention_mask=x.attention_mask).logits[0, :-1].float().log_softmax(-1)
                y = x.labels[0, 1:]; sel = y != -100
                out[r, c] = lp[sel].gather(1, y[sel][:, None]).sum()
        return out
    tb, ts, tr = [], [], []
    with training_llm(llm, amp), torch.autocast('cpu', dtype=amp or torch.float32, enabled=amp is not None):
        batched(); repeated()                                                              # warm-up
        for side in ('b', 'r', 's', 's', 'r', 'b'):
            t = time.perf_counter()
            if side == 'b': sb = batched(); tb.append(time.perf_counter() - t)
            elif side == 'r': sr = repeated(); tr.append(time.perf_counter() - t)
            else: ss = single(); ts.append(time.perf_counter() - t)
    n = ids.size
    gap = float(((sb - sb[:, :1]) - (ss - ss[:, :1])).abs().max())
    same_rank = float((sb.argmax(1) == ss.argmax(1)).float().mean())
    return dict(rows=len(ids), per_row=ids.shape[1], batched_s=[round(x, 3) for x in tb], single_s=[round(x, 3) for x in ts],
                batched_per_s=round(n / statistics.mean(tb), 1), single_per_s=round(n / statistics.mean(ts), 1),
                ratio=round(statistics.mean(ts) / statistics.mean(tb), 2), max_gap_diff=round(gap, 5), same_top1=same_rank,
                repeated_s=[round(x, 3) for x in tr], repeated_per_s=round(n / statistics.mean(tr), 1),
                ratio_repeated=round(statistics.mean(tr) / statistics.mean(tb), 2), repeated_max_diff=round(float((sb - sr).abs().max()), 5),
                autocast=str(amp).replace('torch.', '') if amp else 'off')

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--llm', default='smollm2', help="'smollm2' (default) or 'tiny' for a smoke run")
    p.add_argument('--steps', type=int, default=5, help='timed training steps per side (after 1 warm-up step)')
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch default)')
    p.add_argument('--autocast', default='auto', choices=['auto', 'bf16', 'off'], help="LLM autocast (train_adapter's default: auto)")
    p.add_argument('--attn', default=TrainConfig().attn, help="our path's attention while training (TrainConfig.attn; default: auto)")
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--gen-batch', type=int, default=16)
    p.add_argument('--max-new-tokens', type=int, default=24)
    p.add_argument('--matmul-n', type=int, default=2048)
    p.add_argument('--cand-rows', type=int, default=8, help='rows (x 20 candidates) in the candidate-scoring benchmark')
    p.add_argument('--out', default=str(HERE/'results.json'))
    a = p.parse_args(argv)
    if a.steps < 1: p.error('--steps must be >= 1')
    if a.threads: torch.set_num_threads(a.threads)
    t_start = time.perf_counter()
    seed_everything(0)

    mm32 = matmul_gflops(a.matmul_n, dtype=torch.float32)
    bf16_ok = cpu_has_bf16()
    mm16 = matmul_gflops(a.matmul_n, dtype=torch.bfloat16) if bf16_ok else None

    data = load_dataset('ml100k')
    rec, _ = train_or_load('sasrec', data, train_overrides={'epochs': 1, 'max_steps_per_epoch': 50})
    llm, tok = load_llm(a.llm)
    llm_c = llm_counts(llm)
    scheme, B = 'recovery', a.batch_size
    pb = PromptBuilder(tok, scheme, data.item_noun, data.verb, TrainConfig().max_txt_len)
    amp = autocast_dtype(a.autocast, torch.device('cpu'))
    d, L = rec.item_emb.weight.shape[1], rec.cfg.L
    ad_b = build_adapter(AdapterConfig(), d, L, llm_c['D'], llm=llm).train()
    ad_l = copy.deepcopy(ad_b)                                  # same initialisation, own optimiser
    assert count_trainable(llm) == 0 and count_trainable(rec) == 0
    ad_f = copy.deepcopy(ad_b)                                  # the loop inside training_llm
    reader = Reader(ad_b, llm, pb, amp, share_prefix=True)
    opt_b = torch.optim.AdamW(ad_b.parameters(), lr=1e-3, weight_decay=1e-6)
    opt_l = torch.optim.AdamW(ad_l.parameters(), lr=1e-3, weight_decay=1e-6)
    opt_f = torch.optim.AdamW(ad_f.parameters(), lr=1e-3, weight_decay=1e-6)
    attn = attn_for(a.attn, torch.device('cpu'))
    fast = lambda: training_llm(llm, amp, attn)                 # what train_adapter wraps its loop in
    n_steps = a.steps + 1
    rows = torch.randperm(len(data.train), generator=torch.Generator().manual_seed(0))[:n_steps * B]
    ex = Examples(scheme, rec, data, 'train', rows)

    def batched(st, items, which):
        b = pb.encode(ad_b, llm, st, items, which)
        with torch.autocast('cpu', dtype=amp or torch.float32, enabled=amp is not None):
            from recinterpreter.prompts import spliced_loss
            loss, n = spliced_loss(llm, b, share_prefix=True)
        P = b.n_shared
        return loss, n, dict(real=int(b.attention_mask.sum()) - (B - 1) * P, prefix=P,
                             before_soft=0, target=b.n_target_tokens)
    # note: `batched` is Reader.forward spelt out, to read the batch's shape; checked equal to Reader below
    res = {'batched': [], 'loop': [], 'loop_same': []}
    for s in range(n_steps):
        st, items = ex.batch(torch.arange(s * B, (s + 1) * B))
        which = random.Random(s).randrange(pb.n_phrasings)
        order = list(res) if s % 2 == 0 else list(res)[::-1]
        for side in order:
            if side == 'batched':
                with fast():
                    if s == 0:  # Reader (what train_adapter runs) on the same weights, before the first update
                        with torch.no_grad(): ref = float(reader(st, items, which)[0])
                    r = step(lambda: batched(st, items, which), ad_b, opt_b)
            elif side == 'loop':
                r = step(lambda: loop_loss(ad_l, llm, tok, pb, st, items, which, amp), ad_l, opt_l)
            else:
                with fast(): r = step(lambda: loop_loss(ad_f, llm, tok, pb, st, items, which, amp), ad_f, opt_f)
            res[side].append(r)
        print(f'step {s}{" (warm-up)" if s == 0 else ""}: ' + ' | '.join(f'{k} {v[-1][0]:.2f} s loss {v[-1][1]:.4f}' for k, v in res.items()),
              file=sys.stderr, flush=True)
    first = dict(batched=res['batched'][0][1], loop=res['loop'][0][1], loop_same=res['loop_same'][0][1], reader=ref)
    # the two paths must compute the same loss on the same weights (step 0, before any update)
    tol = 0.05 if amp is not None else 1e-3
    loss_match = abs(first['batched'] - first['loop']) <= tol * max(1.0, abs(first['loop']))
    assert abs(first['batched'] - ref) < 1e-4, f'batched bench path {first["batched"]} != Reader {ref}'

    def summ(rs):
        rs = rs[1:]                                             # drop the warm-up step
        sec = sum(r[0] for r in rs); tgt = sum(r[2] for r in rs)
        fl = sum(model_flops(r[3], llm_c) for r in rs); real = sum(r[3]['real'] for r in rs)
        cpu = sum(r[4] for r in rs)
        return dict(cpu_seconds=round(cpu, 3), target_tok_cpu_s=round(tgt / cpu, 1), seconds=round(sec, 3), s_per_step=round(sec / len(rs), 3), target_tokens=tgt,
                    target_tok_s=round(tgt / sec, 1), llm_tokens=real, llm_tok_s=round(real / sec, 1),
                    model_gflop_s=round(fl / sec / 1e9, 2), last_loss=round(rs[-1][1], 4))
    tb, tl, tf = summ(res['batched']), summ(res['loop']), summ(res['loop_same'])

    # ---------------------------------------------------------------- generation
    ad_b.eval()
    gst, _ = Examples(scheme, rec, data, 'test', torch.arange(a.gen_batch)).batch(torch.arange(a.gen_batch))
    with torch.inference_mode():
        gb = pb.encode(ad_b, llm, gst)
        E, M = gb.inputs_embeds, gb.attention_mask
        generate_from_embeds(llm, tok, E[:2], M[:2], max_new_tokens=4)      # warm-up
        gen_b, gen_s = [], []
        for r in range(2):                                      # alternate: batched, single, single, batched
            for side in (['b', 's'] if r == 0 else ['s', 'b']):
                t = time.perf_counter()
                if side == 'b': texts_b = generate_from_embeds(llm, tok, E, M, max_new_tokens=a.max_new_tokens); gen_b.append(time.perf_counter() - t)
                else:
                    texts_s = [generate_from_embeds(llm, tok, E[i:i+1], M[i:i+1], max_new_tokens=a.max_new_tokens)[0] for i in range(len(E))]
                    gen_s.append(time.perf_counter() - t)
    n_gen = len(E)
    gen_same = sum(x == y for x, y in zip(texts_b, texts_s))
    gb_rate, gs_rate = n_gen / statistics.mean(gen_b), n_gen / statistics.mean(gen_s)
    n_words = statistics.mean(len(tok(t, add_special_tokens=False).input_ids) for t in texts_b)

    # ---------------------------------------------------------------- candidate likelihood
    cand = cand_bench(rec, data, llm, tok, ad_b, a.cand_rows, amp)

    # ---------------------------------------------------------------- MFU
    compute = 'bf16' if amp is not None else 'fp32'
    peak = (mm16 if compute == 'bf16' else mm32)['median_gflops']
    mfu = tb['model_gflop_s'] / peak
    out = dict(
        train_ratio=round(tb['target_tok_s'] / tl['target_tok_s'], 2),
        generate_ratio=round(gb_rate / gs_rate, 2),
        mfu=round(mfu, 4), mfu_compute_dtype=compute,
        mfu_vs_fp32=round(tb['model_gflop_s'] / mm32['median_gflops'], 4),
        mfu_vs_bf16=round(tb['model_gflop_s'] / mm16['median_gflops'], 4) if mm16 else None,
        mfu_loop=round(tl['model_gflop_s'] / peak, 4),
        train_ratio_cpu=round(tb['target_tok_cpu_s'] / tl['target_tok_cpu_s'], 2),
        train_ratio_same_llm=round(tb['target_tok_s'] / tf['target_tok_s'], 2),
        train_batched_tok_s=tb['target_tok_s'], train_loop_tok_s=tl['target_tok_s'], train_loop_same_tok_s=tf['target_tok_s'],
        train_batched=tb, train_loop=tl, train_loop_same=tf, train_attn=attn or llm.config._attn_implementation,
        first_step_loss=first, first_step_loss_match=bool(loss_match),
        gen_batched_seq_s=round(gb_rate, 3), gen_single_seq_s=round(gs_rate, 3),
        gen=dict(n_prompts=n_gen, max_new_tokens=a.max_new_tokens, batched_s=[round(x, 3) for x in gen_b],
                 single_s=[round(x, 3) for x in gen_s], same_texts=gen_same, mean_generated_tokens=round(n_words, 1),
                 note='untrained adapter: the texts are not meaningful; the batched call runs until its longest answer ends'),
        cand_ratio=cand['ratio'], cand_batched_per_s=cand['batched_per_s'], cand_single_per_s=cand['single_per_s'],
        cand_ratio_repeated=cand['ratio_repeated'], cand_repeated_per_s=cand['repeated_per_s'], cand=cand,
        matmul_fp32=mm32, matmul_bf16=mm16, cpu_bf16=bf16_ok,
        matmul_fp32_gflops=mm32['median_gflops'], matmul_bf16_gflops=mm16['median_gflops'] if mm16 else None,
        flops_rule='frozen LLM: 2N per forward-only token (prefix), 4N per token after the soft token, +4VD per target token (LM head); N = non-embedding params',
        llm=dict(name=a.llm, **llm_c), autocast=str(amp).replace('torch.', '') if amp else 'off',
        scheme=scheme, batch_size=B, steps=a.steps, recommender='sasrec', dataset='ml100k', adapter='conv',
        threads=torch.get_num_threads(), load_avg=list(os.getloadavg()), cpus=os.cpu_count(),
        python=platform.python_version(), torch=torch.__version__, total_s=round(time.perf_counter() - t_start, 1))
    with atomic_write(a.out) as f: json.dump(out, f, indent=1)

    line = lambda *c: print(f'{c[0]:<44}{c[1]:>14}{c[2]:>14}{c[3]:>10}')
    print(f'\nrecinterpreter benchmark: LLM {a.llm} ({llm_c["n_params"]/1e6:.1f}M params, N={llm_c["n_body"]/1e6:.1f}M non-embedding), '
          f'autocast {out["autocast"]}, {out["threads"]} threads, load avg {out["load_avg"][0]:.1f} on {out["cpus"]} CPUs')
    line('', 'batched', 'per-sample', 'ratio')
    line(f'train: target tokens/s (B={B}, {a.steps} steps)', tb['target_tok_s'], tl['target_tok_s'], out['train_ratio'])
    line('train: target tokens per CPU-second', tb['target_tok_cpu_s'], tl['target_tok_cpu_s'], out['train_ratio_cpu'])
    line('train: vs the loop in the same training_llm', tb['target_tok_s'], tf['target_tok_s'], out['train_ratio_same_llm'])
    line('train: s/step', tb['s_per_step'], tl['s_per_step'], round(tl['s_per_step'] / tb['s_per_step'], 2))
    line('train: LLM tokens/s (real, run)', tb['llm_tok_s'], tl['llm_tok_s'], '')
    line('train: model GFLOP/s', tb['model_gflop_s'], tl['model_gflop_s'], '')
    line(f'generate: sequences/s ({n_gen} prompts, {a.max_new_tokens} new)', round(gb_rate, 3), round(gs_rate, 3), out['generate_ratio'])
    line(f'candidates: scored/s ({cand["rows"]} rows x {cand["per_row"]})', cand['batched_per_s'], cand['single_per_s'], cand['ratio'])
    line('candidates: vs the repeated-cache path', cand['batched_per_s'], cand['repeated_per_s'], cand['ratio_repeated'])
    print(f'matmul {a.matmul_n}^2: fp32 {mm32["median_gflops"]} GFLOP/s' + (f', bf16 {mm16["median_gflops"]} GFLOP/s' if mm16 else ', bf16: no native support'))
    print(f'MFU of batched training: {mfu:.1%} of the {compute} matmul rate (vs fp32: {out["mfu_vs_fp32"]:.1%}'
          + (f', vs bf16: {out["mfu_vs_bf16"]:.1%}' if mm16 else '') + f'); per-sample loop: {out["mfu_loop"]:.1%}')
    print(f'first-step loss batched {first["batched"]:.4f} / loop {first["loop"]:.4f} (match: {loss_match}); '
          f'{gen_same}/{n_gen} generations identical batched vs single; total {out["total_s"]} s -> {a.out}')
    return out

if __name__ == '__main__':
    main()
