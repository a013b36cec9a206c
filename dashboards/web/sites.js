// Shared by every page, loaded first: which site the page shows. The choice lives in the address
// (?site=<id>), so a reload, a bookmark or a shared link keeps it; every API call, download link
// and the live stream carry it, and links to the other pages pass it on. The picker (Locatie / Site)
// appears only when the collector owns more than one site (GET /api/v1/sites).
(() => {
  'use strict';
  const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
  // Not site-scoped: left as they are.
  const SHARED = ['/metrics', '/healthz', '/openapi/'];
  const asked = new URLSearchParams(location.search).get('site');
  // The collector refuses a malformed id by name; the page never builds one into its URLs.
  const id = asked && SLUG.test(asked) ? asked : null;

  // A same-origin URL with this page's site added (an absolute or relative URL; other origins untouched).
  function withSite(url) {
    if (!id || url == null) return url;
    const u = new URL(String(url), location.href);
    if (u.origin !== location.origin || SHARED.some(p => u.pathname.startsWith(p))) return url;
    u.searchParams.set('site', id);
    return u.pathname + u.search + u.hash;
  }

  function linkPages() {
    for (const a of document.querySelectorAll('a[href]')) {
      const href = a.getAttribute('href');
      if (href && !href.startsWith('#') && !href.startsWith('data:')) a.setAttribute('href', withSite(href));
    }
  }

  const english = () => (document.documentElement.lang || localStorage.getItem('ntp-language')) === 'en';

  function bilingual(element, nl, en) {
    element.dataset.nl = nl;
    element.dataset.en = en;
    element.textContent = english() ? en : nl;
  }

  function showPicker(sites, current) {
    document.title = `${document.title} · ${current.name}`;
    // Beside the heading, not in it: the language switch rewrites a heading's text.
    const heading = document.querySelector('header h1');
    if (heading) {
      const name = document.createElement('span');
      name.className = 'site-name';
      name.id = 'site-name';
      name.textContent = current.name;
      heading.after(name);
    }

    const label = document.createElement('label');
    label.className = 'site-picker';
    const caption = document.createElement('span');
    bilingual(caption, 'Locatie', 'Site');
    const select = document.createElement('select');
    select.id = 'site';
    select.name = 'site';
    for (const s of sites) select.add(new Option(s.name, s.site, false, s.site === current.site));
    select.addEventListener('change', () => {
      const u = new URL(location.href);
      u.searchParams.set('site', select.value);
      location.assign(u.pathname + u.search + u.hash);
    });
    label.append(caption, ' ', select);
    const language = document.getElementById('language') || document.getElementById('lang');
    if (language && language.parentElement) language.parentElement.insertBefore(label, language);
    else (document.querySelector('header') || document.body).prepend(label);
  }

  async function start() {
    linkPages();
    let sites;
    try {
      const response = await fetch('/api/v1/sites');
      if (!response.ok) return;
      sites = await response.json();
    } catch {
      return;
    }

    if (!Array.isArray(sites) || sites.length === 0) return;
    const current = sites.find(s => s.site === id) || sites.find(s => s.default) || sites[0];
    document.body.dataset.site = current.site;
    if (sites.length > 1) showPicker(sites, current);
  }

  window.NTPSite = { id, withSite, api: withSite };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
