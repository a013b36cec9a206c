// Facility: floor plan coloured by occupancy vs capacity, building total, offline devices,
// capacity warnings as they happen and the staff correction form.
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

  function warn(e) {
    const list = document.getElementById('warnings');
    const li = document.createElement('li');
    li.className = e.level;
    const name = names.get(e.room)?.[window.NTP.language] ?? e.room;
    const when = new Date(e.ts).toLocaleTimeString(window.NTP.locale());
    const what = e.level === 'full' ? t('vol', 'full') : e.level === 'warning' ? t('bijna vol (90 %)', 'nearly full (90 %)') : t('weer onder 90 %', 'below 90 % again');
    li.textContent = `${when} · ${name}: ${what} – ${e.count} / ${e.capacity}`;
    list.prepend(li);
    while (list.children.length > 50) list.lastChild.remove();
    document.getElementById('no-warnings').hidden = true;
  }

  async function loadOccupancy() {
    const snapshot = await json('/api/v1/occupancy');
    building.textContent = snapshot.building;
    for (const r of snapshot.rooms) render(r.room, r.count, r.capacity);
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
    await Promise.all([loadOccupancy(), loadDevices()]);
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

  window.NTP.onLanguage(() => { renderNames(); renderDevices(); });
  start().catch(error => { console.error(error); });
})();
