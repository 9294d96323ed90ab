"""Support requests (docs/process.md, "Support"): what a client message asking for help looks
like, how severe it is, whether it is product feedback, what counts as a first response, and
the targets by segment in the client's business hours. Pure: `now` is always a parameter.

`RuleSupportDetector` always runs (it is fast enough for the ingest path); a model detector
(llm/support_classifier.py) answers when one is configured and falls back to these rules.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any, Literal, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.calendar import WorkCalendar
from domain.classify import normalize

logger = logging.getLogger(__name__)

Source = Literal["rules", "llm", "reaction", "command"]


class SupportKind(StrEnum):
    QUESTION = "question"  # how do I / where is / what does … mean
    BUG = "bug"  # wrong numbers, an error, something broken
    NOT_WORKING = "not_working"  # can't log in, the dashboard doesn't load
    REQUEST = "request"  # reset my password, give Jo access, please help
    NONE = "none"


class Severity(StrEnum):
    BLOCKER = "blocker"  # they can't work: an outage, a login, an urgent break
    NORMAL = "normal"
    QUESTION = "question"


class FeedbackKind(StrEnum):
    FEATURE_REQUEST = "feature_request"
    BUG = "bug"
    NONE = "none"


SEVERITY_LABELS: dict[Severity, str] = {
    Severity.BLOCKER: "Blocker",
    Severity.NORMAL: "Normal",
    Severity.QUESTION: "Question",
}


@dataclass(frozen=True)
class SupportReading:
    """What a detector saw in one message."""

    kind: SupportKind
    severity: Severity | None  # None when it is no support request
    feedback: FeedbackKind
    reason: str
    source: Source = "rules"

    @property
    def opens(self) -> bool:
        return self.kind is not SupportKind.NONE

    @property
    def label(self) -> str:
        """The evaluation label: the severity, or "none"."""
        return self.severity.value if self.severity is not None else "none"


class SupportDetector(Protocol):
    def detect(self, text: str) -> SupportReading: ...


# -- the rules ---------------------------------------------------------------------------------
# Written as phrase families (not example sentences): what breaks, what is wrong, what is asked
# for, what is asked, what makes it urgent, and what says "nothing to do" (thanks, resolved,
# FYI, a joke). Each family is one precompiled alternation; a message is one pass over each.
_NOT_WORKING = (
    r"\b(?:is|are|was|were|it's|its|seems?|keeps?|isn't|aren't|wasn't|weren't|still)? ?(?:not"
    r"|n't|no longer) (?:being |actually |really |even )?(?:working|loading|updating|refreshing"
    r"|syncing|showing(?: up)?|getting any"
    r"|running|opening|rendering|responding|coming(?: through| in)?|sending|saving|arriving"
    r"|populating|firing|sent|created|updated|synced|getting (?:created|sent|synced|updated))\b",
    r"\b(?:doesn't|does not|don't|do not|won't|will not|didn't|did not|never) (?:work|load|open"
    r"|run|sync|refresh|update|show(?: up)?|export|save|send|arrive|fire|land|find|do anything"
    r"|come through|get (?:created|sent|synced|updated)|activate)\b",
    r"\b(?:still )?(?:isn't|aren't) (?:in|there|showing)\b|\bis not arrived\b",
    r"\bstopp?(?:ed|s)\b(?! (?:by|for) (?:the )?(?:meeting|call))",
    r"\b(?:can't|cant|cannot|can not|couldn't|unable to|not able to)(?: \w+){0,2} (?:log ?in"
    r"|login|sign ?in|access|open|load|see|export|download|upload|connect|save|view|get (?:in"
    r"|into)|reach|run|use|work|submit|generate|pick|touch|close|activate)\b",
    r"\b(?:is|are|went|was|been|goes|seems?|fully|instance|prod|totally|completely) down\b"
    r"|\boutage\b",
    r"\b(?:keeps?|kept) (?:failing|crashing|timing out|erroring|logging (?:me|us) out"
    r"|unsubscribing|resetting|dropping)\b",
    r"\btim(?:ed|es|ing) out\b|\b(?:blank|empty) (?:page|screen|dashboard|report|file|arrays?)\b",
    r"\blocked (?:\w+ ){0,4}out\b|\blogged out\b|\b(?:is|are|got|gets?|still|seems?) stuck\b"
    r"|\bstuck (?:on|at|in (?:pending|a loop|the queue)|loading)\b|\bfrozen\b|\bhangs?\b|\bspins?"
    r" forever\b|\bloops? back\b|\b(?:seems?|is|looks?) dead\b(?! to)|\bdead in the water\b"
    r"|\bbroke(?= ?(?:[,.;!]|$| again| down))",
    r"\b(?:hasn't|haven't|has not|have not)(?: been)? (?:updated|refreshed|synced|run|loaded"
    r"|arrived|come through|changed|populated)\b",
    r"\bfail(?:s|ed|ing|ure|ures)?\b|\bbounced\b|\brejecting\b|\bdisabling\b",
    r"\b(?:return(?:s|ing)?|throw(?:s|ing)?|getting|get|gives?|giving|says?|shows?|showing"
    r"|errors with)(?: \w+){0,3} (?:an? )?(?:errors?|nulls?|empty|blank|zeros?|garbage"
    r"|invalid\w*|access denied|no results|no permissions|the same|[45]\d\d)\b",
    r"\b(?:401|403|404|429|500|502|503|504)s?\b|\berr_\w+",
    r"\b(?:no|nothing)(?: \w+){0,2} (?:data|numbers|results|invoices|has (?:synced|run|loaded)"
    r"|is (?:loading|coming)|have run|loads?)\b|\bno data since\b",
    r"\bdoesn't do anything\b|\bnothing happens\b|\baccess denied\b|\bforbidden\b"
    r"|\bunauthori[sz]ed\b|\bpermission denied\b|\b(?:deactivated|expired|revoked)\b"
    r"|\b(?:hours?|days?|way) behind\b",
)
_BUG = (
    r"\bbugs?\b|\bbuggy\b|\bbroken\b|\bglitch\w*\b|\bcrash(?:es|ed|ing)?\b|\bexception\b",
    r"\berror(?:s| message| code)?\b|\b50[0-4]\b|\bwarnings?\b",
    r"\b(?:wrong|incorrect|off|inconsistent|weird|strange|stale|old) (?:numbers?|totals?|values?"
    r"|data|figures?|results?|counts?|dates?|amounts?|revenue|metrics?|stage|recipients|order"
    r"|definition|targets|characters|credit)\b",
    r"\b(?:numbers?|totals?|values?|data|figures?|counts?|metrics?|revenue|rate|this|it|that"
    r"|everything) (?:look|looks|are|is|seem|seems)(?: \w+)? (?:wrong|off|incorrect|weird|strange"
    r"|inflated|doubled|duplicated|corrupted|negative|unreadable|confusing|unlikely)\b",
    r"\b(?:don't|doesn't|do not|does not) (?:match|add up|tie out|reconcile)\b",
    r"\bduplicat(?:e|ed|es)\b|\bdupes\b|\b(?:shows?|showing|counted|appears?|listed|sent|posted"
    r"|numbers|rows|data) twice\b|\bdouble[ -]?count\w*|\bdoubled\b|\b\d+ times\b(?! (?:faster"
    r"|better|more|as|less))",
    r"\bmissing\b(?<!nothing is missing)(?<!nothing's missing)|\bdisappeared\b|\bdrops? all\b"
    r"|\bskipped\b|\bexcludes\b|\bcuts? off\b|\b(?:double|twice|half|\d+x) what\b"
    r"|\binflat(?:es|ed|ing)\b|\breconcile\b",
    r"\bshow(?:s|ing)? (?:zero|0|nothing|null|nan|n/a)\b|\boff by\b|\b\d+x\b",
    r"\b(?:garbage|corrupt\w*|scrambled|garbled|unreadable|overlap\w*|nulls?)\b|\b(?:is|are"
    r"|shows?|showing|went|became|turned) negative\b|\bnegative (?:values?|numbers?|prices?"
    r"|amounts?|revenue|counts?|\w+ rates?)\b",
    r"\b(?:looks?|seems?) (?:way |a bit |really |totally )?(?:wrong|off|inflated|deflated|incorrect"
    r"|weird|strange|too (?:high|low)|doubled|duplicated)\b",
    r"\b(?:can't|cannot) be right\b|\bseems? unlikely\b|\bnot real\b|\bsomething(?:'s)?"
    r" (?:odd|weird|off|wrong)\b|\bi doubt it\b",
    r"\b(?:jumps?|dropped|spiked?) (?:from|by)\b|\bstill (?:seeing|using|shows?|getting)\b",
    r"\b(?:looks?|seems?) off\b|\beven (?:when|though)\b|\bbreaks?\b|\bbreaking\b|\bempty\b"
    r"|\bstale\b|\b(?:is|are|goes|went|comes? up|shows?|showing|completely|totally|just)"
    r" (?:\w+ )?blank\b|\bblank (?:page|screen|tiles?|report|dashboard|chart)s?\b"
    r"|\b(?:is|are) (?:\w+ )?(?:zero|0|null)\b",
    r"\b(?:shows?|showing|is|are|uses?|using|seems to be) [^.,]{1,30} instead of\b",
)
_REQUEST = (
    r"\b(?:reset|unlock|reactivate|rotate)\b(?: \w+){0,3} (?:password|account|access|login|user"
    r"|key|creds?|credentials)\b",
    r"\b(?:give|grant|add|invite|remove|revoke|provision|set up)\b(?: [\w@<>.'-]+){0,4}"
    r" (?:access|permissions?|as (?:a |an )?(?:user|admin|viewer|editor)|an? (?:account|login"
    r"|seat|license))\b",
    r"\b(?:need|needs|requesting|request) (?:\w+ )?(?:access|a (?:login|seat|license|new user))\b",
    r"\b(?:can|could|would|will) (?:you|someone|somebody|anyone|one of you|u|you guys)\b"
    r"(?! (?:explain|remind|tell|clarify|confirm (?:if|whether)))",
    r"\b(?:need|needs|want) (?:some |your |a )?(?:help|hand)\b|\bhelp (?:me|us|needed)\b",
    r"\b(?:please|pls|plz)\b(?! (?:disregard|ignore|find|see|note|feel free|keep in mind))",
    r"(?:^|[.!?] )(?:hey |hi |hello |ok |so )?(?:add|remove|rotate|change|rename|move|pause"
    r"|archive|allowlist|whitelist|transfer|resend|bump|swap|update|exclude|reset|enable|disable"
    r"|turn (?:on|off|it off)|stop|roll ?back|kill|escalate|create|extend|revert)\b",
    r"\b(?:i|we) (?:really |urgently |still )?(?:need|require)\b|^need\b|\bneed (?:a|an|the"
    r"|it|this|eyes|someone|viewer|read|write|admin)\b|\bi need\b|\bneeds? (?:to be )?(?:fixed"
    r"|stopped|fixing|rolled back)\b",
    r"\brequest:|\bp[0-2]\b",
)
_HOW = (
    r"\?",
    r"\bhow (?:do|can|should|would|does|did|are|is|often|long|far|much|many) \w+|\bhow to\b"
    r"|\bhow's\b",
    r"\bwhere (?:do|can|should|does|is|are) (?:i|we|the|our|my|you)\b",
    r"\bwhat (?:does|do|is|are|was|time|happens) \w+|\bwhat'?s the\b",
    r"\bwhy (?:is|are|does|do|did|would|has|have) (?:the|my|our|this|that|it|there|we)\b",
    r"\bis there (?:a|any) (?:way|option|setting|place|doc|sandbox)\b",
    r"\b(?:which|what) (?:field|column|filter|metric|report|tab|setting|option|table|timezone"
    r"|warehouse|dashboard|slack channel|ip|format|version|endpoint)\b",
    r"\bdifference between\b|\bhow (?:is|are) [\w ]{1,30} (?:calculated|defined|computed)\b",
    r"^(?:(?:hi|hey|hello|hola|quick q|random one|just so i understand|sorry)\W+)?(?:how|what"
    r"|whats|when|when's|where|which|who|why|is|are|does|do|did|should|would|could|were|was"
    r"|has|have)\b",
    r"\b(?:wondering|curious|trying to understand|just so i understand|quick q(?:uestion)?"
    r"|a question|any idea|anyone know|do you know|remind me|explain|tell me"
    r"|not sure (?:if|whether|how))\b",
    r"\b(?:i|we) (?:was |were |am |are )?wondering\b|\bquestion\b",
    r"\bor (?:only|just|not|is (?:that|it)|do (?:we|i)|the other way)\b",
    r"\bwho (?:should|do|can|owns|is|decided)\b",
)
# Questions that are no support: meetings, invoices, social, the project's status.
_NOT_SUPPORT = (
    r"\b(?:call(?! (?:transcripts?|logs?|data|volume|center|recordings?)\b)|meeting|invite"
    r"|calendar|lunch|dinner|coffee|weekend|vacation|holiday|cake"
    r"|time works|works for you|free (?:at|on|for)|reschedule|agenda|slides|deck|invoice|po\b"
    r"|contract|proposal|pricing|offsite)\b(?![^?]*\b(?:dashboard|numbers?"
    r"|report|same thing|revenue)\b)",
    r"\bany (?:update|news|progress)\b|\bwhat'?s the (?:status|plan)\b",
    r"\bhow (?:are|was|is) (?:you|your|the (?:weekend|trip|holiday|offsite))\b(?! \w+ing)",
    r"^(?:thanks|thank you|thx|ty)\b[^?]*$",
)
# Nothing to do: it is fixed, it was on their side, an FYI, a joke, a rhetorical question.
_SETTLED = (
    r"\b(?:fixed|resolved|solved|sorted|all good|works now|working now|working again|back to normal"
    r"|it's back|is back|never ?mind|figured it out|my bad|ignore (?:me|the|my|it)|disregard"
    r"|no action needed|nothing (?:broken|wrong|to do|for you|needed|pressing|else)"
    r"|not your fault|false positive|without errors|no issues|no more|is gone"
    r"|(?:match|matches|tie out) (?:\w+ )?now|refreshed fine|was planned|(?:was|is) on (?:our|their"
    r"|\w+'s) (?:end|side)|we already|can confirm|confirmed|isn't broken|not broken"
    r"|nothing lost|was lost|as expected|expected\.|false alarm|that answers|makes sense|understood"
    r"|good call|(?:nice|great|good) catch|much (?:clearer|faster|better)|super stable|zero errors"
    r"|not an actual|ignore$)\b",
    r"^(?:lol|haha\w*)\b",
    r"\b(?:who (?:knew|would'?ve thought|needs)|what could possibly|why is it always"
    r"|why does every|can't believe)\b",
)
_SETTLED_BUT = re.compile(
    r"\b(?:still|again|thought that was|not (?:yet|fully)|needs? (?:it |this |to be )?(?:fixed"
    r"|sorted|resolved|confirmed))\b"
)
_SETTLED_AFTER = re.compile(r"\b(?:but|though|however)\b|\?")
# Said in passing: no ask and no question, unless something is broken or wrong.
_FYI = re.compile(
    r"^(?:fyi|heads[ -]up|just (?:an? )?(?:update|fyi|confirming|wanted to)|note to self)\b"
)
_URGENT = (
    r"\burgent\w*\b|\basap\b|\bemergency\b|\bcritical\b|\bblocker\b|\bblocking\b|\bblocked\b",
    r"\b(?:is|are|went|was|been|fully|prod|instance|completely) down\b|\boutage\b|\bdown\?",
    r"\b(?:nobody|no one|none of us|(?:for|on) (?:every(?:one|body)|anyone)|every(?:one|body)"
    r"(?:'s| is| can| gets?| getting)|all (?:of )?(?:our |the |my )?(?:users|customers|team"
    r"|merchants|dashboards|regions|campaigns|downstream|partners)|the whole (?:team|\w+ team)"
    r"|whole (?:team|\w+ team|bi)|all of us|every single time)\b",
    r"\b(?:can't|cannot|cant|unable to|not able to)(?: \w+){0,2} (?:log ?in|login|sign ?in"
    r"|access|get in|work|close|submit|generate|run|deploy|pick|touch|activate|hold|do|use)\b",
    r"\bin (?:prod|production)\b|\bprod(?:uction)? (?:is|job|env|feature|credentials|down)\b"
    r"|\bright now\b|\bimmediately\b|\bnow!|\brn\b|\bneeds? (?:\w+ )?(?:now|asap|today)\b",
    r"\b(?:locked|logged) (?:\w+ ){0,4}out\b|\bboard\b|\bexec(?:utive)? (?:review|report)\b"
    r"|\bceo\b|\bcfo\b|\bregulator\b|\bauditors?\b|\blegal\b|\bcompliance\b|\bdeadline\b",
    r"\bin (?:the next )?(?:\d+|an?|one|two) ?(?:min(?:ute)?s?|h|hrs?|hours?)\b",
    r"\b(?:costing|losing|lose|overselling|breach|miss)\b|\bcan'?t (?:work|hold)\b|\bp[01]\b"
    r"|\bescalat\w*\b|\bidle\b|\bflying blind\b|\bturn (?:it )?off\b|\bstop (?:it|the|this)\b",
    r"\b(?:is|are) waiting\b|\bwaiting on (?:us|you|it|this)\b|\b(?:month|quarter|year)[- ]end\b"
    r"|\bcustomers? (?:are|is) (?:seeing|getting|emailing|complaining)\b|\bto (?:our )?customers\b",
)
# Soon: a deadline makes a breakage a blocker (an ask for access or a change stays normal).
_SOON = re.compile(
    r"\bbefore (?:\d|the|our|it)\b|\bby (?:eod|end of day|tonight)|\b(?:today|tonight|tomorrow"
    r"|by monday)\b|\b(?:at|by) \d{1,2}(?::\d\d)?(?: ?(?:am|pm)|\b(?!%))|\b\d{1,2}(?::\d\d)?"
    r" ?(?:am|pm)\b|\b(?:at|by) (?:noon|midnight)\b|\bdue\b|\bcutoff\b|\bgo-?live\b|\blaunch\w*\b"
)
# Where a message starts with a question word it is a question, unless something is broken.
_ASKS_FIRST = re.compile(
    r"^(?:(?:hi|hey|hello|hola|quick q|random one|just so i understand|sorry)\W+)?(?:how|what"
    r"|whats|when(?:'s| is| are| does| do| will| should| can| would)|where|which|who|why|is|are"
    r"|does|do|did|should|were|was|can i|can we"
    r"|could i|could we|has|have)\b|\b(?:wondering|curious|do you know|any idea)\b"
)
_ACCESS = re.compile(
    r"\b(?:locked|password|account|permissions?|credentials|creds|mfa|deactivated|access)\b"
)
# Said calmly: no blocker whatever else the message says.
_CALM = re.compile(
    r"\b(?:not urgent|no rush|not blocking|neither is blocking|small thing|when (?:someone|you)"
    r" (?:has|have|get) a (?:sec|minute|moment)|whenever|low priority|minor|no hurry)\b"
)
_FEATURE = (
    r"\bfeature (?:request|ask)\b|\bwould be (?:really |very |super )?(?:great|nice|awesome"
    r"|helpful|useful|amazing) (?:if|to)\b|\bwould help (?:a lot|us)\b|\bwish ?list\b",
    r"\b(?:it'?d|it would) be (?:great|nice|awesome|helpful|useful) (?:if|to)\b",
    r"\b(?:i|we) wish (?:the|it|there|we|you)\b|\bany plans? (?:to|for|on)\b",
    r"\bon (?:the|your) roadmap\b|\b(?:would|'d) love (?:to see|a way|an option|the ability)\b",
    r"\bwould love an? \b|\b(?:please |pls )?(?:add|support|build|expose) (?:an? )?(?:option|way"
    r"|setting|toggle|ability|support for)\b|\badd support for\b|\bsupport for\b",
    r"\b(?:can|could) (?:you|the \w+) (?:add|support|build|make) (?:an? )?(?:option|way|setting"
    r"|toggle|ability|dark mode|sso|export to|currency)\b",
    r"\b(?:does|do|will) (?:it|the (?:tool|app|product|platform|dashboard|portal)) (?:support"
    r"|ever support|have)\b",
    r"\bsuggestion:|\benhancement\b|\bself-serve\b|\b(?:is|would) it (?:be )?(?:possible"
    r"|feasible)\b|\bhow (?:hard|feasible|much effort)\b|\bwhat would it take\b",
    r"\b(?:planning|plans) to (?:add|support|build)\b|\bany chance\b|\beventually\b"
    r"|\bin the future\b|\bat some point\b|\bsomething you'?ve built\b",
    r"\b(?:could|can) (?:we|i) (?:get|have)\b|\b(?:we'd|we would|they'd|they would|ops would"
    r"|\w+ would) (?:like|want)\b|\bwe want to be able\b|\bwants the\b|\blooking for an?\b",
    r"\bneed (?:an? )?(?:[\w-]+ )?(?:endpoint|security|logging|support|integration|option|toggle)\b"
    r"|\bneed a way\b|\b(?:it'?d|would) be nice\b|\blet'?s add\b|\bshould (?:also|be their)\b",
    r"\b(?:can|could) the [\w-]+(?: [\w-]+)? (?:include|return|produce|respect|answer|output"
    r"|support|handle|send|push|write|be exposed|be added)\b|\bplanned\?|\bin theory\b",
    r"\b(?:add|build) (?:a|an)\b|\bexpose\b|\bscope (?:that|this|it)\b",
)
_FEATURE_ASKED = re.compile(
    r"\b(?:any plans?|roadmap|possible|feasible|how (?:hard|much)|what would it take"
    r"|planning to|any chance|eventually|in the future|at some point|something you'?ve built"
    r"|would (?:the|that)|ever|later|planned|in theory|just exploring|worth it)\b"
)
# A wish said plainly ("it would be great if …") is feedback, not yet an ask; these make it one.
_FEATURE_DIRECT = re.compile(
    r"\b(?:can|could) (?:we|i) (?:get|have)\b|\b(?:we'd|we would|they'd|they would|\w+ would)"
    r" (?:like|want|benefit)\b|\bwe want\b|\bwants\b|\blet'?s\b|\blooking for\b|\bshould\b"
    r"|\bask\b|\bwish ?list\b|\bneed\b|\bany way to\b|\brequest:|\b(?:can|could) the\b|\?"
)


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


@dataclass(frozen=True)
class _Rules:
    not_working: re.Pattern[str]
    bug: re.Pattern[str]
    request: re.Pattern[str]
    how: re.Pattern[str]
    not_support: re.Pattern[str]
    settled: re.Pattern[str]
    urgent: re.Pattern[str]
    feature: re.Pattern[str]


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    return _Rules(
        not_working=_compile(_NOT_WORKING),
        bug=_compile(_BUG),
        request=_compile(_REQUEST),
        how=_compile(_HOW),
        not_support=_compile(_NOT_SUPPORT),
        settled=_compile(_SETTLED),
        urgent=_compile(_URGENT),
        feature=_compile(_FEATURE),
    )


def severity_of(kind: SupportKind, plain: str) -> Severity | None:
    if kind is SupportKind.NONE:
        return None
    if kind is SupportKind.QUESTION:
        return Severity.QUESTION
    if _CALM.search(plain) is not None:
        return Severity.NORMAL
    if _rules().urgent.search(plain) is not None:
        return Severity.BLOCKER
    if kind is not SupportKind.REQUEST and _SOON.search(plain) is not None:
        return Severity.BLOCKER
    return Severity.NORMAL


def _settled(r: _Rules, plain: str) -> re.Match[str] | None:
    """Nothing to do ("fixed", "all good", "ignore me", a joke) unless it is back again or
    something follows the last such phrase ("… but", a question)."""
    hits = list(r.settled.finditer(plain))
    if not hits:
        return None
    hit = hits[-1]
    if _SETTLED_BUT.search(plain) or _SETTLED_AFTER.search(plain, hit.end()):
        return None
    return hit


class RuleSupportDetector:
    """The phrase rules: one pass of a few precompiled alternations per message."""

    def detect(self, text: str) -> SupportReading:
        plain = normalize(text)
        r = _rules()
        feature = r.feature.search(plain) is not None
        kind, reason = SupportKind.NONE, "no support pattern matched"
        broken = r.not_working.search(plain)
        wrong = None if broken else r.bug.search(plain)
        if settled := _settled(r, plain):
            reason = f'settled: "{settled.group(0).strip()}"'
        elif feature:
            if hit := _FEATURE_ASKED.search(plain):
                kind, reason = SupportKind.QUESTION, f'feature, asked: "{hit.group(0).strip()}"'
            elif (hit := r.request.search(plain)) or (hit := _FEATURE_DIRECT.search(plain)):
                kind, reason = SupportKind.REQUEST, f'feature, asked for: "{hit.group(0).strip()}"'
        elif broken:
            kind, reason = SupportKind.NOT_WORKING, f'"{broken.group(0).strip()}"'
        elif (hit := _ASKS_FIRST.search(plain)) and not r.not_support.search(plain):
            kind, reason = SupportKind.QUESTION, f'"{hit.group(0).strip()}"'
        elif wrong:
            kind, reason = SupportKind.BUG, f'"{wrong.group(0).strip()}"'
        elif _FYI.search(plain):
            reason = "said in passing"
        elif hit := r.request.search(plain):
            kind, reason = SupportKind.REQUEST, f'"{hit.group(0).strip()}"'
        elif (hit := r.how.search(plain)) and not r.not_support.search(plain):
            kind, reason = SupportKind.QUESTION, f'"{hit.group(0).strip()}"'
        if feature:
            feedback = FeedbackKind.FEATURE_REQUEST
        elif kind is SupportKind.BUG or (
            kind is SupportKind.NOT_WORKING and not _ACCESS.search(plain)
        ):
            feedback = FeedbackKind.BUG
        else:
            feedback = FeedbackKind.NONE
        severity = severity_of(kind, plain)
        if feature and severity is Severity.BLOCKER:
            severity = Severity.NORMAL  # new work is never a blocker, however soon it is wanted
        return SupportReading(kind, severity, feedback, reason)


# -- first response ----------------------------------------------------------------------------
_ACK_CLAUSE = re.compile(
    r"(?:(?:hi|hey|hello|morning)(?: \w+)?|thanks|thank you|thx|ty|cheers|sure|ok|okay|great"
    r"|sorry|(?:i'll |we'll |will )?(?:get back to you|follow up|keep you posted)"
    r"(?: shortly| soon)?"
    r"|got it|noted|ack|received|seen|will do|on it|(?:we're|we are|i'm|i am) on it"
    r"|(?:i'm |we're |i am |we are )?(?:looking|digging|checking) (?:into )?(?:it|this|that|now)?"
    r"|(?:i'm |we're |i am |we are )?(?:checking|looking|on it)(?: now)?"
    r"|(?:i'll|we'll|i will|we will|let me|let us|will) (?:check|look|take a look|have a look"
    r"|dig in|look into (?:it|this|that)|get back to you|follow up|update you|circle back"
    r"|investigate|loop (?:in )?\w+)(?: (?:on|at|into) (?:it|this|that))?(?: (?:asap|soon|shortly"
    r"|now|today|in a (?:bit|sec|moment|minute)))?"
    r"|(?:thanks|thank you) (?:for (?:flagging|reporting|raising|letting us know|the heads up"
    r"|sharing|your patience|the report)(?: this| that| it)?)"
    r"|sorry (?:about|for) (?:that|this|the (?:trouble|inconvenience|delay))"
    r"|(?:one|a) (?:sec|second|moment|minute)|give (?:me|us) a (?:sec|second|moment|minute)"
    r"|on (?:our|my) radar|taking a look|(?:good|great) catch|(?:someone)"
    r"|(?:\w+ )?(?:is|will be) (?:looking|on it)(?: now)?)"
)
_SPLIT = re.compile(r"[.!,;:\-–—()]+|\s+(?:and|&)\s+")


def is_acknowledgement(text: str) -> bool:
    """A reply that only acknowledges ("thanks, looking into it", "on it!") — not a first
    response: one that answers, asks for detail, or says what happens next is."""
    plain = normalize(text).replace("?", " ? ")
    if not plain or "?" in plain:
        return False
    clauses = [c.strip() for c in _SPLIT.split(plain) if c.strip()]
    if not clauses or len(plain.split()) > 16:
        return False
    return all(_ACK_CLAUSE.fullmatch(c) for c in clauses)


# -- targets by segment ------------------------------------------------------------------------
class SegmentSla(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    response_hours: float = Field(gt=0, le=200)
    resolution_hours: float = Field(gt=0, le=1000)

    @model_validator(mode="after")
    def _order(self) -> SegmentSla:
        if self.resolution_hours < self.response_hours:
            raise ValueError("resolution_hours must be at least response_hours")
        return self


@lru_cache(maxsize=1)
def _shipped_text() -> str:
    return files("domain").joinpath("support.yaml").read_text("utf-8")


@lru_cache(maxsize=1)
def _shipped() -> Mapping[str, Any]:
    """Parsed once: every read of the organization's settings starts from it (never changed)."""
    data: Any = yaml.safe_load(_shipped_text())
    return MappingProxyType(dict(data))


class SupportSettings(BaseModel):
    """`organization.settings["support"]`; defaults from domain/support.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slas: dict[str, SegmentSla] = Field(default_factory=dict)
    workday_start: time = time(9)
    workday_end: time = time(17)
    nudge_at: float = Field(default=0.75, gt=0, lt=1)
    escalation_hours: float = Field(default=48, gt=0)
    service_lead_after_days: int = Field(default=1, ge=0, le=10)
    product_channel: str | None = None
    theme_accounts: int = Field(default=3, ge=1, le=100)

    @model_validator(mode="before")
    @classmethod
    def _merge(cls, data: Any) -> Any:
        """The shipped values under what the organization wrote (a segment's numbers too)."""
        if not isinstance(data, Mapping):
            return data
        base = _shipped()
        merged = {**base, **dict(data)}
        slas = {k: dict(v) for k, v in (base.get("slas") or {}).items()}
        for segment, given in (data.get("slas") or {}).items():
            slas[segment] = {**slas.get(segment, {}), **(given or {})}
        merged["slas"] = slas
        return merged

    @model_validator(mode="after")
    def _hours(self) -> SupportSettings:
        if self.workday_end <= self.workday_start:
            raise ValueError("workday_end must be after workday_start")
        return self

    @classmethod
    def default(cls) -> SupportSettings:
        return _default_support()

    @classmethod
    def from_org_settings(cls, settings: Mapping[str, Any] | None) -> SupportSettings:
        """Cached by the settings' JSON (a frozen model: shared safely)."""
        raw = (settings or {}).get("support")
        return _parsed(json.dumps(raw or {}, sort_keys=True, default=str))

    def sla(self, segment: str) -> SegmentSla:
        return (
            self.slas.get(segment)
            or self.slas.get("mid_market")
            or SegmentSla(response_hours=4, resolution_hours=8)
        )


@lru_cache(maxsize=1)
def _default_support() -> SupportSettings:
    return SupportSettings.model_validate({})


@lru_cache(maxsize=32)
def _parsed(raw: str) -> SupportSettings:
    """The settings of one stored text, parsed once (the ingest path reads them per message)."""
    try:
        return SupportSettings.model_validate(json.loads(raw))
    except ValidationError as exc:
        logger.warning("organization settings 'support' ignored (%s): using defaults", exc)
        return SupportSettings.model_validate({})


@dataclass(frozen=True)
class Deadlines:
    response_due: datetime
    resolution_due: datetime
    nudge_at: datetime  # before the response target runs out


def deadlines(
    opened_at: datetime, segment: str, cal: WorkCalendar, settings: SupportSettings
) -> Deadlines:
    """The targets of a request opened at `opened_at`, in the client's business hours."""
    sla = settings.sla(segment)
    return Deadlines(
        response_due=cal.add_hours(opened_at, sla.response_hours),
        resolution_due=cal.add_hours(opened_at, sla.resolution_hours),
        nudge_at=cal.add_hours(opened_at, sla.response_hours * settings.nudge_at),
    )


def business_hours_between(start: datetime, end: datetime, cal: WorkCalendar) -> float:
    """Working hours from `start` to `end` (0 when end is before start): the age shown against
    a target."""
    if end <= start:
        return 0.0
    current = cal.clamp(start)
    total = timedelta()
    for _ in range(3660):
        if current >= end:
            break
        close = datetime.combine(current.date(), cal.end, tzinfo=cal.tz)
        stop = min(close, end)
        if stop > current:
            total += stop - current
        current = cal.clamp(close)
    return total.total_seconds() / 3600


# -- the record's state ------------------------------------------------------------------------
class RequestStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    MERGED = "merged"  # a duplicate, folded into another request
    DISMISSED = "dismissed"  # not a support request


@dataclass(frozen=True)
class SupportRequest:
    id: int
    client_id: int
    channel: str | None
    message_ts: str | None
    thread_ts: str | None
    asker: str
    excerpt: str
    permalink: str | None
    severity: Severity
    kind: SupportKind
    source: str
    status: RequestStatus
    opened_at: datetime
    response_due: datetime
    resolution_due: datetime
    first_response_at: datetime | None = None
    first_response_by: str | None = None
    team_replies: int = 0
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    response_breached_at: datetime | None = None
    resolution_breached_at: datetime | None = None
    merged_into: int | None = None

    @property
    def is_open(self) -> bool:
        return self.status is RequestStatus.OPEN

    @property
    def root(self) -> str | None:
        return self.thread_ts or self.message_ts

    @property
    def escalated_at(self) -> datetime | None:
        """A breach escalates the request: the first breach."""
        times = [t for t in (self.response_breached_at, self.resolution_breached_at) if t]
        return min(times) if times else None


# -- health ------------------------------------------------------------------------------------
SUPPORT_WINDOW_DAYS = 30
SUPPORT_SIGNAL = "support_tickets_inverse"


def support_signal(
    requests: int, active_users: int, breaches: int, open_blockers: int
) -> float | None:
    """The health model's support sub-signal (0–10, higher is better), docs/process.md,
    "Support": 10 − 5 × requests per active user (capped at 5 off) − 2 per breach − 3 per
    open blocker, floored at 0. None when nothing was asked and nobody was active (no data)."""
    if requests == 0 and active_users == 0 and breaches == 0 and open_blockers == 0:
        return None
    per_user = requests / max(active_users, 1)
    value = 10.0 - min(5.0, 5.0 * per_user) - 2.0 * breaches - 3.0 * open_blockers
    return round(max(0.0, value), 1)


# -- nudges ------------------------------------------------------------------------------------
NUDGE_CADENCE = "support_sla"  # before the response target runs out: CSO and SL
BREACH_CADENCE = "support_breach"  # a missed target, escalated like an undecided flag
BLOCKER_CADENCE = "support_blocker"  # a blocker, to the SL at once, quiet hours or not
# Sent whatever the hour (the noise gate lets them through), once each.
IGNORES_QUIET_HOURS = frozenset({BLOCKER_CADENCE})
