"""The judge is validated before it is believed: letter probabilities, all 6 orders, a check with known answers,
and the OpenAI-compatible client against a real local HTTP server (malformed answers, timeouts, 4xx, 5xx)."""
import json, math, re, socket, threading, time, warnings, http.server
from collections import Counter
import numpy as np, pandas as pd, pytest
from recinterpreter.oracle import (LETTERS, SOURCES, judge_prompt, judge_options, judge_candidates, judge_summary, judge_validity,
                                   validity_questions, read_letter_probs, LocalJudge, OpenAIJudge, oracle_section)

# ---------------------------------------------------------------- fake judges
class LetterJudge:
    "The same letter probabilities for every prompt (a pure position bias)."
    name = 'letters'
    def __init__(self, p): self.p = np.asarray(p, float)
    def __call__(self, prompts, n_options=3): return np.tile(self.p[:n_options] / self.p[:n_options].sum(), (len(prompts), 1))

class TextJudge:
    "Reads the prompt; mass `p` on the candidate with the highest positive `score(history, text)`, NaN when none scores."
    name = 'text'
    def __init__(self, score, p=0.9): self.score, self.p = score, p
    def __call__(self, prompts, n_options=3):
        out = np.full((len(prompts), n_options), np.nan)
        for i, pr in enumerate(prompts):
            hist, opts = re.findall(r'^- (.*)$', pr, re.M), re.findall(r'^[A-C]\. (.*)$', pr, re.M)
            sc = [float(self.score(hist, t)) for t in opts]
            if max(sc) > 0: out[i] = (1 - self.p) / (n_options - 1); out[i, int(np.argmax(sc))] = self.p
        return out

HIST = [['Heat', 'Fargo']] * 12
CANDS = {'dreamrec': ['A dark crime drama'] * 12, 'sasrec': ['Star Wars'] * 12, 'random': ['Babe'] * 12}

@pytest.fixture(scope='module')
def ml(data_root):
    from recinterpreter.data import load_dataset
    return load_dataset('ml100k', data_root)

@pytest.fixture(scope='module')
def truth(ml):
    hist, opts = validity_questions(ml, n=30)
    return dict(zip(map(tuple, hist), opts['true']))

def fake_inst(ml, n=6):
    "An instantiation table without models: the oracle section then only grounds and judges."
    seq, len_seq, nxt = (t.numpy() for t in ml.rows('test', n))
    T, rng = ml.titles, np.random.default_rng(0)
    rnd, top = rng.integers(ml.n_items, size=n), rng.integers(ml.n_items, size=n)
    return pd.DataFrame({'sample': np.arange(n), 'history': [' | '.join(ml.history_titles(s, l)) for s, l in zip(seq, len_seq)],
                         'true next': [T[i] for i in nxt], 'sasrec top-1': [T[i] for i in top], 'dreamrec nearest': [T[i] for i in rnd],
                         'description': ['The user watched a space opera.'] * n, 'random': [T[i] for i in rnd], 'next_id': nxt,
                         'sasrec_id': top, 'nearest_id': rnd, 'random_id': rnd, 'oracle_norm': 1., 'nearest_cos': .5, 'item_norm': 1.})

# ---------------------------------------------------------------- scoring
def test_position_bias_cancels_over_all_orders():
    df = judge_candidates(LetterJudge([.98, .01, .01]), HIST, CANDS)
    assert len(df) == 72 and (df.groupby('row')['order'].nunique() == 6).all()
    s = judge_summary(df, 'letters')
    assert s['position_bias'] == {'A': 0.98, 'B': 0.01, 'C': 0.01}
    assert s['win_rate'] == s['top_share'] == {k: 0.3333 for k in SOURCES}
    assert s['win_rate_ci']['dreamrec'] == [0.3333, 0.3333] and (s['n'], s['n_judgments'], s['orderings']) == (12, 72, 6)

def test_probabilities_follow_the_source_not_the_letter():
    s = judge_summary(judge_candidates(TextJudge(lambda h, t: t == 'Babe', p=0.5), HIST, CANDS), 'text')
    assert s['win_rate'] == {'dreamrec': 0.25, 'sasrec': 0.25, 'random': 0.5} and s['top_share']['random'] == 1.0
    assert s['position_bias'] == {L: 0.3333 for L in LETTERS}
    s = judge_summary(judge_candidates(TextJudge(lambda h, t: 0), HIST, CANDS), 'text')       # unreadable: uniform, counted
    assert (s['unparsed'], s['unparsed_rate'], s['win_rate']['sasrec'], s['position_bias']) == (72, 1.0, 0.3333, None)

def test_bad_judge_output_is_an_error():
    with pytest.raises(ValueError, match='returned 1 rows for 72 prompts'): judge_options(lambda p, k: np.ones((1, k)), HIST, CANDS)
    with pytest.raises(ValueError, match='lacks'): judge_candidates(LetterJudge([1, 1, 1]), HIST, {'sasrec': CANDS['sasrec']})
    with pytest.raises(ValueError, match='12 entries'): judge_options(LetterJudge([1, 1]), HIST, {'a': ['x'] * 12, 'b': ['y']})

# ---------------------------------------------------------------- validity
def test_position_biased_judge_is_uninformative(ml):
    v = judge_validity(LetterJudge([.98, .01, .01]), ml, n=30)
    assert (v['acc'], v['acc_ci'], v['chance'], v['mean_prob'], v['informative']) == (0.3333, [0.3333, 0.3333], 0.3333, 0.3333, False)
    assert v['position_bias']['A'] == 0.98

def test_judge_that_knows_the_answer_is_informative(ml, truth):
    v = judge_validity(TextJudge(lambda h, t: truth[tuple(h)] == t), ml, n=30)
    assert (v['acc'], v['acc_ci'], v['informative'], v['unparsed'], v['n']) == (1.0, [1.0, 1.0], True, 0, 30)
    assert v['mean_prob'] == 0.9

def test_validity_questions_are_fair_and_seeded(ml):
    from recinterpreter.match import normalize
    hist, opts = validity_questions(ml, n=30, seed=3)
    for h, t, a, b in zip(hist, *opts.values()):
        assert normalize(a) != normalize(b) and not {normalize(a), normalize(b)} & {normalize(x) for x in [*h, t]}
    assert validity_questions(ml, n=30, seed=3)[1] == opts != validity_questions(ml, n=30, seed=4)[1]

def test_oracle_section_withholds_win_rates_of_an_uninformative_judge(ml, truth):
    inst = fake_inst(ml)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        j = oracle_section(ml, None, None, judge=LetterJudge([.98, .01, .01]), inst=inst, rotations=3).metrics['judge']
    assert (j['model'], j['n'], j['win_rate'], j['win_rate_ci']) == ('letters', 0, None, None)
    assert j['validity']['informative'] is False and j['validity']['acc'] == 0.3333 and 'uninformative' in j['note']
    assert j['position_bias']['A'] == 0.98
    top1 = {tuple(h.split(' | ')): t for h, t in zip(inst['history'], inst['sasrec top-1'])}
    sec = oracle_section(ml, None, None, judge=TextJudge(lambda h, t: 2 * (truth.get(tuple(h)) == t) + (top1[tuple(h)] == t)), inst=inst)
    j = sec.metrics['judge']
    assert j['validity']['informative'] and j['n'] == 6 and j['win_rate']['sasrec'] >= 0.9 - 1e-9 and 'note' not in j
    assert {'model', 'n', 'validity', 'win_rate', 'win_rate_ci', 'position_bias'} <= set(j)
    json.dumps(sec.metrics)                                                              # the metrics stay JSON-able
    assert oracle_section(ml, None, None, judge='none', inst=inst).metrics['judge'] == {
        'model': 'none', 'n': 0, 'validity': None, 'win_rate': {s: None for s in SOURCES}}

# ---------------------------------------------------------------- the local judge on the tiny LLM
def test_local_judge_letter_probabilities():
    from recinterpreter.llm import load_llm
    llm, tok = load_llm('tiny')
    j = LocalJudge('tiny', model=llm, tokenizer=tok, batch_size=3)
    ps = [judge_prompt(['Heat'] * k, [f'candidate {i} ' * k for i in range(3)]) for k in range(1, 6)]   # different lengths: padding
    P = j(ps)
    assert P.shape == (5, 3) and np.allclose(P.sum(1), 1) and (P > 0).all()
    assert len(j.letter_mass) == 5 and ((0 < j.letter_mass) & (j.letter_mass < 1)).all()
    assert np.allclose(j(ps[:1])[0], P[0], atol=1e-4) and np.allclose(j(ps[4:])[0], P[4], atol=1e-4)   # left padding changes nothing
    assert j(ps, 2).shape == (5, 2) and np.allclose(j(ps, 2).sum(1), 1) and tok.padding_side == 'right'

# ---------------------------------------------------------------- the OpenAI-compatible judge against a real server
class FakeChatServer:
    """POST /v1/chat/completions on 127.0.0.1: answers the option whose text holds MARKER, with top_logprobs.
    A tag in the prompt makes it misbehave: #malformed, #sleep (past the client timeout), #400, #500, #429,
    #flaky (one 500, then fine), #text (no logprobs), #mute (no letter anywhere)."""
    MARKER = 'ZEBRA'
    def __init__(self, sleep=1.5):
        self.hits, self.requests, self.lock = Counter(), [], threading.Lock()
        srv = self
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def reply(self, code, body, headers=()):
                b = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(code); self.send_header('Content-Type', 'application/json'); self.send_header('Content-Length', str(len(b)))
                for k, v in headers: self.send_header(k, v)
                self.end_headers(); self.wfile.write(b)
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
                if self.path != '/v1/chat/completions': return self.reply(404, {'error': {'message': f'no route {self.path}'}})
                text = body['messages'][-1]['content']
                tag = (re.findall(r'#(\w+)', text) or ['ok'])[0]
                with srv.lock: srv.hits[tag] += 1; n = srv.hits[tag]; srv.requests.append((dict(self.headers), body))
                if tag == 'malformed': return self.reply(200, '{"choices": [{"logprobs": ')
                if tag == 'sleep': time.sleep(sleep)
                if tag == '400': return self.reply(400, {'error': {'message': 'top_logprobs must be <= 5'}})
                if tag == '429': return self.reply(429, {'error': {'message': 'slow down'}}, [('Retry-After', '0')])
                if tag == '500' or (tag == 'flaky' and n == 1): return self.reply(500, {'error': {'message': 'overloaded'}})
                opts = dict(re.findall(r'^([A-C])\. (.*)$', text, re.M))
                pick = next((L for L, t in opts.items() if srv.MARKER in t), 'A')
                o = [L for L in opts if L != pick]
                top = [{'token': pick, 'logprob': math.log(.6)}, {'token': o[0], 'logprob': math.log(.2)}, {'token': ' ' + pick, 'logprob': math.log(.1)},
                       {'token': 'The', 'logprob': math.log(.05)}, {'token': o[1], 'logprob': math.log(.05)}]
                if tag == 'mute': top, pick = [{'token': 'I', 'logprob': -.1}], 'I am not sure.'
                lp = None if tag == 'text' else {'content': [{'token': pick, 'logprob': top[0]['logprob'], 'top_logprobs': top}]}
                self.reply(200, {'id': 'x', 'object': 'chat.completion', 'choices': [{'index': 0, 'logprobs': lp, 'finish_reason': 'length',
                           'message': {'role': 'assistant', 'content': f'The answer is {pick}' if tag == 'text' else pick}}]})
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads, self.httpd.handle_error = True, lambda *a: None   # a client that timed out is no server error
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}/v1'
    def close(self): self.httpd.shutdown(); self.httpd.server_close()

@pytest.fixture
def server():
    s = FakeChatServer(); yield s; s.close()

def client(url, **kw): return OpenAIJudge(url, 'sk-test', 'fake-model', **{'timeout': 0.5, 'retries': 2, 'backoff': 0.01, **kw})

def test_openai_reads_letter_probabilities(server):
    for pos in range(3):
        opts = ['Heat', 'Fargo', 'Babe']; opts[pos] += ' ' + server.MARKER
        P = client(server.url)([judge_prompt(['Jaws'], opts)])
        o, want = [i for i in range(3) if i != pos], np.zeros(3)
        want[pos], want[o[0]], want[o[1]] = .7, .2, .05                                   # what the server puts in top_logprobs
        assert np.allclose(P[0], want / .95)                                              # 'X' and ' X' summed, renormalised
    hdr, body = server.requests[0]
    assert hdr['Authorization'] == 'Bearer sk-test'
    assert {k: body[k] for k in ('model', 'max_tokens', 'logprobs', 'top_logprobs', 'temperature')} == {
        'model': 'fake-model', 'max_tokens': 1, 'logprobs': True, 'top_logprobs': 5, 'temperature': 0}

def test_openai_judge_in_all_orders(server):
    cands = {**CANDS, 'sasrec': [f'Star Wars {server.MARKER}'] * 12}
    s = judge_summary(judge_candidates(client(server.url, workers=8), HIST, cands), 'fake')
    assert s['win_rate']['sasrec'] == round(.7 / .95, 4) and s['top_share']['sasrec'] == 1.0 and s['unparsed'] == 0
    assert server.hits['ok'] == 72

def test_openai_failures_are_retried_counted_and_never_abort(server):
    tags = ['ok', 'text', 'mute', 'flaky', 'malformed', 'sleep', '500', '429', '400']
    j = client(server.url)
    t0 = time.time()
    with pytest.warns(UserWarning, match=r'6 of 9 prompts unparsed') as w:
        P = j([judge_prompt([f'#{t}'], ['Heat', f'Fargo {server.MARKER}', 'Babe']) for t in tags])
    assert time.time() - t0 < 10
    assert np.allclose(P[0], [.2 / .95, .7 / .95, .05 / .95]) and np.array_equal(P[1], [0, 1, 0]) and np.allclose(P[3], P[0])
    assert np.isnan(P[[2, 4, 5, 6, 7, 8]]).all() and np.isfinite(P[[0, 1, 3]]).all()
    assert {t: server.hits[t] for t in tags} == {'ok': 1, 'text': 1, 'mute': 1, 'flaky': 2,          # one 500, then an answer
                                                 'malformed': 3, 'sleep': 3, '500': 3, '429': 3,   # retried: 1 + retries attempts
                                                 '400': 1}                                         # a client error: never retried
    st = dict(zip(tags, j.status))
    assert st['ok'] == st['flaky'] == 'logprobs' and st['text'] == 'text' and st['mute'].startswith('unparsed answer')
    assert 'gave up after 3 attempts: malformed JSON' in st['malformed'] and 'timeout' in st['sleep']
    assert 'HTTP 500' in st['500'] and 'HTTP 429' in st['429']
    assert st['400'].startswith('HTTP 400') and 'top_logprobs must be <= 5' in st['400'] and 'fake-model' in st['400']
    assert "'HTTP 400': 1" in str(w[0].message) and "'timeout': 1" in str(w[0].message)
    # the scorer turns the failures into uniform, counted judgments
    with pytest.warns(UserWarning, match='4 of 4 prompts'):
        df = judge_options(client(server.url, retries=0), [['#500']] * 2, {'a': ['x'] * 2, 'b': ['y'] * 2})
    s = judge_summary(df, 'fake', keys=('a', 'b'))
    assert (s['unparsed'], s['win_rate']) == (4, {'a': 0.5, 'b': 0.5})

def test_openai_wrong_route_and_no_server(server):
    j = client(server.url.removesuffix('/v1') + '/api')
    with pytest.warns(UserWarning, match='HTTP 404'): assert np.isnan(j(['#ok A. x']))[0].all()
    assert not server.hits                                                              # a 404 is not retried
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]   # nothing listens there now
    j = client(f'http://127.0.0.1:{port}/v1', retries=1)
    with pytest.warns(UserWarning, match='ConnectionRefusedError'): P = j(['a', 'b'])
    assert np.isnan(P).all() and all('gave up after 2 attempts' in s for s in j.status)

@pytest.mark.parametrize('res,want,how', [
    ({'choices': [{'logprobs': {'content': [{'top_logprobs': [{'token': ' C', 'logprob': 0.}]}]}}]}, [0, 0, 1], 'logprobs'),
    ({'choices': [{'logprobs': {'content': [{'top_logprobs': [{'token': 'b', 'logprob': math.log(.5)}, {'token': '(A', 'logprob': math.log(.5)}]}]}}]}, [.5, .5, 0], 'logprobs'),
    ({'choices': [{'logprobs': None, 'message': {'content': 'Option B'}}]}, [0, 1, 0], 'text'),
    ({'choices': [{'logprobs': {'content': []}, 'message': {'content': 'The answer is (c).'}}]}, [0, 0, 1], 'text'),
    ({'choices': [{'logprobs': {'content': [{'top_logprobs': [{'token': 'D', 'logprob': 0.}]}]}, 'message': {'content': 'D'}}]}, None, 'unparsed answer'),
    ({'error': 'quota'}, None, 'unreadable response'), ({'choices': []}, None, 'unreadable response'), ([], None, 'unreadable response'),
])
def test_read_letter_probs(res, want, how):
    p, h = read_letter_probs(res, 3)
    assert h.startswith(how) and (p is None if want is None else np.allclose(p, want))
