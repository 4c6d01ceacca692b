// The console's shell: hash routes to pages, the login gate, and the timers
// a page polls with (stopped when the user leaves the page).

import { api, session } from './api.js';
import { errorBox, h } from './dom.js';
import * as login from './pages/login.js';
import * as overview from './pages/overview.js';
import * as taskdefs from './pages/taskdefs.js';
import * as tasks from './pages/tasks.js';
import * as models from './pages/models.js';
import * as endpoints from './pages/endpoints.js';
import * as captures from './pages/captures.js';
import * as drift from './pages/drift.js';

// [pattern, nav entry, render(view, ctx, ...captures)]
const ROUTES = [
  [/^\/?$/, 'overview', overview.render],
  [/^\/login$/, null, login.render],
  [/^\/taskdefs$/, 'taskdefs', taskdefs.renderList],
  [/^\/new-taskdef$/, 'taskdefs', taskdefs.renderNew],  // not under /taskdefs/: a definition may be named "new"
  [/^\/taskdefs\/([^/]+)$/, 'taskdefs', taskdefs.renderOne],
  [/^\/tasks$/, 'tasks', tasks.renderList],
  [/^\/tasks\/([^/]+)$/, 'tasks', tasks.renderOne],
  [/^\/models$/, 'models', models.renderList],
  [/^\/models\/([^/]+)$/, 'models', models.renderOne],
  [/^\/endpoints$/, 'endpoints', endpoints.renderList],
  [/^\/endpoints\/([^/]+)$/, 'endpoints', endpoints.renderOne],
  [/^\/captures$/, 'captures', captures.render],
  [/^\/drift$/, 'drift', drift.render],
];

// What a page gets besides its view: the hash's query, polling that ends
// when the page is left, and whether it is still the page shown.
class PageContext {
  constructor(view, queryText) {
    this.view = view;
    this.query = new URLSearchParams(queryText);
    this.timers = [];
    this.left = false;
  }
  // Runs `fn` now (its failure is the page's) and then every `ms` while the
  // page is shown; a run waits for the one before it, and a later failure
  // is shown above the page until a run succeeds again.
  async every(ms, fn) {
    let running = false;
    const problem = h('div');
    const tick = async () => {
      if (running || this.left) return;
      running = true;
      try {
        await fn();
        problem.remove();
      } catch (e) {
        if (!this.left && e.status !== 401) {
          problem.replaceChildren(errorBox(e));
          this.view.prepend(problem);
        }
      } finally {
        running = false;
      }
    };
    running = true;
    try { await fn(); } finally { running = false; }
    this.timers.push(setInterval(tick, ms));
  }
  alive() { return !this.left; }
  leave() {
    this.left = true;
    this.timers.forEach(clearInterval);
  }
}

let current = null;

async function show() {
  const view = document.getElementById('view');
  const [path, queryText = ''] = location.hash.replace(/^#/, '').split('?');
  current?.leave();
  current = new PageContext(view, queryText);
  const ctx = current;
  const loggedIn = Boolean(session.token());
  document.getElementById('logout').hidden = !loggedIn;
  if (!loggedIn && path !== '/login') {
    location.hash = '#/login';
    return;
  }
  for (const [pattern, nav, render] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === nav);
    view.replaceChildren();
    try {
      await render(view, ctx, ...match.slice(1).map(decodeURIComponent));
    } catch (e) {
      if (ctx.alive() && e.status !== 401) view.prepend(errorBox(e));
    }
    return;
  }
  view.replaceChildren(h('h1', {}, 'Not found'), h('p', {}, 'No page at ', h('code', {}, path), '. ',
    h('a', { href: '#/' }, 'Overview')));
}

async function showServer() {
  try {
    const health = await fetch('/api/health').then((r) => r.json());
    document.getElementById('server').textContent = `wharf ${health.version} · ${health.executor?.kind ?? ''} executor`;
  } catch { /* the header line is decoration */ }
}

document.getElementById('logout').addEventListener('click', () => {
  session.logout();
  location.hash = '#/login';
});
window.addEventListener('hashchange', show);
showServer();
show();

// Keeps a debugging handle for the tests and the curious.
window.wharf = { api };
