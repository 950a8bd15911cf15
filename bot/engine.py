"""The flow engine: a pure function of (state, text, context) to (state, replies, effects)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot import answers as parse
from bot.answers import Option
from bot.flow import Branch, Flow, Step
from bot.labels import Labels
from bot.profile import Profile
from bot.referral import build_referral
from bot.state import State

SAFETY_STEP = "safety_check"
DELETE_CONFIRM = "delete_confirm"


@dataclass(frozen=True)
class Reply:
    """A message to send: a template key, its parameters, and any options to offer."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    step: str | None = None
    multiple: bool = False


@dataclass(frozen=True)
class Effect:
    """Something the service must do beyond replying, in the same transaction."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


class Sign(Protocol):
    """A safeguarding sign: its kind and the rule that found it (read-only, so a frozen
    dataclass with a narrower kind, as bot.safeguarding's, is one)."""

    @property
    def kind(self) -> str:
        """What was found, such as "danger"."""
        ...

    @property
    def rule(self) -> str:
        """The id of the rule that found it."""
        ...


class Detector(Protocol):
    """Anything that can spot signs of danger or self-harm in a message."""

    def detect(self, text: str) -> Sign | None:
        """The sign in `text`, if any."""
        ...


@dataclass(frozen=True)
class Context:
    """What the engine may know of the world: the clock, channel, profile, words, ids."""

    now: datetime
    channel: str
    profile: Profile
    labels: Labels
    detector: Detector
    new_reference: Callable[[], str]
    address: str | None = None


@dataclass
class Result:
    """The engine's answer to one inbound message."""

    state: dict[str, Any]
    replies: list[Reply]
    effects: list[Effect]


def step(flow: Flow, saved: dict[str, Any] | None, text: str, ctx: Context) -> Result:
    """Advance a conversation by one inbound message."""
    run = _Run(flow, State.load(saved), ctx)
    run.handle(text)
    return Result(state=run.state.dump(), replies=run.replies, effects=run.effects)


def keyword_of(text: str) -> str:
    """The message as a possible keyword: trimmed, upper-cased, without a leading slash."""
    word = re.sub(r"@\w+$", "", text.strip().lstrip("/"))
    return word.strip(" .!?").upper()


class _Run:
    """One step of the engine, collecting replies and effects."""

    def __init__(self, flow: Flow, state: State, ctx: Context) -> None:
        """Start from `state`."""
        self.flow, self.state, self.ctx = flow, state, ctx
        self.replies: list[Reply] = []
        self.effects: list[Effect] = []

    # -- entry -------------------------------------------------------------------------
    def handle(self, text: str) -> None:
        """Route the message: opted out, exit word, keywords, confirmations, danger, answers."""
        word = keyword_of(text)
        action = self.flow.keywords.get(word)
        if self.state.opted_out:
            self._while_opted_out(action, text)
        elif word == self.ctx.profile.exit_word:
            self._exit()
        elif action:
            getattr(self, f"_kw_{action}")()
        elif sign := self.ctx.detector.detect(text):  # before any pending question
            self._danger(sign.kind, sign.rule, resume=self.state.step)
        elif self.state.pending == DELETE_CONFIRM:
            self._confirm_delete(text)
        else:
            self._answer_or_begin(text)

    def _while_opted_out(self, action: str | None, text: str) -> None:
        """Only START and HELP are answered; danger is still flagged for staff, silently."""
        if action == "start":
            self._kw_start()
        elif action == "help":
            self.say("help")
        elif sign := self.ctx.detector.detect(text):
            self._flag_urgent(sign.kind, sign.rule)

    def _answer_or_begin(self, text: str) -> None:
        """Answer the current question, or begin when there is none."""
        if self.state.status == "finished":
            self.say("already_referred", reference=self.state.reference)
        elif self.state.step is None:
            self._begin()
        else:
            self._answer(self.flow.step(self.state.step), text)

    # -- replies ----------------------------------------------------------------------
    def say(self, key: str, **params: Any) -> None:
        """Queue a plain message."""
        self.replies.append(Reply(key=key, params=params))

    def ask(self, step: Step, key: str | None = None, **params: Any) -> None:
        """Queue a question with its options."""
        options = tuple(self.ctx.labels.options_for(step))
        params = {"answers": self.state.answers, **params}
        multiple = step.type == "multichoice"
        self.replies.append(Reply(key or step.prompt, params, options, step.id, multiple))

    def effect(self, effect_kind: str, **data: Any) -> None:
        """Queue an effect."""
        self.effects.append(Effect(effect_kind, data))

    # -- flow -------------------------------------------------------------------------
    def _begin(self) -> None:
        """Greet and ask the first question."""
        self.state = self.state.fresh()
        self.state.status = "active"
        self.say(self.flow.greeting)
        self._go(self.flow.start)

    def _answer(self, step: Step, text: str) -> None:
        """Read an answer; re-ask kindly if it does not fit."""
        ok, value = self._read(step, text)
        if not ok:
            self._reask(step)
            return
        self.state.failed_attempts = 0
        self.state.answers[step.save] = value
        if step.consent:
            self.effect("consent", item=step.consent, answer=value, step=step.id)
        if step.id != SAFETY_STEP:
            self.state.history.append(step.id)
        self._follow(step, self._branch_for(step, value))

    def _read(self, step: Step, text: str) -> tuple[bool, Any]:
        """(True, value) for an answer that fits the step, else (False, None)."""
        if step.optional and parse.normalise(text) in self.ctx.labels.words("skip"):
            return True, None
        value = self._parse(step, text)
        return value is not None, value

    def _parse(self, step: Step, text: str) -> Any:
        """Parse by answer type."""
        options = self.ctx.labels.options_for(step)
        if step.type in {"choice", "yesno"}:
            picked = parse.parse_choice(text, options)
            if picked is None and step.accept_month:
                return parse.parse_month(text, self.ctx.now)
            return picked
        parsers: dict[str, Callable[[], Any]] = {
            "multichoice": lambda: parse.parse_multichoice(text, options),
            "text": lambda: parse.parse_text(text, step.max_length),
            "month": lambda: parse.parse_month(text, self.ctx.now),
            "crime_ref": lambda: parse.parse_crime_ref(text),
            "phone": lambda: parse.parse_phone(text),
            "email": lambda: parse.parse_email(text),
        }
        return parsers[step.type]()

    def _reask(self, step: Step) -> None:
        """A short, kind re-ask with the options again."""
        self.state.failed_attempts += 1
        key = f"reask_{step.type}"
        self.ask(
            step,
            key,
            max_length=step.max_length,
            attempts=self.state.failed_attempts,
            accept_month=step.accept_month,
            optional=step.optional,
        )

    def _branch_for(self, step: Step, value: Any) -> Branch:
        """The first branch that matches the answer."""
        return next(b for b in step.branches if b.matches(value))

    def _follow(self, step: Step, branch: Branch) -> None:
        """Say what the branch says, apply its effects, then move on."""
        for key in branch.say:
            self.say(key, answers=self.state.answers)
        for raw in branch.effects:
            if self._apply(raw, branch):
                return
        if branch.end:
            self._end(branch.end)
        elif branch.next == "change":
            self._change(self.state.answers[step.save])
        elif branch.quiet and branch.next:
            self.state.step = branch.next
        elif branch.next:
            self._go(branch.next)

    def _change(self, choice: str) -> None:
        """Jump to the answer the person wants to change, then come back to the summary."""
        target = self.flow.changeable[choice]
        self.state.history = [s for s in self.state.history if s != target]
        self.state.returning_to = self.flow.summary
        self._go(target)

    def _apply(self, raw: dict[str, Any], branch: Branch) -> bool:
        """Apply one effect from the flow; True when it took over the conversation."""
        kind, value = next(iter(raw.items()))
        if kind == "danger":
            self._danger("danger", str(value), resume=branch.next)
            return True
        if kind == "urgent":
            self._flag_urgent("danger", str(value))
        elif kind in {"specialist", "flag"}:
            self.state.add_flag(str(value))
            self.effect(kind, flag=str(value))
        elif kind == "opt_out":
            self.state.opted_out = True
            self.effect("opt_out")
        return False

    def _go(self, target: str) -> None:
        """Move to `target`, skipping steps whose conditions do not hold, and ask it."""
        if target == "resume" and self.state.resume_step is None:
            self.say(self.flow.greeting)
        target = self._resolve(target)
        if target == "finish":
            self._finish()
            return
        self.state.step = target
        self.ask(self.flow.step(target))

    def _resolve(self, target: str) -> str:
        """Follow resume, return-to-summary and skipped steps to the real next step."""
        if target == "resume":
            target, self.state.resume_step = self.state.resume_step or self.flow.start, None
        for _ in range(len(self.flow.steps)):
            if target == "finish":
                return target
            if self.state.returning_to and target in self.state.history:
                target, self.state.returning_to = self.state.returning_to, None
            step = self.flow.step(target)
            if self._applies(step):
                return target
            target = self._skip_target(step)
        raise RuntimeError(f"flow {self.flow.id} loops while skipping steps")

    def _skip_target(self, step: Step) -> str:
        """Where a skipped step leads: its catch-all branch."""
        branch = next(b for b in reversed(step.branches) if b.when is None)
        if branch.next is None:
            raise RuntimeError(f"step {step.id} cannot be skipped: it has no next step")
        return branch.next

    def _applies(self, step: Step) -> bool:
        """True when the step's only_if conditions hold and none of its skip_if do."""
        needed = all(self._holds(k, v) for k, v in step.only_if.items())
        return needed and not any(self._holds(k, v) for k, v in step.skip_if.items())

    def _holds(self, key: str, allowed: Any) -> bool:
        """True when the channel or a stored answer is one of the allowed values."""
        wanted = {str(a) for a in (allowed if isinstance(allowed, list) else [allowed])}
        have = self.ctx.channel if key == "channel" else self.state.answers.get(key)
        return bool(wanted & {str(h) for h in (have if isinstance(have, list) else [have])})

    def _end(self, key: str) -> None:
        """Close the conversation with a final message."""
        self.say(key, answers=self.state.answers)
        self.state.status, self.state.step = "ended", None

    def _finish(self) -> None:
        """Create the referral and tell the person what happens next."""
        reference = self.ctx.new_reference()
        self.state.reference, self.state.status, self.state.step = reference, "finished", None
        referral = build_referral(self.state, self.ctx.channel, self.ctx.address, self.ctx.now)
        self.effect("finish_referral", reference=reference, referral=referral)
        self.say("finished", reference=reference, answers=self.state.answers)

    # -- safety -----------------------------------------------------------------------
    def _danger(self, kind: str, rule: str, resume: str | None) -> None:
        """Guidance first, an urgent flag, then pause the flow until they say they are safe."""
        if self.state.step != SAFETY_STEP:
            self.state.resume_step = resume
        self.state.pending = None  # an erasure waiting for a yes is asked again with DELETE
        if self.state.status == "new":
            self.state.status = "active"
        self._flag_urgent(kind, rule)
        self.say(f"guidance_{kind}")
        self.state.step = SAFETY_STEP
        self.ask(self.flow.step(SAFETY_STEP))

    def _flag_urgent(self, kind: str, rule: str) -> None:
        """Mark the conversation urgent and tell the service at once."""
        self.state.urgent = True
        self.state.add_flag(f"urgent_{kind}")
        self.effect("urgent", kind=kind, rule=rule)

    def _exit(self) -> None:
        """The exit word: stop all messages and answer with something harmless."""
        self.state.opted_out = True
        self.effect("opt_out", exit_word=True)
        self.say("exit")

    # -- keywords ---------------------------------------------------------------------
    def _kw_stop(self) -> None:
        """STOP: no more messages until START."""
        self.state.opted_out = True
        self.effect("opt_out")
        self.say("stopped")

    def _kw_start(self) -> None:
        """START: messages resume where the person left off."""
        was_out = self.state.opted_out
        self.state.opted_out = False
        if was_out:
            self.effect("opt_in")
            self.say("resumed")
        self._reprompt()

    def _kw_help(self) -> None:
        """HELP: support numbers, then the question again."""
        self.say("help")
        if self.state.step is not None:
            self._reprompt()

    def _kw_back(self) -> None:
        """BACK: the previous question again (also after a polite ending)."""
        if (
            self.state.status == "finished"
            or not self.state.history
            or (self.state.step == SAFETY_STEP)
        ):
            self.say("cant_go_back")
            self._reprompt()
            return
        self.state.status = "active"
        self.state.step = self.state.history.pop()
        self.ask(self.flow.step(self.state.step))

    def _kw_restart(self) -> None:
        """RESTART: forget the answers and begin again."""
        self.effect("restart")
        self.say("restarted")
        self._begin()

    def _kw_delete(self) -> None:
        """DELETE: ask to confirm before erasing anything."""
        self.state.pending = DELETE_CONFIRM
        self.ask(self.flow.step(DELETE_CONFIRM))

    def _confirm_delete(self, text: str) -> None:
        """Erase on yes; carry on where we were on no; re-ask otherwise."""
        confirm = self.flow.step(DELETE_CONFIRM)
        answer = parse.parse_choice(text, self.ctx.labels.options_for(confirm))
        if answer is None:
            self._reask(confirm)
            return
        self.state.pending = None
        if answer == "yes":
            self.effect("erase")
            self.state = State(flow=self.state.flow, version=self.state.version, status="deleted")
            self.say("deleted")
            return
        self.say("not_deleted")
        self._reprompt()

    def _reprompt(self) -> None:
        """Ask the current question again, or begin if there is none."""
        if self.state.status == "finished":
            self.say("already_referred", reference=self.state.reference)
        elif self.state.step is None:
            self._begin()
        else:
            self.ask(self.flow.step(self.state.step))
