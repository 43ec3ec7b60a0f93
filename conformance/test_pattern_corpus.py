"""The event-pattern corpus (tests/patterns/*.json) through TestEventPattern, with boto3.

tests/pattern_corpus.rs runs the same cases against the Rust matcher directly; this file checks
that the server's TestEventPattern gives the same answers over the wire:
- expected true/false: the `Result` of TestEventPattern;
- expected {"error": reason}: InvalidEventPatternException with the message
  "Event pattern is not valid. Reason: " + reason;
- a pattern longer than 4096 characters: ValidationException (the API's length limit).

A case's pattern is either raw text (a JSON string in the corpus) or a JSON value, which is
serialized exactly as tests/pattern_corpus.rs does (serde_json, compact, key order kept), so
that error locations (Jackson's "line: 1, column: N") refer to the same text.

TestEventPattern refuses events that are not JSON objects with id, account, source, time,
region and detail-type ("Parameter Event is not valid."). Missing envelope members are filled
in with fixed values when the pattern cannot see them; otherwise the case is skipped, counted,
and at least 95% of the corpus must run (test_corpus_coverage).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

CORPUS_DIR = Path(__file__).resolve().parent.parent / "tests" / "patterns"
MAX_PATTERN_LEN = 4096
MIN_RUN_FRACTION = 0.95
MESSAGE_PREFIX = "Event pattern is not valid. Reason: "
LENGTH_MESSAGE = "Member must have length less than or equal to 4096"

# What TestEventPattern requires of the event, with the values used to fill gaps.
ENVELOPE_FILL = {
    "id": "00000000-0000-0000-0000-000000000000",
    "account": "000000000000",
    "source": "corpus.test",
    "time": "2024-01-01T00:00:00Z",
    "region": "us-east-1",
    "detail-type": "corpus test",
}


# --------------------------------------------------------------------------- serde_json's text


class _NegZero(int):
    """The integer literal -0, which serde_json reads as the float -0.0."""


def _parse_int(text: str) -> int:
    return _NegZero(0) if text == "-0" else int(text)


def _ryu(f: float) -> str:
    """A finite float as serde_json writes it (ryu's shortest digits and its layout)."""
    if f == 0.0:
        return "-0.0" if math.copysign(1.0, f) < 0 else "0.0"
    m = re.fullmatch(r"(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?", repr(f))
    assert m, repr(f)
    sign, whole, frac, exp = m.group(1), m.group(2), m.group(3) or "", int(m.group(4) or 0)
    digits = (whole + frac).lstrip("0")
    k = exp - len(frac)
    stripped = digits.rstrip("0")
    k += len(digits) - len(stripped)
    digits = stripped
    n = len(digits)
    kk = n + k  # the value is 0.DIGITS * 10^kk
    if 0 <= k and kk <= 16:
        body = digits + "0" * k + ".0"
    elif 0 < kk <= 16:
        body = digits[:kk] + "." + digits[kk:]
    elif -5 < kk <= 0:
        body = "0." + "0" * (-kk) + digits
    elif n == 1:
        body = f"{digits}e{kk - 1}"
    else:
        body = f"{digits[0]}.{digits[1:]}e{kk - 1}"
    return sign + body


def _number(x) -> str:
    if isinstance(x, _NegZero):
        return "-0.0"
    if isinstance(x, int):
        if -(2**63) <= x < 2**64:
            return str(x)
        return _ryu(float(x))
    return _ryu(x)


def _string(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20:
            out.append({8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}.get(o, f"\\u{o:04x}"))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def serde_json_text(v) -> str:
    """`serde_json::to_string(&value)` for a value loaded with `load_corpus_json`."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return _number(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, list):
        return "[" + ",".join(serde_json_text(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(_string(k) + ":" + serde_json_text(x) for k, x in v.items()) + "}"
    raise TypeError(type(v))


def load_corpus_json(text: str):
    # Duplicate keys: serde_json (preserve_order) keeps the last value at the first key's place,
    # as a Python dict does.
    return json.loads(text, parse_int=_parse_int)


# --------------------------------------------------------------------------- the cases


def _top_level_paths(pattern) -> set[str]:
    """Top-level field names of a JSON pattern, through `$or` branches."""
    names: set[str] = set()
    if isinstance(pattern, dict):
        for key, value in pattern.items():
            if key == "$or" and isinstance(value, list):
                for branch in value:
                    names |= _top_level_paths(branch)
            else:
                names.add(key)
    return names


def _mentions(case_pattern, text: str, field: str) -> bool:
    """Whether the pattern may read the top-level event member `field` (conservative)."""
    if isinstance(case_pattern, str):
        return field in text  # raw text: any occurrence counts
    return any(p == field or p.startswith(field + ".") for p in _top_level_paths(case_pattern))


def _prepare(case: dict):
    """(pattern text, event text or None, skip reason or None)."""
    pattern = case["pattern"]
    text = pattern if isinstance(pattern, str) else serde_json_text(pattern)
    event = case["event"]
    if not isinstance(event, dict):
        return text, None, "event is not a JSON object"
    missing = [f for f in ENVELOPE_FILL if f not in event]
    blocked = [f for f in missing if _mentions(pattern, text, f)]
    if blocked:
        return text, None, "envelope member the pattern reads is missing: " + ", ".join(blocked)
    if missing:
        event = dict(event)
        for f in missing:
            event[f] = ENVELOPE_FILL[f]
    return text, json.dumps(event, ensure_ascii=False), None


def _load_cases():
    cases = []
    for path in sorted(CORPUS_DIR.glob("*.json")):
        for case in load_corpus_json(path.read_text(encoding="utf-8")):
            cases.append((f"{path.stem}: {case.get('name', '<unnamed>')}", case))
    return cases


CASES = _load_cases()
PREPARED = {case_id: _prepare(case) for case_id, case in CASES}
SKIPS = Counter(reason for _, _, reason in PREPARED.values() if reason)


@pytest.fixture(scope="module")
def corpus_events(server):
    """One boto3 client for the whole corpus (a client per case would dominate the run time)."""
    return server.client()


def test_corpus_coverage():
    total = len(CASES)
    ran = total - sum(SKIPS.values())
    assert total >= 300, f"only {total} corpus cases in {CORPUS_DIR}"
    assert len(PREPARED) == total, "corpus case names (file: name) must be unique"
    assert ran >= MIN_RUN_FRACTION * total, (
        f"only {ran} of {total} corpus cases can run through TestEventPattern; skipped: {dict(SKIPS)}"
    )


@pytest.mark.parametrize("case_id,case", CASES, ids=[case_id for case_id, _ in CASES])
def test_corpus_case(corpus_events, case_id, case):
    text, event, skip = PREPARED[case_id]
    if skip:
        pytest.skip(skip)
    expected = case["expected"]
    try:
        result = corpus_events.test_event_pattern(EventPattern=text, Event=event)
    except ClientError as e:
        err = e.response["Error"]
        got = (err["Code"], err.get("Message", ""))
        if len(text) > MAX_PATTERN_LEN:
            assert got[0] == "ValidationException" and LENGTH_MESSAGE in got[1], got
            return
        assert isinstance(expected, dict), f"expected Result={expected}, got error {got}\npattern: {text}"
        assert got == ("InvalidEventPatternException", MESSAGE_PREFIX + expected["error"]), (
            f"pattern: {text}"
        )
        return
    assert len(text) <= MAX_PATTERN_LEN, f"a {len(text)}-character pattern was accepted"
    assert not isinstance(expected, dict), (
        f"expected error {expected['error']!r}, got Result={result['Result']}\npattern: {text}"
    )
    assert result["Result"] is expected, f"pattern: {text}\nevent: {event}"
