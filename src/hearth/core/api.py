"""Shared pieces of the API: list paging and the page envelope {"items": [...], "count": n}."""

from ninja import Field, Schema


class Paging(Schema):
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


class ErrorDetail(Schema):
    loc: list[str | int]
    msg: str
    type: str


class Errors(Schema):
    detail: list[ErrorDetail]
