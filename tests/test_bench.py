"""Smoke runs of the benchmarks on the CPU with the tiny LLM: they must run from a clean clone and report sane figures.

The figures themselves (SmolLM2 ratios, MFU) come from `make bench`; these tests check the scripts' logic and output."""
import importlib.util, json, math, sys
from pathlib import Path
import pytest

BENCH = Path(__file__).resolve().parent.parent/'bench'

def _load(name):
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f'bench_{name}', BENCH/f'{name}.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

def test_gpu_script_on_cpu(data_root, tmp_path):
    "The paper-preset GPU script, on the CPU with a tiny budget: both schemes train, generate and are written out."
    out = _load('gpu').main(['--device', 'cpu', '--llm', 'tiny', '--steps', '2', '--gen-batch', '3', '--max-new-tokens', '4',
                             '--out', str(tmp_path/'gpu.json')])
    assert json.loads((tmp_path/'gpu.json').read_text()) == json.loads(json.dumps(out))
    assert out['device'] == 'cpu' and out['preset'] == 'paper' and out['batch_size'] == 16 and out['adapter']['kind'] == 'conv'
    assert set(out['schemes']) == {'recovery', 'residual'}
    for r in out['schemes'].values():
        assert r['steps'] == 2 and r['target_tok_s'] > 0 and r['gen_prompts'] == 3 and r['gen_seq_s'] > 0
        assert math.isfinite(r['first_val_loss']) and math.isfinite(r['last_val_loss'])
        assert 0 < r['mfu'] < 1 and r['llm_tokens_per_target'] > 1
        assert r['attn'] == 'eager'                        # TrainConfig.attn='auto' trains with eager attention on CPU

def test_cpu_bench_smoke(data_root, tmp_path):
    "`make bench` logic with the tiny LLM: both training paths compute the same first loss; batched = single generation."
    out = _load('run').main(['--llm', 'tiny', '--steps', '1', '--gen-batch', '4', '--max-new-tokens', '4', '--matmul-n', '512',
                             '--out', str(tmp_path/'b.json')])
    for k in ('train_ratio', 'generate_ratio', 'mfu', 'train_ratio_same_llm'): assert out[k] > 0, k
    assert out['first_step_loss_match'] and abs(out['first_step_loss']['batched'] - out['first_step_loss']['reader']) < 1e-4
    assert out['gen']['same_texts'] == 4
    assert out['cand_ratio'] > 0 and out['cand']['rows'] * out['cand']['per_row'] == 8 * 20
    assert out['cand']['max_gap_diff'] < 1e-2 and out['cand']['same_top1'] == 1.0   # the same ranks both ways
    assert out['cand_ratio_repeated'] > 0 and out['cand']['repeated_max_diff'] < 1e-2  # packing scores what the repeated cache scored
    assert out['train_batched']['target_tokens'] == out['train_loop']['target_tokens'] == out['train_loop_same']['target_tokens']

def test_eval_speed_smoke(data_root, tmp_path):
    "bench/eval_speed.py with the tiny LLM: the shared-prefix judge and generation give what the plain passes give."
    out = _load('eval_speed').main(['--llm', 'tiny', '--histories', '3', '--rows', '5', '--max-new-tokens', '4',
                                    '--out', str(tmp_path/'e.json')])
    assert json.loads((tmp_path/'e.json').read_text()) == json.loads(json.dumps(out))
    assert out['judge_prompts'] == 18 and out['judge_max_prob_diff'] < 1e-4 and out['judge_acc'][0] == out['judge_acc'][1]
    assert out['generate_rows'] == 5 and out['generate_same_texts'] == 5
    assert 0 < out['shared_tokens'] < out['prompt_tokens']     # the residual prompt's preamble, before the first soft token
    assert out['judge_ratio'] > 0 and out['generate_ratio'] > 0

def test_make_train_time_summary(tmp_path):
    "bench/make_train_time.py reads /usr/bin/time -v's report and the clone's MANIFEST into the figures it prints."
    mt = _load('make_train_time')
    tv = ('\tCommand being timed: "make train DATASET=ml100k JOBS=2"\n\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:25:11.43\n'
          '\tMaximum resident set size (kbytes): 6041600\n\tExit status: 0\n')
    assert mt.time_v_fields(tv) == {'wall_s': 5111.4, 'peak_rss_mb': 5900.0, 'exit_status': 0}
    assert mt.time_v_fields('\tElapsed (wall clock) time (h:mm:ss or m:ss): 2:03.5\n')['wall_s'] == 123.5
    assert mt.time_v_fields('') == {'wall_s': None, 'peak_rss_mb': None, 'exit_status': None}
    work = tmp_path/'w'; (work/'repo'/'checkpoints'/'ml100k').mkdir(parents=True)
    (work/'time-v.txt').write_text(tv)
    one = next((BENCH.parent/'checkpoints'/'ml100k'/'recommenders').iterdir()).name   # a committed run's folder
    for run in (f'recommenders/{one}', 'recommenders/x-000000000000', 'adapters/residual/y-000000000000'):
        (work/'repo'/'checkpoints'/'ml100k'/run).mkdir(parents=True)
    made = {'runs': {}, 'timing': {'last_run_recommenders_s': 165.04, 'last_run_decoders_s': 601.0,
                                   'last_run_adapters_s': 4243.0, 'last_run_total_s': 5010.0}}
    (work/'repo'/'checkpoints'/'ml100k'/'MANIFEST.json').write_text(json.dumps(made))
    res = mt.summarise(work, 'ml100k')
    assert res['wall_s'] == 5111.4 and res['recommenders_s'] == 165.0 and res['make_train_total_s'] == 5010.0
    assert res['install_and_overhead_s'] == 101.4
    assert res['runs'] == {'adapter': {'made': 1, 'same_key': 0}, 'decoder': {'made': 0, 'same_key': 0},
                           'recommender': {'made': 2, 'same_key': 1}}
