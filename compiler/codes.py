"""The registry of diagnostic codes: each code's name, default severity, meaning and documentation."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass

# Where ivrc's documentation is published (the site of the schemas' $id): SARIF rules link each
# code to its section of docs/codes.md there.
HOME_URL = "https://ivrc.dev/"
DOCS_URL = HOME_URL + "docs/codes"


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    severity: str
    summary: str  # what it means, in one sentence
    why: str  # why it matters on a live call
    fix: str  # what to do about it
    example: str  # a YAML excerpt with the mistake, as an author would write it
    fixed: str  # the same excerpt, corrected


def _excerpts(change: str) -> tuple[str, str]:
    """Splits a change written like a unified diff into the excerpt before and after.

    Each line has a two-character gutter: '  ' for a line in both, '- ' for a line only in the
    example, '+ ' for a line only in the fixed excerpt. Writing the pair as one block keeps the
    registry short and shows in the source exactly what the fix changes.
    """
    before: list[str] = []
    after: list[str] = []
    for line in textwrap.dedent(change).strip("\n").splitlines():
        gutter, text = line[:2].ljust(2), line[2:]
        if gutter not in ("  ", "- ", "+ "):
            raise ValueError(f"a change line starts with '  ', '- ' or '+ ', not {line!r}")
        if gutter != "+ ":
            before.append(text)
        if gutter != "- ":
            after.append(text)
    if before == after:
        raise ValueError("a change must change something")
    return "\n".join(before), "\n".join(after)


def _c(code: str, name: str, severity: str, summary: str, why: str, fix: str, change: str) -> Code:
    example, fixed = _excerpts(change)
    return Code(code, name, severity, summary, why, fix, example, fixed)


GROUPS: list[tuple[str, list[Code]]] = [
    ("Reading the file", [
        _c("IVR001", "yaml-syntax-error", "error", "The file is not valid YAML.",
           "Nothing else can be checked until the file parses.",
           "Fix the YAML at the position shown: indentation, quotes and colons are the usual causes. "
           "The keys `#` and `*` must be in quotes.",
           """
             options:
               1: daily_menu
           -   *: main_menu
           +   "*": main_menu
           """),
        _c("IVR002", "duplicate-key", "error", "A mapping has the same key twice.",
           "YAML loaders silently keep the last value, so half of what you wrote would be ignored. "
           "Menu keys `1` and `\"1\"` are the same key.",
           "Remove or rename one of the two keys.",
           """
             options:
               1: orders
               2: opening_hours
           -   "1": catering
           +   3: catering
           """),
        _c("IVR003", "multiple-documents", "error", "The file holds more than one YAML document.",
           "A flow file is one flow; a second document after `---` would be ignored.",
           "Put each flow in its own file.",
           """
           + # pizza.yaml
             ivrc: 1
             flow: pizza
             numbers: ["+46812345680"]
             start: welcome
           - ---
           - ivrc: 1
           - flow: pizza-delivery
           - numbers: ["+46812345682"]
           - start: welcome
           + # the delivery line goes in a file of its own, pizza-delivery.yaml
           """),
        _c("IVR004", "alias-limit", "error", "Anchors and aliases expand to too much data, or the data nests too deep.",
           "Aliases can expand a small file into gigabytes (a 'billion laughs' attack), and very deep nesting "
           "is as costly; ivrc stops reading rather than run out of memory.",
           "Use fewer aliases, or write the repeated parts out.",
           """
             flow: pizza
           - lol0: &lol0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]
           - lol1: &lol1 [*lol0, *lol0, *lol0, *lol0, *lol0, *lol0, *lol0, *lol0, *lol0, *lol0]
           - lol2: &lol2 [*lol1, *lol1, *lol1, *lol1, *lol1, *lol1, *lol1, *lol1, *lol1, *lol1]
           - lol3: &lol3 [*lol2, *lol2, *lol2, *lol2, *lol2, *lol2, *lol2, *lol2, *lol2, *lol2]
           - lol4: &lol4 [*lol3, *lol3, *lol3, *lol3, *lol3, *lol3, *lol3, *lol3, *lol3, *lol3]
           - lol5: &lol5 [*lol4, *lol4, *lol4, *lol4, *lol4, *lol4, *lol4, *lol4, *lol4, *lol4]
           - description: *lol5
           + description: "Luigi's Pizza order line."
           """),
        _c("IVR005", "file-too-large", "error", "The file is larger than 1 MiB, the most ivrc reads.",
           "Real flows are a few kilobytes; a huge file is a mistake or an attack.",
           "Split the flow, or check that the right file is being linted. Keep audio out of the flow: "
           "link to it by URL.",
           """
             states:
               welcome:
                 say:
           -       - audio: "data:audio/mpeg;base64,SUQzBAAAAAAAI1RTU0UAAAAPAAADTGF2ZjU4..."  # 1.8 MB more
           +       - audio: https://media.example.com/luigis/welcome.mp3
                 next: main_menu
           """),
        _c("IVR006", "not-utf8", "error", "The file is not UTF-8 text.",
           "Flows are text in UTF-8; other encodings garble prompts.",
           "Save the file as UTF-8.",
           """
           - # saved by an editor set to Latin-1: the 'ä' is the byte 0xe4, which is not UTF-8
           + # saved as UTF-8
             states:
               welcome:
           -     say: "V\ufffdlkommen till Luigi's Pizza."
           +     say: "Välkommen till Luigi's Pizza."
                 hangup: true
           """),
        _c("IVR007", "unsupported-yaml", "error", "The file uses a YAML feature flows do not allow.",
           "Tags such as `!!python/object`, keys that are lists or mappings, and merge keys (`<<`) that "
           "point at anything but a mapping have no meaning in a flow.",
           "Write plain mappings, lists and scalars; give each phone key its own option.",
           """
             options:
           -   [1, 2]: orders
           +   1: orders
           +   2: orders
               3: opening_hours
           """),
        _c("IVR008", "not-a-flow", "error", "The file is empty or its top level is not a mapping.",
           "A flow is a mapping with `ivrc`, `flow`, `start` and `states`.",
           "Start from an example in examples/.",
           """
           - - welcome:
           -     say: "Welcome to Luigi's Pizza."
           -     hangup: true
           + ivrc: 1
           + flow: pizza
           + start: welcome
           + states:
           +   welcome:
           +     say: "Welcome to Luigi's Pizza."
           +     hangup: true
           """),
        _c("IVR009", "yaml-trap", "error", "YAML reads the text differently from how it looks.",
           "An unquoted `#` starts a comment, so `#: main_menu` silently deletes the option; a value "
           "starting with `{{` is read as a mapping, not as a template. The flow would not do what it says.",
           "Put the key or the value in quotes.",
           """
             options:
               1: orders
           -   #: main_menu
           +   "#": main_menu
           """),
    ]),
    ("Shape", [
        _c("IVR010", "unknown-key", "error", "A key the flow language does not have.",
           "An unknown key is usually a typo, and would otherwise be ignored silently.",
           "Use one of the keys listed in the help, or remove it.",
           """
             menu:
               prompt: "To order, press 1. For opening hours, press 2."
               options:
                 1: orders
                 2: opening_hours
           -   timout: 8
           +   timeout: 8
           """),
        _c("IVR011", "missing-key", "error", "A required key is missing.",
           "The flow cannot be compiled without it.",
           "Add the key.",
           """
             welcome:
               menu:
                 prompt: "To order, press 1. For opening hours, press 2."
           +     options:
           +       1: orders
           +       2: opening_hours
                 no_input: {say: "Sorry, I did not hear anything."}
                 invalid: {say: "Sorry, that is not an option."}
           """),
        _c("IVR012", "wrong-type", "error", "A value has the wrong type.",
           "For example a list where one value is expected, or text where a number is; YAML reads an "
           "unquoted +46812345681 as a number.",
           "Write the kind of value the help names; put phone numbers in quotes. Note that yes/no/on/off are "
           "text in ivrc; write true/false.",
           """
             orders:
               say: "Connecting you to our order desk."
               transfer:
           -     number: +46812345681
           +     number: "+46812345681"
           """),
        _c("IVR013", "invalid-value", "error", "A value is not one the language accepts.",
           "Out-of-range numbers and malformed names would fail on a live call.",
           "Use a value of the form the help describes.",
           """
             menu:
               prompt: "To order, press 1."
               options:
                 1: orders
           -   timeout: 120
           +   timeout: 60
           """),
        _c("IVR014", "state-action", "error", "A state must do exactly one thing after `set` and `say`.",
           "Each state ends in one of next, hangup, menu, collect, record, transfer, park or branch; with none "
           "the call would stall, with two it is unclear which happens.",
           "Keep exactly one of those keys in the state.",
           """
             states:
               welcome:
                 say: "Welcome to Luigi's Pizza."
                 next: opening_hours
               opening_hours:
                 say: "We are open every day from 11 to 23."
           +     hangup: true
           """),
        _c("IVR015", "no-continue-after-transfer", "error",
           "A flow cannot go on after a transfer, park or hang-up.",
           "Sinch bridges a transferred call and does not call back when the other side hangs up or does "
           "not answer, so `next` (or `on_no_answer`) after a transfer would never run.",
           "Remove `next`; put anything the caller should hear before the transfer in `say`.",
           """
             welcome:
           -   say: "Connecting you to our order desk."
           +   say: "Thank you for calling Luigi's Pizza. Connecting you to our order desk."
               transfer:
                 number: "+46812345681"
           -   next: goodbye
           """),
        _c("IVR016", "outbound-with-numbers", "error", "A flow has both `outbound` and `numbers`.",
           "An outbound flow places calls and is chosen by the callout's `custom` value; an inbound flow "
           "answers its `numbers`. A flow cannot be both: its start state would be answered in different "
           "callbacks, with different rules.",
           "Keep `outbound` for a flow that places calls, `numbers` for one that answers them; split a flow "
           "that must do both into two files.",
           """
             flow: reminder
           - numbers: ["+46812345730"]
             outbound:
               amd: true
               caller_id: "+46812345730"
           """),
    ]),
    ("References and structure", [
        _c("IVR020", "unknown-state", "error", "A reference to a state that does not exist.",
           "The call would fail when it reaches this point.",
           "Use the name of a state under `states:` (see the suggestion).",
           """
             states:
               welcome:
                 say: "Welcome to Luigi's Pizza."
           -     next: opening_hour
           +     next: opening_hours
               opening_hours:
                 say: "We are open every day from 11 to 23."
                 hangup: true
           """),
        _c("IVR021", "unknown-prompt", "error", "A reference to a prompt that is not in the catalogue.",
           "The caller would hear nothing, or the call would fail.",
           "Add the prompt under `prompts:` or fix the name.",
           """
             prompts:
               welcome: "Welcome to Luigi's Pizza."
             states:
               welcome:
           -     say: {prompt: welcom}
           +     say: {prompt: welcome}
                 next: opening_hours
           """),
        _c("IVR023", "unknown-schedule", "error", "`is_open()` names a schedule not under `hours:`.",
           "The condition could never be evaluated.",
           "Add the schedule under `hours:` or fix the name; write the name in quotes: `is_open('kitchen')`.",
           """
             hours:
               kitchen:
                 weekly: {tue: ["11:00-23:00"], wed: ["11:00-23:00"]}
             states:
               check_hours:
                 branch:
           -       - if: is_open('kitchin')
           +       - if: is_open('kitchen')
                     goto: orders
                   - else: closed
           """),
        _c("IVR024", "branch-needs-else", "error", "A branch must end with an `else` case, and only there.",
           "Without an else, a call that matches no condition would have nowhere to go; cases after an else "
           "would never be tried.",
           "Add `- else: STATE` as the last case.",
           """
             route:
               branch:
                 - if: call.called == "+46812345680"
                   goto: orders
           -     - if: call.called == "+46812345684"
           -       goto: catering
           +     - else: catering
           """),
        _c("IVR030", "unreachable-state", "warning", "No path from the start state reaches this state.",
           "Dead states are usually a forgotten link or a typo elsewhere.",
           "Link to it from another state, or remove it.",
           """
             states:
               welcome:
                 menu:
                   prompt: "To order, press 1. For catering, press 3."
                   options:
                     1: orders
           +         3: catering
               catering:
                 transfer: {number: "+46812345685"}
           """),
        _c("IVR031", "no-way-to-end", "error", "From this state the call can never end.",
           "Every path loops between states that never hang up, transfer or park; a caller would be stuck "
           "until they give up.",
           "Give the loop an exit: an `exhausted` state, a hang-up, or a transfer.",
           """
             main_menu:
               menu:
                 prompt: "For our menu of the day, press 1."
                 options: {1: daily_menu}
           -     exhausted: daily_menu
           +     exhausted: goodbye
             daily_menu:
               menu:
                 prompt: "To hear it again, press 1. To go back, press star."
                 options: {1: daily_menu, "*": main_menu}
                 exhausted: main_menu
           """),
        _c("IVR032", "eventless-cycle", "error", "States loop without waiting for the caller.",
           "Say, set and branch states run inside one Sinch callback; a loop of them would never give "
           "control back to Sinch.",
           "Put a menu, digit collection or recording in the loop, or break it.",
           """
             check_hours:
               branch:
                 - if: is_open('kitchen')
                   goto: orders
                 - else: please_wait
             please_wait:
           -   say: "The kitchen opens at 11. Please hold."
           -   next: check_hours
           +   say: "The kitchen opens at 11. Please call again then. Goodbye."
           +   hangup: true
           """),
        _c("IVR171", "error-path-loops", "error", "An `on_error` state from which the call can take the error path again.",
           "The error path would lead back to the same state, so a silent caller, or a backend that is down, "
           "would go round it for ever instead of reaching someone or hanging up.",
           "Give the menus, collections and requests after the `on_error` state their own `exhausted` and "
           "`on_failure` states, or send the error path straight to a state that ends the call.",
           """
             on_error:
               say: "Sorry, something went wrong."
               goto: agent_menu
             states:
               agent_menu:
                 menu:
                   prompt: "Press 1 to speak to an agent."
                   options: {1: agent}
           +       exhausted: agent
           """),
        _c("IVR176", "repeat-changes-nothing", "warning", "A repeat whose `goto` and `then` are the same state.",
           "The call goes to the same place whatever the count says: the repeat counts for nothing.",
           "Send `then` where the call should go once the state has run `times` times.",
           """
             hold:
               say: {prompt: hold_message}
           -   repeat: {times: 3, goto: hold_menu, then: hold_menu}
           +   repeat: {times: 3, goto: hold_menu, then: voicemail}
           """),
        _c("IVR177", "repeat-never-again", "warning", "A repeat whose `goto` never leads back to it.",
           "The state runs once: the count never reaches `times`, and `then` is never taken.",
           "Lead a way from the `goto` state back to the repeat (a menu's `no_input`, say), or use `next:`.",
           """
             still_waiting:
               say: "Thank you for waiting."
               repeat: {times: 3, goto: hold_menu, then: voicemail}
             hold_menu:
               menu:
                 prompt: "Press 1 to leave a message, or stay on the line."
                 options: {1: voicemail}
           -     no_input: goodbye
           +     no_input: still_waiting
                 exhausted: voicemail
           """),
    ]),
    ("Menus and digits", [
        _c("IVR033", "exhausted-loops", "warning", "`exhausted` leads straight back to the same menu.",
           "A caller who stays silent (a phone left off the hook, a caller who cannot press keys) hears the "
           "menu again and again, and the call never ends.",
           "Send `exhausted` to a state that ends the call: an operator, voicemail, or a goodbye.",
           """
             main_menu:
               menu:
                 prompt: "To order, press 1."
                 options:
                   1: orders
           -     exhausted: main_menu
           +     exhausted: goodbye
           """),
        _c("IVR040", "menu-no-input-unhandled", "warning",
           "A menu or digit collection says nothing when the caller is silent.",
           "Callers who do not answer hear the same prompt again without being told why.",
           "Add `no_input:` with a prompt, or a state to go to.",
           """
             menu:
               prompt: "To order, press 1. For opening hours, press 2."
               options:
                 1: orders
                 2: opening_hours
           +   no_input: {say: "Sorry, I did not hear anything."}
               invalid: {say: "Sorry, that is not an option."}
               exhausted: goodbye
           """),
        _c("IVR041", "menu-invalid-unhandled", "warning",
           "A menu or digit collection says nothing on a wrong key.",
           "Callers who press a wrong key hear the prompt again without being told why.",
           "Add `invalid:` with a prompt, or a state to go to.",
           """
             collect:
               prompt: "Please key in your six digit order number."
               into: order
               min_digits: 6
               max_digits: 6
               no_input: {say: "Sorry, I did not hear any digits."}
           +   invalid: {say: "Sorry, order numbers have six digits."}
               next: status
           """),
        _c("IVR042", "invalid-dtmf-key", "error", "A key that a phone does not have.",
           "Menus and recordings use single phone keys: `0`-`9`, `#` and `*`. An option on any other key "
           "could never be chosen. (A key given twice in one menu is IVR002.)",
           "Use a single key: `0`-`9`, `\"#\"` or `\"*\"`, with quotes: unquoted, `#` starts a comment and `*` an alias.",
           """
             menu:
           -   prompt: "To order, press 1. For opening hours, press 2. For catering, press 10."
           +   prompt: "To order, press 1. For opening hours, press 2. For catering, press 3."
               options:
                 1: orders
                 2: opening_hours
           -     10: catering
           +     3: catering
           """),
        _c("IVR043", "duplicate-keyword", "error", "The same spoken keyword leads to two options.",
           "The caller's words could not be told apart (keywords are compared without regard to case).",
           "Give each option its own keywords.",
           """
             options:
               1: {goto: orders, keywords: ["order", "pizza"]}
           -   2: {goto: catering, keywords: ["catering", "Pizza"]}
           +   2: {goto: catering, keywords: ["catering", "party"]}
           """),
        _c("IVR044", "digit-range", "error", "Digit collection limits that cannot be met.",
           "`min_digits` above `max_digits`, or a pattern that no allowed input can match, would reject "
           "every caller.",
           "Make `min_digits` <= `max_digits` and the pattern consistent with them.",
           """
             collect:
               prompt: "Please key in your order number, six to eight digits."
               into: order
           -   min_digits: 8
           -   max_digits: 6
           +   min_digits: 6
           +   max_digits: 8
           """),
        _c("IVR045", "invalid-pattern", "error", "A validation pattern is not a valid regular expression.",
           "The flow would fail when the first caller types digits.",
           "Fix the regular expression (Python syntax).",
           """
             collect:
               prompt: "Please key in your six digit order number."
               into: order
               max_digits: 6
           -   pattern: "([1-9][0-9]{5}"
           +   pattern: "[1-9][0-9]{5}"
           """),
        _c("IVR046", "backtracking-pattern", "error",
           "A validation pattern uses a feature that only a backtracking matcher has, or is too large.",
           "Callers choose the digits a pattern is matched against, so ivrc matches patterns in time "
           "linear in the input (a backtracking matcher took 22 s on `([0-9]+)*[1-9]` and 28 zeros, "
           "freezing every call on the server). Backreferences, lookahead and lookbehind, atomic "
           "groups, possessive repeats and conditional groups cannot be matched that way, and a "
           "pattern whose repeat counts multiply into more than 4,000 steps is refused as too large.",
           "Write the alternatives out, or check the digits in a `branch:` after collecting them.",
           """
             collect:
               prompt: "Please key in your PIN, four digits, the same pair twice."
               into: pin
               max_digits: 4
           -   pattern: '([0-9]{2})\\1'
           +   pattern: "[0-9]{4}"
           """),
        _c("IVR047", "pattern-never-matches", "error", "A digit pattern that nothing a caller can key will match.",
           "Callers key only 0-9 and `*`; `#` ends the input and is never part of it. A pattern that needs "
           "letters, a `#`, or a length the collection cannot give rejects every caller, who hears the "
           "`invalid` prompt until the attempts run out.",
           "Write the pattern over the digits and `*` only, with lengths between `min_digits` and `max_digits`.",
           """
             collect:
               prompt: "Please key in your six digit order number, then press the hash key."
               into: order
               max_digits: 7
               terminator: "#"
           -   pattern: "[0-9]{6}#"
           +   pattern: "[0-9]{6}"
           """),
        _c("IVR048", "exhausted-never-happens", "warning",
           "A menu's or collection's `exhausted` that no call can reach.",
           "When both `no_input` and `invalid` go to another state, every failed try leaves the menu and the "
           "attempts never run out; the `exhausted` state is never used from here.",
           "Remove `exhausted`, or let `no_input` or `invalid` ask again (a `say` without `goto`).",
           """
             menu:
               prompt: "For sales, press 1."
               options: {1: sales}
               no_input: operator
               invalid: {say: "Sorry, that is not an option.", goto: operator}
           -   exhausted: goodbye
           """),
        _c("IVR050", "not-e164", "error", "A phone number not in E.164 format.",
           "Sinch routes and dials E.164 numbers: '+', country code, number, no spaces.",
           "Write the number like +14155550100.",
           """
           - numbers: ["+46 8 123 456 80"]
           + numbers: ["+46812345680"]
             states:
               welcome:
                 transfer:
           -       number: "0812345681"
           +       number: "+46812345681"
           """),
        _c("IVR178", "menu-key-prefix", "warning", "A menu key that is how a longer key begins (`1` and `10`).",
           "Sinch's menus take one key per option, so a menu with keys like 10 collects digits: it waits for "
           "the longest key, a `#` or a pause. A caller who presses 1 waits for the timeout unless told to "
           "press #.",
           "Tell the caller in the prompt to press # after the shorter key, or give it a key no other starts with.",
           """
             rooms:
               menu:
           -     prompt: "For the front desk, press 1. For room 10, press 1 0."
           +     prompt: "For the front desk, press 1 and then the hash key. For room 10, press 1 0."
                 options:
                   1: front_desk
                   10: room_10
           """),
        _c("IVR179", "hash-in-multikey-menu", "error", "A `#` option in a menu with keys like 10.",
           "Such a menu collects digits, and Sinch ends digit input on # without reporting it: the option "
           "can never be chosen.",
           "Use another key for the option, such as * or 0, or put it in a menu of single keys.",
           """
             rooms:
               menu:
                 prompt: "Key the room number. For the front desk, press star."
                 options:
                   10: room_10
                   11: room_11
           -       "#": front_desk
           +       "*": front_desk
           """),
    ]),
    ("Sinch platform rules", [
        _c("IVR051", "sip-scheme", "warning", "A SIP address written with its `sip:` scheme.",
           "ivrc gives Sinch the address as user@host; with the scheme the user name would be `sip:desk`.",
           "Write the address without the scheme.",
           """
             kitchen:
               transfer:
           -     sip: "sip:kitchen@pbx.luigis.example.com"
           +     sip: kitchen@pbx.luigis.example.com
           """),
        _c("IVR052", "transfer-to-own-number", "warning", "A transfer to one of the flow's own numbers.",
           "The transferred call arrives back at this flow instead of reaching a person.",
           "Transfer to the number of the person or desk that should answer.",
           """
             numbers: ["+46812345680"]
             states:
               orders:
                 transfer:
           -       number: "+46812345680"
           +       number: "+46812345681"
           """),
        _c("IVR172", "destination-never-valid", "error",
           "A transfer's number or SIP address, written as a template, that can never be a valid one.",
           "Every call that reaches the transfer would take `on_invalid` or the error path instead of being "
           "connected.",
           "Write '+' and digits around the template (or user@host for SIP), and give the variable a "
           "`max_length` that holds the whole number.",
           """
             variables:
               extension: {max_length: 3}
             states:
               desk:
                 transfer:
           -       number: "tel:+4681234{{ extension }}"
           +       number: "+4681234{{ extension }}"
                   on_invalid: reception
           """),
        _c("IVR173", "destination-unchecked", "warning",
           "A transfer to a number, SIP address or conference id from a template, with no `on_invalid`.",
           "A value that is not a phone number (an empty variable, a backend's answer, digits a caller keyed), "
           "SIP address or conference id is never used; without `on_invalid` the call takes the flow's error path.",
           "Add `on_invalid: STATE`, a state that says so and offers another way on. When the value can never be "
           "invalid (a conference id built from the call's locale, say), an `# ivrc: ignore[IVR173]` comment says "
           "so, and leaves no `on_invalid` transition that no flow test could take.",
           """
             manager:
               transfer:
                 number: "{{ manager_number }}"
           +     on_invalid: reception
           """),
        _c("IVR174", "destination-may-be-cut", "warning",
           "A transfer to a number held in a variable whose `max_length` is shorter than a phone number can be.",
           "A longer number set into the variable is cut to `max_length`, and a cut number may still be a "
           "valid number: someone else's.",
           "Raise the variable's `max_length` to 16, the longest E.164 number.",
           """
             variables:
           -   manager_number: {max_length: 12}
           +   manager_number: {max_length: 16}
             states:
               manager:
                 transfer: {number: "{{ manager_number }}", on_invalid: reception}
           """),
        _c("IVR175", "on-invalid-unused", "warning",
           "`on_invalid` on a transfer whose destination is written out, or that is not to a number or SIP address.",
           "Only a number or SIP address from a template can be invalid; the state would never be used.",
           "Remove `on_invalid`, or write the destination as a template.",
           """
             sales:
               transfer:
                 number: "+46812345681"
           -     on_invalid: reception
           """),
        _c("IVR060", "not-allowed-in-callback", "error", "Sinch does not allow this in the callback where the state runs.",
           "Sinch accepts some actions only in certain answers (e.g. park only when answering the incoming "
           "call, ICE); elsewhere the call fails.",
           "Move the state so it runs in an allowed callback, or use another action.",
           """
             welcome:
               menu:
                 prompt: "To order, press 1. To book a table, press 2."
                 options: {1: orders, 2: reservations}
             reservations:
           -   park:
           -     hold: [{audio: "https://media.example.com/luigis/hold-music.mp3"}]
           +   transfer:
           +     number: "+46812345688"
           """),
        _c("IVR061", "recording-ignored", "warning", "Sinch ignores recording on transfers to in-app users.",
           "Recording instructions have no effect with connectMxp; nothing would be recorded.",
           "Remove `record`, or transfer to a number or SIP address.",
           """
             transfer:
           -   user: manager-luigi
           +   number: "+46812345687"
               record:
                 destination: s3://luigis-calls/manager/
                 credentials_env: CALLS_S3_CREDENTIALS
           """),
        _c("IVR062", "amd-needs-outbound", "error", "Answering-machine detection works only on an outbound flow.",
           "Sinch runs detection only on the first leg of a callout, never on a transfer.",
           "Remove `amd` from the transfer; in an outbound flow use `outbound: {amd: true}`.",
           """
             welcome:
               say: "Connecting you to our order desk."
               transfer:
                 number: "+46812345681"
           -     amd: true
           """),
        _c("IVR063", "recording-credentials", "warning", "An s3:// recording destination without `credentials_env`.",
           "Sinch needs storage credentials to write to S3; without them no file is stored.",
           "Add `credentials_env: NAME` and set that environment variable on the server.",
           """
             record:
               prompt: "Please say your order after the tone."
               max_length: 120
               recording:
                 destination: s3://luigis-orders/voicemail/
           +     credentials_env: ORDERS_S3_CREDENTIALS
               next: goodbye
           """),
        _c("IVR064", "ignored-transfer-option", "warning", "A transfer option Sinch ignores for this kind of transfer.",
           "`dial_timeout` applies only to numbers, `transport` only to SIP, `music_on_hold` only to conferences "
           "and SIP: elsewhere Sinch ignores it, so the call does not behave as the flow reads.",
           "Remove the option, or use it on a transfer it applies to.",
           """
             team_meeting:
               transfer:
                 conference: luigis-kitchen
           -     dial_timeout: 30
           """),
    ]),
    ("Call control", [
        _c("IVR150", "stream-not-wss", "error", "A stream transfer whose URL is not a wss:// URL.",
           "Sinch streams the call's audio only over a secure WebSocket; any other address fails on a live call "
           "and the caller is cut off.",
           "Write the WebSocket server's address out as `wss://host/path`.",
           """
             bot:
               transfer:
           -     stream: https://bot.example.com/calls
           +     stream: wss://bot.example.com/calls
           """),
        _c("IVR151", "stream-url-template", "error", "A stream transfer whose URL is a template.",
           "The caller's audio goes wherever the URL points; a template could send it to a server the flow does "
           "not name.",
           "Write the URL out, and send per-call data in the stream's `headers`, which may be templates.",
           """
             bot:
               transfer:
           -     stream: "wss://bot.example.com/calls/{{ account }}"
           +     stream: wss://bot.example.com/calls
           +     headers: {X-Account: "{{ account }}"}
           """),
        _c("IVR152", "keypad-mode-mismatch", "error",
           "Conference `keys` without `mode: detect`, or `detect` mode without `keys`.",
           "Sinch reports keys pressed in a conference only in `detect` mode, and then reports every key: keys "
           "in another mode never arrive, and detection without keys leads nowhere.",
           "Use `mode: detect` together with `keys`, or neither.",
           """
             meeting:
               transfer:
                 conference: team-room
                 keypad:
           +       mode: detect
                   keys: {"*6": mute_line, "#": leave}
           """),
        _c("IVR153", "keypad-key-unreachable", "error",
           "A conference key sequence that cannot be pressed: longer than `max_digits`, or with `#` inside it.",
           "Sinch reports the keys when `max_digits` keys are pressed or at `#`, so the rest of the sequence "
           "never arrives and the state it leads to is never reached.",
           "Raise `max_digits`, shorten the sequence, or use `#` only on its own.",
           """
             meeting:
               transfer:
                 conference: team-room
                 keypad:
                   mode: detect
           -       max_digits: 1
           +       max_digits: 2
                   keys: {"*6": mute_line}
           """),
        _c("IVR154", "undocumented-key-sent", "warning",
           "Keys to send (`send_digits`, `digits_on_answer`) with `*`, which Sinch does not document.",
           "Sinch documents the digits, `#` and `w` (a half-second pause) for keys it sends; its SDK checks them "
           "with that pattern, so a `*` may be refused or lost.",
           "Leave `*` out, or check on a test call that the other side receives it.",
           """
             partner:
               transfer:
                 number: "+46812345699"
           -     digits_on_answer: "ww*204"
           +     digits_on_answer: "ww204"
           """),
    ]),
    ("Cookies and variables", [
        _c("IVR070", "cookie-budget", "error", "The call's state could exceed Sinch's 1024-byte cookie limit.",
           "ivrc carries the call's state in Sinch cookies, which hold 1024 bytes in all; beyond that Sinch "
           "drops data and the call would break.",
           "Lower variables' `max_length`, or keep fewer variables.",
           """
             variables:
               order_summary:
           -     max_length: 512
           +     max_length: 120
               delivery_note:
           -     max_length: 512
           +     max_length: 80
           """),
        _c("IVR071", "unknown-variable", "error", "A variable that is set but not declared.",
           "Variables travel in cookies, so each needs a maximum length to prove the cookie budget.",
           "Declare it under `variables:` with `max_length`, or fix the name.",
           """
             variables:
               answer:
                 max_length: 12
             states:
               confirmed:
           -     set: {answr: confirmed}
           +     set: {answer: confirmed}
           """),
        _c("IVR072", "invalid-locale-switch", "error", "`set: locale` to a language the flow does not declare.",
           "Prompts exist only for the flow's locales.",
           "Add the locale to `locales:` (with its translations) or fix the value.",
           """
           - locales: [en-US, sv-SE]
           + locales: [en-US, sv-SE, it-IT]
             states:
               italian:
                 set: {locale: it-IT}
                 next: goodbye
           """),
        _c("IVR073", "value-too-long", "error",
           "A value longer than its variable's `max_length`: a constant in `set`, a default, or the digits "
           "collected into it.",
           "The value could not be stored in the call's cookies.",
           "Raise `max_length`, or shorten the value.",
           """
             variables:
               answer:
           -     max_length: 8
           +     max_length: 12
             states:
               confirmed:
                 set: {answer: confirmed}
           """),
    ]),
    ("Templates and prompts", [
        _c("IVR080", "template-syntax", "error", "A Jinja2 template or condition does not parse.",
           "The prompt or condition would fail on every call.",
           "Fix the template syntax at the position shown; conditions compare with `==`, not `=`.",
           """
             status:
           -   say: "Your order {{ order } is on its way. Goodbye."
           +   say: "Your order {{ order }} is on its way. Goodbye."
               hangup: true
           """),
        _c("IVR081", "undefined-name", "error", "A template uses a name that is never defined.",
           "Templates are rendered strictly: an undefined name fails the call.",
           "Use call.caller, call.called, call.callid, call.amd, locale, now, is_open('NAME') or a declared variable.",
           """
             ask_order:
               collect:
                 prompt: "Please key in your six digit order number."
                 into: order
                 max_digits: 6
                 next: status
             status:
           -   say: "Your order {{ ordr }} is on its way. Goodbye."
           +   say: "Your order {{ order }} is on its way. Goodbye."
               hangup: true
           """),
        _c("IVR082", "unknown-filter", "error", "A template uses a filter or test Jinja2 does not have.",
           "Jinja2 finds an unknown filter only when it compiles the template, so the prompt, `set` value or "
           "condition would fail on every call.",
           "Use one of Jinja2's built-in filters (`int`, `upper`, `lower`, `replace`, `length`, `default`...) "
           "or tests (`defined`, `number`, `divisibleby`...).",
           """
             status:
           -   say: "Your order {{ order | spell }} is on its way."
           +   say: "Your order {{ order | join(' ') }} is on its way."
               hangup: true
           """),
        _c("IVR083", "template-type-error", "error",
           "A template fails when it runs, on every call or for some values a call can have.",
           "Variables and call fields are text, `now` is a date and time: comparing text with a number "
           "(`pin < 5000`), adding them, or comparing a method that was not called (`now.weekday < 5`) "
           "raises an error on the call, which then takes the error path. Lint also runs every template "
           "with sample values (empty and keyed digits, caller ids, times, each locale) and reports one "
           "that fails, with the values that made it fail.",
           "Call methods with brackets (`now.weekday()`), and convert text with `| int` before comparing it "
           "with a number.",
           """
             check_day:
               branch:
           -     - if: now.weekday < 5
           +     - if: now.weekday() < 5
                   goto: main_menu
                 - else: closed
           """),
        _c("IVR084", "never-true", "warning", "A comparison whose answer is known before the call.",
           "Text is never equal to a number (`pin == 1234` is always false), and `call.amd` is only ever "
           "human, machine, notsure or hangup: the branch does not do what it reads as.",
           "Compare text with text in quotes (`pin == \"1234\"`), or use one of call.amd's values.",
           """
             check_answer:
               branch:
           -     - if: call.amd == "voicemail"
           +     - if: call.amd == "machine"
                   goto: leave_message
                 - else: reminder_menu
           """),
        _c("IVR085", "amd-not-available", "warning",
           "`call.amd` in a flow that does not ask for answering-machine detection.",
           "call.amd is filled only on an outbound flow with `outbound: {amd: true}`; everywhere else it is "
           "always empty, so a test of it never matches.",
           "Turn on detection in `outbound:`, or remove the test.",
           """
             outbound:
           -   caller_id: "+46812345730"
           +   amd: true
           +   caller_id: "+46812345730"
             start: check_answer
           """),
        _c("IVR089", "template-too-costly", "error",
           "A template or condition would build more than templates may: a huge number, string or loop.",
           "Templates run on every call inside a bounded sandbox: numbers below 2**256, strings and "
           "lists of at most 10,000 characters or items, 100,000 loop steps and 100,000 characters of "
           "output per render. A template that must exceed a bound, such as `call.caller * 100000000` "
           "or `7 ** 1000000000`, would send every call down the error path, so lint refuses it.",
           "Build only what the prompt says; keep repeat counts and widths small.",
           """
             goodbye:
           -   say: "Goodbye{{ '!' * 1000000 }}"
           +   say: "Goodbye!"
               hangup: true
           """),
        _c("IVR090", "missing-translation", "error", "A prompt has no text for one of the flow's locales.",
           "A caller who chose that language would hear nothing.",
           "Add the text for the locale named in the message.",
           """
             locales: [en-US, sv-SE]
             prompts:
               opening_hours:
                 en-US: "We are open every day from 11 to 23."
           +     sv-SE: "Vi har öppet alla dagar 11 till 23."
           """),
        _c("IVR091", "tts-too-long", "error", "TTS text longer than Sinch's 600-character limit.",
           "Sinch rejects longer text by default.",
           "Split the text into several parts of a list.",
           """
             daily_menu:
           -   say: "Our menu today: pizza margherita with tomato, mozzarella and basil, (... 640 characters)"
           +   say:
           +     - "Our menu today: pizza margherita with tomato, mozzarella and basil, (... 420 characters)"
           +     - "Every pizza comes in a small, medium or large size. (... 220 characters)"
               next: goodbye
           """),
        _c("IVR092", "malformed-ssml", "error", "SSML that is not a well-formed `<speak>` document.",
           "Sinch would reject the prompt.",
           "Fix the markup; the root element must be `<speak>`.",
           """
             say:
           -   - ssml: '<speak>Welcome to Luigi''s Pizza. <break time="500ms">We are open from 11 to 23.</speak>'
           +   - ssml: '<speak>Welcome to Luigi''s Pizza. <break time="500ms"/>We are open from 11 to 23.</speak>'
           """),
        _c("IVR093", "prompt-separator", "error", "Prompt text with `;` or `]` in it.",
           "Sinch joins prompt parts with `;` and closes `#tts[...]` with `]`, so these characters would cut "
           "the text.",
           "Use ',' or '.' instead (in SSML too: Sinch wraps it in `#ssml[...]`).",
           """
             welcome:
           -   say: "Welcome to Luigi's Pizza; we are open every day from 11 to 23. Goodbye."
           +   say: "Welcome to Luigi's Pizza. We are open every day from 11 to 23. Goodbye."
               hangup: true
           """),
        _c("IVR094", "undeclared-locale", "error", "Prompt text for a locale the flow does not declare.",
           "Callers never hear it, which usually means a typo or a missing entry in `locales:`.",
           "Add the locale to `locales:` or fix its spelling.",
           """
           - locales: [en-US, sv-SE]
           + locales: [en-US, sv-SE, it-IT]
             prompts:
               goodbye:
                 en-US: "Goodbye."
                 sv-SE: "Hej då."
                 it-IT: "Arrivederci."
           """),
        _c("IVR095", "ssml-in-text", "warning", "SSML tags in a plain text prompt.",
           "Plain text is spoken as written, so the voice would read out the tag instead of pausing or "
           "spelling.",
           "Write the part as SSML, with a `<speak>` root, or remove the tag.",
           """
             welcome:
           -   say: "Welcome to Luigi's Pizza. <break time='500ms'/> To order, press 1."
           +   say:
           +     - ssml: "<speak>Welcome to Luigi's Pizza. <break time='500ms'/> To order, press 1.</speak>"
               next: main_menu
           """),
        _c("IVR096", "text-cut-by-comment", "warning",
           "Unquoted prompt text followed by ` #` on the same line, where the text does not end a sentence.",
           "In YAML, ` #` starts a comment, so `press # to repeat` is spoken as `press`: the rest of the line "
           "is silently dropped.",
           "Put the prompt in quotes if the `#` is meant to be spoken (\"press # to repeat\"), or move a real "
           "comment to its own line.",
           """
             menu:
           -   prompt: To hear this again, press # and wait
           +   prompt: "To hear this again, press # and wait."
           """),
    ]),
    ("Time", [
        _c("IVR120", "invalid-timezone", "error", "A time zone that is not in the IANA database.",
           "Business hours and `now` would be wrong.",
           "Use a name like Europe/Stockholm or America/New_York.",
           """
             ivrc: 1
             flow: pizza
           - timezone: Rome
           + timezone: Europe/Rome
           """),
        _c("IVR121", "invalid-hours", "error", "Opening hours that do not make sense.",
           "A range that is not HH:MM-HH:MM, that ends before it starts, or that overlaps another is a mistake.",
           "Write HH:MM-HH:MM with the end after the start; split a range that crosses midnight at 24:00 and 00:00.",
           """
             hours:
               kitchen:
                 weekly:
                   fri: ["11:00-23:00"]
           -       sat: ["18:00-02:00"]
           +       sat: ["18:00-24:00"]
           +       sun: ["00:00-02:00"]
           """),
        _c("IVR122", "invalid-date", "error", "A holiday or a date with its own hours that is not a real date written YYYY-MM-DD or MM-DD.",
           "The holiday would never apply.",
           "Write YYYY-MM-DD or MM-DD with a real date.",
           """
             hours:
               kitchen:
                 weekly: {tue: ["11:00-23:00"], wed: ["11:00-23:00"]}
           -     holidays: ["12-25", "15/08"]
           +     holidays: ["12-25", "08-15"]
           """),
        _c("IVR170", "holiday-with-hours", "error", "A date that is both a holiday and a date with its own hours.",
           "A holiday is closed all day, and the date's hours say it opens: one of the two is a mistake, and the "
           "caller would meet whichever ivrc picked.",
           "Keep one: remove the date from `holidays`, or write `DATE: closed` under `dates`.",
           """
             hours:
               office:
                 weekly: {mon: ["09:00-17:00"], tue: ["09:00-17:00"]}
                 dates:
                   "12-24": ["09:00-12:00"]
           -     holidays: ["12-24", "12-25"]
           +     holidays: ["12-25"]
           """),
    ]),
    ("Requests to your systems", [
        _c("IVR140", "request-host-not-literal", "error",
           "A request URL whose scheme and host are not written out, or that is not an http(s) URL.",
           "The server contacts only the hosts written in its flows; a template that chose the host could send "
           "the caller's data anywhere.",
           "Write `https://host` literally; templates may fill in the path and query, where their values are "
           "percent-encoded.",
           """
             lookup:
               request:
           -     url: "{{ backend }}/orders/{{ order }}"
           +     url: "https://orders.example.com/v1/orders/{{ order }}"
                 next: read_status
           """),
        _c("IVR141", "request-plain-http", "error", "A request over plain http to a host that is not loopback.",
           "Account numbers, PINs and order numbers would cross the network unencrypted.",
           "Use https://. Plain http is allowed for localhost and 127.0.0.1 only (a backend on the same machine).",
           """
             verify:
               request:
           -     url: "http://bank.example.com/v1/verify"
           +     url: "https://bank.example.com/v1/verify"
                 next: menu
           """),
        _c("IVR142", "request-without-failure-path", "warning", "A request state has no `on_failure`.",
           "Backends time out and fail; without a failure path the caller hears the flow's apology and is hung up on.",
           "Add `on_failure:` with a state that says what happened and offers a way on (an agent, try later).",
           """
             verify:
               request:
                 url: "https://bank.example.com/v1/verify"
                 next: menu
           +     on_failure: busy
           """),
        _c("IVR143", "request-timeout-too-long", "error",
           "A request timeout longer than the time one callback has for its requests.",
           "Sinch hangs up on an answer that comes later than its deadline; the server cuts a request short at the "
           "callback's budget (3 s by default) anyway.",
           "Use a timeout of at most 3 seconds.",
           """
             lookup:
               request:
                 url: "https://orders.example.com/v1/orders/{{ order }}"
           -     timeout: 4
           +     timeout: 2
                 next: read_status
           """),
        _c("IVR144", "requests-exceed-callback-budget", "warning",
           "Requests made one after another in one callback can together take longer than its budget.",
           "The later requests would be cut short and take their failure path on a slow day.",
           "Shorten the timeouts, or wait for the caller (a menu) between the requests.",
           """
             verify:
               request:
                 url: "https://bank.example.com/v1/verify"
           -     timeout: 2.5
           +     timeout: 1.5
                 next: balance
             balance:
               request:
                 url: "https://bank.example.com/v1/balance"
                 timeout: 1.5
                 next: read_balance
           """),
        _c("IVR145", "request-saves-undeclared-variable", "error",
           "A request saves a field of its answer into a variable that is not declared, or names no field.",
           "The value would have nowhere to go: variables travel in Sinch cookies, within a size the compiler proves.",
           "Declare the variable under `variables:` with a max_length, and write a field path like `account.name`.",
           """
             variables:
               order: {max_length: 10}
           +   status: {max_length: 24}
             states:
               lookup:
                 request:
                   url: "https://orders.example.com/v1/orders/{{ order }}"
                   save: {status: order.status}
                   next: read_status
           """),
        _c("IVR146", "request-secret-in-flow", "warning", "A credential header written in the flow file.",
           "Flow files live in version control and CI logs; a token written there is a token leaked.",
           "Read it from the server's environment: `Authorization: {env: BANK_TOKEN, prefix: \"Bearer \"}`. "
           "`ivrc serve` refuses to start while such a variable is unset.",
           """
             verify:
               request:
                 url: "https://bank.example.com/v1/verify"
                 headers:
           -       Authorization: "Bearer 6f1c0e2a"
           +       Authorization: {env: BANK_TOKEN, prefix: "Bearer "}
                 next: menu
           """),
        _c("IVR148", "request-header-set-by-server", "error",
           "A request header that only the server may set: `Host`, `Content-Length`, `Transfer-Encoding`, "
           "`Connection`.",
           "The server connects to the host written in the URL and names it in `Host`; a flow's own `Host` (a "
           "template could fill it with call data) would pick another site behind a shared proxy. The body's "
           "length and the connection are the server's to frame: a wrong `Content-Length` would cut the body or "
           "run into the next request.",
           "Remove the header: the server sends `Host` for the URL's host and frames the body itself.",
           """
             lookup:
               request:
                 url: "https://orders.example.com/v1/orders/{{ order }}"
                 headers:
           -       Host: "{{ tenant }}.orders.example.com"
                   Accept-Language: en
                 next: read_status
           """),
        _c("IVR149", "request-url-broken-escape", "error",
           "A `%` in a request URL's written text that does not begin a `%XX` escape.",
           "A value filled in next to it could complete the escape (`%2` and `E` make `%2E`, a dot), so the "
           "path the server sends would not be the one written; backends also read such a `%` differently.",
           "Write `%25` for a percent sign, or a whole escape such as `%20`.",
           """
             lookup:
               request:
           -     url: "https://orders.example.com/v1/orders/%2{{ order }}"
           +     url: "https://orders.example.com/v1/orders/{{ order }}"
                 next: read_status
           """),
        _c("IVR147", "events-url-not-usable", "error",
           "A flow's `events.url` that is not written out in full, not an http(s) URL, or plain http off loopback.",
           "Call events carry the flow's reported variables to the business; the server sends them only to a "
           "receiver written in the flow, over an encrypted connection.",
           "Write the receiver's URL in full, with https:// (plain http only for localhost and 127.0.0.1).",
           """
             events:
           -   url: "http://hooks.example.com/ivrc/{{ flow }}"
           +   url: "https://hooks.example.com/ivrc/support"
           """),
    ]),
    ("Across files", [
        _c("IVR100", "number-conflict", "error", "One called number is claimed by two flows.",
           "Incoming calls to the number could go to either flow.",
           "Give the number to one flow.",
           """
             # tracker.yaml, copied from orders.yaml, which answers +46812345680
             flow: pizza-tracker
           - numbers: ["+46812345683", "+46812345680"]
           + numbers: ["+46812345683"]
           """),
        _c("IVR101", "duplicate-flow-id", "error", "Two flows have the same id.",
           "Calls in progress are routed by flow id.",
           "Give each flow its own `flow:` id.",
           """
             # lunch.yaml, copied from catering.yaml, which is `flow: pizza` too
           - flow: pizza
           + flow: pizza-lunch
             numbers: ["+46812345680"]
           """),
    ]),
]

_ALL = [code for _, codes in GROUPS for code in codes]
CODES: dict[str, Code] = {c.code: c for c in _ALL}
BY_NAME: dict[str, Code] = {c.name: c for c in _ALL}
# A code or name given twice would silently replace the first, and with it a released meaning.
assert len(CODES) == len(BY_NAME) == len(_ALL), "a diagnostic code or name is defined twice"


def anchor(code: Code) -> str:
    """The code's heading anchor in docs/codes.md, as GitHub makes it: ivr020-unknown-state."""
    return f"{code.code.lower()}-{code.name}"


def markdown() -> str:
    """docs/codes.md: every code, grouped, with what it means, why it matters, an example and the fix."""
    out = [
        "# Diagnostic codes",
        "",
        "<!-- Generated from compiler/codes.py by `ivrc codes --markdown > docs/codes.md`; do not edit. -->",
        "",
        "Every problem `ivrc lint` reports has a code like `IVR020` and a name like `unknown-state`.",
        "A code never changes meaning. `ivrc explain IVR020` (or `ivrc explain unknown-state`) prints",
        "the same documentation as this page, and `ivrc codes` lists them all.",
        "",
        "Errors stop a flow from compiling. Warnings do not, but `ivrc lint --strict` fails on them too.",
        "To silence a finding in a flow file, or choose codes on the command line, see",
        "[Using ivrc in CI and review](ci.md#suppressing-a-diagnostic).",
        "",
        "| Code | Name | Severity | What it means |",
        "|---|---|---|---|",
    ]
    out += [f"| [{c.code}](#{anchor(c)}) | {c.name} | {c.severity} | {c.summary} |" for c in _ALL]
    for title, codes in GROUPS:
        out += ["", f"# {title}"]
        for c in codes:
            out += [
                "",
                f"## {c.code} {c.name}",
                "",
                f"Severity: **{c.severity}**",
                "",
                f"**What it means.** {c.summary}",
                "",
                f"**Why it matters.** {c.why}",
                "",
                "**Example:**",
                "",
                "```yaml",
                c.example,
                "```",
                "",
                f"**Fix.** {c.fix}",
                "",
                "```yaml",
                c.fixed,
                "```",
            ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(markdown())
