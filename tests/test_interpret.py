"Fast checks of title matching, answer parsing and the judges' configuration errors (no models, no data)."
import numpy as np, pytest
from recinterpreter.match import TitleMatcher, normalize, answer_part
from recinterpreter.scores import recovery_scores, residual_scores
from recinterpreter.oracle import parse_choice, make_judge, OPENAI_VARS

CATALOG = ['Heat', 'In the Heat of the Night', 'Heathers', 'The Usual Suspects', 'Seven (Se7en)', 'Nikita (La Femme Nikita)',
           'Shall We Dance?', 'Shall We Dance?', 'Love and a .45', 'Soundodger+', 'L.A. Confidential', 'When Harry Met Sally...',
           'LEGO® Star Wars™ - The Complete Saga', "Where's My Mommy?"]

@pytest.fixture(scope='module')
def m(): return TitleMatcher(CATALOG)

@pytest.mark.parametrize('text,want', [
    ('In the Heat of the Night', [1]),                 # longest match, not 'Heat'
    ('Heat, then In the Heat of the Night', [0, 1]),
    ('heathers', [2]),                                 # word boundaries
    ('the usual suspects', [3]), ('Usual Suspects', [3]),
    ('se7en and la femme nikita', [4, 5]),             # alternative titles
    ('shall we dance', [6, 7]),                        # duplicates: both ids
    ('love and a 45', [8]), ('soundodger +', [9]), ('LA Confidential', [10]), ('when harry met sally', [11]),
    ('lego star wars the complete saga', [12]), ('wheres my mommy', [13]),
    ('(?+.*[', []), ('', []),                          # regex metacharacters are just text
])
def test_find(m, text, want): assert m.find(text) == want

def test_closest_is_grounded(m):
    assert m.closest('The Usual Suspect') == 3 and m.closest('Se7en and Heat') == 4
    assert m.closest('Shall We Dance?') == 6          # canonical id of a duplicated title

def test_scores_bad_input(m):
    with pytest.raises(ValueError, match='same length'): recovery_scores(['a'], np.zeros((2, 3), int), [1, 1], m)
    with pytest.raises(ValueError, match='same length'): residual_scores(['a', 'b'], [1], m)
    with pytest.raises(ValueError, match='titles is empty'): TitleMatcher([])

def test_answer_part():
    assert answer_part('The user watched Heat.', 'residual') == 'heat'
    assert answer_part('This user has played Portal, DOOM in the previous.', 'recovery', 'game', 'played') == 'portal doom'

@pytest.mark.parametrize('ans,want', [('A', 0), ('b)', 1), ('(C)', 2), ('Option B', 1), ('The answer is (c).', 2), ('2', 1),
                                      ('**A**', 0), ('A good choice is C', 2), ('A or B', None), ('D', None), ('', None),
                                      (None, None), ('no idea', None), ('Babe', 2), ('<|im_end|>', None)])
def test_parse_choice(ans, want): assert parse_choice(ans, 3, ['Star Wars', 'Fargo', 'Babe']) == want

def test_openai_judge_needs_variables(monkeypatch):
    for k in OPENAI_VARS: monkeypatch.delenv(k, raising=False)
    with pytest.raises(RuntimeError, match='OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL'): make_judge('openai')
    monkeypatch.setenv('OPENAI_MODEL', 'x')
    with pytest.raises(RuntimeError, match='unset: OPENAI_BASE_URL, OPENAI_API_KEY'): make_judge('openai')
    with pytest.raises(ValueError, match="'local', 'openai' or 'none'"): make_judge('chatgpt')
