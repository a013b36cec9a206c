// Admin calls: the token staff type is kept for this browser tab only (sessionStorage).
(() => {
  'use strict';
  const KEY = 'ntp-admin-token';
  window.NTPAdmin = {
    // Fills a form's "token" field from the session and remembers what is typed.
    bind(form) {
      const field = form.elements.token;
      field.value = sessionStorage.getItem(KEY) || '';
      field.addEventListener('change', () => sessionStorage.setItem(KEY, field.value.trim()));
    },
    // POSTs JSON with the bearer token; resolves to the created object, throws with a readable message.
    async post(url, body, token) {
      sessionStorage.setItem(KEY, token || '');
      const response = await fetch(url, {
        method: 'POST',
        headers: Object.assign({ 'content-type': 'application/json' }, token ? { authorization: 'Bearer ' + token } : {}),
        body: JSON.stringify(body),
      });
      if (response.ok) return response.json();
      let problem = {};
      try { problem = await response.json(); } catch { /* no body */ }
      const t = window.NTP.t;
      let text;
      if (response.status === 401) {
        text = t('Geweigerd (401): ', 'Refused (401): ') + (token
          ? t('dit beheerderstoken is niet juist.', 'this admin token is wrong.')
          : t('vul het beheerderstoken in.', 'enter the admin token.')) + (problem.title ? ' (' + problem.title + ')' : '');
      } else if (response.status === 403) {
        text = t('Geweigerd (403): beheeracties staan uit, want de collector heeft geen beheerderstoken ingesteld.',
          'Refused (403): admin actions are turned off, because the collector has no admin token configured.');
      } else if (response.status === 429) {
        const wait = response.headers.get('retry-after');
        text = t('Te veel pogingen (429): probeer het over ', 'Too many attempts (429): try again in ') + (wait || '60') + t(' seconden opnieuw.', ' seconds.');
      } else {
        text = t('Mislukt', 'Failed') + ' (' + response.status + '): ' + (problem.title || '') + (problem.detail ? ' – ' + problem.detail : '');
      }
      const error = new Error(text);
      error.status = response.status;
      throw error;
    },
    show(element, kind, text) {
      element.className = 'message ' + kind;
      element.textContent = text;
    },
  };
})();
