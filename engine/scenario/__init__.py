"""Scenario files: the TOML data that makes one wood different from another.

A scenario is read with :mod:`tomllib` and validated by the pydantic models of
:mod:`engine.scenario.schema` (unknown keys are refused, so a typo never passes silently). Every
number the rules use lives there, not in code. Errors name the file, the line and the key path
(:func:`parse`, in :mod:`engine.scenario.parsing`); legends are in :mod:`engine.scenario.legends`;
cross-references between tables are checked in :mod:`engine.scenario.checks`; scenarios are found
by id among the bundled ones and the user's mod folder, or by path (:func:`find`, in :mod:`engine.scenario.files`); and
:func:`json_schema` is the JSON Schema editors use to complete and check scenario files.
"""

from engine.core.assets import PEBBLES
from engine.scenario.base import TILES, GoodId, Name, Role, ScenarioId, Strict
from engine.scenario.files import Found, bundled_ids, decode, find, known, load, load_found, resolve, text_hash, user_dir, user_ids
from engine.scenario.legends import METRIC_PATTERN, RULE_NAMES, Condition, Effect, GoodsEffect, LegendSpec, RuleEffect, RumourEffect, When
from engine.scenario.parsing import Problem, parse
from engine.scenario.schema import (
    DEFAULT_SCENARIO,
    MAX_BYTES,
    MAX_CAST,
    MAX_KEY_DEPTH,
    MAX_SHOWN,
    SCHEMA_FILE,
    USER_DIR_ENV,
    Budget,
    CreatureSpec,
    Credit,
    GenerateSpec,
    Good,
    MapSpec,
    Market,
    Memory,
    Meta,
    Needs,
    Scenario,
    Season,
    hint,
    json_schema,
    path_text,
    schema_text,
)

__all__ = [
    "DEFAULT_SCENARIO", "MAX_BYTES", "MAX_CAST", "MAX_KEY_DEPTH", "MAX_SHOWN", "METRIC_PATTERN", "PEBBLES",
    "RULE_NAMES", "SCHEMA_FILE", "TILES", "USER_DIR_ENV", "Budget", "Condition", "CreatureSpec", "Credit",
    "Effect", "Found", "GenerateSpec", "Good", "GoodId", "GoodsEffect", "LegendSpec", "MapSpec", "Market",
    "Memory", "Meta", "Name", "Needs", "Problem", "Role", "RuleEffect", "RumourEffect", "Scenario",
    "ScenarioId", "Season", "Strict", "When", "bundled_ids", "decode", "find", "hint", "json_schema",
    "known", "load", "load_found", "parse", "path_text", "resolve", "schema_text", "text_hash", "user_dir",
    "user_ids",
]
