// Shared by every page: Dutch/English switch (remembered), JSON fetches, the live stream.
(() => {
  'use strict';
  const listeners = [];
  let language = localStorage.getItem('ntp-language') === 'en' ? 'en' : 'nl';

  function applyLanguage() {
    document.documentElement.lang = language;
    for (const el of document.querySelectorAll('[data-nl]')) {
      el.textContent = el.dataset[language];
    }
    for (const el of document.querySelectorAll('[data-nl-placeholder]')) {
      el.placeholder = el.dataset[language + 'Placeholder'];
    }
    const button = document.getElementById('language');
    if (button) button.textContent = language === 'nl' ? 'English' : 'Nederlands';
    listeners.forEach(f => f(language));
  }

  async function json(url, options) {
    const response = await fetch(window.NTPSite ? window.NTPSite.api(url) : url, options);
    if (!response.ok) {
      let problem = null;
      try { problem = await response.json(); } catch { /* not a problem document */ }
      const error = new Error((problem && (problem.title + (problem.detail ? ': ' + problem.detail : ''))) || 'HTTP ' + response.status);
      error.status = response.status;
      error.problem = problem;
      throw error;
    }
    return response.status === 204 ? null : response.json();
  }

  // Server-sent events with a connection badge (#connection), reconnecting by itself. The browser
  // retries a dropped stream on its own, but gives up for good when the collector refuses it
  // (429 too many streams from this address, 503 too many in all): then open a new one after a
  // while, with some jitter so a room full of kiosks does not come back at once.
  function stream(handlers, onOpen) {
    const badge = document.getElementById('connection');
    const set = (state, nl, en) => {
      if (!badge) return;
      badge.className = 'connection ' + state;
      badge.dataset.nl = nl;
      badge.dataset.en = en;
      badge.textContent = badge.dataset[language];
    };
    const open = () => {
      const source = new EventSource(window.NTPSite ? window.NTPSite.api('/api/v1/stream') : '/api/v1/stream');
      source.addEventListener('open', () => { set('online', 'live', 'live'); if (onOpen) onOpen(); });
      source.addEventListener('error', () => {
        set('offline', 'verbinding weg, opnieuw…', 'reconnecting…');
        if (source.readyState === EventSource.CLOSED) setTimeout(open, 10000 + Math.random() * 5000);
      });
      for (const [type, handler] of Object.entries(handlers)) {
        source.addEventListener(type, e => { handler(JSON.parse(e.data)); updated(); });
      }
    };
    open();
  }

  // Signals for tests and monitors, on <body>: data-ready once the page has drawn its first data,
  // data-updates counts the live events it has handled since.
  const ready = () => { document.body.dataset.ready = '1'; };
  let updates = 0;
  const updated = () => { document.body.dataset.updates = String(++updates); };

  const number = (value, digits = 0) => value == null || Number.isNaN(value) ? '–'
    : value.toLocaleString(language === 'nl' ? 'nl-NL' : 'en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits });

  window.NTP = {
    get language() { return language; },
    t: (nl, en) => language === 'nl' ? nl : en,
    locale: () => language === 'nl' ? 'nl-NL' : 'en-GB',
    onLanguage: f => listeners.push(f),
    applyLanguage,
    json,
    stream,
    ready,
    number,
    roomName: room => room && room.name ? (room.name[language] || room.name.nl || room.id) : '',
  };

  document.addEventListener('DOMContentLoaded', () => {
    const button = document.getElementById('language');
    if (button) {
      button.addEventListener('click', () => {
        language = language === 'nl' ? 'en' : 'nl';
        localStorage.setItem('ntp-language', language);
        applyLanguage();
      });
    }
    applyLanguage();
  });
})();
