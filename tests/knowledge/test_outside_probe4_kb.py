"""``KnowledgeBase.import_`` checks the file before it opens ``into``, and names a folder as a folder
(outside probe 4: a refused import left an empty ``into`` store behind; a folder was "no such file")."""
import pytest

import nasbook
from nasbook import KnowledgeBase
from nasbook.tasks import NasBenchGraph


def test_a_refused_import_creates_no_store(tmp_path):
    db = tmp_path / "kb.db"
    kb = KnowledgeBase(str(db))
    nasbook.Search(NasBenchGraph("cora"), strategy="random", budget=3, seed=438, kb=kb, storage=str(db), name="c").run(progress="none")
    for source in (tmp_path / "missing.parquet", tmp_path, db):  # missing, a folder, a SQLite file
        into = tmp_path / "new.db"
        with pytest.raises(nasbook.NasbookError):
            KnowledgeBase.import_(source, into=str(into))
        assert not into.exists()
    f = kb.export(tmp_path / "kb.parquet")
    assert KnowledgeBase.import_(f, into=str(tmp_path / "new.db")).trials().shape == kb.trials().shape


def test_a_folder_is_named_a_folder_and_a_knowledge_base_as_into_points_to_import_parquet(tmp_path):
    with pytest.raises(nasbook.InvalidParameterError, match="is a folder"):
        KnowledgeBase.import_(tmp_path)
    with pytest.raises(nasbook.InvalidParameterError, match="is a folder"):
        KnowledgeBase(":memory:").import_parquet(tmp_path)
    with pytest.raises(nasbook.InvalidParameterError, match=r"import_\(into=...\).*import_parquet"):
        KnowledgeBase.import_(tmp_path / "kb.parquet", into=KnowledgeBase(":memory:"))
