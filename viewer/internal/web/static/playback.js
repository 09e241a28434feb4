// The viewer page in playback mode: frames of the recording at the playback clock, fetched one
// at a time (the newest wanted when the previous arrives), a timeline with markers to seek.
"use strict";
const $ = (id) => document.getElementById(id);
const canvas = $("screen"), ctx = canvas.getContext("2d");
let duration = 0, pos = 0, playing = false, speed = 1, last = 0, loading = false, wanted = -1;

function clock(ms) {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

function show() {
  $("clock").textContent = `${clock(pos)} / ${clock(duration)}`;
  $("seek").value = String(Math.round(pos));
  const t = Math.round(pos);
  if (loading) { wanted = t; return; }
  loading = true;
  const img = new Image();
  img.onload = () => {
    if (canvas.width !== img.width || canvas.height !== img.height) { canvas.width = img.width; canvas.height = img.height; }
    ctx.drawImage(img, 0, 0);
    canvas.dataset.t = String(t);
    loading = false;
    if (wanted >= 0 && wanted !== t) { const w = wanted; wanted = -1; pos = w; show(); }
  };
  img.onerror = () => { loading = false; };
  img.src = `frame?t=${t}`;
}

function tick(now) {
  if (playing) {
    pos = Math.min(duration, pos + (now - last) * speed);
    if (pos >= duration) setPlaying(false);
    show();
  }
  last = now;
  requestAnimationFrame(tick);
}

function setPlaying(p) {
  playing = p;
  $("play").textContent = p ? "Pause" : "Play";
}

$("play").onclick = () => { if (pos >= duration) pos = 0; setPlaying(!playing); };
$("speed").onchange = (e) => { speed = Number(e.target.value); };
$("seek").oninput = (e) => { pos = Number(e.target.value); show(); };
document.addEventListener("keydown", (e) => { if (e.key === " ") { e.preventDefault(); $("play").click(); } });

fetch("timeline").then((r) => r.json()).then((tl) => {
  document.title = `assist — recording ${tl.title}`;
  $("title").textContent = tl.title;
  duration = tl.timeline.duration_ms;
  $("seek").max = String(duration);
  if (tl.timeline.damage) $("damage").textContent = tl.timeline.damage;
  const box = $("markers");
  for (const m of tl.timeline.markers || []) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `marker ${m.kind}`;
    b.style.left = `${duration ? (100 * m.t / 1e6 / duration) : 0}%`;
    b.title = `${clock(m.t / 1e6)} ${m.kind}: ${m.text || ""}`;
    b.onclick = () => { pos = m.t / 1e6; show(); };
    box.appendChild(b);
  }
  show();
  requestAnimationFrame((now) => { last = now; tick(now); });
});
