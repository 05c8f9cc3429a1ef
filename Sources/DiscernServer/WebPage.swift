/// `GET /`: one self-contained page (inline CSS/JS, no external assets) that sends a picked or
/// dropped image to /v1/predict and /v1/explain and shows label, scores, OOD score, verdict, overlay.
/// `/?example=NAME` submits `/examples/NAME` through the same path (only when the server has examples).
enum WebPage {
    static let html = #"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Discern</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
main{max-width:980px;margin:0 auto;padding:18px}
h1{font-size:22px;margin:0 0 4px}#model{color:#5b6478;font-size:13px;margin-bottom:12px}
#drop{border:2px dashed #8a94a8;border-radius:10px;padding:18px;text-align:center;background:#fff;cursor:pointer}
#drop.over{background:#e8f0ff;border-color:#2f6fed}
#result{display:none;margin-top:16px;gap:16px;grid-template-columns:1fr 1fr}
.card{background:#fff;border-radius:10px;padding:14px;box-shadow:0 1px 3px #0002}
.verdict{font-size:20px;font-weight:700;padding:10px 12px;border-radius:8px;margin:8px 0}
.accept{background:#dff5e3;color:#135c22;border:2px solid #2e9d45}
.unknown{background:#fde2e1;color:#8a1410;border:2px solid #d93025}
.unsure{background:#fff4d6;color:#6b4a00;border:2px solid #e0a800}
.reason{font-size:14px;font-weight:400;margin-top:4px}
.bar{height:16px;background:#2f6fed;border-radius:3px}.row{display:grid;grid-template-columns:90px 1fr \#
60px;gap:8px;align-items:center;margin:4px 0}
img{max-width:100%;border-radius:6px}#err{color:#b3261e;font-weight:600;margin-top:10px}
table{border-collapse:collapse;font-size:13px}td{padding:2px 8px 2px 0}.label{font-size:26px;font-weight:700}
</style></head><body><main>
<h1>Discern</h1><div id="model">loading model…</div>
<div id="drop">Drop an image here or <label><u>pick a file</u><input id="file" type="file" accept="image/*" \#
hidden></label></div>
<div id="err"></div>
<div id="result">
 <div class="card"><div id="name"></div><div class="label" id="label"></div>
  <div id="verdict" class="verdict"></div><div id="scores"></div>
  <h3>Out-of-distribution scores</h3><table id="ood"></table><div id="timing" \#
style="color:#5b6478;font-size:12px"></div></div>
 <div class="card"><h3 style="margin-top:0">Where it looked</h3><img id="overlay" alt="heatmap overlay"><div \#
id="cam"></div>
  <h3>Input</h3><img id="input" alt="input image"></div>
</div></main>
<script>
const $ = id => document.getElementById(id);
let info = null;
fetch('/v1/model').then(r => r.json()).then(m => { info = m;
  $('model').textContent = `${m.backbone} · classes: ${m.classes.join(', ')} · ` + (m.unknown && m.unsure
    ? `unknown if ${m.unknown.score} < ${fmt(m.unknown.value)}, unsure if ${m.unsure.score} < ${fmt(m.unsure.value)}`
      + (m.unsure.lowResolutionValue != null
         ? ` (< ${fmt(m.unsure.lowResolutionValue)} for photos under ${m.unsure.lowResolutionBelow} px)` : '')
    : `verdict score: ${m.score} (threshold ${fmt(m.threshold)})`);
}).catch(() => { $('model').textContent = 'model info unavailable'; });
function fmt(x) { return Math.abs(x) >= 0.01 || x === 0 ? x.toFixed(3) : x.toExponential(2); }
function esc(s) { const d = document.createElement('div'); d.textContent = s; return d.innerHTML; }
async function errorOf(r) { try { return (await r.json()).error; } catch (e) { return r.status + ' ' + r.statusText; } }
async function submit(blob, name) {
  $('err').textContent = ''; $('result').style.display = 'none';
  const headers = {'Content-Type': blob.type || 'application/octet-stream', 'X-Filename': name};
  $('input').src = URL.createObjectURL(blob);
  const pr = await fetch('/v1/predict', {method: 'POST', headers, body: blob});
  if (!pr.ok) { $('err').textContent = `${name}: ${await errorOf(pr)}`; return; }
  const out = await pr.json(), p = out.predictions[0];
  $('name').textContent = p.path;
  $('label').textContent = p.verdict === 'accept' ? p.label : `${p.label}?`;
  const v = $('verdict');
  v.className = 'verdict ' + p.verdict;
  const title = {accept: `ACCEPTED: ${p.label}`, unknown: 'UNKNOWN: not any of the trained classes',
                 unsure: `UNSURE: looks like ${p.label}, but the answer is likely wrong`}[p.verdict] || p.verdict;
  v.innerHTML = `${esc(title)}<div class="reason">${esc(p.reason)}</div>`;
  $('scores').innerHTML = Object.entries(p.scores).sort((a, b) => b[1] - a[1]).map(([k, s]) =>
    `<div class="row"><span>${esc(k)}</span><div class="bar" style="width:${(100 * \#
s).toFixed(1)}%"></div><span>${(100 * s).toFixed(1)}%</span></div>`).join('');
  $('ood').innerHTML = Object.entries(p.ood).map(([k, s]) =>
    `<tr><td>${k === p.score ? '<b>' + esc(k) + '</b>' : esc(k)}</td><td>${fmt(s)}</td></tr>`).join('') +
    [['unknown', p.unknown], ['unsure', p.unsure]].filter(([, e]) => e).map(([q, e]) =>
      `<tr><td>${q} threshold (${esc(e.score)})</td><td>${fmt(e.threshold)}</td></tr>`).join('');
  $('timing').textContent = `server time ${out.timing_ms.toFixed(1)} ms, batch of ${out.batch_images}`;
  $('result').style.display = 'grid';
  const er = await fetch('/v1/explain?method=gradcam', {method: 'POST', headers: {...headers, 'Accept': \#
'application/json'}, body: blob});
  if (!er.ok) { $('cam').textContent = 'explanation failed: ' + await errorOf(er); return; }
  const e = await er.json();
  $('overlay').src = 'data:image/png;base64,' + e.overlay_png_base64;
  $('cam').textContent = `${e.method} on ${e.layer} for class "${e.class}", attention area ${(100 * \#
e.attention_area).toFixed(1)}%`;
  document.title = 'Discern: ' + p.verdict;
}
function take(files) { if (files && files[0]) submit(files[0], files[0].name).catch(e => $('err').textContent = \#
String(e)); }
$('file').addEventListener('change', e => take(e.target.files));
const drop = $('drop');
drop.addEventListener('dragover', e => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', e => { e.preventDefault(); drop.classList.remove('over'); take(e.dataTransfer.files); });
const example = new URLSearchParams(location.search).get('example');
if (example) fetch('/examples/' + encodeURIComponent(example)).then(async r => {
  if (!r.ok) throw new Error(await errorOf(r));
  await submit(await r.blob(), example);
}).catch(e => $('err').textContent = 'example: ' + e.message);
</script></body></html>
"""#
}
