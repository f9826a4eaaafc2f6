// ivrc studio: the page. Plain browser JavaScript, no build step; the server lays the diagram out.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const KINDS = ["say", "branch", "menu", "collect", "record", "transfer", "park", "hangup", "request", "repeat"];
const $ = (id) => document.getElementById(id);
const MIN_READABLE_SCALE = 0.85;  // below this a 12px caption is smaller than 10px on screen

const studio = {
  flows: [], file: null, flow: null, diagram: null, generation: 0,
  view: { x: 0, y: 0, scale: 1 }, fitted: false, selected: null,
  call: null, spokenUpTo: 0, coverage: null, live: null,
  spoken: [],  // every utterance asked of speech synthesis: [{text, lang}] (the browser tests read it)
};
window.studio = studio;

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

// ---------------------------------------------------------------- flows and problems

async function loadFlows() {
  const data = await api("/api/flows");
  studio.flows = data.flows;
  studio.generation = data.generation;
  $("live-box").hidden = !data.live;
  const list = $("flows");
  list.replaceChildren();
  for (const flow of data.flows) {
    const badge = flow.errors ? el("span", { class: "badge errors", text: `${flow.errors} error${flow.errors > 1 ? "s" : ""}` })
      : flow.warnings ? el("span", { class: "badge warnings", text: `${flow.warnings} warning${flow.warnings > 1 ? "s" : ""}` })
      : el("span", { class: "badge clean", text: "clean" });
    const button = el("button", { type: "button", "data-file": flow.file, "aria-current": String(flow.file === studio.file) },
      el("span", {}, flow.id, el("span", { class: "file", text: flow.file.split("/").pop(), title: flow.file })), badge);
    button.addEventListener("click", () => selectFlow(flow.file));
    list.append(el("li", {}, button));
  }
  if (studio.file && !data.flows.some((f) => f.file === studio.file)) studio.file = null;  // removed on disk
  if (!studio.file && data.flows.length) {
    const wanted = new URLSearchParams(location.search).get("flow");
    const first = data.flows.find((f) => f.id === wanted || f.file === wanted) || data.flows[0];
    await selectFlow(first.file);
  } else if (studio.file) {
    await loadFlow();
  }
}

async function selectFlow(file) {
  if (studio.file !== file) {
    studio.file = file; studio.fitted = false; studio.selected = null; studio.coverage = null;
    $("coverage-summary").textContent = "";
    $("coverage-button").textContent = "Show test coverage";
  }
  for (const b of document.querySelectorAll("#flows button")) b.setAttribute("aria-current", String(b.dataset.file === file));
  await loadFlow();
  const flow = studio.flows.find((f) => f.file === file);
  if (flow) setUpPhone(flow);
}

async function loadFlow() {
  const data = await api(`/api/flow?file=${encodeURIComponent(studio.file)}`);
  studio.flow = data.flow;
  studio.diagram = data.diagram;
  $("flow-title").textContent = `${data.flow.id} — ${data.flow.file}`;
  showProblems(data.problems);
  drawDiagram();
  if (studio.selected) showState(studio.selected, false);
  if (studio.coverage) await showCoverage();
  document.body.dataset.generation = String(data.generation);
}

function showProblems(problems) {
  const list = $("problems");
  list.replaceChildren();
  const errors = problems.filter((p) => p.severity === "error").length;
  $("problem-count").textContent = problems.length ? `(${errors} errors, ${problems.length - errors} warnings)` : "(none)";
  for (const p of problems) {
    list.append(el("li", { class: p.severity, "data-code": p.code }, el("pre", { text: p.text })));
  }
  if (!problems.length) list.append(el("li", { class: "clean muted", text: "No problems: this flow lints clean." }));
}

// ---------------------------------------------------------------- the diagram

function drawDiagram() {
  const root = $("svg");
  root.replaceChildren();
  const empty = $("diagram-empty");
  const d = studio.diagram;
  if (!d) {
    empty.hidden = false;
    empty.textContent = "This flow has errors that stop it from being drawn; see Problems.";
    return;
  }
  empty.hidden = true;
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8b95a1" }));
  defs.append(marker);
  root.append(defs);
  const world = svg("g", { id: "world" });
  root.append(world);
  const edges = svg("g", { class: "edges" }), labels = svg("g", { class: "labels" }), nodes = svg("g", { class: "nodes" });
  world.append(edges, labels, nodes);
  for (const e of d.edges) {
    const g = svg("g", { class: `edge${e.back ? " back" : ""}${e.stub ? " stub" : ""}`, "data-edge": edgeKey(e.source, e.exit, e.target) });
    g.append(svg("path", { d: curve(e.points), "marker-end": "url(#arrow)" }));
    edges.append(g);
    if (e.label) {
      const b = e.label_box;
      const lg = svg("g", { class: `edge-label${e.stub ? " stub" : ""}`, "data-edge": edgeKey(e.source, e.exit, e.target) });
      lg.append(svg("rect", { x: b.x, y: b.y, width: b.w, height: b.h, rx: 3 }));
      const t = svg("text", { x: b.x + b.w / 2, y: b.y + b.h / 2 + 4, "text-anchor": "middle" });
      t.textContent = e.text || e.label;
      lg.append(t);
      if (e.stub && !e.target.startsWith("__")) {
        // A label that names a far-away target is a link: it brings that state into view.
        lg.setAttribute("tabindex", "0");
        lg.setAttribute("role", "link");
        lg.setAttribute("aria-label", `${e.label}: go to ${e.target}`);
        const jump = (ev) => { ev.stopPropagation(); reveal(e.target); };
        lg.addEventListener("click", jump);
        lg.addEventListener("keydown", (ev) => { if (ev.key === "Enter") jump(ev); });
      }
      labels.append(lg);
    }
  }
  for (const n of d.nodes) {
    const g = svg("g", { class: `node kind-${n.kind}`, "data-state": n.id });
    const special = n.id.startsWith("__");
    if (!special) { g.setAttribute("tabindex", "0"); g.setAttribute("role", "button"); g.setAttribute("aria-label", `state ${n.caption} (${n.detail || n.kind})`); }
    g.append(svg("rect", { x: n.x, y: n.y, width: n.w, height: n.h, rx: n.kind === "branch" ? 14 : special ? n.h / 2 : 5 }));
    const t = svg("text", { x: n.x + n.w / 2, y: n.y + n.h / 2 + (n.detail ? -2 : 4), "text-anchor": "middle" });
    t.textContent = n.caption;
    g.append(t);
    if (n.detail) {
      const detail = svg("text", { x: n.x + n.w / 2, y: n.y + n.h / 2 + 11, "text-anchor": "middle", class: "detail" });
      detail.textContent = n.detail;
      g.append(detail);
    }
    if (!special) {
      g.addEventListener("click", (ev) => { ev.stopPropagation(); showState(n.id, true); });
      g.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); showState(n.id, true); } });
    }
    nodes.append(g);
  }
  if (!studio.fitted) { fit(true); studio.fitted = true; } else applyView();
  highlightCall();
  paintCoverage();
  paintLive();
}

function edgeKey(source, exit, target) { return `${source}|${exit}|${target ?? "__end"}`; }

function curve(points) {
  // Through every point (source, label, bends, target): Catmull-Rom turned into cubic Béziers.
  let d = `M ${points[0][0]} ${points[0][1]}`;
  for (let i = 0; i < points.length - 1; i++) {
    const p0 = points[Math.max(0, i - 1)], p1 = points[i], p2 = points[i + 1], p3 = points[Math.min(points.length - 1, i + 2)];
    const c1 = [p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6];
    const c2 = [p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6];
    d += ` C ${c1[0]} ${c1[1]} ${c2[0]} ${c2[1]} ${p2[0]} ${p2[1]}`;
  }
  return d;
}

function applyView() {
  const world = $("world");
  if (world) world.setAttribute("transform", `translate(${studio.view.x} ${studio.view.y}) scale(${studio.view.scale})`);
}

function fit(readable) {
  // The whole flow in view; when that would make the text too small to read, the top of it at a readable size.
  const d = studio.diagram, box = $("diagram").getBoundingClientRect();
  if (!d || !box.width) return;
  let scale = Math.min(box.width / d.width, box.height / d.height, 1.2);
  if (readable && scale < MIN_READABLE_SCALE) scale = MIN_READABLE_SCALE;
  const start = d.nodes.find((n) => n.id === "__start");
  const x = d.width * scale <= box.width ? (box.width - d.width * scale) / 2
    : box.width / 2 - (start ? start.x + start.w / 2 : d.width / 2) * scale;
  studio.view = { scale, x, y: Math.max(0, (box.height - d.height * scale) / 2) };
  applyView();
}

function zoom(factor, cx, cy) {
  const box = $("diagram").getBoundingClientRect();
  const x = cx ?? box.width / 2, y = cy ?? box.height / 2, v = studio.view;
  const scale = Math.min(4, Math.max(0.05, v.scale * factor));
  v.x = x - (x - v.x) * (scale / v.scale);
  v.y = y - (y - v.y) * (scale / v.scale);
  v.scale = scale;
  applyView();
}

function setUpPanZoom() {
  const area = $("diagram");
  let drag = null;
  area.addEventListener("pointerdown", (ev) => {
    if (ev.target.closest && ev.target.closest(".node, .edge-label.stub")) return;  // a click, not a drag
    drag = { x: ev.clientX, y: ev.clientY, vx: studio.view.x, vy: studio.view.y };
    area.classList.add("panning");
    area.setPointerCapture(ev.pointerId);
  });
  area.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    studio.view.x = drag.vx + ev.clientX - drag.x;
    studio.view.y = drag.vy + ev.clientY - drag.y;
    applyView();
  });
  const stop = () => { drag = null; area.classList.remove("panning"); };
  area.addEventListener("pointerup", stop);
  area.addEventListener("pointercancel", stop);
  area.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const box = area.getBoundingClientRect();
    zoom(ev.deltaY < 0 ? 1.15 : 1 / 1.15, ev.clientX - box.left, ev.clientY - box.top);
  }, { passive: false });
  area.addEventListener("keydown", (ev) => {
    const step = 60;
    const moves = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    if (moves[ev.key]) { studio.view.x += moves[ev.key][0]; studio.view.y += moves[ev.key][1]; applyView(); ev.preventDefault(); }
    else if (ev.key === "+" || ev.key === "=") { zoom(1.2); ev.preventDefault(); }
    else if (ev.key === "-") { zoom(1 / 1.2); ev.preventDefault(); }
    else if (ev.key === "0") { fit(false); ev.preventDefault(); }
    if (ev.key !== "Tab") ev.stopPropagation();  // keys here move the diagram, not the phone
  });
  $("zoom-in").addEventListener("click", () => zoom(1.2));
  $("zoom-out").addEventListener("click", () => zoom(1 / 1.2));
  $("zoom-fit").addEventListener("click", () => fit(false));
  window.addEventListener("resize", () => { if (studio.diagram) applyView(); });
  const legend = $("legend");
  for (const kind of KINDS) legend.append(el("li", { style: `--swatch: var(--${kind})`, text: kind === "hangup" ? "hang-up" : kind }));
}

function reveal(name) {
  // Centre a state in the view (keeping the zoom) and open it.
  const n = studio.diagram && studio.diagram.nodes.find((node) => node.id === name);
  if (!n) return;
  const box = $("diagram").getBoundingClientRect(), v = studio.view;
  v.x = box.width / 2 - (n.x + n.w / 2) * v.scale;
  v.y = box.height / 2 - (n.y + n.h / 2) * v.scale;
  applyView();
  showState(name, true);
  const node = document.querySelector(`.node[data-state="${CSS.escape(name)}"]`);
  if (node) node.focus({ preventScroll: true });
}

async function showState(name, switchTab) {
  studio.selected = name;
  for (const n of document.querySelectorAll(".node")) n.classList.toggle("selected", n.dataset.state === name);
  const pane = $("pane-state");
  let data;
  try {
    data = await api(`/api/state?file=${encodeURIComponent(studio.file)}&name=${encodeURIComponent(name)}`);
  } catch (err) {
    pane.replaceChildren(el("p", { class: "muted", text: err.message }));
    return;
  }
  const numbered = data.source.map((line, i) => `${String(data.line + i).padStart(4)} | ${line}`).join("\n");
  const compiled = data.compiled ? JSON.stringify(data.compiled, null, 2) : "(the flow has errors, so it has no compiled form)";
  const prompts = Object.keys(data.prompts).length ? "\n\nprompts:\n" + JSON.stringify(data.prompts, null, 2) : "";
  pane.replaceChildren(
    el("h3", { text: `${data.name} — ${data.file}:${data.line}` }),
    el("div", { class: "columns" },
      el("div", {}, el("h3", { text: "YAML" }), el("pre", { class: "source", id: "state-source", text: numbered })),
      el("div", {}, el("h3", { text: "Compiled (SVAML before rendering)" }), el("pre", { class: "source", id: "state-svaml", text: compiled + prompts }))));
  if (switchTab) selectTab("tab-state");
}

function selectTab(id) {
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const on = tab.id === id;
    tab.setAttribute("aria-selected", String(on));
    $(tab.dataset.pane).hidden = !on;
  }
}

// ---------------------------------------------------------------- the phone

function setUpPhone(flow) {
  const locale = $("locale");
  locale.replaceChildren(...(flow.locales || []).map((l) => el("option", { value: l, text: l })));
  if (flow.locale) locale.value = flow.locale;
  $("called").value = (flow.numbers && flow.numbers[0]) || "";
  $("dial").disabled = !flow.compiles;
  $("call-status").textContent = flow.compiles ? (studio.call ? $("call-status").textContent : "No call yet.")
    : "This flow has errors, so it cannot take calls.";
}

async function dial(ev) {
  ev.preventDefault();
  window.speechSynthesis && window.speechSynthesis.cancel();
  studio.spokenUpTo = 0;
  $("save-result").textContent = "";
  let stubs = null;
  const typed = $("stubs-json").value.trim();
  if (typed) {
    try {
      stubs = JSON.parse(typed);
    } catch (err) {
      $("call-status").textContent = `The request stubs are not JSON: ${err.message}`;
      return;
    }
  }
  try {
    const view = await api("/api/calls", {
      file: studio.file, caller: $("caller").value, called: $("called").value, now: $("now").value, locale: $("locale").value,
      stubs });
    showCall(view);
  } catch (err) {
    $("call-status").textContent = err.message;
  }
}

function act(action, key) {
  // One action at a time, in the order pressed: quick key presses must not overtake each other.
  studio.pending = (studio.pending || Promise.resolve()).then(async () => {
    if (!studio.call || studio.call.ended) return;
    try {
      showCall(await api(`/api/calls/${studio.call.id}`, { action, key }));
    } catch (err) {
      $("call-status").textContent = err.message;
    }
  });
  return studio.pending;
}

function showCall(view) {
  studio.call = view;
  const list = $("transcript");
  list.replaceChildren(...view.lines.map((line) => el("li", { class: line.kind, text: line.text })));
  list.scrollTop = list.scrollHeight;
  $("call-status").textContent = view.status;
  $("typed").textContent = view.typed;
  document.body.dataset.callState = view.ended ? "ended" : "live";
  document.body.dataset.callSteps = String(view.lines.length);
  for (const b of document.querySelectorAll("#keypad button, #silence, #hangup")) b.disabled = view.ended;
  speak(view.lines);
  inspect(view.exchanges);
  highlightCall();
}

function speak(lines) {
  for (let i = studio.spokenUpTo; i < lines.length; i++) {
    const line = lines[i];
    if (line.kind !== "hear") continue;
    const audio = /^\[audio (.+)\]$/.exec(line.text);
    studio.spoken.push({ text: line.text, lang: line.locale, audio: audio ? audio[1] : null });
    if (!$("speak").checked) continue;
    if (audio) {
      new Audio(audio[1]).play().catch(() => {});  // offline, a remote recording simply stays silent
    } else if (window.speechSynthesis) {
      const utterance = new SpeechSynthesisUtterance(line.text);
      if (line.locale) utterance.lang = line.locale;
      window.speechSynthesis.speak(utterance);
    }
  }
  studio.spokenUpTo = lines.length;
}

function inspect(exchanges) {
  const pane = $("pane-inspector");
  pane.replaceChildren(...exchanges.map((x, i) => el("details", { class: "exchange", "data-event": x.event },
    el("summary", { text: `${i + 1}. ${x.event} → ${x.answer && x.answer.action ? x.answer.action.name : `HTTP ${x.status}, no body`}` }),
    el("div", { class: "columns" },
      el("div", {}, el("h3", { text: "Callback" }), el("pre", { class: "source", text: JSON.stringify(x.callback, null, 2) })),
      el("div", {}, el("h3", { text: "Answer (SVAML)" }), el("pre", { class: "source", text: x.answer ? JSON.stringify(x.answer, null, 2) : "(empty 200)" }))))));
  if (pane.lastChild) pane.lastChild.open = true;
}

function highlightCall() {
  for (const n of document.querySelectorAll(".on-path, .current")) n.classList.remove("on-path", "current");
  const view = studio.call;
  if (!view || view.flow !== studio.file) return;
  for (const name of view.path) {
    const node = document.querySelector(`.node[data-state="${CSS.escape(name)}"]`);
    if (node) node.classList.add("on-path");
  }
  const last = view.path[view.path.length - 1];
  const current = last && document.querySelector(`.node[data-state="${CSS.escape(last)}"]`);
  if (current) current.classList.add("current");
  for (const t of view.transitions) {
    for (const e of document.querySelectorAll(`[data-edge="${CSS.escape(edgeKey(t.source, t.exit, t.target))}"]`)) e.classList.add("on-path");
  }
  const start = document.querySelector('.edge[data-edge^="__start|"]');
  if (start && view.path.length) start.classList.add("on-path");
}

async function saveTest(ev) {
  ev.preventDefault();
  if (!studio.call) { $("save-result").textContent = "Make a call first."; return; }
  $("save-result").textContent = "Saving…";
  try {
    const saved = await api(`/api/calls/${studio.call.id}/save`, { name: $("test-name").value });
    $("save-result").textContent = `Saved "${saved.name}" in ${saved.file} (${saved.steps} steps); it passes with ivrc test.`;
    document.body.dataset.saved = saved.name;
  } catch (err) {
    $("save-result").textContent = err.message;
  }
}

// ---------------------------------------------------------------- coverage and live calls

async function toggleCoverage() {
  if (studio.coverage) {
    studio.coverage = null;
    $("coverage-button").textContent = "Show test coverage";
    $("coverage-summary").textContent = "";
    paintCoverage();
    return;
  }
  await showCoverage();
}

async function showCoverage() {
  $("coverage-summary").textContent = "Running the flow's tests…";
  const data = await api(`/api/coverage?file=${encodeURIComponent(studio.file)}`);
  studio.coverage = data;
  $("coverage-button").textContent = "Hide test coverage";
  $("coverage-summary").textContent = data.available
    ? `${data.summary} (${data.passed} passed, ${data.failed} failed)` : data.reason;
  paintCoverage();
}

function paintCoverage() {
  for (const n of document.querySelectorAll(".covered, .uncovered")) n.classList.remove("covered", "uncovered");
  const c = studio.coverage;
  if (!c || !c.available) return;
  const hit = new Set(c.states);
  for (const node of document.querySelectorAll(".node")) {
    if (node.dataset.state.startsWith("__")) continue;
    node.classList.add(hit.has(node.dataset.state) ? "covered" : "uncovered");
  }
  const edges = new Set(c.transitions.map((t) => edgeKey(t.source, t.exit, t.target)));
  for (const e of document.querySelectorAll(".edge, .edge-label")) {
    if (e.dataset.edge.startsWith("__start|")) continue;
    e.classList.add(edges.has(e.dataset.edge) ? "covered" : "uncovered");
  }
}

function toggleLive() {
  if (studio.liveSource) {
    studio.liveSource.close();
    studio.liveSource = null; studio.live = null;
    $("live-button").textContent = "Show live calls";
    $("live-summary").textContent = "";
    $("live-calls").replaceChildren();
    paintLive();
    return;
  }
  studio.liveSource = new EventSource("/api/live/events");
  studio.liveSource.addEventListener("hello", refreshLive);
  studio.liveSource.addEventListener("live", refreshLive);
  $("live-button").textContent = "Hide live calls";
}

async function refreshLive() {
  // Many events can arrive at once; one fetch at a time, and one more after it if any came meanwhile.
  if (studio.liveBusy) { studio.liveAgain = true; return; }
  studio.liveBusy = true;
  try {
    do {
      studio.liveAgain = false;
      studio.live = await api("/api/live");
      showLive();
      paintLive();
    } while (studio.liveAgain && studio.liveSource);
  } catch (err) {
    $("live-summary").textContent = err.message;
  } finally {
    studio.liveBusy = false;
  }
}

function showLive() {
  const live = studio.live;
  if (!live) return;
  $("live-summary").textContent = `${live.status} · ${live.received} events from ${live.server}`;
  $("live-calls").replaceChildren(...live.calls.map((c) => el("li", { class: c.ended ? "ended" : "live", "data-call": c.call },
    `${c.caller || "unknown caller"} → ${c.flow || "?"}: ${c.path.join(" → ") || "(no state yet)"}${c.ended ? " (ended)" : ""}`)));
  document.body.dataset.liveEvents = String(live.received);
}

function paintLive() {
  for (const g of document.querySelectorAll("#world .heat")) g.remove();
  for (const n of document.querySelectorAll(".live-here")) n.classList.remove("live-here");
  const live = studio.live, d = studio.diagram;
  if (!live || !d || !studio.flow) return;
  const heat = live.heat[studio.flow.id] || {};
  const layer = document.querySelector("#world .nodes");
  for (const n of d.nodes) {
    const counts = heat[n.id];
    if (!counts) continue;
    const g = svg("g", { class: "heat", "data-state": n.id, "data-visits": counts.visits, "data-hangups": counts.hangups });
    const badge = (cx, value, cls, title) => {
      const c = svg("circle", { cx, cy: n.y, r: 10, class: cls });
      const t = svg("text", { x: cx, y: n.y + 4, "text-anchor": "middle", class: "heat-count" });
      t.textContent = String(value);
      const tip = svg("title"); tip.textContent = title;
      g.append(c, t, tip);
    };
    badge(n.x + n.w, counts.visits, "visits", `${counts.visits} visits`);
    if (counts.hangups) badge(n.x, counts.hangups, "hangups", `${counts.hangups} calls ended here`);
    layer.append(g);
  }
  for (const c of live.calls) {
    if (c.ended || c.flow !== studio.flow.id || !c.state) continue;
    const node = document.querySelector(`.node[data-state="${CSS.escape(c.state)}"]`);
    if (node) node.classList.add("live-here");
  }
}

// ---------------------------------------------------------------- changes on disk

function follow() {
  const source = new EventSource("/api/events");
  source.addEventListener("hello", () => { $("connection").textContent = "watching files"; });
  source.addEventListener("changed", async () => {
    try { await loadFlows(); } catch (err) { $("connection").textContent = err.message; }
  });
  source.onerror = () => { $("connection").textContent = "reconnecting…"; };
}

function keyboard(ev) {
  // Digits, * and # press keys on the phone, unless the person is typing in a field or moving the diagram.
  const tag = (ev.target.tagName || "").toLowerCase();
  if (tag === "input" || tag === "select" || tag === "textarea" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (/^[0-9*#]$/.test(ev.key) && studio.call && !studio.call.ended) { act("press", ev.key); ev.preventDefault(); }
}

function start() {
  setUpPanZoom();
  $("dial-form").addEventListener("submit", dial);
  for (const b of document.querySelectorAll("#keypad button")) b.addEventListener("click", () => act("press", b.dataset.key));
  $("silence").addEventListener("click", () => act("silence"));
  $("hangup").addEventListener("click", () => act("hangup"));
  $("save-form").addEventListener("submit", saveTest);
  $("coverage-button").addEventListener("click", toggleCoverage);
  $("live-button").addEventListener("click", toggleLive);
  for (const tab of document.querySelectorAll('[role="tab"]')) tab.addEventListener("click", () => selectTab(tab.id));
  document.addEventListener("keydown", keyboard);
  follow();
  loadFlows().then(() => { document.body.dataset.ready = "true"; })
    .catch((err) => { $("connection").textContent = err.message; });
}

start();
