import pytest

from nasbook import display
from nasbook._errors import InvalidParameterError
from nasbook._options import get_options, set_options
from nasbook.space import ChainSpace


@pytest.fixture
def arch():
    return ChainSpace(kind="mlp").make(layers=[["relu", 32], ["gelu", 64]])


def test_defaults():
    assert get_options() == {"display_style": "html", "display_max_rows": 20, "stop_after_failures": 5, "cache_dir": None, "cache_max_bytes": None}


def test_get_options_is_a_copy():
    opts = get_options()
    opts["display_style"] = "text"
    assert get_options()["display_style"] == "html"


def test_text_style_gives_text_only_and_the_context_manager_restores(arch):
    assert set(arch._repr_mimebundle_()) == {"text/plain", "text/html"}
    with set_options(display_style="text", display_max_rows=3) as opts:
        assert get_options() == {"display_style": "text", "display_max_rows": 3, "stop_after_failures": 5, "cache_dir": None, "cache_max_bytes": None}
        assert arch._repr_mimebundle_() == {"text/plain": display.architecture_text(arch)}
        assert set(display.repr_mimebundle(ChainSpace())) == {"text/plain"}
        assert "display_style='text'" in repr(opts)
    assert get_options() == {"display_style": "html", "display_max_rows": 20, "stop_after_failures": 5, "cache_dir": None, "cache_max_bytes": None}
    assert set(arch._repr_mimebundle_()) == {"text/plain", "text/html"}


def test_the_context_manager_restores_after_an_error():
    with pytest.raises(RuntimeError), set_options(display_max_rows=2):
        raise RuntimeError
    assert get_options()["display_max_rows"] == 20


def test_nested_blocks_restore_in_order():
    with set_options(display_max_rows=5):
        with set_options(display_max_rows=7):
            assert get_options()["display_max_rows"] == 7
        assert get_options()["display_max_rows"] == 5
    assert get_options()["display_max_rows"] == 20


def test_setting_for_the_session():
    set_options(display_style="text")
    assert get_options()["display_style"] == "text"
    set_options(display_style="html")
    assert get_options()["display_style"] == "html"


def test_unknown_option_names_the_choices():
    with pytest.raises(InvalidParameterError) as info:
        set_options(display_styel="text")
    msg = str(info.value)
    assert "'display_styel'" in msg
    assert "'display_max_rows', 'display_style'" in msg
    assert "did you mean 'display_style'" in msg


@pytest.mark.parametrize("value", ["htm", "HTML", None, 1])
def test_bad_display_style(value):
    with pytest.raises(InvalidParameterError) as info:
        set_options(display_style=value)
    msg = str(info.value)
    assert "display_style" in msg and "'html', 'text'" in msg and repr(value) in msg
    if value == "htm":
        assert "did you mean 'html'" in msg


@pytest.mark.parametrize("value", [0, -3, True, 2.5, "10", None])
def test_bad_display_max_rows(value):
    with pytest.raises(InvalidParameterError) as info:
        set_options(display_max_rows=value)
    msg = str(info.value)
    assert "display_max_rows" in msg and "int >= 1" in msg and repr(value) in msg


def test_a_bad_value_changes_nothing():
    with pytest.raises(InvalidParameterError):
        set_options(display_max_rows=5, display_style="nope")
    assert get_options() == {"display_style": "html", "display_max_rows": 20, "stop_after_failures": 5, "cache_dir": None, "cache_max_bytes": None}


def test_numpy_scalars_are_accepted_as_the_plain_values_they_hold():
    import numpy as np

    with set_options(display_max_rows=np.int64(7), stop_after_failures=np.uint8(0), display_style=np.str_("text")):
        opts = get_options()
        assert opts == {"display_style": "text", "display_max_rows": 7, "stop_after_failures": 0, "cache_dir": None, "cache_max_bytes": None}
        assert type(opts["display_max_rows"]) is int and type(opts["display_style"]) is str
    for bad in (np.float64("nan"), np.bool_(True), np.float64(3.0)):
        with pytest.raises(InvalidParameterError, match=r"set_options\(display_max_rows=\.\.\.\) must be an int >= 1; got"):
            set_options(display_max_rows=bad)
