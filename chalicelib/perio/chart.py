"""The periodontal chart's rules, without storage: teeth and sites, validation across fields,
the indices and the comparison of two exams (ADR 0621).

A chart is ``{"<FDI tooth>": {"state", "mobility", "furcation", "sites": {"<site>": {...}}}}``:
permanent teeth only (ISO 3950 two-digit numbers 11-18, 21-28, 31-38, 41-48); six sites per
tooth in the fixed order MB, B, DB, ML, L, DL (mesio-, mid- and disto-buccal, then mesio-,
mid- and disto-lingual/palatal); each site ``pd`` (probing depth, mm), ``gm`` (gingival margin,
mm from the cemento-enamel junction, recession positive, so CAL = PD + GM), ``bop``, ``sup``,
``plaque``. A tooth that is missing or an implant carries no values and is left out of every
index.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.i18n import Text, tr

SITES = ("MB", "B", "DB", "ML", "L", "DL")
BUCCAL = SITES[:3]
LINGUAL = SITES[3:]
TEETH = tuple(f"{q}{n}" for q in (1, 2, 3, 4) for n in range(1, 9))
# Furcations exist on the multi-rooted teeth: molars, and the upper first premolars (two roots).
MULTI_ROOTED = frozenset({f"{q}{n}" for q in (1, 2, 3, 4) for n in (6, 7, 8)} | {"14", "24"})
STATES = ("present", "missing", "implant")
PD_MAX = 15  # a UNC-15 probe reads up to 15 mm
GM_MIN, GM_MAX = -10, 15
CHANGE_MM = 2  # a change of 2 mm or more is beyond probing error (about ±1 mm)

SITE_NAMES = {
    "MB": ("mesiobuccal", "mesiovestibular"),
    "B": ("buccal", "vestibular"),
    "DB": ("distobuccal", "distovestibular"),
    "ML": ("mesiolingual", "mesiolingual/palatino"),
    "L": ("lingual", "lingual/palatino"),
    "DL": ("distolingual", "distolingual/palatino"),
}


def problems(teeth: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """What the field ranges alone do not catch, as ``errors[]`` entries naming the tooth and
    the site: values on a missing tooth or an implant, furcation on a single-rooted tooth, and
    a probing depth that would end coronal to the cemento-enamel junction (PD + GM < 0)."""
    out: list[dict[str, Any]] = []
    for tooth, t in teeth.items():
        state = t.get("state", "present")
        if state != "present":
            en, es = ("missing", "ausente") if state == "missing" else ("an implant", "un implante")
            for f in ("mobility", "furcation"):
                if t.get(f) is not None:
                    out.append(
                        _err(
                            f"teeth.{tooth}.{f}",
                            tr(
                                f"tooth {tooth} is {en}: it takes no {f}",
                                f"el diente {tooth} es {es}: no lleva "
                                + ("movilidad" if f == "mobility" else "furca"),
                            ),
                        )
                    )
            if any(_has_values(s) for s in (t.get("sites") or {}).values()):
                out.append(
                    _err(
                        f"teeth.{tooth}.sites",
                        tr(
                            f"tooth {tooth} is {en}: its sites take no values",
                            f"el diente {tooth} es {es}: sus puntos no llevan valores",
                        ),
                    )
                )
            continue
        if t.get("furcation") is not None and tooth not in MULTI_ROOTED:
            out.append(
                _err(
                    f"teeth.{tooth}.furcation",
                    tr(
                        f"tooth {tooth} has a single root: furcation applies to molars and "
                        "upper first premolars only",
                        f"el diente {tooth} tiene una sola raíz: la furca solo se registra en "
                        "molares y primeros premolares superiores",
                    ),
                )
            )
        for site, s in (t.get("sites") or {}).items():
            pd, gm = s.get("pd"), s.get("gm") or 0
            if pd is not None and pd + gm < 0:
                en_s, es_s = SITE_NAMES[site]
                out.append(
                    _err(
                        f"teeth.{tooth}.sites.{site}.pd",
                        tr(
                            f"tooth {tooth}, {en_s}: a probing depth of {pd} mm with the margin "
                            f"{-gm} mm above the cemento-enamel junction would end above it",
                            f"diente {tooth}, {es_s}: una profundidad de {pd} mm con el margen "
                            f"{-gm} mm por encima del límite amelocementario acabaría por "
                            "encima de él",
                        ),
                    )
                )
    return out


def _err(field: str, message: Text) -> dict[str, Any]:
    return {"field": field, "message": message}


def _has_values(s: dict[str, Any]) -> bool:
    return (
        s.get("pd") is not None
        or bool(s.get("gm"))
        or any(s.get(k) for k in ("bop", "sup", "plaque"))
    )


def examined_sites(teeth: dict[str, dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """(tooth, site, values) of every site probed on a present tooth, in chart order."""
    out = []
    for tooth in TEETH:
        t = teeth.get(tooth)
        if not t or t.get("state", "present") != "present":
            continue
        sites = t.get("sites") or {}
        for site in SITES:
            s = sites.get(site)
            if s and s.get("pd") is not None:
                out.append((tooth, site, s))
    return out


def cal(s: dict[str, Any]) -> int | None:
    return None if s.get("pd") is None else int(s["pd"]) + int(s.get("gm") or 0)


def _pct(n: int, d: int) -> float | None:
    return round(100 * n / d, 1) if d else None


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def indices(teeth: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The usual indices over the sites examined (a site is examined when its probing depth is
    recorded on a present tooth): bleeding and plaque %, suppuration sites, sites with
    PD >= 4 and >= 6 mm, mean PD and CAL, and the teeth present / missing / implants."""
    sites = examined_sites(teeth)
    n = len(sites)
    states = [t.get("state", "present") for t in teeth.values()]
    return {
        "sites_examined": n,
        "teeth_examined": len({tooth for tooth, _, _ in sites}),
        "teeth_missing": states.count("missing"),
        "implants": states.count("implant"),
        "bop_sites": sum(1 for _, _, s in sites if s.get("bop")),
        "bop_percent": _pct(sum(1 for _, _, s in sites if s.get("bop")), n),
        "plaque_sites": sum(1 for _, _, s in sites if s.get("plaque")),
        "plaque_percent": _pct(sum(1 for _, _, s in sites if s.get("plaque")), n),
        "suppuration_sites": sum(1 for _, _, s in sites if s.get("sup")),
        "sites_pd_ge4": sum(1 for _, _, s in sites if s["pd"] >= 4),
        "sites_pd_ge6": sum(1 for _, _, s in sites if s["pd"] >= 6),
        "mean_pd": _mean([int(s["pd"]) for _, _, s in sites]),
        "mean_cal": _mean([c for _, _, s in sites if (c := cal(s)) is not None]),
    }


INDEX_DELTAS = (
    "bop_percent",
    "plaque_percent",
    "sites_pd_ge4",
    "sites_pd_ge6",
    "mean_pd",
    "mean_cal",
    "suppuration_sites",
)


def change(delta: int) -> str:
    if delta <= -CHANGE_MM:
        return "improved"
    if delta >= CHANGE_MM:
        return "worse"
    return "stable"


def compare(base: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Site by site, the sites probed in both exams: PD and CAL before and after, their
    differences (after - before, so negative is better) and whether the site improved, got
    worse (a PD change of 2 mm or more) or is stable; plus the index deltas."""
    before = {(tooth, site): s for tooth, site, s in examined_sites(base)}
    sites = []
    for tooth, site, s in examined_sites(current):
        b = before.get((tooth, site))
        if b is None:
            continue
        d_pd = int(s["pd"]) - int(b["pd"])
        cb, ca = cal(b), cal(s)
        sites.append(
            {
                "tooth": tooth,
                "site": site,
                "pd_before": int(b["pd"]),
                "pd_after": int(s["pd"]),
                "pd_delta": d_pd,
                "cal_before": cb,
                "cal_after": ca,
                "cal_delta": (ca - cb) if ca is not None and cb is not None else None,
                "bop_before": bool(b.get("bop")),
                "bop_after": bool(s.get("bop")),
                "change": change(d_pd),
            }
        )
    ib, ia = indices(base), indices(current)
    deltas: dict[str, float | int | None] = {}
    for k in INDEX_DELTAS:
        x, y = ib[k], ia[k]
        deltas[k] = None if x is None or y is None else round(y - x, 2)
    return {
        "sites": sites,
        "improved": sum(1 for s in sites if s["change"] == "improved"),
        "worse": sum(1 for s in sites if s["change"] == "worse"),
        "stable": sum(1 for s in sites if s["change"] == "stable"),
        "indices_before": ib,
        "indices_after": ia,
        "index_deltas": deltas,
    }
