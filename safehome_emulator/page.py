"""The control surface's web page for people (`GET /control`).

One self-contained HTML page (no build step, no external resources): it polls
`/control/state` about twice a second and shows every device live, and its buttons call
the control endpoints (ring the doorbell, open and close the door, jam the lock, press the
emergency bell, say a phrase, motion, open, close or force a window, lock its latch, pull
a personal alarm's pin, take a device offline, faults). Labels are in
English and Korean. Elements carry stable `data-testid` attributes for browser tests:

- `device-{id}`: a device's card; `device-{id}-{field}` a value in it, with the raw value
  in `data-value` (fields: `online`, `battery`, `lock_state`, `door`, `auto_lock_delay`,
  `motion`, `camera_on`, `last_ring`, `emergency`, `emergency_source`, `siren`,
  `siren_mode`: when an emergency sounds the siren, set from Home Assistant; the district
  options: `window`, `latch`, `tamper` of a window lock, `sounding`, `sounding_since` of a
  personal alarm);
- `action-{id}-{action}`: a device's buttons (`ring`, `motion-on`, `motion-off`,
  `door-open`, `door-close`, `jam`, `keypad`, `forced-entry`, `press`, `say`, `offline`,
  `online`, `battery`; a window lock's `window-open`, `window-close`, `latch-lock`,
  `latch-unlock` (with a latch), `tamper-on`, `tamper-off`; a personal alarm's
  `pin-pull`, `pin-insert`, `press`) and inputs (`say-text`, `battery-level`). While the
  lock is locked, `door-open` reads "Force the door open" and has `data-forced="true"`:
  a locked door opens only by force, and the lock then reports a forced entry; likewise
  `window-open` reads "Force the window open" while the window's latch is locked;
- `hub-{field}` (`name`, `id`, `firmware`, `api_version`, `away_mode`, `boot_id`,
  `last_seq`), `connection`, `fault-{name}`, `activity` (what the page did) and
  `commands` (the commands the hub received, e.g. from Home Assistant);
- the pairing window: `pairing` (`data-open`), `pairing-button` (the hub's pairing
  button), `pairing-status`, `pairing-code` (shown as `123 456`, raw in `data-value`),
  `pairing-countdown` (seconds left) and `pairing-attempts` (attempts left).
"""

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>SafeHome emulator · 세이프홈 에뮬레이터</title>
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
header { background: var(--blue); color: #fff; padding: .8em 1.4em; display: flex;
  flex-wrap: wrap; gap: .4em 1.6em; align-items: baseline; }
header h1 { font-size: 1.25em; margin: 0; }
header .hub { opacity: .92; font-size: .92em; }
header .hub b { font-weight: 600; }
#connection { margin-left: auto; padding: .1em .7em; border-radius: 1em; font-size: .85em;
  background: var(--green); }
#connection[data-value="down"], #connection[data-value="restarting"] { background: var(--red); }
main { padding: 1em 1.4em; max-width: 84em; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(18.5em, 1fr));
  gap: 1em; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: .6em;
  padding: .8em 1em 1em; border-top: 4px solid var(--blue); }
.card[data-online="false"] { opacity: .72; border-top-color: var(--muted); }
.card[data-alert="true"] { border-top-color: var(--red); box-shadow: 0 0 0 2px var(--red); }
.card h2 { font-size: 1.05em; margin: 0; }
.card .sub { color: var(--muted); font-size: .8em; margin-bottom: .5em; }
dl { display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: .15em .8em;
  margin: .4em 0 .7em; }
dt { color: var(--muted); font-size: .88em; }
dd { margin: 0; font-weight: 600; text-align: right; white-space: nowrap; }
.v-good { color: var(--green); } .v-bad { color: var(--red); } .v-warn { color: var(--amber); }
.buttons { display: flex; flex-wrap: wrap; gap: .35em; }
button { font: inherit; font-size: .86em; padding: .35em .7em; border-radius: .4em;
  border: 1px solid var(--line); background: #eef3f9; color: var(--ink); cursor: pointer; }
button:hover { background: #dde8f5; }
button:disabled { opacity: .45; cursor: default; }
button.primary { background: var(--blue); border-color: var(--blue); color: #fff; }
button.danger { background: var(--red); border-color: var(--red); color: #fff; }
input, select { font: inherit; font-size: .86em; padding: .3em .45em; border-radius: .4em;
  border: 1px solid var(--line); }
input[type=number] { width: 5em; }
.row { display: flex; gap: .35em; align-items: center; margin-top: .35em; flex-wrap: wrap; }
section { margin-top: 1.3em; }
section h2 { font-size: 1.05em; margin: 0 0 .5em; }
.panels { display: grid; grid-template-columns: repeat(auto-fit, minmax(24em, 1fr)); gap: 1em; }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: .6em;
  padding: .8em 1em; }
ol.log { list-style: none; margin: 0; padding: 0; font-size: .84em; max-height: 16em;
  overflow: auto; }
ol.log li { padding: .2em 0; border-bottom: 1px solid var(--line); }
ol.log .t { color: var(--muted); font-variant-numeric: tabular-nums; margin-right: .5em; }
ol.log .err { color: var(--red); font-weight: 600; }
.empty { color: var(--muted); font-size: .86em; }
#pairing { margin: 0 0 1em; }
#pairing[data-open="true"] { border-color: var(--green); box-shadow: 0 0 0 2px var(--green); }
#pairing .code { font-size: 1.7em; letter-spacing: .08em; font-variant-numeric: tabular-nums; }
#pairing h2 { font-size: 1.05em; margin: 0 0 .5em; }
#pairing p { margin: .5em 0 0; }
</style>
</head>
<body>
<header>
  <h1>SafeHome emulator · 세이프홈 에뮬레이터</h1>
  <span class="hub"><b data-testid="hub-name" id="hub-name">…</b>
    · <span data-testid="hub-id" id="hub-id"></span>
    · firmware / 펌웨어 <span data-testid="hub-firmware" id="hub-firmware"></span>
    · API <span data-testid="hub-api_version" id="hub-api_version"></span>
    · away mode / 외출 모드 <b data-testid="hub-away_mode" id="hub-away_mode"></b>
    · boot <span data-testid="hub-boot_id" id="hub-boot_id"></span>
    · last event / 마지막 이벤트 #<span data-testid="hub-last_seq" id="hub-last_seq"></span>
  </span>
  <span id="connection" data-testid="connection" data-value="connecting"
    >connecting… · 연결 중…</span>
</header>
<main>
  <div class="panel" id="pairing" data-testid="pairing" data-open="false">
    <h2>Pairing · 페어링</h2>
    <div class="row">
      <button class="primary" data-testid="pairing-button" id="pairing-button"
        >Press the pairing button · 페어링 버튼 누르기</button>
      <span data-testid="pairing-status" id="pairing-status">closed · 닫힘</span>
    </div>
    <p id="pairing-details" hidden>
      Code · 코드 <b class="code" data-testid="pairing-code" id="pairing-code"></b>
      · <span data-testid="pairing-countdown" id="pairing-countdown"></span> s left · 초 남음
      · <span data-testid="pairing-attempts" id="pairing-attempts"></span> attempts left · 남은
      시도
    </p>
    <p class="empty">Each press opens a pairing window with a new code: enter it in Home
      Assistant before the time runs out. · 버튼을 누를 때마다 새 코드로 페어링 창이 열립니다:
      시간이 끝나기 전에 Home Assistant에 입력하세요.</p>
  </div>
  <div class="grid" id="devices" data-testid="devices"></div>
  <section>
    <h2>Faults · 장애 만들기</h2>
    <div class="buttons">
      <button data-testid="fault-drop" data-path="stream/drop"
        title="Close every event stream abruptly">Drop event streams · 이벤트 연결 끊기</button>
      <button data-testid="fault-pause" data-path="stream/pause" data-body='{"seconds":30}'
        >Pause streams 30 s · 이벤트 30초 멈춤</button>
      <span class="row" style="margin:0">
        <select data-testid="fault-garbage-kind" id="garbage-kind">
          <option>not_json</option><option>unknown_type</option><option>unknown_event</option>
          <option>missing_fields</option><option>oversized</option><option>binary</option>
        </select>
        <button data-testid="fault-garbage" id="garbage"
          >Send a malformed frame · 잘못된 프레임 보내기</button>
      </span>
      <button data-testid="fault-restart" data-path="restart" data-body='{"downtime":2}'
        class="danger">Restart the hub (2 s) · 허브 재시작</button>
      <button data-testid="fault-revoke" data-path="tokens/revoke" class="danger"
        >Revoke all tokens · 모든 토큰 취소</button>
      <button data-testid="fault-buffer-clear" data-path="buffer/clear"
        >Clear the replay buffer · 재전송 버퍼 비우기</button>
    </div>
  </section>
  <section class="panels">
    <div class="panel">
      <h2>What you did · 내가 한 일</h2>
      <ol class="log" id="activity" data-testid="activity"></ol>
      <p class="empty" id="activity-empty">Nothing yet · 아직 없음</p>
    </div>
    <div class="panel">
      <h2>Commands the hub received · 허브가 받은 명령</h2>
      <ol class="log" id="commands" data-testid="commands"></ol>
      <p class="empty" id="commands-empty">None yet · 아직 없음</p>
    </div>
  </section>
</main>
<script>
"use strict";
const POLL_MS = 700, LOG_POLL_MS = 1500, SHOWN_COMMANDS = 12, SHOWN_ACTIVITY = 20;

const TYPE_NAMES = {
  doorbell: "Doorbell · 초인종", camera: "Home camera · 홈 카메라",
  door_lock: "Door lock · 도어락", emergency_bell: "Emergency bell · 비상벨",
  window_lock: "Window lock · 창문 잠금장치", personal_alarm: "Personal alarm · 휴대용 비상벨",
};
const LOCK_WORDS = {
  locked: "locked · 잠김", unlocked: "unlocked · 잠금 해제", locking: "locking… · 잠그는 중",
  unlocking: "unlocking… · 여는 중", jammed: "JAMMED · 걸림", open: "latch open · 열림",
};
const WORDS = {
  open: "open · 열림", closed: "closed · 닫힘",
  locked: "locked · 잠김", unlocked: "unlocked · 잠금 해제",
  button: "button · 버튼", voice: "voice · 음성", phone: "phone · 휴대폰",
};
// The bell's siren mode; a bell without the setting sounds at once.
const SIREN_MODES = {
  immediate: "at once · 즉시 울림", escalation: "at escalation · 대응 단계에서 울림",
  silent: "never (silent alarm) · 울리지 않음 (무음 경보)",
  fixed: "at once (no setting) · 즉시 울림 (설정 없음)",
};
const yesNo = (v, yes, no) => v ? yes : no;

// Each device type: the values it shows and the buttons it has.
const FIELDS = {
  doorbell: [
    ["motion", "Motion · 움직임", s => fmtMotion(s.motion)],
    ["camera_on", "Camera · 카메라", s => fmtCamera(s.camera_on)],
    ["last_ring", "Last ring · 마지막 초인종", s => fmtTime(s.last_ring)],
  ],
  camera: [
    ["motion", "Motion · 움직임", s => fmtMotion(s.motion)],
    ["camera_on", "Camera · 카메라", s => fmtCamera(s.camera_on)],
  ],
  door_lock: [
    ["lock_state", "Lock · 잠금", s => [LOCK_WORDS[s.lock_state] || s.lock_state,
      s.lock_state === "locked" ? "good" : s.lock_state === "jammed" ? "bad" : "warn"]],
    ["door", "Door · 문", s => [WORDS[s.door] || s.door, s.door === "open" ? "warn" : "good"]],
    ["auto_lock_delay", "Auto-lock delay · 자동 잠금 지연",
      s => [s.auto_lock_delay == null ? "—" : s.auto_lock_delay + " s · 초", ""]],
  ],
  emergency_bell: [
    ["emergency", "Emergency · 비상 상황", s => s.emergency
      ? ["EMERGENCY · 비상", "bad"] : ["none · 없음", "good"]],
    // (A pulled personal alarm raises it as a button, naming the alarm.)
    ["emergency_source", "Raised by · 호출", s => [s.emergency_device
      ? s.emergency_device + " · 휴대용 비상벨" : s.emergency_source
      ? WORDS[s.emergency_source] || s.emergency_source : "—", ""]],
    ["siren", "Siren · 사이렌",
      s => s.siren ? ["sounding · 울리는 중", "bad"] : ["off · 꺼짐", ""]],
    ["siren_mode", "Siren in an emergency · 비상 시 사이렌",
      s => [SIREN_MODES[s.siren_mode] || s.siren_mode || SIREN_MODES.fixed,
        s.siren_mode === "silent" ? "warn" : ""]],
  ],
  window_lock: [
    ["window", "Window · 창문", s => [WORDS[s.window] || s.window,
      s.window !== "open" ? "good" : s.latch === "locked" ? "bad" : "warn"]],
    ["latch", "Latch · 잠금장치", s => s.latch === undefined
      ? ["none · 없음", ""] : [WORDS[s.latch] || s.latch, s.latch === "locked" ? "good" : "warn"]],
    ["tamper", "Cover · 덮개", s => s.tamper
      ? ["TAMPERED · 훼손 감지", "bad"] : ["closed · 닫힘", "good"]],
  ],
  personal_alarm: [
    ["sounding", "Alarm · 경보음", s => s.sounding
      ? ["SOUNDING · 울리는 중", "bad"] : ["quiet · 조용함", "good"]],
    ["sounding_since", "Pulled at · 뽑힌 시각",
      s => s.sounding_since ? fmtTime(s.sounding_since) : ["—", ""]],
  ],
};
function fmtMotion(v) { return v ? ["motion · 움직임 있음", "warn"] : ["none · 없음", ""]; }
function fmtCamera(v) {
  return v ? ["on · 켜짐", "good"] : ["off (privacy) · 꺼짐 (사생활 보호)", "warn"];
}
function fmtTime(iso) {
  if (!iso) return ["never · 없음", ""];
  const d = new Date(iso);
  return [isNaN(d) ? String(iso) : d.toLocaleTimeString(), ""];
}

// A locked door opens only by force (the lock reports a forced entry).
const OPEN_DOOR = "Open the door · 문 열기";
const FORCE_DOOR = "Force the door open · 문 강제로 열기";
// A latched window too (the window lock reports it forced).
const OPEN_WINDOW = "Open the window · 창문 열기";
const FORCE_WINDOW = "Force the window open · 창문 강제로 열기";

const BUTTONS = {
  doorbell: [
    ["ring", "Ring the doorbell · 초인종 누르기", "ring", null, "primary"],
    ["motion-on", "Motion at the door · 움직임 감지", "motion", {active: true}],
    ["motion-off", "Motion ends · 움직임 멈춤", "motion", {active: false}],
  ],
  camera: [
    ["motion-on", "Motion at home · 움직임 감지", "motion", {active: true}],
    ["motion-off", "Motion ends · 움직임 멈춤", "motion", {active: false}],
  ],
  door_lock: [
    ["door-open", OPEN_DOOR, "door", {state: "open"}, "primary"],
    ["door-close", "Close the door · 문 닫기", "door", {state: "closed"}, "primary"],
    ["jam", "Jam the lock (next lock) · 잠금 걸림 만들기", "jam", {jam: true}],
    ["keypad", "Unlock with the keypad · 키패드로 열기", "activity",
      {activity: "keypad", user: "resident"}],
    ["forced-entry", "Forced entry · 강제 침입", "activity",
      {activity: "forced_entry", user: null}, "danger"],
  ],
  emergency_bell: [
    ["press", "Press the emergency bell · 비상벨 누르기", "press", null, "danger"],
  ],
  // A window lock: the window, its latch (only a lock that has one) and its cover.
  window_lock: [
    ["window-open", OPEN_WINDOW, "window", {state: "open"}, "primary"],
    ["window-close", "Close the window · 창문 닫기", "window", {state: "closed"}, "primary"],
    ["latch-lock", "Lock the latch · 잠금장치 잠그기", "latch", {state: "locked"}, "", "latch"],
    ["latch-unlock", "Unlock the latch · 잠금장치 풀기", "latch", {state: "unlocked"}, "",
      "latch"],
    ["tamper-on", "Pry the cover open · 덮개 뜯기", "tamper", {active: true}, "danger",
      "tamper"],
    ["tamper-off", "Close the cover · 덮개 닫기", "tamper", {active: false}, "", "tamper"],
  ],
  // A personal alarm sounds while its pin is out; a pull raises an emergency on the hub.
  personal_alarm: [
    ["pin-pull", "Pull the pin · 핀 뽑기", "pin", {pulled: true}, "danger"],
    ["pin-insert", "Put the pin back · 핀 다시 꽂기", "pin", {pulled: false}, "primary"],
    ["press", "Press its button · 버튼 누르기", "press", null, "", "button"],
  ],
};

const cards = new Map();  // device id -> {type, card, values: {field: element}, ...}
let layout = "";

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "testid") e.dataset.testid = v;
    else if (k === "className") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k === "onclick") e.addEventListener("click", v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function value(card, id, field, label) {
  const dd = el("dd", {testid: "device-" + id + "-" + field, id: "device-" + id + "-" + field});
  card.values[field] = dd;
  card.dl.append(el("dt", {text: label}), dd);
}

function buildCard(device) {
  const id = device.id, type = device.type;
  const node = el("article", {className: "card", testid: "device-" + id, id: "device-" + id});
  const card = {type, node, values: {}, dl: el("dl"), buttons: {}};
  node.append(el("h2", {text: device.name || id}),
    el("div", {className: "sub",
      text: [id, TYPE_NAMES[type] || type, device.model, "fw " + device.firmware]
        .filter(Boolean).join(" · ")}),
    card.dl);
  value(card, id, "online", "Online · 연결");
  value(card, id, "battery", "Battery · 배터리");
  for (const [field, label] of FIELDS[type] || []) value(card, id, field, label);

  const buttons = el("div", {className: "buttons"});
  const capabilities = device.capabilities || [];
  for (const [name, label, path, body, cls, needs] of BUTTONS[type] || []) {
    if (needs && !capabilities.includes(needs)) continue;
    const button = el("button", {testid: "action-" + id + "-" + name,
      id: "action-" + id + "-" + name, className: cls || ""}, label);
    // The label as shown when clicked ("open" reads "force" on a locked door).
    button.addEventListener("click",
      () => post("devices/" + id + "/" + path, body, button.textContent));
    card.buttons[name] = button;
    buttons.append(button);
  }
  node.append(buttons);

  if (type === "emergency_bell") {
    const input = el("input", {testid: "action-" + id + "-say-text",
      id: "action-" + id + "-say-text", value: "사람 살려", "aria-label": "Phrase · 말",
      size: "14"});
    const say = el("button", {testid: "action-" + id + "-say", id: "action-" + id + "-say",
      className: "danger",
      onclick: () => post("devices/" + id + "/say", {text: input.value},
        "Say “" + input.value + "” · 말하기")}, "Say it · 말하기");
    node.append(el("div", {className: "row"}, input, say));
  }

  const offline = el("button", {testid: "action-" + id + "-offline",
    id: "action-" + id + "-offline",
    onclick: () => post("devices/" + id + "/online", {online: false},
      "Take " + id + " offline · 연결 끊기")}, "Take offline · 연결 끊기");
  const online = el("button", {testid: "action-" + id + "-online", id: "action-" + id + "-online",
    onclick: () => post("devices/" + id + "/online", {online: true},
      "Bring " + id + " online · 다시 연결")}, "Bring online · 다시 연결");
  card.buttons.offline = offline; card.buttons.online = online;
  const row = el("div", {className: "row"}, offline, online);
  if (device.battery !== null && device.battery !== undefined) {
    const level = el("input", {type: "number", min: "0", max: "100", value: String(device.battery),
      testid: "action-" + id + "-battery-level", id: "action-" + id + "-battery-level",
      "aria-label": "Battery level · 배터리 잔량"});
    row.append(level, el("button", {testid: "action-" + id + "-battery",
      id: "action-" + id + "-battery",
      onclick: () => post("devices/" + id + "/battery", {level: Number(level.value)},
        "Set " + id + " battery to " + level.value + " % · 배터리 설정")},
      "Set battery · 배터리 설정"));
  }
  node.append(row);
  return card;
}

function show(dd, [text, tone], raw) {
  if (dd.textContent !== text) dd.textContent = text;
  dd.className = tone ? "v-" + tone : "";
  dd.dataset.value = raw === null || raw === undefined ? "" : String(raw);
}

function renderPairing(p) {
  if (!p) return;
  document.getElementById("pairing").dataset.open = String(p.open);
  document.getElementById("pairing-details").hidden = !p.open;
  const status = document.getElementById("pairing-status");
  status.textContent = p.open ? "open · 열림" : "closed · 닫힘";
  status.className = p.open ? "v-good" : "";
  const code = document.getElementById("pairing-code");
  code.textContent = p.code ? p.code.slice(0, 3) + " " + p.code.slice(3) : "";
  code.dataset.value = p.code || "";
  const left = document.getElementById("pairing-countdown");
  left.textContent = String(Math.ceil(p.seconds_left));
  left.dataset.value = String(p.seconds_left);
  const attempts = document.getElementById("pairing-attempts");
  attempts.textContent = String(p.attempts_left);
  attempts.dataset.value = String(p.attempts_left);
}

function render(data) {
  renderPairing(data.pairing);
  const hub = data.hub;
  for (const f of ["name", "id", "firmware", "api_version", "boot_id", "last_seq"]) {
    const e = document.getElementById("hub-" + f);
    e.textContent = hub[f]; e.dataset.value = String(hub[f]);
  }
  const away = document.getElementById("hub-away_mode");
  away.textContent = hub.away_mode ? "on · 켜짐" : "off · 꺼짐";
  away.dataset.value = String(hub.away_mode);

  const shape = data.devices.map(d => d.id + ":" + d.type).join(",");
  if (shape !== layout) {  // devices added or removed: lay the cards out again
    const grid = document.getElementById("devices");
    grid.replaceChildren();
    cards.clear();
    for (const d of data.devices) {
      const card = buildCard(d);
      cards.set(d.id, card);
      grid.append(card.node);
    }
    layout = shape;
  }
  for (const d of data.devices) {
    const card = cards.get(d.id), s = d.state || {};
    card.node.dataset.online = String(d.online);
    card.node.dataset.alert = String(Boolean(s.emergency || s.lock_state === "jammed"
      || s.sounding || s.tamper || (s.window === "open" && s.latch === "locked")));
    show(card.values.online,
      d.online ? ["online · 연결됨", "good"] : ["OFFLINE · 연결 끊김", "bad"], d.online);
    show(card.values.battery, d.battery === null || d.battery === undefined
      ? ["mains · 상시 전원", ""] : [d.battery + " %", d.battery <= 20 ? "bad" : ""], d.battery);
    for (const [field, , fmt] of FIELDS[card.type] || []) {
      show(card.values[field], fmt(s), s[field]);
    }
    const open = card.buttons["door-open"];
    if (open) {
      const forced = s.lock_state === "locked" && s.door !== "open";
      const label = forced ? FORCE_DOOR : OPEN_DOOR;
      if (open.textContent !== label) open.textContent = label;
      open.className = forced ? "danger" : "primary";
      open.dataset.forced = String(forced);
    }
    const openWindow = card.buttons["window-open"];
    if (openWindow) {
      const forced = s.latch === "locked" && s.window !== "open";
      const label = forced ? FORCE_WINDOW : OPEN_WINDOW;
      if (openWindow.textContent !== label) openWindow.textContent = label;
      openWindow.className = forced ? "danger" : "primary";
      openWindow.dataset.forced = String(forced);
    }
    card.buttons.offline.disabled = !d.online;
    card.buttons.online.disabled = d.online;
  }
}

function setConnection(state, text) {
  const c = document.getElementById("connection");
  c.dataset.value = state;
  c.textContent = text;
}

async function refresh() {
  try {
    const r = await fetch("/control/state", {cache: "no-store"});
    if (r.status === 503) {
      setConnection("restarting", "hub restarting… · 허브 재시작 중");
      return;
    }
    const data = await r.json();
    if (!r.ok) throw new Error(data.error ? data.error.code : r.status);
    render(data);
    setConnection("up", "live · 실시간");
  } catch (err) {
    setConnection("down", "emulator unreachable · 에뮬레이터 연결 안 됨");
  }
}

function logLine(time, text, error) {
  const li = el("li", {}, el("span", {className: "t", text: time}), text);
  if (error) li.append(" ", el("span", {className: "err", text: error}));
  return li;
}

function activity(text, error) {
  const list = document.getElementById("activity");
  list.prepend(logLine(new Date().toLocaleTimeString(), text, error));
  while (list.children.length > SHOWN_ACTIVITY) list.lastChild.remove();
  document.getElementById("activity-empty").hidden = true;
}

async function post(path, body, label) {
  try {
    const r = await fetch("/control/" + path, {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(body || {})});
    let data = {};
    try { data = await r.json(); } catch (e) { /* not JSON */ }
    activity(label || path, r.ok ? null
      : "✗ " + (data.error ? data.error.code + ": " + data.error.message : "HTTP " + r.status));
  } catch (err) {
    activity(label || path, "✗ " + err);
  }
  refresh();
}

async function refreshCommands() {
  try {
    const r = await fetch("/control/log", {cache: "no-store"});
    if (!r.ok) return;
    const commands = (await r.json()).commands.slice(-SHOWN_COMMANDS).reverse();
    const list = document.getElementById("commands");
    list.replaceChildren(...commands.map(c => logLine(
      new Date(c.time).toLocaleTimeString(),
      c.device_id + ": " + c.command + (c.params && Object.keys(c.params).length
        ? " " + JSON.stringify(c.params) : ""),
      c.result === "accepted" ? null : "✗ " + c.result)));
    for (const [i, li] of [...list.children].entries()) {
      li.dataset.testid = "command-" + i;
      li.dataset.command = commands[i].command;
      li.dataset.device = commands[i].device_id;
    }
    document.getElementById("commands-empty").hidden = commands.length > 0;
  } catch (err) { /* the state poll reports connection problems */ }
}

for (const b of document.querySelectorAll("button[data-path]")) {
  b.addEventListener("click", () => post(b.dataset.path,
    b.dataset.body ? JSON.parse(b.dataset.body) : null, b.textContent.trim()));
}
document.getElementById("pairing-button").addEventListener("click",
  () => post("pairing", null, "Pairing button · 페어링 버튼"));
document.getElementById("garbage").addEventListener("click", () => {
  const kind = document.getElementById("garbage-kind").value;
  post("stream/garbage", {kind}, "Malformed frame (" + kind + ") · 잘못된 프레임");
});

refresh(); refreshCommands();
setInterval(refresh, POLL_MS);
setInterval(refreshCommands, LOG_POLL_MS);
</script>
</body>
</html>
"""
