// The assist viewer page: draws the person's screen from the server's binary stream and sends
// the technician's keyboard, mouse and wheel back. No framework: the page is small, and every
// byte of it is read before it runs on a technician's machine.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const screen = $('screen'), sctx = screen.getContext('2d');
  const overlay = $('cursor'), octx = overlay.getContext('2d');
  const box = $('screen-box');

  // Stream message types (viewer/internal/web/stream.go).
  const MSG_JSON = 1, MSG_RECT = 2, MSG_CURSOR = 3, MSG_FRAME = 4, MSG_FILL = 5;

  const state = {
    view: 0,
    region: { x: 0, y: 0, w: 0, h: 0 },
    control: false,
    ended: false,
    monitors: [],
    cursor: { img: null, hotX: 0, hotY: 0, x: -1, y: -1, drawn: null },
    frames: 0,
    reconnecting: '', // why, while the person's agent is away; cleared by the next frame
    bytes: 0, // stream bytes received, for the curious and the benchmarks
  };
  window.assistViewer = state; // for tests and the curious: read-only by convention

  // ---- the screen stream ----

  // Reader hands out exact byte counts from the chunks a fetch body arrives in.
  class Reader {
    constructor(r) { this.r = r; this.chunks = []; this.off = 0; }
    async into(dst) {
      let pos = 0;
      while (pos < dst.length) {
        if (this.chunks.length === 0) {
          const { value, done } = await this.r.read();
          if (done) throw new Error('the viewer stopped');
          this.chunks.push(value);
          continue;
        }
        const c = this.chunks[0];
        const n = Math.min(c.length - this.off, dst.length - pos);
        dst.set(c.subarray(this.off, this.off + n), pos);
        pos += n;
        this.off += n;
        if (this.off === c.length) { this.chunks.shift(); this.off = 0; }
      }
      return dst;
    }
  }

  // Every message of the stream is checked against a bound before anything is allocated for it:
  // the pixels of the region shown (4 bytes each) plus an allowance for notices, under a cap.
  const ALLOWANCE = 8 << 20, CAP = 256 << 20;
  const OVERRUN = 'the agent sent more than a screen\'s worth of data';
  const maxMessage = () => Math.min(4 * state.region.w * state.region.h + ALLOWANCE, CAP);

  async function stream() {
    const res = await fetch('/stream', { method: 'POST', cache: 'no-store' });
    if (!res.ok || !res.body) throw new Error('the viewer refused the page (' + res.status + ')');
    const rd = new Reader(res.body.getReader());
    const head = new Uint8Array(5), hv = new DataView(head.buffer);
    const text = new TextDecoder();
    for (;;) {
      await rd.into(head);
      const type = head[0], len = hv.getUint32(1, true);
      if (len > maxMessage()) throw new Error(OVERRUN);
      state.bytes += 5 + len;
      if (type === MSG_RECT) {
        const h = new DataView((await rd.into(new Uint8Array(16))).buffer);
        const x = h.getUint32(0, true), y = h.getUint32(4, true);
        const w = h.getUint32(8, true), hh = h.getUint32(12, true);
        if (!w || !hh || len !== 16 + w * hh * 4 || x + w > state.region.w || y + hh > state.region.h) throw new Error(OVERRUN);
        const img = new ImageData(w, hh);
        await rd.into(img.data);
        sctx.putImageData(img, x, y);
      } else if (type === MSG_FILL) {
        if (len !== 20) throw new Error(OVERRUN);
        const h = new DataView((await rd.into(new Uint8Array(20))).buffer);
        sctx.fillStyle = 'rgb(' + h.getUint8(16) + ',' + h.getUint8(17) + ',' + h.getUint8(18) + ')';
        sctx.fillRect(h.getUint32(0, true), h.getUint32(4, true), h.getUint32(8, true), h.getUint32(12, true));
      } else if (type === MSG_CURSOR) {
        const h = new DataView((await rd.into(new Uint8Array(8))).buffer);
        const w = h.getUint16(0, true), hh = h.getUint16(2, true);
        if (len !== 8 + w * hh * 4) throw new Error(OVERRUN);
        let img = null;
        if (w > 0 && hh > 0) {
          img = new ImageData(w, hh);
          await rd.into(img.data);
        }
        Object.assign(state.cursor, { img, hotX: h.getUint16(4, true), hotY: h.getUint16(6, true) });
      } else if (type === MSG_FRAME) {
        const n = new DataView((await rd.into(new Uint8Array(4))).buffer).getUint32(0, true);
        drawCursor();
        state.frames = n;
        if (state.reconnecting) { state.reconnecting = ''; showState(); }
        post('/ack?view=' + state.view + '&frame=' + n);
      } else if (type === MSG_JSON) {
        note(JSON.parse(text.decode(await rd.into(new Uint8Array(len)))));
        if (state.ended) return;
      } else {
        throw new Error('unknown message ' + type + ' from the viewer');
      }
    }
  }

  function note(n) {
    switch (n.t) {
      case 'hello':
        state.view = n.view;
        if (n.quality) $('quality').value = n.quality;
        if (n.request) { $('title').textContent = 'assist · ' + n.request; document.title = n.request + ' — assist viewer'; }
        break;
      case 'state':
        state.control = n.control;
        state.rights = n.rights || '';
        state.sas = n.sas;
        state.whyNoControl = n.why || '';
        showKeys();
        $('clip-send').disabled = $('clip-get').disabled = !n.clipboard;
        $('clip-note').textContent = n.clipboard ? '' : 'The remote clipboard is not available' + (n.why ? ': ' + n.why : '') + '.';
        showState();
        break;
      case 'layout': layout(n); break;
      case 'cursor':
        state.cursor.x = n.X; state.cursor.y = n.Y;
        echoed(n.X + state.region.x, n.Y + state.region.y);
        break;
      case 'clipboard':
        $('clip-text').value = n.text;
        $('clip-note').textContent = 'The remote clipboard changed.';
        break;
      case 'reconnecting':
        // The person's agent lost its connection; the screen stays as it was until it is back,
        // and the status says so until the next frame, whatever other notes come meanwhile.
        state.reconnecting = n.reason || 'the connection was interrupted';
        showState();
        break;
      case 'limit': showLimit(n); break;
      case 'chat': chatLine(n); break;
      case 'chat-closed':
        $('chat-note').textContent = 'Chat is not available: ' + n.why;
        $('chat-send').disabled = true;
        break;
      case 'ended': end('Session ended', n.reason); break;
      case 'error': end('The screen is not available', n.reason); break;
    }
  }

  // chatLine adds a message to the chat panel, once (the page may hear it twice when it opens),
  // as text: nothing a person typed becomes markup.
  let chatSeq = 0;
  function chatLine(n) {
    if (n.seq <= chatSeq) return;
    chatSeq = n.seq;
    const li = document.createElement('li');
    li.className = n.from === 'you' ? 'you' : n.from === 'gateway' ? 'gateway' : 'them';
    const who = document.createElement('span');
    who.className = 'from';
    who.textContent = n.from === 'person' ? 'Person' : n.from === 'you' ? 'You' : n.from;
    li.append(who, document.createTextNode(n.text));
    $('chat-log').append(li);
    li.scrollIntoView({ block: 'end' });
  }

  // showLimit counts down to the end the gateway announced (a time limit, or idleness), in the
  // bar; left_ms 0 takes it down.
  let limitTimer = null;
  function showLimit(n) {
    clearInterval(limitTimer);
    const el = $('limit');
    el.hidden = !n.left_ms;
    if (!n.left_ms) return;
    const ends = Date.now() + n.left_ms;
    const tick = () => {
      const s = Math.max(0, Math.ceil((ends - Date.now()) / 1000));
      el.textContent = 'Ends in ' + Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
      el.title = 'The gateway ends the session: ' + n.why;
    };
    tick();
    limitTimer = setInterval(tick, 500);
  }

  function showState() {
    const s = $('status');
    if (state.ended) return;
    if (state.reconnecting) {
      s.className = 'view';
      s.textContent = 'Reconnecting… ' + state.reconnecting;
      return;
    }
    s.className = state.control ? 'ok' : 'view';
    // Every right the person gave, as the gateway says; without its word, what the input shows.
    s.textContent = 'Connected · ' + (state.rights || (state.control ? 'control' : 'view only'));
    s.title = state.whyNoControl || '';
  }

  function layout(n) {
    const r = n.Region;
    state.region = { x: r.Min.X, y: r.Min.Y, w: r.Max.X - r.Min.X, h: r.Max.Y - r.Min.Y };
    state.monitors = n.monitors || [];
    for (const c of [screen, overlay]) {
      if (c.width !== state.region.w || c.height !== state.region.h) {
        c.width = state.region.w; c.height = state.region.h;
      }
    }
    state.cursor.drawn = null;
    const sel = $('monitor');
    sel.replaceChildren();
    const add = (value, label) => { const o = document.createElement('option'); o.value = value; o.textContent = label; sel.append(o); };
    add(-1, 'All (' + state.region.w + '×' + state.region.h + ')');
    state.monitors.forEach((m, i) => add(i, (i + 1) + ': ' + (m.Name || 'monitor') + ' ' + m.W + '×' + m.H + (m.Primary ? ' (primary)' : '')));
    sel.value = String(n.selected);
    if (n.selected === -1) sel.options[0].textContent = 'All (' + state.region.w + '×' + state.region.h + ')';
    $('monitor-label').hidden = state.monitors.length < 2;
    fit();
  }

  // fit scales the screen to the stage, keeping its aspect, never above 1:1 (which would only
  // blur it); at 1:1 one remote pixel is one pixel of this display, and the stage scrolls.
  function fit() {
    const st = $('stage'), w = state.region.w, h = state.region.h;
    st.classList.toggle('actual', state.actual);
    if (!w || !h) return;
    const k = state.actual ? 1 / (window.devicePixelRatio || 1) : Math.min(st.clientWidth / w, st.clientHeight / h, 1);
    box.style.width = Math.floor(w * k) + 'px';
    box.style.height = Math.floor(h * k) + 'px';
  }
  window.addEventListener('resize', fit);

  function drawCursor() {
    const c = state.cursor;
    if (c.drawn) octx.clearRect(c.drawn[0], c.drawn[1], c.drawn[2], c.drawn[3]);
    c.drawn = null;
    if (!c.img || c.x < 0 || c.y < 0) return;
    const x = c.x - c.hotX, y = c.y - c.hotY;
    octx.putImageData(c.img, x, y);
    c.drawn = [x, y, c.img.width, c.img.height];
  }

  function end(title, reason) {
    if (state.ended) return;
    state.ended = true;
    state.control = false;
    $('ended-title').textContent = title;
    $('ended-reason').textContent = reason || '';
    $('ended').hidden = false;
    const s = $('status');
    s.className = 'bad';
    s.textContent = title + (reason ? ': ' + reason : '');
    $('rtt').textContent = '';
    clearInterval(limitTimer);
    $('limit').hidden = true;
  }

  function post(url, body, type) {
    const init = { method: 'POST', cache: 'no-store' };
    if (body !== undefined) { init.body = body; init.headers = { 'Content-Type': type || 'application/json' }; }
    return fetch(url, init);
  }

  // ---- input ----

  // One batch in flight at a time keeps events in order; pointer moves with the same buttons
  // collapse into the newest while a batch is out.
  let queue = [], sending = false;
  function send(ev) {
    if (!state.control || state.ended) return;
    const last = queue[queue.length - 1];
    if (ev.p && last && last.p && last.p[2] === ev.p[2]) queue[queue.length - 1] = ev;
    else queue.push(ev);
    pump();
  }
  async function pump() {
    if (sending || queue.length === 0) return;
    sending = true;
    const batch = queue;
    queue = [];
    try {
      const r = await post('/input', JSON.stringify(batch));
      if (!r.ok) $('status').title = await r.text();
    } catch (e) { /* the stream reports a dead viewer */ }
    sending = false;
    pump();
  }

  // X11 keysyms of the keys KeyboardEvent.key names; printable characters map by code point.
  const NAMED = {
    Enter: 0xff0d, Backspace: 0xff08, Tab: 0xff09, Escape: 0xff1b,
    ArrowLeft: 0xff51, ArrowUp: 0xff52, ArrowRight: 0xff53, ArrowDown: 0xff54,
    Home: 0xff50, End: 0xff57, PageUp: 0xff55, PageDown: 0xff56, Insert: 0xff63, Delete: 0xffff,
    CapsLock: 0xffe5, NumLock: 0xff7f, ScrollLock: 0xff14, Pause: 0xff13, PrintScreen: 0xff61,
    ContextMenu: 0xff67, AltGraph: 0xfe03,
  };
  const SIDED = { // [left, right]
    Shift: [0xffe1, 0xffe2], Control: [0xffe3, 0xffe4], Alt: [0xffe9, 0xffea],
    Meta: [0xffeb, 0xffec], OS: [0xffeb, 0xffec],
  };
  for (let i = 1; i <= 12; i++) NAMED['F' + i] = 0xffbe + i - 1;

  function keysym(e) {
    if (SIDED[e.key]) return SIDED[e.key][e.location === 2 || e.code.endsWith('Right') ? 1 : 0];
    if (NAMED[e.key]) return NAMED[e.key];
    const cps = [...e.key];
    if (cps.length !== 1) return 0; // Dead, Unidentified, Process (IME) and the like
    const cp = cps[0].codePointAt(0);
    if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff)) return cp;
    return cp < 0x20 ? 0 : 0x01000000 | cp;
  }

  const held = new Map(); // KeyboardEvent.code → keysym sent down, so the up matches it
  screen.addEventListener('keydown', (e) => {
    const sym = keysym(e);
    if (!sym) return;
    e.preventDefault();
    held.set(e.code || e.key, sym);
    send({ k: [sym, 1] });
  });
  screen.addEventListener('keyup', (e) => {
    const id = e.code || e.key;
    const sym = held.get(id) || keysym(e);
    if (!sym) return;
    e.preventDefault();
    held.delete(id);
    send({ k: [sym, 0] });
  });
  // Leaving the page with a key held must not leave it held on the remote side.
  screen.addEventListener('blur', () => {
    for (const sym of held.values()) send({ k: [sym, 0] });
    held.clear();
  });

  function remoteXY(e) {
    const r = screen.getBoundingClientRect();
    if (!r.width || !r.height) return null;
    const x = Math.floor((e.clientX - r.left) * screen.width / r.width);
    const y = Math.floor((e.clientY - r.top) * screen.height / r.height);
    return [state.region.x + Math.min(Math.max(x, 0), screen.width - 1),
      state.region.y + Math.min(Math.max(y, 0), screen.height - 1)];
  }
  // Browser buttons: bit 0 left, 1 right, 2 middle; X11's order is left, middle, right.
  const mask = (b) => (b & 1) | ((b & 4) ? 2 : 0) | ((b & 2) ? 4 : 0);
  function pointer(e) {
    const xy = remoteXY(e);
    if (!xy) return;
    if (state.control) {
      if (echo.size > 256) echo.clear();
      echo.set(xy[0] + ',' + xy[1], performance.now());
    }
    send({ p: [xy[0], xy[1], mask(e.buttons)] });
  }

  // The round trip that matters to the technician: a pointer move goes to the agent and comes
  // back as the cursor position of a screen update, across the gateway both ways.
  const echo = new Map(); // "x,y" → when the page sent the pointer there
  const rtt = { gateway: null, echo: null };
  function echoed(x, y) {
    const t = echo.get(x + ',' + y);
    if (t === undefined) return;
    echo.clear();
    rtt.echo = performance.now() - t;
    showRTT();
  }
  function showRTT() {
    const parts = [];
    if (rtt.gateway !== null) parts.push('RTT ' + rtt.gateway.toFixed(1) + ' ms to the gateway');
    if (rtt.echo !== null) parts.push('pointer echo ' + rtt.echo.toFixed(0) + ' ms');
    $('rtt').textContent = parts.join(' · ');
  }
  screen.addEventListener('pointerdown', (e) => {
    screen.focus({ preventScroll: true });
    screen.setPointerCapture(e.pointerId);
    e.preventDefault();
    pointer(e);
  });
  screen.addEventListener('pointermove', pointer);
  screen.addEventListener('pointerup', (e) => { e.preventDefault(); pointer(e); });
  screen.addEventListener('contextmenu', (e) => e.preventDefault());

  const wheel = [0, 0];
  screen.addEventListener('wheel', (e) => {
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 3 : e.deltaMode === 2 ? 1 : 100; // one notch
    wheel[0] += e.deltaX / unit;
    wheel[1] += e.deltaY / unit;
    const dx = Math.trunc(wheel[0]), dy = Math.trunc(wheel[1]);
    if (dx || dy) {
      wheel[0] -= dx; wheel[1] -= dy;
      pointer(e);
      send({ w: [dx, dy] });
    }
  }, { passive: false });

  // ---- the bar ----

  $('scale').addEventListener('click', () => {
    state.actual = !state.actual;
    $('scale').setAttribute('aria-pressed', String(state.actual));
    $('scale').textContent = state.actual ? 'Fit' : '1:1';
    $('scale').title = state.actual ? 'Fit the screen to the window' : 'Show the screen pixel for pixel (scroll to move around)';
    fit();
    screen.focus({ preventScroll: true });
  });

  // Full screen; where the browser can, it also hands the page the keys it keeps for itself
  // (Alt+Tab, the Windows key, Esc held exits).
  $('fullscreen').addEventListener('click', async () => {
    try {
      if (document.fullscreenElement) await document.exitFullscreen();
      else await document.documentElement.requestFullscreen();
    } catch (e) { $('status').title = 'Full screen: ' + e.message; }
    screen.focus({ preventScroll: true });
  });
  document.addEventListener('fullscreenchange', () => {
    const on = !!document.fullscreenElement;
    $('fullscreen').setAttribute('aria-pressed', String(on));
    $('fullscreen').textContent = on ? 'Exit full screen' : 'Full screen';
    if (on && navigator.keyboard && navigator.keyboard.lock) navigator.keyboard.lock().catch(() => {});
    fit();
  });

  // Keys this computer keeps for itself, sent as the person's own keyboard would.
  const K = { ctrl: 0xffe3, alt: 0xffe9, del: 0xffff, superL: 0xffeb, tab: 0xff09, print: 0xff61 };
  const COMBOS = {
    'ctrl-alt-del': [K.ctrl, K.alt, K.del],
    super: [K.superL],
    'alt-tab': [K.alt, K.tab],
    print: [K.print],
  };
  function sendCombo(keys) {
    for (const k of keys) send({ k: [k, 1] });
    for (const k of [...keys].reverse()) send({ k: [k, 0] });
  }
  function showKeys() {
    for (const b of $('keys').querySelectorAll('button')) b.disabled = !state.control;
    const cad = $('key-cad'), note = $('key-cad-note');
    cad.disabled = !state.control || !state.sas;
    note.hidden = !state.control || state.sas;
    note.textContent = 'The person\'s computer does not take Ctrl+Alt+Del from a viewer (on Windows only its own keyboard starts it).';
    $('keys-toggle').title = state.control ? '' : 'No control: ' + (state.whyNoControl || 'view only');
  }
  toggle('keys-toggle', 'keys');
  $('keys').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-keys]');
    if (!b || b.disabled) return;
    sendCombo(COMBOS[b.dataset.keys]);
    $('keys').hidden = true;
    $('keys-toggle').setAttribute('aria-expanded', 'false');
    screen.focus({ preventScroll: true });
  });

  $('quality').addEventListener('change', (e) => {
    post('/quality?view=' + state.view + '&mode=' + e.target.value);
    screen.focus({ preventScroll: true });
  });

  $('monitor').addEventListener('change', (e) => {
    post('/monitor?view=' + state.view + '&monitor=' + e.target.value);
    screen.focus({ preventScroll: true });
  });

  let endArmed = null;
  $('end').addEventListener('click', () => {
    const b = $('end');
    if (!endArmed) { // a second click within three seconds ends it: one stray click does not
      b.textContent = 'Click again to end';
      endArmed = setTimeout(() => { endArmed = null; b.textContent = 'End session'; }, 3000);
      return;
    }
    clearTimeout(endArmed);
    b.disabled = true;
    post('/end');
  });

  function toggle(button, panel, onOpen) {
    $(button).addEventListener('click', () => {
      const open = $(panel).hidden;
      $(panel).hidden = !open;
      $(button).setAttribute('aria-expanded', String(open));
      fit();
      if (open && onOpen) onOpen();
    });
  }
  toggle('clip-toggle', 'clip');
  toggle('files-toggle', 'files', () => { if (!files.dir) listDir(''); });
  toggle('chat-toggle', 'chat');
  $('chat-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const input = $('chat-text'), text = input.value.trim();
    if (!text) return;
    const r = await post('/chat', JSON.stringify({ text }));
    if (r.ok) {
      input.value = '';
      $('chat-note').textContent = '';
    } else {
      $('chat-note').textContent = 'Not sent: ' + await r.text();
    }
  });
  // Send starts disabled in the page, so that a message written before this script ran is not
  // lost to the form's own submission (a reload); a closed chat disables it again.
  $('chat-send').disabled = false;

  async function ping() {
    if (state.ended) return;
    try {
      const r = await post('/ping');
      if (r.ok) {
        rtt.gateway = (await r.json()).ms;
        showRTT();
      }
    } catch (e) { /* shown by the stream */ }
  }
  setInterval(ping, 2000);

  // ---- clipboard ----

  $('clip-send').addEventListener('click', async () => {
    const r = await post('/clipboard', JSON.stringify({ text: $('clip-text').value }));
    $('clip-note').textContent = r.ok ? 'Sent to the remote clipboard.' : await r.text();
  });
  $('clip-get').addEventListener('click', async () => {
    const r = await post('/clipboard/get');
    if (!r.ok) { $('clip-note').textContent = await r.text(); return; }
    $('clip-text').value = (await r.json()).text;
    $('clip-note').textContent = 'Got the remote clipboard.';
  });
  $('clip-copy').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText($('clip-text').value);
      $('clip-note').textContent = 'Copied to this computer\'s clipboard.';
    } catch (e) { $('clip-note').textContent = 'Copy failed: ' + e.message; }
  });

  // ---- files ----

  const files = { dir: '' };
  const size = (n) => n < 1024 ? n + ' B' : n < 1 << 20 ? (n / 1024).toFixed(1) + ' KiB' :
    n < 1 << 30 ? (n / (1 << 20)).toFixed(1) + ' MiB' : (n / (1 << 30)).toFixed(2) + ' GiB';
  const parent = (d) => d === '/' ? '/' : d.replace(/\/[^/]*$/, '') || '/';
  const join = (d, n) => (d.endsWith('/') ? d : d + '/') + n;

  async function listDir(dir) {
    const err = $('files-error');
    const r = await fetch('/files/list?dir=' + encodeURIComponent(dir), { cache: 'no-store' });
    const body = await r.json().catch(() => ({ error: 'the viewer answered ' + r.status }));
    if (!r.ok) { err.textContent = body.error; err.hidden = false; return; }
    err.hidden = true;
    files.dir = body.dir;
    $('files-dir').textContent = body.dir;
    const tb = $('files-list').tBodies[0];
    tb.replaceChildren();
    const row = (label, onClick, href, sz) => {
      const tr = tb.insertRow(), name = tr.insertCell(), s = tr.insertCell();
      name.className = 'name'; s.className = 'size';
      const a = document.createElement('a');
      a.textContent = label;
      if (href) { a.href = href; a.download = ''; } else { a.href = '#'; a.addEventListener('click', (e) => { e.preventDefault(); onClick(); }); }
      name.append(a);
      s.textContent = sz;
    };
    if (body.dir !== '/') row('..', () => listDir(parent(body.dir)), null, '');
    for (const e of body.entries || []) {
      const p = join(body.dir, e.name);
      if (e.is_dir) row(e.name + '/', () => listDir(p), null, '');
      else row(e.name, null, '/files/download?path=' + encodeURIComponent(p), size(e.size));
    }
  }
  $('files-refresh').addEventListener('click', () => listDir(files.dir));

  function upload(file) {
    return new Promise((resolve) => {
      const x = new XMLHttpRequest(), bar = $('files-progress'), msg = $('files-note');
      x.open('POST', '/files/upload?dir=' + encodeURIComponent(files.dir) + '&name=' + encodeURIComponent(file.name));
      bar.hidden = false; bar.value = 0;
      x.upload.onprogress = (e) => {
        if (e.lengthComputable) bar.value = e.loaded / e.total;
        msg.textContent = 'Uploading ' + file.name + ': ' + size(e.loaded) + ' of ' + size(file.size);
      };
      x.onload = () => {
        bar.hidden = true;
        let body = {};
        try { body = JSON.parse(x.responseText); } catch (e) { /* shown below */ }
        msg.textContent = x.status === 200 ? 'Uploaded ' + file.name + ' (' + size(body.bytes) + ').' : 'Upload failed: ' + (body.error || x.status);
        resolve();
      };
      x.onerror = () => { bar.hidden = true; msg.textContent = 'Upload of ' + file.name + ' failed.'; resolve(); };
      x.send(file);
    });
  }
  $('files-upload').addEventListener('change', async (e) => {
    for (const f of e.target.files) await upload(f);
    e.target.value = '';
    listDir(files.dir);
  });

  // ---- start ----

  stream().catch((e) => end('The viewer stopped', e.message));
  ping();
  screen.focus({ preventScroll: true });
})();
