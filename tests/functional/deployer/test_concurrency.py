"""Resource operations run like CloudFormation's: independent ones in parallel, bounded."""

from __future__ import annotations


def _most_at_once(records):
    moments = sorted(
        [(record.started_at, 1) for record in records]
        + [(record.finished_at, -1) for record in records]
    )
    running = most = 0
    for _, change in moments:
        running += change
        most = max(most, running)
    return most


def test_deploy_independent_resources_run_in_parallel_up_to_the_bound(
    app, journal, deployer_factory
):
    # Each handler waits until three have started: fewer at once would time them out.
    for index in range(6):
        app.resource(
            f"Thing{index}", {"Name": str(index), "Journal": str(journal), "AwaitStarts": "3"}
        )
    deployer = deployer_factory(app.write(), max_concurrency=3)

    result = deployer.deploy()

    assert result.status == "CREATE_COMPLETE"
    assert len(result.invocations) == 6
    assert _most_at_once(result.invocations) == 3


def test_destroy_independent_resources_run_in_parallel_up_to_the_bound(
    app, journal, deployer_factory
):
    for index in range(4):
        app.resource(
            f"Thing{index}", {"Name": str(index), "Journal": str(journal), "AwaitStarts": "2"}
        )
    deployer_factory(app.write(), max_concurrency=4).deploy()

    result = deployer_factory(max_concurrency=2).destroy(app.stack_name)

    assert result.status == "DELETE_COMPLETE"
    assert len(result.invocations) == 4
    assert _most_at_once(result.invocations) == 2


def test_deploy_dependent_resource_starts_after_its_dependency_finished(
    app, journal, deployer_factory
):
    # Base waits for a second Create to start, which only Beside can be.
    app.resource("Base", {"Name": "base", "Journal": str(journal), "AwaitStarts": "2"})
    app.resource("Top", {"Name": "top", "Journal": str(journal)}, depends_on=["Base"])
    app.resource("Beside", {"Name": "beside", "Journal": str(journal)})
    deployer = deployer_factory(app.write(), max_concurrency=5)

    result = deployer.deploy()

    runs = {record.logical_id: record for record in result.invocations}
    assert runs["Top"].started_at >= runs["Base"].finished_at
    assert runs["Beside"].started_at < runs["Base"].finished_at


def test_deploy_failure_starts_no_further_resource(app, journal, journal_reader, deployer_factory):
    app.resource("Bad", {"Name": "bad", "Journal": str(journal), "FailOn": "Create"})
    app.resource("Later", {"Name": "later", "Journal": str(journal)})
    deployer = deployer_factory(app.write(), max_concurrency=1)

    result = deployer.deploy()

    assert result.status == "ROLLBACK_COMPLETE"
    assert [
        (entry["request_type"], entry["logical_id"])
        for entry in journal_reader(journal)
        if entry["phase"] == "start"
    ] == [("Create", "Bad"), ("Delete", "Bad")]
    assert result.resource_events("Later") == []
