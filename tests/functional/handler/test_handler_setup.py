"""The handler's set-up: its client configuration, and what it does when set-up goes wrong."""

from __future__ import annotations

import json


def test_client_config_retries_in_standard_mode_with_timeouts(handler_module):
    config = handler_module.build_client().meta.config

    assert config.retries == {"mode": "standard", "total_max_attempts": 10}
    assert config.connect_timeout == 5.0
    assert config.read_timeout == 15.0


def test_client_region_comes_from_aws_region(handler_module, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")

    assert handler_module.build_client().meta.region_name == "eu-west-1"


def test_handler_without_region_fails_create_and_passes_unowned_delete(
    cloudformation, handler_module, emulator, monkeypatch, properties
):
    monkeypatch.delenv("AWS_REGION")
    cloudformation.handler = handler_module.build_handler()

    created = cloudformation.create(properties)
    deleted = cloudformation.delete(created.physical_id, properties)

    assert created.status == "FAILED"
    assert "Could not create the Lookout for Equipment client" in created.reason
    assert "NoRegionError" in created.reason
    assert deleted.status == "SUCCESS"
    assert emulator.calls == []


def test_handler_unknown_log_level_logs_at_info_and_still_works(
    cloudformation, handler_module, monkeypatch, models, properties, handler_log_lines
):
    monkeypatch.setenv("LOG_LEVEL", "VERBOSE")
    cloudformation.handler = handler_module.build_handler()

    created = cloudformation.create(properties)

    assert created.status == "SUCCESS"
    levels = {json.loads(line)["level"] for line in handler_log_lines.lines}
    assert "DEBUG" not in levels
    assert any(
        "LOG_LEVEL 'VERBOSE' is not a level name" in line for line in handler_log_lines.lines
    )
