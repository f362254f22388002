"""The centre's web page (`GET /`): every report it received, live, in English and Korean.

One self-contained HTML page (no external resources). It polls `/reports` about twice a
second and lists the reports newest first: time, account, event code with its name,
zone, text, and the answer the centre sent (ACK, NAK, DUH or none, with the reason).
Elements carry stable `data-testid` attributes for tests: `report-{id}` (a row, with
`data-reply`) and `report-{id}-{field}` (`time`, `account`, `code`, `description`,
`zone`, `text`, `reply`, `sequence`, `transport`); `centre-{field}` (`account`, `port`,
`transports`, `encryption`, `state`); `switch-refuse`, `switch-mute`, `switch-up`,
`clear`; `connection`.
"""

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Control-centre emulator · 관제센터 에뮬레이터</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
:root {
  --red: #d6293e; --blue: #0a5ea8; --green: #1f8a4c; --amber: #c77700;
  --ink: #1c2430; --muted: #5d6878; --line: #dfe4ea; --bg: #f4f6f9; --card: #fff;
}
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, "Noto Sans CJK KR", "Noto Sans KR",
  "Malgun Gothic", sans-serif; color: var(--ink); background: var(--bg); }
header { background: #2b3a4e; color: #fff; padding: .8em 1.4em; display: flex;
  flex-wrap: wrap; gap: .4em 1.6em; align-items: baseline; }
header h1 { font-size: 1.25em; margin: 0; }
header .info { opacity: .92; font-size: .92em; }
header .info b { font-weight: 600; }
#connection { margin-left: auto; padding: .1em .7em; border-radius: 1em; font-size: .85em;
  background: var(--green); }
#connection[data-value="down"] { background: var(--red); }
main { padding: 1em 1.4em; max-width: 92em; }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: .6em;
  padding: .8em 1em; margin-bottom: 1em; }
.panel h2 { font-size: 1.05em; margin: 0 0 .5em; }
.row { display: flex; gap: .4em; align-items: center; flex-wrap: wrap; }
button { font: inherit; font-size: .86em; padding: .35em .7em; border-radius: .4em;
  border: 1px solid var(--line); background: #eef3f9; color: var(--ink); cursor: pointer; }
button:hover { background: #dde8f5; }
button[aria-pressed="true"] { background: var(--red); border-color: var(--red); color: #fff; }
.pill { padding: .1em .6em; border-radius: 1em; font-size: .85em; font-weight: 600;
  color: #fff; background: var(--green); }
.pill[data-value="down"], .pill[data-value="refusing"] { background: var(--red); }
.pill[data-value="silent"] { background: var(--amber); }
table { width: 100%; border-collapse: collapse; background: var(--card); font-size: .9em; }
th, td { text-align: left; padding: .4em .6em; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: .88em; background: #eef2f7;
  position: sticky; top: 0; }
td.num { font-variant-numeric: tabular-nums; }
.code { font-weight: 700; font-family: ui-monospace, monospace; }
.ko { color: var(--muted); }
.reply { font-weight: 700; }
.reply[data-value="ACK"] { color: var(--green); }
.reply[data-value="NAK"] { color: var(--red); }
.reply[data-value="DUH"] { color: var(--amber); }
.reply[data-value="none"] { color: var(--muted); }
.why { display: block; font-weight: 400; font-size: .85em; color: var(--muted); }
tr[data-reply="NAK"] { background: #fff4f5; }
tr.alarm td.code { color: var(--red); }
.empty { color: var(--muted); font-size: .9em; padding: 1em 0; }
.note { color: var(--muted); font-size: .85em; margin: .5em 0 0; }
</style>
</head>
<body>
<header>
  <h1>Control-centre emulator · 관제센터 에뮬레이터</h1>
  <span class="info">SIA DC-09 receiver · 수신기
    <b data-testid="centre-transports" id="centre-transports"></b>
    port · 포트 <b data-testid="centre-port" id="centre-port"></b>
    · account · 계정 <b data-testid="centre-account" id="centre-account"></b>
    · encryption · 암호화 <b data-testid="centre-encryption" id="centre-encryption"></b>
    · <span class="pill" data-testid="centre-state" id="centre-state"></span>
  </span>
  <span id="connection" data-testid="connection" data-value="connecting"
    >connecting… · 연결 중…</span>
</header>
<main>
  <div class="panel">
    <h2>Receiver switches · 수신기 스위치</h2>
    <div class="row">
      <button data-testid="switch-refuse" id="switch-refuse" aria-pressed="false"
        >Refuse every report (NAK) · 모든 보고 거부 (NAK)</button>
      <button data-testid="switch-mute" id="switch-mute" aria-pressed="false"
        >Stay silent (no answer) · 응답하지 않기</button>
      <button data-testid="switch-up" id="switch-up" aria-pressed="false"
        >Take the receiver down · 수신기 끄기</button>
      <button data-testid="clear" id="clear">Clear the list · 목록 지우기</button>
    </div>
    <p class="note">A report counts as delivered only when the centre answers ACK; the sender
      repeats it after a NAK, no answer or a closed port. · 관제센터가 ACK로 응답해야만
      보고가 전달된 것입니다. NAK, 무응답, 닫힌 포트이면 보내는 쪽이 다시 보냅니다.</p>
  </div>
  <table>
    <thead><tr>
      <th>Time · 시각</th><th>Account · 계정</th><th>Code · 코드</th>
      <th>Event · 이벤트</th><th>Zone · 구역</th><th>Text · 내용</th>
      <th>Answer sent · 보낸 응답</th><th>Seq. · 순번</th><th>Via · 경로</th>
    </tr></thead>
    <tbody data-testid="reports" id="reports"></tbody>
  </table>
  <p class="empty" id="reports-empty" data-testid="reports-empty"
    >No reports yet · 아직 받은 보고가 없습니다</p>
</main>
<script>
"use strict";
const POLL_MS = 700, SHOWN = 200;
const REASONS_KO = {
  "unknown account": "알 수 없는 계정",
  "cannot decrypt: wrong key?": "복호화 실패: 키가 틀림?",
  "encrypted, but this account has no key": "암호화됨, 이 계정에는 키가 없음",
  "unencrypted message for an encrypted account": "암호화 계정에 암호화되지 않은 메시지",
  "unreadable message": "읽을 수 없는 메시지",
  "time stamp outside the window": "시각이 허용 범위를 벗어남",
  "unknown event code": "알 수 없는 이벤트 코드",
  "CRC mismatch": "CRC 불일치",
  "refused (switch)": "거부 (스위치)",
  "silent (switch)": "무응답 (스위치)",
};
const STATES = {
  up: "receiving · 수신 중", down: "DOWN · 꺼짐", refusing: "refusing · 거부 중",
  silent: "silent · 무응답",
};
let state = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "testid") e.dataset.testid = v;
    else if (k === "className") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function cell(id, field, value, content, className) {
  const td = el("td", {testid: "report-" + id + "-" + field, className: className || ""});
  td.dataset.value = value === null || value === undefined ? "" : String(value);
  if (content instanceof Node) td.append(content);
  else td.textContent = content === null || content === undefined ? "—" : String(content);
  return td;
}

function when(iso) {
  const d = new Date(iso);
  return d.toLocaleDateString() + " " + d.toLocaleTimeString();
}

function row(r) {
  const tr = el("tr", {testid: "report-" + r.id});
  tr.dataset.reply = r.reply;
  if (r.code && r.code[1] === "A") tr.className = "alarm";
  const time = cell(r.id, "time", r.received,
    new Date(r.received).toLocaleTimeString(), "num");
  time.title = "received · 받은 시각 " + when(r.received)
    + (r.sent_at ? "\\nsent at · 보낸 시각 " + when(r.sent_at) : "");
  const names = r.description || r.description_ko
    ? el("span", {}, r.description || "", r.description_ko
      ? el("span", {className: "ko", text: (r.description ? " · " : "") + r.description_ko})
      : null)
    : null;
  const reply = el("span", {className: "reply", text: r.reply === "none"
    ? "none · 없음" : r.reply});
  reply.dataset.value = r.reply;
  const answer = el("span", {}, reply);
  if (r.repeats) answer.append(" ×" + (r.repeats + 1));
  if (r.reason) {
    answer.append(el("span", {className: "why",
      text: r.reason + (REASONS_KO[r.reason] ? " · " + REASONS_KO[r.reason] : "")}));
  }
  tr.append(
    time,
    cell(r.id, "account", r.account, r.account),
    cell(r.id, "code", r.code, r.code, "code"),
    cell(r.id, "description", r.description, names),
    cell(r.id, "zone", r.zone, r.zone, "num"),
    cell(r.id, "text", r.text, r.text),
    cell(r.id, "reply", r.reply, answer),
    cell(r.id, "sequence", r.sequence,
      r.sequence === null ? null : String(r.sequence).padStart(4, "0"), "num"),
    cell(r.id, "transport", r.transport,
      r.transport.toUpperCase() + (r.encrypted ? " · AES" : "")),
  );
  return tr;
}

function renderState(s) {
  state = s;
  const set = (field, text, value) => {
    const e = document.getElementById("centre-" + field);
    e.textContent = text; e.dataset.value = String(value);
  };
  set("account", s.account, s.account);
  set("port", s.port, s.port);
  set("transports", s.transports.map(t => t.toUpperCase()).join(" + "), s.transports.join(","));
  set("encryption", s.encryption || "none · 없음", s.encryption || "none");
  const mode = !s.up ? "down" : s.mute ? "silent" : s.refuse ? "refusing" : "up";
  set("state", STATES[mode], mode);
  const press = (id, on, label) => {
    const b = document.getElementById(id);
    b.setAttribute("aria-pressed", String(on));
    if (label && b.textContent !== label) b.textContent = label;
  };
  press("switch-refuse", s.refuse);
  press("switch-mute", s.mute);
  press("switch-up", !s.up, s.up ? "Take the receiver down · 수신기 끄기"
    : "Bring the receiver back up · 수신기 다시 켜기");
}

let shown = "";
async function refresh() {
  const c = document.getElementById("connection");
  try {
    const r = await fetch("/reports", {cache: "no-store"});
    const data = await r.json();
    renderState(data.state);
    const reports = data.reports.slice(-SHOWN).reverse();
    const key = JSON.stringify(reports);
    if (key !== shown) {
      document.getElementById("reports").replaceChildren(...reports.map(row));
      document.getElementById("reports-empty").hidden = reports.length > 0;
      shown = key;
    }
    c.dataset.value = "up"; c.textContent = "live · 실시간";
  } catch (err) {
    c.dataset.value = "down"; c.textContent = "emulator unreachable · 에뮬레이터 연결 안 됨";
  }
}

async function send(method, path, body) {
  try {
    await fetch(path, {method, headers: {"Content-Type": "application/json"},
      body: body ? JSON.stringify(body) : undefined});
  } catch (err) { /* the poll shows the connection */ }
  refresh();
}

document.getElementById("switch-refuse").addEventListener("click",
  () => send("POST", "/switches", {refuse: !(state && state.refuse)}));
document.getElementById("switch-mute").addEventListener("click",
  () => send("POST", "/switches", {mute: !(state && state.mute)}));
document.getElementById("switch-up").addEventListener("click",
  () => send("POST", "/switches", {up: !(state && state.up)}));
document.getElementById("clear").addEventListener("click", () => send("DELETE", "/reports"));

refresh();
setInterval(refresh, POLL_MS);
</script>
</body>
</html>
"""
