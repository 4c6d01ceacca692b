// Captures: an endpoint's captured requests filtered by variant and time,
// one request's inputs and outputs, and the same selection exported.

import { api, enc, query } from '../api.js';
import { badge, busy, download, facts, h, json, number, table, when } from '../dom.js';
import { endpointPicker } from './endpoint_picker.js';

export async function render(view, ctx) {
  const endpoint = await endpointPicker(ctx);
  const variant = h('input', { id: 'variant', placeholder: 'any', value: ctx.query.get('variant') ?? '' });
  const since = h('input', { id: 'since', placeholder: '1h, 2026-12-01T00:00:00Z', value: ctx.query.get('since') ?? '1h' });
  const until = h('input', { id: 'until', placeholder: 'now', value: ctx.query.get('until') ?? '' });
  const limit = h('input', { id: 'limit', type: 'number', min: 1, max: 10000, value: 100 });
  const shadow = h('input', { id: 'shadow', type: 'checkbox', checked: true });
  const search = h('button', { class: 'primary', id: 'search', type: 'submit' }, 'Search');
  const csv = h('button', { id: 'export-csv', type: 'button' }, 'Export CSV');
  const jsonl = h('button', { id: 'export-jsonl', type: 'button' }, 'Export JSON lines');
  const results = h('div'), detail = h('div', { id: 'capture-detail' });

  const params = (extra = {}) => query({
    variant: variant.value.trim(), since: since.value.trim(), until: until.value.trim(),
    shadow: shadow.checked ? undefined : 'false', ...extra,
  });
  const base = () => `/endpoints/${enc(endpoint.value)}/captures`;
  const show = (c) => {
    detail.replaceChildren(h('section', { class: 'card' }, h('h2', {}, `Request ${c.id}`), facts([
      ['Time', when(c.time)], ['Variant', `${c.variant} (version ${c.model_version})`],
      ['Shadow', c.shadow ? 'yes: its answer was not returned' : 'no'], ['Status', c.status],
      ['Latency', `${number(c.latency_ms, 2)} ms`],
    ]), h('div', { class: 'side-by-side' }, h('div', {}, h('h3', {}, 'Inputs'), json(c.inputs)),
      h('div', {}, h('h3', {}, 'Outputs'), json(c.outputs)))));
  };
  const run = async () => {
    if (!endpoint.value) return;
    const { captures } = await api(`${base()}${params({ limit: limit.value })}`);
    results.replaceChildren(h('p', { class: 'muted' }, `${captures.length} capture(s), newest first`), table([
      { title: 'Time', cell: (c) => when(c.time) },
      { title: 'Request id', cell: (c) => c.id },
      { title: 'Variant', cell: (c) => c.variant },
      { title: 'Version', cell: (c) => c.model_version },
      { title: 'Shadow', cell: (c) => (c.shadow ? 'shadow' : '') },
      { title: 'Status', cell: (c) => badge(String(c.status), c.status === 200 ? 'ok' : 'bad') },
      { title: 'Latency ms', cell: (c) => number(c.latency_ms, 2), num: true },
    ], captures, { empty: 'No capture matches.', id: 'captures', onclick: show }));
    detail.replaceChildren();
  };
  const exportAs = (format, type) => busy(format === 'csv' ? csv : jsonl, async () => {
    const text = await api(`${base()}${params({ format, limit: limit.value })}`, { as: 'text' });
    download(`${endpoint.value}-captures.${format}`, text, type);
  });
  csv.addEventListener('click', () => exportAs('csv', 'text/csv'));
  jsonl.addEventListener('click', () => exportAs('jsonl', 'application/x-ndjson'));
  const form = h('form', { class: 'card row', id: 'capture-filter' },
    h('label', {}, 'Endpoint', endpoint), h('label', {}, 'Variant', variant), h('label', {}, 'Since', since),
    h('label', {}, 'Until', until), h('label', {}, 'At most', limit), h('label', {}, 'Shadow calls', shadow),
    search, csv, jsonl);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(search, run);
  });
  view.append(h('h1', {}, 'Captures'), form, results, detail);
  if (!endpoint.value) {
    results.append(h('p', { class: 'muted' }, 'No endpoint is applied, so nothing is captured yet.'));
    return;
  }
  await run();
}
