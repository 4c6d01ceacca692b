// Drift: an endpoint's live inputs against its model's training data,
// feature by feature (PSI, KS, missing rate), as `wharf drift` reports it.

import { api, enc, query } from '../api.js';
import { badge, busy, facts, h, number, table, when } from '../dom.js';
import { endpointPicker } from './endpoint_picker.js';

const VERDICT_TONE = { ok: 'ok', drifted: 'bad', too_few_rows: 'warn' };

function report(r) {
  const pair = (o, digits = 3) => `${number(o.training, digits)} → ${number(o.live, digits)}`;
  return h('div', { id: 'drift-report' },
    h('section', { class: 'card' }, facts([
      ['Compared with', `${r.training.modelfile} (variant ${r.training.variant}, version ${r.training.version}, ${r.training.rows} training rows)`],
      r.revision && ['Endpoint revision', r.revision],
      ['Captures read', `${r.captures} (${r.rows} rows)${r.unparsed ? `, ${r.unparsed} unparsed: ${r.first_unparsed}` : ''}`],
      r.first_capture && ['From', `${when(r.first_capture)} to ${when(r.last_capture)}`],
      ['Drifted features', h('span', { id: 'drifted' }, `${r.drifted} of ${r.features.length}`)],
      ['Thresholds', `PSI > ${r.thresholds.psi}, KS D > ${r.thresholds.ks_d} with p < ${r.thresholds.ks_p_value}, `
        + `missing rate +${r.thresholds.missing_rate}, at least ${r.thresholds.min_rows} rows`],
    ])),
    table([
      { title: 'Feature', cell: (f) => f.feature },
      { title: 'Verdict', cell: (f) => badge(f.verdict.replaceAll('_', ' '), VERDICT_TONE[f.verdict]) },
      { title: 'Why', cell: (f) => f.reasons.join(', ') },
      { title: 'Live rows', cell: (f) => f.live_rows, num: true },
      { title: 'Missing train → live', cell: (f) => pair(f.missing_rate), num: true },
      { title: 'PSI', cell: (f) => number(f.psi), num: true },
      { title: 'KS D (p)', cell: (f) => (f.ks ? `${number(f.ks.d)} (${number(f.ks.p_value, 4)})` : '–'), num: true },
      { title: 'Mean train → live', cell: (f) => pair(f.mean), num: true },
    ], r.features, { id: 'drift-features' }));
}

export async function render(view, ctx) {
  const endpoint = await endpointPicker(ctx);
  const since = h('input', { id: 'since', value: ctx.query.get('since') ?? '24h' });
  const until = h('input', { id: 'until', placeholder: 'now', value: '' });
  const revision = h('input', { id: 'revision', type: 'number', min: 1, placeholder: 'latest' });
  const go = h('button', { class: 'primary', type: 'submit', id: 'measure' }, 'Measure drift');
  const out = h('div');
  const run = async () => {
    if (!endpoint.value) return;
    const r = await api(`/endpoints/${enc(endpoint.value)}/drift${query({
      since: since.value.trim(), until: until.value.trim(), revision: revision.value })}`);
    out.replaceChildren(report(r));
  };
  const form = h('form', { class: 'card row', id: 'drift-form' }, h('label', {}, 'Endpoint', endpoint),
    h('label', {}, 'Since', since), h('label', {}, 'Until', until), h('label', {}, 'Revision', revision), go);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(go, run);
  });
  view.append(h('h1', {}, 'Drift'), form, out);
  if (!endpoint.value) {
    out.append(h('p', { class: 'muted' }, 'No endpoint is applied.'));
    return;
  }
  await run();
}
