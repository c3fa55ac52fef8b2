/**
 * The dashboard at `/`: one self-contained page (inline style and script, no CDN, no fonts, no
 * network beyond this server) that polls /dashboard/status and streams replies from
 * /v1/chat/completions.
 */
import { DASHBOARD_SCRIPT } from "./script.js";

const STYLE = `
:root { --bg: #0f1419; --panel: #182028; --line: #2a3540; --text: #e6edf3; --dim: #8b98a5; --accent: #4fb3ff; --ok: #3fb950; --warn: #d29922; --bad: #f85149; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; align-items: baseline; gap: 14px; padding: 14px 22px; border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0; letter-spacing: .5px; }
header .model { font-weight: 600; }
header .runner { color: var(--dim); font-size: 12px; flex: 1; }
.badge { padding: 2px 9px; border-radius: 10px; font-size: 12px; font-weight: 600; background: var(--line); }
.badge.ready { background: #193a22; color: var(--ok); }
.badge.loading { background: #3a3019; color: var(--warn); }
.badge.failed, .badge.closing, .badge.offline { background: #3d1d1d; color: var(--bad); }
main { padding: 18px 22px; display: grid; gap: 18px; }
.cards { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 14px; }
.card, section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card h2, section h2 { margin: 0 0 6px; font-size: 12px; font-weight: 600; color: var(--dim); text-transform: uppercase; letter-spacing: .6px; }
.big { font-size: 28px; font-weight: 650; font-variant-numeric: tabular-nums; }
.sub { color: var(--dim); font-size: 12px; font-variant-numeric: tabular-nums; }
canvas.spark { width: 100%; height: 38px; display: block; margin-top: 6px; }
.bar { height: 8px; background: var(--line); border-radius: 4px; overflow: hidden; margin-top: 8px; }
.bar > div { height: 100%; background: var(--accent); width: 0; transition: width .4s; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--dim); font-weight: 500; font-size: 12px; }
td.num, th.num { text-align: right; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.layermap { display: flex; gap: 2px; margin: 4px 0 12px; }
.layermap div { flex: 1; height: 22px; border-radius: 2px; background: var(--line); font-size: 10px; color: #0b0f14; text-align: center; line-height: 22px; overflow: hidden; }
.chat { display: grid; gap: 10px; }
#log { min-height: 120px; max-height: 360px; overflow-y: auto; display: grid; gap: 8px; }
.msg { padding: 8px 11px; border-radius: 7px; white-space: pre-wrap; word-break: break-word; max-width: 90%; }
.msg.user { background: #1d3a56; justify-self: end; }
.msg.assistant { background: #222c36; }
.msg.error { background: #3d1d1d; color: #ffb4ae; }
.msg .meta { display: block; color: var(--dim); font-size: 11px; margin-top: 4px; }
form { display: flex; gap: 8px; align-items: flex-end; }
textarea { flex: 1; min-height: 44px; resize: vertical; background: var(--bg); color: var(--text); border: 1px solid var(--line); border-radius: 6px; padding: 8px; font: inherit; }
input { background: var(--bg); color: var(--text); border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; font: inherit; width: 80px; }
label { color: var(--dim); font-size: 12px; display: grid; gap: 2px; }
button { background: var(--accent); color: #06121d; border: 0; border-radius: 6px; padding: 9px 16px; font-weight: 600; cursor: pointer; }
button.secondary { background: var(--line); color: var(--text); }
button:disabled { opacity: .45; cursor: default; }
#keyrow { display: none; gap: 8px; align-items: center; }
#keyrow input { width: 280px; }
.empty { color: var(--dim); }
`;

const BODY = `
<header>
  <h1>layerstream</h1>
  <span class="model" id="model-name">—</span>
  <span class="badge" id="state">connecting</span>
  <span class="runner" id="runner"></span>
</header>
<main>
  <div id="keyrow" class="card"><span>This server needs an API key:</span><input id="apikey" type="password" placeholder="API key" /><button id="keysave" type="button">Use key</button></div>
  <div class="cards">
    <div class="card"><h2>Tokens / s</h2><div class="big" id="tps">0</div><div class="sub" id="tps-sub">live, all sequences</div><canvas class="spark" id="spark" width="300" height="38"></canvas></div>
    <div class="card"><h2>Queue</h2><div class="big" id="queue">0 / 0</div><div class="sub" id="queue-sub">generating / waiting</div><div class="bar"><div id="queue-bar"></div></div></div>
    <div class="card"><h2>Layer cache hit rate</h2><div class="big" id="hitrate">—</div><div class="sub" id="cache-sub"></div><div class="bar"><div id="hit-bar"></div></div></div>
    <div class="card"><h2>Memory (this process)</h2><div class="big" id="memory">—</div><div class="sub" id="memory-sub"></div><div class="bar"><div id="memory-bar"></div></div></div>
  </div>
  <section>
    <h2>Nodes and their layers</h2>
    <div class="layermap" id="layermap"></div>
    <table><thead><tr><th>node</th><th>address</th><th>layers</th><th>role</th><th class="num">batches</th><th class="num">mean hop</th><th class="num">cache hits</th><th class="num">read</th><th class="num">memory</th></tr></thead><tbody id="nodes"><tr><td colspan="9" class="empty">waiting for the model…</td></tr></tbody></table>
  </section>
  <section class="chat">
    <h2>Prompt</h2>
    <div id="log"><div class="empty" id="log-empty">Replies stream here, token by token.</div></div>
    <form id="prompt-form">
      <textarea id="prompt" placeholder="Say something… (Enter sends, Shift+Enter for a new line)"></textarea>
      <label>max tokens<input id="max-tokens" type="number" min="1" value="128" /></label>
      <label>temperature<input id="temperature" type="number" min="0" max="2" step="0.1" value="0.8" /></label>
      <button id="send" type="submit">Send</button>
      <button id="stop" type="button" class="secondary" disabled>Stop</button>
      <button id="clear" type="button" class="secondary">Clear</button>
    </form>
  </section>
</main>
`;

/** The page, whole. */
export function dashboardPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>layerstream</title>
<style>${STYLE}</style>
</head>
<body>${BODY}
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;
}
