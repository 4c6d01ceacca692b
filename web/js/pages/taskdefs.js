// Task definitions: the list, one definition's revisions side by side, a
// JSON editor that registers a new revision, and running it with overrides.

import { api, enc } from '../api.js';
import { busy, flash, h, json, report, table, when } from '../dom.js';

const TEMPLATE = {
  name: 'wine-train',
  job: 'train',
  model: 'wine',
  params: { train: 'artifact:wine/TrainingDataset.csv', validation: 'artifact:wine/ValidationDataset.csv' },
  resources: { cpus: 0.5, memory: '2GiB' },
  retries: 1,
  timeout: '10m',
};

function what(spec) {
  if (!spec) return '';
  return spec.job ? `job ${spec.job}` : `command ${(spec.command ?? []).join(' ')}`;
}

export async function renderList(view) {
  const { taskdefs } = await api('/taskdefs');
  view.append(
    h('div', { class: 'row' }, h('h1', {}, 'Task definitions'), h('span', { class: 'spacer' }),
      h('a', { class: 'button', href: '#/new-taskdef', id: 'new-taskdef' }, 'New definition')),
    table([
      { title: 'Name', cell: (d) => h('a', { href: `#/taskdefs/${enc(d.name)}` }, d.name) },
      { title: 'Latest revision', cell: (d) => d.revision, num: true },
      { title: 'Runs', cell: (d) => what(d.spec) },
      { title: 'Registered', cell: (d) => when(d.created_at) },
    ], taskdefs, { empty: 'No task definition yet: register one.', id: 'taskdefs' }));
}

// A JSON editor and a Register button; `latestRevision` tells a new
// revision from an unchanged one; `onRegistered(taskdef)` follows.
function editor(initial, latestRevision, onRegistered) {
  const text = h('textarea', { rows: 18, id: 'taskdef-json', spellcheck: 'false' }, JSON.stringify(initial, null, 2));
  const button = h('button', { class: 'primary', id: 'register' }, 'Register revision');
  button.addEventListener('click', () => busy(button, async () => {
    let body;
    try { body = JSON.parse(text.value); } catch (e) { throw new Error(`Not valid JSON: ${e.message}`); }
    const registered = await api('/taskdefs', { method: 'POST', body });
    const created = registered.revision !== latestRevision;
    flash(`${registered.name}: revision ${registered.revision} ${created ? 'registered' : 'unchanged (same spec)'}`);
    onRegistered(registered);
  }));
  return h('div', {}, text, h('p', { class: 'row' }, button,
    h('span', { class: 'muted' }, 'The JSON of a definition with its "name"; see docs/control-plane.md for the fields.')));
}

export async function renderNew(view) {
  const { jobs } = await api('/jobs');
  view.append(h('h1', {}, 'New task definition'),
    h('div', { class: 'card' }, editor(TEMPLATE, undefined, (d) => { location.hash = `#/taskdefs/${enc(d.name)}`; })),
    h('h2', {}, 'Built-in jobs'),
    table([
      { title: 'Job', cell: (j) => j.name },
      { title: 'Description', cell: (j) => j.description },
      { title: 'Parameters', cell: (j) => j.params.map((p) => p.name + (p.required ? '' : '?')).join(', ') },
    ], jobs));
}

// Lines of `a` and `b` aligned by their longest common subsequence:
// [{left, right}] with a side null where a line was added or removed.
function alignLines(a, b) {
  const n = a.length, m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; --i) {
    for (let j = m - 1; j >= 0; --j) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) out.push({ left: a[i++], right: b[j++] });
    else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) out.push({ left: null, right: b[j++] });
    else out.push({ left: a[i++], right: null });
  }
  return out;
}

function sideBySide(left, right) {
  const rows = alignLines(JSON.stringify(left.spec, null, 2).split('\n'), JSON.stringify(right.spec, null, 2).split('\n'));
  const column = (side, cls) => h('pre', { class: 'diff' }, rows.map((r) => {
    const line = r[side];
    const changed = r.left !== r.right;
    return h('span', { class: changed ? cls : '' }, `${line ?? ''}\n`);
  }));
  return h('div', { class: 'side-by-side', id: 'revision-diff' },
    h('div', {}, h('h3', {}, `Revision ${left.revision}`), column('left', 'del')),
    h('div', {}, h('h3', {}, `Revision ${right.revision}`), column('right', 'add')));
}

export async function renderOne(view, ctx, name) {
  const latest = await api(`/taskdefs/${enc(name)}`);
  const numbers = [];
  for (let r = latest.revision; r >= Math.max(1, latest.revision - 49); --r) numbers.push(r);
  const revisions = await Promise.all(numbers.map((r) => api(`/taskdefs/${enc(name)}/revisions/${r}`)));

  const compare = h('div');
  const pick = (id, selected) => h('select', { id }, revisions.map((r) =>
    h('option', { value: r.revision, selected: r.revision === selected }, `revision ${r.revision}`)));
  const left = pick('compare-left', Math.max(1, latest.revision - 1));
  const right = pick('compare-right', latest.revision);
  const redraw = () => {
    const byNumber = (s) => revisions.find((r) => r.revision === Number(s.value));
    compare.replaceChildren(sideBySide(byNumber(left), byNumber(right)));
  };
  left.addEventListener('change', redraw);
  right.addEventListener('change', redraw);
  redraw();

  const count = h('input', { type: 'number', min: 1, max: 1000, value: 1, id: 'run-count' });
  const runRevision = pick('run-revision', latest.revision);
  const overrides = h('textarea', { rows: 4, id: 'run-overrides', spellcheck: 'false' }, '{}');
  const run = h('button', { class: 'primary', id: 'run' }, 'Run');
  run.addEventListener('click', () => busy(run, async () => {
    let patch;
    try { patch = JSON.parse(overrides.value || '{}'); } catch (e) { throw new Error(`Overrides: not valid JSON: ${e.message}`); }
    const body = { taskdef: name, count: Number(count.value), revision: Number(runRevision.value) };
    if (Object.keys(patch).length) body.overrides = patch;
    const started = await api('/runs', { method: 'POST', body });
    flash(`Started ${started.tasks.length} task(s)`);
    location.hash = started.tasks.length === 1 ? `#/tasks/${enc(started.tasks[0].id)}`
      : `#/tasks?group=${enc(started.group_id)}`;
  }));

  view.append(
    h('h1', {}, `Task definition ${name}`, latest.active ? '' : ' (deregistered)'),
    h('section', { class: 'card' }, h('h2', {}, 'Run'),
      h('div', { class: 'row' }, h('label', {}, 'Revision', runRevision), h('label', {}, 'Tasks', count)),
      h('label', {}, 'Overrides: a JSON merge patch on the definition, e.g. {"params": {"eta": "0.1"}}'),
      overrides, h('p', {}, run)),
    h('section', { class: 'card' }, h('h2', {}, 'Revisions'),
      table([
        { title: 'Revision', cell: (r) => r.revision, num: true },
        { title: 'Runs', cell: (r) => what(r.spec) },
        { title: 'sha256', cell: (r) => h('code', {}, r.sha256.slice(0, 12)) },
        { title: 'Registered', cell: (r) => when(r.created_at) },
      ], revisions, { id: 'revisions' }),
      h('h3', {}, 'Compare'), h('div', { class: 'row' }, left, '↔', right), compare),
    h('section', { class: 'card' }, h('h2', {}, 'Register a new revision'),
      editor({ name, ...latest.spec }, latest.revision, () => renderAgain(view, ctx, name))),
    h('h2', {}, 'Latest revision as stored'), json(latest));
}

function renderAgain(view, ctx, name) {
  if (!ctx.alive()) return;
  view.replaceChildren();
  renderOne(view, ctx, name).catch(report);
}
