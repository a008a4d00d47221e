"""What a Storage is given: paths, URLs and drivers, with errors that name the value and say what to do."""

import pickle
import sys

import pytest

import nasbook
from nasbook._errors import InvalidParameterError, StorageError
from nasbook.storage import Storage, open_storage

SECRET = "s3cr3t-pw"


def test_a_directory_is_refused_as_a_path_and_as_a_url(tmp_path):
    for given in (tmp_path, str(tmp_path), f"sqlite:///{tmp_path}"):
        with pytest.raises(InvalidParameterError, match=r"is a directory; give a file path such as") as info:
            Storage(given)
        assert str(tmp_path) in str(info.value)


def test_a_missing_parent_folder_is_named_and_nothing_is_created(tmp_path):
    for given in (tmp_path / "no" / "such" / "x.db", f"sqlite:///{tmp_path / 'no' / 'x.db'}"):
        with pytest.raises(StorageError, match=r"the folder '.*no.*' does not exist"):
            Storage(given)
    assert list(tmp_path.iterdir()) == []


def test_create_false_never_makes_a_file(tmp_path):
    path = tmp_path / "typo.db"
    for given in (path, f"sqlite:///{path}"):
        with pytest.raises(StorageError, match=r"does not exist.*typo\.db.*nothing was created"):
            Storage(given, create=False)
        with pytest.raises(StorageError, match="does not exist"):
            open_storage(given, create=False)
    assert not path.exists()
    Storage(tmp_path / "real.db").close()
    Storage(tmp_path / "real.db", create=False).close()
    Storage(":memory:", create=False).close()


@pytest.mark.parametrize("url", ["tcp://127.0.0.1:9/x", "nosuchdialect://x", "://nothing", "postgresql://u@h:notaport/db"])
def test_a_url_nonsense_is_refused_by_name(url):
    with pytest.raises(InvalidParameterError, match="is not a usable database URL") as info:
        Storage(url)
    assert info.value.__cause__ is None
    assert "sqlite:///runs.db" in str(info.value)  # says what would work


@pytest.mark.parametrize(
    ("url", "module", "install"),
    [
        (f"postgresql://user:{SECRET}@db.example/runs", "psycopg", 'pip install "psycopg[binary]"'),
        (f"postgresql+psycopg2://user:{SECRET}@db.example/runs", "psycopg2", "pip install psycopg2-binary"),
        (f"mysql+pymysql://user:{SECRET}@db.example/runs", "pymysql", "pip install pymysql"),
        (f"mysql://user:{SECRET}@db.example/runs", "MySQLdb", "pip install mysqlclient (or, without a C compiler: pip install pymysql"),
    ],
)
def test_a_missing_database_driver_says_what_to_install(monkeypatch, url, module, install):
    monkeypatch.setitem(sys.modules, module, None)  # importing it fails, installed or not
    with pytest.raises(StorageError, match="needs the database driver") as info:
        Storage(url)
    msg = str(info.value)
    assert install in msg
    assert SECRET not in msg and "user:***@db.example" in msg
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no NoSuchModuleError traceback


def test_a_password_never_shows(monkeypatch):
    from nasbook.storage._engine import resolve

    target = resolve(f"postgresql://user:{SECRET}@db.example:5432/runs", create=True)
    assert SECRET not in target.label and "***" in target.label
    assert target.scrub(f"FATAL: password {SECRET} rejected") == "FATAL: password *** rejected"
    with pytest.raises(InvalidParameterError) as info:
        Storage(f"postgresql://user:{SECRET}@db.example:notaport/runs")
    assert SECRET not in str(info.value)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StorageError) as info2:
        nasbook.Search(nasbook.tasks.NasBenchGraph("cora"), budget=1, storage=f"postgresql://user:{SECRET}@h/db")
    assert SECRET not in str(info2.value) and SECRET not in repr(info2.value)


def test_label_repr_and_pickling(tmp_path):
    st = Storage(tmp_path / "a.db")
    assert st.label == str(tmp_path / "a.db") and repr(st) == f"Storage({str(tmp_path / 'a.db')!r})"
    sid = st.create_search("s", {"k": 1})
    clone = pickle.loads(pickle.dumps(st))
    assert clone.get_search("s").id == sid
    clone.close()
    st.close()
    mem = Storage(":memory:")
    assert mem.label == ":memory:" and repr(mem) == "Storage(':memory:')"
    url = Storage(f"sqlite:///{tmp_path / 'b.db'}")
    assert url.label == f"sqlite:///{tmp_path / 'b.db'}"
    url.close()


def test_bad_argument_types():
    for bad in (None, 42, "", b"x.db"):
        with pytest.raises(InvalidParameterError):
            Storage(bad)
    st = Storage(":memory:")
    with pytest.raises(InvalidParameterError, match="config must be a dict"):
        st.create_search("s", ["not", "a", "dict"])
    with pytest.raises(InvalidParameterError, match="non-empty string"):
        st.create_search("", {})
    with pytest.raises(InvalidParameterError, match="cannot be stored as JSON"):
        st.create_search("t", {"f": object()})
    assert st.search_names() == []
