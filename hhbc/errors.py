"""User-facing errors: one exception type, printed once by the CLI as one line."""


class HhbcError(Exception):
    """A problem with the user's input or environment, worded for the user.

    The CLI prints `hhbc: error: <message>` and exits with `exit_code`; no traceback.
    """

    exit_code = 2


class ToolchainError(HhbcError):
    """The cross compiler or emulator failed on code hhbc generated."""

    exit_code = 3


class MismatchError(HhbcError):
    """The emulated output differs from the framework beyond tolerance."""

    exit_code = 1
