// Live occupancy: the current state from /api/v1/occupancy, then changes from /api/v1/stream.
(() => {
  'use strict';
  const rows = new Map();
  const tbody = document.querySelector('#rooms tbody');
  const building = document.getElementById('building');
  const connection = document.getElementById('connection');
  let language = localStorage.getItem('ntp-language') || 'nl';
  let names = new Map();

  function applyLanguage() {
    document.documentElement.lang = language;
    for (const el of document.querySelectorAll('[data-nl]')) {
      el.textContent = el.dataset[language];
    }
    document.getElementById('language').textContent = language === 'nl' ? 'English' : 'Nederlands';
    for (const [id, row] of rows) {
      row.name.textContent = names.get(id)?.[language] ?? id;
    }
  }

  function formatTime(ts) {
    if (!ts) return '–';
    return new Date(ts).toLocaleTimeString(language === 'nl' ? 'nl-NL' : 'en-GB');
  }

  function render(room) {
    let row = rows.get(room.room);
    if (!row) {
      const tr = document.createElement('tr');
      tr.dataset.room = room.room;
      tr.innerHTML = '<td class="name"></td><td class="number count"></td><td class="number capacity"></td>' +
        '<td><div class="bar"><span></span></div></td><td class="changed-at"></td>';
      tbody.appendChild(tr);
      row = {
        tr,
        name: tr.querySelector('.name'),
        count: tr.querySelector('.count'),
        capacity: tr.querySelector('.capacity'),
        bar: tr.querySelector('.bar > span'),
        changedAt: tr.querySelector('.changed-at'),
      };
      rows.set(room.room, row);
    }
    const share = room.capacity > 0 ? room.count / room.capacity : 0;
    row.name.textContent = names.get(room.room)?.[language] ?? room.room;
    if (row.count.textContent !== String(room.count)) {
      row.tr.classList.remove('changed');
      void row.tr.offsetWidth;
      row.tr.classList.add('changed');
    }
    row.count.textContent = room.count;
    row.capacity.textContent = room.capacity;
    row.bar.style.width = Math.min(100, Math.round(share * 100)) + '%';
    row.tr.classList.toggle('warn', share >= 0.9 && share < 1);
    row.tr.classList.toggle('full', share >= 1);
    row.changedAt.textContent = formatTime(room.last_change ?? room.ts);
  }

  async function load() {
    const response = await fetch(window.NTPSite.api('/api/v1/occupancy'));
    if (!response.ok) throw new Error('occupancy: HTTP ' + response.status);
    const snapshot = await response.json();
    names = new Map(snapshot.rooms.map(r => [r.room, { nl: r.name_nl, en: r.name_en }]));
    building.textContent = snapshot.building;
    snapshot.rooms.forEach(render);
  }

  // Signals for tests, on <body> as in common.js: data-ready after the first draw, data-updates per live event.
  let updates = 0;

  function listen() {
    const stream = new EventSource(window.NTPSite.api('/api/v1/stream'));
    stream.addEventListener('open', () => {
      connection.classList.replace('offline', 'online');
      connection.dataset.nl = 'live';
      connection.dataset.en = 'live';
      connection.textContent = 'live';
      load().catch(console.warn);
    });
    stream.addEventListener('error', () => {
      connection.classList.replace('online', 'offline');
      connection.dataset.nl = 'verbinding weg, opnieuw…';
      connection.dataset.en = 'reconnecting…';
      connection.textContent = connection.dataset[language];
      // Refused (429/503: too many streams) the browser gives up for good: open a new one later.
      if (stream.readyState === EventSource.CLOSED) setTimeout(listen, 10000 + Math.random() * 5000);
    });
    stream.addEventListener('occupancy', e => {
      const change = JSON.parse(e.data);
      building.textContent = change.building;
      render({ room: change.room, count: change.count, capacity: change.capacity, last_change: change.ts });
      document.body.dataset.updates = String(++updates);
    });
  }

  document.getElementById('language').addEventListener('click', () => {
    language = language === 'nl' ? 'en' : 'nl';
    localStorage.setItem('ntp-language', language);
    applyLanguage();
  });

  applyLanguage();
  load().then(() => { document.body.dataset.ready = '1'; }, console.warn).finally(listen);
})();
