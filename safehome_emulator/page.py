"""The control surface's small web page for people (`GET /control`)."""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SafeHome emulator</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:60em}
button{margin:.2em}fieldset{margin:.6em 0}pre{background:#f4f4f4;padding:.6em;overflow:auto}
</style></head><body>
<h1>SafeHome emulator</h1>
<fieldset><legend>Doorbell and camera</legend>
<button onclick="post('devices/doorbell-1/ring')">Ring the doorbell</button>
<button onclick="post('devices/doorbell-1/motion',{active:true})">Motion at the door</button>
<button onclick="post('devices/doorbell-1/motion',{active:false})">No motion</button>
<button onclick="post('devices/cam-1/motion',{active:true})">Motion at home</button>
<button onclick="post('devices/cam-1/motion',{active:false})">No motion at home</button>
</fieldset>
<fieldset><legend>Door</legend>
<button onclick="post('devices/lock-1/door',{state:'open'})">Open the door</button>
<button onclick="post('devices/lock-1/door',{state:'closed'})">Close the door</button>
<button onclick="post('devices/lock-1/activity',{activity:'keypad',user:'resident'})">
Keypad</button>
<button onclick="post('devices/lock-1/activity',{activity:'forced_entry',user:null})">
Forced entry</button>
<button onclick="post('devices/lock-1/jam',{jam:true})">Jam the next lock</button>
</fieldset>
<fieldset><legend>Emergency bell</legend>
<button onclick="post('devices/bell-1/press')">Press the button</button>
<input id="phrase" value="사람 살려"> <button onclick="post('devices/bell-1/say',
{text:document.getElementById('phrase').value})">Say it</button>
</fieldset>
<fieldset><legend>Faults</legend>
<button onclick="post('stream/drop')">Drop streams</button>
<button onclick="post('stream/garbage',{kind:'not_json'})">Send garbage</button>
<button onclick="post('stream/pause',{seconds:30})">Pause streams 30 s</button>
<button onclick="post('restart',{downtime:2})">Restart the hub</button>
<button onclick="post('tokens/revoke')">Revoke tokens</button>
</fieldset>
<h2>State</h2><pre id="state"></pre>
<script>
async function post(path, body) {
  const r = await fetch('/control/' + path, {method: 'POST',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body || {})});
  if (!r.ok) alert(JSON.stringify(await r.json()));
  refresh();
}
async function refresh() {
  const r = await fetch('/control/state');
  document.getElementById('state').textContent = JSON.stringify(await r.json(), null, 2);
}
refresh(); setInterval(refresh, 2000);
</script></body></html>
"""
