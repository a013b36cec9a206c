// Calls that need a token (lab, staff or admin): the token someone types is kept for this browser
// tab only (sessionStorage). The form shows whose token it is and its role (GET /api/v1/auth/whoami),
// and hides its action when the role may not do it; the collector refuses such a call anyway (403).
(() => {
  'use strict';
  const KEY = 'ntp-admin-token';
  const RANK = { lab: 1, staff: 2, admin: 3 };
  // What each role may do, for the line under the token field.
  const MAY = {
    lab: ['experimentsessies starten en stoppen', 'start and stop experiment sessions'],
    staff: ['ook tellingen corrigeren en groepsbezoeken registreren', 'also correct counts and register group visits'],
    admin: ['alles', 'everything'],
  };
  const NEEDED = {
    lab: ['een lab-, staff- of admintoken', 'a lab, staff or admin token'],
    staff: ['een staff- of admintoken', 'a staff or admin token'],
    admin: ['een admintoken', 'an admin token'],
  };

  const t = (nl, en) => window.NTP.t(nl, en);
  const pair = p => t(p[0], p[1]);

  function authorization(token) {
    return token ? { authorization: 'Bearer ' + token } : {};
  }

  // The refusal of a call that needs a token, in words; the same for whoami and for the actions.
  function refusal(status, problem, token, retryAfter) {
    if (status === 401) {
      return t('Geweigerd (401): ', 'Refused (401): ') + (token
        ? t('dit token is niet juist.', 'this token is wrong.')
        : t('vul een token in.', 'enter a token.')) + (problem.title ? ' (' + problem.title + ')' : '');
    }
    if (status === 403 && problem.needed_role) {
      return t('Geweigerd (403): dit token', 'Refused (403): this token') + (problem.token_name ? ' (' + problem.token_name + ', ' + problem.role + ')' : '')
        + t(' mag dit niet; daarvoor is ', ' may not do this; it takes ') + pair(NEEDED[problem.needed_role] || NEEDED.admin) + t(' nodig.', '.');
    }
    if (status === 403) {
      return t('Geweigerd (403): acties met een token staan uit, want de collector heeft geen tokens ingesteld.',
        'Refused (403): actions with a token are turned off, because the collector has no tokens configured.');
    }
    if (status === 429) {
      return t('Te veel pogingen (429): probeer het over ', 'Too many attempts (429): try again in ') + (retryAfter || '60') + t(' seconden opnieuw.', ' seconds.');
    }
    return t('Mislukt', 'Failed') + ' (' + status + '): ' + (problem.title || '') + (problem.detail ? ' – ' + problem.detail : '');
  }

  async function problemOf(response) {
    try { return await response.json(); } catch { return {}; }
  }

  window.NTPAdmin = {
    // Fills a form's "token" field from the session, remembers what is typed, and shows the token's
    // role under the field; `needed` (lab, staff, admin) is the role the form's action takes.
    bind(form, needed = 'admin') {
      const field = form.elements.token;
      const submit = form.querySelector('button[type=submit]');
      const label = field.closest('label') || field;
      const line = document.createElement('p');
      line.className = 'token-role muted';
      line.setAttribute('role', 'status');
      label.after(line);
      let state = { kind: 'none' };

      const render = () => {
        let allowed = true;
        line.classList.remove('error');
        if (state.kind === 'none') {
          line.textContent = t('Hiervoor is ', 'This takes ') + pair(NEEDED[needed]) + t(' nodig.', '.');
        } else if (state.kind === 'known') {
          const w = state.whoami;
          allowed = (RANK[w.role] || 0) >= RANK[needed];
          line.textContent = t('Token van ', 'Token of ') + w.name + t(', rol ', ', role ') + w.role + ': ' + t('mag ', 'may ') + pair(MAY[w.role] || MAY.lab) + '.'
            + (allowed ? '' : ' ' + t('Deze actie vraagt ', 'This action takes ') + pair(NEEDED[needed]) + '.');
          if (!allowed) line.classList.add('error');
        } else {
          line.textContent = state.text;
          line.classList.add('error');
        }
        form.dataset.tokenRole = state.kind === 'known' ? state.whoami.role : '';
        // Hidden, not only disabled: a lab token on the facility page sees no correction button.
        if (submit) submit.hidden = !allowed;
        form.classList.toggle('not-allowed', !allowed);
      };

      const check = async () => {
        const token = field.value.trim();
        sessionStorage.setItem(KEY, token);
        if (!token) {
          state = { kind: 'none' };
        } else {
          try {
            const response = await fetch('/api/v1/auth/whoami', { headers: authorization(token) });
            if (field.value.trim() !== token) return; // typed on meanwhile: that check decides
            state = response.ok
              ? { kind: 'known', whoami: await response.json() }
              : { kind: 'refused', text: refusal(response.status, await problemOf(response), token, response.headers.get('retry-after')) };
          } catch {
            state = { kind: 'refused', text: t('De collector is niet bereikbaar.', 'The collector cannot be reached.') };
          }
        }
        render();
      };

      field.value = sessionStorage.getItem(KEY) || '';
      // On change (leaving the field, or Enter), not on every key: each wrong token counts against this address.
      field.addEventListener('change', () => { check().catch(console.warn); });
      window.NTP.onLanguage(render);
      render();
      if (field.value) check().catch(console.warn);
    },
    // POSTs JSON with the bearer token; resolves to the created object, throws with a readable message.
    async post(url, body, token) {
      sessionStorage.setItem(KEY, token || '');
      const response = await fetch(window.NTPSite ? window.NTPSite.api(url) : url, {
        method: 'POST',
        headers: Object.assign({ 'content-type': 'application/json' }, authorization(token)),
        body: JSON.stringify(body),
      });
      if (response.ok) return response.json();
      const error = new Error(refusal(response.status, await problemOf(response), token, response.headers.get('retry-after')));
      error.status = response.status;
      throw error;
    },
    show(element, kind, text) {
      element.className = 'message ' + kind;
      element.textContent = text;
    },
  };
})();
