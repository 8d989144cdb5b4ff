"""Telling CDK tokens from literal values without asking jsii about every literal.

Every ``Token.is_unresolved`` call is a round trip to the jsii process, and a scheduler asked it
a dozen times, which made a stack of many schedulers synthesize slower than the same stack built
from ``AwsCustomResource``. aws-cdk-lib encodes a token in a string as a ``${Token[...]}``
marker and in a number as a float near -1.888e+289, so a value without that shape is a literal
and needs no round trip; one with it still gets jsii's own verdict.
"""

from __future__ import annotations

import math

from aws_cdk import Token

_ENCODED_STRING_MARKER = "${Token["
_ENCODED_NUMBERS_BELOW = -1e288


def is_unresolved(value: object) -> bool:
    """Return whether ``value`` is an unresolved CDK token, as ``Token.is_unresolved`` would."""
    if isinstance(value, str):
        return _ENCODED_STRING_MARKER in value and Token.is_unresolved(value)
    if isinstance(value, bool | int):
        return False
    if isinstance(value, float):
        # NaN and infinity never reach jsii: its kernel process dies on them.
        encoded = math.isfinite(value) and value < _ENCODED_NUMBERS_BELOW
        return encoded and Token.is_unresolved(value)
    return Token.is_unresolved(value)
