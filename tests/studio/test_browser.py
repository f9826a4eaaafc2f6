"""The studio end to end: `ivrc studio` in its own process, driven in headless Chromium like a person would.

Every wait is on the page's state (a selector, a data attribute), never on a fixed delay.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from browser import Studio, launch, open_page, start_studio
from flows import big_flow
from ivrctest import EXAMPLE_FLOWS
from playwright.sync_api import expect, sync_playwright

SHOTS = Path(__file__).resolve().parent / "screenshots"  # for looking at; ignored by git
# A cap on each wait for the page, not a delay: generous, because CI machines can be slow.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def studio(flows_dir: Path):
    running = start_studio(flows_dir)
    yield running
    running.stop()


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def states(page, selector: str) -> set[str]:
    return set(page.eval_on_selector_all(selector, "nodes => nodes.map(n => n.dataset.state)"))


def dial(page, now: str) -> None:
    page.fill("#now", now)
    page.click("#dial")
    expect(page.locator("#transcript li.hear").first).to_be_visible()


def test_the_banner_names_the_flows_and_a_local_address(studio: Studio) -> None:
    assert studio.banner.startswith(f"ivrc studio: {len(EXAMPLE_FLOWS)} flow(s) from ")
    assert studio.url.startswith("http://127.0.0.1:")


def test_call_support_in_office_hours_and_press_2(browser, studio: Studio) -> None:
    page = open_page(browser, studio, "?flow=support")
    dial(page, "2026-03-03T10:00")  # a Tuesday morning in Stockholm: the office is open
    page.click("#keypad button[data-key='2']")
    expect(page.locator("#transcript li.transfer")).to_have_text("transferred to sip support@pbx.acme.example")
    heard = page.locator("#transcript li.hear").all_inner_texts()
    assert heard == ["Welcome to Acme support.",
                     "For billing, press 1. For technical support, press 2. To leave a message, press 3.",
                     "Connecting you to technical support."]
    expect(page.locator("#call-status")).to_have_text("the call is transferred to sip support@pbx.acme.example")
    assert states(page, ".node.on-path") == {"welcome", "check_hours", "main_menu", "tech"}
    assert states(page, ".node.current") == {"tech"}
    on_path = set(page.eval_on_selector_all(".edge.on-path", "es => es.map(e => e.dataset.edge)"))
    assert {"main_menu|key 2|tech", 'check_hours|if is_open("office")|main_menu'} <= on_path
    assert "main_menu|key 1|billing" not in on_path
    # Each prompt was spoken once, in the prompt's locale.
    spoken = page.evaluate("window.studio.spoken")
    assert [(s["text"], s["lang"]) for s in spoken] == [(text, "en-US") for text in heard]
    # The inspector shows each callback and the SVAML it was answered with.
    page.click("#tab-inspector")
    assert page.locator(".exchange summary").all_inner_texts() == ["1. ICE → runMenu", "2. PIE → connectSip",
                                                                  "3. ACE → continue"]
    assert '"connectSip"' in page.locator(".exchange[open] pre").nth(1).inner_text() or \
        '"continue"' in page.locator(".exchange[open] pre").nth(1).inner_text()
    shot(page, "support-call")
    assert page.errors == [] and page.outside.urls == []


def test_keyboard_silence_and_hang_up(browser, studio: Studio) -> None:
    page = open_page(browser, studio, "?flow=support")
    dial(page, "2026-03-03T10:00")
    page.locator("#transcript").click()
    page.keyboard.press("7")  # digits typed anywhere but a field press keys on the phone
    expect(page.locator("#transcript li.hear", has_text="Sorry, that is not an option.")).to_have_count(1)
    page.click("#silence")
    page.click("#silence")  # at once: the page sends them one after the other
    expect(page.locator("#transcript li.hear").last).to_have_text("Thank you for calling Acme. Goodbye.")
    assert page.locator("#transcript li.hear", has_text="Sorry, I did not hear anything.").count() == 2
    expect(page.locator("body")).to_have_attribute("data-call-state", "ended")
    assert page.locator("#hangup").is_disabled()
    assert states(page, ".node.current") == {"goodbye"}


def test_the_office_closed_is_the_other_branch(browser, studio: Studio) -> None:
    page = open_page(browser, studio, "?flow=support")
    dial(page, "2026-03-03T19:00")
    expect(page.locator("body")).to_have_attribute("data-call-state", "ended")
    assert states(page, ".node.on-path") == {"welcome", "check_hours", "closed"}


def test_editing_a_file_updates_problems_and_diagram_without_a_reload(browser, studio: Studio,
                                                                      flows_dir: Path) -> None:
    page = open_page(browser, studio, "?flow=support")
    page.evaluate("window.notReloaded = true")
    flow = flows_dir / "support.yaml"
    original = flow.read_text()
    flow.write_text(original.replace("next: check_hours", "next: check_huors"))
    problem = page.locator("#problems li[data-code=IVR020]")
    expect(problem).to_contain_text("did you mean 'check_hours'")
    line = next(i for i, text in enumerate(original.splitlines(), 1) if "next: check_hours" in text)
    expect(problem).to_contain_text(f"{flow}:{line}:11: error[IVR020]")
    expect(page.locator("#flows button[aria-current=true] .badge")).to_have_text("1 error")
    assert page.locator(".node").count() > 0  # the errors are shown, and what can be drawn still is
    # Fixed, with a new state in front of billing: the diagram grows by one state.
    flow.write_text(original.replace("1: billing", "1: billing_queue")
                    + '\n  billing_queue:\n    say: "Please hold for billing."\n    next: billing\n')
    expect(page.locator(".node[data-state=billing_queue]")).to_be_visible()
    expect(page.locator("#problems li.clean")).to_have_text("No problems: this flow lints clean.")
    assert page.evaluate("window.notReloaded") is True
    # A file that does not even load shows its error, not a blank page.
    flow.write_text("ivrc: 1\nflow: [unclosed\n")
    expect(page.locator("#diagram-empty")).to_be_visible()
    expect(page.locator("#problems li.error").first).to_contain_text(f"{flow}:")
    assert page.errors == []


def test_save_the_call_as_a_test_that_ivrc_test_passes(browser, studio: Studio, flows_dir: Path) -> None:
    page = open_page(browser, studio, "?flow=support")
    dial(page, "2026-03-03T10:00")
    page.click("#keypad button[data-key='1']")
    expect(page.locator("#transcript li.transfer")).to_contain_text("+46812345671")
    page.fill("#test-name", "billing, saved from the studio")
    page.click("#save")
    expect(page.locator("#save-result")).to_contain_text('Saved "billing, saved from the studio"')
    text = (flows_dir / "support.test.yaml").read_text()
    assert text.startswith("# Flow tests for support.yaml.")  # the file's comments are kept
    assert '- name: "billing, saved from the studio"' in text
    run = subprocess.run([sys.executable, "-m", "ivrc", "test", str(flows_dir / "support.test.yaml")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "billing, saved from the studio" in run.stdout and "0 failed" in run.stdout


def test_clicking_a_state_shows_its_yaml_and_svaml_and_the_diagram_pans_and_zooms(browser, studio: Studio) -> None:
    page = open_page(browser, studio, "?flow=support")
    page.click(".node[data-state=main_menu]")
    expect(page.locator("#state-source")).to_contain_text("main_menu:")
    expect(page.locator("#state-svaml")).to_contain_text('"runMenu"')
    page.locator(".node[data-state=billing]").focus()  # keyboard: Tab to a state, Enter opens it
    page.keyboard.press("Enter")
    expect(page.locator("#state-svaml")).to_contain_text('"connectPstn"')
    before = page.get_attribute("#world", "transform")
    page.locator("#diagram").focus()
    page.keyboard.press("+")
    zoomed = page.get_attribute("#world", "transform")
    assert zoomed != before and "scale(" in zoomed
    page.keyboard.press("ArrowLeft")
    assert page.get_attribute("#world", "transform") != zoomed
    box = page.locator("#diagram").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 30)
    page.mouse.down()
    page.mouse.move(box["x"] + 130, box["y"] + 80)
    page.mouse.up()
    moved = page.get_attribute("#world", "transform")
    page.mouse.wheel(0, -200)
    expect(page.locator("#world")).not_to_have_attribute("transform", moved)


OVERLAPS = """() => {
  const boxes = [...document.querySelectorAll('.node rect, .edge-label rect')].map(r => {
    const b = r.getBoundingClientRect(); return {name: r.parentNode.dataset.state || r.parentNode.dataset.edge, b};
  });
  const found = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i].b, c = boxes[j].b;
    if (a.left < c.right - 0.5 && c.left < a.right - 0.5 && a.top < c.bottom - 0.5 && c.top < a.bottom - 0.5)
      found.push([boxes[i].name, boxes[j].name]);
  }
  return found;
}"""

TEXT_FITS = """() => [...document.querySelectorAll('.node, .edge-label')].filter(g => {
  const r = g.querySelector('rect');
  return [...g.querySelectorAll('text')].some(t => t.getComputedTextLength() > r.width.baseVal.value - 4);
}).map(g => g.dataset.state || g.dataset.edge)"""


def test_the_multilingual_diagram_is_readable(browser, studio: Studio) -> None:
    page = open_page(browser, studio, "?flow=multilingual")
    expect(page.locator(".node[data-state=language_menu]")).to_be_visible()
    assert page.evaluate(OVERLAPS) == []
    assert page.evaluate(TEXT_FITS) == []  # every caption and label inside its box, in the real font
    kinds = set(page.eval_on_selector_all(".node", "ns => ns.map(n => n.getAttribute('class'))"))
    assert {"node kind-menu", "node kind-transfer", "node kind-park", "node kind-hangup", "node kind-branch"} <= kinds
    colours = {page.eval_on_selector(f".node.kind-{k} rect", "r => getComputedStyle(r).fill")
               for k in ("menu", "transfer", "park", "hangup")}
    assert len(colours) == 4  # each kind has its own colour
    page.click("#zoom-fit")
    shot(page, "multilingual")
    # Calling it: spoken prompts in their locale, and the recorded prompts played from their files.
    dial(page, "2026-03-03T10:00")
    expect(page.locator("#call-status")).to_have_text("waiting for keys")
    spoken = page.evaluate("window.studio.spoken")
    audio = [s["audio"] for s in spoken if s["audio"]]
    assert audio == ["https://media.example.com/fjord/press-2-svenska.mp3",
                     "https://media.example.com/fjord/press-3-deutsch.mp3"]
    expect(page.locator("body")).to_have_attribute("data-call-state", "live")
    page.click("#keypad button[data-key='2']")
    expect(page.locator("#transcript li.hear").last).to_contain_text("För beställningar och leveranser")
    spoken = page.evaluate("window.studio.spoken")
    assert spoken[-1]["lang"] == "sv-SE" and spoken[0]["lang"] == "en-US"
    # Off the machine, the page may ask for the recordings only (blocked here: tests stay on loopback).
    assert set(page.outside.urls) <= set(audio)


def test_coverage_of_the_flow_tests_on_the_diagram(browser, studio: Studio, flows_dir: Path) -> None:
    tests = flows_dir / "support.test.yaml"
    text = tests.read_text()
    tests.write_text(text[:text.index("  - name: technical support is a SIP transfer")])  # billing only
    page = open_page(browser, studio, "?flow=support")
    page.click("#coverage-button")
    expect(page.locator("#coverage-summary")).to_contain_text("(1 passed, 0 failed)")
    assert states(page, ".node.covered") == {"welcome", "check_hours", "main_menu", "billing"}
    assert {"tech", "voicemail", "closed", "goodbye"} <= states(page, ".node.uncovered")
    assert page.locator(".edge.covered[data-edge='main_menu|key 1|billing']").count() == 1
    assert page.locator(".edge.uncovered[data-edge='main_menu|key 2|tech']").count() == 1
    shot(page, "coverage")


@pytest.mark.slow  # about 4 s (a real server, a large page): make test-slow and CI run it
def test_a_two_hundred_state_flow_is_drawn_and_usable(browser, flows_dir: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text(big_flow(200))
    running = start_studio(big)
    try:
        page = open_page(browser, running)
        expect(page.locator(".node[data-state=m197]")).to_have_count(1)
        assert page.locator(".node[tabindex]").count() == 200
        page.click("#dial")
        expect(page.locator("#transcript li.hear").first).to_have_text(
            "Menu 0. Press 1 to go on, 2 to skip, 0 for an agent.")
        page.click("#keypad button[data-key='2']")
        expect(page.locator(".node.current")).to_have_attribute("data-state", "m2")
        assert page.evaluate(OVERLAPS) == [] and page.evaluate(TEXT_FITS) == []
        # A far-away target is named on its label; the label brings it into view.
        page.click(".edge-label.stub[data-edge='m2|key 0|agent']")
        expect(page.locator("#state-svaml")).to_contain_text('"connectPstn"')
        assert page.locator(".node[data-state=agent]").evaluate("n => n === document.activeElement")
        box, area = page.locator(".node[data-state=agent]").bounding_box(), page.locator("#diagram").bounding_box()
        assert area["y"] < box["y"] < area["y"] + area["height"]  # now in view, though it is 200 rows down
    finally:
        running.stop()


@pytest.mark.slow  # about 4 s (a real server, a large page): make test-slow and CI run it
def test_live_calls_of_a_running_server_on_the_diagram(browser, flows_dir: Path, tmp_path: Path) -> None:
    from ivrctest import KEY, SECRET, serve_env, start_serve

    from ivrc.runtime.emulation.emulator import Call, HttpTransport

    token = "studio-test-token-0123456789abcdef"
    env = serve_env(IVRC_EVENTS_TOKEN=token)
    server = start_serve(tmp_path, flows_dir, env=env, extra=("--call-events",))
    running = None
    try:
        running = start_studio(flows_dir, extra=("--live", server.base), env=env)
        page = open_page(browser, running, "?flow=voicemail")
        page.click("#live-button")
        expect(page.locator("#live-summary")).to_contain_text("following")  # subscribed to the server's stream
        transport = HttpTransport(server.callback, KEY, SECRET)
        Call(transport, called="+46812345690", caller="+46701234567").start().press("#")  # a message, then goodbye
        Call(transport, called="+46812345690", caller="+46709876543").start().hangup()  # gives up while recording
        expect(page.locator("#live-calls li")).to_have_count(2)
        expect(page.locator("body")).to_have_attribute("data-live-events", "7")  # ICE PIE NOTIFY DICE, ICE NOTIFY DICE
        calls = page.locator("#live-calls li").all_inner_texts()
        assert calls == ["+*********43 → voicemail: take_message (ended)",
                         "+*********67 → voicemail: take_message → goodbye (ended)"]
        take = page.locator(".heat[data-state=take_message]")
        assert (take.get_attribute("data-visits"), take.get_attribute("data-hangups")) == ("2", "1")
        assert page.locator(".heat[data-state=goodbye]").get_attribute("data-visits") == "1"
        content = page.content()
        assert "+46701234567" not in content and "+46709876543" not in content and token not in content
        shot(page, "live")
    finally:
        if running is not None:
            running.stop()
        server.stop()


def _call_order_desk(page, order: str) -> None:
    """Dials, waits for the new call's greeting alone (not the last call's transcript), keys the order."""
    page.click("#dial")
    expect(page.locator("#transcript li.hear")).to_have_count(1)
    for key in order:
        page.click(f"#keypad button[data-key='{key}']")


def test_request_states_use_the_tests_stubs_or_those_typed_in(browser, studio: Studio) -> None:
    page = open_page(browser, studio, "?flow=order-status")
    _call_order_desk(page, "100200")
    expect(page.locator("#transcript li.hear", has_text="Order 100200 is shipped.")).to_have_count(1)
    page.fill("#stubs-json", '{"look_up": {"status": 404}}')
    _call_order_desk(page, "100200")
    expect(page.locator("#transcript li.hear", has_text="We could not find order 100200.")).to_have_count(1)
    page.fill("#stubs-json", "{not json")
    page.click("#dial")
    expect(page.locator("#call-status")).to_contain_text("The request stubs are not JSON")
