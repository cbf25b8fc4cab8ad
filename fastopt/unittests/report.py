"""Reports of a unit-test run: the terminal table, the JSON file and the colour grid.

The table has one row per group of problems and one column per optimizer family; a cell is
the share of the group's problems on which the family's *best single configuration* (the one
that is good or excellent on the most problems of the whole suite) is good or excellent,
followed, after a slash, by the share over *all* its configurations (how robust the family
is to its hyperparameters).

The grid (``save_grid``) is the paper's picture: one row per configuration (grouped by
family), one column per problem (grouped by :data:`~fastopt.unittests.suite.GROUPS`), each
cell coloured by its category (:data:`~fastopt.unittests.protocol.CATEGORIES`).
"""
import json

import numpy as np

from fastopt.unittests.algorithms import FAMILIES
from fastopt.unittests.protocol import CATEGORIES
from fastopt.unittests.suite import GROUPS, groups_of

__all__ = ["summary", "table", "to_json", "save_grid"]

_GOOD = ("good", "excellent")


def _group_members(result):
    members = {g: [] for g in GROUPS}
    for j in result.scored:
        for g in groups_of(result.problems[j]):
            members[g].append(j)
    return {g: js for g, js in members.items() if js}


def summary(result):
    """``{family: {"best": label, group: (best share, all share)}}`` (shares in [0, 1])."""
    members = _group_members(result)
    scored = result.scored
    out = {}
    for fam in FAMILIES:
        rows = [i for i, c in enumerate(result.configs) if c.family == fam]
        if not rows:
            continue
        good = np.array([[result.categories[i][j] in _GOOD for j in range(len(result.problems))]
                         for i in rows])
        best = rows[int(np.argmax(good[:, scored].sum(axis=1)))] if scored else rows[0]
        entry = {"best": result.configs[best].label}
        for g, js in members.items():
            b = float(np.mean(good[rows.index(best), js]))
            entry[g] = (b, float(np.mean(good[:, js])))
        out[fam] = entry
    return out


def table(result):
    """The terminal table (a string): one row per group of problems, one column per
    optimizer family."""
    summ = summary(result)
    groups = list(_group_members(result))
    fams = list(summ)
    width = max(9, max(len(f) for f in fams) + 1)
    lines = [f"{len(result.scored)} problems with an SGD reference (of "
             f"{len(result.problems)}), {len(result.configs)} configurations, "
             f"{result.finals.shape[1]} repetitions x {result.steps} steps, "
             f"{result.seconds:.1f} s",
             "cell: % of the group's problems on which the family's best configuration / "
             "all its configurations are good or excellent", ""]
    members = _group_members(result)
    names = [f"{g} ({len(members[g])})" for g in groups]
    gw = max(len(n) for n in names)
    lines.append(f"{'':{gw}s}" + "".join(f"{f:>{width}s}" for f in fams))
    for g, name in zip(groups, names):
        cells = "".join(f"{f'{100 * summ[f][g][0]:.0f}/{100 * summ[f][g][1]:.0f}':>{width}s}"
                        for f in fams)
        lines.append(f"{name:{gw}s}{cells}")
    lines.append("")
    lines += [f"  best {fam}: {entry['best']}" for fam, entry in summ.items()]
    return "\n".join(lines)


def to_json(result, path=None):
    """The run as a JSON-serialisable dict (written to ``path`` if given)."""
    data = {
        "repetitions": int(result.finals.shape[1]), "steps": result.steps,
        "seconds": result.seconds,
        "configs": [c.as_dict() for c in result.configs],
        "problems": [{
            "name": p.name, "dim": p.dim, "groups": groups_of(p),
            "f_init": float(result.f_init[j]),
            "f_sgd_best": None if result.best_sgd[j] is None else float(result.f_best[j]),
            "sgd_best": None if result.best_sgd[j] is None
            else result.configs[result.best_sgd[j]].label,
        } for j, p in enumerate(result.problems)],
        "normalised": [[None if not np.isfinite(v) else float(v) for v in row]
                       for row in result.normalised],
        "categories": result.categories,
        "summary": {fam: {k: (list(v) if isinstance(v, tuple) else v) for k, v in e.items()}
                    for fam, e in summary(result).items()},
    }
    if path is not None:
        with open(path, "w") as fh:
            json.dump(data, fh, indent=1)
    return data


def save_grid(result, path, margin=4):
    """The paper-style colour grid as an image file (PNG by the extension); needs
    matplotlib."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    members = _group_members(result)
    cols, col_ticks = [], []
    for g, js in members.items():
        js = sorted(js, key=lambda j: (result.configs[result.best_sgd[j]].hyper, j))
        col_ticks.append((len(cols) + len(js) / 2, g))
        cols += js + [None] * margin
    rows, row_ticks = [], []
    for fam in FAMILIES:
        rs = [i for i, c in enumerate(result.configs) if c.family == fam]
        if rs:
            row_ticks.append((len(rows) + len(rs) / 2, fam))
            rows += rs + [None] * 2
    img = np.ones((len(rows), len(cols), 3))
    for a, i in enumerate(rows):
        if i is None:
            continue
        for b, j in enumerate(cols):
            if j is not None:
                img[a, b] = CATEGORIES[result.categories[i][j]]
    fig, ax = plt.subplots(figsize=(16, max(5, len(rows) / 14)))
    ax.imshow(img, aspect="auto", interpolation="nearest")
    ax.set_xticks([x for x, _ in col_ticks], [g for _, g in col_ticks], rotation=60,
                  ha="right", fontsize=7)
    ax.set_yticks([y for y, _ in row_ticks], [f for _, f in row_ticks], fontsize=8)
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.legend(handles=[Patch(color=c, label=k) for k, c in CATEGORIES.items()],
              loc="upper center", bbox_to_anchor=(0.5, 1.12), ncol=6, fontsize=7,
              frameon=False)
    ax.set_title("Unit tests for stochastic optimization: fastopt's optimizers vs tuned SGD",
                 fontsize=9, pad=28)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
