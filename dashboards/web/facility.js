// Facility: floor plan coloured by occupancy vs capacity, building total, offline devices,
// capacity warnings (rooms already full when the page opens, then as they happen), each room's
// week against last week, and the staff correction form.
(() => {
  'use strict';
  const { t, json, stream } = window.NTP;
  const plan = document.getElementById('plan');
  const building = document.getElementById('building');
  const tiles = new Map();
  const names = new Map();
  const devices = new Map();

  function colour(share) {
    if (share >= 1) return 'var(--full)';
    if (share >= 0.9) return 'var(--warn)';
    if (share <= 0) return 'var(--empty)';
    // Light to deeper green as the room fills up.
    const l = 86 - Math.round(share / 0.9 * 38);
    return `hsl(140 38% ${l}%)`;
  }

  function tile(room) {
    const el = document.createElement('div');
    el.className = 'room' + (room.kind === 'hall' ? ' hall' : '');
    el.dataset.room = room.id;
    el.innerHTML = '<span class="name"></span><span class="count"><b>0</b> <small></small></span>';
    plan.appendChild(el);
    const entry = { el, name: el.querySelector('.name'), count: el.querySelector('.count b'), capacity: el.querySelector('.count small'), room };
    tiles.set(room.id, entry);
    return entry;
  }

  function render(id, count, capacity) {
    const entry = tiles.get(id);
    if (!entry) return;
    const share = capacity > 0 ? count / capacity : 0;
    if (entry.count.textContent !== String(count)) {
      entry.el.classList.remove('changed');
      void entry.el.offsetWidth;
      entry.el.classList.add('changed');
    }
    entry.count.textContent = count;
    entry.capacity.textContent = '/ ' + capacity;
    entry.el.style.background = colour(share);
    entry.el.classList.toggle('warn', share >= 0.9 && share < 1);
    entry.el.classList.toggle('full', share >= 1);
    entry.el.title = `${names.get(id)?.[window.NTP.language] ?? id}: ${count} / ${capacity} (${Math.round(share * 100)} %)`;
  }

  function renderNames() {
    for (const [id, entry] of tiles) entry.name.textContent = names.get(id)?.[window.NTP.language] ?? id;
    const select = document.querySelector('#correction select[name=room]');
    for (const option of select.options) option.textContent = names.get(option.value)?.[window.NTP.language] ?? option.value;
  }

  function renderDevices() {
    const list = document.getElementById('offline');
    list.replaceChildren();
    const time = ts => ts ? new Date(ts).toLocaleString(window.NTP.locale(), { dateStyle: 'short', timeStyle: 'short' }) : t('nooit gezien', 'never seen');
    for (const [id, d] of [...devices].sort()) {
      if (d.state === 'online') continue;
      const li = document.createElement('li');
      li.textContent = `${id} – ${d.state === 'never-seen' ? t('nooit gezien', 'never seen') : t('offline sinds', 'offline since') + ' ' + time(d.last_seen)}`;
      list.appendChild(li);
    }
    document.getElementById('all-online').hidden = list.children.length > 0;
  }

  // Capacity warnings: built from the rooms' current level when the page opens (a room that was
  // full before is listed at once, with since when), then from the stream's capacity events.
  const warnings = [];
  const levels = new Map();

  function renderWarnings() {
    const list = document.getElementById('warnings');
    list.replaceChildren();
    for (const w of warnings) {
      const li = document.createElement('li');
      li.className = w.level;
      li.dataset.room = w.room;
      const name = names.get(w.room)?.[window.NTP.language] ?? w.room;
      const what = w.level === 'full' ? t('vol', 'full') : w.level === 'warning' ? t('bijna vol (90 %)', 'nearly full (90 %)') : t('weer onder 90 %', 'below 90 % again');
      const when = w.ts ? new Date(w.ts) : null;
      const today = when && when.toDateString() === new Date().toDateString();
      const time = when ? when.toLocaleString(window.NTP.locale(), today ? { timeStyle: 'short' } : { dateStyle: 'short', timeStyle: 'short' }) : '';
      const since = document.createElement('span');
      since.className = 'since';
      since.textContent = w.current ? (when ? t('sinds ', 'since ') + time : t('nu', 'now')) : time;
      li.append(since, ` · ${name}: ${what} – ${w.count} / ${w.capacity}`);
      list.appendChild(li);
    }
    document.getElementById('no-warnings').hidden = warnings.length > 0;
  }

  function addWarning(w) {
    warnings.unshift(w);
    while (warnings.length > 50) warnings.pop();
  }

  function warn(e) {
    levels.set(e.room, e.level);
    addWarning({ room: e.room, level: e.level, count: e.count, capacity: e.capacity, ts: e.ts, current: false });
    renderWarnings();
  }

  // The current level of every room from a snapshot: on opening, rooms at 90 % or more are listed;
  // after a reconnect, only rooms whose level changed while the stream was away.
  function syncLevels(snapshot, opening) {
    const rooms = [...snapshot.rooms].sort((a, b) => (a.capacity_level === 'full') - (b.capacity_level === 'full'));
    for (const r of rooms) {
      const level = r.capacity_level || 'ok';
      const known = levels.get(r.room) ?? 'ok';
      levels.set(r.room, level);
      if (opening ? level === 'ok' : level === known) continue;
      addWarning({ room: r.room, level, count: r.count, capacity: r.capacity, ts: r.level_since, current: level !== 'ok' });
    }
    renderWarnings();
  }

  // Week over week: the week shown starts on this Monday (null: this week).
  let weekDate = null;

  function isoDate(d) {
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  }

  function shiftWeek(days) {
    const base = weekDate ? new Date(weekDate + 'T12:00:00') : new Date();
    base.setDate(base.getDate() + days);
    const today = new Date();
    weekDate = base > today ? null : isoDate(base);
    loadWeeks().catch(console.warn);
  }

  let weeks = null;

  function renderWeeks() {
    if (!weeks) return;
    const n = window.NTP.number;
    const fmt = d => new Date(d + 'T12:00:00').toLocaleDateString(window.NTP.locale(), { day: 'numeric', month: 'short' });
    document.getElementById('weeks-title').textContent =
      `${t('week van', 'week of')} ${fmt(weeks.week_start)} ${t('tegen', 'against')} ${fmt(weeks.last_week_start)}`;
    document.getElementById('week-next').disabled = weeks.days_so_far < 7;
    const body = document.querySelector('#weeks tbody');
    body.replaceChildren();
    for (const r of weeks.rooms) {
      const tr = document.createElement('tr');
      tr.dataset.room = r.room;
      const name = document.createElement('td');
      name.textContent = names.get(r.room)?.[window.NTP.language] ?? r.room;
      const sparkCell = document.createElement('td');
      const spark = document.createElement('div');
      spark.className = 'spark';
      const most = Math.max(1, ...r.this_week.days.map(d => d.hours_in_use), ...r.last_week.days.map(d => d.hours_in_use));
      r.this_week.days.forEach((d, i) => {
        const before = r.last_week.days[i];
        const day = document.createElement('div');
        day.className = 'day' + (i >= weeks.days_so_far ? ' future' : '');
        day.title = `${fmt(d.date)}: ${n(d.hours_in_use, 1)} ${t('uur', 'h')}, ${t('piek', 'peak')} ${d.peak} · ${fmt(before.date)}: ${n(before.hours_in_use, 1)} ${t('uur', 'h')}, ${t('piek', 'peak')} ${before.peak}`;
        for (const [cls, value] of [['now', d.hours_in_use], ['before', before.hours_in_use]]) {
          const bar = document.createElement('span');
          bar.className = 'bar ' + cls;
          bar.style.height = `${Math.round(100 * value / most)}%`;
          day.appendChild(bar);
        }
        spark.appendChild(day);
      });
      sparkCell.appendChild(spark);
      const cell = (text, cls = 'number') => { const td = document.createElement('td'); td.className = cls; td.textContent = text; return td; };
      const change = r.change_pct;
      const changeCell = cell(change == null ? '–' : `${change > 0 ? '+' : ''}${n(change, 0)} %`, 'number' + (change > 0 ? ' up' : change < 0 ? ' down' : ''));
      changeCell.classList.add('change');
      const thisHours = cell(n(r.this_week.hours_in_use, 1));
      thisHours.classList.add('this-week');
      const lastHours = cell(n(r.last_week_to_date.hours_in_use, 1));
      lastHours.classList.add('last-week');
      lastHours.title = `${t('hele vorige week', 'all of last week')}: ${n(r.last_week.hours_in_use, 1)}`;
      tr.append(name, sparkCell, thisHours, lastHours, changeCell,
        cell(`${r.this_week.peak} / ${r.last_week_to_date.peak}`), cell(`${r.this_week.entries} / ${r.last_week_to_date.entries}`));
      body.appendChild(tr);
    }
  }

  async function loadWeeks() {
    weeks = await json('/api/v1/occupancy/weeks' + (weekDate ? `?date=${weekDate}` : ''));
    renderWeeks();
  }

  async function loadOccupancy(opening = false) {
    const snapshot = await json('/api/v1/occupancy');
    building.textContent = snapshot.building;
    for (const r of snapshot.rooms) render(r.room, r.count, r.capacity);
    syncLevels(snapshot, opening);
  }

  async function loadDevices() {
    for (const d of await json('/api/v1/devices')) devices.set(d.device, { state: d.state, last_seen: d.last_seen });
    renderDevices();
  }

  async function start() {
    const site = await json('/api/v1/site');
    const select = document.querySelector('#correction select[name=room]');
    // The hall first: every other room opens off it.
    const rooms = [...site.rooms].sort((a, b) => (b.kind === 'hall') - (a.kind === 'hall'));
    for (const room of rooms) {
      names.set(room.id, room.name);
      tile(room);
      render(room.id, 0, room.capacity);
      select.add(new Option(room.name.nl, room.id));
    }
    renderNames();
    await Promise.all([loadOccupancy(true), loadDevices(), loadWeeks()]);
    window.NTP.ready();
    stream({
      occupancy: e => { building.textContent = e.building; render(e.room, e.count, e.capacity); },
      capacity: warn,
      device: e => {
        const d = devices.get(e.device) || {};
        devices.set(e.device, { state: e.state === 'heartbeat' ? 'online' : e.state, last_seen: e.ts });
        if (d.state !== devices.get(e.device).state) renderDevices();
      },
    }, () => loadOccupancy().catch(console.warn));
    // Silence (no will, no heartbeat) shows up only in /devices: look again every half minute.
    setInterval(() => loadDevices().catch(console.warn), 30000);
    // The week's figures grow slowly (the day sums are rebuilt every few seconds): every five minutes is enough.
    setInterval(() => loadWeeks().catch(console.warn), 300000);
  }

  const form = document.getElementById('correction');
  const message = document.getElementById('correction-message');
  window.NTPAdmin.bind(form, 'staff');
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const f = form.elements;
    try {
      const saved = await window.NTPAdmin.post(`/api/v1/occupancy/${encodeURIComponent(f.room.value)}/corrections`,
        { count: Number(f.count.value), reason: f.reason.value, by: f.by.value }, f.token.value.trim());
      window.NTPAdmin.show(message, 'ok', t('Opgeslagen: ', 'Saved: ') + (names.get(f.room.value)?.[window.NTP.language] ?? f.room.value) + ' = ' + (saved.count ?? f.count.value));
      loadOccupancy().catch(console.warn);
    } catch (error) {
      window.NTPAdmin.show(message, 'error', error.message);
    }
  });

  document.getElementById('week-previous').addEventListener('click', () => shiftWeek(-7));
  document.getElementById('week-next').addEventListener('click', () => shiftWeek(7));
  window.NTP.onLanguage(() => { renderNames(); renderDevices(); renderWarnings(); renderWeeks(); });
  start().catch(error => { console.error(error); });
})();
