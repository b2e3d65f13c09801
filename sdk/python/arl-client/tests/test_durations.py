import pytest

from arl_client.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("1m30s", 90.0), ("500ms", 0.5), ("2h", 7200.0), ("1.5s", 1.5), ("0", 0.0),
     ("100us", 1e-4), (" 10s ", 10.0), (12, 12.0), (0.25, 0.25)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "30", "s", "10x", "1m 30s", "-5s", -1, True, None, "30s5"])
def test_parse_duration_rejects(bad):
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(bad)


@pytest.mark.parametrize(("value", "text"), [("30s", "30s"), (45, "45s"), (2.5, "2500ms"), ("1m", "1m")])
def test_format_duration(value, text):
    assert format_duration(value) == text
