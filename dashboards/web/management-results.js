// Management: the yearly results beside the centre's targets and the previous year
// (GET /api/v1/reports/annual), and energy per month, this year against last year
// (GET /api/v1/energy?bucket=month, twice). Each section marks itself data-ready="1" when drawn.
(() => {
  'use strict';
  const { t, json, number } = window.NTP;
  const $ = id => document.getElementById(id);
  const yearInput = $('targets-year');
  const thisYear = new Date().getFullYear();
  let report = null;
  let energy = null;
  let plot = null;

  const cell = (text, className) => {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    return td;
  };
  const rowOf = cells => { const tr = document.createElement('tr'); tr.append(...cells); return tr; };
  // A difference: absolute (percentage points for a %) and relative; "–" when either side is missing (never 0).
  const change = (abs, pct, unit) => {
    if (abs == null) return cell('–', 'number change');
    const sign = v => (v > 0 ? '+' : '');
    const text = `${sign(abs)}${number(abs, abs % 1 === 0 ? 0 : 1)}${unit === '%' ? t(' %-punt', ' pp') : ''}` + (pct == null ? '' : ` (${sign(pct)}${number(pct, 1)} %)`);
    return cell(text, `number change${abs > 0 ? ' up' : abs < 0 ? ' down' : ''}`);
  };
  const units = { days: ['dagen', 'days'], people: ['personen', 'people'], entries: ['binnenkomsten', 'entries'], rooms: ['ruimtes', 'rooms'],
    pupils: ['leerlingen', 'pupils'], students: ['studenten', 'students'], groups: ['groepen', 'groups'], 'per week': ['per week', 'per week'] };
  const unit = u => (units[u] ? t(units[u][0], units[u][1]) : u);

  function drawTargets() {
    if (!report) return;
    const y = report.year;
    $('targets-col-value').textContent = report.partial ? `${y} ${t('(t/m vandaag)', '(to date)')}` : String(y);
    $('targets-col-target').textContent = `${t('Doel', 'Target')} ${y}`;
    $('targets-col-previous').textContent = String(y - 1);
    $('targets-table').querySelector('tbody').replaceChildren(...report.rows.map(r => {
      const tr = rowOf([
        // The unit after the label, unless the label already says it ("Bezoeken (binnenkomsten)").
        cell(t(r.label_nl, r.label_en).includes(`(${unit(r.unit)})`) ? t(r.label_nl, r.label_en) : `${t(r.label_nl, r.label_en)} (${unit(r.unit)})`),
        cell(r.display, 'number value'),
        cell(r.target == null ? '–' : number(r.target, r.target % 1 === 0 ? 0 : 1), 'number target'),
        change(r.vs_target, r.vs_target_pct, r.unit),
        cell(r.previous_display, 'number previous'),
        change(r.vs_previous, r.vs_previous_pct, r.unit),
      ]);
      tr.dataset.key = r.key;
      return tr;
    }));
    $('targets-note').textContent = (report.targets_source
      ? t(`Doelen: ${report.targets_source}.`, `Targets: ${report.targets_source}.`)
      : t(`Geen doelen vastgelegd voor ${y}.`, `No targets set for ${y}.`))
      + ' ' + t('– = geen doel of geen gegevens.', '– = no target or no data.')
      + (report.partial ? ' ' + t('Het jaar loopt nog: de cijfers zijn tot nu toe, vorig jaar is heel.', 'The year is not over: figures so far, the previous year whole.') : '');
    $('targets-card').dataset.ready = '1';
  }

  async function loadTargets() {
    const y = Number(yearInput.value) || thisYear;
    $('targets-card').dataset.ready = '0';
    $('targets-csv').href = window.NTPSite.api(`/api/v1/reports/annual?year=${y}&format=nl`);
    report = await json(`/api/v1/reports/annual?year=${y}`);
    drawTargets();
  }

  // Per month label (YYYY-MM) the building's use and solar in kWh, or null where no meter reported.
  async function year(y) {
    // Midday UTC on both ends: the collector covers the local months these instants fall in.
    const data = await json(`/api/v1/energy?bucket=month&from=${y}-01-01T12:00:00Z&to=${y}-12-31T12:00:00Z`);
    const months = new Map();
    data.buckets.forEach((b, i) => {
      const measured = data.meters.some(m => m.buckets[i] && (m.buckets[i].energy_wh > 0 || m.buckets[i].mean_power_w != null));
      months.set(b.label, measured ? { use: b.consumption_wh / 1000, solar: b.solar_wh / 1000 } : null);
    });
    return months;
  }

  function drawEnergy() {
    if (!energy) return;
    const { y, now, last } = energy;
    const names = t('jan feb mrt apr mei jun jul aug sep okt nov dec', 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec').split(' ');
    const key = (yy, m) => `${yy}-${String(m + 1).padStart(2, '0')}`;
    const months = names.map((name, m) => ({ name, a: now.get(key(y, m)) ?? null, b: last.get(key(y - 1, m)) ?? null }));
    $('energy-col-use').textContent = `${t('Verbruik', 'Use')} ${y}`;
    $('energy-col-use-last').textContent = `${t('Verbruik', 'Use')} ${y - 1}`;
    $('energy-col-solar').textContent = `${t('Zon', 'Solar')} ${y}`;
    $('energy-col-solar-last').textContent = `${t('Zon', 'Solar')} ${y - 1}`;
    const diff = (a, b) => (a == null || b == null ? cell('–', 'number change') : change(Math.round(a - b), b ? Math.round((a - b) / b * 1000) / 10 : null, 'kWh'));
    const kwh = v => cell(v == null ? '–' : number(v, 0), 'number');
    $('energy-table').querySelector('tbody').replaceChildren(...months.map(m => rowOf([
      cell(m.name), kwh(m.a?.use), kwh(m.b?.use), diff(m.a?.use, m.b?.use), kwh(m.a?.solar), kwh(m.b?.solar), diff(m.a?.solar, m.b?.solar)])));
    // Totals over the months both years have, so a year in progress is compared like for like.
    const both = months.filter(m => m.a && m.b);
    const sum = (f) => both.reduce((s, m) => s + f(m), 0);
    const total = both.length === 0 ? null : { ua: sum(m => m.a.use), ub: sum(m => m.b.use), sa: sum(m => m.a.solar), sb: sum(m => m.b.solar) };
    $('energy-table').querySelector('tfoot').replaceChildren(rowOf([
      cell(t(`totaal (${both.length} mnd. met gegevens in beide jaren)`, `total (${both.length} months with data in both years)`)),
      kwh(total?.ua), kwh(total?.ub), diff(total?.ua, total?.ub), kwh(total?.sa), kwh(total?.sb), diff(total?.sa, total?.sb)]));

    const el = $('energy-chart');
    const opts = {
      width: Math.max(300, el.clientWidth),
      height: 240,
      scales: { x: { time: false, range: () => [-0.5, 11.5] } },
      series: [
        { label: t('maand', 'month'), value: (u, i) => (i == null ? '' : names[i] ?? '') },
        { label: `${t('verbruik', 'use')} ${y}`, stroke: '#1f5fbf', width: 2.5, value: (u, v) => (v == null ? '–' : `${number(v, 0)} kWh`) },
        { label: `${t('verbruik', 'use')} ${y - 1}`, stroke: '#8fb0e3', width: 2, dash: [6, 4], value: (u, v) => (v == null ? '–' : `${number(v, 0)} kWh`) },
        { label: `${t('zon', 'solar')} ${y}`, stroke: '#d98a00', width: 2.5, value: (u, v) => (v == null ? '–' : `${number(v, 0)} kWh`) },
        { label: `${t('zon', 'solar')} ${y - 1}`, stroke: '#f0c56b', width: 2, dash: [6, 4], value: (u, v) => (v == null ? '–' : `${number(v, 0)} kWh`) },
      ],
      axes: [
        { values: (u, splits) => splits.map(i => (Number.isInteger(i) ? names[i] ?? '' : '')), space: 30 },
        { size: 60, label: 'kWh' },
      ],
    };
    if (plot) plot.destroy();
    plot = new uPlot(opts, [months.map((m, i) => i), months.map(m => m.a?.use ?? null), months.map(m => m.b?.use ?? null),
      months.map(m => m.a?.solar ?? null), months.map(m => m.b?.solar ?? null)], el);
    $('energy-card').dataset.ready = '1';
  }

  async function loadEnergy() {
    const y = thisYear;
    const [now, last] = await Promise.all([year(y), year(y - 1)]);
    energy = { y, now, last };
    drawEnergy();
  }

  const fail = (id, where) => error => {
    const note = $(id);
    note.textContent = error.message;
    note.classList.add('error');
    $(where).dataset.ready = 'error';
  };

  yearInput.value = new URLSearchParams(location.search).get('year') || thisYear;
  yearInput.addEventListener('change', () => loadTargets().catch(fail('targets-note', 'targets-card')));
  window.NTP.onLanguage(() => { drawTargets(); drawEnergy(); });
  window.addEventListener('resize', () => { if (plot) plot.setSize({ width: Math.max(300, $('energy-chart').clientWidth), height: 240 }); });
  loadTargets().catch(fail('targets-note', 'targets-card'));
  loadEnergy().catch(error => {
    $('energy-card').querySelector('p.muted').textContent = error.message;
    $('energy-card').dataset.ready = 'error';
  });
})();
