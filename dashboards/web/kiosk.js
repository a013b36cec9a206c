// Technodiscovery kiosk: building power and solar power now in everyday terms, the sun's share of
// today's electricity, today's power curve against yesterday's, a CO2 traffic light, people in the
// building and one slide per lab; rotates between panels by itself. No login, Dutch by default.
// Runs unattended for days: every array has a fixed size (the day's slots, the site's labs), the
// stream reconnects by itself (common.js) and the figures are fetched again every few minutes.
(() => {
  'use strict';
  const { t, json, stream, number } = window.NTP;
  const KETTLE_W = 2000;        // a kettle: about 2 kW
  const PHONE_WH = 15;          // one full smartphone charge: about 15 Wh
  const CYCLIST_W = 100;        // a fit cyclist keeps up about 100 W
  const CONSOLE_W = 150;        // a games console with its screen: about 150 W
  const BUS_SEATS = 50;         // a school bus
  const query = new URLSearchParams(location.search);
  const CO2_SENSOR = query.get('co2') || 'climate-technodiscovery';
  const ROTATE_MS = Number(query.get('rotate')) || 12000;
  const CURVE_REFRESH_MS = 60000;   // the curve and the sun's share, computed by the collector
  const LABS_REFRESH_MS = 300000;   // today's walk-ins and energy per lab

  const power = { grid: null, solar: null };
  let meters = { grid: 'meter-grid', solar: 'meter-solar' };
  let co2 = null;
  let people = null;

  // The site as the kiosk needs it, filled by loadSite().
  let site = null;
  const meterRole = new Map();      // meter id → 'grid' | 'solar' | 'lab'
  const labs = [];                  // { room, panel }
  const labCount = new Map();       // room → people now
  const labEntries = new Map();     // room → walk-ins today
  const labEnergy = new Map();      // room → Wh today (rooms with a lab meter)
  const airSensors = new Map();     // climate sensor id in a lab → room
  const air = new Map();            // room → { sensor, co2, temp } of the sensor that measures CO2 there (from /api/v1/labs)

  // Today's and yesterday's curve (GET /api/v1/energy/curve) and the live mean of the current slot.
  let curves = null;
  let live = { date: null, slot: -1, meters: new Map() };

  // The site's wall clock (its time zone, not the browser's): which day and which slot it is now.
  let clockFormat = null;
  function siteClock() {
    const zone = (curves && curves.time_zone) || (site && site.time_zone) || 'Europe/Amsterdam';
    if (!clockFormat || clockFormat.resolvedOptions().timeZone !== zone) {
      clockFormat = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    }
    const parts = {};
    for (const p of clockFormat.formatToParts(new Date())) {
      parts[p.type] = p.value;
    }
    return { date: `${parts.year}-${parts.month}-${parts.day}`, minutes: Number(parts.hour) * 60 + Number(parts.minute) };
  }

  function render() {
    // The grid meter counts what comes in from outside; with solar on the roof the building uses both.
    const used = power.grid == null ? null : power.grid + (power.solar ?? 0);
    document.getElementById('power-now').textContent = used == null ? '–' : number(used / 1000, 1);
    document.getElementById('kettles').textContent = used == null ? '–' : number(Math.round(used / KETTLE_W));
    const sun = power.solar;
    document.getElementById('solar-now').textContent = sun == null ? '–' : number(sun / 1000, 1);
    document.getElementById('phones').textContent = sun == null ? '–' : number(Math.round(sun / PHONE_WH));
    document.getElementById('cyclists').textContent = sun == null ? '–' : number(Math.round(sun / CYCLIST_W));
    document.getElementById('people-now').textContent = people == null ? '–' : number(people);
    document.getElementById('buses').textContent = people == null ? '–' : number(people / BUS_SEATS, 1);
    const panel = document.querySelector('[data-panel=co2]');
    document.getElementById('co2-now').textContent = co2 == null ? '–' : number(Math.round(co2));
    const level = co2 == null ? '' : co2 < 800 ? 'green' : co2 < 1200 ? 'orange' : 'red';
    panel.classList.remove('co2-green', 'co2-orange', 'co2-red');
    if (level) panel.classList.add('co2-' + level);
    document.getElementById('co2-verdict').textContent = {
      green: t('Groen: de lucht is fris.', 'Green: the air is fresh.'),
      orange: t('Oranje: zet straks een raam open.', 'Orange: open a window soon.'),
      red: t('Rood: nu een raam open!', 'Red: open a window now!'),
    }[level] || '';
  }

  // ---- The sun's share of today's electricity ----

  const percent = share => share == null ? '–' : number(share * 100, share < 0.1 ? 1 : 0);

  function renderShare() {
    if (!curves) return;
    const today = curves.today;
    const share = today.solar_share;
    document.getElementById('share-today').textContent = percent(share);
    document.getElementById('share-fill').style.width = share == null ? '0%' : Math.min(100, share * 100).toFixed(1) + '%';
    let verdict;
    if (share == null) verdict = t('Vandaag is er nog geen stroom gemeten.', 'No electricity has been measured yet today.');
    else if (share >= 1) verdict = t('De zon maakte vandaag meer stroom dan wij gebruikten!', 'Today the sun made more electricity than we used!');
    else if (share < 0.05) verdict = t('Vandaag kwam er bijna niets van de zon: het is donker of bewolkt.', 'Almost nothing came from the sun today: it is dark or cloudy.');
    else {
      const tens = Math.max(1, Math.round(share * 10));
      verdict = t(`Van elke 10 lampen die hier branden, branden er ${tens} op zonnestroom.`, `Of every 10 lamps on here, ${tens} run on sunshine.`);
    }
    document.getElementById('share-verdict').textContent = verdict;
    document.getElementById('share-phones').textContent = number(Math.round(today.solar_wh / PHONE_WH));
    const hours = today.solar_wh / CONSOLE_W;
    document.getElementById('share-gaming').textContent = number(hours, hours < 10 ? 1 : 0);
    document.getElementById('share-yesterday').textContent = curves.yesterday.solar_share == null ? '–' : percent(curves.yesterday.solar_share) + ' %';
    document.getElementById('solar-today').textContent = number(today.solar_wh / 1000, 1);
  }

  // ---- Today's power curve against yesterday's ----

  let plot = null;
  let drawTimer = null;
  const kw = values => values.map(v => v == null ? null : v / 1000);

  // The current slot from the live readings: per meter the mean of what arrived in this slot.
  function liveRole(role) {
    const ids = [...meterRole].filter(([, r]) => r === role).map(([id]) => id);
    if (!ids.length || ids.some(id => !live.meters.get(id)?.n)) return null;
    return ids.reduce((sum, id) => sum + live.meters.get(id).sum / live.meters.get(id).n, 0);
  }

  function todayValues() {
    const use = curves.today.use_w.slice();
    const sun = curves.today.solar_w.slice();
    if (live.date === curves.date && live.slot >= 0 && live.slot < use.length) {
      const grid = liveRole('grid');
      const solar = liveRole('solar');
      if (solar != null) sun[live.slot] = solar;
      if (grid != null) use[live.slot] = grid + (sun[live.slot] ?? 0);
    }
    return { use, sun };
  }

  function curveOptions(box) {
    const font = '26px system-ui, sans-serif';
    const axis = { stroke: '#d7e3f4', font, grid: { stroke: '#ffffff1f', width: 1 }, ticks: { stroke: '#ffffff33', width: 1 } };
    return {
      width: Math.max(300, box.clientWidth),
      height: Math.max(200, box.clientHeight),
      legend: { show: false },
      cursor: { show: false },
      // Room on the right for the last hour's label (24:00), which sits on the edge.
      padding: [16, 48, 0, 0],
      scales: { x: { time: false, range: [0, 24] }, y: { range: (u, min, max) => [0, Math.max(1, (max || 0) * 1.1)] } },
      axes: [
        { ...axis, size: 56, splits: () => [0, 3, 6, 9, 12, 15, 18, 21, 24], values: (u, splits) => splits.map(v => String(v).padStart(2, '0') + ':00') },
        { ...axis, size: 110, label: 'kW', labelFont: font, labelSize: 40, values: (u, splits) => splits.map(v => number(v, v !== 0 && Math.abs(v) < 10 && v % 1 ? 1 : 0)) },
      ],
      series: [
        {},
        { label: 'yesterday use', stroke: '#ffffff66', width: 3, dash: [12, 10] },
        { label: 'yesterday sun', stroke: '#ffd43b66', width: 3, dash: [12, 10] },
        { label: 'today use', stroke: '#4dabf7', width: 7 },
        { label: 'today sun', stroke: '#ffd43b', width: 7, fill: '#ffd43b26' },
      ],
    };
  }

  function drawCurve() {
    drawTimer = null;
    if (!curves || typeof uPlot === 'undefined') return;
    const box = document.getElementById('curve-chart');
    const hoursPerSlot = curves.step_minutes / 60;
    const xs = curves.slots.map((s, i) => i * hoursPerSlot);
    const { use, sun } = todayValues();
    const data = [xs, kw(curves.yesterday.use_w), kw(curves.yesterday.solar_w), kw(use), kw(sun)];
    if (!plot) {
      plot = new uPlot(curveOptions(box), data, box);
      // The box changes with the window and with the text around it: the chart follows.
      new ResizeObserver(() => {
        const width = Math.max(300, box.clientWidth), height = Math.max(200, box.clientHeight);
        if (width !== plot.width || height !== plot.height) plot.setSize({ width, height });
      }).observe(box);
    } else plot.setData(data);
    box.dataset.today = String(use.filter(v => v != null).length);
    box.dataset.yesterday = String(curves.yesterday.use_w.filter(v => v != null).length);
    renderCurveNow(use);
  }

  function renderCurveNow(use) {
    const slot = live.slot >= 0 ? live.slot : Math.floor(siteClock().minutes / curves.step_minutes);
    const now = use[slot] ?? use[slot - 1];
    const then = curves.yesterday.use_w[slot];
    const el = document.getElementById('curve-now');
    if (now == null) { el.textContent = ''; return; }
    let text = t(`Nu: ${number(now / 1000, 1)} kW.`, `Now: ${number(now / 1000, 1)} kW.`);
    if (then != null) {
      const more = now > then * 1.05, less = now < then * 0.95;
      text += ' ' + t(`Gisteren om deze tijd: ${number(then / 1000, 1)} kW`, `Yesterday at this time: ${number(then / 1000, 1)} kW`)
        + (more ? t(', nu dus meer.', ', so more now.') : less ? t(', nu dus minder.', ', so less now.') : t(', ongeveer even veel.', ', about the same.'));
    }
    el.textContent = text;
  }

  const scheduleCurve = () => { if (!drawTimer) drawTimer = setTimeout(drawCurve, 2000); };

  let curvesLoading = null;
  // One fetch at a time: at midnight every live reading asks for the new day's curves.
  function loadCurves() {
    if (!curvesLoading) curvesLoading = fetchCurves().finally(() => { curvesLoading = null; });
    return curvesLoading;
  }

  async function fetchCurves() {
    curves = await json('/api/v1/energy/curve');
    const clock = siteClock();
    const slot = Math.floor(clock.minutes / curves.step_minutes);
    if (live.date !== curves.date || live.slot !== slot) live = { date: curves.date, slot, meters: new Map() };
    renderShare();
    drawCurve();
  }

  function onMeterPower(sensor, watts) {
    if (!curves) return;
    const clock = siteClock();
    if (clock.date !== curves.date) { loadCurves().catch(console.warn); return; } // a new day: new curves
    const slot = Math.floor(clock.minutes / curves.step_minutes);
    if (live.slot !== slot) live = { date: curves.date, slot, meters: new Map() };
    const m = live.meters.get(sensor) || { sum: 0, n: 0 };
    m.sum += watts;
    m.n += 1;
    live.meters.set(sensor, m);
    scheduleCurve();
  }

  // ---- One slide per lab ----

  function roomName(room) { return window.NTP.roomName(room); }

  function buildLabs() {
    const template = document.getElementById('lab-template');
    const main = document.getElementById('panels');
    const rooms = site.rooms.filter(r => r.kind === 'lab');
    rooms.forEach((room, i) => {
      const panel = template.content.firstElementChild.cloneNode(true);
      panel.dataset.panel = 'lab-' + room.id;
      panel.dataset.room = room.id;
      panel.dataset.index = String(i + 1);
      main.appendChild(panel);
      labs.push({ room, panel });
    });
    for (const s of site.sensors) {
      if (s.kind === 'climate' && rooms.some(r => r.id === s.room)) airSensors.set(s.id, s.room);
    }
    window.NTP.applyLanguage();
  }

  // The lab that is highest (or lowest) on a figure, when at least two labs have it and it differs.
  function leader(map, lowest = false) {
    const known = labs.filter(l => map(l) != null);
    if (known.length < 2) return null;
    const sorted = known.slice().sort((a, b) => lowest ? map(a) - map(b) : map(b) - map(a));
    return map(sorted[0]) === map(sorted[1]) ? null : sorted[0];
  }

  function renderLabs() {
    if (!labs.length) return;
    const countOf = l => labCount.get(l.room.id) ?? null;
    const tempOf = l => air.get(l.room.id)?.temp ?? null;
    const co2Of = l => air.get(l.room.id)?.co2 ?? null;
    const entriesOf = l => labEntries.get(l.room.id) ?? null;
    const busiest = leader(countOf);
    const warmest = leader(tempOf);
    const freshest = leader(co2Of, true);
    const mostEntries = leader(entriesOf);
    const mostEnergy = leader(l => labEnergy.get(l.room.id) ?? null);
    const maxCount = Math.max(1, ...labs.map(l => countOf(l) ?? 0));
    const ranked = labs.slice().sort((a, b) => (countOf(b) ?? -1) - (countOf(a) ?? -1));

    for (const lab of labs) {
      const p = lab.panel;
      const id = lab.room.id;
      const name = roomName(lab.room);
      p.querySelector('.lab-name').textContent = name;
      p.querySelector('.lab-index').textContent = t(`lab ${p.dataset.index} van ${labs.length}`, `lab ${p.dataset.index} of ${labs.length}`);
      const count = countOf(lab);
      p.querySelector('.lab-people').textContent = count == null ? '–' : number(count);
      const entries = entriesOf(lab);
      p.querySelector('.lab-entries').textContent = entries == null ? '–' : number(entries);
      const a = air.get(id);
      p.querySelectorAll('.air').forEach(el => el.classList.toggle('hidden', !a));
      p.querySelector('.lab-temp').textContent = a?.temp == null ? '–' : number(a.temp, 1);
      p.querySelector('.lab-co2').textContent = a?.co2 == null ? '–' : number(Math.round(a.co2));
      const wh = labEnergy.get(id);
      p.querySelector('.energy').classList.toggle('hidden', wh == null);
      p.querySelector('.lab-kwh').textContent = wh == null ? '–' : number(wh / 1000, 1);

      // Every lab's people now, this one lit up: which lab is busiest at a glance.
      const bars = ranked.map(other => {
        const li = document.createElement('li');
        if (other === lab) li.className = 'me';
        const label = document.createElement('span');
        label.textContent = roomName(other.room);
        const track = document.createElement('span');
        track.className = 'track';
        const fill = document.createElement('i');
        fill.style.width = ((countOf(other) ?? 0) / maxCount * 100).toFixed(1) + '%';
        track.appendChild(fill);
        const value = document.createElement('b');
        value.textContent = countOf(other) == null ? '–' : number(countOf(other));
        li.append(label, track, value);
        return li;
      });
      p.querySelector('.lab-bars').replaceChildren(...bars);

      const facts = [];
      if (busiest === lab && count > 0) facts.push(t('Hier zijn nu de meeste mensen van alle labs!', 'Right now this is the busiest lab of all!'));
      else if (busiest && countOf(busiest) > 0) facts.push(t(`Het drukst is het nu in ${roomName(busiest.room)}.`, `The busiest lab right now is ${roomName(busiest.room)}.`));
      else if (labs.every(l => !countOf(l))) facts.push(t('Er is nu niemand in de labs.', 'Nobody is in the labs right now.'));
      if (mostEntries === lab && entries > 0) facts.push(t('Hier liepen vandaag de meeste mensen naar binnen.', 'More people walked in here today than into any other lab.'));
      if (warmest === lab) facts.push(t(`Dit is nu het warmste lab: ${number(a.temp, 1)} °C.`, `This is the warmest lab right now: ${number(a.temp, 1)} °C.`));
      if (freshest === lab) facts.push(t('Hier is de lucht nu het frisst van alle labs.', 'The air here is the freshest of all labs right now.'));
      if (a?.co2 >= 1200) facts.push(t('De lucht is hier bedompt: tijd om een raam open te zetten!', 'The air here is stuffy: time to open a window!'));
      if (wh != null && wh > 0) {
        const phones = number(Math.round(wh / PHONE_WH));
        facts.push(mostEnergy === lab
          ? t(`Dit lab gebruikte vandaag de meeste stroom: genoeg om ${phones} keer je telefoon op te laden.`, `This lab used the most electricity today: enough to charge your phone ${phones} times.`)
          : t(`Dit lab gebruikte vandaag genoeg stroom om ${phones} keer je telefoon op te laden.`, `This lab used enough electricity today to charge your phone ${phones} times.`));
      }
      p.querySelector('.lab-facts').replaceChildren(...facts.map(f => { const li = document.createElement('li'); li.textContent = f; return li; }));
    }
  }

  // The collector names a lab's first climate sensor with CO2 as its air.
  function co2FromLabs() {
    const room = airSensors.get(CO2_SENSOR);
    return room != null && site.sensors.find(s => s.kind === 'climate' && s.room === room)?.id === CO2_SENSOR;
  }

  // One call for every lab (GET /api/v1/labs): people now, walk-ins today, air, energy today.
  async function loadLabs() {
    if (!labs.length) return;
    const result = await json('/api/v1/labs');
    labEnergy.clear();
    for (const lab of result.labs) {
      labCount.set(lab.room, lab.count);
      labEntries.set(lab.room, lab.entries_today);
      if (lab.energy_wh_today != null) labEnergy.set(lab.room, lab.energy_wh_today);
      if (lab.air) air.set(lab.room, { sensor: lab.air.sensor, co2: lab.air.co2_ppm, temp: lab.air.temperature_c });
      else air.delete(lab.room);
      if (lab.air && lab.air.sensor === CO2_SENSOR && co2 == null) co2 = lab.air.co2_ppm;
    }
    render();
    renderLabs();
  }

  // ---- Loading ----

  async function loadSite() {
    site = await json('/api/v1/site');
    for (const m of site.meters) {
      meterRole.set(m.id, m.role);
      if (m.role === 'grid' || m.role === 'solar') meters[m.role] = m.id;
    }
    const co2Sensor = site.sensors.find(s => s.id === CO2_SENSOR);
    const room = co2Sensor && site.rooms.find(r => r.id === co2Sensor.room);
    const roomNameText = () => room ? roomName(room) : CO2_SENSOR;
    document.getElementById('co2-room').textContent = roomNameText();
    window.NTP.onLanguage(() => { document.getElementById('co2-room').textContent = roomNameText(); });
    buildLabs();
    show(current); // the dots: one per panel, the labs' too
  }

  async function load() {
    const now = new Date();
    const hourAgo = new Date(now.getTime() - 3600 * 1000);
    const [energy, occupancy, airNow] = await Promise.all([
      json(`/api/v1/energy?bucket=hour&from=${hourAgo.toISOString()}&to=${now.toISOString()}`),
      json('/api/v1/occupancy'),
      // The traffic light's sensor as a lab's air comes with /api/v1/labs; asking the series of a
      // sensor that has not reported yet would be a 404 in the console.
      co2FromLabs() ? null : json(`/api/v1/series?sensor=${encodeURIComponent(CO2_SENSOR)}&field=co2_ppm&from=${new Date(now.getTime() - 1800 * 1000).toISOString()}&points=30`).catch(() => null),
      loadCurves(),
    ]);
    for (const role of ['grid', 'solar']) {
      const meter = energy.meters.find(m => m.meter === meters[role]);
      const recent = meter?.buckets.filter(b => b.mean_power_w != null).at(-1);
      if (recent && power[role] == null) power[role] = recent.mean_power_w;
    }
    people = occupancy.building;
    for (const r of occupancy.rooms) labCount.set(r.room, r.count);
    if (airNow && airNow.points.length && co2 == null) co2 = airNow.points.at(-1).mean;
    render();
    renderLabs();
  }

  stream({
    reading: e => {
      if (!e.values) return;
      if (e.kind === 'energy' && e.values.power_w != null) {
        const role = meterRole.get(e.sensor);
        if (role === 'grid' || role === 'solar') onMeterPower(e.sensor, e.values.power_w);
        if (e.sensor === meters.grid) power.grid = e.values.power_w;
        else if (e.sensor === meters.solar) power.solar = e.values.power_w;
        else return;
        render();
      } else if (e.kind === 'climate') {
        if (e.sensor === CO2_SENSOR && e.values.co2_ppm != null) {
          co2 = e.values.co2_ppm;
          render();
        }
        // Only the sensor the collector named as the lab's air (a battery thermometer is not).
        const room = airSensors.get(e.sensor);
        if (room && e.values.co2_ppm != null && (!air.has(room) || air.get(room).sensor === e.sensor)) {
          air.set(room, { sensor: e.sensor, co2: e.values.co2_ppm, temp: e.values.temperature_c ?? air.get(room)?.temp ?? null });
          renderLabs();
        }
      }
    },
    occupancy: e => {
      people = e.building;
      labCount.set(e.room, e.count);
      render();
      if (labs.some(l => l.room.id === e.room)) renderLabs();
    },
  });

  // ---- Rotation ----

  const dots = document.getElementById('dots');
  let current = 0;
  const panels = () => [...document.querySelectorAll('#panels > .panel')];
  function show(i) {
    const all = panels();
    current = (i + all.length) % all.length;
    all.forEach((p, n) => p.classList.toggle('active', n === current));
    while (dots.children.length < all.length) dots.appendChild(document.createElement('i'));
    [...dots.children].forEach((d, n) => d.classList.toggle('on', n === current));
  }
  const start = query.get('panel');
  const showStart = () => show(Math.max(0, panels().findIndex(p => p.dataset.panel === start)));
  showStart();
  setInterval(() => show(current + 1), ROTATE_MS);

  window.NTP.onLanguage(() => { render(); renderShare(); renderLabs(); if (curves) renderCurveNow(todayValues().use); });
  // A kiosk PC may start before the collector: without the site file, try again in half a minute.
  function boot() {
    loadSite()
      .then(() => { if (start && start.startsWith('lab-')) showStart(); return load(); })
      .then(() => loadLabs())
      .then(window.NTP.ready, error => { console.error(error); if (!site) setTimeout(boot, 30000); });
  }
  boot();
  // Refresh the curve and the sun's share every minute, the rest every five minutes.
  setInterval(() => loadCurves().catch(console.warn), CURVE_REFRESH_MS);
  setInterval(() => { load().catch(console.warn); loadLabs().catch(console.warn); }, LABS_REFRESH_MS);
})();

// A tap anywhere (apart from the language button) makes the kiosk full screen, for a tablet or a
// screen without --kiosk mode.
document.addEventListener('click', event => {
  if (event.target.closest('button') || document.fullscreenElement || !document.documentElement.requestFullscreen) return;
  document.documentElement.requestFullscreen().catch(() => { /* not allowed here: stay in the window */ });
});
