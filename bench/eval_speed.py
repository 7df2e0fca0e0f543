"""What the two shared-prefix passes of `make eval` buy: the judge's validity check and greedy generation.

Both sides of each ratio run in one process on the same inputs, in alternation (A, B, B, A), so load changes hit
both alike; every figure is the mean of the two runs of its side.
- judge: `oracle.judge_validity` on the first `--histories` ML-100K test histories (each shown in the 6 orders of its
  3 options). "grouped" is `LocalJudge` as `make eval` runs it (each history's shared prefix once, `prefix_groups`);
  "plain" is the same judge with grouping off (`share > 1`: every prompt alone, all but its last token as the
  prefix: the same FLOPs as one plain forward pass). judge_ratio = plain / grouped seconds; judge_max_prob_diff
  checks that both give the same letter probabilities.
- generate: `interpret.generate_from_embeds` on the residual prompts of the first `--rows` test rows (a SASRec and
  an untrained conv adapter: the timing does not depend on the weights), `--max-new-tokens` tokens. "shared" runs
  the preamble every row shares once (`prefix_cache`); "plain" sets `min_shared` out of reach.
  generate_ratio = plain / shared seconds; generate_same_texts counts rows whose texts agree.

Usage: python bench/eval_speed.py [--llm smollm2|tiny] [--histories 24] [--rows 95]   (about 3 min on 2 cores)
Writes bench/eval_speed.json.
"""
from __future__ import annotations
import argparse, json, os, statistics, sys, time
from pathlib import Path

os.environ.setdefault('RECINTERPRETER_DATA', str(Path(__file__).resolve().parents[1].parent/'shared'/'data'))
import numpy as np, torch
from recinterpreter.core import seed_everything, atomic_write
from recinterpreter.data import load_dataset
from recinterpreter.recommender import make_recommender
from recinterpreter.llm import load_llm, embed_dim
from recinterpreter.adapter import AdapterConfig, build_adapter
from recinterpreter.prompts import PromptBuilder, scheme_states
from recinterpreter.interpret import generate_from_embeds
from recinterpreter.candidates import shared_prefix_len
from recinterpreter.oracle import LocalJudge, judge_validity

HERE = Path(__file__).resolve().parent

def alternate(fa, fb) -> tuple[list, list, object, object]:
    "Run fa, fb, fb, fa; return both sides' seconds and their last results."
    ta, tb, ra, rb = [], [], None, None
    for side in 'abba':
        t = time.perf_counter()
        if side == 'a': ra = fa(); ta.append(time.perf_counter() - t)
        else: rb = fb(); tb.append(time.perf_counter() - t)
    return ta, tb, ra, rb

def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--llm', default='smollm2', help="'smollm2' (default) or 'tiny' for a smoke run")
    p.add_argument('--histories', type=int, default=24, help='test histories in the judge benchmark (x 6 orders)')
    p.add_argument('--rows', type=int, default=95, help='test rows in the generation benchmark (one generate call)')
    p.add_argument('--max-new-tokens', type=int, default=40)
    p.add_argument('--out', default=str(HERE/'eval_speed.json'))
    a = p.parse_args(argv)
    seed_everything(0)
    data = load_dataset('ml100k')
    llm, tok = load_llm(a.llm)

    grouped, plain = (LocalJudge(a.llm, model=llm, tokenizer=tok, share=s) for s in (0.5, 2.0))
    jg, jp, (vg, dg), (vp, dp) = alternate(lambda: judge_validity(grouped, data, 'test', a.histories, return_judged=True),
                                           lambda: judge_validity(plain, data, 'test', a.histories, return_judged=True))
    cols = [c for c in dg if c.startswith('p_')]
    judge_diff = float(np.abs(dg[cols].to_numpy(float) - dp[cols].to_numpy(float)).max())

    rec = make_recommender('sasrec', data.n_items).freeze()
    ad = build_adapter(AdapterConfig(), rec.cfg.d, rec.cfg.L, embed_dim(llm), llm=llm).eval().requires_grad_(False)
    seq, len_seq, nxt = data.rows('test', a.rows)
    pb = PromptBuilder(tok, 'residual', data.item_noun, data.verb)
    with torch.no_grad():
        b = pb.encode(ad, llm, scheme_states('residual', rec, seq, len_seq, nxt))
    E, M = b.inputs_embeds, b.attention_mask
    gen = lambda **kw: generate_from_embeds(llm, tok, E, M, max_new_tokens=a.max_new_tokens, **kw)
    gs, gp, ts, tp = alternate(gen, lambda: gen(min_shared=10**9))
    out = dict(
        judge_ratio=round(statistics.mean(jp) / statistics.mean(jg), 2),
        judge_grouped_s=round(statistics.mean(jg), 2), judge_plain_s=round(statistics.mean(jp), 2),
        judge_prompts=len(dg), judge_max_prob_diff=judge_diff, judge_acc=(vg['acc'], vp['acc']),
        generate_ratio=round(statistics.mean(gp) / statistics.mean(gs), 2),
        generate_shared_s=round(statistics.mean(gs), 2), generate_plain_s=round(statistics.mean(gp), 2),
        generate_rows=len(E), prompt_tokens=E.shape[1], shared_tokens=shared_prefix_len(E, M),
        generate_same_texts=sum(x == y for x, y in zip(ts, tp)), max_new_tokens=a.max_new_tokens,
        llm=a.llm, threads=torch.get_num_threads())
    with atomic_write(a.out) as f: json.dump(out, f, indent=1)
    print(json.dumps(out, indent=1))
    return out

if __name__ == '__main__':
    main()
