"""rbac.missing_permissions: what a set of grants would hand out beyond the actor's own."""

from chalicelib.core import rbac


def test_the_admin_holds_everything():
    for grants in rbac.DEFAULT_ROLE_GRANTS.values():
        assert rbac.missing_permissions(["*"], grants) == []
    assert rbac.missing_permissions(["*"], ["*"]) == []


def test_wildcards_are_expanded_on_both_sides():
    assert rbac.missing_permissions(["patients.*"], ["patients.medical.read"]) == []
    assert rbac.missing_permissions(["patients.read"], ["patients.*"]) == [
        k for k in rbac.PERMISSIONS if k.startswith("patients.") and k != "patients.read"
    ]
    assert rbac.missing_permissions(["patients.*"], ["*"]) == [
        k for k in rbac.PERMISSIONS if not k.startswith("patients.")
    ]


def test_a_receptionist_cannot_hand_out_the_admin_or_the_dentist_role():
    reception = rbac.DEFAULT_ROLE_GRANTS["receptionist"]
    assert "settings.roles.write" in rbac.missing_permissions(reception, ["*"])
    assert "patients.medical.read" in rbac.missing_permissions(
        reception, rbac.DEFAULT_ROLE_GRANTS["dentist"]
    )
    assert rbac.missing_permissions(reception, reception) == []


def test_plan_exclusions_do_not_hide_an_escalation():
    # inventory is not in the free plan, but a grant of it would apply after an upgrade
    assert rbac.missing_permissions(["patients.*"], ["inventory.*"]) == [
        "inventory.read",
        "inventory.write",
    ]
