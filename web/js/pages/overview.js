// Overview: what runs now (tasks, endpoints, services) and what failed lately.

import { api } from '../api.js';
import { badge, duration, h, table, when } from '../dom.js';
import { taskLink } from './tasks.js';

export async function render(view, ctx) {
  const running = h('div'), failed = h('div'), served = h('div'), services = h('div');
  view.append(
    h('h1', {}, 'Overview'),
    h('div', { class: 'grid' },
      h('section', { class: 'card', id: 'running' }, h('h2', {}, 'Running tasks'), running),
      h('section', { class: 'card', id: 'endpoints' }, h('h2', {}, 'Endpoints'), served)),
    h('div', { class: 'grid' },
      h('section', { class: 'card', id: 'failures' }, h('h2', {}, 'Recent failures'), failed),
      h('section', { class: 'card', id: 'services' }, h('h2', {}, 'Services'), services)));
  await ctx.every(3000, async () => {
    const [run, fail, eps, svc] = await Promise.all([
      api('/tasks?state=PENDING,RUNNING&limit=50'), api('/tasks?state=FAILED&limit=10'),
      api('/endpoints'), api('/services')]);
    running.replaceChildren(table([
      { title: 'Task', cell: taskLink },
      { title: 'Definition', cell: (t) => h('a', { href: `#/taskdefs/${encodeURIComponent(t.taskdef)}` }, `${t.taskdef}:${t.revision}`) },
      { title: 'State', cell: (t) => badge(t.state) },
      { title: 'Running for', cell: (t) => duration(t.started_at) },
    ], run.tasks, { empty: 'No task is running.' }));
    failed.replaceChildren(table([
      { title: 'Task', cell: taskLink },
      { title: 'Definition', cell: (t) => t.taskdef },
      { title: 'Exit', cell: (t) => t.exit_code ?? '', num: true },
      { title: 'Reason', cell: (t) => t.reason },
      { title: 'Finished', cell: (t) => when(t.finished_at) },
    ], fail.tasks, { empty: 'No failures.' }));
    served.replaceChildren(table([
      { title: 'Endpoint', cell: (e) => h('a', { href: `#/endpoints/${encodeURIComponent(e.name)}` }, e.name) },
      { title: 'URL', cell: (e) => e.url },
      { title: 'Revision', cell: (e) => e.revision?.revision, num: true },
      { title: 'Replicas ready', cell: (e) => `${e.ready_replicas} / ${e.desired_replicas}`, num: true },
      { title: 'Canary', cell: (e) => (e.canary ? `${e.canary.variant} at ${e.canary.percent}%` : '') },
    ], eps.endpoints, { empty: 'No endpoint is applied.' }));
    services.replaceChildren(table([
      { title: 'Service', cell: (s) => s.name },
      { title: 'Definition', cell: (s) => s.definition },
      { title: 'Running / desired', cell: (s) => `${s.running} / ${s.desired}`, num: true },
      { title: 'Healthy', cell: (s) => s.healthy, num: true },
      { title: 'Restarts', cell: (s) => s.restarts.crashed + s.restarts.unhealthy, num: true },
    ], svc.services ?? [], { empty: 'No service.' }));
  });
}
