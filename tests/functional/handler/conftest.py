"""Fixtures that drive the real handler in-process, as CloudFormation and Lambda would.

They live in ``tests/support/handler_harness.py``, which the property-based tests share.
"""

from __future__ import annotations

from handler_harness import cloudformation as cloudformation
from handler_harness import handler_environment as handler_environment
from handler_harness import handler_log_lines as handler_log_lines
from handler_harness import handler_module as handler_module
from handler_harness import models as models
from handler_harness import mutating_calls as mutating_calls
from handler_harness import properties as properties
from handler_harness import recorder as recorder
