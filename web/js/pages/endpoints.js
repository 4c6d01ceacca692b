// Endpoints: the list, and one endpoint with its replicas, variants and
// weights (an editor that applies a new revision), rollback, live traffic
// charts per variant (req/s, p50/p99 latency, errors/s), canary decisions
// and events.

import { api, enc, query } from '../api.js';
import { LiveChart, traffic } from '../charts.js';
import { badge, busy, confirm, facts, flash, h, number, report, table, when } from '../dom.js';

export async function renderList(view, ctx) {
  const list = h('div');
  view.append(h('h1', {}, 'Endpoints'), list);
  await ctx.every(3000, async () => {
    const { endpoints } = await api('/endpoints');
    list.replaceChildren(table([
      { title: 'Endpoint', cell: (e) => h('a', { href: `#/endpoints/${enc(e.name)}` }, e.name) },
      { title: 'URL', cell: (e) => e.url },
      { title: 'Revision', cell: (e) => e.revision.revision, num: true },
      { title: 'Ready / desired', cell: (e) => `${e.ready_replicas} / ${e.desired_replicas}`, num: true },
      { title: 'Canary', cell: (e) => (e.canary ? `${e.canary.variant} at ${e.canary.percent}%` : '') },
      { title: 'Since', cell: (e) => when(e.revision.created) },
    ], endpoints, { empty: 'No endpoint is applied (wharf endpoint apply FILE).', id: 'endpoints' }));
  });
}

const variantKey = (v) => `${v.name}@${v.version}`;

// The weights of the latest revision's variants, editable; Apply posts the
// spec with the new weights as a new revision.
function weightEditor(name, latest, onApplied) {
  const spec = latest.spec;
  const inputs = spec.variants.map((v) => h('input', {
    type: 'number', min: 0.001, step: 'any', value: v.weight ?? 1, dataset: { variant: v.name }, id: `weight-${v.name}`,
  }));
  const shares = spec.variants.map(() => h('span', { class: 'muted' }));
  const bars = spec.variants.map(() => h('span', { class: 'share' }));
  const update = () => {
    const total = inputs.reduce((a, i) => a + (Number(i.value) > 0 ? Number(i.value) : 0), 0);
    inputs.forEach((input, i) => {
      const share = total ? (Number(input.value) > 0 ? Number(input.value) : 0) / total : 0;
      shares[i].textContent = `${(share * 100).toFixed(1)}%`;
      bars[i].style.width = `${Math.round(share * 160)}px`;
    });
  };
  inputs.forEach((i) => i.addEventListener('input', update));
  update();
  const apply = h('button', { class: 'primary', id: 'apply-weights' }, 'Apply weights');
  apply.addEventListener('click', () => busy(apply, async () => {
    const next = structuredClone(spec);
    next.name = name;
    next.variants.forEach((v, i) => { v.weight = Number(inputs[i].value); });
    const applied = await api('/endpoints', { method: 'POST', body: next });
    flash(applied.revision === latest.revision ? 'Unchanged: the weights are the same'
      : `Applied revision ${applied.revision}`);
    onApplied();
  }));
  return h('div', { class: 'weights' },
    table([
      { title: 'Variant', cell: (v) => v.name },
      { title: 'Model', cell: (v) => h('a', { href: `#/models/${enc(v.model.split('@')[0])}` }, v.model) },
      { title: 'Weight', cell: (v) => inputs[spec.variants.indexOf(v)] },
      { title: 'Share', cell: (v) => [bars[spec.variants.indexOf(v)], ' ', shares[spec.variants.indexOf(v)]] },
      { title: 'Canary', cell: (v) => (v.canary ? `steps ${v.canary.steps?.join(' → ') ?? 'default'}` : '') },
    ], spec.variants, { id: 'variants' }),
    spec.shadow ? h('p', { class: 'muted' }, `Shadow: ${spec.shadow.name} (${spec.shadow.model}) gets a copy of every request.`) : '',
    h('p', {}, apply));
}

function revisionsTable(revisions) {
  const variants = (r) => (r.spec.variants ?? []).map((v) => `${v.name} ${v.model} ×${v.weight ?? 1}`).join(', ');
  return table([
    { title: 'Revision', cell: (r) => r.revision, num: true },
    { title: 'Variants', cell: variants },
    { title: 'Reason', cell: (r) => r.reason },
    { title: 'Created', cell: (r) => when(r.created) },
  ], [...revisions].reverse(), { id: 'revisions' });
}

// Charts of the endpoint's traffic, fed by polling its metrics.
class TrafficCharts {
  constructor() {
    this.el = h('div', { class: 'charts', id: 'charts' });
    const panel = (id) => h('div', { class: 'chart card', id });
    this.panels = { rps: panel('chart-rps'), latency: panel('chart-latency'), errors: panel('chart-errors') };
    this.el.append(this.panels.rps, this.panels.latency, this.panels.errors);
    this.rps = new LiveChart(this.panels.rps, { title: 'Requests per second', unit: 'req/s' });
    this.latency = new LiveChart(this.panels.latency, { title: 'Latency p50 / p99 (ms)', unit: 'ms' });
    this.errors = new LiveChart(this.panels.errors, { title: 'Errors per second', unit: 'err/s' });
    this.previous = new Map();
    this.points = 0;
  }

  add(metrics, at) {
    const rps = {}, latency = {}, errors = {};
    for (const v of metrics.variants) {
      const key = variantKey(v);
      const before = this.previous.get(key);
      const w = before ? traffic(before, v, (at - before.at) / 1000, metrics.latency_bounds_s ?? []) : null;
      this.previous.set(key, { ...v, at });
      if (!before) continue;
      rps[key] = w?.rps ?? null;
      errors[key] = w?.eps ?? null;
      latency[`${key} p50`] = w?.p50 ?? null;
      latency[`${key} p99`] = w?.p99 ?? null;
    }
    if (!Object.keys(rps).length) return;
    this.rps.push(at / 1000, rps);
    this.latency.push(at / 1000, latency);
    this.errors.push(at / 1000, errors);
    this.el.dataset.points = ++this.points;
  }
}

export async function renderOne(view, ctx, name) {
  const summary = h('div'), replicas = h('div'), weights = h('div'), revisionsEl = h('div');
  const canary = h('div', { id: 'canary' }), decisions = h('div'), events = h('div'), numbers = h('div');
  const charts = new TrafficCharts();
  const rollback = h('button', { class: 'danger', id: 'rollback' }, 'Roll back');
  let revisions = [];

  const loadRevisions = async () => {
    revisions = (await api(`/endpoints/${enc(name)}/revisions`)).revisions;
    const latest = revisions[revisions.length - 1];
    weights.replaceChildren(weightEditor(name, latest, () => loadRevisions().catch(report)));
    revisionsEl.replaceChildren(revisionsTable(revisions));
    rollback.disabled = revisions.length < 2;
  };
  rollback.addEventListener('click', async () => {
    if (!(await confirm(`Roll endpoint ${name} back to the revision before the latest (or before the canary rollout)? `
      + 'A new revision is made; the replicas switch without dropping a request.'))) return;
    await busy(rollback, async () => {
      const made = await api(`/endpoints/${enc(name)}/rollback`, { method: 'POST', body: {} });
      flash(`Rolled back: revision ${made.revision} (${made.reason})`);
      await loadRevisions();
    });
  });

  const showCanary = (d) => {
    canary.replaceChildren(
      d.canary ? facts([
        ['Canary variant', d.canary.variant],
        ['Step', `${d.canary.step} of ${d.canary.steps.length}: ${d.canary.percent}% of traffic`],
        ['Guard', d.canary.status ?? 'waiting for the step to reach the replicas'],
        d.canary.numbers && ['Numbers', h('code', {}, JSON.stringify(d.canary.numbers))],
      ]) : h('p', { class: 'muted' }, 'No canary rollout in progress.'),
      h('h3', {}, 'Decisions'), decisions);
  };
  // Events, newest first; the canary's decisions among them.
  const loadEvents = async () => {
    const ev = await api(`/endpoints/${enc(name)}/events${query({ limit: 200 })}`);
    decisions.replaceChildren(table([
      { title: 'Time', cell: (e) => when(e.time) },
      { title: 'Decision', cell: (e) => e.message },
      { title: 'Numbers', cell: (e) => h('code', {}, JSON.stringify(e.details)) },
    ], ev.events.filter((e) => e.kind === 'canary').slice(0, 20), { empty: 'No canary decision yet.' }));
    events.replaceChildren(table([
      { title: 'Time', cell: (e) => when(e.time) },
      { title: 'Kind', cell: (e) => badge(e.kind) },
      { title: 'What', cell: (e) => e.message },
    ], ev.events.slice(0, 50), { empty: 'No events.', id: 'events' }));
  };

  const refresh = async () => {
    const [d, m] = await Promise.all([api(`/endpoints/${enc(name)}`), api(`/endpoints/${enc(name)}/metrics`)]);
    if (!ctx.alive()) return;
    charts.add(m, Date.now());
    summary.replaceChildren(facts([
      ['URL', h('code', {}, d.url)],
      ['Revision', h('span', { id: 'current-revision' }, d.revision.revision)],
      ['Because', d.revision.reason],
      ['Replicas', h('span', { id: 'replica-count' }, `${d.ready_replicas} ready of ${d.desired_replicas} desired`)],
      ['Restarts', d.restarts],
      ['In flight', m.in_flight],
      d.active ? null : ['State', badge('deleted', 'bad')],
    ]));
    replicas.replaceChildren(table([
      { title: 'Task', cell: (r) => h('a', { href: `#/tasks/${enc(r.task_id)}` }, r.task_id) },
      { title: 'State', cell: (r) => badge(r.state) },
      { title: 'Serving revision', cell: (r) => r.revision ?? '–', num: true },
      { title: 'Ready', cell: (r) => (r.ready ? badge('ready', 'ok') : badge('not ready', 'warn')) },
      { title: 'In flight', cell: (r) => r.in_flight, num: true },
      { title: 'Error', cell: (r) => r.error },
    ], d.replicas, { empty: 'No replica yet.' }));
    numbers.replaceChildren(table([
      { title: 'Variant', cell: variantKey },
      { title: 'Requests', cell: (v) => v.requests, num: true },
      { title: 'Errors', cell: (v) => v.errors, num: true },
      { title: 'Error rate', cell: (v) => number(v.error_rate, 4), num: true },
      { title: 'p50 ms', cell: (v) => number(v.p50_ms, 2), num: true },
      { title: 'p99 ms', cell: (v) => number(v.p99_ms, 2), num: true },
    ], m.variants, { empty: 'No traffic yet.', id: 'variant-totals' }));
    showCanary(d);
    if (revisions.length && d.revision.revision !== revisions[revisions.length - 1].revision) await loadRevisions();
  };

  view.append(
    h('div', { class: 'row' }, h('h1', {}, `Endpoint ${name}`), h('span', { class: 'spacer' }),
      h('a', { class: 'button', href: `#/captures?endpoint=${enc(name)}` }, 'Captures'),
      h('a', { class: 'button', href: `#/drift?endpoint=${enc(name)}` }, 'Drift'), rollback),
    h('div', { class: 'grid' }, h('section', { class: 'card' }, summary),
      h('section', { class: 'card' }, h('h2', {}, 'Variants and weights'), weights)),
    h('h2', {}, 'Live traffic'), charts.el, numbers,
    h('section', { class: 'card' }, h('h2', {}, 'Canary'), canary),
    h('section', { class: 'card' }, h('h2', {}, 'Replicas'), replicas),
    h('section', { class: 'card' }, h('h2', {}, 'Revisions'), revisionsEl),
    h('section', { class: 'card' }, h('h2', {}, 'Events'), events));
  await loadRevisions();
  await ctx.every(1000, refresh);
  await ctx.every(3000, loadEvents);
}
