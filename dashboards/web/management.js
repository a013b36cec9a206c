// Management: visits, unique and returning visitors per day/week/month/year (uPlot), a room-use
// heatmap (room × hour of the week), the yearly report and the group-visit form.
(() => {
  'use strict';
  const { t, json, stream, number } = window.NTP;
  const chartEl = document.getElementById('visitors-chart');
  let bucket = 'day';
  let report = null;
  let plot = null;
  let site = null;
  let heat = null;

  const ranges = { day: 30, week: 26 * 7, month: 365, year: 5 * 366 };

  function fromFor(b) {
    const now = new Date();
    if (b === 'month') return new Date(now.getFullYear() - 1, now.getMonth() + 1, 1);
    if (b === 'year') return new Date(now.getFullYear() - 4, 0, 1);
    if (b === 'week') {
      const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 7 * 25);
      d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
      return d;
    }
    return new Date(now.getFullYear(), now.getMonth(), now.getDate() - ranges.day + 1);
  }

  function drawVisitors() {
    if (!report) return;
    const xs = report.buckets.map((b, i) => i);
    const visits = report.buckets.map(b => b.visits);
    const unique = report.buckets.map(b => b.unique_visitors.value);
    const returning = report.buckets.map(b => b.returning_visitors.value);
    const labels = report.buckets.map(b => b.label);
    const opts = {
      width: Math.max(300, chartEl.clientWidth),
      height: 260,
      scales: { x: { time: false, range: (u, min, max) => [min - 0.6, max + 0.6] } },
      series: [
        { label: t('periode', 'period'), value: (u, i) => i == null ? '' : labels[i] ?? '' },
        { label: t('bezoeken', 'visits'), stroke: '#1f5fbf', fill: 'rgba(31,95,191,0.35)', paths: uPlot.paths.bars({ size: [0.7, 60] }), points: { show: false } },
        { label: t('unieke bezoekers', 'unique visitors'), stroke: '#2e7d4f', width: 2 },
        { label: t('terugkerend', 'returning'), stroke: '#b8560b', width: 2 },
      ],
      axes: [
        { values: (u, splits) => splits.map(i => Number.isInteger(i) ? labels[i] ?? '' : ''), space: 60 },
        { size: 50 },
      ],
    };
    if (plot) plot.destroy();
    plot = new uPlot(opts, [xs, visits, unique, returning], chartEl);

    const row = (b, cell) => `<${cell}>${b.label ?? t('totaal', 'total')}</${cell}><td class="number">${number(b.visits)}</td>` +
      `<td class="number">${b.unique_visitors.display}</td><td class="number">${b.returning_visitors.display}</td>` +
      `<td class="number">${number(b.group_visits)}</td><td class="number">${number(b.group_head_count)}</td>`;
    document.querySelector('#visitors-table tbody').innerHTML = report.buckets.slice().reverse().map(b => `<tr>${row(b, 'td')}</tr>`).join('');
    document.querySelector('#visitors-table tfoot').innerHTML = `<tr>${row({ ...report.totals, label: t('totaal', 'total') }, 'td')}</tr>`;
  }

  async function loadVisitors() {
    for (const b of document.querySelectorAll('[data-bucket]')) b.setAttribute('aria-pressed', String(b.dataset.bucket === bucket));
    const from = fromFor(bucket);
    report = await json(`/api/v1/visitors?bucket=${bucket}&from=${from.toISOString()}&to=${new Date().toISOString()}`);
    drawVisitors();
  }

  async function mapLimited(items, limit, f) {
    const results = new Array(items.length);
    let next = 0;
    const worker = async () => { while (next < items.length) { const i = next++; results[i] = await f(items[i]); } };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
  }

  // Heatmap: each room's hourly mean count over four weeks, averaged per hour of the week.
  async function loadHeatmap() {
    const to = new Date();
    const from = new Date(to.getTime() - 28 * 86400 * 1000);
    const status = document.getElementById('heatmap-status');
    // Four calls at a time: the collector answers each in tens of milliseconds.
    const rows = await mapLimited(site.rooms, 4, async room => {
      const history = await json(`/api/v1/occupancy/history?room=${encodeURIComponent(room.id)}&bucket=hour&from=${from.toISOString()}&to=${to.toISOString()}`);
      const sum = new Array(168).fill(0), n = new Array(168).fill(0), peak = new Array(168).fill(0);
      for (const b of history.buckets) {
        const d = new Date(b.start);
        const i = ((d.getDay() + 6) % 7) * 24 + d.getHours();
        sum[i] += b.mean_count; n[i]++; peak[i] = Math.max(peak[i], b.max_count);
      }
      return { room, mean: sum.map((s, i) => n[i] ? s / n[i] : null), peak };
    });
    heat = rows;
    drawHeatmap();
    status.textContent = '';
  }

  function drawHeatmap() {
    if (!heat) return;
    const days = t('ma di wo do vr za zo', 'Mon Tue Wed Thu Fri Sat Sun').split(' ');
    // Built through the DOM with textContent: room names come from the site file and are shown as
    // text, never parsed as HTML. Colours are set the same way (the CSP allows no inline style attributes).
    const cell = (tag, text, className) => {
      const el = document.createElement(tag);
      if (text != null) el.textContent = text;
      if (className) el.className = className;
      return el;
    };
    const head = document.createElement('thead');
    const headRow = head.appendChild(document.createElement('tr'));
    headRow.appendChild(cell('th'));
    for (const d of days) {
      const th = headRow.appendChild(cell('th', d, 'day'));
      th.colSpan = 24;
    }
    const body = document.createElement('tbody');
    for (const r of heat) {
      const name = window.NTP.roomName(r.room);
      const tr = body.appendChild(document.createElement('tr'));
      tr.appendChild(cell('th', name, 'room'));
      for (let i = 0; i < 168; i++) {
        const m = r.mean[i];
        const share = m == null || !r.room.capacity ? 0 : Math.min(1, m / r.room.capacity);
        const td = tr.appendChild(cell('td', null, i % 24 === 0 ? 'day-start' : ''));
        td.title = `${name} · ${days[Math.floor(i / 24)]} ${String(i % 24).padStart(2, '0')}:00 · ` +
          (m == null ? t('geen gegevens', 'no data') : `${t('gemiddeld', 'mean')} ${number(m, 1)}, ${t('piek', 'peak')} ${r.peak[i]} / ${r.room.capacity}`);
        td.style.background = m == null ? '' : m === 0 ? '#e3e7ed' : `hsl(${Math.round(210 - share * 210)} 70% ${Math.round(78 - share * 38)}%)`;
      }
    }
    document.getElementById('heatmap').replaceChildren(head, body);
  }

  async function start() {
    site = await json('/api/v1/site');
    const select = document.querySelector('#group select[name=room]');
    for (const room of site.rooms) select.add(new Option(window.NTP.roomName(room), room.id));
    document.getElementById('heatmap-status').textContent = t('laden…', 'loading…');
    // Visitors first (one quick call), then the heatmap's call per room.
    await loadVisitors();
    loadHeatmap().catch(error => { document.getElementById('heatmap-status').textContent = error.message; }).finally(window.NTP.ready);
    // New visits arrive through the doors: refresh the figures now and then while live.
    let pending = false;
    stream({
      occupancy: () => {
        if (pending) return;
        pending = true;
        setTimeout(() => { pending = false; loadVisitors().catch(console.warn); }, 15000);
      },
    });
  }

  for (const b of document.querySelectorAll('[data-bucket]')) {
    b.addEventListener('click', () => { bucket = b.dataset.bucket; loadVisitors().catch(console.error); });
  }
  document.getElementById('report-link').href = window.NTPSite.withSite('/report.html?year=' + new Date().getFullYear());

  const form = document.getElementById('group');
  const message = document.getElementById('group-message');
  form.elements.date.value = new Date().toLocaleDateString('sv-SE');
  window.NTPAdmin.bind(form, 'staff');
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const f = form.elements;
    try {
      const saved = await window.NTPAdmin.post('/api/v1/visitors/groups', {
        date: f.date.value, programme: f.programme.value, target_group: f.target_group.value,
        head_count: Number(f.head_count.value), room: f.room.value || null, event: f.event.checked, note: f.note.value,
      }, f.token.value.trim());
      window.NTPAdmin.show(message, 'ok', t('Geregistreerd: ', 'Registered: ') + `${saved.programme}, ${saved.head_count} ${t('personen', 'people')}, ${saved.date}`);
      loadVisitors().catch(console.warn);
    } catch (error) {
      window.NTPAdmin.show(message, 'error', error.message);
    }
  });

  window.addEventListener('resize', () => { if (plot) plot.setSize({ width: Math.max(300, chartEl.clientWidth), height: 260 }); });
  window.NTP.onLanguage(() => { drawVisitors(); drawHeatmap(); });
  start().catch(error => console.error(error));
})();
