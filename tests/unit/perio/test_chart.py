"""The chart's rules without storage: indices against a hand-computed fixture, the comparison
and the checks across fields."""

from __future__ import annotations

from chalicelib.perio import chart
from chalicelib.timeline import catalog

# Tooth 16: PD 3 2 5 / 4 3 6, GM 0 1 2 / 0 0 1 -> CAL 3 3 7 / 4 3 7; BOP MB DB DL; plaque DB L;
# suppuration DL. Tooth 11: three sites probed, PD 2 1 2, GM 0 2 0 -> CAL 2 3 2; BOP B.
# 26 missing, 36 implant: out of every index.
TEETH = {
    "16": {
        "state": "present",
        "sites": {
            "MB": {"pd": 3, "gm": 0, "bop": True},
            "B": {"pd": 2, "gm": 1},
            "DB": {"pd": 5, "gm": 2, "bop": True, "plaque": True},
            "ML": {"pd": 4, "gm": 0},
            "L": {"pd": 3, "gm": 0, "plaque": True},
            "DL": {"pd": 6, "gm": 1, "bop": True, "sup": True},
        },
    },
    "11": {"sites": {"MB": {"pd": 2}, "B": {"pd": 1, "gm": 2, "bop": True}, "DB": {"pd": 2}}},
    "26": {"state": "missing"},
    "36": {"state": "implant"},
    "46": {"sites": {"B": {"bop": True}}},  # no depth: not examined, its bleeding not counted
}


def test_indices_by_hand():
    ix = chart.indices(TEETH)
    assert ix["sites_examined"] == 9  # 6 + 3
    assert ix["teeth_examined"] == 2
    assert (ix["teeth_missing"], ix["implants"]) == (1, 1)
    assert ix["bop_sites"] == 4 and ix["bop_percent"] == 44.4  # 4/9
    assert ix["plaque_sites"] == 2 and ix["plaque_percent"] == 22.2  # 2/9
    assert ix["suppuration_sites"] == 1
    assert (ix["sites_pd_ge4"], ix["sites_pd_ge6"]) == (3, 1)  # 5, 4, 6 / 6
    assert ix["mean_pd"] == 3.11  # 28/9
    assert ix["mean_cal"] == 3.78  # 34/9


def test_no_sites_no_percentages():
    ix = chart.indices({"16": {"state": "missing"}})
    assert ix["sites_examined"] == 0
    assert ix["bop_percent"] is None and ix["mean_pd"] is None


def test_sites_are_in_chart_order():
    order = [(t, s) for t, s, _ in chart.examined_sites(TEETH)]
    assert order[:3] == [("11", "MB"), ("11", "B"), ("11", "DB")]
    assert [s for t, s in order if t == "16"] == list(chart.SITES)


def test_change_threshold_is_two_millimetres():
    assert [chart.change(d) for d in (-3, -2, -1, 0, 1, 2, 3)] == [
        "improved",
        "improved",
        "stable",
        "stable",
        "stable",
        "worse",
        "worse",
    ]


def test_compare_only_sites_probed_in_both():
    later = {"16": {"sites": {"DB": {"pd": 3, "gm": 2}, "DL": {"pd": 8, "gm": 1}}}}
    c = chart.compare(TEETH, later)
    assert [(s["tooth"], s["site"], s["pd_delta"], s["change"]) for s in c["sites"]] == [
        ("16", "DB", -2, "improved"),
        ("16", "DL", 2, "worse"),
    ]
    assert c["index_deltas"]["bop_percent"] == round(0 - 44.4, 2)
    assert c["index_deltas"]["sites_pd_ge6"] == 0


def test_problems_name_tooth_and_site():
    errs = chart.problems(
        {
            "11": {"state": "present", "furcation": 1},
            "26": {"state": "missing", "sites": {"MB": {"pd": 3}}},
            "21": {"state": "present", "sites": {"L": {"pd": 2, "gm": -3}}},
            "46": {"state": "present", "furcation": 2, "sites": {"B": {"pd": 2, "gm": -2}}},
        }
    )
    assert [e["field"] for e in errs] == [
        "teeth.11.furcation",
        "teeth.26.sites",
        "teeth.21.sites.L.pd",
    ]


def test_the_timeline_keeps_the_exam_ids_only():
    payload = {"exam_id": "E", "patient_id": "P", "appointment_id": None, "amends": None}
    assert catalog.shown("perio.exam_completed", {**payload, "bop_percent": 40}) == payload
