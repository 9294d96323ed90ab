"""Classify a client message into a flag kind (docs/process.md, "Flags").

`RuleClassifier` is the phrase-pattern engine that always runs: one precompiled alternation per
kind, hard negatives that veto a kind ("no rush on the deadline" is not a deadline change), and
a priority order that settles messages matching several kinds. `is_question` decides whether a
client message waits for a reply (the client-question loop).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from domain.flags import FlagKind

Source = Literal["rules", "llm"]


class Classification(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: FlagKind
    confidence: float = Field(ge=0.0, le=1.0)
    reason: str
    source: Source = "rules"

    @property
    def flagged(self) -> bool:
        return self.kind is not FlagKind.NONE


class MessageClassifier(Protocol):
    def classify(self, text: str) -> Classification: ...


# -- vocabulary shared by the patterns ---------------------------------------------------------
_DAYS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu(?:rs)?|fri"
_MONTHS = (
    r"january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec"
)
# A point in time as people write it in chat: "the 12th", "end of month", "Friday", "Q3".
_WHEN = (
    rf"(?:the )?(?:\d{{1,2}}(?:st|nd|rd|th)?\b(?! (?:floor|place|row|line|item|page|slide))"
    rf"|end of|eo[dwm]\b|mid|early|late|next \w+|this \w+|tomorrow|tonight|today|q[1-4]\b"
    rf"|(?:{_DAYS})\b|(?:{_MONTHS})\b)"
)
_W = r"[\w'&/-]+"  # one word, for bounded gaps: (?: {_W}){0,4}?
_REQ = r"(?:can|could|would|will|should) (?:you(?: guys| all)?|u|we|y'all|the \w+(?: \w+)?)"
_BUILD = (
    r"(?:add|include|build|create|set ?up|pull in|bring in|wire up|hook up|load|backfill|migrate"
    r"|rebuild|extend|expand|document|track|show|break out|cover|translate|integrate|connect"
    r"|automate|update|clean up|model|make|put together|produce|design|develop|spin up"
    r"|implement)"
)
_BUILDING = (
    r"(?:adding|including|building|creating|setting up|pulling in|bringing in|wiring up"
    r"|hooking up|loading|backfilling|migrating|extending|putting together|producing|designing"
    r"|developing|implementing|running)"
)
# Data moved or made somewhere new: "get the forecast exported", "have the segments pushed".
_DELIVERED = r"(?:pushed|exported|synced|sent|loaded|added|automated|refreshed|emailed|posted)"


@dataclass(frozen=True)
class KindRules:
    """The phrasing of one kind: patterns that suggest it and hard negatives that veto it."""

    kind: FlagKind
    patterns: tuple[str, ...]
    negatives: tuple[str, ...] = ()
    confidence: float = 0.8


SCOPE_CREEP = KindRules(
    FlagKind.SCOPE_CREEP,
    patterns=(
        # "while you're at it", "while we're in there"
        r"\bwhile (?:you|we)(?:'re| are) (?:at it|in there|there|in it|on it|in the code)",
        # "throw in", "tack it on", "squeeze in", "fit that in"
        rf"\b(?:throw|tack|squeeze|slot|sneak|bolt)\b(?: {_W}){{0,4}}? (?:in|on|onto|into)\b",
        r"\bfit (?:it|that|this|them) in\b",
        # "just one more chart", "one more view"
        r"\bone (?:more|last|extra) (?:chart|graph|view|tab|page|report|dashboard|metric|kpi"
        r"|filter|column|field|dimension|table|model|source|feature|request|ask|tweak|addition"
        r"|deliverable|analysis|slide|breakdown|widget|visual|thing to add)s?\b",
        # "a couple more dimensions", "two more data sources", "a few more charts"
        r"\b(?:a (?:couple|few)(?: of)?|two|three|four|some|several|\d+) (?:more|extra|additional)"
        r" (?:charts?|graphs?|views?|tabs?|pages?|reports?|dashboards?|metrics?|kpis?|filters?"
        r"|columns?|fields?|dimensions?|tables?|models?|(?:data )?sources?|connectors?|features?"
        r"|analys[ie]s|slides?|deliverables?)\b",
        r"\b(?:an? )?(?:extra|additional) (?:chart|view|tab|page|report|dashboard|metric|kpi"
        r"|filter|deliverable|ask|request|analysis|data source|source|model|feature|slide"
        r"|breakdown)s?\b",
        # "small ask", "quick favour", "another small request", "tiny addition"
        r"\b(?:small|quick|tiny|little|extra) (?:ask|favou?r|addition|add|tweak|request)\b",
        r"\banother (?:small |quick |little |tiny )?(?:request|ask|thing we'?d like)\b",
        # out of the original scope
        r"\b(?:wasn't|was not|isn't|is not|weren't|not) (?:in|part of) (?:the |our )?"
        r"(?:original |current |initial )?(?:scope|plan|sow|brief|estimate)\b",
        r"\b(?:didn't|did not) (?:scope|plan|budget) (?:it|for|this|that)\b",
        r"\b(?:only|originally) asked for\b",
        r"\bforgot to mention\b",
        r"\blate in the game\b",
        r"\b(?:expand|extend|widen|broaden|increase) the scope\b",
        r"\bon top of (?:the|what|that|this|everything)\b",
        r"\bin addition to\b",
        # "could you also set up", "can the dashboard also show"
        rf"\balso (?:{_W} ){{0,2}}?{_BUILD}\b",
        r"\balso (?:had|have|get|need|wants?) (?:a|an|the same|their own|hourly|daily|weekly"
        r"|real-?time|some|more|to add)\b",
        rf"\b(?:also|let'?s) (?:have|get) (?:the |our |a |an )?(?:{_W} ){{0,3}}?{_DELIVERED}\b",
        rf"\b(?:look into|think about|consider|be up for|up for|be able to|have time for)"
        rf" {_BUILDING}\b",
        r"\b(?:nice|great|useful) (?:extra|addition|add-on|to have)\b|\bnice-to-have\b",
        r"\b(?:another one|one more|something else) for the (?:list|backlog|wish ?list)\b",
        r"\breali[sz]ed (?:that )?we (?:also )?need\b",
        r"\b(?:plug|work|fold|bake)(?: (?:it|that|this|them))? (?:in|into)\b",
        rf"\b(?:how|what) about {_BUILDING}\b",
        r"\b(?:would|'d) love it if\b|\b(?:i|we)'?d also (?:like|love|want)\b",
        # "can we add ...", "could you build ...", "would you mind adding ..."
        rf"\b{_REQ}(?: (?:please|pls|just|maybe|possibly|also|quickly))* {_BUILD}\b",
        rf"\b(?:{_REQ}|any chance|is it possible|would it be possible)(?: {_W}){{1,12}}?"
        r" (?:too|as well)\b",
        rf"\b(?:would you mind|would you be up for) (?:also )?{_BUILDING}\b",
        r"\b(?:would it be possible|is there (?:any|a) way|any chance you could|how hard would it"
        r" be|would it be a big lift) to (?:also )?(?:add|include|build|create|extend|get|make"
        r"|rebuild|set up|pull in|migrate)\b",
        r"\blet'?s (?:also )?(?:add|include|build|bring in|pull in)\b",
        r"\b(?:i|we)'?d (?:like|love) to also\b",
        r"\b(?:we'?d|i'?d) love (?:a|an) (?:couple|few|extra|additional|new)\b",
    ),
    negatives=(
        # acknowledging work already done: "thanks for adding", "the filter you added"
        r"\b(?<!can )(?<!could )(?<!would )(?<!will )(?:you|u) (?:added|built|included|made"
        r"|set up)\b",
        r"\bthanks?(?: you)?(?: so much)? for (?:also )?(?:adding|including|building|the)\b",
        r"\bone more thing\W+(?:thanks|thank you|great|love)",
        # declining more work
        r"\bno need to (?:add|include|build)\b",
        r"\b(?:don't|do not|won't) need (?:any(?:thing)? (?:more|else)|the|to add|it)\b",
        r"\bno more (?:changes|charts|requests|views)\b",
        r"\b(?:can|could) be removed\b",
        r"\bperfect as is\b",
        r"\bwe(?:'re| are) all set\b",
        r"\bthat was the last\b",
        # adding people, not work: "add me to the invite", "add Jordan to the channel"
        r"\badd (?:me|us|him|her|them|[a-z]+|the (?:\w+ )?(?:link|recording|notes|file|doc|slides))"
        r" to (?:the |our |this )?(?:invite|channel|slack"
        r"|call|meeting|thread|email|list|distribution|calendar|doc)",
        # asking for information or communication, not for new work
        r"\b(?:can|could|would) you (?:please )?(?:also )?(?:send|share|resend|forward|cc|loop in"
        r"|invite|confirm|explain|remind|walk)\b",
        r"\bset ?up (?:a |some )?(?:time|call|meeting|chat|session|sync)\b",
    ),
    confidence=0.8,
)

DEADLINE_CHANGE = KindRules(
    FlagKind.DEADLINE_CHANGE,
    patterns=(
        r"\bhard (?:deadline|stop|cut-?off|date|launch date)\b",
        r"\bnew (?:timeline|deadline|date|go-?live(?: date)?|launch date|due date)\b",
        # "the deadline is now the 20th", "go-live date is now Oct 3"
        rf"\b(?:deadline|due date|go-?live|launch|date|timeline)(?: {_W}){{0,5}}? (?:is|are)"
        r" now\b",
        # "the QBR got moved", "go-live is slipping", "the migration window changed"
        rf"\b(?:deadline|due date|go-?live|launch|date|timeline|cutover|handover|hand-?off"
        rf"|rollout|kickoff|delivery|readout|review|qbr|offsite|presentation|demo|uat|window"
        rf"|conference|close|opening|decision|all-hands|board meeting)(?: {_W}){{0,5}}?"
        r" (?:moved?|moves|moving|changed|slipp(?:ed|ing)|slips|(?:(?:has|have|had|is|was|got"
        r"|been|being|be) )+(?:moved|changed|pushed|pulled|brought|shifted|rescheduled"
        r"|postponed|delayed|slipped|accelerated|bumped))\b",
        # "pushed back to January", "pulling the launch forward", "moved up to the 12th"
        rf"\b(?!mov(?:e|ing) forward\b)(?:push|pull|mov|bring|shift|bump)(?:e|ed|es|ing|s)?\b"
        rf"(?: {_W}){{0,6}}?"
        rf" (?:up|forward|back|earlier|later|out|to (?:after|{_WHEN}))",
        r"\b(?:postpone|delay|reschedule)(?:d|s|ing)? (?:the|our|it|this|that|to|by|until"
        r"|indefinitely)\b",
        r"\b(?:being|been|is|was|got|be) (?:postponed|delayed|rescheduled|accelerated)\b",
        r"\baccelerating (?:the|our)\b",
        # "by Monday instead of Friday", "the 20th, not the 27th", "(was Nov 15)"
        rf"\b(?:instead of|rather than)(?: in)? {_WHEN}",
        r"\b(?:instead of|rather than) in (?:\w+ )?(?:days?|weeks?|months?)\b",
        rf"\b(?:is|are) now (?:on |due |set for |scheduled for )?{_WHEN}",
        rf"\b(?:is|are) {_WHEN} now\b",
        r"\b(?:sooner|earlier|later) than (?:we )?(?:planned|expected|thought|agreed)\b",
        rf"\b(?:have|has) to wait (?:until|till)\b|\bwaits? (?:until|till) (?:after )?{_WHEN}",
        r"\b(?:a|one|two|three|\d+) (?:day|week|month)s? (?:sooner|earlier|later|early|late)\b",
        r"\b(?:starts?|begins?|happens?|lands?) (?:a (?:week|day|month) )?(?:earlier|later)"
        r" (?:this year|than)\b",
        # a date-bound need said in passing: "we need final numbers by May 1"
        rf"\b(?:need|needs|have to|has to|must)\b(?: {_W}){{0,8}}? (?:by|before|no later than)"
        rf" (?:{_WHEN}|then\b|that date\b|that\b)",
        rf"\b(?:done|ready|live|finished|completed?|in prod) (?:by|before) {_WHEN}",
        # Last: they start at punctuation, where no word-boundary pattern can start, so the
        # patterns before them are searched as one group (see `_alternation`).
        rf", not {_WHEN}",
        rf"\(was {_WHEN}",
    ),
    negatives=(
        r"\bno rush\b",
        r"\b(?:deadline|date|timeline|launch|cutover|go-?live)(?: {_W}){0,3}? (?:is |are )?still\b",
        r"\bstill (?:on|targeting|planned|the)\b",
        r"\b(?:hasn't|has not|haven't|have not|didn't|did not|won't|doesn't) change",
        r"\bno change(?:s)? (?:to|on|in)\b",
        r"\bkeep (?:the )?(?:original|same|current|agreed) (?:date|deadline|timeline)\b",
        r"\bas planned\b",
        r"\b(?:deadline|date|timeline) works\b",
        r"\bdeadline (?:we agreed|was)\b",
        # routine meetings moving are not deliverable dates
        r"\b(?:weekly|daily|regular|recurring|our|the) (?:call|sync|1:1|one-on-one|stand-?up"
        r"|check-?in|catch-?up)\b(?! (?:is|was|got) (?:now|moved))",
    ),
    confidence=0.8,
)

RISK = KindRules(
    FlagKind.RISK,
    patterns=(
        r"\bblock(?:ed|er|ers|ing|s)?\b",
        r"\bstuck\b",
        r"\bwaiting (?:on|for)\b",
        r"\bstill (?:no|not|haven't|hasn't|waiting|don't|can't|no sign)\b",
        r"\b(?:haven't|have not|hasn't|has not) (?:yet )?(?:received|got(?:ten)?|heard|given"
        r"|sent|provided|signed|approved|been (?:approved|signed))\b",
        r"\bno eta\b",
        r"\blos(?:e|t|ing) (?:\w+ )?access\b",
        r"\b(?:can't|cannot|can not|couldn't|unable to|not able to|won't be able to)"
        r" (?:access|get|give|log|move|load|run|connect|reach|join|provide|share|figure|open"
        r"|reset|answer|start|proceed)\b",
        r"\b(?:ran|run|running) out\b|\brefus(?:es|ing|ed) to\b|\bheld up\b",
        r"\bholding (?:up |the |our )(?:po|contract|approval|access|sign-?off)\b",
        r"\b(?:might|may|could|will) be (?:a )?(?:real |big |serious )?(?:problem|issue"
        r"|challenge|blocker)\b",
        r"\b(?:will|going to) change the (?:\w+ )?(?:structure|schema|api|format)\b",
        r"\b(?:will be|being|getting) (?:retired|sunset|turned off|switched off)\b",
        r"\bbehind (?:by|schedule)\b|\brunning behind\b",
        r"\b(?:on leave|out) until\b",
        r"\b(?:trial|licen[cs]e|contract|subscription) (?:ends|expires|runs out)\b",
        r"\b(?:hasn't|has not|haven't|have not) (?:yet )?(?:gone|come) through\b|\boutage\b",
        r"\b(?:gave|given|handed in) (?:(?:their|his|her) )?notice\b",
        r"\b(?:nervous|anxious) about\b|\bnever handled\b",
        r"\bwon't (?:open|approve|give|allow|be ready|be available|have|work|run|load|sync)\b",
        r"\b(?:is|are|went|was|been) down\b",
        r"\b(?:keeps?|kept) (?:failing|crashing|breaking|timing out|erroring)\b",
        r"\b(?:has been|have been|is|are) (?:failing|broken|erroring|crashing)\b",
        r"\b(?:expired|expires|expiring|suspended|decommissioned|went bust|shut off|shut down"
        r"|deprecated|revoked)\b",
        r"\b(?:freeze|freezes|freezing|frozen)\b",
        r"\bpause(?:s|d)? (?:all|the|new|any)\b",
        r"\bnot sure (?:we'll|we will|we can|when|if we|the)\b",
        r"\b(?:might|may|will probably|will likely|could) (?:not|fail|break|block|be off"
        r"|be delayed|mess up|delay|impact|affect|derail)\b",
        r"\b(?:will|would|is going to) (?:break|fail|be off)\b",
        r"\bat risk\b|\brisk\b|\bworried\b",
        r"\b(?:quota|budget|access|permissions?)(?: (?:got|was|were|has been))? (?:cut|revoked"
        r"|removed|reduced)\b",
        r"\bcosts? (?:spiked|exploded|doubled|jumped)\b",
        r"\b(?:no ?one|nobody)\b(?: [\w']+){0,4}? (?:has|knows|understands|to own|available|can)\b",
        r"\b(?:anyone|someone) to own\b",
        r"\bswamped\b",
        r"\b(?:out|off|away) for (?:\d+|two|three|four|a few|several) (?:weeks|months)\b",
        r"\b(?:is|are) (?:on holiday|on vacation|out sick)\b",
        r"\bmissing\b|\bduplicates\b|\bnot (?:populated|working|loading|available)\b",
        r"\b(?:isn't|aren't|is not|are not) (?:populated|working|loading|available)\b",
        r"\b(?:deleted|lost|corrupted) by accident\b|\btrying to (?:recover|restore)\b",
        r"\bonly goes back\b|\bnot (?:be )?possible\b",
        r"\bpulled into\b|\b(?:don't|do not) have a replacement\b",
        r"\bneeds? (?:a |an )?\w+ signed\b|\bcan't (?:\w+ ){0,2}without\b",
        r"\bchang(?:ed|ing) (?:their|the|all the|all) (?:api|schema|utm|conventions)",
        r"\bflagged the\b|\bpolicy changed\b",
        r"\bdifferent schema\b",
    ),
    negatives=(
        r"\bno (?:blockers?|risks?|issues|problems)\b",
        r"\brisk (?:log|register)\b",
        r"\b(?:is|are|was|were|has been|have been|got) (?:now )?(?:resolved|fixed|unblocked)\b",
        r"\bwe(?:'ve| have)? (?:resolved|fixed|unblocked)\b|\bunblocked\b",
    ),
    confidence=0.7,
)

NEGATIVE_SENTIMENT = KindRules(
    FlagKind.NEGATIVE_SENTIMENT,
    patterns=(
        r"\b(?:frustrat\w*|disappoint\w*|unhappy|not happy|annoy\w*|embarrass\w*|ridiculous"
        r"|unacceptable|underwhelm\w*|not impressed|unimpressed|not thrilled|fed up|tired of"
        r"|sick of|upset|angry|furious|let down|a mess)\b",
        r"\b(?:sigh|ugh|argh|letdown|let-down)\b",
        r"\b(?:struggling|hard|difficult) to trust\b|\b(?:can't|don't|cannot) trust\b",
        # "again" opening the message: `^again`, written with a word boundary first so that it
        # is searched in one group with the others (see `_alternation`)
        r"\b(?<![\s\S])again\b|\b(?:this is|that's|it's) not (?:ok(?:ay)?|acceptable)\b",
        r"\b(?:second|third|fourth|fifth|\d+(?:st|nd|rd|th)) time (?:i've|we've|i have|we have)"
        r" (?:had to )?ask",
        r"\bwhat (?:we've|we have|we're|we are) (?:been )?paying for\b",
        r"\blosing (?:confidence|faith|trust|patience)\b",
        r"\b(?:question|questioning|doubt)\w* (?:whether|if) (?:this|the|we)\b",
        r"\bnot seeing (?:the|any|much) value\b",
        r"\bexpected (?:a lot |much |far )?(?:more|better)\b",
        r"\b(?:isn't|is not|wasn't|was not|not) what we (?:asked|wanted|paid|expected)\b",
        r"\b(?:wrong|broken|failed|failing|late|off|down|broke) again\b",
        r"\btaking (?:so|too|way too) long\b",
        r"\bnot up to (?:the |our )?(?:standard|par|scratch)\b",
        r"\bnot (?:a )?good (?:look|enough)\b|\bnot great\b",
        r"\b(?:poor|sloppy|subpar|unprepared|confusing)\b",
        r"\btoo many (?:mistakes|errors|bugs|issues)\b",
        r"\bdoing your (?:qa|job|work|testing)\b",
        r"\bnot being (?:heard|listened to)\b",
        r"\bkeep (?:getting|having to|chasing)\b|\bchasing (?:updates|you)\b",
        r"\bwhy (?:are )?we(?:'re| are) paying\b|\bpaying (?:a lot|so much) for\b",
        r"\bcan't keep (?:explaining|chasing|doing|telling)\b",
        r"\bconcerned about (?:the )?(?:quality|progress|pace|value|work)\b",
        r"\b(?:didn't|did not|doesn't) hold up\b",
        r"\bkeeps happening\b|\b(?:hurting|damaging|hurts) (?:our|my) (?:credibility|reputation)",
        r"\bin circles\b|\b(?:don't|do not) understand why\b",
        r"\b(?:useless|pointless|waste of (?:time|money))\b",
        r"\bnot a (?:great|good) (?:week|look|day|sign|experience)\b",
        r"\bbelow (?:what we expected|expectations|par)\b|\bfell short\b",
    ),
    negatives=(
        r"\bnot (?:a complaint|frustrated|upset|worried|disappointed|annoyed)\b",
        r"\bno worries\b|\bnot a problem\b",
    ),
    confidence=0.75,
)

EXPANSION_SIGNAL = KindRules(
    FlagKind.EXPANSION_SIGNAL,
    patterns=(
        # a proposed new phase: "a phase 2", "what a phase 2 could look like"
        r"\b(?:a|what a) (?:phase (?:2|two|ii)|second phase|next phase)\b",
        r"\b(?:budget|headcount|funding) (?:is )?(?:approved|there|available)\b",
        r"\b(?:got|have|has) (?:the |some )?(?:budget|headcount|funding)(?: approved)?"
        r" (?:for|approved)\b",
        r"\bwe have (?:the )?budget\b",
        r"\b(?:leftover|left-over|remaining|spare|unspent) budget\b",
        r"\bnext (?:year|quarter|fy)'?s? budget\b",
        r"\b(?:an?|new|another|draft|updated) (?:proposal|quote|sow|statement of work"
        r"|change order|retainer)\b|\bpricing\b|\bmanaged service\b",
        r"\b(?:support|maintenance|ongoing) (?:contract|retainer|agreement|package)\b",
        r"\b(?:bigger|larger|broader|follow-on|new) (?:engagement|contract|program)\b",
        r"\bextend(?:ing)? the (?:work|engagement|contract|project) (?:into|through|beyond|past)\b",
        r"\b(?:second|another|new|additional) workstream\b",
        r"\b(?:to|across) the (?:whole|entire|wider) (?:group|company|org|organi[sz]ation"
        r"|business)\b",
        r"\bbudget (?:estimate|number|figure|request)\b",
        r"\b(?:happy|willing) to pay\b|\bwe'?d pay\b",
        r"\brenew (?:for|the|with you|our)\b|\bextend(?:ing)? the (?:engagement|contract"
        r"|partnership)\b",
        r"\b(?:longer|long)-term partnership\b|\bdouble down\b",
        rf"\b(?:team|division|department|entity|company|brand|unit|region|office)\b"
        rf"(?: {_W}){{0,6}}? (?:wants?|is asking|asked|would like|are looking|is looking)"
        rf"(?: {_W}){{0,6}}? (?:the same|similar|replicate|for their)\b",
        r"\b(?:asking|asked|wondering) (?:if|whether) you (?:could|can|would|do|offer)\b",
        r"\b(?:doing|do) the same for (?:our|the|their)\b|\bkeep you on\b|\bcommercially\b",
        r"\b(?:asking|wondering) (?:if|whether) we (?:can|could) do (?:a|an|the)\b",
        r"\b(?:roll|scale) (?:this|it|that|the \w+(?: \w+)?) (?:work )?(?:out )?to\b",
        r"\bacross all (?:our |the |\d+ )?(?:stores|regions|markets|brands|teams|countries)\b",
        r"\bto all \d+\b",
        r"\bexpand (?:the|our|this) (?:\w+ )?(?:program|engagement|partnership|work|project)\b",
        r"\b(?:recommended|referred|mentioned|introduced) (?:you|your (?:team|firm|company))\b",
        r"\breach out to you\b",
        r"\b(?:have capacity|be interested|be open) (?:to|in|for)\b",
        r"\bwants? you (?:involved|to (?:own|lead|help|run))\b",
        r"\b(?:looking for|hire|hiring) a (?:data |analytics )?partner\b",
        r"\byour pitch\b|\bseparate (?:workstream|project|engagement)\b",
        r"\b(?:program|project|initiative|workstream) with you\b",
        r"\bheadcount approved\b",
    ),
    negatives=(
        r"\b(?:hasn't|has not|isn't|not) (?:been )?approved\b",
        r"\b(?:freez\w*|frozen)\b",
        r"\b(?:signed|countersigned|check|per|in) the (?:sow|contract|proposal)\b",
    ),
    confidence=0.75,
)

STAKEHOLDER_CHANGE = KindRules(
    FlagKind.STAKEHOLDER_CHANGE,
    patterns=(
        r"\b(?:i'm|i am|i'll be|is|she's|he's|they're|are) leaving\b",
        r"\b(?:my|his|her|their) last day\b|\blast day is\b",
        r"\bno longer (?:with|at|the|our|part of|working|on)\b",
        r"\b(?:resigned|resigning|stepped down|stepping down|stepping in|retired|retiring"
        r"|let go|laid off|was fired)\b",
        r"\b(?:new|interim|incoming|acting) (?:vp|svp|evp|cmo|cfo|ceo|coo|cto|cio|cdo|cro"
        r"|chief \w+ officer|head of \w+|director|executive sponsor|sponsor|product owner"
        r"|decision maker|project owner|(?:\w+ )?(?:ops )?manager)\b",
        r"\b(?:will|'ll|to) (?:be )?(?:take|taking) over\b|\btaking over\b",
        r"\b(?:will|'ll) be (?:your|the|our) (?:new )?(?:main |primary )?(?:point of contact"
        r"|contact|stakeholder|decision maker|product owner|project owner|sponsor|owner)\b",
        r"\breplaces (?:\w+ )?as\b|\breplaced (?:as|by)\b|\b(?:his|her|their) replacement\b",
        r"\breplacing \w+ as\b",
        r"\b(?:moved|moving|been moved|transferr\w+|reassigned) to (?:a |the )?(?:different"
        r"|another|new|\w+ office)\b",
        r"\bpromoted\b",
        r"\bhand(?:ing|ed)? (?:off|over)\b(?: \w+){0,3}? (?:to|the program|the project)\b",
        r"\b(?:reorg|re-org|reorganization|restructur\w+)\b",
        r"\breports? to (?:the )?(?:cfo|ceo|coo|cto|cio|cmo|vp|head)\b",
        r"\b(?:parental|maternity|paternity|medical|extended|long-term) leave\b",
        r"\b(?:will|'ll) cover\b",
        r"\bnew (?:role|job|position)\b",
        r"\b(?:left|leaves) (?:the company|us|for|the business|the team)\b|\bjust left\b",
        r"\bmoved on\b|\binherits?\b|\bout of the picture\b",
        r"\b(?:switching|moving|transferring) to (?:the )?\w+ (?:org|team|department|division"
        r"|group)\b",
        r"\b(?:been|were|got) acquired\b|\b(?:following|after) the (?:acquisition|merger)\b",
    ),
    negatives=(
        r"\bleaving (?:for lunch|early|now|at \d|the office|the call)\b",
        r"\b(?:will be|being|to be|been|get) retired\b",
    ),
    confidence=0.8,
)

_COMPETITORS = (
    r"slalom|deloitte|ey|accenture|thoughtworks|kpmg|pwc|ernst & young|capgemini|mckinsey|bcg"
    r"|bain|merkle|mu sigma|cognizant|infosys|wipro|tcs|publicis|fractal|tiger analytics"
    r"|phdata|hakkoda|datatonic|analytics8|brooklyn data"
)

COMPETITOR_MENTION = KindRules(
    FlagKind.COMPETITOR_MENTION,
    patterns=(
        rf"\b(?:{_COMPETITORS})\b",
        r"\b(?:another|other|a different|a couple of other|a few other|several other|two other)"
        r"(?: \w+){0,2}? (?:agency|agencies|vendors?|consultanc(?:y|ies|y's)|firms?|partners?"
        r"|shops?|suppliers?|providers?|contractors?)\b",
        r"\b(?:competing|rival) (?:quote|proposal|bid|offer|vendor|agency|firm)\b",
        r"\b(?:freelancer|offshore|in-house with|bring (?:this|it) in-?house)\b",
        r"\b(?:vendor|partner|agency) (?:evaluation|selection|bake-?off)\b|\bshortlist\w*\b",
        r"\brfp\b",
        r"\bpitched us\b|\bquoted (?:us|\d+%)|\bapproached by\b",
        r"\bprofessional services\b",
        r"\bprevious (?:partner|agency|vendor|consultancy|firm)\b",
        r"\bconsolidate vendors\b|\bbenchmark (?:your|the) (?:rates|pricing|prices)\b",
        r"\b(?:half the (?:price|cost)|fraction of the (?:cost|price)|\d+% (?:less|cheaper))\b",
        r"\bjust use the agency\b|\bagency of record\b|\b(?:be|is|are) cheaper\b",
        r"\bcompar(?:e|ing) (?:you|your (?:\w+ )?(?:proposal|rates|pricing|team|work|quote))"
        r" (?:with|to|against)\b",
        r"\b(?:agency|firm|vendor|consultancy|partner) (?:says|said|claims|thinks) (?:they|it)"
        r" (?:can|could)\b",
        r"\b(?:vendor|agency|firm|consultancy)(?:'s)?(?: \w+){0,3}? (?:is )?offer(?:ing|ed|s)"
        r" to\b",
        r"\b(?:another|other) vendor\b",
    ),
    confidence=0.85,
)

# Most specific first: the first kind that matches (and is not vetoed) wins.
DEFAULT_RULES: tuple[KindRules, ...] = (
    COMPETITOR_MENTION,
    DEADLINE_CHANGE,
    EXPANSION_SIGNAL,
    STAKEHOLDER_CHANGE,
    SCOPE_CREEP,
    NEGATIVE_SENTIMENT,
    RISK,
)

# Shouting a word is a sentiment signal the lowercase patterns cannot see ("failed AGAIN").
_SHOUTING = re.compile(r"\b(?:AGAIN|STILL|NEVER|WHY|WRONG|BROKEN|SERIOUSLY)\b")

_SLACK_LINK = re.compile(r"<(?:https?|mailto):[^>|]*(?:\|([^>]*))?>")
_SLACK_REF = re.compile(r"<[@#!][^>|]*(?:\|([^>]*))?>")
_EMOJI = re.compile(r":[a-z0-9_+\-']+:")
_URL = re.compile(r"https?://\S+")
_SPACES = re.compile(r"\s+")
_TRANSLATE = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "—": " - ", "–": " - "})


def normalize(text: str) -> str:
    """Lowercase plain text: Slack links/mentions/emoji reduced, quotes and dashes unified."""
    return _plain(text)


@lru_cache(maxsize=64)
def _plain(text: str) -> str:
    """`normalize`, kept for the few messages just seen: a message is classified and asked
    whether it is a question one after the other (the same text, normalised once)."""
    text = _SLACK_LINK.sub(lambda m: m.group(1) or " ", text)
    text = _SLACK_REF.sub(lambda m: m.group(1) or "someone", text)
    text = _URL.sub(" ", text)
    text = _EMOJI.sub(" ", text.translate(_TRANSLATE))
    return _SPACES.sub(" ", text).strip().lower()


@dataclass(frozen=True)
class _Compiled:
    kind: FlagKind
    positive: re.Pattern[str]
    negative: re.Pattern[str] | None
    confidence: float


def _branches(pattern: str) -> list[str]:
    """`pattern` split at its top-level `|` (outside groups, classes and escapes): an ordered
    alternation is the same whether its branches are nested or flat."""
    out: list[str] = []
    depth, start, i, in_class = 0, 0, 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]":  # a literal ] first in a class
                i += 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
        i += 1
    out.append(pattern[start:])
    return out


def _alternation(patterns: Sequence[str]) -> re.Pattern[str]:
    """One search for many patterns, first branch winning at the leftmost position as in
    `p1|p2|…`. Consecutive branches that start at a word boundary are kept in one group: the
    regex engine then checks the boundary once per position and skips at once the branches
    whose first letter differs; a branch that starts otherwise (`^`, `,`, `(`) in their midst
    would make it try every branch at every position (two to three times slower)."""
    groups: list[list[str]] = []
    for branch in (b for p in patterns for b in _branches(p)):
        bounded = branch.startswith("\\b")
        if bounded and groups and groups[-1][0].startswith("\\b"):
            groups[-1].append(branch)
        else:
            groups.append([branch])
    return re.compile("|".join("(?:" + "|".join(f"(?:{b})" for b in g) + ")" for g in groups))


def _excerpt(text: str, match: re.Match[str]) -> str:
    return text[match.start() : match.end()].strip()[:60]


class RuleClassifier:
    """Phrase patterns per kind, checked in priority order; hard negatives veto a kind."""

    def __init__(self, rules: Sequence[KindRules] = DEFAULT_RULES) -> None:
        seen = [r.kind for r in rules]
        if FlagKind.NONE in seen or len(set(seen)) != len(seen):
            raise ValueError("rules need distinct flag kinds, and none for 'none'")
        self._rules = tuple(
            _Compiled(
                r.kind,
                _alternation(r.patterns),
                _alternation(r.negatives) if r.negatives else None,
                r.confidence,
            )
            for r in rules
        )

    @property
    def priority(self) -> tuple[FlagKind, ...]:
        return tuple(r.kind for r in self._rules)

    def classify(self, text: str) -> Classification:
        plain = normalize(text)
        vetoed: list[str] = []
        for rule in self._rules:
            hit = rule.positive.search(plain)
            if hit is None and rule.kind is FlagKind.NEGATIVE_SENTIMENT:
                hit = _SHOUTING.search(text)
                if hit is not None:
                    return Classification(
                        kind=rule.kind,
                        confidence=rule.confidence,
                        reason=f'shouting: "{hit.group(0)}"',
                    )
            if hit is None:
                continue
            veto = rule.negative.search(plain) if rule.negative else None
            if veto is not None:
                vetoed.append(
                    f'{rule.kind.value} ("{_excerpt(plain, hit)}") vetoed by'
                    f' "{_excerpt(plain, veto)}"'
                )
                continue
            return Classification(
                kind=rule.kind,
                confidence=rule.confidence,
                reason=f'matched "{_excerpt(plain, hit)}"',
            )
        if vetoed:
            return Classification(kind=FlagKind.NONE, confidence=0.7, reason="; ".join(vetoed))
        return Classification(kind=FlagKind.NONE, confidence=0.6, reason="no pattern matched")

    def matches(self, text: str) -> dict[FlagKind, str]:
        """Every kind whose patterns match (vetoes ignored), with the excerpt: for debugging."""
        plain = normalize(text)
        out: dict[FlagKind, str] = {}
        for rule in self._rules:
            hit = rule.positive.search(plain)
            if hit is not None:
                out[rule.kind] = _excerpt(plain, hit)
        return out


# -- questions ---------------------------------------------------------------------------------
_GREETING = re.compile(
    r"^(?:(?:hi|hey|hello|hiya|morning|good (?:morning|afternoon|evening)|quick (?:q|question)"
    r"|thanks|thank you|ok|okay|sorry|also|and|so|btw|fyi)\b[^,:!.\-]{0,20}[,:!.\-]+\s*)+"
)
_REQUEST_START = re.compile(
    r"^(?:can|could|would|will) (?:you|u|we|someone|somebody|anyone|i get)\b"
    r"|^(?:any (?:update|news|eta|progress)|please (?:send|share|confirm|review|advise|let me"
    r" know|check|update|provide|help)|let me know|do you (?:have|know)|are you able"
    r"|is it possible|is there (?:any|a) way|would it be possible|any chance|when will"
    r"|when can|what's the (?:status|eta)|mind (?:sending|sharing)|need you to)\b"
)
_QUESTION_MARK = re.compile(r"\?(?=\s|$|[)\"'.!])")


def is_question(text: str) -> bool:
    """A client message that waits for a reply: it asks something or requests something."""
    plain = normalize(text)
    if not plain:
        return False
    if _QUESTION_MARK.search(plain):
        return True
    return bool(_REQUEST_START.search(_GREETING.sub("", plain)))
