"""The one error type of the domain, mapped once to each surface (forms, API, commands)."""

from django.utils.functional import Promise


class DomainError(Exception):
    """A refusal the user can act on: a stable `code`, a translated message, the field it concerns."""

    def __init__(self, code: str, message: str | Promise, field: str | None = None):
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class DomainErrors(DomainError):
    """Several field errors at once, so a form shows every problem in one pass."""

    def __init__(self, errors: list[DomainError]):
        super().__init__(errors[0].code, errors[0].message, errors[0].field)
        self.errors = errors

    @classmethod
    def raise_if_any(cls, errors: list[DomainError]) -> None:
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise cls(errors)


def as_list(error: DomainError) -> list[DomainError]:
    return list(error.errors) if isinstance(error, DomainErrors) else [error]
