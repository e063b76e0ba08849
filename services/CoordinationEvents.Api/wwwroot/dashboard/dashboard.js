// The analysts' dashboard. Plain JavaScript, no build step: it calls only the public HTTP API (api.md) with
// the key the user typed, kept in sessionStorage (this tab only). The URL holds every choice, so a link can be
// shared and reopened.
"use strict";
(() => {
  const KEY_STORAGE = "coordinationEvents.apiKey";
  const REVIEW = { from: "2019-01-01", to: "2024-12-31" };
  const TIME_KEYS = ["year", "quarter", "month"];
  const $ = (id) => document.getElementById(id);

  // ---- Catalog: GET /api/v1/catalog (KindCatalog on the service), read once the key is known ------------
  // C.kinds: [{name, label, stock, dimensions: [names], metrics: [[name, label, unit, type]]}];
  // C.dimensions: {name: {label, values: {value: label}}} (a name such as `level` merges the values of its kinds).
  const C = { activitiesMetric: null, kinds: [], dimensions: {}, unitTypes: {} };
  const kindByName = new Map();
  const metricInfo = new Map();
  let metricOrder = [];
  const nfc = (s) => (s ?? "").normalize("NFC");

  function initCatalog(answer) {
    const metric = (m, kind) => ({ name: m.name, label: nfc(m.label), unit: nfc(m.unit), type: m.type, kind, stock: !!m.isStock });
    C.activitiesMetric = metric(answer.activities, null);
    metricInfo.set(C.activitiesMetric.name, C.activitiesMetric);
    for (const k of answer.kinds) {
      const kind = { name: k.name, label: nfc(k.label), stock: !!k.isStock, dimensions: k.dimensions.map((d) => d.name), metrics: [] };
      for (const m of k.metrics) {
        const info = metric(m, k.name);
        metricInfo.set(m.name, info);
        kind.metrics.push([info.name, info.label, info.unit, info.type]);
      }
      for (const d of k.dimensions) {
        const dimension = (C.dimensions[d.name] ??= { label: nfc(d.label), values: {} });
        for (const v of d.values) dimension.values[v.name] ??= nfc(v.label);
      }
      C.kinds.push(kind);
      kindByName.set(kind.name, kind);
    }
    for (const t of answer.unitTypes) C.unitTypes[t.name] = nfc(t.label);
    metricOrder = [...metricInfo.keys()];
  }

  // ---- Vietnamese formats --------------------------------------------------------------------------
  /** 1236 → "1.236"; 97.229 → "97,229"; at most 3 decimals, trailing zeros dropped. */
  function vn(value) {
    if (value === null || value === undefined || Number.isNaN(value)) return "—";
    const negative = value < 0;
    const [whole, fraction] = String(Math.round(Math.abs(value) * 1000) / 1000).split(".");
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    return (negative ? "-" : "") + grouped + (fraction ? "," + fraction : "");
  }
  const vnDate = (iso) => (iso ? `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}` : "");
  const todayInVietnam = () => new Date(Date.now() + 7 * 3600 * 1000).toISOString().slice(0, 10);
  const isDate = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s ?? "") && !Number.isNaN(Date.parse(s));

  /**
   * A date as typed, the Vietnamese way whatever the browser's language: "31/12/2024" (also 31-12-2024, 31.12.2024,
   * 1/2/2024) or ISO "2024-12-31" → "2024-12-31"; null when it is not a real calendar date.
   */
  function parseVnDate(text) {
    const t = (text ?? "").trim();
    let m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(t);
    let [d, mo, y] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
    if (!m && (m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t))) [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (!m || y < 1900 || mo < 1 || mo > 12 || d < 1) return null;
    if (d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return null;
    return `${y}-${String(mo).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
  }

  /** Amounts in đồng are shown in triệu đồng, as the officials write them ("1.473 triệu đồng"); exact to 1.000 đồng. */
  const MILLION = 1_000_000;
  const shownUnit = (info) => (info.type === "vnd" ? "triệu đồng" : info.unit);
  const shown = (info, value) => (info.type === "vnd" && typeof value === "number" ? value / MILLION : value);
  /** A figure of the metric as the table shows it; the exact amount in đồng goes in the cell's title. */
  function figureCell(info, value, missing) {
    const td = cell("td", value === undefined && missing ? "—" : vn(shown(info, value ?? 0)), "value");
    td.dataset.metric = info.name;
    if (info.type === "vnd" && value) td.title = `${vn(value)} đồng`;
    return td;
  }

  // ---- State: the choices, mirrored in the URL -----------------------------------------------------
  const state = { unit: "", preset: "review", from: REVIEW.from, to: REVIEW.to, quarter: 1, quarterYear: 2024, kinds: [], by: "kind", chart: "", tab: "figures", tree: "", lineage: false };
  const TABS = ["figures", "report", "activities", "issued"];

  function readUrl() {
    const q = new URLSearchParams(location.search);
    const today = todayInVietnam();
    state.unit = q.get("unit") ?? "";
    state.preset = ["this-year", "last-year", "review", "quarter", "custom"].includes(q.get("preset")) ? q.get("preset") : (q.get("from") ? "custom" : "review");
    state.quarterYear = Number(q.get("year")) || Number(today.slice(0, 4));
    state.quarter = Math.min(4, Math.max(1, Number(q.get("quarter")) || Math.floor((Number(today.slice(5, 7)) - 1) / 3) + 1));
    if (isDate(q.get("from"))) state.from = q.get("from");
    if (isDate(q.get("to"))) state.to = q.get("to");
    if (state.preset !== "custom") applyPreset();
    state.kinds = (q.get("kinds") ?? "").split(",").filter((k) => kindByName.has(k));
    state.by = byOptions().some((o) => o.value === q.get("by")) ? q.get("by") : "kind";
    state.chart = metricInfo.has(q.get("chart")) ? q.get("chart") : "";
    state.tab = TABS.includes(q.get("tab")) ? q.get("tab") : "figures";
    state.tree = isDate(q.get("tree")) ? q.get("tree") : "";
    state.lineage = q.get("lineage") === "true";
  }

  function writeUrl() {
    const q = new URLSearchParams();
    if (state.unit) q.set("unit", state.unit);
    q.set("preset", state.preset);
    if (state.preset === "quarter") { q.set("quarter", state.quarter); q.set("year", state.quarterYear); }
    q.set("from", state.from);
    q.set("to", state.to);
    if (state.kinds.length) q.set("kinds", state.kinds.join(","));
    q.set("by", state.by);
    if (state.chart) q.set("chart", state.chart);
    if (state.tab !== "figures") q.set("tab", state.tab);
    if (state.tree) q.set("tree", state.tree);
    if (state.lineage) q.set("lineage", "true");
    const url = `${location.pathname}?${q.toString().replaceAll("%2C", ",")}`;
    if (url !== location.pathname + location.search) history.replaceState(null, "", url);
  }

  function applyPreset() {
    const year = Number(todayInVietnam().slice(0, 4));
    switch (state.preset) {
      case "this-year": state.from = `${year}-01-01`; state.to = `${year}-12-31`; break;
      case "last-year": state.from = `${year - 1}-01-01`; state.to = `${year - 1}-12-31`; break;
      case "review": state.from = REVIEW.from; state.to = REVIEW.to; break;
      case "quarter": {
        const first = (state.quarter - 1) * 3 + 1;
        const last = new Date(Date.UTC(state.quarterYear, first + 2, 0)).getUTCDate();
        state.from = `${state.quarterYear}-${String(first).padStart(2, "0")}-01`;
        state.to = `${state.quarterYear}-${String(first + 2).padStart(2, "0")}-${last}`;
        break;
      }
    }
  }

  function byOptions() {
    const options = [
      { value: "kind", label: "Loại hoạt động" },
      { value: "unit", label: "Đơn vị trực thuộc" },
      { value: "year", label: "Năm" },
      { value: "quarter", label: "Quý" },
      { value: "month", label: "Tháng" },
    ];
    for (const [name, d] of Object.entries(C.dimensions)) options.push({ value: name, label: d.label, dimension: true });
    return options;
  }

  // ---- The API -------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  let apiKey = sessionStorage.getItem(KEY_STORAGE);
  const FORBIDDEN = "Khóa API này không có quyền xem số liệu. Cần khóa của cán bộ phân tích (analyst) hoặc quản trị (admin).";

  async function api(path, accept = "application/json", method = "GET", body = undefined) {
    let response;
    const headers = { "X-Api-Key": apiKey ?? "", Accept: accept };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError(0, "Không kết nối được với máy chủ. Kiểm tra mạng rồi thử lại.");
    }
    if (response.ok) return response;
    let problem = {};
    try { problem = await response.json(); } catch { /* not a problem document */ }
    const fields = problem.errors ? Object.values(problem.errors).flat().join(" ") : "";
    const messages = {
      401: "Khóa API không đúng hoặc không còn hiệu lực. Hãy nhập lại khóa.",
      403: FORBIDDEN,
      400: `Lựa chọn chưa hợp lệ: ${fields || problem.detail || problem.title || ""}`,
    };
    throw new ApiError(response.status, messages[response.status] ?? `Máy chủ trả lời lỗi ${response.status}: ${problem.detail || problem.title || response.statusText}`);
  }
  const json = async (path) => (await api(path)).json();

  function statisticsQuery(groupBy) {
    const q = new URLSearchParams({ from: state.from, to: state.to });
    if (state.unit) q.set("unitId", state.unit);
    if (state.kinds.length) q.set("kind", state.kinds.join(","));
    if (groupBy) q.set("groupBy", groupBy);
    if (state.lineage) q.set("lineage", "true");
    return `/api/v1/statistics?${q.toString().replaceAll("%2C", ",")}`;
  }

  // ---- Units ---------------------------------------------------------------------------------------
  let units = [];            // flat, tree order: {unitId, name, type, depth, parentId, validFrom, validTo, ending, successors}
  let treeLoadedFor = "";    // the day of the tree in `units`
  const details = new Map(); // unitId → GET /api/v1/units/{unitId} (names, dates, successors of units outside the tree)
  let answerUnits = {};      // the last statistics answer's `units`: the names and dates of the row keys
  const seen = new Map();    // every unit met in a tree or a search, as last met: the chosen unit outside today's tree keeps its name and end
  const unitName = (id) => nfc(units.find((u) => u.unitId === id)?.name ?? answerUnits[id]?.name ?? seen.get(id)?.name ?? details.get(id)?.name ?? id);

  /** The day of the unit tree: the one chosen, else the period's end. */
  const treeDay = () => state.tree || state.to;

  const nextDay = (iso) => new Date(Date.parse(iso) + 86_400_000).toISOString().slice(0, 10);
  const successorIds = (u) => (u?.successors ?? []).map((x) => (typeof x === "string" ? x : x.unitId));
  const successorName = (x) => (typeof x === "string" ? unitName(x) : nfc(x.name ?? unitName(x.unitId)));

  /**
   * How an official says a unit ended: "đã sáp nhập vào Xã Khổng Lào, từ 01/07/2025", "đã chia tách thành …",
   * "đã giải thể, từ …". Empty while the unit lasts. The day given is the first day it no longer exists.
   */
  function endingText(u) {
    if (!u?.validTo) return "";
    const from = vnDate(nextDay(u.validTo));
    const names = (u.successors ?? []).map(successorName).join(", ");
    const ending = u.ending ?? (names ? ((u.successors ?? []).length > 1 ? "split" : "merged") : "dissolved");
    if (ending === "merged" && names) return `đã sáp nhập vào ${names}, từ ${from}`;
    if (ending === "split" && names) return `đã chia tách thành ${names}, từ ${from}`;
    return `đã giải thể, từ ${from}`;
  }

  /** The tree on the tree's day (GET /api/v1/units?asOf=), and the successors' names of the units that end later. */
  async function loadTree() {
    const day = treeDay();
    if (day === treeLoadedFor) return;
    const tree = await json(`/api/v1/units?asOf=${day}`);
    units = flatten(tree);
    treeLoadedFor = day;
    await loadDetails(units.filter((u) => u.validTo));
    if (state.unit && !seen.has(state.unit) && !details.has(state.unit)) {
      try {
        const d = await json(`/api/v1/units/${encodeURIComponent(state.unit)}`);
        details.set(state.unit, d);
        seen.set(state.unit, { unitId: d.unitId, name: nfc(d.name), type: d.type, depth: 0, ...pickLife(d) });
        await loadDetails([seen.get(state.unit)].filter((u) => u.validTo));
      } catch { /* an unknown unit: the statistics will say so */ }
    }
  }

  /** GET /api/v1/units/{id} of each ended unit not yet known, then of its successors (named by id only). */
  async function loadDetails(ended) {
    const fetchAll = (ids) => Promise.all([...new Set(ids)].filter((id) => id && !details.has(id)).map(async (id) => {
      try { details.set(id, await json(`/api/v1/units/${encodeURIComponent(id)}`)); } catch { details.set(id, null); }
    }));
    await fetchAll(ended.filter((u) => !u.successors).map((u) => u.unitId));
    for (const u of ended) if (!u.successors && details.get(u.unitId)) Object.assign(u, pickLife(details.get(u.unitId)));
    await fetchAll(ended.flatMap((u) => (u.successors ?? []).filter((x) => typeof x === "string" || !x.name).map((x) => (typeof x === "string" ? x : x.unitId))));
  }

  const pickLife = (d) => ({ validFrom: d.validFrom ?? null, validTo: d.validTo ?? null, ending: d.ending ?? null, successors: d.successors ?? null, predecessors: d.predecessors ?? null });

  function flatten(nodes, depth = 0, out = []) {
    for (const n of nodes) {
      const u = { unitId: n.unitId, name: nfc(n.name), type: n.type, parentId: n.parentId, depth, ...pickLife(n) };
      out.push(u);
      seen.set(u.unitId, u);
      flatten(n.children ?? [], depth + 1, out);
    }
    return out;
  }

  /** NFC and case-folded; a query written without any diacritic also matches names written with them. */
  function unitMatches(name, query) {
    const q = nfc(query).trim().toLocaleLowerCase("vi");
    if (!q) return true;
    const n = name.toLocaleLowerCase("vi");
    if (n.includes(q)) return true;
    const bare = (s) => s.normalize("NFD").replace(/\p{M}/gu, "").replace(/đ/g, "d");
    return bare(q) === q && bare(n).includes(q);
  }

  /** Units whose name matches, former ones too (GET /api/v1/units?name=&includeEnded=true), outside the tree's day. */
  let formerUnits = [];
  let formerQuery = "";
  let formerTimer = null;

  function searchFormer() {
    clearTimeout(formerTimer);
    const query = nfc($("unit-search").value).trim();
    if (!query) { formerUnits = []; formerQuery = ""; return; }
    formerTimer = setTimeout(async () => {
      try {
        const found = await json(`/api/v1/units?name=${encodeURIComponent(query)}&includeEnded=true`);
        const list = (Array.isArray(found) ? found : found.units ?? []).map((n) => ({ unitId: n.unitId, name: nfc(n.name), type: n.type, depth: 0, ...pickLife(n) }));
        formerUnits = list.filter((u) => !units.some((t) => t.unitId === u.unitId));
        for (const u of formerUnits) if (!seen.has(u.unitId)) seen.set(u.unitId, u);
        await loadDetails(formerUnits.filter((u) => u.validTo));
        formerQuery = query;
        if (nfc($("unit-search").value).trim() === query) renderUnits();
      } catch { /* the tree's own matches stay */ }
    }, 250);
  }

  function unitOption(u, depth) {
    const ended = endingText(u);
    const label = `${"\u00a0\u00a0\u00a0".repeat(depth)}${u.name} — ${C.unitTypes[u.type] ?? u.type}${ended ? ` (${ended})` : ""}`;
    const option = new Option(label, u.unitId);
    if (ended) option.className = "ended";
    return option;
  }

  function renderUnits() {
    const select = $("unit");
    const query = $("unit-search").value;
    select.replaceChildren();
    const all = new Option("Tất cả các đơn vị", "");
    if (!query.trim()) select.add(all);
    for (const u of units) {
      if (!unitMatches(u.name, query)) continue;
      select.add(unitOption(u, u.depth));
    }
    const outside = query.trim() && formerQuery === nfc(query).trim() ? formerUnits.filter((u) => unitMatches(u.name, query)) : [];
    const chosen = state.unit && !units.some((u) => u.unitId === state.unit) && !outside.some((u) => u.unitId === state.unit)
      && unitMatches(seen.get(state.unit)?.name ?? unitName(state.unit), query)
      ? [seen.get(state.unit) ?? (details.get(state.unit) ? { unitId: state.unit, name: nfc(details.get(state.unit).name), type: details.get(state.unit).type, ...pickLife(details.get(state.unit)) } : { unitId: state.unit, name: unitName(state.unit), type: "" })]
      : [];
    if (outside.length || chosen.length) {
      const group = document.createElement("optgroup");
      group.label = `Không có trong cây ngày ${vnDate(treeDay())}`;
      for (const u of [...chosen, ...outside]) group.append(unitOption(u, 0));
      select.append(group);
    }
    if (query.trim() && select.options.length === 0) {
      const none = new Option("Không tìm thấy đơn vị nào", "__none");
      none.disabled = true;
      select.add(none);
    }
    if ([...select.options].some((o) => o.value === state.unit)) select.value = state.unit;
    const chosenUnit = units.find((u) => u.unitId === state.unit) ?? formerUnits.find((u) => u.unitId === state.unit) ?? seen.get(state.unit)
      ?? (details.get(state.unit) ? { name: nfc(details.get(state.unit).name), ...pickLife(details.get(state.unit)) } : null);
    const ended = endingText(chosenUnit);
    $("unit-ended").textContent = ended ? `${chosenUnit.name} ${ended}.` : "";
    $("unit-ended").hidden = !ended;
  }

  // ---- Controls ------------------------------------------------------------------------------------
  function buildControls() {
    const kindList = $("kind-list");
    for (const k of C.kinds) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = "kind";
      box.value = k.name;
      label.append(box, document.createTextNode(k.label));
      kindList.append(label);
    }
    const by = $("by");
    const dims = document.createElement("optgroup");
    dims.label = "Theo đặc điểm";
    for (const o of byOptions()) (o.dimension ? dims : by).append(new Option(o.label, o.value));
    by.append(dims);
  }

  function showState() {
    $("preset").value = state.preset;
    for (const id of ["from", "to"]) {
      $(id).value = vnDate(state[id]);
      $(id).removeAttribute("aria-invalid");
    }
    $("quarter").value = String(state.quarter);
    $("quarter-year").value = String(state.quarterYear);
    $("quarter-choice").hidden = state.preset !== "quarter";
    for (const box of document.querySelectorAll("#kind-list input")) box.checked = state.kinds.includes(box.value);
    $("by").value = state.by;
    $("tree-date").value = state.tree ? vnDate(state.tree) : "";
    $("tree-date").removeAttribute("aria-invalid");
    $("tree-date").placeholder = `ngày cuối kỳ: ${vnDate(state.to)}`;
    $("lineage").checked = state.lineage;
    renderUnits();
    renderChartMetricChoice();
    selectTab(state.tab, false);
  }

  /** The metrics that the current kinds can have, activities first. */
  function metricsOfKinds() {
    const kinds = state.kinds.length ? state.kinds : C.kinds.map((k) => k.name);
    return metricOrder.filter((m) => m === "activities" || kinds.includes(metricInfo.get(m).kind));
  }

  function renderChartMetricChoice() {
    const select = $("chart-metric");
    select.replaceChildren();
    for (const m of metricsOfKinds()) {
      const info = metricInfo.get(m);
      select.add(new Option(info.label + (info.stock ? " ◆" : ""), m));
    }
    if (!metricsOfKinds().includes(state.chart)) state.chart = "";
    select.value = state.chart || defaultChartMetric();
  }

  function defaultChartMetric() {
    if (state.kinds.length === 1) {
      const kind = kindByName.get(state.kinds[0]);
      return kind.metrics[0][0];
    }
    return "activities";
  }
  const chartMetric = () => state.chart || defaultChartMetric();

  let dateError = "";

  function readControls() {
    const unit = $("unit").value;
    if (unit !== "__none" && $("unit").selectedIndex >= 0) state.unit = unit;
    state.preset = $("preset").value;
    state.quarter = Number($("quarter").value) || 1;
    state.quarterYear = Number($("quarter-year").value) || state.quarterYear;
    dateError = "";
    if (state.preset === "custom") {
      for (const id of ["from", "to"]) {
        const iso = parseVnDate($(id).value);
        $(id).setAttribute("aria-invalid", String(!iso));
        if (iso) state[id] = iso;
        else dateError ||= `${id === "from" ? "Từ ngày" : "Đến ngày"}: "${$(id).value.trim()}" không phải là một ngày. Nhập theo dạng ngày/tháng/năm, ví dụ 31/12/2024.`;
      }
    } else {
      applyPreset();
    }
    state.kinds = [...document.querySelectorAll("#kind-list input:checked")].map((b) => b.value);
    state.by = $("by").value;
    state.lineage = $("lineage").checked;
    const treeText = $("tree-date").value.trim();
    const treeIso = treeText ? parseVnDate(treeText) : "";
    $("tree-date").setAttribute("aria-invalid", String(treeIso === null));
    if (treeIso === null) dateError ||= `Cây đơn vị tại ngày: "${treeText}" không phải là một ngày. Nhập theo dạng ngày/tháng/năm, ví dụ 01/07/2025, hoặc để trống.`;
    else state.tree = treeIso;
    // The chart's metric is set by its own control only (below), so that a change of kinds keeps its default.
  }

  // ---- Messages ------------------------------------------------------------------------------------
  function showError(message) {
    $("error").textContent = message ?? "";
    $("error").hidden = !message;
  }
  const setStatus = (message) => { $("status").textContent = message; };

  function handle(error) {
    if (error instanceof ApiError && error.status === 401) {
      askForKey(error.message);
      return;
    }
    showError(error.message || String(error));
    setStatus("");
  }

  // ---- Figures: table and chart --------------------------------------------------------------------
  let current = null;        // the last statistics answer, with what was asked
  let chart = null;
  let loadNumber = 0;

  function keyLabel(by, value) {
    if (value === null || value === undefined) return "(không có)";
    if (by === "kind") return kindByName.get(value)?.label ?? value;
    if (by === "unit") {
      // A child that ended or began within the period says so: its dates come with the answer (`units`).
      const u = answerUnits[value];
      const name = unitName(value);
      if (!u) return name;
      const dates = [u.validFrom && current?.answer && u.validFrom > current.answer.from ? `từ ${vnDate(u.validFrom)}` : "",
        u.validTo && current?.answer && u.validTo < current.answer.to ? `đến ${vnDate(u.validTo)}` : ""].filter(Boolean).join(", ");
      return dates ? `${name} (${dates})` : name;
    }
    if (by === "year") return `Năm ${value}`;
    if (by === "quarter") return `Quý ${["I", "II", "III", "IV"][Number(value.slice(-1)) - 1]}/${value.slice(0, 4)}`;
    if (by === "month") return `Tháng ${value.slice(5, 7)}/${value.slice(0, 4)}`;
    return C.dimensions[by]?.values[value] ?? value;
  }

  /** Every bucket of the period, so that a month without activity still has its row. */
  function timeBuckets(by, from, to) {
    const out = [];
    const [fy, fm] = [Number(from.slice(0, 4)), Number(from.slice(5, 7))];
    const [ty, tm] = [Number(to.slice(0, 4)), Number(to.slice(5, 7))];
    if (by === "year") for (let y = fy; y <= ty; y++) out.push(String(y));
    if (by === "quarter") for (let y = fy, q = Math.ceil(fm / 3); y * 4 + q <= ty * 4 + Math.ceil(tm / 3); q === 4 ? (y++, q = 1) : q++) out.push(`${y}-Q${q}`);
    if (by === "month") for (let y = fy, m = fm; y * 12 + m <= ty * 12 + tm; m === 12 ? (y++, m = 1) : m++) out.push(`${y}-${String(m).padStart(2, "0")}`);
    return out;
  }

  /**
   * Rows in display order. Over time, every bucket gets a row: a missing one has no flows (0) and keeps the
   * stock of the bucket before it (nothing was declared in it), or none when it is the first.
   */
  function orderedRows(answer, by) {
    const rows = answer.rows.map((r) => ({ key: r.key[by] ?? null, metrics: r.metrics }));
    if (TIME_KEYS.includes(by)) {
      const byKey = new Map(rows.map((r) => [r.key, r]));
      let previous = null;
      return timeBuckets(by, answer.from, answer.to).map((key) => {
        let row = byKey.get(key);
        if (!row) {
          const metrics = {};
          for (const [m, info] of metricInfo) if (info.stock && previous && m in previous.metrics) metrics[m] = previous.metrics[m];
          row = { key, metrics, filled: true };
        }
        previous = row;
        return row;
      });
    }
    if (by === "kind") return rows.sort((a, b) => C.kinds.findIndex((k) => k.name === a.key) - C.kinds.findIndex((k) => k.name === b.key));
    if (by === "unit") {
      // Tree order on the tree's day; children outside that tree (ended or not yet begun) after them, by name.
      const rank = (id) => { const i = units.findIndex((u) => u.unitId === id); return i < 0 ? 1e6 : i; };
      return rows.sort((a, b) => rank(a.key) - rank(b.key) || unitName(a.key).localeCompare(unitName(b.key), "vi"));
    }
    const values = Object.keys(C.dimensions[by]?.values ?? {});
    const rank = (v) => (v === null ? 1e9 : values.indexOf(v));
    return rows.sort((a, b) => rank(a.key) - rank(b.key));
  }

  function cell(tag, text, className) {
    const el = document.createElement(tag);
    el.textContent = text;
    if (className) el.className = className;
    return el;
  }

  function metricHeader(tag, m, atDate) {
    const info = metricInfo.get(m);
    const el = cell(tag, info.label, tag === "th" && atDate !== undefined ? "value" : undefined);
    el.append(cell("span", ` (${shownUnit(info)})`, "unit-of"));
    if (info.stock) {
      const mark = cell("span", " ◆", "stock-mark");
      mark.title = atDate ? `Số đang có tại ngày ${vnDate(atDate)}` : "Số đang có tại cuối kỳ";
      el.append(mark);
    }
    return el;
  }

  function renderTable(answer, by, series) {
    const table = $("figures-table");
    table.replaceChildren();
    table.className = by === "kind" ? "long" : TIME_KEYS.includes(by) ? "periods" : "wide";
    table.append(cell("caption", `${unitLabel()} · từ ${vnDate(answer.from)} đến ${vnDate(answer.to)}`));
    if (TIME_KEYS.includes(by)) { renderPeriodTable(table, answer, by, series); return; }
    const rows = orderedRows(answer, by);
    if (by === "kind") {
      // Each kind has its own metrics: a heading line per kind, then one line per metric.
      const head = table.createTHead().insertRow();
      head.append(cell("th", "Chỉ tiêu"), cell("th", "Số liệu", "value"));
      for (const row of rows) {
        const kind = kindByName.get(row.key);
        const body = table.createTBody();
        const group = body.insertRow();
        group.className = "group";
        const th = cell("th", keyLabel(by, row.key));
        th.colSpan = 2;
        th.scope = "colgroup";
        group.append(th);
        for (const m of ["activities", ...(kind?.metrics.map((x) => x[0]) ?? [])]) {
          const tr = body.insertRow();
          tr.dataset.key = row.key;
          tr.dataset.metric = m;
          tr.append(metricHeader("td", m, answer.to), figureCell(metricInfo.get(m), row.metrics[m], false));
        }
      }
      const foot = table.createTFoot().insertRow();
      foot.dataset.metric = "activities";
      foot.append(cell("th", "Tổng số hoạt động"), cell("td", vn(answer.totals.activities ?? 0), "value"));
      return;
    }
    // Child units and dimension values: one row per key, one column per metric that the kinds have and the answer holds.
    const present = metricsOfKinds().filter((m) => m === "activities" || m in answer.totals || answer.rows.some((r) => m in r.metrics));
    const head = table.createTHead().insertRow();
    head.append(cell("th", byOptions().find((o) => o.value === by)?.label ?? by));
    for (const m of present) head.append(metricHeader("th", m, answer.to));
    const body = table.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      tr.dataset.key = row.key ?? "";
      const th = cell("th", keyLabel(by, row.key));
      th.scope = "row";
      tr.append(th);
      for (const m of present) tr.append(figureCell(metricInfo.get(m), row.metrics[m], metricInfo.get(m).stock));
    }
    const foot = table.createTFoot().insertRow();
    foot.append(cell("th", "Tổng cộng"));
    for (const m of present) foot.append(figureCell(metricInfo.get(m), answer.totals[m], false));
  }

  /**
   * Years, quarters, months: as in the officials' reports and spreadsheets, the metrics down the side, grouped under
   * their kind as in the kind view, and the periods across the top, then the whole period. Stocks (◆) are given at
   * each period's end, and at the end of the whole period. `series` (by period and kind) gives each kind's activities.
   */
  function renderPeriodTable(table, answer, by, series) {
    const buckets = orderedRows(answer, by);
    const kindActivities = new Map();
    for (const r of series?.rows ?? []) {
      const key = `${r.key[by] ?? ""}|${r.key.kind}`;
      kindActivities.set(key, (kindActivities.get(key) ?? 0) + (r.metrics.activities ?? 0));
    }
    const chosen = state.kinds.length ? C.kinds.filter((k) => state.kinds.includes(k.name)) : C.kinds;
    const kinds = series ? chosen.filter((k) => series.rows.some((r) => r.key.kind === k.name)) : chosen;
    const activitiesOf = (kind, bucket) => (series ? kindActivities.get(`${bucket.key}|${kind.name}`) ?? 0 : bucket.metrics.activities ?? 0);

    const head = table.createTHead().insertRow();
    const corner = cell("th", "Chỉ tiêu");
    corner.scope = "col";
    head.append(corner);
    for (const bucket of buckets) {
      const th = cell("th", keyLabel(by, bucket.key), "value period");
      th.scope = "col";
      th.dataset.period = bucket.key;
      head.append(th);
    }
    const whole = cell("th", "Cả kỳ", "value whole");
    whole.scope = "col";
    whole.title = `Từ ${vnDate(answer.from)} đến ${vnDate(answer.to)}; tự quản (◆): tại ngày ${vnDate(answer.to)}`;
    head.append(whole);

    const figureRow = (body, kind, m, values, total) => {
      const tr = body.insertRow();
      tr.dataset.key = kind.name;
      tr.dataset.metric = m;
      const th = metricHeader("th", m);
      th.scope = "row";
      tr.append(th);
      const info = metricInfo.get(m);
      buckets.forEach((bucket, i) => {
        const td = figureCell(info, values[i], info.stock);
        td.dataset.period = bucket.key;
        tr.append(td);
      });
      const td = figureCell(info, total, info.stock);
      td.dataset.period = "all";
      td.classList.add("whole");
      tr.append(td);
    };
    for (const kind of kinds) {
      const body = table.createTBody();
      const group = body.insertRow();
      group.className = "group";
      const th = cell("th", kind.label);
      th.scope = "rowgroup";
      const rest = cell("td", "");
      rest.colSpan = buckets.length + 1;
      group.append(th, rest);
      const activities = buckets.map((b) => activitiesOf(kind, b));
      figureRow(body, kind, "activities", activities, activities.reduce((a, b) => a + b, 0));
      for (const [m] of kind.metrics) figureRow(body, kind, m, buckets.map((b) => b.metrics[m]), answer.totals[m]);
    }
    if (!kinds.length) {
      const empty = table.createTBody().insertRow().insertCell();
      empty.colSpan = buckets.length + 2;
      empty.textContent = "Không có hoạt động nào trong kỳ đã chọn.";
    }
    const foot = table.createTFoot().insertRow();
    foot.dataset.metric = "activities";
    const label = cell("th", "Tổng số hoạt động");
    label.scope = "row";
    foot.append(label);
    const info = metricInfo.get("activities");
    for (const bucket of buckets) {
      const td = figureCell(info, bucket.metrics.activities, false);
      td.dataset.period = bucket.key;
      foot.append(td);
    }
    const total = figureCell(info, answer.totals.activities, false);
    total.dataset.period = "all";
    total.classList.add("whole");
    foot.append(total);
  }

  /** "Tuyên truyền, phổ biến giáo dục pháp luật" → lines of at most `width` characters, cut between words. */
  function wrap(text, width) {
    if (text.length <= width) return text;
    const lines = [];
    let line = "";
    for (const word of text.split(" ")) {
      if (line && (line + " " + word).length > width) { lines.push(line); line = word; } else line = line ? line + " " + word : word;
    }
    if (line) lines.push(line);
    return lines;
  }

  const palette = ["#1f5f3f", "#c0392b", "#2e6da4", "#d98c00", "#7b4fa0", "#16817a", "#8a5a2b", "#b03a78", "#4f7f1f", "#5a6675", "#2b4c7e", "#a36a00", "#3f8f5f"];

  const PHONE = "(max-width: 640px)";
  const isPhone = () => matchMedia(PHONE).matches;
  /** On a phone the stacked chart keeps the six largest series and puts the rest together as "khác". */
  const MAX_SERIES_ON_PHONE = 6;

  function renderChart(answer, by, series) {
    const metric = chartMetric();
    const info = metricInfo.get(metric);
    const overTime = TIME_KEYS.includes(by);
    const phone = isPhone();
    const rows = orderedRows(answer, by);
    // Long Vietnamese names are wrapped onto several lines rather than cut, most of all on a phone.
    const wrapAt = phone ? 18 : 42;
    const labels = rows.map((r) => wrap(keyLabel(by, r.key), overTime ? 1000 : wrapAt));
    let datasets;
    if (series) {
      // Stacked by kind: the activities of each kind, per key; on a phone the six largest kinds and "khác".
      let stacks = C.kinds.filter((k) => series.rows.some((r) => r.key.kind === k.name)).map((k, i) => ({
        label: k.label,
        color: palette[i % palette.length],
        data: rows.map((row) => series.rows.filter((r) => r.key.kind === k.name && (r.key[by] ?? null) === row.key)
          .reduce((sum, r) => sum + (r.metrics.activities ?? 0), 0)),
      }));
      if (phone && stacks.length > MAX_SERIES_ON_PHONE + 1) {
        const total = (d) => d.data.reduce((a, b) => a + b, 0);
        const largest = [...stacks].sort((a, b) => total(b) - total(a)).slice(0, MAX_SERIES_ON_PHONE);
        const rest = stacks.filter((d) => !largest.includes(d));
        stacks = stacks.filter((d) => largest.includes(d));
        stacks.push({ label: `khác (${rest.length} loại)`, color: "#8c96a3", data: rows.map((_, i) => rest.reduce((sum, d) => sum + d.data[i], 0)) });
      }
      datasets = stacks.map((d) => ({
        label: d.label,
        data: d.data,
        backgroundColor: d.color + (overTime ? "99" : ""),
        borderColor: d.color,
        fill: overTime,
        pointRadius: 0,
      }));
    } else {
      const values = rows.map((r) => shown(info, r.metrics[metric]));
      datasets = [{
        label: info.label + (info.stock ? " (tại cuối kỳ)" : ""),
        data: values.map((v) => v ?? (info.stock ? null : 0)),
        backgroundColor: palette[0] + (overTime ? "33" : ""),
        borderColor: palette[0],
        fill: overTime && !info.stock,
        pointRadius: rows.length > 40 ? 0 : 3,
        stepped: info.stock && overTime ? "after" : false,
      }];
    }
    const horizontal = !overTime && (by === "kind" || by === "unit" || labels.length > 8);
    const legend = !!series || datasets.length > 1;
    const config = {
      type: overTime ? "line" : "bar",
      data: { labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: horizontal ? "y" : "x",
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: !!series, ticks: horizontal ? { callback: (v) => vn(v) } : { autoSkip: true, maxRotation: 0 } },
          y: { stacked: !!series, beginAtZero: true, ticks: horizontal ? { autoSkip: false } : { callback: (v) => vn(v) } },
        },
        plugins: {
          // On a phone the legend goes below the chart, one series a line, so that the plot keeps its height.
          legend: { display: legend, position: phone ? "bottom" : "top", labels: phone ? { boxWidth: 14, padding: 8 } : {} },
          title: { display: true, text: series ? `${C.activitiesMetric.label} theo loại` : `${info.label} (${shownUnit(info)})` },
          tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${vn(c.raw)}` } },
        },
      },
    };
    const chartBox = $("chart").parentElement;
    const lines = labels.reduce((n, l) => n + (Array.isArray(l) ? l.length : 1), 0);
    const legendHeight = phone && legend ? datasets.length * 22 + 16 : 0;
    chartBox.style.height = horizontal
      ? `${Math.max(260, lines * 16 + labels.length * 10 + 80 + legendHeight)}px`
      : legendHeight ? `${280 + legendHeight}px` : "";
    if (chart) chart.destroy();
    chart = new window.Chart($("chart"), config);
    $("chart").setAttribute("aria-label", `Biểu đồ: ${config.options.plugins.title.text}, ${labels.length} mục`);
    window.ceDashboard.chart = chart;
  }

  const unitLabel = () => (state.unit ? unitName(state.unit) : "Tất cả các đơn vị");

  /** The answer's `units` (a map by id, or a list), as a map by id. */
  function unitsOfAnswer(list) {
    if (!list) return {};
    if (Array.isArray(list)) return Object.fromEntries(list.map((u) => [u.unitId, { ...u, name: nfc(u.name) }]));
    return Object.fromEntries(Object.entries(list).map(([id, u]) => [id, { ...u, name: nfc(u.name) }]));
  }

  /** With lineage=true, which units' figures were carried forward into the chosen unit, and which could not be. */
  function renderLineage(answer) {
    const note = $("lineage-note");
    if (!state.lineage) { note.hidden = true; note.textContent = ""; return; }
    const carried = (answer.lineage ?? []).map((u) => `${nfc(u.name ?? unitName(u.unitId))}${u.until ? ` (trước ngày ${vnDate(u.until)})` : ""}`);
    const notCarried = (answer.notCarried ?? []).map((u) => `${nfc(u.name ?? unitName(u.unitId))}${u.validTo ? ` (đến ${vnDate(u.validTo)})` : ""}`);
    let text = carried.length
      ? `Số liệu cộng dồn: gồm cả số liệu của ${carried.join(", ")}, đơn vị đã sáp nhập vào ${unitLabel()}.`
      : `Số liệu cộng dồn: ${unitLabel()} không có đơn vị nào sáp nhập vào trong kỳ, số liệu như đã ghi nhận.`;
    if (notCarried.length) text += ` Không cộng số liệu của ${notCarried.join(", ")}: đơn vị bị chia tách, không thể chia số liệu cho đơn vị kế thừa.`;
    note.textContent = text;
    note.hidden = false;
  }

  async function loadFigures() {
    const number = ++loadNumber;
    if (!isDate(state.from) || !isDate(state.to)) { showError("Hãy nhập đủ ngày bắt đầu và ngày kết thúc."); return; }
    if (state.from > state.to) { showError("Ngày kết thúc không được trước ngày bắt đầu."); return; }
    showError("");
    setStatus("Đang tải số liệu…");
    const by = state.by;
    const stack = chartMetric() === "activities" && by !== "kind" && state.kinds.length !== 1;
    // Over time the table gives each kind's activities per period: the figures by period and kind.
    const bySeries = stack || (TIME_KEYS.includes(by) && state.kinds.length !== 1);
    try {
      const [answer, series] = await Promise.all([
        json(statisticsQuery(by)),
        bySeries ? json(statisticsQuery(`${by},kind`)) : Promise.resolve(null),
      ]);
      if (number !== loadNumber) return;
      current = { answer, by, series: stack ? series : null };
      answerUnits = unitsOfAnswer(answer.units);
      renderLineage(answer);
      $("figures-title").textContent = `Số liệu của ${unitLabel()}, từ ${vnDate(answer.from)} đến ${vnDate(answer.to)}`;
      renderTable(answer, by, series);
      renderChart(answer, by, current.series);
      setStatus(answer.rows.length ? `Đã tải ${vn(answer.rows.length)} dòng số liệu.` : "Không có hoạt động nào trong kỳ đã chọn.");
      document.body.dataset.loaded = statisticsQuery(by);
    } catch (error) {
      if (number === loadNumber) handle(error);
    }
    if (state.tab === "report") loadReport();
    if (state.tab === "activities") loadActivities(true);
    if (state.tab === "issued") loadIssued();
  }

  // ---- CSV -----------------------------------------------------------------------------------------
  async function downloadCsv() {
    try {
      const response = await api(statisticsQuery(state.by), "text/csv");
      const blob = new Blob([await response.arrayBuffer()], { type: "text/csv;charset=utf-8" });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = `thong-ke-${state.unit || "tat-ca"}-${state.from}-${state.to}-theo-${state.by}.csv`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (error) {
      handle(error);
    }
  }

  // ---- Review report -------------------------------------------------------------------------------
  let reportMarkdown = "";

  function renderMarkdown(markdown, into) {
    into.replaceChildren();
    let list = null;
    for (const line of markdown.split("\n")) {
      if (line.startsWith("- ")) {
        if (!list) { list = document.createElement("ul"); into.append(list); }
        list.append(cell("li", line.slice(2)));
        continue;
      }
      list = null;
      if (line.startsWith("## ")) into.append(cell("h2", line.slice(3)));
      else if (line.startsWith("# ")) into.append(cell("h1", line.slice(2)));
      else if (line.trim()) into.append(cell("p", line));
    }
  }

  async function loadReport() {
    const q = new URLSearchParams({ from: state.from, to: state.to, format: "markdown" });
    if (state.unit) q.set("unitId", state.unit);
    const report = $("report");
    report.setAttribute("aria-busy", "true");
    try {
      reportMarkdown = nfc(await (await api(`/api/v1/reports/review?${q}`, "text/markdown")).text());
      renderMarkdown(reportMarkdown, report);
    } catch (error) {
      handle(error);
    } finally {
      report.removeAttribute("aria-busy");
    }
  }

  async function copyReport() {
    // Plain text for a document: the headings without their "#", the lines as "- " items.
    const text = reportMarkdown.replace(/^#+ /gm, "");
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const range = document.createRange();
      range.selectNodeContents($("report"));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      document.execCommand("copy");
    }
    $("report-copied").textContent = "Đã sao chép báo cáo.";
    setTimeout(() => { $("report-copied").textContent = ""; }, 4000);
  }

  // ---- Issued reports: POST /api/v1/reports, the list, Word downloads and what changed since --------
  const DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
  const lines = (id) => $(id).value.split("\n").map((l) => nfc(l).trim()).filter(Boolean);
  const vnDateTime = (instant) => {
    const t = new Date(Date.parse(instant) + 7 * 3600 * 1000).toISOString();
    return `${t.slice(11, 16)} ${vnDate(t.slice(0, 10))}`;
  };

  /** Issues the report of the chosen unit and period with the document's fields; empty fields take the unit's defaults. */
  async function issueReport() {
    if (!state.unit) { $("issue-result").textContent = "Chọn một đơn vị trước khi ban hành báo cáo."; return; }
    const body = { kind: "review", unitId: state.unit, from: state.from, to: state.to };
    const text = (id) => nfc($(id).value).trim() || undefined;
    const issuer = { parent: text("issue-parent"), name: text("issue-issuer") };
    if (issuer.parent || issuer.name) body.issuer = issuer;
    if (text("issue-number")) body.number = text("issue-number");
    if (text("issue-place")) body.place = text("issue-place");
    if (lines("issue-signer").length || text("issue-signer-name")) body.signer = { title: lines("issue-signer").length ? lines("issue-signer") : undefined, name: text("issue-signer-name") };
    if (lines("issue-recipients").length) body.recipients = lines("issue-recipients");
    $("issue-submit").disabled = true;
    $("issue-result").textContent = "Đang ban hành…";
    try {
      const issued = await (await api("/api/v1/reports", "application/json", "POST", body)).json();
      $("issue-result").textContent = `Đã ban hành báo cáo của ${unitLabel()}, từ ${vnDate(issued.from)} đến ${vnDate(issued.to)}, lúc ${vnDateTime(issued.issuedAt)}. Báo cáo được giữ nguyên như khi ban hành.`;
      $("issue-box").open = false;
      await loadIssued();
      await showIssued(issued);
    } catch (error) {
      $("issue-result").textContent = "";
      handle(error);
    } finally {
      $("issue-submit").disabled = false;
    }
  }

  let issuedList = [];

  async function loadIssued() {
    $("issue-what").textContent = state.unit
      ? `Báo cáo sơ kết của ${unitLabel()}, từ ${vnDate(state.from)} đến ${vnDate(state.to)}. Để trống ô nào thì ô đó lấy theo đơn vị (tên cơ quan, địa danh, ngày ban hành).`
      : "Chọn một đơn vị ở trên: báo cáo được ban hành cho một đơn vị và kỳ đã chọn.";
    const q = new URLSearchParams({ from: state.from, to: state.to });
    if (state.unit) q.set("unitId", state.unit);
    const table = $("issued-table");
    try {
      issuedList = (await json(`/api/v1/reports?${q}`)).reports;
    } catch (error) {
      handle(error);
      return;
    }
    table.replaceChildren();
    table.append(cell("caption", `Báo cáo đã ban hành của ${unitLabel()}, kỳ giao với ${vnDate(state.from)} – ${vnDate(state.to)} (mới nhất trước)`));
    const head = table.createTHead().insertRow();
    for (const h of ["Số", "Đơn vị", "Kỳ báo cáo", "Ban hành lúc", "Người ban hành", ""]) head.append(cell("th", h));
    const body = table.createTBody();
    if (!issuedList.length) {
      const td = body.insertRow().insertCell();
      td.colSpan = 6;
      td.textContent = "Chưa có báo cáo nào được ban hành.";
    }
    for (const r of issuedList) {
      const tr = body.insertRow();
      tr.dataset.reportId = r.reportId;
      tr.append(cell("td", r.number ? r.number : "(chưa ghi số)"), cell("td", unitName(r.unitId)),
        cell("td", `${vnDate(r.from)} – ${vnDate(r.to)}`), cell("td", vnDateTime(r.issuedAt)), cell("td", r.issuedBy));
      const actions = document.createElement("div");
      actions.className = "actions";
      const view = cell("button", "Xem và so sánh", "issued-view-button");
      view.type = "button";
      view.addEventListener("click", () => showIssued(r));
      const word = cell("button", "Tải Word", "issued-docx");
      word.type = "button";
      word.addEventListener("click", () => downloadIssued(r));
      actions.append(view, word);
      tr.insertCell().append(actions);
    }
  }

  async function downloadIssued(r) {
    try {
      const response = await api(`/api/v1/reports/${r.reportId}?format=docx`, DOCX);
      const disposition = response.headers.get("Content-Disposition") ?? "";
      const name = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition)?.[1];
      const blob = new Blob([await response.arrayBuffer()], { type: DOCX });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = name ? decodeURIComponent(name) : `bao-cao-${r.unitId}-${r.from}-${r.to}.docx`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (error) {
      handle(error);
    }
  }

  /** The issued report as it was issued (its Markdown, byte for byte), and above it what differs today. */
  async function showIssued(r) {
    const view = $("issued-view");
    view.hidden = false;
    view.dataset.reportId = r.reportId;
    view.setAttribute("aria-busy", "true");
    $("issued-view-title").textContent = `Báo cáo ${r.number ? `số ${r.number} ` : ""}của ${unitName(r.unitId)}, từ ${vnDate(r.from)} đến ${vnDate(r.to)}, ban hành lúc ${vnDateTime(r.issuedAt)}`;
    try {
      const [markdown, changes] = await Promise.all([
        api(`/api/v1/reports/${r.reportId}?format=markdown`, "text/markdown").then((x) => x.text()),
        json(`/api/v1/reports/${r.reportId}/changes`),
      ]);
      renderChanges(changes);
      renderMarkdown(nfc(markdown), $("issued-report"));
      view.dataset.loaded = r.reportId;
    } catch (error) {
      handle(error);
    } finally {
      view.removeAttribute("aria-busy");
    }
  }

  const baseMetric = (m) => m.split("[")[0];
  const CHANGE_WORDS = { recorded: "ghi bổ sung", corrected: "đính chính", retracted: "hủy bỏ" };

  /** "3 hoạt động ghi bổ sung, 1 đính chính": how many activities changed the line, by how they changed. */
  function activitiesWording(activities) {
    const parts = ["recorded", "corrected", "retracted"].map((c) => [activities.filter((a) => a.change === c).length, CHANGE_WORDS[c]]).filter(([n]) => n > 0);
    return parts.map(([n, word], i) => (i === 0 ? `${vn(n)} hoạt động ${word}` : `${vn(n)} ${word}`)).join(", ");
  }

  /** The activities that move this metric: its value before and now differ (of its kind when neither holds it). */
  function activitiesOf(metric, activities) {
    const base = baseMetric(metric);
    const kind = metricInfo.get(base)?.kind;
    return activities.filter((a) => {
      const before = a.metricsBefore?.[base], now = a.metricsNow?.[base];
      if (before !== undefined || now !== undefined) return (before ?? 0) !== (now ?? 0);
      return base === "activities" || (kind && a.kind === kind && (a.change !== "corrected"));
    });
  }

  /** "1.236 → 1.240 lần" for each figure of the line that differs. */
  function figureChanges(issued, now) {
    const out = [];
    const metrics = [...new Set([...(issued?.metrics ?? []), ...(now?.metrics ?? [])])];
    for (const m of metrics) {
      const i = issued?.metrics.indexOf(m) ?? -1, j = now?.metrics.indexOf(m) ?? -1;
      const a = i >= 0 ? issued.values[i] : 0, b = j >= 0 ? now.values[j] : 0;
      if (a === b) continue;
      const info = metricInfo.get(baseMetric(m));
      const unit = info ? shownUnit(info) : "";
      out.push({ metric: m, text: `${vn(info ? shown(info, a) : a)} → ${vn(info ? shown(info, b) : b)}${unit ? ` ${unit}` : ""}` });
    }
    return out;
  }

  function renderChanges(changes) {
    const box = $("changes");
    box.replaceChildren();
    if (!changes.lines.length) {
      box.append(cell("p", changes.activities.length
        ? "Số liệu hiện nay vẫn như báo cáo đã ban hành (các hoạt động ghi sau không làm thay đổi số liệu nào)."
        : "Không có thay đổi nào: số liệu hiện nay giống hệt báo cáo đã ban hành.", "no-changes"));
    } else {
      box.append(cell("p", `Số liệu đã thay đổi từ khi ban hành (${vn(changes.lines.length)} dòng):`, "changes-title"));
      const list = document.createElement("ul");
      for (const line of changes.lines) {
        const li = document.createElement("li");
        li.className = "line";
        li.dataset.section = line.section;
        const subject = nfc(line.issued?.text ?? line.now?.text ?? line.line);
        const figures = figureChanges(line.issued, line.now);
        const involved = [...new Set(figures.flatMap((f) => activitiesOf(f.metric, changes.activities)))];
        const wording = activitiesWording(involved);
        li.dataset.metric = line.issued?.metrics[0] ?? line.now?.metrics[0] ?? "";
        li.append(cell("div", `${nfc(line.section)} · ${line.issued ? "" : "dòng mới: "}${line.now ? "" : "không còn trong báo cáo hiện nay: "}${subject}`, "subject"));
        li.append(cell("div", figures.map((f) => f.text).join("; ") + (wording ? `: ${wording}` : ""), "figures"));
        if (line.now && line.issued && line.now.text !== line.issued.text) li.append(cell("div", `Nay: ${nfc(line.now.text)}`, "now"));
        list.append(li);
      }
      box.append(list);
    }
    if (changes.activities.length) {
      box.append(cell("p", `Các hoạt động ghi bổ sung, đính chính hoặc hủy bỏ sau khi ban hành (${activitiesWording(changes.activities)}):`, "activities-title"));
      const list = document.createElement("ul");
      list.className = "changed-activities";
      for (const a of changes.activities) {
        const li = cell("li", `${vnDate(a.occurredOnNow ?? a.occurredOnBefore)} · ${kindByName.get(a.kind)?.label ?? a.kind} · ${CHANGE_WORDS[a.change] ?? a.change} · ${unitName(a.unitIdNow ?? a.unitIdBefore)}`);
        li.dataset.activityId = a.activityId;
        li.dataset.change = a.change;
        list.append(li);
      }
      box.append(list);
    }
  }

  // ---- Recent activities ---------------------------------------------------------------------------
  let activitiesCursor = null;

  async function loadActivities(fresh) {
    const q = new URLSearchParams({ limit: "25" });
    if (state.unit) q.set("unitId", state.unit);
    if (state.kinds.length === 1) q.set("kind", state.kinds[0]);
    if (!fresh && activitiesCursor) q.set("cursor", activitiesCursor);
    const list = $("activities");
    try {
      const page = await json(`/api/v1/activities?${q}`);
      if (fresh) list.replaceChildren();
      const items = page.items.filter((a) => !state.kinds.length || state.kinds.includes(a.kind));
      for (const a of items) {
        const li = document.createElement("li");
        if (a.status === "retracted") li.classList.add("retracted");
        const time = cell("time", vnDate(a.occurredOn));
        time.dateTime = a.occurredOn;
        const what = document.createElement("div");
        what.append(cell("div", kindByName.get(a.kind)?.label ?? a.kind, "kind"), cell("div", nfc(a.summary)),
          cell("div", unitName(a.unitId) + (a.status === "retracted" ? " · đã hủy" : ""), "where"));
        li.append(time, what);
        list.append(li);
      }
      if (fresh && !items.length) list.append(cell("li", "Chưa có hoạt động nào được ghi nhận."));
      activitiesCursor = page.nextCursor;
      $("activities-more").hidden = !activitiesCursor;
    } catch (error) {
      handle(error);
    }
  }

  // ---- Projections' lag (admin keys only: the page never asks what the key's role may not read) --------
  let lagTimer = null;

  function watchLag() {
    clearInterval(lagTimer);
    const show = async () => {
      try {
        const status = await json("/api/v1/admin/projections");
        const lag = $("lag");
        const behind = status.projections.filter((p) => p.lag > 0);
        lag.textContent = behind.length
          ? `Số liệu đang cập nhật: ${behind.map((p) => `${p.name} chậm ${vn(p.lag)} sự kiện`).join(", ")}`
          : `Số liệu đã cập nhật đầy đủ (${status.projections.map((p) => `${p.name}: độ trễ 0`).join(", ")})`;
        lag.classList.toggle("behind", behind.length > 0);
        lag.hidden = false;
      } catch {
        $("lag").hidden = true;
      }
    };
    show();
    lagTimer = setInterval(show, 10000);
  }

  // ---- Tabs ----------------------------------------------------------------------------------------
  function selectTab(tab, load = true) {
    state.tab = tab;
    for (const name of TABS) {
      const button = $(`tab-${name}`);
      button.setAttribute("aria-selected", String(name === tab));
      button.tabIndex = name === tab ? 0 : -1;
      $(`panel-${name}`).hidden = name !== tab;
    }
    if (!load) return;
    writeUrl();
    if (tab === "report") loadReport();
    if (tab === "activities") loadActivities(true);
    if (tab === "issued") loadIssued();
  }

  // ---- The key -------------------------------------------------------------------------------------
  function askForKey(message) {
    sessionStorage.removeItem(KEY_STORAGE);
    apiKey = null;
    clearInterval(lagTimer);
    $("main").hidden = true;
    $("session").hidden = true;
    $("key-panel").hidden = false;
    $("key-error").textContent = message ?? "";
    $("key-error").hidden = !message;
    $("api-key").value = "";
    $("api-key").focus();
  }

  let catalogLoaded = false;

  /**
   * Checks the key with GET /api/v1/me (401: unknown key), and its role there: a reporter's key may not read
   * figures, and gets the message without a request that would fail. Then the catalog (once) and the unit tree.
   */
  async function start(key) {
    apiKey = key;
    let me;
    try {
      me = await json("/api/v1/me");
      if (me.role !== "analyst" && me.role !== "admin") throw new ApiError(403, FORBIDDEN);
      const catalog = catalogLoaded ? null : await json("/api/v1/catalog");
      if (catalog) {
        initCatalog(catalog);
        buildControls();
        catalogLoaded = true;
      }
      readUrl();
      treeLoadedFor = "";
      await loadTree();
    } catch (error) {
      askForKey(error.message);
      return;
    }
    sessionStorage.setItem(KEY_STORAGE, key);
    $("key-panel").hidden = true;
    $("main").hidden = false;
    $("session").hidden = false;
    showState();
    writeUrl();
    // Only an admin's key may read the projections' lag; for the others it stays hidden and is never asked for.
    $("lag").hidden = true;
    if (me.role === "admin") watchLag();
    $("role").textContent = me.role === "admin" ? "Đang dùng khóa quản trị" : "Đang dùng khóa cán bộ phân tích";
    foldChoices(isPhone() && !!state.unit);
    await loadFigures();
  }

  // ---- Wiring --------------------------------------------------------------------------------------
  let changes = 0;
  async function onChange(fold = true) {
    const change = ++changes;
    readControls();
    if (dateError) {
      // Keep what was typed, so that it can be corrected.
      showError(dateError);
      setStatus("");
      return;
    }
    try {
      await loadTree();
    } catch (error) {
      if (change === changes) handle(error);
      return;
    }
    // A newer choice was made while this one's tree loaded: that one shows its own state (an older answer arriving
    // last must not put the older dates back).
    if (change !== changes) return;
    showState();
    writeUrl();
    if (fold) foldChoices(true);
    loadFigures();
  }

  // ---- On a phone the choices fold away once made, behind a line that says what they are ----------------
  function foldChoices(folded) {
    const fold = folded && isPhone();
    $("choices").classList.toggle("folded", fold);
    $("choices-toggle").setAttribute("aria-expanded", String(!fold));
    $("choices-toggle").textContent = fold ? "Đổi lựa chọn" : "Thu gọn";
    const by = byOptions().find((o) => o.value === state.by)?.label ?? state.by;
    const kinds = state.kinds.length ? `${state.kinds.length} loại hoạt động` : "mọi loại hoạt động";
    $("choices-summary-text").textContent = `${unitLabel()} · ${vnDate(state.from)}–${vnDate(state.to)} · ${kinds} · chia theo ${by.toLocaleLowerCase("vi")}`;
  }

  document.addEventListener("DOMContentLoaded", () => {
    window.ceDashboard = { state, vn, chart: null };

    $("key-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const key = $("api-key").value.trim();
      if (key) start(key);
    });
    $("logout").addEventListener("click", () => askForKey(""));
    $("choices").addEventListener("submit", (e) => { e.preventDefault(); onChange(); });
    $("unit-search").addEventListener("input", () => { renderUnits(); searchFormer(); });
    $("unit-search").addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        const first = [...$("unit").options].find((o) => !o.disabled && o.value !== "");
        if (first) { $("unit").value = first.value; onChange(); }
      }
      if (e.key === "ArrowDown") { e.preventDefault(); $("unit").focus(); }
    });
    $("unit").addEventListener("change", () => onChange());
    $("tree-date").addEventListener("change", () => onChange());
    $("lineage").addEventListener("change", () => onChange(false));
    $("preset").addEventListener("change", () => {
      state.preset = $("preset").value;
      onChange();
    });
    for (const id of ["quarter", "quarter-year", "by"]) $(id).addEventListener("change", onChange);
    $("chart-metric").addEventListener("change", () => {
      state.chart = $("chart-metric").value === defaultChartMetric() ? "" : $("chart-metric").value;
      onChange();
    });
    // Typed dates apply when the field is left or Enter is pressed (the form's submit); typing makes the period "custom".
    for (const id of ["from", "to"]) {
      $(id).addEventListener("input", () => { $("preset").value = "custom"; $("quarter-choice").hidden = true; });
      $(id).addEventListener("change", () => { $("preset").value = "custom"; onChange(); });
    }
    // Several kinds are often ticked one after the other: the choices stay open meanwhile.
    $("kind-list").addEventListener("change", () => onChange(false));
    $("choices-toggle").addEventListener("click", () => foldChoices(!$("choices").classList.contains("folded")));
    matchMedia(PHONE).addEventListener("change", () => {
      foldChoices(false);
      if (current) renderChart(current.answer, current.by, current.series);
    });
    $("csv").addEventListener("click", downloadCsv);
    $("figures-print").addEventListener("click", () => print());
    $("report-print").addEventListener("click", () => print());
    $("report-copy").addEventListener("click", copyReport);
    $("activities-more").addEventListener("click", () => loadActivities(false));
    $("issue-form").addEventListener("submit", (e) => { e.preventDefault(); issueReport(); });
    const tabs = TABS;
    for (const name of tabs) {
      $(`tab-${name}`).addEventListener("click", () => selectTab(name));
      $(`tab-${name}`).addEventListener("keydown", (e) => {
        const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
        if (!step) return;
        const next = tabs[(tabs.indexOf(name) + step + tabs.length) % tabs.length];
        selectTab(next);
        $(`tab-${next}`).focus();
      });
    }

    if (apiKey) start(apiKey); else askForKey("");
  });
})();
