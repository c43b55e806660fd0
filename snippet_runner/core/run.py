"""Verify one page's snippets, in order, inside one sandbox.

A page is one story: its blocks run in page order, each in the shell named by its ``session``
option (``main`` unless set), so a container started in block 2 exists in block 3. ``file=``
blocks are written into the sandbox, ``hide`` blocks run like any other (the page just doesn't
show them), skipped blocks become SKIPPED outcomes. A command that times out is killed by the
session and reported at its line; the page goes on. So does a command that needs an image
which is not a fixture (`errors.MissingImageError`): it is an ERROR at its line saying how to
add the image, and its shell stays usable. Once the page's own time limit is spent, or the
sandbox itself fails, the remaining commands are reported, not run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..errors import MissingImageError, SnippetRunnerError
from ..model import (
    Command,
    Fix,
    Outcome,
    RunResult,
    Sandbox,
    Session,
    Snippet,
    Status,
    Step,
    StepProgress,
)
from .compare import compare, default_exit
from .fixes import applied_fixes, fixed_command_text


@dataclass
class PageRun:
    """State of one page's run: its sessions and its deadline."""

    sandbox: Sandbox
    """Where the page runs."""
    text: str
    """The page's source text (for applying fixes to commands)."""
    fixes: tuple[Fix, ...]
    """The page's fixes; the safe ones are applied to commands when ``apply_fixes``."""
    command_timeout: float
    """Default per-command limit."""
    deadline: float
    """``time.monotonic()`` value after which nothing more runs."""
    page_timeout: float
    """The page's limit in seconds (for messages)."""
    apply_fixes: bool = True
    """Run commands with safe fixes applied."""
    sessions: dict[str, Session] = field(default_factory=dict)
    """Open shells by ``session`` name."""
    broken: str | None = None
    """Why the sandbox can no longer be used, once it failed."""
    last_limit: float = 0.0
    """The time limit the last command ran with (the page's remaining time may cut it)."""
    on_step: StepProgress | None = None
    """Told as each command starts and is judged (progress displays)."""

    def starting(self, snippet: Snippet, command: Command | None) -> None:
        """Tell `on_step` that ``command`` (or the whole ``snippet``) starts."""
        if self.on_step is not None:
            self.on_step(Step(snippet, command, None))

    def judged(self, outcome: Outcome) -> Outcome:
        """Tell `on_step` the verdict; returns it."""
        if self.on_step is not None:
            self.on_step(Step(outcome.snippet, outcome.command, outcome))
        return outcome

    def session(self, name: str) -> Session:
        """The shell called ``name``, opened on first use."""
        if name not in self.sessions:
            self.sessions[name] = self.sandbox.open_session()
        return self.sessions[name]

    def limit(self, snippet: Snippet) -> float:
        """Seconds the next command may take."""
        wanted = snippet.options.timeout or self.command_timeout
        return max(0.0, min(wanted, self.deadline - time.monotonic()))


def run_page(sandbox: Sandbox, snippets: tuple[Snippet, ...], text: str, fixes: tuple[Fix, ...],
             *, command_timeout: float, page_timeout: float,
             apply_fixes: bool = True, on_step: StepProgress | None = None) -> list[Outcome]:
    """Run every snippet of a page and judge each command; never raises for a failure.
    ``on_step`` hears of each command as it starts and as it is judged."""
    state = PageRun(sandbox, text, fixes, command_timeout, time.monotonic() + page_timeout,
                    page_timeout, apply_fixes, on_step=on_step)
    outcomes: list[Outcome] = []
    for snippet in snippets:
        outcomes.extend(_run_snippet(state, snippet))
    return outcomes


def _not_run(state: PageRun, snippet: Snippet, command: Command | None) -> Outcome | None:
    """An outcome for a command that must not run any more, or None when it may."""
    if state.broken is not None:
        return Outcome(snippet, command, Status.ERROR,
                       diff=f"not run: the sandbox failed earlier ({state.broken})")
    if time.monotonic() >= state.deadline:
        return Outcome(snippet, command, Status.TIMEOUT,
                       diff=f"not run: the page's time limit of {state.page_timeout:g} s was "
                            "used up by earlier commands")
    return None


def skipped_outcome(snippet: Snippet) -> Outcome:
    """The outcome of a block marked ``skip``: nothing ran; the message carries the reason."""
    return Outcome(snippet, None, Status.SKIPPED, diff=f"skipped: {snippet.options.skip}")


def _run_snippet(state: PageRun, snippet: Snippet) -> list[Outcome]:
    if snippet.options.skip is not None:
        return [state.judged(skipped_outcome(snippet))]
    if snippet.options.file is not None:
        state.starting(snippet, None)
        return [state.judged(_put_file(state, snippet))]
    if snippet.script is not None:
        state.starting(snippet, None)
        return [state.judged(_run_script(state, snippet))]
    outcomes: list[Outcome] = []
    for command in snippet.commands:
        last = command == snippet.commands[-1]
        state.starting(snippet, command)
        outcomes.append(state.judged(_run_command(state, snippet, command, last)))
    return outcomes


def _put_file(state: PageRun, snippet: Snippet) -> Outcome:
    stopped = _not_run(state, snippet, None)
    if stopped:
        return stopped
    assert snippet.options.file is not None
    try:
        state.sandbox.put_file(snippet.options.file, snippet.body.encode("utf-8"))
    except SnippetRunnerError as err:
        return Outcome(snippet, None, Status.ERROR, diff=f"could not write "
                       f"{snippet.options.file} into the sandbox: {err}")
    return Outcome(snippet, None, Status.PASSED)


def _execute(state: PageRun, snippet: Snippet, text: str, stdin: str | None,
             command: Command | None) -> RunResult | Outcome:
    """Run ``text`` in the snippet's session: a RunResult, or an Outcome when it could not."""
    stopped = _not_run(state, snippet, command)
    if stopped:
        return stopped
    timeout = state.limit(snippet)
    try:
        ran = state.session(snippet.options.session).run(text, timeout=timeout, stdin=stdin)
        state.last_limit = timeout
        return ran
    except SnippetRunnerError as err:
        if not _missing_image(err):
            state.broken = str(err)
        return Outcome(snippet, command, Status.ERROR, diff=f"could not run: {err}")


def _missing_image(err: BaseException) -> bool:
    """Whether ``err`` is a command's missing image: the sandbox is fine, only that command
    could not do its work, so the rest of the page still runs."""
    return isinstance(err, MissingImageError)


def _run_script(state: PageRun, snippet: Snippet) -> Outcome:
    assert snippet.script is not None
    ran = _execute(state, snippet, snippet.script.rstrip("\n"), snippet.options.stdin, None)
    if isinstance(ran, Outcome):
        return ran
    if ran.timed_out:
        return Outcome(snippet, None, Status.TIMEOUT, ran, diff=_timeout_message(state, snippet))
    if ran.exit_code != snippet.options.exit:
        return Outcome(snippet, None, Status.FAILED, ran,
                       diff=_with_note(f"the script ended with exit status {ran.exit_code}, "
                                       f"expected {snippet.options.exit}; its output:\n"
                                       f"{ran.output}", ran))
    return Outcome(snippet, None, Status.PASSED, ran)


def _run_command(state: PageRun, snippet: Snippet, command: Command, last: bool) -> Outcome:
    applied = applied_fixes(state.fixes, command, apply=state.apply_fixes)
    text = fixed_command_text(state.text, command, applied)
    stdin = snippet.options.stdin if last else None
    ran = _execute(state, snippet, text, stdin, command)
    if isinstance(ran, Outcome):
        return ran
    if ran.timed_out:
        return Outcome(snippet, command, Status.TIMEOUT, ran,
                       diff=_timeout_message(state, snippet), fixes=applied)
    verdict = compare(command.expected, ran.output, ran.exit_code,
                      default_exit=default_exit(snippet, command))
    status = Status.PASSED if verdict.matched else Status.FAILED
    return Outcome(snippet, command, status, ran, diff=_with_note(verdict.diff, ran),
                   fixes=applied)


def _with_note(diff: str, ran: RunResult) -> str:
    """A mismatch's diff, and what the sandbox had to say about the failure, if anything."""
    return f"{diff}\n{ran.note}" if diff and ran.note else diff


def _timeout_message(state: PageRun, snippet: Snippet) -> str:
    wanted = snippet.options.timeout or state.command_timeout
    if state.last_limit < wanted:
        return (f"killed after {state.last_limit:.3g} s when the page's time limit of "
                f"{state.page_timeout:g} s ran out")
    return (f"timed out after {wanted:g} s and was killed; raise the limit with "
            f'timeout="seconds" on the block if it needs longer')
