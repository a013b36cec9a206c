// DC-Lab experiment sessions: start and stop (a lab, staff or admin token), the list, CSV export per
// session, and each session's curve in the XY view (dc-lab-xy.js).
(() => {
  'use strict';
  const { t, json } = window.NTP;
  const form = document.getElementById('session');
  const message = document.getElementById('session-message');
  const tbody = document.querySelector('#sessions tbody');
  let sessions = [];

  function duration(from, to) {
    const s = Math.max(0, Math.round((to - from) / 1000));
    const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
    return (h ? h + ' h ' : '') + (h || m ? m + ' min ' : '') + sec + ' s';
  }

  function render() {
    tbody.replaceChildren();
    for (const s of sessions) {
      const tr = document.createElement('tr');
      tr.dataset.id = s.id;
      tr.className = s.stopped ? '' : 'running';
      const started = Date.parse(s.started);
      const cells = [s.name, s.sensor || t('alle banken', 'all benches'),
        new Date(started).toLocaleString(window.NTP.locale(), { dateStyle: 'short', timeStyle: 'medium' }),
        s.stopped ? duration(started, Date.parse(s.stopped)) : t('loopt – ', 'running – ') + duration(started, Date.now()),
        s.notes || ''];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      }
      const actions = document.createElement('td');
      actions.className = 'actions';
      if (!s.stopped) {
        const stop = document.createElement('button');
        stop.type = 'button';
        stop.className = 'stop';
        stop.textContent = t('Stoppen', 'Stop');
        stop.addEventListener('click', () => stopSession(s.id));
        actions.appendChild(stop);
      }
      const xy = document.createElement('button');
      xy.type = 'button';
      xy.className = 'xy';
      xy.textContent = t('XY-grafiek', 'XY chart');
      xy.addEventListener('click', () => window.NTPXY.showSession(s.id));
      actions.appendChild(xy);
      const csv = document.createElement('a');
      csv.href = window.NTPSite.api(`/api/v1/experiments/${s.id}/csv`);
      csv.textContent = 'CSV';
      csv.setAttribute('download', `experiment-${s.id}.csv`);
      actions.appendChild(csv);
      tr.appendChild(actions);
      tbody.appendChild(tr);
    }
    document.getElementById('no-sessions').hidden = sessions.length > 0;
  }

  async function load() {
    sessions = await json('/api/v1/experiments');
    render();
    if (window.NTPXY) window.NTPXY.sessions(sessions);
  }

  async function stopSession(id) {
    try {
      await window.NTPAdmin.post(`/api/v1/experiments/${id}/stop`, {}, form.elements.token.value.trim());
      window.NTPAdmin.show(message, 'ok', t('Sessie gestopt.', 'Session stopped.'));
    } catch (error) {
      window.NTPAdmin.show(message, 'error', error.message);
    }
    load().catch(console.warn);
  }

  form.addEventListener('submit', async event => {
    event.preventDefault();
    const f = form.elements;
    try {
      const s = await window.NTPAdmin.post('/api/v1/experiments',
        { name: f.name.value, notes: f.notes.value, sensor: f.sensor.value || null, by: f.by.value }, f.token.value.trim());
      window.NTPAdmin.show(message, 'ok', t('Sessie gestart: ', 'Session started: ') + s.name);
      f.name.value = '';
      f.notes.value = '';
    } catch (error) {
      window.NTPAdmin.show(message, 'error', error.message);
    }
    load().catch(console.warn);
  });

  window.NTPAdmin.bind(form, 'lab');
  json('/api/v1/site').then(site => {
    for (const s of site.sensors.filter(x => x.kind === 'dc')) form.elements.sensor.add(new Option(s.id, s.id));
  }).catch(console.warn);
  window.NTP.onLanguage(render);
  // Running sessions: their duration ticks.
  setInterval(() => { if (sessions.some(s => !s.stopped)) render(); }, 1000);
  load().catch(console.error);
})();
