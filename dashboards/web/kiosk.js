// Technodiscovery kiosk: building power and solar power now in everyday terms, a CO2 traffic light,
// people in the building; rotates between panels by itself. No login, Dutch by default.
(() => {
  'use strict';
  const { t, json, stream, number } = window.NTP;
  const KETTLE_W = 2000;        // a kettle: about 2 kW
  const PHONE_WH = 15;          // one full smartphone charge: about 15 Wh
  const CYCLIST_W = 100;        // a fit cyclist keeps up about 100 W
  const BUS_SEATS = 50;         // a school bus
  const CO2_SENSOR = new URLSearchParams(location.search).get('co2') || 'climate-technodiscovery';
  const ROTATE_MS = Number(new URLSearchParams(location.search).get('rotate')) || 12000;

  const power = { grid: null, solar: null };
  let meters = { grid: 'meter-grid', solar: 'meter-solar' };
  let co2 = null;
  let people = null;

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

  async function load() {
    const site = await json('/api/v1/site');
    for (const m of site.meters) if (m.role === 'grid' || m.role === 'solar') meters[m.role] = m.id;
    const co2Sensor = site.sensors.find(s => s.id === CO2_SENSOR);
    const room = co2Sensor && site.rooms.find(r => r.id === co2Sensor.room);
    const roomName = () => room ? window.NTP.roomName(room) : CO2_SENSOR;
    document.getElementById('co2-room').textContent = roomName();
    window.NTP.onLanguage(() => { document.getElementById('co2-room').textContent = roomName(); });

    const now = new Date();
    const midnight = new Date(now.getFullYear(), now.getMonth(), now.getDate());
    const hourAgo = new Date(now.getTime() - 3600 * 1000);
    const [energy, today, occupancy, air] = await Promise.all([
      json(`/api/v1/energy?bucket=hour&from=${hourAgo.toISOString()}&to=${now.toISOString()}`),
      json(`/api/v1/energy?bucket=day&from=${midnight.toISOString()}&to=${now.toISOString()}`),
      json('/api/v1/occupancy'),
      json(`/api/v1/series?sensor=${encodeURIComponent(CO2_SENSOR)}&field=co2_ppm&from=${new Date(now.getTime() - 1800 * 1000).toISOString()}&points=30`).catch(() => null),
    ]);
    for (const role of ['grid', 'solar']) {
      const meter = energy.meters.find(m => m.meter === meters[role]);
      const recent = meter?.buckets.filter(b => b.mean_power_w != null).at(-1);
      if (recent && power[role] == null) power[role] = recent.mean_power_w;
    }
    document.getElementById('solar-today').textContent = number(today.totals.solar_wh / 1000, 1);
    people = occupancy.building;
    if (air && air.points.length && co2 == null) co2 = air.points.at(-1).mean;
    render();
  }

  stream({
    reading: e => {
      if (!e.values) return;
      if (e.kind === 'energy' && e.values.power_w != null) {
        if (e.sensor === meters.grid) power.grid = e.values.power_w;
        else if (e.sensor === meters.solar) power.solar = e.values.power_w;
        else return;
        render();
      } else if (e.sensor === CO2_SENSOR && e.values.co2_ppm != null) {
        co2 = e.values.co2_ppm;
        render();
      }
    },
    occupancy: e => { people = e.building; render(); },
  });

  // Rotation.
  const panels = [...document.querySelectorAll('.panel')];
  const dots = document.getElementById('dots');
  panels.forEach(() => dots.appendChild(document.createElement('i')));
  let current = 0;
  function show(i) {
    current = (i + panels.length) % panels.length;
    panels.forEach((p, n) => p.classList.toggle('active', n === current));
    [...dots.children].forEach((d, n) => d.classList.toggle('on', n === current));
  }
  const start = new URLSearchParams(location.search).get('panel');
  show(Math.max(0, panels.findIndex(p => p.dataset.panel === start)));
  setInterval(() => show(current + 1), ROTATE_MS);

  window.NTP.onLanguage(render);
  load().then(window.NTP.ready, error => console.error(error));
  // Refresh today's solar total every five minutes.
  setInterval(() => load().catch(console.warn), 300000);
})();

// A tap anywhere (apart from the language button) makes the kiosk full screen, for a tablet or a
// screen without --kiosk mode.
document.addEventListener('click', event => {
  if (event.target.closest('button') || document.fullscreenElement || !document.documentElement.requestFullscreen) return;
  document.documentElement.requestFullscreen().catch(() => { /* not allowed here: stay in the window */ });
});
