// DC-Lab statistics of a window, as the collector computes them from the stored readings
// (/api/v1/series/stats): min, mean and max of voltage, current and power, energy (Wh) and charge
// (Ah), the time they cover, gaps left out and the source (raw readings or minute rollups).
// Shared by the bench cards and the history (dc-lab.js) and the XY view (dc-lab-xy.js).
(() => {
  'use strict';
  const { t, json, number } = window.NTP;

  const rows = [
    { field: 'voltage_v', nl: 'spanning', en: 'voltage', unit: 'V', digits: 2, css: 'v' },
    { field: 'current_a', nl: 'stroom', en: 'current', unit: 'A', digits: 3, css: 'a' },
    { field: 'power_w', nl: 'vermogen', en: 'power', unit: 'W', digits: 1, css: 'w' },
  ];

  // Small amounts in milli-units, so half a minute at 24 W reads 200,0 mWh rather than 0,200 Wh.
  function amount(value, unit) {
    if (value == null) return '–';
    const abs = Math.abs(value);
    if (abs >= 1000) return number(value / 1000, 3) + ' k' + unit;
    if (abs >= 1) return number(value, 3) + ' ' + unit;
    return number(value * 1000, 1) + ' m' + unit;
  }

  function seconds(s) {
    if (s < 120) return number(s, s < 10 ? 1 : 0) + ' s';
    if (s < 7200) return number(s / 60, 1) + ' min';
    return number(s / 3600, 1) + ' h';
  }

  const sources = {
    raw: ['alle metingen', 'every reading'],
    minute: ['minuutgemiddelden (ouder dan de bewaartijd van de metingen)', 'minute means (older than the readings are kept)'],
    'minute+raw': ['minuutgemiddelden en metingen', 'minute means and readings'],
  };

  function panel(el) {
    el.classList.add('stats-panel');
    let last = null;
    let lastError = null;

    function render() {
      el.replaceChildren();
      if (lastError) {
        const p = document.createElement('p');
        p.className = 'muted stats-error';
        p.textContent = lastError.status === 404 ? t('Nog geen metingen opgeslagen.', 'No readings stored yet.') : lastError.message;
        el.appendChild(p);
        return;
      }

      const table = document.createElement('table');
      table.className = 'stats-table';
      const head = table.createTHead().insertRow();
      for (const text of ['', 'min', t('gem.', 'mean'), 'max']) {
        const th = document.createElement('th');
        th.textContent = text;
        if (text) th.className = 'number';
        head.appendChild(th);
      }
      const body = table.createTBody();
      for (const row of rows) {
        const f = last && last.fields[row.field];
        const tr = body.insertRow();
        tr.dataset.field = row.field;
        const name = tr.insertCell();
        name.textContent = t(row.nl, row.en);
        name.className = row.css;
        for (const key of ['min', 'mean', 'max']) {
          const td = tr.insertCell();
          td.className = 'number ' + key;
          td.textContent = f && f[key] != null ? number(f[key], row.digits) + ' ' + row.unit : '–';
        }
      }
      el.appendChild(table);

      const totals = document.createElement('p');
      totals.className = 'stats-totals';
      const energy = document.createElement('b');
      energy.className = 'energy';
      energy.textContent = amount(last ? last.energy_wh : null, 'Wh');
      const charge = document.createElement('b');
      charge.className = 'charge';
      charge.textContent = amount(last ? last.charge_ah : null, 'Ah');
      totals.append(t('energie ', 'energy '), energy, ' · ', t('lading ', 'charge '), charge);
      el.appendChild(totals);

      const note = document.createElement('p');
      note.className = 'muted stats-note';
      if (last) {
        const count = last.fields.power_w ? last.fields.power_w.count : 0;
        const parts = [`${number(count)} ${t('metingen', 'readings')}`];
        if (last.covered_s > 0) parts.push(t('geïntegreerd over ', 'integrated over ') + seconds(last.covered_s));
        if (last.gaps > 0) {
          parts.push(t(`${last.gaps} ${last.gaps === 1 ? 'gat' : 'gaten'} langer dan ${number(last.max_gap_s)} s niet meegeteld`,
            `${last.gaps} ${last.gaps === 1 ? 'gap' : 'gaps'} longer than ${number(last.max_gap_s)} s left out`));
        }
        const source = sources[last.source] || [last.source, last.source];
        parts.push(t('bron: ', 'source: ') + t(source[0], source[1]));
        note.textContent = parts.join(' · ');
      } else {
        note.textContent = t('berekenen…', 'computing…');
      }
      el.appendChild(note);
    }

    render();
    window.NTP.onLanguage(render);
    return {
      show(result) {
        last = result;
        lastError = null;
        // For tests and monitors: the figures as numbers, not as formatted text.
        el.dataset.source = result ? result.source : '';
        el.dataset.energyWh = result && result.energy_wh != null ? String(result.energy_wh) : '';
        el.dataset.count = result && result.fields.power_w ? String(result.fields.power_w.count) : '0';
        render();
      },
      error(error) {
        lastError = error;
        render();
      },
    };
  }

  const load = (sensor, from, to) =>
    json(`/api/v1/series/stats?sensor=${encodeURIComponent(sensor)}&from=${from.toISOString()}&to=${to.toISOString()}`);

  const csvUrl = (sensor, from, to, dialect) => window.NTPSite.api(
    `/api/v1/series.csv?sensor=${encodeURIComponent(sensor)}&from=${from.toISOString()}&to=${to.toISOString()}` + (dialect === 'excel-nl' ? '&dialect=excel-nl' : ''));

  window.NTPStats = { panel, load, csvUrl, amount };
})();
