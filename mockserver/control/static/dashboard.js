// Dashboard for the fine-tuning emulator. Plain browser JavaScript, no dependencies.
// Every request goes to the public /v1 API with the user's key; API text is only ever set as textContent.
"use strict";
(() => {
  const KEY_STORE = "mockserver.dashboard.apiKey";
  const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
  const BATCH_TERMINAL = new Set(["completed", "failed", "expired", "cancelled"]);
  const POLL_MS = 1000, LIST_MS = 3000, RETRY_MS = 5000;
  const $ = (id) => document.getElementById(id);
  const state = { key: "", gen: 0, jobs: [], files: [], batches: [], models: [], selected: null, job: null,
                  seen: new Set(), metrics: [], lastList: 0, error: null };
  let timer = null, busy = false, again = false;

  // ---- helpers ---------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }
  async function api(path, body) {
    const headers = { Authorization: `Bearer ${state.key}` };
    const init = { method: body === undefined ? "GET" : "POST", headers, cache: "no-store" };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    const r = await fetch(`/v1${path}`, init);
    let data = null;
    try { data = await r.json(); } catch (_) { /* not JSON */ }
    if (!r.ok) throw new ApiError(r.status, (data && data.error && data.error.message) || `HTTP ${r.status}`);
    return data;
  }
  function el(tag, attrs, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined && v !== false) n.setAttribute(k, v);
    for (const c of kids) if (c !== null && c !== undefined) n.append(c instanceof Node ? c : String(c));
    return n;
  }
  // the list tables (jobs, files, batches) share one shape: built here, into the page's #lists placeholder
  const LISTS = [
    { id: "jobs", title: "Fine-tuning jobs", caption: "Fine-tuning jobs, newest first; select a row to see its details",
      cols: ["Job", "Base model", "Status", "Created", "Finished", "Fine-tuned model"], empty: "No jobs." },
    { id: "files", title: "Files", caption: "Uploaded files, newest first",
      cols: ["File", "Filename", "Purpose", "#Bytes", "Created"], empty: "No files." },   // "#": a numeric column
    { id: "batches", title: "Batches", caption: "Batch API batches, newest first",
      cols: ["Batch", "Endpoint", "Status", "Progress", "Created"], empty: "No batches." },
  ];
  const listCard = ({ id, title, caption, cols, empty }) => el("section", { class: "card", "aria-labelledby": `${id}-title` },
    el("h2", { id: `${id}-title` }, title),
    el("table", { id, class: "table" }, el("caption", { class: "sr-only" }, caption),
      el("thead", null, el("tr", null, ...cols.map((c) =>
        el("th", { scope: "col", class: c.startsWith("#") ? "num" : null }, c.replace(/^#/, ""))))),
      el("tbody")),
    el("p", { class: "empty", id: `${id}-empty` }, empty));
  $("lists").replaceWith(...LISTS.map(listCard));
  function sv(tag, attrs, text) {
    const n = document.createElementNS($("chart").namespaceURI, tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    return n;
  }
  const pad = (n) => String(n).padStart(2, "0");
  function fmtTime(s) {
    if (!s) return "—";
    const d = new Date(s * 1000);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  const timeCell = (s) => el("td", { class: "time" }, ...fmtTime(s).split(" ").flatMap((p, i) => [i ? " " : null, el("span", null, p)]));
  const isNum = (v) => typeof v === "number" && Number.isFinite(v);
  const badge = (status) => el("span", { class: `badge s-${String(status).replace(/[^a-z_]/g, "")}` }, status);
  function setMessage(text) { const m = $("message"); m.textContent = text || ""; m.hidden = !text; }
  function setLive(text, cls) { const l = $("live"); l.textContent = text; l.className = `live ${cls}`; }

  // ---- lists -----------------------------------------------------------------------------------
  function renderJobs() {
    const focused = document.activeElement && document.activeElement.dataset && document.activeElement.dataset.id;
    const rows = state.jobs.map((j) => {
      const tr = el("tr", { "data-id": j.id, tabindex: "0", class: j.id === state.selected ? "selected" : "",
                            "aria-current": j.id === state.selected ? "true" : null, title: "Show this job" },
        el("td", { class: "mono" }, j.id), el("td", null, j.model), el("td", null, badge(j.status)),
        timeCell(j.created_at), timeCell(j.finished_at),
        el("td", { class: "mono" }, j.fine_tuned_model || "—"));
      tr.addEventListener("click", () => selectJob(j.id));
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); selectJob(j.id); } });
      return tr;
    });
    $("jobs").tBodies[0].replaceChildren(...rows);
    $("jobs-empty").hidden = rows.length > 0;
    const refocus = focused && rows.find((r) => r.dataset.id === focused);
    if (refocus) refocus.focus();
  }
  function renderFiles() {
    const rows = state.files.map((f) => el("tr", null, el("td", { class: "mono" }, f.id), el("td", null, f.filename),
      el("td", null, f.purpose), el("td", { class: "num" }, isNum(f.bytes) ? f.bytes.toLocaleString("en-US") : "—"),
      timeCell(f.created_at)));
    $("files").tBodies[0].replaceChildren(...rows);
    $("files-empty").hidden = rows.length > 0;
  }
  function renderBatches() {
    const rows = state.batches.map((b) => {
      const c = b.request_counts || { total: 0, completed: 0, failed: 0 };
      const done = c.completed + c.failed;
      const bar = el("progress", { value: String(done), max: String(Math.max(c.total, 1)),
                                   "aria-label": `${done} of ${c.total} requests done` });
      const text = c.total ? `${done}/${c.total}` + (c.failed ? ` (${c.failed} failed)` : "") : "—";
      return el("tr", { "data-id": b.id }, el("td", { class: "mono" }, b.id), el("td", { class: "mono" }, b.endpoint),
        el("td", null, badge(b.status)), el("td", { class: "progress" }, bar, " ", text), timeCell(b.created_at));
    });
    $("batches").tBodies[0].replaceChildren(...rows);
    $("batches-empty").hidden = rows.length > 0;
  }
  function renderModels() {
    const select = $("chat-model"), keep = select.value;
    const ids = state.models.map((m) => m.id);
    $("models").replaceChildren(...state.models.map((m) => el("li", null,
      el("span", { class: "mono" }, m.id), " ", el("span", { class: "muted" }, fmtTime(m.created)))));
    select.replaceChildren(...ids.map((id) => el("option", { value: id }, id)));
    if (ids.includes(keep)) select.value = keep;
    $("models-empty").hidden = ids.length > 0;
    $("chat-send").disabled = ids.length === 0;
  }
  async function refreshLists() {
    const gen = state.gen;
    const [jobs, files, models, batches] = await Promise.all([api("/fine_tuning/jobs?limit=100"),
      api("/files?limit=100"), api("/models"), api("/batches?limit=100")]);
    if (gen !== state.gen) return;
    state.lastList = Date.now();
    state.jobs = jobs.data;
    state.files = files.data;
    state.batches = batches.data;
    state.models = models.data.filter((m) => String(m.id).startsWith("ft:")).sort((a, b) => b.created - a.created);
    renderJobs(); renderFiles(); renderBatches(); renderModels();
  }

  // ---- selected job ----------------------------------------------------------------------------
  function selectJob(id) {
    if (id === state.selected) return;
    state.selected = id; state.job = null; state.seen = new Set(); state.metrics = [];
    $("events").replaceChildren();
    $("event-count").textContent = "";
    if (location.hash !== `#${id}`) history.replaceState(null, "", `#${id}`);
    renderJobs(); renderDetail(); renderChart();
    tick();
  }
  // Events come newest first; read pages until an event we already have (or the oldest) is reached.
  async function newEvents(id) {
    const fresh = [];
    let after = null;
    for (;;) {
      const q = new URLSearchParams({ limit: "100" });
      if (after) q.set("after", after);
      const page = await api(`/fine_tuning/jobs/${encodeURIComponent(id)}/events?${q}`);
      for (const ev of page.data) {
        if (state.seen.has(ev.id)) return fresh;
        fresh.push(ev);
      }
      if (!page.has_more || page.data.length === 0) return fresh;
      after = page.data[page.data.length - 1].id;
    }
  }
  function addEvents(fresh) {
    const list = $("events");
    for (const ev of fresh.slice().reverse()) {            // oldest first, each one goes on top
      if (state.seen.has(ev.id)) continue;
      state.seen.add(ev.id);
      if (ev.type === "metrics" && ev.data && isNum(ev.data.step)) state.metrics.push(ev.data);
      const level = String(ev.level || "info");
      list.prepend(el("li", { class: `ev lv-${level.replace(/[^a-z]/g, "")}`, "data-id": ev.id },
        el("time", null, fmtTime(ev.created_at)), el("span", { class: "lvl" }, level),
        el("span", { class: "msg" }, ev.message)));
    }
    state.metrics.sort((a, b) => a.step - b.step);
    $("event-count").textContent = `(${state.seen.size})`;
  }
  async function pollJob() {
    const id = state.selected, gen = state.gen, before = state.job && state.job.status;
    const job = await api(`/fine_tuning/jobs/${encodeURIComponent(id)}`);
    const fresh = await newEvents(id);                      // after the job: a terminal job's events are all in
    if (gen !== state.gen || id !== state.selected) return;
    state.job = job;
    if (fresh.length) { addEvents(fresh); renderChart(); }
    renderDetail();
    const i = state.jobs.findIndex((j) => j.id === id);
    if (i >= 0 && state.jobs[i].status !== job.status) { state.jobs[i] = job; renderJobs(); }
    if (before && !TERMINAL.has(before) && TERMINAL.has(job.status)) await refreshLists();
  }
  function renderDetail() {
    const job = state.job;
    $("detail-empty").hidden = Boolean(state.selected);
    $("detail-body").hidden = !state.selected;
    $("detail-title").textContent = state.selected ? `Job ${state.selected}` : "Job";
    if (!job) { $("job-fields").replaceChildren(el("dd", null, "loading…")); $("job-error").hidden = true; return; }
    const hp = job.hyperparameters || (job.method && job.method[job.method.type] && job.method[job.method.type].hyperparameters);
    const fields = [["Status", badge(job.status)], ["Base model", job.model], ["Fine-tuned model", job.fine_tuned_model || "—"],
      ["Method", (job.method && job.method.type) || "supervised"],
      ["Hyperparameters", hp ? Object.entries(hp).map(([k, v]) => `${k}=${v}`).join(", ") : "—"],
      ["Trained tokens", isNum(job.trained_tokens) ? job.trained_tokens.toLocaleString("en-US") : "—"],
      ["Training file", job.training_file], ["Validation file", job.validation_file || "—"],
      ["Created", fmtTime(job.created_at)], ["Finished", fmtTime(job.finished_at)]];
    $("job-fields").replaceChildren(...fields.flatMap(([k, v]) => [el("dt", null, k), el("dd", { "data-field": k }, v)]));
    const err = job.status === "failed" && job.error && job.error.message;
    $("job-error").hidden = !err;
    $("job-error").textContent = err ? `${job.error.code || "error"}: ${job.error.message}` : "";
  }

  // ---- chart: one vertex per metrics event; loss on the left axis, token accuracy (0–1) on the right ----
  function niceCeil(v) {
    const p = 10 ** Math.floor(Math.log10(v));
    return [1, 2, 5, 10].map((m) => m * p).find((x) => x >= v - 1e-12);
  }
  function renderChart() {
    const svg = $("chart"), pts = state.metrics, W = 720, H = 280, L = 56, R = 56, T = 14, B = 42;
    const iw = W - L - R, ih = H - T - B;
    svg.replaceChildren(svg.querySelector("title"));
    svg.setAttribute("data-points", String(pts.length));
    const total = Math.max(1, ...pts.map((p) => (isNum(p.total_steps) ? p.total_steps : p.step)));
    const rawMax = Math.max(0.1, ...pts.flatMap((p) => [p.train_loss, p.valid_loss]).filter(isNum));
    const lossStep = niceCeil(rawMax / 4), nTicks = Math.ceil(rawMax / lossStep - 1e-9), lossMax = lossStep * nTicks;
    const x = (s) => L + (s / total) * iw, yL = (v) => T + ih - (v / lossMax) * ih, yR = (v) => T + ih - v * ih;
    const grid = sv("g", { class: "axes" });
    for (let i = 0; i <= nTicks; i++) {
      const y = yL(i * lossStep);
      grid.append(sv("line", { x1: L, x2: L + iw, y1: y, y2: y, class: "grid" }),
        sv("line", { x1: L - 5, x2: L, y1: y, y2: y, class: "tick" }),
        sv("text", { x: L - 8, y: y + 4, "text-anchor": "end" }, +(i * lossStep).toFixed(4)));
    }
    for (let i = 0; i <= 4; i++) {
      const y = yR(i / 4);
      grid.append(sv("line", { x1: L + iw, x2: L + iw + 5, y1: y, y2: y, class: "tick" }),
        sv("text", { x: L + iw + 8, y: y + 4 }, (i / 4).toFixed(2)));
    }
    const stride = Math.max(1, niceCeil(total / 6));
    for (let s = 0; s <= total; s += stride) {
      grid.append(sv("line", { x1: x(s), x2: x(s), y1: T + ih, y2: T + ih + 5, class: "tick" }),
        sv("text", { x: x(s), y: T + ih + 18, "text-anchor": "middle" }, s));
    }
    grid.append(sv("line", { x1: L, x2: L + iw, y1: T + ih, y2: T + ih, class: "axis" }),
      sv("line", { x1: L, x2: L, y1: T, y2: T + ih, class: "axis" }),
      sv("line", { x1: L + iw, x2: L + iw, y1: T, y2: T + ih, class: "axis" }),
      sv("text", { x: L + iw / 2, y: H - 4, "text-anchor": "middle", class: "label" }, "step"),
      sv("text", { x: 14, y: T + ih / 2, "text-anchor": "middle", class: "label", transform: `rotate(-90 14 ${T + ih / 2})` }, "loss"),
      sv("text", { x: W - 12, y: T + ih / 2, "text-anchor": "middle", class: "label", transform: `rotate(90 ${W - 12} ${T + ih / 2})` }, "token accuracy"));
    svg.append(grid);
    if (!pts.length) {
      svg.append(sv("text", { x: L + iw / 2, y: T + ih / 2, "text-anchor": "middle", class: "label" }, "waiting for metrics…"));
    }
    const series = [["train_loss", "train-loss", yL, "training loss"], ["train_mean_token_accuracy", "train-acc", yR, "training accuracy"],
      ["valid_loss", "valid-loss", yL, "validation loss"], ["valid_mean_token_accuracy", "valid-acc", yR, "validation accuracy"]];
    for (const [k, cls, y, name] of series) {
      const ps = pts.filter((p) => isNum(p[k]));
      document.querySelector(`.legend .${cls}`).hidden = ps.length === 0 && cls.startsWith("valid");
      if (!ps.length) continue;
      const d = ps.map((p, i) => `${i ? "L" : "M"}${x(p.step).toFixed(1)},${y(p[k]).toFixed(1)}`).join("");
      const g = sv("g", { class: `series ${cls}` });
      g.append(sv("path", { d, class: `line ${cls}` }));
      for (const p of ps) {
        const c = sv("circle", { cx: x(p.step).toFixed(1), cy: y(p[k]).toFixed(1), r: 2.2, class: `pt ${cls}` });
        c.append(sv("title", null, `step ${p.step}: ${name} ${p[k].toFixed(4)}`));
        g.append(c);
      }
      svg.append(g);
    }
  }

  // ---- polling: 1 s while something is running, lists every 3 s; nothing when idle or hidden ------
  const activeJob = () => state.selected && (!state.job || !TERMINAL.has(state.job.status));
  const active = () => activeJob() || state.jobs.some((j) => !TERMINAL.has(j.status)) ||
    state.batches.some((b) => !BATCH_TERMINAL.has(b.status));
  async function tick(forceLists) {
    clearTimeout(timer); timer = null;
    if (!state.key) return;
    if (busy) { again = true; return; }
    busy = true;
    let delay = POLL_MS;
    try {
      if (forceLists === true || Date.now() - state.lastList >= LIST_MS) await refreshLists();
      if (activeJob()) await pollJob();
      setMessage(null);
    } catch (e) {
      setMessage(e instanceof ApiError ? `API error ${e.status}: ${e.message}` : `Cannot reach the emulator: ${e.message}`);
      if (e instanceof ApiError && e.status === 401) { clearData(); busy = false; setLive("key rejected", "bad"); return; }
      if (e instanceof ApiError && e.status === 404 && state.selected) {   // a job this key cannot see
        state.selected = null; state.job = null; history.replaceState(null, "", location.pathname); renderDetail();
      }
      delay = RETRY_MS;
    } finally { busy = false; }
    if (again) { again = false; tick(); return; }
    const on = active() && !document.hidden;
    setLive(on ? "live" : "idle", on ? "on" : "off");
    if (on) timer = setTimeout(tick, delay);
  }
  function clearData() {
    state.gen += 1; state.jobs = []; state.files = []; state.batches = []; state.models = []; state.selected = null;
    state.job = null;
    state.seen = new Set(); state.metrics = []; state.lastList = 0;
    $("events").replaceChildren(); $("chat-log").replaceChildren();
    renderJobs(); renderFiles(); renderBatches(); renderModels(); renderDetail(); renderChart();
  }

  // ---- chat ------------------------------------------------------------------------------------
  async function sendChat(e) {
    e.preventDefault();
    const model = $("chat-model").value, text = $("chat-input").value.trim(), system = $("chat-system").value.trim();
    if (!model || !text) return;
    const messages = (system ? [{ role: "system", content: system }] : []).concat([{ role: "user", content: text }]);
    const reply = el("li", { class: "reply pending" }, el("span", { class: "who" }, "assistant"), el("span", { class: "text" }, "…"));
    $("chat-log").append(el("li", { class: "ask" }, el("span", { class: "who" }, `you → ${model}`), el("span", { class: "text" }, text)), reply);
    $("chat-send").disabled = true;
    try {
      const out = await api("/chat/completions", { model, messages });
      const msg = out.choices && out.choices[0] && out.choices[0].message;
      reply.lastChild.textContent = (msg && (msg.content ?? JSON.stringify(msg.tool_calls))) || "(empty reply)";
      $("chat-input").value = "";
    } catch (err) {
      reply.classList.add("failed");
      reply.lastChild.textContent = err instanceof ApiError ? `error ${err.status}: ${err.message}` : String(err.message);
    } finally {
      reply.classList.remove("pending");
      $("chat-send").disabled = state.models.length === 0;
    }
  }

  // ---- start -----------------------------------------------------------------------------------
  function useKey(key) {
    state.key = key;
    clearData();
    if (!key) { setLive("no key", "off"); setMessage("Enter an API key to see that organization's files, jobs and models."); return; }
    const want = location.hash.slice(1);
    if (want) { state.selected = want; renderDetail(); renderChart(); }
    tick(true);
  }
  document.addEventListener("DOMContentLoaded", () => {
    $("key-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const key = $("api-key").value.trim();
      try { localStorage.setItem(KEY_STORE, key); } catch (_) { /* storage disabled */ }
      useKey(key);
    });
    $("refresh").addEventListener("click", () => tick(true));
    $("chat-form").addEventListener("submit", sendChat);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) tick(true); });
    window.addEventListener("focus", () => tick(true));
    let saved = "";
    try { saved = localStorage.getItem(KEY_STORE) || ""; } catch (_) { /* storage disabled */ }
    $("api-key").value = saved;
    renderChart();
    useKey(saved);
  });
})();
