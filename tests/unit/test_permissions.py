from teleplex.auth.principal import Principal
from teleplex.auth.roles import ALL_PERMISSIONS, ROLE_PERMISSIONS, Role, permissions_for


def principal(*roles: Role, supervised=(), member=()) -> Principal:
    return Principal(
        kind="user", id=1, name="u", roles=frozenset(roles),
        supervised_queue_ids=frozenset(supervised), member_queue_ids=frozenset(member),
    )  # fmt: skip


def test_admin_holds_every_permission():
    assert permissions_for({Role.ADMIN}) == ALL_PERMISSIONS


def test_agent_cannot_edit_configuration():
    perms = permissions_for({Role.AGENT})
    assert not any(p.endswith(".write") for p in perms)
    assert "agents.read.own" in perms and "agents.read" not in perms


def test_supervisor_reads_but_does_not_configure():
    perms = permissions_for({Role.SUPERVISOR})
    assert {"queues.read", "agents.read", "agents.control"} <= perms
    assert "queues.write" not in perms and "users.read" not in perms and "audit.read" not in perms


def test_several_roles_grant_the_union():
    both = permissions_for({Role.AGENT, Role.SUPERVISOR})
    assert both == ROLE_PERMISSIONS[Role.AGENT] | ROLE_PERMISSIONS[Role.SUPERVISOR]


def test_no_roles_grant_nothing():
    assert permissions_for(set()) == frozenset()


def test_admin_sees_every_queue():
    assert principal(Role.ADMIN).visible_queue_ids() is None


def test_supervisor_sees_only_supervised_queues():
    p = principal(Role.SUPERVISOR, supervised={1, 2}, member={3})
    assert p.visible_queue_ids() == {1, 2}
    assert p.supervises(1) and not p.supervises(3)


def test_agent_sees_only_queues_they_work_in():
    assert principal(Role.AGENT, supervised={1}, member={3}).visible_queue_ids() == {3}


def test_agent_who_supervises_sees_both_sets():
    p = principal(Role.AGENT, Role.SUPERVISOR, supervised={1}, member={3})
    assert p.visible_queue_ids() == {1, 3}
    assert p.supervises(1) and not p.supervises(3)


def test_require_names_the_missing_permission():
    import pytest

    from teleplex.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="queues.write"):
        principal(Role.SUPERVISOR).require("queues.write")
