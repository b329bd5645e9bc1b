"""The pure half of merging: the surviving profile and the snapshot that lets an unmerge restore both."""

import json

from teleplex.contacts.merge import ProfileState, build_snapshot, merged_profile, restore_plan


def test_target_wins_source_fills_gaps_tags_are_the_union():
    target = ProfileState("Ana Pérez", ("vip",), {"1": "gold"})
    source = ProfileState("ana", ("late-payer", "vip"), {"1": "silver", "2": 42})
    merged = merged_profile(target, source)
    assert merged == ProfileState("Ana Pérez", ("late-payer", "vip"), {"1": "gold", "2": 42})


def test_a_nameless_target_takes_the_source_name():
    assert merged_profile(ProfileState(None), ProfileState("Bea")).display_name == "Bea"


def test_snapshot_survives_json_and_gives_back_both_profiles_and_every_moved_row():
    target = ProfileState("Ana", ("vip",), {"1": "gold"})
    source = ProfileState(None, ("b2b",), {"2": 7})
    moved = {"identities": [5, 3], "interactions": [9], "callbacks": [], "notes": [4]}
    stored = json.loads(json.dumps(build_snapshot(target, source, moved)))
    t, s, m = restore_plan(stored)
    assert (t, s) == (target, source)
    assert m == {"identities": [3, 5], "interactions": [9], "callbacks": [], "notes": [4]}


def test_an_old_snapshot_without_some_row_kinds_restores_what_it_has():
    t, s, m = restore_plan({"target": {"display_name": "A"}, "source": {"display_name": None},
                            "moved": {"identities": [1]}})
    assert t == ProfileState("A") and s == ProfileState(None)
    assert m["identities"] == [1] and m["interactions"] == [] and m["callbacks"] == []
