// DC-Lab XY view: current against voltage (I–U) or power against voltage (P–U) of one bench, the
// curve of a solar panel or a battery. Live from the stream (the bench's live window, newest points
// darkest) or for a recorded experiment session (its readings from /api/v1/series.csv, with the
// session's statistics). Drawn on a canvas with axes and units; no library beyond the page's own.
(() => {
  'use strict';
  const { t, json, number } = window.NTP;
  const canvas = document.getElementById('xy');
  const benchSelect = document.getElementById('xy-bench');
  const modeSelect = document.getElementById('xy-mode');
  const sourceSelect = document.getElementById('xy-source');
  const note = document.getElementById('xy-note');
  const csv = document.getElementById('xy-csv');
  const csvNl = document.getElementById('xy-csv-nl');
  const stats = window.NTPStats.panel(document.getElementById('xy-stats'));
  // Points drawn at most: beyond it every k-th reading, so a long session stays quick to draw.
  const MaxDrawn = 50000;
  let sessions = [];
  let recorded = null; // { sensor, id, v: [], a: [], w: [] } of the chosen session
  let frameRequested = false;

  const axes = {
    v: { nl: 'spanning U', en: 'voltage U', unit: 'V', colour: '#1f5fbf' },
    a: { nl: 'stroom I', en: 'current I', unit: 'A', colour: '#b8560b' },
    w: { nl: 'vermogen P', en: 'power P', unit: 'W', colour: '#2e7d4f' },
  };

  // Round steps (1, 2, 5 × 10ⁿ) for about `count` ticks across [min, max].
  function ticks(min, max, count) {
    const span = max - min || Math.abs(max) || 1;
    const raw = span / count;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map(m => m * power).find(s => s >= raw);
    const first = Math.ceil(min / step) * step;
    const list = [];
    for (let v = first; v <= max + step * 1e-9; v += step) list.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return { list, digits: Math.max(0, -Math.floor(Math.log10(step))) };
  }

  function range(values) {
    let min = Infinity, max = -Infinity;
    for (const v of values) { if (v == null) continue; if (v < min) min = v; if (v > max) max = v; }
    if (min === Infinity) return [0, 1];
    // Zero in view when it is near (a panel's short-circuit current sits at U = 0), and some room around.
    if (min > 0 && min < (max - min) * 0.5) min = 0;
    const pad = (max - min) * 0.05 || Math.abs(max) * 0.05 || 1;
    return [min === 0 ? 0 : min - pad, max + pad];
  }

  function draw(xs, ys, xAxis, yAxis, fading) {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(280, canvas.parentElement.clientWidth);
    const height = 340;
    canvas.width = width * ratio;
    canvas.height = height * ratio;
    canvas.style.width = width + 'px';
    canvas.style.height = height + 'px';
    const g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const left = 70, right = 16, top = 12, bottom = 48;
    const plotW = width - left - right, plotH = height - top - bottom;
    const [x0, x1] = range(xs), [y0, y1] = range(ys);
    const px = x => left + (x - x0) / (x1 - x0) * plotW;
    const py = y => top + plotH - (y - y0) / (y1 - y0) * plotH;

    g.font = '12px system-ui, sans-serif';
    g.strokeStyle = '#e4e7ec';
    g.fillStyle = '#5a6472';
    g.lineWidth = 1;
    const xt = ticks(x0, x1, Math.max(3, Math.floor(plotW / 90)));
    g.textAlign = 'center';
    g.textBaseline = 'top';
    for (const v of xt.list) {
      const x = Math.round(px(v)) + 0.5;
      g.beginPath(); g.moveTo(x, top); g.lineTo(x, top + plotH); g.stroke();
      g.fillText(number(v, xt.digits), x, top + plotH + 5);
    }
    const yt = ticks(y0, y1, Math.max(3, Math.floor(plotH / 50)));
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (const v of yt.list) {
      const y = Math.round(py(v)) + 0.5;
      g.beginPath(); g.moveTo(left, y); g.lineTo(left + plotW, y); g.stroke();
      g.fillText(number(v, yt.digits), left - 6, y);
    }
    g.strokeStyle = '#1d2430';
    g.strokeRect(left + 0.5, top + 0.5, plotW, plotH);

    // Axis titles with their units, Dutch first.
    g.fillStyle = '#1d2430';
    g.textAlign = 'center';
    g.textBaseline = 'bottom';
    g.fillText(`${t(xAxis.nl, xAxis.en)} (${xAxis.unit})`, left + plotW / 2, height - 4);
    g.save();
    g.translate(14, top + plotH / 2);
    g.rotate(-Math.PI / 2);
    g.textBaseline = 'middle';
    g.fillText(`${t(yAxis.nl, yAxis.en)} (${yAxis.unit})`, 0, 0);
    g.restore();

    const n = xs.length;
    const stride = Math.max(1, Math.ceil(n / MaxDrawn));
    let drawn = 0;
    g.fillStyle = yAxis.colour;
    for (let i = 0; i < n; i += stride) {
      if (xs[i] == null || ys[i] == null) continue;
      // Live: older readings fade, so the point moving along the curve stands out.
      g.globalAlpha = fading ? 0.15 + 0.85 * (i + 1) / n : 0.7;
      g.fillRect(px(xs[i]) - 1.5, py(ys[i]) - 1.5, 3, 3);
      drawn++;
    }
    g.globalAlpha = 1;
    if (fading && n > 0 && xs[n - 1] != null && ys[n - 1] != null) {
      g.beginPath();
      g.arc(px(xs[n - 1]), py(ys[n - 1]), 5, 0, 2 * Math.PI);
      g.strokeStyle = '#1d2430';
      g.lineWidth = 2;
      g.stroke();
    }
    canvas.dataset.points = String(drawn);
    return drawn;
  }

  function render() {
    frameRequested = false;
    const mode = modeSelect.value;
    const yKey = mode === 'pv' ? 'w' : 'a';
    if (sourceSelect.value === 'live') {
      const data = window.NTPDcLab.live(benchSelect.value);
      const drawn = draw(data ? data[1] : [], data ? data[yKey === 'w' ? 3 : 2] : [], axes.v, axes[yKey], true);
      note.textContent = drawn
        ? t(`Live: de metingen van het venster bovenaan (${drawn}); de nieuwste is omcirkeld.`, `Live: the readings of the window above (${drawn}); the newest is circled.`)
        : t('Live: nog geen metingen van deze bank.', 'Live: no readings from this bench yet.');
    } else if (recorded) {
      const drawn = draw(recorded.v, recorded[yKey], axes.v, axes[yKey], false);
      note.textContent = t(`Sessie ${recorded.name}: ${number(recorded.v.length)} metingen van ${recorded.sensor}`, `Session ${recorded.name}: ${number(recorded.v.length)} readings of ${recorded.sensor}`)
        + (recorded.v.length > drawn ? t(` (${number(drawn)} getekend)`, ` (${number(drawn)} drawn)`) : '');
    }
  }

  function requestRender() {
    if (!frameRequested) { frameRequested = true; requestAnimationFrame(render); }
  }

  function parseCsv(text) {
    const lines = text.split('\n');
    const header = lines[0].trim().split(',');
    const col = name => header.indexOf(name);
    const [iv, ia, iw] = [col('voltage_v'), col('current_a'), col('power_w')];
    const v = [], a = [], w = [];
    const cell = (cells, i) => i < 0 || cells[i] === undefined || cells[i] === '' ? null : Number(cells[i]);
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i].trim();
      if (!line) continue;
      const cells = line.split(',');
      v.push(cell(cells, iv)); a.push(cell(cells, ia)); w.push(cell(cells, iw));
    }
    return { v, a, w };
  }

  function sessionWindow(s) {
    return { from: new Date(s.started), to: s.stopped ? new Date(s.stopped) : new Date() };
  }

  async function loadSession() {
    const s = sessions.find(x => String(x.id) === sourceSelect.value);
    if (!s) return;
    if (s.sensor && benchSelect.value !== s.sensor) benchSelect.value = s.sensor;
    const sensor = benchSelect.value;
    const range = sessionWindow(s);
    csv.href = window.NTPStats.csvUrl(sensor, range.from, range.to, 'standard');
    csvNl.href = window.NTPStats.csvUrl(sensor, range.from, range.to, 'excel-nl');
    note.textContent = t('Sessie laden…', 'Loading the session…');
    stats.show(null);
    window.NTPStats.load(sensor, range.from, range.to).then(stats.show).catch(stats.error);
    const response = await fetch(csv.href);
    if (!response.ok) {
      let problem = null;
      try { problem = await response.json(); } catch { /* not a problem document */ }
      throw new Error(problem ? problem.title + ': ' + problem.detail : 'HTTP ' + response.status);
    }
    recorded = { id: s.id, name: s.name, sensor, ...parseCsv(await response.text()) };
    requestRender();
  }

  function choose() {
    const live = sourceSelect.value === 'live';
    document.getElementById('xy-card').classList.toggle('live', live);
    recorded = null;
    if (live) {
      const range = window.NTPDcLab.liveWindow();
      csv.removeAttribute('href');
      csvNl.removeAttribute('href');
      stats.show(null);
      window.NTPStats.load(benchSelect.value, range.from, range.to).then(stats.show).catch(stats.error);
      requestRender();
    } else {
      loadSession().catch(error => { note.textContent = error.message; });
    }
  }

  function fillSessions(list) {
    sessions = list;
    const chosen = sourceSelect.value;
    while (sourceSelect.options.length > 1) sourceSelect.remove(1);
    for (const s of list) {
      const option = new Option(`${t('sessie', 'session')}: ${s.name} (${s.sensor || t('alle banken', 'all benches')})`, String(s.id));
      sourceSelect.add(option);
    }
    if ([...sourceSelect.options].some(o => o.value === chosen)) sourceSelect.value = chosen;
  }

  // Live: redrawn as readings of the chosen bench arrive (once a frame), and its statistics every 2 s.
  window.NTPDcLab.onReading(e => {
    if (sourceSelect.value === 'live' && e.sensor === benchSelect.value && !window.NTPDcLab.paused) requestRender();
  });
  setInterval(() => {
    if (sourceSelect.value !== 'live' || window.NTPDcLab.paused || document.hidden) return;
    const range = window.NTPDcLab.liveWindow();
    window.NTPStats.load(benchSelect.value, range.from, range.to).then(stats.show).catch(stats.error);
  }, 2000);

  benchSelect.addEventListener('change', choose);
  modeSelect.addEventListener('change', requestRender);
  sourceSelect.addEventListener('change', choose);
  window.addEventListener('resize', requestRender);
  window.NTP.onLanguage(() => { fillSessions(sessions); requestRender(); });

  window.NTPXY = {
    sessions: fillSessions,
    // From a session's row: show its curve here.
    showSession(id) {
      sourceSelect.value = String(id);
      choose();
      document.getElementById('xy-card').scrollIntoView({ behavior: 'smooth', block: 'start' });
    },
  };

  json('/api/v1/site').then(site => {
    for (const s of site.sensors.filter(x => x.kind === 'dc')) benchSelect.add(new Option(s.id, s.id));
    choose();
  }).catch(console.warn);
})();
