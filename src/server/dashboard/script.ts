/**
 * The dashboard's browser script (plain ES2020, inlined into the page): polls the status every
 * second, draws the cards, the layer map and the node table, and streams chat replies from
 * /v1/chat/completions (server-sent events read from fetch). Text from the model is only ever
 * set as textContent.
 */
export const DASHBOARD_SCRIPT = String.raw`
"use strict";
const $ = (id) => document.getElementById(id);
const COLORS = ["#4fb3ff", "#3fb950", "#d29922", "#bc8cff", "#ff7b72", "#39c5cf", "#e3b341", "#f778ba"];
const history = [];
const messages = [];
let apiKey = sessionStorage.getItem("layerstream-key") || "";
let running = null;

function headers(json) {
  const h = json ? { "content-type": "application/json" } : {};
  if (apiKey) h.authorization = "Bearer " + apiKey;
  return h;
}

function bytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n.toFixed(0) : n.toFixed(n < 10 ? 2 : 1)) + " " + units[i];
}

function pct(x) { return x === null || x === undefined ? "—" : (100 * x).toFixed(1) + " %"; }

function cell(row, text, cls) {
  const td = document.createElement("td");
  if (cls) td.className = cls;
  td.textContent = text;
  row.appendChild(td);
  return td;
}

/** "0-3, 8, 10-11" → [0, 1, 2, 3, 8, 10, 11] */
function parseLayers(text) {
  const out = [];
  for (const part of (text || "").split(",")) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!m) continue;
    const from = Number(m[1]), to = m[2] === undefined ? from : Number(m[2]);
    for (let i = from; i <= to; i++) out.push(i);
  }
  return out;
}

function drawSpark() {
  const canvas = $("spark"), g = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  g.clearRect(0, 0, w, h);
  if (history.length < 2) return;
  const max = Math.max(1, ...history);
  g.strokeStyle = "#4fb3ff"; g.lineWidth = 2; g.beginPath();
  history.forEach((v, i) => {
    const x = (i / 59) * w, y = h - 2 - (v / max) * (h - 4);
    if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
  });
  g.stroke();
}

function showCards(s) {
  history.push(s.tokensPerSecond || 0);
  if (history.length > 60) history.shift();
  $("tps").textContent = (s.tokensPerSecond || 0).toFixed(1);
  const totals = s.totals;
  $("tps-sub").textContent = totals ? totals.generatedTokens + " tokens in " + totals.completions + (totals.completions === 1 ? " completion" : " completions") : "live, all sequences";
  drawSpark();
  const load = s.load || { active: 0, waiting: 0 };
  $("queue").textContent = load.active + " / " + load.waiting;
  $("queue-sub").textContent = "generating / waiting · parallel " + s.settings.parallel + (s.settings.maxQueue === null ? "" : " · max queue " + s.settings.maxQueue);
  $("queue-bar").style.width = Math.min(100, (100 * load.active) / Math.max(1, s.settings.parallel)) + "%";
  const cache = s.cache;
  $("hitrate").textContent = cache ? pct(cache.hitRate) : "—";
  $("cache-sub").textContent = cache ? cache.hits + " hits, " + cache.misses + " misses, " + bytes(cache.bytesRead) + " read" : "";
  $("hit-bar").style.width = cache && cache.hitRate !== null ? 100 * cache.hitRate + "%" : "0";
  const root = (s.nodes || [])[0];
  $("memory").textContent = root ? bytes(root.rssBytes) : "—";
  $("memory-sub").textContent = root ? "budget " + bytes(root.budgetBytes) + " · peak " + bytes(root.peakRssBytes) : "";
  $("memory-bar").style.width = root && root.budgetBytes ? Math.min(100, (100 * root.rssBytes) / root.budgetBytes) + "%" : "0";
}

function showNodes(s) {
  const map = $("layermap"), body = $("nodes");
  map.textContent = ""; body.textContent = "";
  const nodes = s.nodes || [];
  const owner = new Array(s.model ? s.model.layers : 0).fill(-1);
  nodes.forEach((n, k) => parseLayers(n.layers).forEach((il) => { if (il < owner.length) owner[il] = k; }));
  owner.forEach((k, il) => {
    const d = document.createElement("div");
    d.title = "layer " + il + (k >= 0 ? " · " + nodes[k].name : "");
    d.textContent = String(il);
    if (k >= 0) d.style.background = COLORS[k % COLORS.length];
    map.appendChild(d);
  });
  nodes.forEach((n, k) => {
    const row = document.createElement("tr");
    const name = cell(row, n.name);
    const sw = document.createElement("span");
    sw.className = "swatch"; sw.style.background = COLORS[k % COLORS.length];
    name.prepend(sw);
    cell(row, n.address || "—");
    cell(row, n.layers || "none");
    cell(row, n.role);
    cell(row, n.batches === undefined ? "—" : String(n.batches), "num");
    cell(row, n.meanHopMs === undefined ? "—" : n.meanHopMs.toFixed(2) + " ms", "num");
    const total = n.cacheHits + n.cacheMisses;
    cell(row, total ? pct(n.cacheHits / total) : "—", "num");
    cell(row, bytes(n.bytesRead), "num");
    cell(row, n.rssBytes === undefined ? "not reported" : bytes(n.rssBytes) + " of " + bytes(n.budgetBytes), "num");
    row.dataset.node = n.name;
    body.appendChild(row);
  });
}

async function poll() {
  try {
    const r = await fetch("/dashboard/status", { headers: headers(false) });
    if (r.status === 401) { $("keyrow").style.display = "flex"; setState("locked"); return; }
    const s = await r.json();
    setState(s.state);
    if (s.model) {
      $("model-name").textContent = s.model.name + " · " + s.model.architecture + " · " + s.model.quantization + " · " + s.model.layers + " layers";
      $("runner").textContent = s.model.runner + (s.kernels ? " · kernels " + s.kernels : "");
    } else if (s.loadProgress) {
      $("runner").textContent = "loading: " + s.loadProgress.phase + " " + s.loadProgress.done + " / " + s.loadProgress.total + " " + s.loadProgress.unit;
    }
    showCards(s);
    if (s.model) showNodes(s);
  } catch (e) {
    setState("offline");
  }
}

function setState(state) {
  const b = $("state");
  b.textContent = state;
  b.className = "badge " + state;
}

function addMessage(role, text) {
  const empty = $("log-empty");
  if (empty) empty.remove();
  const div = document.createElement("div");
  div.className = "msg " + role;
  div.textContent = text;
  $("log").appendChild(div);
  $("log").scrollTop = $("log").scrollHeight;
  return div;
}

/** Reads server-sent events from a fetch response, calling onEvent with each JSON payload. */
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let at;
    while ((at = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      for (const line of block.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") return;
        onEvent(JSON.parse(data));
      }
    }
  }
}

async function send(text) {
  messages.push({ role: "user", content: text });
  addMessage("user", text);
  const out = addMessage("assistant", "");
  const controller = new AbortController();
  running = controller;
  $("send").disabled = true; $("stop").disabled = false;
  const started = performance.now();
  let reply = "", usage = null;
  try {
    const body = { messages, stream: true, stream_options: { include_usage: true }, max_tokens: Number($("max-tokens").value) || 128, temperature: Number($("temperature").value) };
    const r = await fetch("/v1/chat/completions", { method: "POST", headers: headers(true), body: JSON.stringify(body), signal: controller.signal });
    if (!r.ok) {
      const e = await r.json().catch(() => null);
      if (r.status === 401) $("keyrow").style.display = "flex";
      throw new Error(e && e.error ? e.error.message : "HTTP " + r.status);
    }
    await readEvents(r, (ev) => {
      if (ev.error) throw new Error(ev.error.message);
      if (ev.usage) usage = ev.usage;
      const delta = ev.choices && ev.choices[0] && ev.choices[0].delta;
      if (delta && delta.content) { reply += delta.content; out.textContent = reply; $("log").scrollTop = $("log").scrollHeight; }
    });
    messages.push({ role: "assistant", content: reply });
    const seconds = (performance.now() - started) / 1000;
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = usage ? usage.completion_tokens + " tokens · " + (usage.completion_tokens / seconds).toFixed(1) + " tok/s" : "";
    out.appendChild(meta);
  } catch (e) {
    messages.pop();
    if (e.name === "AbortError") { out.textContent = reply + " [stopped]"; messages.push({ role: "user", content: text }, { role: "assistant", content: reply }); }
    else { out.className = "msg error"; out.textContent = String(e.message || e); }
  } finally {
    running = null;
    $("send").disabled = false; $("stop").disabled = true;
  }
}

$("prompt-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("prompt").value.trim();
  if (!text || running) return;
  $("prompt").value = "";
  send(text);
});
$("prompt").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("prompt-form").requestSubmit(); }
});
$("stop").addEventListener("click", () => running && running.abort());
$("clear").addEventListener("click", () => { messages.length = 0; $("log").textContent = ""; });
$("keysave").addEventListener("click", () => {
  apiKey = $("apikey").value.trim();
  sessionStorage.setItem("layerstream-key", apiKey);
  $("keyrow").style.display = "none";
  poll();
});
poll();
setInterval(poll, 1000);
`;
