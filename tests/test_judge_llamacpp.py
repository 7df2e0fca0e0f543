"""The `openai` judge against a real OpenAI-compatible server: llama-cpp-python's, serving the embedded SmolLM2 GGUF
on 127.0.0.1. Marker `llamacpp`, not in `make test`: llama-cpp-python has no prebuilt wheel here and compiles from
source (~14 min once), so `make test-llamacpp` (run by `.ci/run` after `make test`) installs it; skipped without it."""
import os, socket, subprocess, sys, time, urllib.request
import numpy as np, pytest

pytestmark = pytest.mark.llamacpp
llama_server = pytest.importorskip('llama_cpp.server', reason='llama-cpp-python[server] is not installed (optional)')

def free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='module')
def server(tmp_path_factory):
    from recinterpreter.llm import smollm2_gguf
    port, log = free_port(), tmp_path_factory.mktemp('llama')/'server.log'
    err = open(log, 'wb')                                  # a file, not a pipe: llama.cpp logs a lot while loading
    proc = subprocess.Popen([sys.executable, '-m', 'llama_cpp.server', '--model', str(smollm2_gguf()), '--host', '127.0.0.1',
                             '--port', str(port), '--n_ctx', '2048', '--model_alias', 'smollm2', '--n_threads', '2'],
                            stdout=err, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}/v1'
    for _ in range(240):                                   # model load: a few seconds
        if proc.poll() is not None: pytest.fail(f'llama_cpp.server exited: {log.read_text(errors="replace")[-2000:]}')
        try: urllib.request.urlopen(url + '/models', timeout=1); break
        except OSError: time.sleep(0.5)
    else: proc.kill(); pytest.fail(f'llama_cpp.server did not answer in 120 s: {log.read_text(errors="replace")[-2000:]}')
    yield url
    proc.terminate(); proc.wait(10); err.close()

def test_openai_judge_on_llama_cpp_server(server, data_root):
    from recinterpreter.data import load_dataset
    from recinterpreter.oracle import OpenAIJudge, judge_validity
    judge = OpenAIJudge(server, 'no-key', 'smollm2', timeout=60, retries=1, workers=2)
    P = judge(['Answer with one letter.\nWhich is a fruit?\nA. apple\nB. car\nC. chair\nAnswer:'] * 2)
    assert P.shape == (2, 3) and np.isfinite(P).all() and np.allclose(P.sum(1), 1, atol=1e-4)
    assert judge.status == ['logprobs', 'logprobs']        # read from the letters' log-probabilities, not from text
    v = judge_validity(judge, load_dataset('ml100k', data_root), n=10)
    assert v['n'] == 10 and v['unparsed'] == 0 and 0 <= v['acc'] <= 1 and v['acc_ci'][0] <= v['acc'] <= v['acc_ci'][1]
    assert abs(sum(v['position_bias'].values()) - 1) < 1e-3
