"""
The AWS CLI v2's auto-prompt: edit the whole command line, with completion and help.

When it prompts (first match wins, as in the AWS CLI v2):

1. ``--no-cli-auto-prompt``: never; ``--cli-auto-prompt``: always (``on``);
2. ``AWS_CLI_AUTO_PROMPT`` = ``on`` or ``on-partial``;
3. the profile's ``cli_auto_prompt`` setting, the same values.

``on`` prompts before every command; ``on-partial`` only when the command
line is incomplete (no command, a required option missing, an option the
command does not take).  The prompt shows the command line typed so far;
completions list the commands, then the command's options with their help,
then an option's choices; the bar at the bottom explains the option under
the cursor.  Enter runs the command; Ctrl-C or Ctrl-D cancels (exit 130).

The prompt needs a terminal (stdin and stdout) and prompt_toolkit (in the
``cli`` extra).
"""

from __future__ import annotations

import argparse
import configparser
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from cfinv.cli._errors import CommandLineError, UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

__all__ = ["OptionHelp", "ask_command_line", "command_options", "prompt_mode"]

_MODES = ("on", "on-partial")


def _configured_mode(argv: Sequence[str]) -> str | None:
    """The profile's ``cli_auto_prompt``, read from the config file without botocore."""
    profile = None
    for index, word in enumerate(argv):
        if word == "--profile" and index + 1 < len(argv):
            profile = argv[index + 1]
        elif word.startswith("--profile="):
            profile = word.split("=", 1)[1]
    profile = profile or os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE")
    path = Path(os.environ.get("AWS_CONFIG_FILE") or Path.home() / ".aws" / "config").expanduser()
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return None  # botocore reports a broken config file when the command runs
    section = "default" if profile in {None, "default"} else f"profile {profile}"
    if not parser.has_section(section):
        return None
    return parser.get(section, "cli_auto_prompt", fallback=None)


def prompt_mode(argv: Sequence[str]) -> str | None:
    """
    ``on``, ``on-partial`` or None (no prompt) for this command line.

    Raises:
        UsageError: AWS_CLI_AUTO_PROMPT or the profile's setting is not a
            known mode (the message names it).
    """
    if "--no-cli-auto-prompt" in argv or {"-h", "--help", "--version"} & set(argv):
        return None
    if "--cli-auto-prompt" in argv:
        return "on"
    for source, value in (
        ("AWS_CLI_AUTO_PROMPT", os.environ.get("AWS_CLI_AUTO_PROMPT")),
        ("the profile's cli_auto_prompt", _configured_mode(argv)),
    ):
        if value is None or value == "":
            continue
        mode = value.strip().lower()
        if mode == "off":
            return None
        if mode not in _MODES:
            msg = f"Bad value for {source}: {value!r}; use on, on-partial or off"
            raise UsageError(msg, code="config")
        return mode
    return None


# --- what the command line offers -----------------------------------------------------------


@attrs.frozen
class OptionHelp:
    """One option (or command) the prompt can complete: its name, help and choices."""

    name: str
    help: str
    choices: tuple[str, ...] = ()


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # noqa: SLF001 - argparse offers no public walk
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            return dict(action.choices)
    return {}


def _help_of(parser: argparse.ArgumentParser, name: str) -> str:
    for action in parser._actions:  # noqa: SLF001
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for choice in action._choices_actions:  # noqa: SLF001
                if choice.dest == name:
                    return choice.help or ""
    return ""


def command_options(
    parser: argparse.ArgumentParser, words: Sequence[str]
) -> tuple[list[OptionHelp], list[OptionHelp]]:
    """
    (subcommands, options) the command line ``words`` can continue with.

    Follows the typed subcommands (``wait invalidation-completed``) down the
    parser; options are the innermost parser's, global ones included.
    """
    current = parser
    for word in words:
        children = _subcommands(current)
        if word in children:
            current = children[word]
    commands = [OptionHelp(name, _help_of(current, name)) for name in _subcommands(current) if name]
    options = []
    for action in _own_options_first(current):
        if action.help == argparse.SUPPRESS or not action.option_strings:
            continue
        long_names = [s for s in action.option_strings if s.startswith("--")]
        for name in long_names or action.option_strings:
            choices = tuple(str(c) for c in action.choices) if action.choices else ()
            options.append(OptionHelp(name, action.help or "", choices))
    return commands, options


def _own_options_first(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The command's own options, then the AWS CLI's global ones, then --help."""
    shared: set[int] = set()
    for group in parser._action_groups:  # noqa: SLF001
        if group.title and group.title.startswith("global options"):
            shared.update(id(action) for action in group._group_actions)  # noqa: SLF001
    actions = parser._actions  # noqa: SLF001
    own = [a for a in actions if id(a) not in shared and not isinstance(a, argparse._HelpAction)]  # noqa: SLF001
    helps = [a for a in actions if isinstance(a, argparse._HelpAction)]  # noqa: SLF001
    return own + [a for a in actions if id(a) in shared] + helps


# --- the prompt -----------------------------------------------------------------------------


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # an open quote while typing
        return text.split()


def _make_completer(parser: argparse.ArgumentParser) -> Any:
    from prompt_toolkit.completion import Completer, Completion

    class CommandCompleter(Completer):
        """Commands, then the command's options (with help), then an option's choices."""

        def get_completions(self, document: Any, _event: Any) -> Iterator[Any]:
            before = document.text_before_cursor
            words = _split(before)
            current = "" if before.endswith(" ") or not words else words[-1]
            done = words if before.endswith(" ") or not words else words[:-1]
            commands, options = command_options(parser, done)
            by_name = {option.name: option for option in options}
            previous = done[-1] if done else ""
            if previous in by_name and by_name[previous].choices:
                candidates = [
                    OptionHelp(c, by_name[previous].help) for c in by_name[previous].choices
                ]
            elif current.startswith("-"):
                given = set(done)
                candidates = [o for o in options if o.name not in given]
            elif previous.startswith("-") and previous in by_name:
                return  # the option's value: nothing to offer
            else:
                candidates = commands
            for candidate in candidates:
                if candidate.name.startswith(current):
                    yield Completion(
                        candidate.name,
                        start_position=-len(current),
                        display_meta=candidate.help,
                    )

    return CommandCompleter()


def _toolbar(parser: argparse.ArgumentParser, text: str) -> str:
    """The help of the option (or command) being typed, for the bottom bar."""
    words = _split(text)
    commands, options = command_options(parser, words[:-1] if words else [])
    known = {o.name: o.help for o in [*commands, *options]}
    for word in reversed(words):
        if known.get(word):
            return f"{word}: {known[word]}"
    return "Tab completes · Enter runs the command · Ctrl-C cancels"


def ask_command_line(argv: Sequence[str], parser: argparse.ArgumentParser) -> list[str]:
    """
    Let the user edit the command line ``argv`` on the terminal; the new one.

    Raises:
        UsageError: No terminal to prompt on, or prompt_toolkit is missing.
        KeyboardInterrupt: The user cancelled (Ctrl-C or Ctrl-D).
    """
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        msg = "--cli-auto-prompt needs a terminal to prompt on; give the options instead"
        raise UsageError(msg)
    try:
        from prompt_toolkit import PromptSession
    except ImportError:
        msg = "the auto-prompt needs prompt_toolkit: pip install 'cfinv[cli]'"
        raise UsageError(msg, code="config") from None
    words = [w for w in argv if w != "--cli-auto-prompt"]
    session: PromptSession[str] = PromptSession(
        completer=_make_completer(parser),
        complete_while_typing=True,
        bottom_toolbar=lambda: _toolbar(parser, session.default_buffer.text),
    )
    try:
        line = session.prompt("> cfinv ", default=_joined(words) + (" " if words else ""))
    except EOFError:
        raise KeyboardInterrupt from None
    try:
        return shlex.split(line)
    except ValueError as exc:
        msg = f"cannot read the command line: {exc}"
        raise CommandLineError(msg) from None


def _joined(words: Iterable[str]) -> str:
    return shlex.join(list(words))
