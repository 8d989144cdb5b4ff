"""The deployer's stack lifecycle: create, update, replacement, cleanup, rollback, destroy."""

from __future__ import annotations

import pytest

from lookout_retraining.local.deployer import StackStateError, TemplateError

# The fields of a Lambda-backed custom resource request, per request type, as the CloudFormation
# custom resource request reference lists them; the Lambda event also carries the ServiceToken.
# The template's ServiceToken and ServiceTimeout arrive inside ResourceProperties.
CREATE_EVENT_KEYS = {
    "RequestType",
    "ServiceToken",
    "ResponseURL",
    "StackId",
    "RequestId",
    "LogicalResourceId",
    "ResourceType",
    "ResourceProperties",
}
UPDATE_EVENT_KEYS = CREATE_EVENT_KEYS | {"PhysicalResourceId", "OldResourceProperties"}
DELETE_EVENT_KEYS = CREATE_EVENT_KEYS | {"PhysicalResourceId"}


def _starts(journal_reader, journal, request_type=None):
    return [
        entry
        for entry in journal_reader(journal)
        if entry["phase"] == "start" and request_type in (None, entry["request_type"])
    ]


def _calls(journal_reader, journal):
    return [
        (entry["request_type"], entry["logical_id"], entry["physical_id"])
        for entry in _starts(journal_reader, journal)
    ]


def test_deploy_new_stack_creates_resources_in_dependency_order(
    app, journal, journal_reader, deployer_factory
):
    app.resource("First", {"Name": "a", "Journal": str(journal), "Data": {"Colour": "blue"}})
    app.resource(
        "Second",
        {"Name": "b", "Journal": str(journal), "Colour": {"Fn::GetAtt": ["First", "Colour"]}},
    )
    app.outputs = {"SecondId": {"Value": {"Ref": "Second"}}}
    deployer = deployer_factory(app.write())

    result = deployer.deploy()

    assert result.status == "CREATE_COMPLETE"
    assert _calls(journal_reader, journal) == [
        ("Create", "First", "First-a"),
        ("Create", "Second", "Second-b"),
    ]
    second = _starts(journal_reader, journal)[1]
    assert second["properties"]["Colour"] == "blue"
    assert result.outputs == {"SecondId": "Second-b"}
    state = deployer.stack_state(app.stack_name)
    assert state is not None
    assert state.resources["First"].attributes == {"Colour": "blue"}
    assert state.resources["Handler"].physical_id in result.deliveries[0].event["ServiceToken"]


def test_deploy_event_has_cloudformation_shape_and_string_properties(
    app, journal, journal_reader, deployer_factory
):
    app.resource("Thing", {"Name": "a", "Journal": str(journal), "Count": 5, "Flag": True})
    deployer = deployer_factory(app.write(), region="eu-west-1", account_id="111122223333")

    result = deployer.deploy()

    event = result.deliveries[0].event
    assert set(event) == CREATE_EVENT_KEYS
    assert event["StackId"].startswith(
        f"arn:aws:cloudformation:eu-west-1:111122223333:stack/{app.stack_name}/"
    )
    assert event["ServiceToken"].startswith("arn:aws:lambda:eu-west-1:111122223333:function:")
    assert event["ResourceType"] == app.resource_type
    assert event["ResponseURL"].startswith("https://127.0.0.1:")
    assert event["ResponseURL"].endswith("?REDACTED")
    received = _starts(journal_reader, journal)[0]["properties"]
    assert received["Count"] == "5"
    assert received["Flag"] == "true"


def test_deploy_update_and_destroy_events_have_cloudformation_shape(app, journal, deployer_factory):
    app.resource("Thing", {"Name": "a", "Journal": str(journal), "Size": "1"}, service_timeout=120)
    deployer = deployer_factory(app.write())
    created = deployer.deploy().deliveries[0].event
    app.set_property("Thing", "Size", "2")

    updated = deployer.deploy(assembly_dir=app.write()).deliveries[0].event
    deleted = deployer.destroy(app.stack_name).deliveries[0].event

    assert [event["RequestType"] for event in (created, updated, deleted)] == [
        "Create",
        "Update",
        "Delete",
    ]
    assert set(created) == CREATE_EVENT_KEYS
    assert set(updated) == UPDATE_EVENT_KEYS
    assert set(deleted) == DELETE_EVENT_KEYS
    first_properties = {
        "ServiceToken": created["ServiceToken"],
        "ServiceTimeout": "120",
        "Name": "a",
        "Journal": str(journal),
        "Size": "1",
    }
    assert created["ResourceProperties"] == first_properties
    assert updated["ResourceProperties"] == first_properties | {"Size": "2"}
    assert updated["OldResourceProperties"] == first_properties
    assert deleted["ResourceProperties"] == first_properties | {"Size": "2"}
    assert updated["PhysicalResourceId"] == deleted["PhysicalResourceId"] == "Thing-a"
    for event in (updated, deleted):
        assert event["ServiceToken"] == created["ServiceToken"]
        assert event["StackId"] == created["StackId"]
        assert (event["LogicalResourceId"], event["ResourceType"]) == ("Thing", app.resource_type)
    assert len({event["RequestId"] for event in (created, updated, deleted)}) == 3


def test_deploy_failed_create_rolls_back_every_created_resource(
    app, journal, journal_reader, deployer_factory
):
    app.resource("Good", {"Name": "good", "Journal": str(journal)})
    app.resource(
        "Bad",
        {"Name": "bad", "Journal": str(journal), "FailOn": "Create"},
        depends_on=["Good"],
    )
    deployer = deployer_factory(app.write())

    result = deployer.deploy()

    assert result.status == "ROLLBACK_COMPLETE"
    assert result.resource_statuses("Bad") == [
        "CREATE_IN_PROGRESS",
        "CREATE_FAILED",
        "DELETE_IN_PROGRESS",
        "DELETE_COMPLETE",
    ]
    assert "failed on purpose" in result.resource_events("Bad")[1].reason
    assert _calls(journal_reader, journal) == [
        ("Create", "Good", "Good-good"),
        ("Create", "Bad", "Bad-bad"),
        ("Delete", "Bad", "Bad-bad"),
        ("Delete", "Good", "Good-good"),
    ]
    stack_events = result.resource_statuses(app.stack_name)
    assert stack_events == [
        "CREATE_IN_PROGRESS",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_COMPLETE",
    ]
    assert "failed to create: [Bad]" in result.resource_events(app.stack_name)[1].reason
    state = deployer.stack_state(app.stack_name)
    assert state is not None
    assert state.status == "ROLLBACK_COMPLETE"
    assert state.resources == {}


def test_deploy_failing_rollback_ends_rollback_failed_and_refuses_update(
    app, journal, deployer_factory
):
    app.resource("Bad", {"Name": "bad", "Journal": str(journal), "FailOn": "Create,Delete"})
    deployer = deployer_factory(app.write())

    result = deployer.deploy()

    assert result.status == "ROLLBACK_FAILED"
    state = deployer.stack_state(app.stack_name)
    assert state is not None
    assert "Bad" in state.resources
    with pytest.raises(StackStateError, match="ROLLBACK_FAILED"):
        deployer.deploy()


def test_deploy_rolled_back_stack_is_created_again_with_new_stack_id(
    app, journal, deployer_factory
):
    app.resource("Thing", {"Name": "a", "Journal": str(journal), "FailOn": "Create"})
    deployer = deployer_factory(app.write())
    first = deployer.deploy()
    app.set_property("Thing", "FailOn", "")

    second = deployer.deploy(assembly_dir=app.write())

    assert first.status == "ROLLBACK_COMPLETE"
    assert second.status == "CREATE_COMPLETE"
    assert second.operation == "CREATE"
    assert second.stack_id != first.stack_id


def test_deploy_changed_property_updates_only_that_resource_in_place(
    app, journal, journal_reader, deployer_factory
):
    app.resource("Changed", {"Name": "a", "Journal": str(journal), "Size": "1"})
    app.resource("Unchanged", {"Name": "b", "Journal": str(journal)})
    deployer = deployer_factory(app.write())
    deployer.deploy()
    app.set_property("Changed", "Size", "2")

    result = deployer.deploy(assembly_dir=app.write())

    assert result.status == "UPDATE_COMPLETE"
    assert [(d.request_type, d.logical_id) for d in result.deliveries] == [("Update", "Changed")]
    update = _starts(journal_reader, journal, "Update")[0]
    assert update["event_physical_id"] == "Changed-a"
    assert update["properties"]["Size"] == "2"
    assert update["old_properties"]["Size"] == "1"
    assert result.resource_events("Unchanged") == []
    assert result.resource_statuses("Changed") == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]


def test_deploy_same_app_again_sends_no_request(app, journal, deployer_factory):
    app.resource("Thing", {"Name": "a", "Journal": str(journal)})
    assembly = app.write()
    deployer = deployer_factory(assembly)
    deployer.deploy()

    result = deployer.deploy()

    assert result.operation == "NONE"
    assert result.succeeded
    assert result.deliveries == []
    assert result.events == []
    assert result.status == "CREATE_COMPLETE"


def test_deploy_template_with_unknown_reference_raises_before_deploying(
    app, journal, deployer_factory
):
    app.resource("Thing", {"Name": "t", "Journal": str(journal), "Other": {"Ref": "Ghost"}})
    deployer = deployer_factory(app.write())

    with pytest.raises(TemplateError, match=r"Unresolved resource dependencies \['Ghost'\]"):
        deployer.deploy()

    assert deployer.stack_state(app.stack_name) is None
    assert not journal.exists()


def test_deploy_new_physical_id_replaces_and_deletes_old_one_in_cleanup(
    app, journal, journal_reader, deployer_factory
):
    app.resource("Replaced", {"Name": "old", "Journal": str(journal)})
    app.resource("InPlace", {"Name": "same", "Journal": str(journal), "Size": "1"})
    deployer = deployer_factory(app.write())
    deployer.deploy()
    app.set_property("Replaced", "Name", "new")
    app.set_property("InPlace", "Size", "2")
    app.resource(
        "Added",
        {"Name": "added", "Journal": str(journal), "After": {"Ref": "Replaced"}},
    )

    result = deployer.deploy(assembly_dir=app.write())

    assert result.status == "UPDATE_COMPLETE"
    calls = _calls(journal_reader, journal)[2:]
    forward, cleanup = calls[:3], calls[3:]
    assert sorted(forward) == [
        ("Create", "Added", "Added-added"),
        ("Update", "InPlace", "InPlace-same"),
        ("Update", "Replaced", "Replaced-new"),
    ]
    assert forward.index(("Update", "Replaced", "Replaced-new")) < forward.index(
        ("Create", "Added", "Added-added")
    )
    assert cleanup == [("Delete", "Replaced", "Replaced-old")]
    stack_statuses = [(e.logical_id, e.status) for e in result.events]
    cleanup_start = stack_statuses.index((app.stack_name, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"))
    assert stack_statuses.index(("Replaced", "DELETE_IN_PROGRESS")) > cleanup_start
    assert stack_statuses.index(("Added", "CREATE_COMPLETE")) < cleanup_start
    state = deployer.stack_state(app.stack_name)
    assert state is not None
    assert state.resources["Replaced"].physical_id == "Replaced-new"


def test_deploy_removed_resource_is_deleted_in_cleanup(
    app, journal, journal_reader, deployer_factory
):
    app.resource("Kept", {"Name": "kept", "Journal": str(journal)})
    app.resource("Removed", {"Name": "gone", "Journal": str(journal)})
    deployer = deployer_factory(app.write())
    deployer.deploy()
    app.remove("Removed")

    result = deployer.deploy(assembly_dir=app.write())

    assert result.status == "UPDATE_COMPLETE"
    assert [(d.request_type, d.logical_id) for d in result.deliveries] == [("Delete", "Removed")]
    assert _starts(journal_reader, journal, "Delete")[0]["event_physical_id"] == "Removed-gone"
    state = deployer.stack_state(app.stack_name)
    assert state is not None
    assert "Removed" not in state.resources


def test_deploy_failed_update_rolls_back_updates_and_deletes_what_it_created(
    app, journal, journal_reader, deployer_factory
):
    app.resource("InPlace", {"Name": "a", "Journal": str(journal), "Size": "1"})
    app.resource("Replaced", {"Name": "old", "Journal": str(journal)})
    app.resource(
        "Failing",
        {"Name": "f", "Journal": str(journal), "Size": "1"},
        depends_on=["InPlace", "Replaced"],
    )
    deployer = deployer_factory(app.write())
    before = deployer.deploy()
    app.set_property("InPlace", "Size", "2")
    app.set_property("Replaced", "Name", "new")
    app.set_property("Failing", "Size", "2")
    app.set_property("Failing", "FailOn", "Update")
    app.resource("Added", {"Name": "added", "Journal": str(journal)})
    app.resources["Failing"]["DependsOn"].append("Added")

    result = deployer.deploy(assembly_dir=app.write())

    assert before.status == "CREATE_COMPLETE"
    assert result.status == "UPDATE_ROLLBACK_COMPLETE"
    updates = _starts(journal_reader, journal, "Update")
    rollback = {entry["logical_id"]: entry for entry in updates[3:]}
    assert set(rollback) == {"InPlace", "Replaced", "Failing"}
    assert rollback["InPlace"]["properties"]["Size"] == "1"
    assert rollback["InPlace"]["old_properties"]["Size"] == "2"
    assert rollback["Replaced"]["event_physical_id"] == "Replaced-new"
    assert rollback["Replaced"]["properties"]["Name"] == "old"
    assert rollback["Failing"]["properties"]["Size"] == "1"
    assert rollback["Failing"]["old_properties"]["FailOn"] == "Update"
    deletes = [
        (e["logical_id"], e["event_physical_id"])
        for e in _starts(journal_reader, journal, "Delete")
    ]
    assert sorted(deletes) == [("Added", "Added-added"), ("Replaced", "Replaced-new")]
    statuses = [e.status for e in result.resource_events(app.stack_name)]
    assert statuses == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
    ]
    state = deployer.stack_state(app.stack_name)
    assert state is not None
    assert {lid: r.physical_id for lid, r in state.resources.items() if lid in rollback} == {
        "InPlace": "InPlace-a",
        "Replaced": "Replaced-old",
        "Failing": "Failing-f",
    }
    assert state.resources["InPlace"].properties["Size"] == "1"
    assert "Added" not in state.resources


def test_deploy_failed_rollback_update_ends_update_rollback_failed(app, journal, deployer_factory):
    app.resource("Stubborn", {"Name": "s", "Journal": str(journal), "FailOn": "Update"})
    deployer = deployer_factory(app.write())
    deployer.deploy()
    app.set_property("Stubborn", "Size", "2")

    result = deployer.deploy(assembly_dir=app.write())

    assert result.status == "UPDATE_ROLLBACK_FAILED"
    assert result.resource_statuses("Stubborn") == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_FAILED",
        "UPDATE_IN_PROGRESS",
        "UPDATE_FAILED",
    ]
    with pytest.raises(StackStateError, match="UPDATE_ROLLBACK_FAILED"):
        deployer.deploy()
    assert deployer.destroy(app.stack_name).status == "DELETE_COMPLETE"


def test_destroy_deletes_in_reverse_dependency_order_and_forgets_stack(
    app, journal, journal_reader, deployer_factory
):
    app.resource("Base", {"Name": "base", "Journal": str(journal)})
    app.resource("Top", {"Name": "top", "Journal": str(journal), "On": {"Ref": "Base"}})
    deployer = deployer_factory(app.write())
    deployer.deploy()

    result = deployer.destroy(app.stack_name)

    assert result.status == "DELETE_COMPLETE"
    assert _calls(journal_reader, journal)[2:] == [
        ("Delete", "Top", "Top-top"),
        ("Delete", "Base", "Base-base"),
    ]
    handler_events = result.resource_statuses("Handler")
    assert handler_events == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    assert result.events.index(result.resource_events("Handler")[0]) > result.events.index(
        result.resource_events("Base")[-1]
    )
    assert deployer.stack_state(app.stack_name) is None
    assert deployer.destroy(app.stack_name).operation == "NONE"


def test_destroy_failed_delete_keeps_stack_and_its_dependencies(app, journal, deployer_factory):
    app.resource("Stuck", {"Name": "s", "Journal": str(journal), "FailOn": "Delete"})
    deployer = deployer_factory(app.write())
    deployer.deploy()

    result = deployer.destroy(app.stack_name)

    assert result.status == "DELETE_FAILED"
    state = deployer.stack_state(app.stack_name)
    assert state is not None
    assert {"Stuck", "Handler", "HandlerRole"} <= set(state.resources)


def test_destroy_retained_resource_is_skipped_without_request(
    app, journal, journal_reader, deployer_factory
):
    app.resource("Kept", {"Name": "kept", "Journal": str(journal)}, deletion_policy="Retain")
    deployer = deployer_factory(app.write())
    deployer.deploy()

    result = deployer.destroy(app.stack_name)

    assert result.status == "DELETE_COMPLETE"
    assert result.resource_statuses("Kept") == ["DELETE_SKIPPED"]
    assert _starts(journal_reader, journal, "Delete") == []


def test_deploy_replacement_with_retain_update_replace_policy_keeps_old_id(
    app, journal, journal_reader, deployer_factory
):
    app.resource("Kept", {"Name": "old", "Journal": str(journal)}, update_replace_policy="Retain")
    deployer = deployer_factory(app.write())
    deployer.deploy()
    app.set_property("Kept", "Name", "new")

    result = deployer.deploy(assembly_dir=app.write())

    assert result.status == "UPDATE_COMPLETE"
    assert result.resource_statuses("Kept")[-1] == "DELETE_SKIPPED"
    assert _starts(journal_reader, journal, "Delete") == []


def test_deploy_retain_except_on_create_is_deleted_by_create_rollback(
    app, journal, journal_reader, deployer_factory
):
    app.resource(
        "Fresh", {"Name": "fresh", "Journal": str(journal)}, deletion_policy="RetainExceptOnCreate"
    )
    app.resource(
        "Bad", {"Name": "bad", "Journal": str(journal), "FailOn": "Create"}, depends_on=["Fresh"]
    )
    deployer = deployer_factory(app.write())

    result = deployer.deploy()

    assert result.status == "ROLLBACK_COMPLETE"
    assert ("Delete", "Fresh", "Fresh-fresh") in _calls(journal_reader, journal)


def test_state_second_deployer_on_same_state_dir_updates_and_destroys(
    app, journal, journal_reader, deployer_factory
):
    app.resource("Thing", {"Name": "a", "Journal": str(journal), "Size": "1"})
    first = deployer_factory(app.write())
    created = first.deploy()
    first.close()
    app.set_property("Thing", "Size", "2")

    second = deployer_factory(app.write())
    updated = second.deploy()
    third = deployer_factory()
    destroyed = third.destroy(app.stack_name)

    assert created.status == "CREATE_COMPLETE"
    assert updated.operation == "UPDATE"
    assert updated.stack_id == created.stack_id
    assert [d.request_type for d in updated.deliveries] == ["Update"]
    assert destroyed.status == "DELETE_COMPLETE"
    assert _calls(journal_reader, journal) == [
        ("Create", "Thing", "Thing-a"),
        ("Update", "Thing", "Thing-a"),
        ("Delete", "Thing", "Thing-a"),
    ]


def test_deploy_parameters_override_then_persist_across_deploys(
    app, journal, journal_reader, deployer_factory
):
    app.parameters = {"Size": {"Type": "String", "Default": "small"}}
    app.resource("Thing", {"Name": "a", "Journal": str(journal), "Size": {"Ref": "Size"}})
    deployer = deployer_factory(app.write())
    deployer.deploy(parameters={"Size": "large"})

    again = deployer.deploy()

    assert _starts(journal_reader, journal)[0]["properties"]["Size"] == "large"
    assert again.operation == "NONE"


def test_deploy_condition_false_leaves_resource_out(app, journal, deployer_factory):
    app.parameters = {
        "Enabled": {"Type": "String", "Default": "no", "AllowedValues": ["yes", "no"]}
    }
    app.conditions = {"IsEnabled": {"Fn::Equals": [{"Ref": "Enabled"}, "yes"]}}
    app.resource("Optional", {"Name": "o", "Journal": str(journal)})
    app.resources["Optional"]["Condition"] = "IsEnabled"
    deployer = deployer_factory(app.write())

    created = deployer.deploy()
    enabled = deployer.deploy(parameters={"Enabled": "yes"})

    assert created.deliveries == []
    assert [d.request_type for d in enabled.deliveries] == ["Create"]
