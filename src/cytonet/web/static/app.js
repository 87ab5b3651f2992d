// cytonet explorer: talks only to the JSON API of the server that served it (see /openapi.json).
"use strict";

// What the page holds, for people poking in the console and for the end-to-end tests.
const state = (window.cytonet = { scenarios: [], drugs: [], run: null, treatment: null, job: null, cy: null, card: null });

const COLORS = ["#d1495b", "#1d5fa8", "#edae49", "#4c9f70", "#7b4f9d", "#00798c", "#8d6a4b", "#e07a5f", "#30638e", "#5c946e", "#b56576", "#6d597a"];
const KIND_COLORS = { cell: "#4c9f70", cytokine: "#d1495b", receptor: "#edae49", pathway: "#3c6e9f", drug: "#7b4f9d" };
const UNIT_LABEL = { degC: "°C", "1": "index (1)", "": "" };

// ---------- small helpers ----------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}
const $ = (id) => document.getElementById(id);
const fmt = (x, d = 3) => (x === null || x === undefined ? "–" : typeof x === "number" ? (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-2 && x !== 0) ? x.toExponential(2) : +x.toPrecision(d) + "") : String(x));
const tick = (v) => (v === null || v === undefined ? "" : v === 0 ? "0" : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-2 ? v.toExponential(0) : String(+v.toPrecision(3)));
const unitLabel = (u) => (u in UNIT_LABEL ? UNIT_LABEL[u] : u);

function status(text) { $("status").textContent = text || ""; }

async function api(path, options) {
  const opts = options || {};
  if (opts.body && typeof opts.body !== "string") {
    opts.body = JSON.stringify(opts.body);
    opts.headers = { "Content-Type": "application/json" };
  }
  const res = await fetch(path, opts);
  const body = await res.json().catch(() => ({ detail: res.statusText }));
  if (!res.ok) {
    const err = new Error(body.detail || res.statusText);
    err.status = res.status;
    err.suggestions = body.suggestions || [];
    err.retryAfter = body.retry_after;
    throw err;
  }
  return body;
}

function errorBox(err, onSuggestion) {
  const box = h("div", { class: "error" }, err.status ? `${err.status}: ` : "", err.message);
  if (err.suggestions && err.suggestions.length && onSuggestion) {
    box.append(" ", ...err.suggestions.map((s) => h("a", { class: "entity", onclick: () => onSuggestion(s) }, s)));
  }
  return box;
}

function entityLink(link) {
  return h("a", { class: "entity", href: `#kb/${encodeURIComponent(link.id)}`, "data-id": link.id, title: `${link.kind} ${link.id}` }, link.name);
}

// ---------- tabs ----------
function showTab(name) {
  for (const s of document.querySelectorAll(".tab")) s.classList.toggle("active", s.id === `tab-${name}`);
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.tab === name);
  if (name === "network") loadNetwork();
}

function route() {
  const [tab, ...rest] = (location.hash.slice(1) || "kb").split("/");
  showTab(tab in { kb: 1, network: 1, scenario: 1, therapy: 1, population: 1 } ? tab : "kb");
  if (tab === "kb" && rest.length) openCard(decodeURIComponent(rest.join("/")), $("card"));
}

// ---------- knowledge ----------
let searchTimer = null;
function onSearchInput() {
  clearTimeout(searchTimer);
  const q = $("search").value.trim();
  searchTimer = setTimeout(() => runSearch(q), 150);
}

async function runSearch(q) {
  const list = $("hits");
  if (!q) { list.replaceChildren(); return; }
  try {
    const res = await api(`/api/kb/search?q=${encodeURIComponent(q)}&limit=20`);
    if ($("search").value.trim() !== q) return;
    list.replaceChildren(...res.hits.map((hit) => h("li", {},
      h("button", { type: "button", "data-id": hit.id, onclick: () => { location.hash = `kb/${encodeURIComponent(hit.id)}`; } },
        h("b", {}, hit.name), " ", h("small", {}, `${hit.kind}${hit.matched !== hit.name && hit.matched !== hit.id ? ` · ${hit.matched}` : ""}`)))));
    if (!res.hits.length) list.replaceChildren(h("li", { class: "muted" }, "no match"));
  } catch (err) { list.replaceChildren(h("li", {}, errorBox(err))); }
}

function fieldValue(key, value) {
  if (Array.isArray(value)) {
    if (!value.length) return null;
    if (typeof value[0] === "object") return h("ul", {}, value.map((v) => h("li", {}, Object.values(v).join(" — "))));
    return value.join(", ");
  }
  if (value && typeof value === "object") return Object.entries(value).filter(([, v]) => v !== null && !(Array.isArray(v) && !v.length)).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : v}`).join("; ");
  return value === null || value === "" ? null : String(value);
}

async function openCard(name, target) {
  target.replaceChildren(h("p", { class: "muted" }, `loading ${name}…`));
  try {
    const e = await api(`/api/kb/entities/${encodeURIComponent(name)}`);
    state.card = e;
    renderCard(e, target);
  } catch (err) {
    target.replaceChildren(errorBox(err, (s) => { location.hash = `kb/${encodeURIComponent(s)}`; }));
  }
}

function renderCard(e, target) {
  const skip = new Set(["id", "name", "refs", "aliases"]);
  const rows = [];
  for (const [k, v] of Object.entries(e.record)) {
    if (skip.has(k)) continue;
    const shown = fieldValue(k, v);
    if (shown !== null && shown !== "") rows.push(h("dt", {}, k.replaceAll("_", " ")), h("dd", {}, shown));
  }
  const related = Object.entries(e.related).map(([rel, links]) => h("div", { class: "links" }, h("h4", {}, rel), links.map(entityLink)));
  const refs = e.references.map((r) => h("li", {}, `${r.authors} (${r.year}). ${r.title}. `, h("i", {}, r.journal), ". ",
    h("a", { href: r.url, target: "_blank", rel: "noopener" }, r.id)));
  target.replaceChildren(
    h("h2", { "data-entity": e.id }, e.name), h("span", { class: "kind" }, e.kind), " ", h("code", {}, e.id),
    e.record.aliases && e.record.aliases.length ? h("p", { class: "muted" }, "also: ", e.record.aliases.join(", ")) : null,
    h("dl", {}, rows), ...related,
    h("h4", {}, "References"), refs.length ? h("ol", { class: "refs" }, refs) : h("p", { class: "muted" }, e.record.assumption || "none"),
  );
}

async function showTalk(ev) {
  ev.preventDefault();
  const out = $("talk");
  try {
    const t = await api(`/api/kb/talk?source=${encodeURIComponent($("talk-a").value)}&target=${encodeURIComponent($("talk-b").value)}`);
    out.replaceChildren(h("p", {}, entityLink(t.source), " → ", entityLink(t.target), `: ${t.routes.length} route(s)`),
      h("ul", {}, t.routes.map((r) => h("li", {}, entityLink(r.cytokine), " → ", entityLink(r.receptor), " → ",
        r.pathways.length ? r.pathways.map(entityLink) : "no pathway listed", h("br"), h("small", { class: "muted" }, `on ${r.stimulus}; `),
        r.references.map((ref) => h("a", { href: ref.url, target: "_blank", rel: "noopener", class: "small" }, ref.id, " "))))));
  } catch (err) { out.replaceChildren(errorBox(err)); }
}

// ---------- network ----------
let networkLoaded = null;
async function loadNetwork(force) {
  if (networkLoaded && !force) return networkLoaded;
  const params = new URLSearchParams();
  for (const f of ["family", "role", "disease"]) if ($(`net-${f}`).value) params.set(f, $(`net-${f}`).value);
  networkLoaded = (async () => {
    status("loading network…");
    try {
      const net = await api(`/api/kb/network?${params}`);
      fillFilters(net.filters);
      drawNetwork(net);
      status(`${net.nodes.length} nodes, ${net.edges.length} edges`);
    } catch (err) { $("net-card").replaceChildren(errorBox(err)); status(""); }
  })();
  return networkLoaded;
}

function fillFilters(filters) {
  for (const [f, values] of Object.entries(filters)) {
    const sel = $(`net-${f}`);
    if (sel.options.length > 1) continue;
    for (const v of values) sel.append(h("option", { value: v }, v));
  }
}

// Rings by kind (drugs outside, then cells, cytokines, receptors, pathways in the middle) for the whole
// graph, which a force layout would take long to settle; a force layout for filtered, smaller graphs.
const RING = { drug: 5, cell: 4, cytokine: 3, receptor: 2, pathway: 1 };
function layoutFor(n) {
  if (n > 120) return { name: "concentric", concentric: (node) => RING[node.data("kind")] || 0, levelWidth: () => 1, minNodeSpacing: 6, animate: false };
  return { name: "cose", animate: false, randomize: false, nodeRepulsion: () => 9000, idealEdgeLength: () => 60, numIter: 400 };
}

function drawNetwork(net) {
  const elements = [
    ...net.nodes.map((n) => ({ data: { id: n.id, label: n.name, kind: n.kind, rid: n.rid } })),
    ...net.edges.map((e, i) => ({ data: { id: `e${i}`, source: e.source, target: e.target, relation: e.relation } })),
  ];
  if (state.cy) state.cy.destroy();
  state.cy = cytoscape({
    container: $("cy"), elements, wheelSensitivity: 0.3,
    style: [
      { selector: "node", style: { "background-color": (n) => KIND_COLORS[n.data("kind")] || "#999", label: "data(label)", "font-size": 9, color: "#222", width: 14, height: 14, "text-valign": "bottom", "text-margin-y": 2 } },
      { selector: "node[kind='cytokine']", style: { width: 18, height: 18 } },
      { selector: "edge", style: { width: 0.8, "line-color": "#c4cad0", "curve-style": "bezier", "target-arrow-shape": "triangle", "target-arrow-color": "#c4cad0", "arrow-scale": 0.6 } },
      { selector: "edge[relation='blocks']", style: { "line-color": "#7b4f9d", "target-arrow-color": "#7b4f9d", "line-style": "dashed" } },
      { selector: ".faded", style: { opacity: 0.15 } },
      { selector: "node:selected", style: { "border-width": 3, "border-color": "#111" } },
    ],
    layout: layoutFor(net.nodes.length),
  });
  state.cy.on("tap", "node", (ev) => selectNode(ev.target));
}

function selectNode(node) {
  const cy = state.cy;
  cy.elements().addClass("faded");
  node.closedNeighborhood().removeClass("faded");
  cy.elements().unselect();
  node.select();
  openCard(node.data("rid"), $("net-card"));
}

function onNetworkCardClick(ev) {
  const a = ev.target.closest("a.entity");
  if (!a || !state.cy) return;
  ev.preventDefault();
  const node = state.cy.nodes().filter((n) => n.data("rid") === a.dataset.id);
  if (node.length) { selectNode(node[0]); state.cy.animate({ center: { eles: node[0] } }, { duration: 300 }); }
  else openCard(a.dataset.id, $("net-card"));
}

// ---------- plots ----------
// A log axis shows at most LOG_DECADES decades below the largest value (a decaying dose would otherwise
// stretch it over hundreds); smaller, zero and missing values are left out of the line.
const LOG_DECADES = 6;
function clipForLog(lines) {
  const top = Math.max(...lines.flatMap((l) => l.values.filter((v) => v !== null && v > 0)), 0);
  const floor = top * 10 ** -LOG_DECADES;
  return lines.map((l) => l.values.map((v) => (v === null || v <= 0 || v < floor ? null : v)));
}

function plot(container, { title, time, lines, unit, log = false, width = 560, height = 260, steps = false, bars = false, xlabel = "time (h)", range = null }) {
  const box = h("div", { class: "plot", "data-title": title, "data-unit": unit });
  const tools = h("label", { class: "tools" }, h("input", { type: "checkbox", checked: log ? true : null }), " log axis");
  box.append(tools, h("h4", {}, title));
  container.append(box);
  const make = (isLog) => {
    const opts = {
      width, height,
      scales: { x: { time: false, range: bars ? (u, min, max) => [min - 0.5 * (time[1] - time[0] || 1), max + 0.5 * (time[1] - time[0] || 1)] : undefined },
        y: isLog ? { distr: 3 } : range ? { range: () => range } : bars ? { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } : {} },
      axes: [{ label: xlabel }, { label: unitLabel(unit), size: 70, values: (u, ticks) => ticks.map(tick) }],
      series: [{ label: xlabel, value: (u, v) => fmt(v) }, ...lines.map((l, i) => {
        const color = l.color || COLORS[i % COLORS.length];
        const bar = bars ? { paths: uPlot.paths.bars({ size: [i ? 0.45 : 0.8, 60] }), fill: `${color}aa`, points: { show: false } } : {};
        return { label: l.label, stroke: color, width: l.width || 1.6, dash: l.dash, value: (u, v) => fmt(v),
          paths: steps ? uPlot.paths.stepped({ align: 1 }) : undefined, ...bar };
      })],
      legend: { live: true },
    };
    const data = [time, ...(isLog ? clipForLog(lines) : lines.map((l) => l.values))];
    return new uPlot(opts, data, box);
  };
  let chart = make(log);
  tools.querySelector("input").addEventListener("change", (ev) => { chart.destroy(); chart = make(ev.target.checked); });
  return box;
}

function criteriaTable(cls) {
  return h("table", { class: "criteria" }, h("tr", {}, h("th", {}, "criterion"), h("th", {}, "met"), h("th", {}, "evidence"), h("th", {}, "thresholds")),
    cls.criteria.map((c) => h("tr", {}, h("td", { class: "text" }, c.description), h("td", { class: c.held ? "yes" : "no" }, c.held ? "yes" : "no"),
      h("td", { class: "text" }, c.evidence), h("td", { class: "text" }, (c.thresholds || []).join("; ")))));
}

function verdict(summary) {
  const label = summary.classification.label;
  return h("p", { class: `verdict ${label === "cytokine storm" ? "storm" : "ok"}`, "data-label": label },
    `${label} · max CRS grade (ASTCT) ${summary.max_crs_grade}`);
}

function downloads(links, title) {
  return h("p", { class: "downloads" }, h("b", {}, title || "Downloads: "),
    Object.entries(links).map(([name, url]) => h("a", { href: url, target: name.endsWith(".html") ? "_blank" : null, download: name.endsWith(".html") ? null : name }, name)));
}

const CLINICAL = [["TEMP", false], ["CRP", false], ["FERRITIN", true], ["MAP", false], ["SPO2", false]];

// ---------- scenario lab ----------
const overrides = new Map();
let networkParameters = [];

async function loadScenarioDetail() {
  const id = $("sim-scenario").value;
  const sc = state.scenarios.find((s) => s.id === id);
  if (!sc) return;
  $("sim-hours").value = sc.t_end;
  $("sim-desc").textContent = `${sc.name}: ${sc.description}`;
  const detail = await api(`/api/scenarios/${encodeURIComponent(id)}`);
  networkParameters = detail.network_parameters;
  $("sim-params").replaceChildren(...networkParameters.map((p) => h("option", { value: p.id }, `${p.description} (${p.value} ${p.unit})`)));
}

function renderOverrides() {
  $("sim-overrides").replaceChildren(...[...overrides].map(([k, v]) => h("li", {}, `${k} = ${v}`,
    h("button", { type: "button", title: "remove", onclick: () => { overrides.delete(k); renderOverrides(); } }, "×"))));
}

function addOverride() {
  const id = $("sim-param").value.trim();
  const value = parseFloat($("sim-value").value);
  if (!id || !Number.isFinite(value)) return;
  overrides.set(id, value);
  renderOverrides();
}

function showParamInfo() {
  const p = networkParameters.find((q) => q.id === $("sim-param").value.trim());
  $("sim-param-info").textContent = p ? `${p.description} — now ${p.value} ${p.unit}` : "";
  if (p && !$("sim-value").value) $("sim-value").value = p.value;
}

// LPS protocol: boluses and infusions that replace the scenario's own LPS events when any are given.
const lps = { boluses: [], infusions: [] };

function renderLps() {
  const item = (text, list, i) => h("li", {}, text, h("button", { type: "button", title: "remove", onclick: () => { list.splice(i, 1); renderLps(); } }, "×"));
  $("lps-list").replaceChildren(
    ...lps.boluses.map((b, i) => item(`${b.dose_ng_per_kg} ng/kg at ${b.time_h} h`, lps.boluses, i)),
    ...lps.infusions.map((f, i) => item(`${f.rate_ng_per_kg_h} ng/kg/h from ${f.start_h} h for ${f.duration_h} h`, lps.infusions, i)));
}

function addBolus() {
  const dose = parseFloat($("lps-dose").value), at = parseFloat($("lps-at").value || "0");
  if (!(dose > 0) || !(at >= 0)) return;
  lps.boluses.push({ dose_ng_per_kg: dose, time_h: at });
  renderLps();
}

function addInfusion() {
  const rate = parseFloat($("lps-rate").value), start = parseFloat($("lps-start").value || "0"), hours = parseFloat($("lps-for").value);
  if (!(rate > 0) || !(start >= 0) || !(hours > 0)) return;
  lps.infusions.push({ rate_ng_per_kg_h: rate, start_h: start, duration_h: hours });
  renderLps();
}

async function runSimulation(ev) {
  ev.preventDefault();
  const out = $("sim-result");
  const body = { scenario: $("sim-scenario").value, parameters: Object.fromEntries(overrides) };
  if ($("sim-hours").value) body.hours = parseFloat($("sim-hours").value);
  if ($("sim-points").value) body.points = parseInt($("sim-points").value, 10);
  if (lps.boluses.length || lps.infusions.length) body.lps = { boluses: lps.boluses, infusions: lps.infusions };
  $("sim-run").disabled = true;
  status(`simulating ${body.scenario}…`);
  out.replaceChildren(h("p", { class: "muted" }, "simulating…"));
  try {
    const run = await api("/api/simulate", { method: "POST", body });
    state.run = run;
    renderRun(run, out);
    status(`${run.scenario}: ${run.summary.classification.label}`);
  } catch (err) { out.replaceChildren(errorBox(err)); status(""); }
  finally { $("sim-run").disabled = false; }
}

function cytokineTable(summary) {
  return h("table", {}, h("tr", {}, ["cytokine", "baseline pg/mL", "peak pg/mL", "peak at (h)", "fold", "h elevated"].map((c) => h("th", {}, c))),
    summary.cytokines.map((c) => h("tr", {}, h("td", {}, c.species), h("td", {}, fmt(c.baseline)), h("td", {}, fmt(c.peak)),
      h("td", {}, fmt(c.peak_time_h)), h("td", {}, c.fold_change === null ? "n/a" : `${fmt(c.fold_change)}×`), h("td", {}, fmt(c.hours_elevated)))));
}

function renderRun(run, out) {
  const s = run.summary;
  const series = run.series;
  const panel = run.cytokines.filter((c) => series[c]);
  const plots = h("div", { class: "plots" });
  out.replaceChildren(verdict(s), criteriaTable(s.classification), h("h3", {}, "Time courses"), plots,
    h("h3", {}, "Cytokines"), cytokineTable(s), downloads(run.downloads));
  plot(plots, { title: "Serum cytokines", time: run.time, unit: "pg/mL", log: true, width: 760, height: 340,
    lines: panel.map((c) => ({ label: c, values: series[c].values })) });
  if (series.LPS && series.LPS.values.some((v) => v > 0)) plot(plots, { title: "LPS (plasma endotoxin)", time: run.time, unit: series.LPS.unit, log: true, lines: [{ label: "LPS", values: series.LPS.values }], width: 370, height: 220 });
  for (const [name, log] of CLINICAL) if (series[name]) plot(plots, { title: name, time: run.time, unit: series[name].unit, log, lines: [{ label: name, values: series[name].values }], width: 370, height: 220 });
  plot(plots, { title: "ASTCT CRS grade", time: run.time, unit: "grade", steps: true, range: [0, 4], lines: [{ label: "grade", values: run.crs_grade }], width: 370, height: 220 });
  if (series.PRO_ANTI) plot(plots, { title: "Pro/anti-inflammatory balance (PRO_ANTI)", time: run.time, unit: series.PRO_ANTI.unit, log: true, lines: [{ label: "PRO_ANTI", values: series.PRO_ANTI.values }], width: 370, height: 220 });
}

// ---------- therapy lab ----------
function showLabel() {
  const d = state.drugs.find((x) => x.id === $("treat-drug").value);
  if (!d) return;
  const l = d.labelled;
  const ranges = Object.entries(d.labelled_range).map(([r, x]) => `${r} ${x.low === x.high ? x.low : `${x.low}–${x.high}`} ${x.unit}`).join(", ");
  $("treat-label").textContent = `${d.name}: ${d.mechanism} on ${d.targets.join(", ")}; labelled ${l.name}: ${l.dose} ${l.route}${l.every_h ? ` every ${l.every_h} h × ${l.doses}` : ""}; range ${ranges}`;
  $("treat-dose").placeholder = l.dose;
}

async function runTreatment(ev) {
  ev.preventDefault();
  const out = $("treat-result");
  const num = (id) => ($(id).value === "" ? null : parseFloat($(id).value));
  const body = { scenario: $("treat-scenario").value, drug: $("treat-drug").value, at_h: num("treat-at") || 0,
    doses: parseInt($("treat-doses").value || "1", 10), weight_kg: num("treat-weight") || 70, points: 673 };
  if ($("treat-dose").value.trim()) body.dose = $("treat-dose").value.trim();
  if ($("treat-route").value) body.route = $("treat-route").value;
  if (num("treat-every")) body.every_h = num("treat-every");
  $("treat-run").disabled = true;
  status(`${body.scenario}: untreated and + ${body.drug}…`);
  out.replaceChildren(h("p", { class: "muted" }, "simulating both arms…"));
  try {
    const t = await api("/api/treat", { method: "POST", body });
    state.treatment = t;
    renderTreatment(t, out);
    status(`${t.scenario}: ${t.untreated.summary.classification.label} → ${t.treated.summary.classification.label} with ${t.drug}`);
  } catch (err) { out.replaceChildren(errorBox(err)); status(""); }
  finally { $("treat-run").disabled = false; }
}

function renderTreatment(t, out) {
  const plots = h("div", { class: "plots" });
  const changes = h("table", { class: "changes" }, h("tr", {}, h("th", {}, "measure"), h("th", {}, "untreated"), h("th", {}, `+ ${t.drug}`)),
    t.changes.map((c) => h("tr", {}, h("td", {}, c.measure), h("td", {}, fmt(c.untreated, 4)), h("td", {}, fmt(c.treated, 4)))));
  const reg = t.regimen;
  out.replaceChildren(
    h("p", {}, `${t.drug} ${reg.dose} ${reg.route} (${fmt(reg.mg_per_dose)} mg for ${reg.weight_kg} kg) at ${reg.times_h.map((x) => `${fmt(x)} h`).join(", ")}`),
    h("div", { class: "row" }, h("div", {}, h("b", {}, "untreated"), verdict(t.untreated.summary)), h("div", {}, h("b", {}, `+ ${t.drug}`), verdict(t.treated.summary))),
    h("h3", {}, "Changes"), changes, h("h3", {}, "Untreated against treated"), plots,
    downloads(t.downloads.comparison, "Comparison: "), downloads(t.downloads.untreated, "Untreated run: "), downloads(t.downloads.treated, "Treated run: "));
  const overlay = (name, log) => {
    const a = t.untreated.series[name], b = t.treated.series[name];
    if (!a || !b) return;
    plot(plots, { title: name === "IL6_total" ? "serum IL-6, free + sIL-6R-bound" : name, time: t.time, unit: a.unit, log, width: 420, height: 240,
      lines: [{ label: "untreated", values: a.values, color: "#66727f" }, { label: `+ ${t.drug}`, values: b.values, color: "#d1495b" }] });
  };
  for (const [name, log] of [["IL6", true], ["IL6_total", true], ["IFNG", true], ["TNF", true], ["CRP", false], ["FERRITIN", true], ["TEMP", false], ["MAP", false]]) overlay(name, log);
  plot(plots, { title: "ASTCT CRS grade", time: t.time, unit: "grade", steps: true, range: [0, 4], width: 420, height: 240,
    lines: [{ label: "untreated", values: t.untreated.crs_grade, color: "#66727f" }, { label: `+ ${t.drug}`, values: t.treated.crs_grade, color: "#d1495b" }] });
  plot(plots, { title: `${t.drug} concentration (central)`, time: t.time, unit: t.concentration.unit, log: true, width: 420, height: 240,
    lines: [{ label: t.concentration.name, values: t.concentration.values, color: "#7b4f9d" }] });
  if (t.occupancy.length) plot(plots, { title: "target occupancy", time: t.time, unit: "fraction (1)", range: [0, 1], width: 420, height: 240,
    lines: t.occupancy.map((o, i) => ({ label: o.name, values: o.values, color: COLORS[(i + 4) % COLORS.length] })) });
}

// ---------- populations ----------
async function startPopulation(ev) {
  ev.preventDefault();
  const body = { scenario: $("pop-scenario").value, n: parseInt($("pop-n").value, 10), seed: parseInt($("pop-seed").value || "0", 10) };
  if ($("pop-drug").value) {
    body.drug = $("pop-drug").value;
    if ($("pop-dose").value.trim()) body.dose = $("pop-dose").value.trim();
    if ($("pop-at").value !== "") body.at_h = parseFloat($("pop-at").value);
  }
  const out = $("pop-result");
  out.replaceChildren();
  try {
    const acc = await api("/api/populations", { method: "POST", body });
    $("pop-run").disabled = true;
    pollJob(acc.status_url, out);
  } catch (err) { out.replaceChildren(errorBox(err)); }
}

async function pollJob(url, out) {
  const bar = $("pop-progress");
  bar.hidden = false;
  try {
    const job = await api(url);
    state.job = job;
    bar.firstElementChild.style.width = `${Math.round(job.progress * 100)}%`;
    bar.lastElementChild.textContent = `${job.status} · ${Math.round(job.progress * 100)} %`;
    status(`population ${job.request.scenario}, ${job.request.n} patients: ${job.status}`);
    if (job.status === "done") { $("pop-run").disabled = false; renderPopulation(job, out); return; }
    if (job.status === "failed") { $("pop-run").disabled = false; out.replaceChildren(errorBox(new Error(job.error))); return; }
    setTimeout(() => pollJob(url, out), 700);
  } catch (err) { $("pop-run").disabled = false; out.replaceChildren(errorBox(err)); }
}

function histogram(values, bins) {
  const logs = values.filter((v) => v > 0).map(Math.log10);
  if (!logs.length) return { n: 0 };
  const lo = Math.floor(Math.min(...logs) * 4) / 4, hi = Math.ceil(Math.max(...logs) * 4) / 4 || lo + 0.25;
  const step = Math.max((hi - lo) / bins, 0.05);
  const n = Math.ceil((hi - lo) / step);
  return { lo, step, n: Number.isFinite(n) && n > 0 ? n : 1 };
}

function renderPopulation(job, out) {
  const r = job.result;
  const pct = (x) => (x === null ? "–" : `${(100 * x).toFixed(1)} %`);
  const arms = h("table", { class: "arms" }, h("tr", {}, ["arm", "patients", "simulated", "storm rate", "95% CI (Wilson)", "CRS 0", "1", "2", "3", "4", "peak IL-6 median (IQR) pg/mL"].map((c) => h("th", {}, c))),
    r.arms.map((a) => h("tr", { "data-arm": a.arm }, h("td", {}, a.arm), h("td", {}, a.n), h("td", {}, a.ok), h("td", { class: "rate" }, pct(a.storm_rate.estimate)),
      h("td", {}, `${pct(a.storm_rate.low)} – ${pct(a.storm_rate.high)}`), a.crs_counts.map((c) => h("td", {}, c)),
      h("td", {}, `${fmt(a.peak_il6_quartiles[1])} (${fmt(a.peak_il6_quartiles[0])}–${fmt(a.peak_il6_quartiles[2])})`))));
  const effects = r.effects.length ? h("table", {}, h("tr", {}, ["paired treatment effect", "estimate", "95% CI", "method", "pairs"].map((c) => h("th", {}, c))),
    r.effects.map((e) => h("tr", {}, h("td", {}, e.name), h("td", {}, fmt(e.estimate)), h("td", {}, `${fmt(e.low)} – ${fmt(e.high)}`), h("td", {}, e.method), h("td", {}, e.pairs)))) : null;
  const plots = h("div", { class: "plots" });
  out.replaceChildren(...[h("h3", {}, `${job.request.scenario}: ${job.request.n} virtual patients`), arms, effects, plots,
    downloads(job.downloads, "Patients table: ")].filter(Boolean));
  const all = r.arms.flatMap((a) => a.peak_il6);
  const hb = histogram(all, 20);
  if (hb.n) {
    const centers = Array.from({ length: hb.n }, (_, i) => hb.lo + (i + 0.5) * hb.step);
    const lines = r.arms.map((a, i) => {
      const counts = new Array(hb.n).fill(0);
      for (const v of a.peak_il6) if (v > 0) counts[Math.min(hb.n - 1, Math.max(0, Math.floor((Math.log10(v) - hb.lo) / hb.step)))]++;
      return { label: a.arm, values: counts, color: i ? "#d1495b" : "#66727f" };
    });
    plot(plots, { title: "Distribution of peak serum IL-6", time: centers, unit: "patients", bars: true, xlabel: "log10 peak IL-6 (pg/mL)", lines, width: 520, height: 260 });
  }
  const grades = [0, 1, 2, 3, 4];
  plot(plots, { title: "Maximum ASTCT CRS grade", time: grades, unit: "patients", bars: true, xlabel: "CRS grade", width: 420, height: 260,
    lines: r.arms.map((a, i) => ({ label: a.arm, values: a.crs_counts, color: i ? "#d1495b" : "#66727f" })) });
}

// ---------- start ----------
async function init() {
  window.addEventListener("hashchange", route);
  $("search").addEventListener("input", onSearchInput);
  $("talk-form").addEventListener("submit", showTalk);
  $("net-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadNetwork(true); });
  $("net-card").addEventListener("click", onNetworkCardClick);
  $("sim-form").addEventListener("submit", runSimulation);
  $("sim-add").addEventListener("click", addOverride);
  $("lps-add-bolus").addEventListener("click", addBolus);
  $("lps-add-infusion").addEventListener("click", addInfusion);
  $("sim-param").addEventListener("change", showParamInfo);
  $("sim-scenario").addEventListener("change", () => { overrides.clear(); renderOverrides(); loadScenarioDetail(); });
  $("treat-drug").addEventListener("change", showLabel);
  $("treat-form").addEventListener("submit", runTreatment);
  $("pop-form").addEventListener("submit", startPopulation);
  try {
    const [scenarios, drugs] = await Promise.all([api("/api/scenarios"), api("/api/drugs")]);
    state.scenarios = scenarios;
    state.drugs = drugs;
    for (const id of ["sim-scenario", "treat-scenario", "pop-scenario"]) $(id).replaceChildren(...scenarios.map((s) => h("option", { value: s.id }, s.id)));
    for (const id of ["treat-drug", "pop-drug"]) $(id).append(...drugs.map((d) => h("option", { value: d.id }, d.name)));
    $("sim-scenario").value = "lps-endotoxemia";
    $("treat-scenario").value = "car-t-crs";
    $("pop-scenario").value = "car-t-crs";
    $("treat-drug").value = "tocilizumab";
    showLabel();
    await loadScenarioDetail();
  } catch (err) { status(`could not reach the API: ${err.message}`); }
  route();
  document.body.dataset.ready = "1";
}

init();
