"""Errors raised by the estimator.

Every error fitbot raises on purpose descends from ``FitbotError``; the other packages
extend this tree in their own ``errors.py``::

    FitbotError
     ├── InputError                 something a user typed cannot be read
     │    ├── BudgetParseError      a memory budget ("24GB", "2x3090")
     │    │    └── UnknownGpuError  a GPU name that is not in the table
     │    ├── ContextParseError     a context length ("32k")
     │    ├── QuantParseError       a quantization name ("Q4_K_M")
     │    └── MtpDraftUnavailableError  speculative MTP asked of a model without MTP layers
     ├── HeaderParseError           a safetensors header or index is malformed
     │    └── UnknownDtypeError     ... because it names a dtype we do not know
 ├── GgufHeaderError            a GGUF header is malformed or hostile
     └── ConfigError                config.json lacks what the accounting needs

Messages name the object, say what failed, and give the next step.
"""

from __future__ import annotations


class FitbotError(Exception):
    """Base of every error fitbot raises on purpose."""

    def __reduce__(self) -> tuple[object, ...]:
        # An error raised in the crawler's parse worker crosses a process as a pickle. The default
        # rebuilds it by calling __init__ with the finished message, which subclasses would wrap a
        # second time ("x: malformed ...: x: malformed ..."); this restores it as it was.
        return (_restore_error, (type(self), self.args, self.__dict__))


def _restore_error(cls: type[FitbotError], args: tuple[object, ...], state: dict[str, object]) -> FitbotError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class InputError(FitbotError):
    """Something a user typed cannot be read; the message says what to type instead."""


class BudgetParseError(InputError):
    """A memory budget such as "24GB" or "2x3090" cannot be read."""

    def __init__(self, text: str, message: str | None = None) -> None:
        self.text = text
        super().__init__(
            message or f"'{text}' is not a size: try 24GB, 2x24GB, 24+12GB or a GPU name such as RTX 4090"
        )


class UnknownGpuError(BudgetParseError):
    """A GPU name that the GPU table does not know."""

    def __init__(self, text: str, suggestions: tuple[str, ...] = ()) -> None:
        self.suggestions = suggestions
        hint = f"did you mean {' or '.join(suggestions)}? " if suggestions else ""
        super().__init__(
            text,
            f"'{text}' is not a GPU we know: {hint}You can also give the memory, e.g. 24GB.",
        )


class ContextParseError(InputError):
    """A context length such as "32k" cannot be read."""

    def __init__(self, text: str, message: str | None = None) -> None:
        self.text = text
        super().__init__(message or f"'{text}' is not a context length: try 8192, 32k or 128k")


class QuantParseError(InputError):
    """A quantization name such as "Q4_K_M" cannot be read."""

    def __init__(self, text: str, known: tuple[str, ...]) -> None:
        self.text = text
        self.known = known
        super().__init__(f"'{text}' is not a quantization we model: try one of {', '.join(known)}")


class HeaderParseError(FitbotError):
    """A safetensors header (or index) is malformed."""

    def __init__(self, reason: str, *, filename: str | None = None) -> None:
        self.reason = reason
        self.filename = filename
        where = f"{filename}: " if filename else ""
        super().__init__(f"{where}malformed safetensors header: {reason}")


class GgufHeaderError(FitbotError):
    """A GGUF header is malformed, truncated or hostile; it fails that one file."""

    def __init__(self, reason: str, *, filename: str | None = None) -> None:
        self.reason = reason
        self.filename = filename
        where = f"{filename}: " if filename else ""
        super().__init__(f"{where}malformed GGUF header: {reason}")


class UnknownDtypeError(HeaderParseError):
    """A tensor declares a dtype that safetensors does not define."""

    def __init__(self, dtype: str, tensor: str, *, filename: str | None = None) -> None:
        self.dtype = dtype
        self.tensor = tensor
        super().__init__(f"tensor '{tensor}' has unknown dtype '{dtype}'", filename=filename)


class ConfigError(FitbotError):
    """config.json lacks the fields that the accounting needs."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"config.json cannot be used: {reason}")


class MtpDraftUnavailableError(InputError):
    """Speculative decoding with the MTP draft was asked of a model that stores no MTP / NextN layers."""

    def __init__(self, model_type: str) -> None:
        self.model_type = model_type
        super().__init__(
            f"this model ('{model_type}') stores no multi-token-prediction (MTP / NextN) layers, so there is "
            "no MTP draft to add: drop speculative:mtp, or pick a model with MTP layers such as DeepSeek-V3, "
            "GLM-4.5 or Qwen3.5"
        )
