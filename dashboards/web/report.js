// The yearly report: GET /api/v1/reports/annual?year=YYYY, printable. Dutch first, English on a switch.
(() => {
  const $ = (id) => document.getElementById(id);
  let lang = localStorage.getItem('ntp-lang') === 'en' ? 'en' : 'nl';
  let report = null;
  const number = (v, digits = 0) => v === null || v === undefined ? '' :
    Number(v).toLocaleString(lang === 'nl' ? 'nl-NL' : 'en-GB', { maximumFractionDigits: digits });
  const cell = (text, cls) => { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; return td; };
  // A difference: absolute (percentage points for a %) and relative; "–" when either side is missing.
  const change = (abs, pct, unit) => {
    if (abs === null || abs === undefined) return cell('–', 'num change');
    const sign = abs > 0 ? '+' : '';
    const text = `${sign}${number(abs, 1)}${unit === '%' ? (lang === 'nl' ? ' %-punt' : ' pp') : ''}` + (pct === null || pct === undefined ? '' : ` (${pct > 0 ? '+' : ''}${number(pct, 1)} %)`);
    return cell(text, `num change ${abs > 0 ? 'up' : abs < 0 ? 'down' : ''}`);
  };
  const fill = (id, rows) => {
    const body = $(id).querySelector('tbody');
    body.replaceChildren(...rows.map((cells) => { const tr = document.createElement('tr'); tr.append(...cells); return tr; }));
  };

  function labels() {
    document.documentElement.lang = lang;
    document.querySelectorAll('[data-nl]').forEach((el) => { el.textContent = el.dataset[lang]; });
    $('lang').textContent = lang === 'nl' ? 'English' : 'Nederlands';
    $('title').textContent = lang === 'nl' ? 'Resultaten in cijfers' : 'Results in figures';
  }

  function render() {
    labels();
    if (!report) return;
    const generated = new Date(report.generated).toLocaleString(lang === 'nl' ? 'nl-NL' : 'en-GB', { timeZone: 'Europe/Amsterdam' });
    $('title').textContent += ` ${report.year} · ${report.site_name}`;
    $('subtitle').textContent = lang === 'nl'
      ? `Gemeten van 1 januari tot en met 31 december ${report.year} (Nederlandse tijd); opgesteld ${generated}.`
      : `Measured from 1 January to 31 December ${report.year} (Dutch time); generated ${generated}.`;
    const units = { days: 'dagen', people: 'personen', entries: 'binnenkomsten', rooms: 'ruimtes', pupils: 'leerlingen', students: 'studenten', groups: 'groepen', 'per week': 'per week' };
    const unit = (u) => (lang === 'nl' && units[u]) || u;
    const year = report.year;
    $('col-value').textContent = report.partial ? `${year} (${lang === 'nl' ? 't/m vandaag' : 'to date'})` : String(year);
    $('col-target').textContent = `${lang === 'nl' ? 'Doel' : 'Target'} ${year}`;
    $('col-previous').textContent = String(year - 1);
    fill('rows', report.rows.map((r) => [cell(lang === 'nl' ? r.label_nl : r.label_en), cell(r.display, 'num'), cell(unit(r.unit)),
      cell(r.target == null ? '–' : number(r.target, 1), 'num target'), change(r.vs_target, r.vs_target_pct, r.unit),
      cell(r.previous_display, 'num previous'), change(r.vs_previous, r.vs_previous_pct, r.unit), cell(r.source, 'muted')]));
    $('targets-note').textContent = report.targets_source
      ? (lang === 'nl' ? `Doelen: ${report.targets_source}. ` : `Targets: ${report.targets_source}. `) + (report.partial ? (lang === 'nl' ? 'Het jaar loopt nog: de cijfers zijn tot nu toe.' : 'The year is not over: figures so far.') : '')
      : (lang === 'nl' ? `Geen doelen vastgelegd voor ${year} (– = geen doel of geen gegevens).` : `No targets set for ${year} (– = no target or no data).`);
    fill('programmes', report.programmes.map((p) => [cell(p.programme), cell(p.target_group), cell(number(p.groups), 'num'), cell(number(p.head_count), 'num')]));
    fill('months', report.months.map((m) => [cell(m.month), cell(number(m.visits), 'num'), cell(m.unique_visitors.display, 'num'), cell(m.returning_visitors.display, 'num'),
      cell(number(m.group_head_count), 'num'), cell(number(m.event_days), 'num'), cell(number(m.consumption_kwh, 1), 'num'), cell(number(m.solar_kwh, 1), 'num')]));
    fill('rooms', report.rooms.per_room.map((r) => [cell(r.name_nl), cell(r.kind), cell(`${number(r.utilisation * 100, 1)} %`, 'num'),
      cell(`${r.days_in_use} / ${r.open_days}`, 'num'), cell(number(r.entries), 'num'), cell(r.in_use ? (lang === 'nl' ? 'ja' : 'yes') : (lang === 'nl' ? 'nee' : 'no'))]));
  }

  async function load() {
    const year = Number($('year').value) || new Date().getFullYear();
    $('csv').href = window.NTPSite.api(`/api/v1/reports/annual?year=${year}&format=nl`);
    $('csv-en').href = window.NTPSite.api(`/api/v1/reports/annual?year=${year}&format=en`);
    history.replaceState(null, '', `?year=${year}`);
    const response = await fetch(window.NTPSite.api(`/api/v1/reports/annual?year=${year}`));
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      $('error').hidden = false;
      $('error').textContent = problem.detail || problem.title || response.statusText;
      return;
    }
    $('error').hidden = true;
    report = await response.json();
    render();
  }

  $('year').value = new URLSearchParams(location.search).get('year') || new Date().getFullYear();
  $('show').addEventListener('click', load);
  $('print').addEventListener('click', () => window.print());
  $('year').addEventListener('change', load);
  $('lang').addEventListener('click', () => { lang = lang === 'nl' ? 'en' : 'nl'; localStorage.setItem('ntp-lang', lang); render(); });
  labels();
  load().finally(() => { document.body.dataset.ready = '1'; });
})();
