// DC-Lab: live V/A/W per bench from `reading` events of kind dc at the sensor's full rate, drawn
// with uPlot once per animation frame (readings are appended as they come, charts redraw at most
// once a frame, so a 100 Hz bench never costs more than the screen can show); history from
// /api/v1/series with drag-to-zoom that fetches finer buckets. Beside each chart, the statistics
// of its visible window (/api/v1/series/stats, dc-lab-stats.js) and a CSV of it (/api/v1/series.csv).
(() => {
  'use strict';
  const { t, json, stream, number } = window.NTP;
  const benches = new Map();
  let windowSeconds = 30;
  let paused = false;
  let frameRequested = false;
  let xMax = 0;

  const colours = { v: '#1f5fbf', a: '#b8560b', w: '#2e7d4f' };

  function chartWidth(el) { return Math.max(280, el.clientWidth); }

  function liveOptions(el) {
    return {
      width: chartWidth(el),
      height: 220,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      // The x axis is the whole window up to now, so the traces scroll at a steady pace.
      scales: { x: { time: true, range: () => [xMax - windowSeconds, xMax] }, V: { auto: true }, A: { auto: true }, W: { auto: true } },
      series: [
        {},
        { label: 'V', scale: 'V', stroke: colours.v, width: 1.5, points: { show: false } },
        { label: 'A', scale: 'A', stroke: colours.a, width: 1.5, points: { show: false } },
        { label: 'W', scale: 'W', stroke: colours.w, width: 1.5, points: { show: false } },
      ],
      axes: [
        { incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300], values: (u, splits) => splits.map(v => new Date(v * 1000).toLocaleTimeString(window.NTP.locale())), space: 80 },
        { scale: 'V', stroke: colours.v, values: (u, vals) => vals.map(v => v + ' V'), size: 82 },
        { scale: 'A', side: 1, stroke: colours.a, values: (u, vals) => vals.map(v => v + ' A'), grid: { show: false }, size: 70 },
        { scale: 'W', side: 1, stroke: colours.w, values: (u, vals) => vals.map(v => v + ' W'), grid: { show: false }, size: 74 },
      ],
    };
  }

  function bench(sensor) {
    const card = document.createElement('section');
    card.className = 'card bench';
    card.dataset.sensor = sensor.id;
    card.innerHTML = `<h2><span class="id"></span><span class="rate"></span></h2>
      <div class="figures">
        <div><b class="v">–</b><small data-nl="spanning" data-en="voltage">spanning</small></div>
        <div><b class="a">–</b><small data-nl="stroom" data-en="current">stroom</small></div>
        <div><b class="w">–</b><small data-nl="vermogen" data-en="power">vermogen</small></div>
      </div>
      <p class="empty muted" data-nl="Nog geen metingen van deze bank sinds de pagina open is." data-en="No readings from this bench since the page opened.">Nog geen metingen van deze bank sinds de pagina open is.</p>
      <div class="chart" data-points="0"></div>
      <div class="stats"></div>
      <div class="stats-tools"><button type="button" class="csv" data-nl="CSV van dit venster" data-en="CSV of this window">CSV van dit venster</button>
        <button type="button" class="csv-nl" data-nl="Excel (NL)" data-en="Excel (Dutch)">Excel (NL)</button></div>`;
    card.querySelector('.id').textContent = sensor.id; // from the site file: text, never HTML
    document.getElementById('benches').appendChild(card);
    const chartEl = card.querySelector('.chart');
    const data = [[], [], [], []];
    const entry = {
      card, chartEl, data, dirty: false, received: 0, rateStart: performance.now(),
      v: card.querySelector('b.v'), a: card.querySelector('b.a'), w: card.querySelector('b.w'), rate: card.querySelector('.rate'),
      plot: new uPlot(liveOptions(chartEl), data, chartEl),
      last: null,
      stats: window.NTPStats.panel(card.querySelector('.stats')),
      statsBusy: false,
    };
    // The live window's readings as CSV, fetched when clicked (the window moves on).
    card.querySelector('.csv').addEventListener('click', () => download(sensor.id, liveWindow(), 'standard'));
    card.querySelector('.csv-nl').addEventListener('click', () => download(sensor.id, liveWindow(), 'excel-nl'));
    benches.set(sensor.id, entry);
    return entry;
  }

  function onReading(e) {
    if (e.kind !== 'dc' || !e.values) return;
    const entry = benches.get(e.sensor);
    if (!entry) return;
    const x = Date.parse(e.ts) / 1000;
    const d = entry.data;
    // Readings may arrive in batches slightly out of order: keep x ascending.
    let i = d[0].length;
    while (i > 0 && d[0][i - 1] > x) i--;
    d[0].splice(i, 0, x);
    d[1].splice(i, 0, e.values.voltage_v ?? null);
    d[2].splice(i, 0, e.values.current_a ?? null);
    d[3].splice(i, 0, e.values.power_w ?? null);
    entry.last = e.values;
    entry.received++;
    entry.dirty = true;
    if (!frameRequested) { frameRequested = true; requestAnimationFrame(draw); }
    for (const f of readingListeners) f(e);
  }

  // For the XY view (dc-lab-xy.js): each bench's live window and every dc reading as it comes.
  const readingListeners = [];
  window.NTPDcLab = {
    liveWindow,
    onReading: f => readingListeners.push(f),
    live: sensor => { const entry = benches.get(sensor); return entry ? entry.data : null; },
    get paused() { return paused; },
  };

  function draw() {
    frameRequested = false;
    if (paused) return;
    // The newest reading's time, not the browser's clock: a Pi's clock may differ a little.
    for (const entry of benches.values()) {
      const last = entry.data[0].at(-1);
      if (last > xMax) xMax = last;
    }
    const now = xMax;
    for (const entry of benches.values()) {
      // A bench that went quiet is redrawn too, so its old trace scrolls out of the window.
      if (!entry.dirty && entry.data[0].length === 0) continue;
      entry.dirty = false;
      const d = entry.data;
      let cut = 0;
      const oldest = now - windowSeconds;
      while (cut < d[0].length && d[0][cut] < oldest) cut++;
      if (cut > 0) for (const column of d) column.splice(0, cut);
      entry.plot.setData(d);
      entry.chartEl.dataset.points = d[0].length;
      entry.card.classList.toggle('has-data', d[0].length > 0);
      const v = entry.last;
      entry.v.textContent = number(v.voltage_v, 2) + ' V';
      entry.a.textContent = number(v.current_a, 3) + ' A';
      entry.w.textContent = number(v.power_w, 1) + ' W';
    }
  }

  // The live window in reading time (the newest reading's, as the charts), or the browser's clock before the first.
  function liveWindow() {
    const to = xMax > 0 ? new Date(xMax * 1000 + 1) : new Date();
    return { from: new Date(to.getTime() - windowSeconds * 1000), to };
  }

  function download(sensor, range, dialect) {
    const a = document.createElement('a');
    a.href = window.NTPStats.csvUrl(sensor, range.from, range.to, dialect);
    a.download = '';
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  // Statistics of each bench's visible window, computed by the collector from the stored readings:
  // every 2 s while live, at once when the window changes; one request per bench at a time.
  function refreshStats() {
    const range = liveWindow();
    for (const [id, entry] of benches) {
      if (entry.statsBusy) continue;
      entry.statsBusy = true;
      window.NTPStats.load(id, range.from, range.to)
        .then(result => entry.stats.show(result))
        .catch(error => entry.stats.error(error))
        .finally(() => { entry.statsBusy = false; });
    }
  }

  setInterval(() => { if (!paused && !document.hidden) refreshStats(); }, 2000);

  // Readings per second, so students see the sensor's real rate.
  setInterval(() => {
    const now = performance.now();
    for (const entry of benches.values()) {
      const rate = entry.received / ((now - entry.rateStart) / 1000);
      entry.rate.textContent = number(rate, 0) + ' ' + t('metingen/s', 'readings/s');
      entry.received = 0;
      entry.rateStart = now;
    }
  }, 2000);

  // History with zoom.
  let history = null;
  let historyRange = null;
  const historyEl = document.getElementById('history');
  const historyStats = window.NTPStats.panel(document.getElementById('history-stats'));

  function historyPlot() {
    const opts = {
      width: Math.max(280, historyEl.clientWidth),
      height: 280,
      cursor: { drag: { x: true, y: false, setScale: false } },
      scales: { x: { time: true } },
      series: [
        {},
        { label: 'min', stroke: '#9fb4d6', width: 1, points: { show: false } },
        { label: t('gemiddeld', 'mean'), stroke: '#1f5fbf', width: 2, points: { show: false } },
        { label: 'max', stroke: '#9fb4d6', width: 1, points: { show: false } },
      ],
      bands: [{ series: [3, 1], fill: 'rgba(31,95,191,0.12)' }],
      hooks: {
        setSelect: [u => {
          if (u.select.width < 5) return;
          const from = u.posToVal(u.select.left, 'x');
          const to = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
          loadHistory(new Date(from * 1000), new Date(to * 1000)).catch(showHistoryError);
        }],
      },
    };
    if (history) history.destroy();
    history = new uPlot(opts, [[], [], [], []], historyEl);
  }

  function showHistoryError(error) {
    document.getElementById('history-note').textContent = error.status === 404
      ? t('Nog geen metingen opgeslagen voor deze reeks.', 'No readings stored for this series yet.')
      : error.message;
  }

  async function loadHistory(from, to) {
    const sensor = document.getElementById('history-bench').value;
    const field = document.getElementById('history-field').value;
    if (!from) {
      to = new Date();
      from = new Date(to.getTime() - Number(document.getElementById('history-range').value) * 1000);
    }
    historyRange = { from, to };
    const points = Math.min(2000, Math.max(100, Math.round(historyEl.clientWidth)));
    const url = `/api/v1/series?sensor=${encodeURIComponent(sensor)}&field=${encodeURIComponent(field)}&from=${from.toISOString()}&to=${to.toISOString()}&points=${points}`;
    const result = await json(url);
    const xs = [], mins = [], means = [], maxs = [];
    for (const p of result.points) { xs.push(Date.parse(p.ts) / 1000); mins.push(p.min); means.push(p.mean); maxs.push(p.max); }
    history.setData([xs, mins, means, maxs]);
    // The whole period, or from the first stored reading when the series is younger than that.
    const first = xs.length ? xs[0] - result.bucket_ms / 1000 : from.getTime() / 1000;
    history.setScale('x', { min: Math.max(from.getTime() / 1000, first), max: to.getTime() / 1000 });
    const fmt = d => d.toLocaleString(window.NTP.locale(), { dateStyle: 'short', timeStyle: 'medium' });
    document.getElementById('history-note').textContent =
      `${fmt(from)} – ${fmt(to)} · ${result.points.length} ${t('punten', 'points')} · ${t('resolutie', 'resolution')}: ${result.resolution}`;
    // The same window's statistics and CSV: what the chart shows is what the numbers cover.
    historyStats.show(null);
    window.NTPStats.load(sensor, from, to).then(historyStats.show).catch(historyStats.error);
    document.getElementById('history-csv').href = window.NTPStats.csvUrl(sensor, from, to, 'standard');
    document.getElementById('history-csv-nl').href = window.NTPStats.csvUrl(sensor, from, to, 'excel-nl');
  }

  async function start() {
    const site = await json('/api/v1/site');
    const dc = site.sensors.filter(s => s.kind === 'dc');
    const select = document.getElementById('history-bench');
    for (const sensor of dc) { bench(sensor); select.add(new Option(sensor.id, sensor.id)); }
    window.NTP.applyLanguage();
    historyPlot();
    stream({ reading: onReading });
    refreshStats();
    loadHistory().catch(showHistoryError).finally(window.NTP.ready);
  }

  document.getElementById('window').addEventListener('change', e => { windowSeconds = Number(e.target.value); refreshStats(); });
  document.getElementById('pause').addEventListener('click', e => {
    paused = !paused;
    // Paused: the figures of the frozen window, once.
    refreshStats();
    e.target.dataset.nl = paused ? 'Verder' : 'Pauze';
    e.target.dataset.en = paused ? 'Resume' : 'Pause';
    e.target.textContent = e.target.dataset[window.NTP.language];
    if (!paused) for (const entry of benches.values()) entry.dirty = true;
  });
  for (const id of ['history-bench', 'history-field', 'history-range']) {
    document.getElementById(id).addEventListener('change', () => loadHistory().catch(showHistoryError));
  }
  document.getElementById('history-reset').addEventListener('click', () => loadHistory().catch(showHistoryError));
  window.addEventListener('resize', () => {
    for (const entry of benches.values()) entry.plot.setSize({ width: chartWidth(entry.chartEl), height: 220 });
    if (history) history.setSize({ width: Math.max(280, historyEl.clientWidth), height: 280 });
  });
  window.NTP.onLanguage(() => { if (history && historyRange) { historyPlot(); loadHistory(historyRange.from, historyRange.to).catch(showHistoryError); } });
  start().catch(error => console.error(error));
})();
