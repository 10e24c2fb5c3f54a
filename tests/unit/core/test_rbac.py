from chalicelib.core import rbac


def test_wildcards_match_subtrees_only():
    assert rbac.matches("*", "billing.invoices.issue")
    assert rbac.matches("billing.*", "billing.invoices.issue")
    assert rbac.matches("billing.invoices.*", "billing.invoices.issue")
    assert not rbac.matches("billing.*", "billingx.read")
    assert not rbac.matches("billing.invoices.*", "billing.payments.write")
    assert rbac.matches("patients.read", "patients.read")
    assert not rbac.matches("patients.read", "patients.medical.read")


def test_receptionist_does_not_see_medical_history_by_default():
    perms = rbac.effective_permissions(rbac.DEFAULT_ROLE_GRANTS["receptionist"], "pro_plus")
    assert "patients.read" in perms
    assert "patients.medical.read" not in perms


def test_admin_gets_everything_the_plan_allows():
    assert rbac.effective_permissions(["*"], "pro_plus") == list(rbac.PERMISSIONS)
    free = rbac.effective_permissions(["*"], "free")
    assert "inventory.read" not in free and "comms.whatsapp.admin" not in free
    assert "patients.read" in free


def test_every_role_default_grant_names_existing_keys():
    for role, grants in rbac.DEFAULT_ROLE_GRANTS.items():
        assert rbac.validate_grants(grants) == [], role


def test_validate_grants_reports_typos():
    assert rbac.validate_grants(["patients.reed", "nothing.*", "patients.*", "*"]) == [
        "patients.reed",
        "nothing.*",
    ]


def test_tree_nests_every_key_once_with_labels():
    def leaves(nodes):
        for n in nodes:
            if "children" in n:
                yield from leaves(n["children"])
            else:
                yield n

    en = list(leaves(rbac.tree("en")))
    assert sorted(n["key"] for n in en) == sorted(rbac.PERMISSIONS)
    es = {n["key"]: n["label"] for n in leaves(rbac.tree("es"))}
    assert es["patients.medical.read"] == "Ver historia médica"
    top = {n["key"] for n in rbac.tree("en")}
    assert "patients.*" in top and "billing.*" in top
