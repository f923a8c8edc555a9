"""Request bodies of the cold endpoints as pydantic models, and the one translator of their errors.

A body is parsed by `parse(Model, body)`: the model checks it (strict types: no "5" → 5, no true → 1;
`extra="forbid"`: an unknown key is an error) and `translate` turns the first of pydantic's errors into
the real API's error, built by the `contracts.errors` constructor for its kind:

    pydantic error type                        → contracts.errors
    missing                                    → missing_parameter
    extra_forbidden                            → unknown_parameter
    string_type, int_type, bool_type, …        → invalid_type ("a string", "an integer", …)
    string_too_long                            → string_too_long
    string_too_short (min_length 1)            → invalid_value ("empty string")
    too_long (arrays)                          → array_too_long
    greater_than(_equal), less_than(_equal)    → below_min / above_max
    literal_error, enum                        → invalid_value ("Invalid value: … Supported values are: …")
    api_error (raised by a model's validator)  → the constructor it names, or the APIError it carries

Which error wins when a body has several: the one today's (and the real API's) checks report first. Each
model says how its own keys are ranked (`RequestModel._unknown_first`, `_input_order`): by default an
unknown key comes first, then the fields in the order they are declared; a model ranked by input order
reports its keys' problems in the order the body lists them. An object's own problem (wrong type, too
many items) comes before the problems of its members.

The chat, completions and responses bodies (the measured hot path) are hand-parsed (mockserver/chat/request.py)
with the same constructors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from contracts import errors

__all__ = ["RequestModel", "parse", "translate", "api_error", "reject", "untagged", "present", "param_of"]

M = TypeVar("M", bound=BaseModel)

_TYPE_NAMES = {
    "string_type": "a string", "int_type": "an integer", "int_from_float": "an integer",
    "bool_type": "a boolean", "float_type": "a number", "dict_type": "an object", "model_type": "an object",
    "model_attributes_type": "an object", "list_type": "an array",
}
_API_ERROR = "api_error"


class RequestModel(BaseModel):
    """A request body (or part of one): strict types, unknown keys refused, errors ranked as the API ranks them."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    _unknown_first: ClassVar[bool] = True    # every unknown key is reported before any other problem
    _input_order: ClassVar[bool] = False     # the fields' problems in the body's key order (else declared)
    _missing_first: ClassVar[bool] = False   # every missing field before any field's other problem

    @model_validator(mode="wrap")
    @classmethod
    def _rank(cls, data: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(data)
        except ValidationError as e:
            raise _ranked(cls, data, e) from None


def _ranked(cls: type[RequestModel], data: Any, exc: ValidationError) -> ValidationError:
    """`exc` with this level's errors in the order the API reports them (a stable sort: deeper levels keep
    the order their own models gave them)."""
    keys = list(data) if isinstance(data, dict) else []
    declared = list(cls.model_fields)

    def rank(e: Any) -> tuple[int, int]:
        loc = e["loc"]
        if not loc:
            return (-1, 0)                     # the object itself (not an object, a cross-field rule)
        key = loc[0]
        unknown = e["type"] == "extra_forbidden" and len(loc) == 1
        at = keys.index(key) if key in keys else len(keys)
        if unknown and cls._unknown_first:
            return (0, at)
        tier = 1 if cls._missing_first and e["type"] == "missing" and len(loc) == 1 else 2
        if cls._input_order or unknown:
            return (tier, at)
        return (tier, declared.index(key) if key in declared else len(declared))

    line_errors = [_line_error(e) for e in sorted(exc.errors(), key=rank)]
    return ValidationError.from_exception_data(exc.title, line_errors)


def _line_error(e: Any) -> dict[str, Any]:
    kind = e["type"]
    if kind == _API_ERROR:
        kind = PydanticCustomError(_API_ERROR, "{detail}", e["ctx"])
    line = {"type": kind, "loc": e["loc"], "input": e["input"]}
    if "ctx" in e and not isinstance(kind, PydanticCustomError):
        line["ctx"] = e["ctx"]
    return line


# --- errors a model's own validators raise ---------------------------------------------------------------

def api_error(build: str, *args: Any, at: str = "", **kwargs: Any) -> PydanticCustomError:
    """An error the translator builds with `contracts.errors.<build>(path, *args, **kwargs)`, `path` being
    where it was raised (plus `at`, a member the check is about, e.g. "type" of `method`); a text argument
    names the parameter as `{path}`."""
    return PydanticCustomError(_API_ERROR, "{detail}", {"detail": build, "build": build, "args": args,
                                                         "kwargs": kwargs, "at": at})


def present(value: Any) -> Any:
    """`BeforeValidator(present)`: null counts as absent for a required field (`Missing required parameter`)."""
    if value is None:
        raise PydanticCustomError("missing", "Field required")
    return value


def reject(error: errors.APIError) -> PydanticCustomError:
    """An error carried verbatim (its validator knows the whole answer: message, param and code)."""
    return PydanticCustomError(_API_ERROR, "{detail}", {"detail": error.message, "error": error})


def untagged(value: Any, handler: Callable[[Any], Any]) -> Any:
    """For a discriminated union (`WrapValidator(untagged)`): its errors without the tag pydantic adds to
    their location, so a `param` names the body's keys only (`method.dpo.hyperparameters`)."""
    try:
        return handler(value)
    except ValidationError as e:
        raise ValidationError.from_exception_data(
            e.title, [_line_error({**err, "loc": err["loc"][1:]}) for err in e.errors()]) from None


# --- the translator ---------------------------------------------------------------------------------------

def parse(model: type[M], body: Any, **context: Any) -> M:
    """`body` checked by `model` (`context`: settings its validators read); the real API's 400 for its first
    problem."""
    try:
        return model.model_validate(body, context=context)
    except ValidationError as e:
        raise translate(e.errors()) from None


def param_of(loc: tuple[Any, ...] | list[Any]) -> str:
    """`("integrations", 0, "wandb", "tags", 2)` → `integrations[0].wandb.tags[2]`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def translate(errs: list[Any], *, skip: tuple[str, ...] = ()) -> errors.APIError:
    """The API error for the first of pydantic's errors (`errs` as `ValidationError.errors()` gives them,
    already ranked); `skip` drops leading location parts that are not body keys (FastAPI's "body", "query")."""
    if not errs:
        return errors.BadRequest("Invalid request.")
    e = errs[0]
    loc = list(e.get("loc", ()))
    while loc and loc[0] in skip:
        loc.pop(0)
    path = param_of(loc) or (str(e["loc"][-1]) if e.get("loc") else "")
    return _build(e["type"], path, e.get("input"), e.get("ctx") or {}, e.get("msg", ""))


def _build(kind: str, path: str, got: Any, ctx: dict[str, Any], msg: str) -> errors.APIError:
    if kind == _API_ERROR:
        if "error" in ctx:
            return ctx["error"]
        where = f"{path}.{ctx['at']}" if ctx["at"] and path else (ctx["at"] or path)
        args = [a.replace("{path}", where) if isinstance(a, str) else a for a in ctx["args"]]
        return getattr(errors, ctx["build"])(where, *args, **ctx["kwargs"])
    if kind == "missing":
        return errors.missing_parameter(path)
    if kind == "extra_forbidden":
        return errors.unknown_parameter(path)
    if kind in _TYPE_NAMES:
        return errors.invalid_type(path, _TYPE_NAMES[kind], got)
    if kind == "string_too_long" or kind == "too_long" and isinstance(got, str):
        return errors.string_too_long(path, ctx["max_length"], len(got))
    if kind in ("string_too_short", "too_short") and isinstance(got, str) and ctx.get("min_length") == 1:
        return errors.empty_string(path)
    if kind == "too_long":
        return errors.array_too_long(path, ctx["max_length"], ctx["actual_length"])
    if kind in ("greater_than_equal", "greater_than"):
        return errors.below_min(path, ctx.get("ge", ctx.get("gt")), got, exclusive=kind == "greater_than")
    if kind in ("less_than_equal", "less_than"):
        return errors.above_max(path, ctx.get("le", ctx.get("lt")), got)
    if kind in ("literal_error", "enum"):
        return errors.invalid_value(path, f"Invalid value: {got!r}. Supported values are: {ctx.get('expected')}.")
    return errors.BadRequest(f"Invalid value for '{path}': {msg}.", param=path or None, code="invalid_value")
