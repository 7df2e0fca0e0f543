import os, pathlib, pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: long-running test (still run by `make test`; deselect with -m "not slow")')
    config.addinivalue_line('markers', 'llamacpp: needs the optional llama-cpp-python server (`pip install '
                            '"llama-cpp-python[server]"`, compiled from source); skipped when it is not installed')

@pytest.fixture(scope='session')
def data_root():
    r = os.environ.get('RECINTERPRETER_DATA')
    if not r or not pathlib.Path(r).is_dir():
        pytest.fail('set RECINTERPRETER_DATA to the reference data (CI: ../shared/data)')
    return pathlib.Path(r).resolve()

@pytest.fixture
def cache(tmp_path, monkeypatch):
    "An empty cache root for one test (RECINTERPRETER_CACHE), so nothing trained elsewhere is reused."
    monkeypatch.setenv('RECINTERPRETER_CACHE', str(tmp_path / 'cache'))
    return tmp_path / 'cache'
