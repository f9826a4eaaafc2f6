"""The registry of diagnostic codes: each code's name, default severity and meaning."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    severity: str
    summary: str
    why: str
    fix: str


def _c(code: str, name: str, severity: str, summary: str, why: str, fix: str) -> Code:
    return Code(code, name, severity, summary, why, fix)


_ALL = [
    # Reading the file
    _c("IVR001", "yaml-syntax-error", "error", "The file is not valid YAML.",
       "Nothing else can be checked until the file parses.",
       "Fix the YAML at the position shown: indentation, quotes and colons are the usual causes."),
    _c("IVR002", "duplicate-key", "error", "A mapping has the same key twice.",
       "YAML loaders silently keep the last value, so half of what you wrote would be ignored.",
       "Remove or rename one of the two keys."),
    _c("IVR003", "multiple-documents", "error", "The file holds more than one YAML document.",
       "A flow file is one flow; a second document after '---' would be ignored.",
       "Put each flow in its own file."),
    _c("IVR004", "alias-limit", "error", "Anchors and aliases expand to too much data.",
       "Aliases can expand a small file into gigabytes (a 'billion laughs' attack).",
       "Use fewer aliases, or write the repeated parts out."),
    _c("IVR005", "file-too-large", "error", "The file is larger than ivrc reads.",
       "Real flows are a few kilobytes; a huge file is a mistake or an attack.",
       "Split the flow, or check that the right file is being linted."),
    _c("IVR006", "not-utf8", "error", "The file is not UTF-8 text.",
       "Flows are text in UTF-8; other encodings garble prompts.",
       "Save the file as UTF-8."),
    _c("IVR007", "unsupported-yaml", "error", "The file uses a YAML feature flows do not allow.",
       "Tags such as !!python/object and non-string keys have no meaning in a flow.",
       "Write plain mappings, lists and scalars."),
    _c("IVR008", "not-a-flow", "error", "The file is empty or its top level is not a mapping.",
       "A flow is a mapping with ivrc, flow, start and states.",
       "Start from an example in examples/."),
    # Shape (schema)
    _c("IVR010", "unknown-key", "error", "A key the flow language does not have.",
       "An unknown key is usually a typo, and would otherwise be ignored silently.",
       "Use one of the keys listed in the help, or remove it."),
    _c("IVR011", "missing-key", "error", "A required key is missing.",
       "The flow cannot be compiled without it.",
       "Add the key."),
    _c("IVR012", "wrong-type", "error", "A value has the wrong type.",
       "For example a list where one value is expected, or text where a number is.",
       "Write the kind of value the help names. Note that yes/no/on/off are text in ivrc; write true/false."),
    _c("IVR013", "invalid-value", "error", "A value is not one the language accepts.",
       "Out-of-range numbers and malformed names would fail on a live call.",
       "Use a value of the form the help describes."),
    _c("IVR014", "state-action", "error", "A state must do exactly one thing after `set` and `say`.",
       "Each state ends in one of next, hangup, menu, collect, record, transfer, park or branch; with none "
       "the call would stall, with two it is unclear which happens.",
       "Keep exactly one of those keys in the state."),
    _c("IVR015", "no-continue-after-transfer", "error",
       "A flow cannot go on after a transfer, park or hang-up.",
       "Sinch bridges a transferred call and does not call back when the other side hangs up or does "
       "not answer, so `next` after a transfer would never run.",
       "Remove `next`; put anything the caller should hear before the transfer in `say`."),
    # References and structure
    _c("IVR020", "unknown-state", "error", "A reference to a state that does not exist.",
       "The call would fail when it reaches this point.",
       "Use the name of a state under `states:` (see the suggestion)."),
    _c("IVR021", "unknown-prompt", "error", "A reference to a prompt that is not in the catalogue.",
       "The caller would hear nothing, or the call would fail.",
       "Add the prompt under `prompts:` or fix the name."),
    _c("IVR023", "unknown-schedule", "error", "is_open() names a schedule not under `hours:`.",
       "The condition could never be evaluated.",
       "Add the schedule under `hours:` or fix the name."),
    _c("IVR024", "branch-needs-else", "error", "A branch must end with an `else` case, and only there.",
       "Without an else, a call that matches no condition would have nowhere to go.",
       "Add `- else: STATE` as the last case."),
    _c("IVR030", "unreachable-state", "warning", "No path from the start state reaches this state.",
       "Dead states are usually a forgotten link or a typo elsewhere.",
       "Link to it from another state, or remove it."),
    _c("IVR031", "no-way-to-end", "error", "From this state the call can never end.",
       "Every path loops between states that never hang up, transfer or park; a caller would be stuck "
       "until they give up.",
       "Give the loop an exit: an `exhausted` state, a hang-up, or a transfer."),
    _c("IVR032", "eventless-cycle", "error", "States loop without waiting for the caller.",
       "Say, set and branch states run inside one Sinch callback; a loop of them would never give "
       "control back to Sinch.",
       "Put a menu, digit collection or recording in the loop, or break it."),
    # Menus and digits
    _c("IVR040", "menu-no-input-unhandled", "warning", "A menu or digit collection says nothing when the caller is silent.",
       "Callers who do not answer hear the same prompt again without being told why.",
       "Add `no_input:` with a prompt, or a state to go to."),
    _c("IVR041", "menu-invalid-unhandled", "warning", "A menu or digit collection says nothing on a wrong key.",
       "Callers who press a wrong key hear the prompt again without being told why.",
       "Add `invalid:` with a prompt, or a state to go to."),
    _c("IVR042", "invalid-dtmf-key", "error", "A key that a phone does not have, or that is used twice.",
       "Menus map single phone keys 0-9, # and * to options.",
       "Use each of 0-9, # and * at most once per menu."),
    _c("IVR043", "duplicate-keyword", "error", "The same spoken keyword leads to two options.",
       "The caller's words could not be told apart.",
       "Give each option its own keywords."),
    _c("IVR044", "digit-range", "error", "Digit collection limits that cannot be met.",
       "min_digits above max_digits, or a pattern that no allowed input can match, would reject every caller.",
       "Make min_digits <= max_digits and the pattern consistent with them."),
    _c("IVR045", "invalid-pattern", "error", "A validation pattern is not a valid regular expression.",
       "The flow would fail when the first caller types digits.",
       "Fix the regular expression (Python syntax)."),
    _c("IVR050", "not-e164", "error", "A phone number not in E.164 format.",
       "Sinch routes and dials E.164 numbers: '+', country code, number, no spaces.",
       "Write the number like +14155550100."),
    # Sinch platform rules
    _c("IVR060", "not-allowed-in-callback", "error", "Sinch does not allow this in the callback where the state runs.",
       "Sinch accepts some actions only in certain answers (e.g. park only when answering the incoming "
       "call, ICE); elsewhere the call fails.",
       "Move the state so it runs in an allowed callback, or use another action."),
    _c("IVR061", "recording-ignored", "warning", "Sinch ignores recording on transfers to in-app users.",
       "Recording instructions have no effect with connectMxp; nothing would be recorded.",
       "Remove `record`, or transfer to a number or SIP address."),
    _c("IVR062", "amd-needs-outbound", "error", "Answering-machine detection works only on an outbound flow.",
       "Sinch runs detection only on the first leg of a callout.",
       "Use `outbound: {amd: true}` in an outbound flow."),
    _c("IVR063", "recording-credentials", "warning", "An s3:// recording destination without credentials_env.",
       "Sinch needs storage credentials to write to S3; without them no file is stored.",
       "Add `credentials_env: NAME` and set that environment variable on the server."),
    # Cookies and variables
    _c("IVR070", "cookie-budget", "error", "The call's state could exceed Sinch's 1024-byte cookie limit.",
       "ivrc carries the call's state in Sinch cookies, which hold 1024 bytes in all; beyond that Sinch "
       "drops data and the call would break.",
       "Lower variables' max_length, or keep fewer variables."),
    _c("IVR071", "unknown-variable", "error", "A variable that is set but not declared.",
       "Variables travel in cookies, so each needs a maximum length to prove the cookie budget.",
       "Declare it under `variables:` with max_length."),
    _c("IVR072", "invalid-locale-switch", "error", "`set: locale` to a language the flow does not declare.",
       "Prompts exist only for the flow's locales.",
       "Add the locale to `locales:` or fix the value."),
    _c("IVR073", "value-too-long", "error", "A constant longer than its variable's max_length.",
       "The value could not be stored in the call's cookies.",
       "Raise max_length, or shorten the value."),
    # Templates and prompts
    _c("IVR080", "template-syntax", "error", "A Jinja2 template or condition does not parse.",
       "The prompt or condition would fail on every call.",
       "Fix the template syntax at the position shown."),
    _c("IVR081", "undefined-name", "error", "A template uses a name that is never defined.",
       "Templates are rendered strictly: an undefined name fails the call.",
       "Use call.caller, call.called, call.callid, call.amd, locale, now, is_open('NAME') or a declared variable."),
    _c("IVR090", "missing-translation", "error", "A prompt has no text for one of the flow's locales.",
       "A caller who chose that language would hear nothing.",
       "Add the text for the locale named in the message."),
    _c("IVR091", "tts-too-long", "error", "TTS text longer than Sinch's 600-character limit.",
       "Sinch rejects longer text by default.",
       "Split the text into several parts of a list."),
    _c("IVR092", "malformed-ssml", "error", "SSML that is not a well-formed <speak> document.",
       "Sinch would reject the prompt.",
       "Fix the markup; the root element must be <speak>."),
    _c("IVR093", "prompt-separator", "error", "Prompt text with ';' or ']' in it.",
       "Sinch joins prompt parts with ';' and closes #tts[...] with ']', so these characters would cut the text.",
       "Use ',' or '.' instead (in SSML too: Sinch wraps it in #ssml[...])."),
    _c("IVR094", "undeclared-locale", "error", "Prompt text for a locale the flow does not declare.",
       "Callers never hear it, which usually means a typo or a missing entry in `locales:`.",
       "Add the locale to `locales:` or fix its spelling."),
    # Time
    _c("IVR120", "invalid-timezone", "error", "A time zone that is not in the IANA database.",
       "Business hours and `now` would be wrong.",
       "Use a name like Europe/Stockholm or America/New_York."),
    _c("IVR121", "invalid-hours", "error", "Opening hours that do not make sense.",
       "A range that ends before it starts, or overlapping ranges, are mistakes.",
       "Write HH:MM-HH:MM with the end after the start."),
    _c("IVR122", "invalid-date", "error", "A holiday date that does not exist.",
       "The holiday would never apply.",
       "Write YYYY-MM-DD or MM-DD with a real date."),
    # Across files
    _c("IVR100", "number-conflict", "error", "One called number is claimed by two flows.",
       "Incoming calls to the number could go to either flow.",
       "Give the number to one flow."),
    _c("IVR101", "duplicate-flow-id", "error", "Two flows have the same id.",
       "Calls in progress are routed by flow id.",
       "Give each flow its own `flow:` id."),
]

CODES: dict[str, Code] = {c.code: c for c in _ALL}
BY_NAME: dict[str, Code] = {c.name: c for c in _ALL}
