from chalicelib.core.audit import MASK, diff


def test_diff_lists_only_changed_fields():
    assert diff({"a": 1, "b": 2}, {"a": 1, "b": 3}) == {"b": {"before": 2, "after": 3}}


def test_phi_values_are_masked_but_the_change_is_recorded():
    d = diff({"national_id": "12345678Z", "name": "Ana"}, {"national_id": "X1234567L"})
    assert d["national_id"] == {"before": MASK, "after": MASK}
    assert d["name"] == {"before": "Ana", "after": None}


def test_new_sensitive_value_is_masked():
    assert diff(None, {"password_hash": "x"}) == {"password_hash": {"before": None, "after": MASK}}
